package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/medtap/medtap/sensor/config"
	"github.com/medtap/medtap/sensor/metrics"
	"github.com/medtap/medtap/sensor/output"
	"github.com/medtap/medtap/sensor/output/syslog"
	"github.com/medtap/medtap/sensor/profiling"
)

// sinkDrainWait bounds how long shutdown waits for a sink's queue to
// drain (a syslog server that is away); what is left is dropped and
// counted.
const sinkDrainWait = 5 * time.Second

// sinkFlags are the flags of the configuration file, the syslog sink, the
// rotated events file and profiling, shared by analyze and run.
type sinkFlags struct {
	fs     *flag.FlagSet
	config string

	syslog         string
	syslogFormat   string
	syslogEvents   bool
	syslogCA       string
	syslogCert     string
	syslogKey      string
	syslogFacility string

	eventsFile string
	rotateSize sizeValue
	rotateKeep int
	queue      int

	pprof     bool
	pyroscope string
}

// sizeValue is a byte-size flag: 65536, 512KiB, 100MiB, 1GB.
type sizeValue int64

func (v *sizeValue) String() string { return strconv.FormatInt(int64(*v), 10) }
func (v *sizeValue) Set(s string) error {
	n, err := config.ParseSize(s)
	if err != nil {
		return err
	}
	*v = sizeValue(n)
	return nil
}

func (k *sinkFlags) register(fs *flag.FlagSet) {
	k.fs = fs
	fs.StringVar(&k.config, "config", "", "configuration `FILE` (YAML; sensor/config/medtap.example.yaml documents every key); flags given here override it")
	fs.StringVar(&k.syslog, "syslog", "", "send alerts to a syslog server at `URL`: udp://HOST[:514], tcp://HOST[:514] (RFC 6587 octet counting) or tls://HOST[:6514] (RFC 5425); RFC 5424 messages")
	fs.StringVar(&k.syslogFormat, "syslog-format", syslog.FormatCEF, "syslog alert format: cef (ArcSight Common Event Format) or json")
	fs.BoolVar(&k.syslogEvents, "syslog-events", false, "send the other events (flows, protocol events) to syslog too, as JSON")
	fs.StringVar(&k.syslogCA, "syslog-ca", "", "CA certificates `FILE` (PEM) to verify a tls:// syslog server (default: the system's)")
	fs.StringVar(&k.syslogCert, "syslog-cert", "", "client certificate `FILE` (PEM) for a tls:// syslog server that asks for one")
	fs.StringVar(&k.syslogKey, "syslog-key", "", "the syslog client certificate's key `FILE` (PEM)")
	fs.StringVar(&k.syslogFacility, "syslog-facility", syslog.DefaultFacility, "syslog facility `NAME`")
	fs.StringVar(&k.eventsFile, "events-file", "", "also write events and alerts, as they come, to this JSON-lines `FILE`, rotated at --rotate-size (\"-\": stdout, with -o)")
	k.rotateSize = output.DefaultRotateSize
	fs.Var(&k.rotateSize, "rotate-size", "rotate --events-file past this `SIZE` (65536, 512KiB, 100MiB; 0: never)")
	fs.IntVar(&k.rotateKeep, "rotate-keep", output.DefaultRotateKeep, "rotated --events-file files kept (FILE.1 the newest)")
	fs.IntVar(&k.queue, "queue", output.DefaultQueueEvents, "records each sink (syslog, --events-file) holds while it is slow; past it they are dropped and counted, capture never waits")
	fs.BoolVar(&k.pprof, "pprof", false, "serve net/http/pprof under /debug/pprof/ on the metrics listener (loopback only)")
	fs.StringVar(&k.pyroscope, "pyroscope", "", "push continuous CPU and memory profiles to a Pyroscope server at `URL` (http://HOST:4040; off by default)")
}

// check loads --config, letting it set every flag the command line left
// alone, then checks the sink flags. It runs before the other checks of
// the shared flags, so that they see the file's values.
func (k *sinkFlags) check() error {
	if k.config != "" {
		cfg, err := config.Load(k.config)
		if err != nil {
			return err
		}
		if err := cfg.Apply(k.fs); err != nil {
			return err
		}
	}
	if k.syslog != "" {
		if _, _, err := syslog.ParseURL(k.syslog); err != nil {
			return fmt.Errorf("--syslog: %w", err)
		}
	}
	switch k.syslogFormat {
	case syslog.FormatCEF, syslog.FormatJSON:
	default:
		return fmt.Errorf("--syslog-format %q: use cef or json", k.syslogFormat)
	}
	if _, ok := syslog.Facilities[k.syslogFacility]; !ok {
		return fmt.Errorf("--syslog-facility %q: use a name like local0..local7, daemon or security", k.syslogFacility)
	}
	if k.rotateSize != 0 && k.rotateSize < output.MinRotateSize {
		return fmt.Errorf("--rotate-size %d is too small; use 0 (never) or at least %d", k.rotateSize, output.MinRotateSize)
	}
	if k.rotateKeep < 1 || k.rotateKeep > output.MaxRotateKeep {
		return fmt.Errorf("--rotate-keep %d out of range; use 1..%d", k.rotateKeep, output.MaxRotateKeep)
	}
	if k.pyroscope != "" {
		if u, err := url.Parse(k.pyroscope); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return fmt.Errorf("--pyroscope %q: use http://HOST:PORT or https://HOST:PORT", k.pyroscope)
		}
	}
	if k.queue < 1 || k.queue > 1<<22 {
		return fmt.Errorf("--queue %d out of range; use 1..%d", k.queue, 1<<22)
	}
	return nil
}

// openSinks opens the syslog sink (first: it creates nothing) and the
// rotated events file, registers their counters with the metrics, and
// starts continuous profiling. The sinks see every event and alert; they
// are drained (for at most sinkDrainWait) when the session closes.
func (s *session) openSinks() error {
	k := &s.flags.sinks
	var queues []*output.Queue
	outs := metrics.NewOutputs()
	closeQueues := func() {
		for _, q := range queues {
			err := q.CloseWithin(sinkDrainWait)
			st := q.Stats()
			if lost := st.Dropped + st.Failed + st.TooLarge; lost > 0 || err != nil {
				fmt.Fprintf(os.Stderr, "%s: %s sink: %d events written, %d dropped (queue full %d, failed %d, too large %d)\n",
					s.cmd, st.Sink, st.Written, lost, st.Dropped, st.Failed, st.TooLarge)
			}
		}
	}
	if k.syslog != "" {
		sk, err := syslog.Open(
			syslog.Options{URL: k.syslog, CAFile: k.syslogCA, CertFile: k.syslogCert, KeyFile: k.syslogKey},
			syslog.Format{Alerts: k.syslogFormat, Events: k.syslogEvents, Facility: k.syslogFacility, Version: version},
			k.queue)
		if err != nil {
			closeQueues()
			return err
		}
		queues = append(queues, sk.Queue)
		outs.AddQueue(sk.Queue)
		outs.AddSyslog(sk.Writer)
		if k.syslogEvents {
			s.eventSinks = append(s.eventSinks, sk.Queue)
		}
		s.alertSinks = append(s.alertSinks, sk.Queue)
	}
	if k.eventsFile != "" {
		var w output.RecordWriter
		name := output.SinkFile
		if k.eventsFile == "-" {
			if s.flags.out == "" {
				closeQueues()
				return errors.New("--events-file -: events already go to stdout without -o")
			}
			w, name = output.NewStreamWriter(os.Stdout), output.SinkStdout
		} else {
			rf, err := output.OpenRotating(k.eventsFile, int64(k.rotateSize), k.rotateKeep)
			if err != nil {
				closeQueues()
				return fmt.Errorf("--events-file: %w", err)
			}
			w = rf
		}
		q := output.NewQueue(name, k.queue, output.JSONLine, w)
		queues = append(queues, q)
		outs.AddQueue(q)
		s.eventSinks = append(s.eventSinks, q)
		s.alertSinks = append(s.alertSinks, q)
	}
	if s.reg != nil {
		s.reg.MustRegister(outs)
	}
	s.closers = append(s.closers, closeQueues)
	if k.pyroscope != "" {
		tags := map[string]string{}
		if s.flags.sensor != "" {
			tags["sensor"] = s.flags.sensor
		}
		p, err := profiling.Start(profiling.Options{URL: k.pyroscope, Tags: tags, Log: os.Stderr})
		if err != nil {
			return fmt.Errorf("--pyroscope: %w", err)
		}
		s.closers = append(s.closers, func() { _ = p.Stop() })
	}
	return nil
}

// configCmd is `medtap config check FILE`.
func configCmd(args []string, stdout, stderr io.Writer) int {
	const usage = "usage: medtap config check FILE"
	if len(args) != 2 || args[0] != "check" {
		fmt.Fprintln(stderr, usage)
		return exitUsage
	}
	if _, err := config.Load(args[1]); err != nil {
		fmt.Fprintln(stderr, oneLine(err))
		return exitFailure
	}
	fmt.Fprintln(stdout, "valid")
	return exitOK
}
