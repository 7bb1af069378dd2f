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
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/medtap/medtap/parsers"
	"github.com/medtap/medtap/sensor/capture"
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
  medtap analyze [flags] FILE|DIR...   analyze captures (pcap, pcapng, .gz, .zst; directories recursively; - for stdin)
  medtap run --interface IF [flags]    capture live from a SPAN/TAP interface until SIGINT/SIGTERM
  medtap assets [--db F] [--format table|json|csv] [--class C] [--ip A] [--vendor V]
                                       list the devices of an inventory database
  medtap check --policy F [--fail-on SEV] [--junit FILE] FILE|DIR...
                                       analyze for CI: findings table, exit 1 on alerts at or above SEV
  medtap report [--db F] --format md|html|json [--lang en|zh] -o DIR
                                       evidence report: data flows, interfaces, NMPA capabilities, findings
  medtap carve --alert ID -o OUT.pcap [--alerts F | --db F] FILE|DIR...
                                       write the packets of the flow behind an alert
  medtap hub --nats URL --db F         merge every sensor's NATS stream into one inventory; serve the API
  medtap rules [--json]                list the detection rules
  medtap policy check FILE             validate a policy file
  medtap policy default                print the built-in policy
  medtap config check FILE             validate a configuration file (flags of analyze/run: --config FILE)
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
	case "run":
		return runLive(args[1:], stdout, stderr)
	case "assets":
		return assetsCmd(args[1:], stdout, stderr)
	case "hub":
		return hubCmd(args[1:], stdout, stderr)
	case "check":
		return checkCmd(args[1:], stdout, stderr)
	case "report":
		return reportCmd(args[1:], stdout, stderr)
	case "carve":
		return carveCmd(args[1:], stdout, stderr)
	case "rules":
		return rulesCmd(args[1:], stdout, stderr)
	case "policy":
		return policyCmd(args[1:], stdout, stderr)
	case "config":
		return configCmd(args[1:], stdout, stderr)
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

// fileList is a repeatable file flag.
type fileList []string

func (l *fileList) String() string     { return strings.Join(*l, ",") }
func (l *fileList) Set(v string) error { *l = append(*l, v); return nil }

func analyze(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf sessionFlags
	sf.register(fs, "output `DIR` for events.jsonl and alerts.jsonl (default: events and alerts to stdout)")
	progress := fs.String("progress", "auto", "progress bar on stderr: auto (when stderr is a terminal), always, never")
	quiet := fs.Bool("q", false, "no summary")
	cpuProfile := fs.String("cpuprofile", "", "write a Go CPU profile of the run to `FILE`")
	memProfile := fs.String("memprofile", "", "write a Go heap profile (allocations over the run, and what is still held at its end) to `FILE`")
	fs.StringVar(&sf.listen, "listen", "", "serve Prometheus metrics (/metrics, /healthz, /readyz) on `ADDR` during the analysis (default with --serve: "+metrics.DefaultAddr+")")
	serve := fs.Bool("serve", false, "serve metrics during the analysis and keep serving after it until SIGINT or SIGTERM")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: medtap analyze [flags] FILE|DIR...\n\nReads pcap/pcapng captures, plain or gzip- or zstd-compressed (directories\nrecursively; - reads standard input), reassembles TCP, decodes the protocols\nfound and writes JSON-lines events.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "medtap analyze: no capture files given; pass pcap/pcapng files or directories")
		fs.Usage()
		return exitUsage
	}
	if err := sf.validate(); err != nil {
		fmt.Fprintf(stderr, "medtap analyze: %v\n", err)
		return exitUsage
	}
	switch *progress {
	case "auto", "always", "never":
	default:
		fmt.Fprintf(stderr, "medtap analyze: --progress %q: use auto, always or never\n", *progress)
		return exitUsage
	}
	// Set-up problems (definitions, policy, key) are found before any
	// output is created.
	s, err := newSession("medtap analyze", sf)
	if err != nil {
		fmt.Fprintf(stderr, "medtap analyze: %v\n", oneLine(err))
		return exitFailure
	}
	defer s.close()
	keepServing := false
	if *serve || sf.listen != "" {
		stopMetrics, err := s.serve(sf.listen) // metrics and the HTTP API
		if err != nil {
			fmt.Fprintf(stderr, "medtap analyze: --listen: %v\n", err)
			return exitFailure
		}
		defer func() {
			var err error
			if keepServing {
				err = holdServer(stderr, sf.listen, stopMetrics)
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
		fmt.Fprintln(stderr, "medtap analyze: no capture files found in the given paths (looked for .pcap, .pcapng, .cap and their .gz and .zst)")
		return exitFailure
	}

	summaryTo := stderr
	if sf.out != "" {
		summaryTo = stdout
	}
	if err := s.openOutputs(stdout); err != nil {
		fmt.Fprintf(stderr, "medtap analyze: %v\n", oneLine(err))
		return exitFailure
	}

	if *cpuProfile != "" {
		stopProfile, err := startCPUProfile(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "medtap analyze: --cpuprofile: %v\n", err)
			s.abort()
			return exitFailure
		}
		defer stopProfile()
	}
	if *memProfile != "" {
		f, err := os.Create(*memProfile)
		if err != nil {
			fmt.Fprintf(stderr, "medtap analyze: --memprofile: %v\n", err)
			s.abort()
			return exitFailure
		}
		runtime.MemProfileRate = memProfileRate
		defer func() {
			if err := writeHeapProfile(f); err != nil {
				fmt.Fprintf(stderr, "medtap analyze: --memprofile: %v\n", err)
			}
		}()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	p := pipeline.New(s.pipelineConfig())
	s.observe(p)
	showProgress := *progress == "always" || (*progress == "auto" && isTerminal(stderr))
	var progDone chan struct{}
	if showProgress {
		progDone = make(chan struct{})
		go progressBar(stderr, &p.Progress, progDone)
	}
	failed := false
	st := p.Run(ctx, files, s.sink(), func(err error) {
		failed = true
		if showProgress {
			fmt.Fprint(stderr, "\r\033[K")
		}
		fmt.Fprintf(stderr, "medtap: %v\n", oneLine(err))
	})
	s.recordRun(files, &st)
	// Decided now: the signal context is cancelled by a deferred stop that
	// runs before the server's deferred hold.
	keepServing = *serve && ctx.Err() == nil
	if progDone != nil {
		progDone <- struct{}{}
		<-progDone
	}
	if err := s.finish(st.SinkErr); err != nil {
		fmt.Fprintf(stderr, "medtap analyze: %v\n", oneLine(err))
		return exitFailure
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "medtap analyze: interrupted; the output holds what was analyzed so far")
		failed = true
	}
	if !*quiet {
		output.Summary(summaryTo, &st, s.events.N, s.eventsDest)
		s.det.summary(summaryTo)
	}
	if failed || len(errs) > 0 {
		return exitFailure
	}
	return exitOK
}

// startCPUProfile writes a Go CPU profile to path until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// memProfileRate samples one allocation per this many bytes for
// --memprofile: finer than the runtime's default, so the small per-packet
// and per-message allocations that matter on the hot path show up.
const memProfileRate = 64 << 10

// writeHeapProfile writes the heap profile to f and closes it.
func writeHeapProfile(f *os.File) error {
	runtime.GC() // the in-use figures are as of the last collection
	err := pprof.Lookup("heap").WriteTo(f, 0)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// parseFlags parses a command's flags. done says the command ends here,
// with code: 0 after -h, 2 after a bad flag (the flag package has said
// why on the command's stderr).
func parseFlags(fs *flag.FlagSet, args []string) (code int, done bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, true
		}
		return exitUsage, true
	}
	return 0, false
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
			if size < 0 {
				// Standard input: no size, so no bar.
				fmt.Fprintf(w, "\r\033[K%.1f MiB read, file %d/%d, %d packets, %s",
					float64(read)/(1<<20), p.FileIndex.Load()+1, p.FileCount.Load(), p.Frames.Load(), time.Since(start).Round(time.Second))
				continue
			}
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
