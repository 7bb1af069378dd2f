package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/medtap/medtap/detect"
	"github.com/medtap/medtap/detect/inventory"
	"github.com/medtap/medtap/parsers"
	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/sensor/config"
	"github.com/medtap/medtap/sensor/decode"
	"github.com/medtap/medtap/sensor/flow"
	"github.com/medtap/medtap/sensor/memlimit"
	"github.com/medtap/medtap/sensor/metrics"
	"github.com/medtap/medtap/sensor/output"
	"github.com/medtap/medtap/sensor/pipeline"
	"github.com/medtap/medtap/sensor/thp"
)

// sessionFlags are the flags every command that runs the pipeline shares
// (analyze, run, check): what to decode, how to detect, where results go.
// Each command registers them on its own flag set and adds its own.
type sessionFlags struct {
	out       string
	workers   int
	sensor    string
	maxFlows  int
	noRecover bool
	policy    string
	geoip     string
	keyFile   string
	evidence  string
	framing   fileList
	disable   string // --disable-parsers: comma-separated parser names
	listen    string
	ops       opsFlags  // NATS publishing and the HTTP API's security (natsapi.go)
	sinks     sinkFlags // --config, syslog, rotated events file, profiling (sinks.go)
	db        string    // inventory database (assets.go)
	fresh     bool
	hugePages string // --huge-pages: auto or off
	memLimit  string // --memory-limit: a size or off
	memBudget int64  // memLimit parsed (0: off)
}

// register adds the shared flags to fs. outHelp describes -o for the
// command at hand.
func (sf *sessionFlags) register(fs *flag.FlagSet, outHelp string) {
	fs.StringVar(&sf.out, "o", "", outHelp)
	fs.IntVar(&sf.workers, "workers", runtime.NumCPU(), "worker goroutines; flows are sharded across them")
	fs.StringVar(&sf.sensor, "sensor", "", "sensor `NAME` written in every event (default: none)")
	fs.IntVar(&sf.maxFlows, "max-flows", flow.DefaultMaxFlows, "flows held at once across workers; the least recently seen is evicted past it")
	fs.BoolVar(&sf.noRecover, "no-recover", false, "let a parser panic crash medtap (for debugging) instead of dropping that flow's parser")
	fs.StringVar(&sf.policy, "policy", "", "detection policy `FILE` (YAML; default: the built-in policy, see 'medtap policy default')")
	fs.StringVar(&sf.geoip, "geoip", "", "MaxMind-format country database `FILE` (default: the embedded CC0 database)")
	fs.StringVar(&sf.keyFile, "key-file", "", "pseudonym key `FILE`, created with mode 0600 on first use (default: medtap/pseudonym.key in the user config directory)")
	fs.Var(&sf.framing, "framing", "protocol definition `FILE` (YAML) for a proprietary device framing; repeatable (parsers/framing/README.md)")
	fs.StringVar(&sf.disable, "disable-parsers", "", "comma-separated parser `NAMES` not to run (see 'medtap parsers'); their flows stay flow records with app_proto unknown")
	fs.StringVar(&sf.evidence, "evidence", "default", "alert evidence: default (field names, categories, pseudonyms) or masked (adds masked excerpts; lab use)")
	fs.StringVar(&sf.hugePages, "huge-pages", "auto", "auto: back the heap with transparent huge pages when the kernel gives them only on request (far fewer page faults); off: the kernel's default pages")
	fs.StringVar(&sf.memLimit, "memory-limit", fmt.Sprintf("%dMiB", memlimit.DefaultBudget>>20), "soft memory `SIZE` the collector keeps medtap under while its live data fits in two thirds of it, raised with the data past that (off: Go's default; GOMEMLIMIT in the environment wins)")
	sf.registerInventory(fs)
	sf.ops.register(fs)
	sf.sinks.register(fs)
}

// validate checks the shared flags' values. Errors are usage errors.
func (sf *sessionFlags) validate() error {
	if err := sf.sinks.check(); err != nil { // first: --config sets the flags left alone
		return err
	}
	if sf.workers < 1 || sf.workers > 1024 {
		return fmt.Errorf("--workers %d out of range; use 1..1024", sf.workers)
	}
	if sf.maxFlows < sf.workers {
		return fmt.Errorf("--max-flows %d is below the worker count; use at least %d", sf.maxFlows, sf.workers)
	}
	switch sf.evidence {
	case "default":
		sf.evidence = detect.EvidenceDefault
	case detect.EvidenceDefault, detect.EvidenceMasked:
	default:
		return fmt.Errorf("--evidence %q: use default or masked", sf.evidence)
	}
	if sf.hugePages != "auto" && sf.hugePages != "off" {
		return fmt.Errorf("--huge-pages %q: use auto or off", sf.hugePages)
	}
	n, err := config.ParseMemoryLimit(sf.memLimit)
	if err != nil {
		return fmt.Errorf("--memory-limit: %v", err)
	}
	sf.memBudget = n
	return nil
}

// session is one run of the pipeline with everything around it: parsers,
// detection, outputs and metrics. analyze, run and check build one the
// same way, so an output or integration added here reaches all of them.
//
// Order of use: newSession (loads every input that can be wrong, before
// any output exists), openOutputs, then pipelineConfig/sink for the run,
// then finish (or abort), and close in every case.
type session struct {
	cmd       string // command name for messages: "medtap analyze"
	flags     sessionFlags
	factories []parser.Factory
	det       *detection
	reg       *prometheus.Registry // nil unless metrics are served
	inv       *invSession          // the asset inventory (assets.go)

	events     *output.JSONL
	eventsDest string // "stdout" or the events file

	// Sinks other parts add (inventory, syslog, NATS): eventSinks see
	// every event after the events file, alertSinks every alert.
	eventSinks []pipeline.Sink
	alertSinks []detect.Sink
	// commits run at a successful finish, after the events and alerts
	// files are in place; aborts run when the run fails; closers always,
	// last first.
	commits []func() error
	aborts  []func()
	closers []func()

	// inventoryStores are stores the inventory saves to besides its
	// database (inventory.Options.Store, teed): the API's in-memory view
	// and the NATS publisher's asset states.
	inventoryStores []inventory.Persister
	ops             opsState // natsapi.go
}

// newSession loads the framing definitions, the policy, the country
// database and the pseudonym key, so a bad file is reported before any
// output exists.
func newSession(cmd string, sf sessionFlags) (*session, error) {
	s := &session{cmd: cmd, flags: sf}
	// Before any collection: see PrefaultTables. A failure (a kernel
	// before 5.14) costs start-up time, not correctness.
	_ = decode.PrefaultTables()
	if sf.hugePages != "off" {
		// First, while the heap is small and fresh. Without huge pages
		// the run is slower, not wrong: a failure is not reported.
		_, _ = thp.Enable(thp.DefaultReserve)
	}
	factories, err := parsers.With(sf.framing...)
	if err != nil {
		return nil, err
	}
	var off []string
	for _, n := range strings.Split(sf.disable, ",") {
		if n = strings.TrimSpace(n); n != "" {
			off = append(off, n)
		}
	}
	if factories, err = parsers.Without(factories, off...); err != nil {
		return nil, fmt.Errorf("--disable-parsers: %w", err)
	}
	s.factories = factories
	det, err := newDetection(sf)
	if err != nil {
		return nil, err
	}
	s.det = det
	s.closers = append(s.closers, det.close)
	if err := s.startNATS(); err != nil {
		s.close()
		return nil, err
	}
	// Last, so that a session that fails to start leaves no limit.
	s.closers = append(s.closers, memlimit.Start(sf.memBudget).Stop)
	if sf.memBudget > 0 {
		// The start-up code has run: the run maps back what it reads.
		// A failure costs memory, not correctness: not reported.
		_, _ = memlimit.TrimStartup()
	}
	return s, nil
}

// enableMetrics builds the Prometheus registry for the run; the caller
// serves it.
func (s *session) enableMetrics() *prometheus.Registry {
	if s.reg == nil {
		s.reg = metrics.NewRegistry(version)
		s.det.metrics = metrics.NewSink(s.factories)
		s.reg.MustRegister(s.det.metrics)
	}
	return s.reg
}

// openOutputs creates the events and alerts outputs: files in the -o
// directory (written through temporary files, in place at finish), or one
// stream on stdout. It starts the detection engine.
func (s *session) openOutputs(stdout io.Writer) error {
	if err := s.openSinks(); err != nil {
		return err
	}
	if s.flags.out != "" {
		if err := os.MkdirAll(s.flags.out, 0o755); err != nil {
			return fmt.Errorf("cannot create output directory: %w", err)
		}
		path := filepath.Join(s.flags.out, "events.jsonl")
		ev, err := output.CreateJSONL(path)
		if err != nil {
			return err
		}
		s.events, s.eventsDest = ev, path
		if s.det.alerts, err = output.CreateJSONL(filepath.Join(s.flags.out, "alerts.jsonl")); err != nil {
			ev.Abort()
			return err
		}
	} else {
		s.events = output.NewJSONLWriter(stdout)
		s.eventsDest = "stdout"
		s.det.alerts = s.events // alerts are events too: one stream on stdout
	}
	if err := s.openInventory(); err != nil {
		s.events.Abort()
		s.det.abort()
		return err
	}
	if err := s.det.start(s.alertSinks...); err != nil {
		s.events.Abort()
		s.det.abort()
		return err
	}
	return nil
}

// pipelineConfig is the pipeline set-up the flags ask for.
func (s *session) pipelineConfig() pipeline.Config {
	return pipeline.Config{
		Workers: s.flags.workers,
		Flow: flow.Config{
			MaxFlows: s.flags.maxFlows,
			Parsers:  s.factories,
			Recover:  !s.flags.noRecover,
			Sensor:   s.flags.sensor,
		},
	}
}

// observe registers the pipeline's counters with the metrics registry.
func (s *session) observe(p *pipeline.Pipeline) {
	if s.reg != nil {
		s.reg.MustRegister(metrics.NewCollector(p.Snapshot, s.factories))
	}
}

// sink is where the pipeline's events go: the events output, the added
// event sinks, then detection.
func (s *session) sink() pipeline.Sink {
	tee := output.Tee{s.events}
	for _, es := range s.eventSinks {
		tee = append(tee, es)
	}
	tee = append(tee, s.det.engine)
	var sk pipeline.Sink = tee
	if s.det.metrics != nil {
		sk = s.det.metrics.Timed(sk) // times the outputs, then counts the events
	}
	return sk
}

// finish ends a run whose pipeline returned runErr (the sink error):
// detection flushes its last alerts, then every output is put in place.
// On any error nothing is left half-written.
func (s *session) finish(runErr error) error {
	if runErr == nil {
		runErr = s.det.engine.Close()
	}
	if runErr != nil {
		s.abort()
		return runErr
	}
	if err := s.det.commit(s.events); err != nil {
		s.abort()
		return err
	}
	if err := s.events.Commit(); err != nil {
		s.abort()
		return err
	}
	var errs []error
	for _, c := range s.commits {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}

// abort drops every output being written.
func (s *session) abort() {
	if s.events != nil {
		s.events.Abort()
	}
	s.det.abort()
	for _, a := range s.aborts {
		a()
	}
}

// close releases what the session holds, last opened first.
func (s *session) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}
