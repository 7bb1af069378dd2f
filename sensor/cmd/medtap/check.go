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
	"syscall"
	"time"

	"github.com/medtap/medtap/detect"
	"github.com/medtap/medtap/detect/inventory"
	"github.com/medtap/medtap/detect/policy"
	"github.com/medtap/medtap/detect/report"
	"github.com/medtap/medtap/sensor/capture"
	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/pipeline"
)

// alertCollector keeps the alerts of a run as records, for check and carve.
type alertCollector struct{ recs []inventory.AlertRecord }

func (c *alertCollector) Write(evs []*event.Event) error {
	for _, ev := range evs {
		if rec, ok := report.AlertFromEvent(ev); ok {
			c.recs = append(c.recs, rec)
		}
	}
	return nil
}

// analysis is what analyzeForAlerts found.
type analysis struct {
	alerts []inventory.AlertRecord
	stats  pipeline.Stats
	files  []string
	failed bool // an input could not be read in full (already reported)
	pol    *policy.Policy
}

// analyzeForAlerts runs the shared session over the inputs and keeps the
// alerts. Events and alerts go to -o when given, else nowhere. Problems are
// printed on stderr; err is set when the run could not complete.
func analyzeForAlerts(cmd string, sf sessionFlags, paths []string, stderr io.Writer) (*analysis, error) {
	s, err := newSession(cmd, sf)
	if err != nil {
		return nil, err
	}
	defer s.close()
	files, errs := capture.Expand(paths)
	a := &analysis{files: files, pol: s.det.pol, failed: len(errs) > 0}
	for _, err := range errs {
		fmt.Fprintf(stderr, "medtap: %v\n", oneLine(err))
	}
	if len(files) == 0 {
		return nil, errors.New("no capture files found in the given paths (looked for .pcap, .pcapng, .cap and their .gz and .zst)")
	}
	col := &alertCollector{}
	s.alertSinks = append(s.alertSinks, col)
	if err := s.openOutputs(io.Discard); err != nil {
		return nil, err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p := pipeline.New(s.pipelineConfig())
	a.stats = p.Run(ctx, files, s.sink(), func(err error) {
		a.failed = true
		fmt.Fprintf(stderr, "medtap: %v\n", oneLine(err))
	})
	s.recordRun(files, &a.stats)
	if err := s.finish(a.stats.SinkErr); err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, errors.New("interrupted")
	}
	a.alerts = col.recs
	return a, nil
}

func checkCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf sessionFlags
	sf.register(fs, "also write events.jsonl and alerts.jsonl to `DIR` (default: not written)")
	failOn := fs.String("fail-on", "high", "fail when an alert has this `SEVERITY` or higher: info, low, medium, high, critical")
	junit := fs.String("junit", "", "write JUnit XML to `FILE`: one test case per rule")
	quiet := fs.Bool("q", false, "no findings table (exit code and JUnit only)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: medtap check [flags] FILE|DIR...\n\nAnalyzes captures with the policy and prints a short findings table. Exit\nstatus 0: no alert at or above --fail-on; 1: some, or an input failed;\n2: bad command line. For device makers' CI.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "medtap check: no capture files given; pass pcap/pcapng files or directories")
		return exitUsage
	}
	if policy.SeverityRank(*failOn) < 0 {
		fmt.Fprintf(stderr, "medtap check: --fail-on %q: use info, low, medium, high or critical\n", *failOn)
		return exitUsage
	}
	if err := sf.validate(); err != nil {
		fmt.Fprintf(stderr, "medtap check: %v\n", err)
		return exitUsage
	}
	if *junit != "" {
		if st, err := os.Stat(filepath.Dir(*junit)); err != nil || !st.IsDir() {
			fmt.Fprintf(stderr, "medtap check: --junit %s: the directory %s does not exist; create it first\n", *junit, filepath.Dir(*junit))
			return exitUsage
		}
	}
	started := time.Now()
	a, err := analyzeForAlerts("medtap check", sf, fs.Args(), stderr)
	if err != nil {
		fmt.Fprintf(stderr, "medtap check: %v\n", oneLine(err))
		return exitFailure
	}
	c := &report.Check{
		Rules: detect.Rules(), Disabled: disabledRules(a.pol), Alerts: a.alerts, FailOn: *failOn,
		Started: started, Elapsed: time.Since(started), Inputs: a.files, Version: version,
	}
	if !*quiet {
		if err := c.WriteFindings(stdout); err != nil {
			fmt.Fprintf(stderr, "medtap check: %v\n", err)
			return exitFailure
		}
	}
	if *junit != "" {
		if err := writeFileAtomic(*junit, c.WriteJUnit); err != nil {
			fmt.Fprintf(stderr, "medtap check: --junit: %v\n", oneLine(err))
			return exitFailure
		}
	}
	if a.failed || c.Failed() {
		if a.failed {
			fmt.Fprintln(stderr, "medtap check: an input could not be read in full; failing the check")
		}
		return exitFailure
	}
	return exitOK
}

// disabledRules are the rule ids the policy turns off.
func disabledRules(p *policy.Policy) map[string]bool {
	out := map[string]bool{}
	for id, r := range p.Rules {
		if r.Enabled != nil && !*r.Enabled {
			out[id] = true
		}
	}
	return out
}

// writeFileAtomic writes path through a temporary file in the same
// directory, renamed when complete: never a half-written file.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if err := write(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
