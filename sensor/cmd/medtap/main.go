// Command medtap is the passive network security monitor for hospital device
// networks. `medtap analyze` reads captures and writes events; the live
// sensor, detection and reports build on the same pipeline.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/term"

	"github.com/medtap/medtap/detect"
	"github.com/medtap/medtap/parsers"
	"github.com/medtap/medtap/sensor/capture"
	"github.com/medtap/medtap/sensor/flow"
	"github.com/medtap/medtap/sensor/metrics"
	"github.com/medtap/medtap/sensor/output"
	"github.com/medtap/medtap/sensor/pipeline"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // some input or output failed
	exitUsage   = 2 // bad command line
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usageText = `medtap: passive network security monitor for hospital device networks

Usage:
  medtap analyze [flags] FILE|DIR...   analyze captures (pcap, pcapng, .gz; directories recursively)
  medtap rules [--json]                list the detection rules
  medtap policy check FILE             validate a policy file
  medtap policy default                print the built-in policy
  medtap parsers                       list the protocol parsers
  medtap version                       print the version

Run 'medtap analyze -h' for the analyze flags.
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return exitUsage
	}
	switch args[0] {
	case "analyze":
		return analyze(args[1:], stdout, stderr)
	case "rules":
		return rulesCmd(args[1:], stdout, stderr)
	case "policy":
		return policyCmd(args[1:], stdout, stderr)
	case "parsers":
		for _, f := range parsers.All {
			fmt.Fprintf(stdout, "%-8s ports %v\n", f.Name, f.Ports)
		}
		return exitOK
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "medtap %s (%s %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return exitOK
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usageText)
		return exitOK
	}
	fmt.Fprintf(stderr, "medtap: unknown command %q\n\n%s", args[0], usageText)
	return exitUsage
}

type analyzeFlags struct {
	out        string
	workers    int
	sensor     string
	maxFlows   int
	progress   string
	noRecover  bool
	quiet      bool
	cpuProfile string
	policy     string
	geoip      string
	keyFile    string
	evidence   string
	framing    fileList
	listen     string
	serve      bool
}

// fileList is a repeatable file flag.
type fileList []string

func (l *fileList) String() string     { return strings.Join(*l, ",") }
func (l *fileList) Set(v string) error { *l = append(*l, v); return nil }

func analyze(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var af analyzeFlags
	fs.StringVar(&af.out, "o", "", "output `DIR` for events.jsonl and alerts.jsonl (default: events and alerts to stdout)")
	fs.IntVar(&af.workers, "workers", runtime.NumCPU(), "worker goroutines; flows are sharded across them")
	fs.StringVar(&af.sensor, "sensor", "", "sensor `NAME` written in every event (default: none)")
	fs.IntVar(&af.maxFlows, "max-flows", flow.DefaultMaxFlows, "flows held at once across workers; the least recently seen is evicted past it")
	fs.StringVar(&af.progress, "progress", "auto", "progress bar on stderr: auto (when stderr is a terminal), always, never")
	fs.BoolVar(&af.noRecover, "no-recover", false, "let a parser panic crash medtap (for debugging) instead of dropping that flow's parser")
	fs.BoolVar(&af.quiet, "q", false, "no summary")
	fs.StringVar(&af.cpuProfile, "cpuprofile", "", "write a Go CPU profile of the run to `FILE`")
	fs.StringVar(&af.policy, "policy", "", "detection policy `FILE` (YAML; default: the built-in policy, see 'medtap policy default')")
	fs.StringVar(&af.geoip, "geoip", "", "MaxMind-format country database `FILE` (default: the embedded CC0 database)")
	fs.StringVar(&af.keyFile, "key-file", "", "pseudonym key `FILE`, created with mode 0600 on first use (default: medtap/pseudonym.key in the user config directory)")
	fs.StringVar(&af.listen, "listen", "", "serve Prometheus metrics (/metrics, /healthz, /readyz) on `ADDR` during the analysis (default with --serve: "+metrics.DefaultAddr+")")
	fs.BoolVar(&af.serve, "serve", false, "serve metrics during the analysis and keep serving after it until SIGINT or SIGTERM")
	fs.Var(&af.framing, "framing", "protocol definition `FILE` (YAML) for a proprietary device framing; repeatable (parsers/framing/README.md)")
	fs.StringVar(&af.evidence, "evidence", "default", "alert evidence: default (field names, categories, pseudonyms) or masked (adds masked excerpts; lab use)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: medtap analyze [flags] FILE|DIR...\n\nReads pcap/pcapng captures (also gzip-compressed; directories recursively),\nreassembles TCP, decodes the protocols found and writes JSON-lines events.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "medtap analyze: no capture files given; pass pcap/pcapng files or directories")
		fs.Usage()
		return exitUsage
	}
	if af.workers < 1 || af.workers > 1024 {
		fmt.Fprintf(stderr, "medtap analyze: --workers %d out of range; use 1..1024\n", af.workers)
		return exitUsage
	}
	if af.maxFlows < af.workers {
		fmt.Fprintf(stderr, "medtap analyze: --max-flows %d is below the worker count; use at least %d\n", af.maxFlows, af.workers)
		return exitUsage
	}
	switch af.progress {
	case "auto", "always", "never":
	default:
		fmt.Fprintf(stderr, "medtap analyze: --progress %q: use auto, always or never\n", af.progress)
		return exitUsage
	}
	switch af.evidence {
	case "default":
		af.evidence = detect.EvidenceDefault
	case detect.EvidenceMasked:
	default:
		fmt.Fprintf(stderr, "medtap analyze: --evidence %q: use default or masked\n", af.evidence)
		return exitUsage
	}
	// Set-up problems (definitions, policy, key) are found before any
	// output is created.
	factories, err := parsers.With(af.framing...)
	if err != nil {
		fmt.Fprintf(stderr, "medtap analyze: %v\n", oneLine(err))
		return exitFailure
	}
	det, err := newDetection(af)
	if err != nil {
		fmt.Fprintf(stderr, "medtap analyze: %v\n", oneLine(err))
		return exitFailure
	}
	defer det.close()
	var reg *prometheus.Registry
	keepServing := false
	if af.serve || af.listen != "" {
		reg = metrics.NewRegistry(version)
		det.metrics = metrics.NewSink(factories)
		reg.MustRegister(det.metrics)
		stopMetrics, err := startServer(af.listen, reg)
		if err != nil {
			fmt.Fprintf(stderr, "medtap analyze: --listen: %v\n", err)
			return exitFailure
		}
		defer func() {
			var err error
			if keepServing {
				err = holdServer(stderr, af.listen, stopMetrics)
			} else {
				err = stopServer(stopMetrics)
			}
			if err != nil {
				fmt.Fprintf(stderr, "medtap analyze: %v\n", err)
			}
		}()
	}

	files, errs := capture.Expand(fs.Args())
	for _, err := range errs {
		fmt.Fprintf(stderr, "medtap: %v\n", err)
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "medtap analyze: no capture files found in the given paths (looked for .pcap, .pcapng, .cap and their .gz)")
		return exitFailure
	}

	var sink *output.JSONL
	dest := "stdout"
	summaryTo := stderr
	if af.out != "" {
		if err := os.MkdirAll(af.out, 0o755); err != nil {
			fmt.Fprintf(stderr, "medtap analyze: cannot create output directory: %v\n", err)
			return exitFailure
		}
		path := filepath.Join(af.out, "events.jsonl")
		if sink, err = output.CreateJSONL(path); err != nil {
			fmt.Fprintf(stderr, "medtap analyze: %v\n", err)
			return exitFailure
		}
		dest = path
		summaryTo = stdout
		if det.alerts, err = output.CreateJSONL(filepath.Join(af.out, "alerts.jsonl")); err != nil {
			sink.Abort()
			fmt.Fprintf(stderr, "medtap analyze: %v\n", err)
			return exitFailure
		}
	} else {
		sink = output.NewJSONLWriter(stdout)
		det.alerts = sink // alerts are events too: one stream on stdout
	}
	if err := det.start(); err != nil {
		sink.Abort()
		det.abort()
		fmt.Fprintf(stderr, "medtap analyze: %v\n", oneLine(err))
		return exitFailure
	}

	if af.cpuProfile != "" {
		f, err := os.Create(af.cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "medtap analyze: --cpuprofile: %v\n", err)
			sink.Abort()
			return exitFailure
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "medtap analyze: --cpuprofile: %v\n", err)
			sink.Abort()
			return exitFailure
		}
		defer pprof.StopCPUProfile()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	p := pipeline.New(pipeline.Config{
		Workers: af.workers,
		Flow: flow.Config{
			MaxFlows: af.maxFlows,
			Parsers:  factories,
			Recover:  !af.noRecover,
			Sensor:   af.sensor,
		},
	})
	if reg != nil {
		reg.MustRegister(metrics.NewCollector(p.Snapshot, factories))
	}
	showProgress := af.progress == "always" || (af.progress == "auto" && isTerminal(stderr))
	var progDone chan struct{}
	if showProgress {
		progDone = make(chan struct{})
		go progressBar(stderr, &p.Progress, progDone)
	}
	failed := false
	var runSink pipeline.Sink = output.Tee{sink, det.engine}
	if det.metrics != nil {
		runSink = det.metrics.Timed(runSink) // times the outputs, then counts the events
	}
	st := p.Run(ctx, files, runSink, func(err error) {
		failed = true
		if showProgress {
			fmt.Fprint(stderr, "\r\033[K")
		}
		fmt.Fprintf(stderr, "medtap: %v\n", oneLine(err))
	})
	// Decided now: the signal context is cancelled by a deferred stop that
	// runs before the server's deferred hold.
	keepServing = af.serve && ctx.Err() == nil
	if progDone != nil {
		progDone <- struct{}{}
		<-progDone
	}
	if st.SinkErr == nil {
		st.SinkErr = det.engine.Close()
	}
	if st.SinkErr != nil {
		sink.Abort()
		det.abort()
		fmt.Fprintf(stderr, "medtap analyze: %v\n", st.SinkErr)
		return exitFailure
	}
	if err := det.commit(sink); err != nil {
		sink.Abort()
		fmt.Fprintf(stderr, "medtap analyze: %v\n", err)
		return exitFailure
	}
	if err := sink.Commit(); err != nil {
		fmt.Fprintf(stderr, "medtap analyze: %v\n", err)
		return exitFailure
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "medtap analyze: interrupted; the output holds what was analyzed so far")
		failed = true
	}
	if !af.quiet {
		output.Summary(summaryTo, &st, sink.N, dest)
		det.summary(summaryTo)
	}
	if failed || len(errs) > 0 {
		return exitFailure
	}
	return exitOK
}

func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", " ")
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progressBar redraws a one-line bar until told to stop, then clears it.
func progressBar(w io.Writer, p *pipeline.Progress, done chan struct{}) {
	tk := time.NewTicker(200 * time.Millisecond)
	defer tk.Stop()
	start := time.Now()
	for {
		select {
		case <-done:
			fmt.Fprint(w, "\r\033[K")
			done <- struct{}{}
			return
		case <-tk.C:
			size, read := p.FileSize.Load(), p.FileRead.Load()
			frac := 0.0
			if size > 0 {
				frac = float64(read) / float64(size)
			}
			const width = 30
			n := int(frac * width)
			bar := strings.Repeat("=", n) + strings.Repeat(" ", width-n)
			fmt.Fprintf(w, "\r\033[K[%s] %3.0f%% file %d/%d, %d packets, %s",
				bar, frac*100, p.FileIndex.Load()+1, p.FileCount.Load(), p.Frames.Load(), time.Since(start).Round(time.Second))
		}
	}
}
