// Command medtap-bench measures medtap's offline analysis against tcpdump
// and tshark on the same captures and checks the project's performance
// targets.
//
// Usage:
//
//	medtap-bench -medtap PATH [-workers N] [-runs 3] [-tshark-runs R] [-label NAME]
//	             [-dicom-ports 104,11112] [-clean FILE] [-lossy FILE] [-json OUT] [-v]
//	             [-fail-on-miss] [FILE...]
//
// For every capture it runs these commands one after another, in rounds:
// each round runs each command once, in this order, and there are -runs
// rounds (tshark takes part in the first -tshark-runs only). It keeps every
// wall time, the best (lowest) and the highest peak RSS:
//
//	medtap analyze -o TMPDIR --workers N FILE
//	medtap analyze -o TMPDIR --workers 1 FILE
//	medtap analyze -o TMPDIR --disable-parsers hl7 --workers N FILE
//	tcpdump -r FILE -w /dev/null
//	tshark -r FILE -q -z io,stat,0 -d tcp.port==104,dicom [-d tcp.port==P,dicom ...]
//
// Rounds rather than each command's runs back to back, because a shared or
// virtual machine speeds up and slows down over tens of seconds: in rounds
// every command sees each phase. The ratios against medtap are given both
// best against best (which the targets use) and as the median of the
// ratios within each round, which a slow phase moves less.
//
// Wall time is measured around the child; peak RSS is the child's
// rusage ru_maxrss (KiB on Linux). Packets and bytes are counted from the
// capture's own record headers (classic pcap or pcapng; bytes are captured
// bytes), which also warms the page cache before the first timed run.
// A tool that is not installed is reported as n/a, not as a failure; pass
// -tcpdump none or -tshark none to skip one, -medtap none to measure only
// the baselines.
//
// The targets, printed with the measurements and marked PASS or MISS:
// medtap analyze at least 35x faster than tshark and 1.5x faster than
// tcpdump, at most 600 ns per packet with one worker, peak RSS at most
// 64 MiB (on the clean captures: positional files and -clean), and on the
// lossy capture (-lossy) at least 40% of the clean capture's throughput
// (-clean). -json writes every figure to a file; -fail-on-miss makes a MISS
// exit with status 1 (a tool error always does).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Targets.
const (
	targetVsTshark   = 35.0
	targetVsTcpdump  = 1.5
	targetNsPerPkt1W = 600.0
	targetRSSMiB     = 64.0
	targetLossyRatio = 0.40
	// targetHL7Share is issue #4's: HL7 adds at most this share to the
	// analysis of the mixed capture (analyze vs --disable-parsers hl7).
	targetHL7Share = 0.15
)

// config is everything the flags say.
type config struct {
	Medtap, Tcpdump, Tshark string
	Workers                 int
	Runs, TsharkRuns        int
	Label                   string
	DICOMPorts              []int
	Clean, Lossy            string
	Files                   []string
	JSON                    string
	Verbose                 bool
	FailOnMiss              bool
	Timeout                 time.Duration
}

// Report is the whole benchmark, as written by -json.
type Report struct {
	Label      string        `json:"label,omitempty"`
	Started    time.Time     `json:"started"`
	Host       Host          `json:"host"`
	Workers    int           `json:"workers"`
	Runs       int           `json:"runs"`
	TsharkRuns int           `json:"tshark_runs"`
	Files      []*FileResult `json:"files"`
	Targets    []Target      `json:"targets"`
}

// Host describes the machine.
type Host struct {
	CPUs   int    `json:"cpus"`
	OS     string `json:"os"`
	Arch   string `json:"arch"`
	Go     string `json:"go"`
	Kernel string `json:"kernel,omitempty"`
	Name   string `json:"hostname,omitempty"`
}

// FileResult is one capture and every tool's figures on it.
type FileResult struct {
	Path      string        `json:"path"`
	Role      string        `json:"role"` // "clean", "lossy" or "" (positional)
	Format    string        `json:"format"`
	SizeBytes int64         `json:"size_bytes"`
	Packets   uint64        `json:"packets"`
	Bytes     uint64        `json:"bytes"` // captured packet bytes
	Tools     []*ToolResult `json:"tools"`
}

// ToolResult is one command's measurements on one file.
type ToolResult struct {
	Name      string    `json:"name"` // medtap, medtap-1w, tcpdump, tshark
	Workers   int       `json:"workers,omitempty"`
	Command   []string  `json:"command,omitempty"`
	Status    string    `json:"status"` // ok, n/a, error
	Error     string    `json:"error,omitempty"`
	Runs      int       `json:"runs"`
	WallSec   []float64 `json:"wall_sec,omitempty"`
	BestSec   float64   `json:"best_sec,omitempty"`
	MedianSec float64   `json:"median_sec,omitempty"`
	UserSec   float64   `json:"user_sec,omitempty"` // of the best run
	SysSec    float64   `json:"sys_sec,omitempty"`
	PeakRSS   float64   `json:"peak_rss_mib,omitempty"` // highest over the runs
	Gbps      float64   `json:"gbit_per_sec,omitempty"`
	Pps       float64   `json:"packets_per_sec,omitempty"`
	NsPerPkt  float64   `json:"ns_per_packet,omitempty"`
	StderrEnd string    `json:"stderr_tail,omitempty"` // of the last run
}

// Target is one goal and how the run did against it.
type Target struct {
	File     string  `json:"file"`
	Name     string  `json:"name"`
	Goal     string  `json:"goal"`
	Measured string  `json:"measured"`
	Value    float64 `json:"value,omitempty"`
	Status   string  `json:"status"` // PASS, MISS, n/a, ERROR
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "medtap-bench:", err)
		os.Exit(2)
	}
	rep, err := run(context.Background(), cfg, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "medtap-bench:", err)
		os.Exit(2)
	}
	if cfg.JSON != "" {
		if err := writeJSON(cfg.JSON, rep); err != nil {
			fmt.Fprintln(os.Stderr, "medtap-bench:", err)
			os.Exit(2)
		}
	}
	os.Exit(exitCode(rep, cfg.FailOnMiss))
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("medtap-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := &config{}
	fs.StringVar(&cfg.Medtap, "medtap", "medtap", "the medtap binary (none: skip)")
	fs.StringVar(&cfg.Tcpdump, "tcpdump", "tcpdump", "the tcpdump binary (none: skip)")
	fs.StringVar(&cfg.Tshark, "tshark", "tshark", "the tshark binary (none: skip)")
	fs.IntVar(&cfg.Workers, "workers", runtime.NumCPU(), "medtap analyze --workers")
	fs.IntVar(&cfg.Runs, "runs", 3, "runs per tool and file; the best time counts")
	fs.IntVar(&cfg.TsharkRuns, "tshark-runs", 0, "runs for tshark (0: same as -runs; tshark is slow)")
	fs.StringVar(&cfg.Label, "label", "", "name of this benchmark run, printed and written to -json")
	ports := fs.String("dicom-ports", "104,11112", "TCP ports tshark decodes as DICOM (comma-separated)")
	fs.StringVar(&cfg.Clean, "clean", "", "the clean capture of a clean/lossy pair")
	fs.StringVar(&cfg.Lossy, "lossy", "", "the lossy capture of a clean/lossy pair (needs -clean)")
	fs.StringVar(&cfg.JSON, "json", "", "write all figures to this file as JSON")
	fs.BoolVar(&cfg.Verbose, "v", false, "print each run and the tail of medtap's stderr")
	fs.BoolVar(&cfg.FailOnMiss, "fail-on-miss", false, "exit 1 if a target is missed")
	fs.DurationVar(&cfg.Timeout, "timeout", time.Hour, "limit per child run")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: medtap-bench -medtap PATH [flags] [FILE...] [-clean FILE -lossy FILE]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	cfg.Files = fs.Args()
	for _, p := range strings.Split(*ports, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return nil, fmt.Errorf("bad -dicom-ports entry %q", p)
		}
		cfg.DICOMPorts = append(cfg.DICOMPorts, n)
	}
	switch {
	case cfg.Workers < 1:
		return nil, errors.New("-workers must be at least 1")
	case cfg.Runs < 1:
		return nil, errors.New("-runs must be at least 1")
	case cfg.Lossy != "" && cfg.Clean == "":
		return nil, errors.New("-lossy needs -clean (the lossy target is relative to the clean capture)")
	case len(cfg.Files) == 0 && cfg.Clean == "":
		fs.Usage()
		return nil, errors.New("no capture given")
	}
	if cfg.TsharkRuns <= 0 {
		cfg.TsharkRuns = cfg.Runs
	}
	return cfg, nil
}

// resolve finds a tool; "" or "none" means skipped.
func resolve(name string) (path string, ok bool) {
	if name == "" || name == "none" {
		return "", false
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", false
	}
	return p, true
}

func run(ctx context.Context, cfg *config, stdout, stderr io.Writer) (*Report, error) {
	rep := &Report{Label: cfg.Label, Started: time.Now().UTC(), Workers: cfg.Workers, Runs: cfg.Runs, TsharkRuns: cfg.TsharkRuns,
		Host: hostInfo()}
	medtap, haveMedtap := resolve(cfg.Medtap)
	if !haveMedtap && cfg.Medtap != "" && cfg.Medtap != "none" {
		return nil, fmt.Errorf("medtap binary %q not found (use -medtap PATH, or -medtap none for baselines only)", cfg.Medtap)
	}
	tcpdump, haveTcpdump := resolve(cfg.Tcpdump)
	tshark, haveTshark := resolve(cfg.Tshark)

	type job struct{ path, role string }
	var jobs []job
	for _, f := range cfg.Files {
		jobs = append(jobs, job{f, ""})
	}
	if cfg.Clean != "" {
		jobs = append(jobs, job{cfg.Clean, "clean"})
	}
	if cfg.Lossy != "" {
		jobs = append(jobs, job{cfg.Lossy, "lossy"})
	}
	header(stdout, rep)
	for _, j := range jobs {
		fr := &FileResult{Path: j.path, Role: j.role}
		cs, err := countCapture(j.path)
		if err != nil {
			return nil, err
		}
		fr.Format, fr.SizeBytes, fr.Packets, fr.Bytes = cs.format, cs.size, cs.packets, cs.bytes
		role := j.role
		if role == "" {
			role = "capture"
		}
		fmt.Fprintf(stdout, "\n%s %s: %s, %s, %d packets, %.1f MB of packet data (avg %.0f B)\n",
			role, j.path, fr.Format, human(fr.SizeBytes), fr.Packets, float64(fr.Bytes)/1e6,
			float64(fr.Bytes)/float64(max(fr.Packets, 1)))

		tshArgs := []string{"-r", j.path, "-q", "-z", "io,stat,0"}
		for _, p := range cfg.DICOMPorts {
			tshArgs = append(tshArgs, "-d", fmt.Sprintf("tcp.port==%d,dicom", p))
		}
		tools := []struct {
			name    string
			workers int
			bin     string
			have    bool
			args    []string
			runs    int
		}{
			{"medtap", cfg.Workers, medtap, haveMedtap, []string{"analyze", "-o", "{TMP}", "--workers", strconv.Itoa(cfg.Workers), j.path}, cfg.Runs},
			{"medtap-1w", 1, medtap, haveMedtap, []string{"analyze", "-o", "{TMP}", "--workers", "1", j.path}, cfg.Runs},
			{"medtap-nohl7", cfg.Workers, medtap, haveMedtap && j.role != "lossy", []string{"analyze", "-o", "{TMP}", "--disable-parsers", "hl7", "--workers", strconv.Itoa(cfg.Workers), j.path}, cfg.Runs},
			{"tcpdump", 0, tcpdump, haveTcpdump, []string{"-r", j.path, "-w", "/dev/null"}, cfg.Runs},
			{"tshark", 0, tshark, haveTshark, tshArgs, cfg.TsharkRuns},
		}
		rounds := 0
		runs := make([]int, len(tools))
		for i, t := range tools {
			tr := &ToolResult{Name: t.name, Workers: t.workers, Status: "n/a"}
			fr.Tools = append(fr.Tools, tr)
			if !t.have {
				if t.name == "medtap-nohl7" && j.role == "lossy" {
					tr.Error = "run on the clean capture only"
				} else if strings.HasPrefix(t.name, "medtap") {
					tr.Error = "skipped (-medtap none)"
				} else {
					tr.Error = "not installed (or skipped)"
				}
				continue
			}
			tr.Command = append([]string{t.bin}, t.args...)
			runs[i] = t.runs
			rounds = max(rounds, t.runs)
		}
		for r := range rounds {
			for i, tr := range fr.Tools {
				// A command that failed once is not run again.
				if r < runs[i] && tr.Status != "error" {
					measure(ctx, cfg, tr, r+1, runs[i], stderr)
				}
			}
		}
		for _, tr := range fr.Tools {
			if tr.Status == "ok" {
				tr.MedianSec = median(slices.Clone(tr.WallSec))
				tr.Pps = float64(fr.Packets) / tr.BestSec
				tr.Gbps = float64(fr.Bytes) * 8 / tr.BestSec / 1e9
				tr.NsPerPkt = tr.BestSec * 1e9 / float64(max(fr.Packets, 1))
			}
		}
		rep.Files = append(rep.Files, fr)
		table(stdout, fr)
	}
	rep.Targets = evaluate(rep)
	targets(stdout, rep.Targets)
	return rep, nil
}

// measure runs tr.Command once, as run i of n.
func measure(ctx context.Context, cfg *config, tr *ToolResult, i, n int, stderr io.Writer) {
	argv := append([]string(nil), tr.Command...)
	var tmp string
	for k, a := range argv {
		if a == "{TMP}" {
			d, err := os.MkdirTemp("", "medtap-bench-*")
			if err != nil {
				tr.Status, tr.Error = "error", err.Error()
				return
			}
			tmp = d
			argv[k] = d
		}
	}
	res := runChild(ctx, argv, cfg.Timeout)
	if tmp != "" {
		os.RemoveAll(tmp)
	}
	tr.Runs++
	tr.StderrEnd = res.stderrTail
	if cfg.Verbose {
		fmt.Fprintf(stderr, "medtap-bench: run %d/%d %s: %.3f s, peak RSS %.1f MiB%s\n", i, n, strings.Join(argv, " "),
			res.wall.Seconds(), res.rssMiB, errSuffix(res.err))
		if strings.HasPrefix(tr.Name, "medtap") && res.stderrTail != "" {
			fmt.Fprintf(stderr, "%s\n", indent(res.stderrTail))
		}
	}
	if res.err != nil {
		tr.Status = "error"
		tr.Error = res.err.Error()
		if t := strings.TrimSpace(res.stderrTail); t != "" {
			tr.Error += ": " + lastLines(t, 3)
		}
		return
	}
	tr.Status = "ok"
	s := res.wall.Seconds()
	tr.WallSec = append(tr.WallSec, s)
	if tr.BestSec == 0 || s < tr.BestSec {
		tr.BestSec, tr.UserSec, tr.SysSec = s, res.user.Seconds(), res.sys.Seconds()
	}
	tr.PeakRSS = max(tr.PeakRSS, res.rssMiB)
}

// pairedRatio is the median over the rounds both ran of a's wall time
// divided by b's, and how many rounds that is.
func pairedRatio(a, b *ToolResult) (float64, int) {
	n := min(len(a.WallSec), len(b.WallSec))
	if n == 0 {
		return 0, 0
	}
	rs := make([]float64, n)
	for i := range n {
		rs[i] = a.WallSec[i] / b.WallSec[i]
	}
	return median(rs), n
}

// median of xs (which it sorts).
func median(xs []float64) float64 {
	slices.Sort(xs)
	if n := len(xs); n%2 == 1 {
		return xs[n/2]
	} else {
		return (xs[n/2-1] + xs[n/2]) / 2
	}
}

// paired describes pairedRatio(a, b) for a target's measured column: ""
// when there is only one round to compare.
func paired(a, b *ToolResult, format string) string {
	r, n := pairedRatio(a, b)
	if n < 2 {
		return ""
	}
	return fmt.Sprintf("; median of %d rounds "+format, n, r)
}

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
}

type childResult struct {
	wall, user, sys time.Duration
	rssMiB          float64
	stderrTail      string
	err             error
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

// runChild runs argv with stdout discarded, timing it and collecting its
// rusage.
func runChild(ctx context.Context, argv []string, timeout time.Duration) childResult {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin = nil
	cmd.Stdout = nil // /dev/null
	tail := &tailBuffer{max: 16 << 10}
	cmd.Stderr = tail
	t0 := time.Now()
	err := cmd.Run()
	wall := time.Since(t0)
	res := childResult{wall: wall, stderrTail: string(tail.b), err: err}
	if ctx.Err() == context.DeadlineExceeded {
		res.err = fmt.Errorf("timed out after %s", timeout)
	}
	if ps := cmd.ProcessState; ps != nil {
		res.user, res.sys = ps.UserTime(), ps.SystemTime()
		res.rssMiB = maxRSSMiB(ps)
	}
	return res
}

func evaluate(rep *Report) []Target {
	var ts []Target
	get := func(fr *FileResult, name string) *ToolResult {
		for _, t := range fr.Tools {
			if t.Name == name {
				return t
			}
		}
		return nil
	}
	ok := func(t *ToolResult) bool { return t != nil && t.Status == "ok" }
	status := func(pass bool) string {
		if pass {
			return "PASS"
		}
		return "MISS"
	}
	var clean *FileResult
	for _, fr := range rep.Files {
		if fr.Role == "clean" {
			clean = fr
		}
	}
	for _, fr := range rep.Files {
		m, m1 := get(fr, "medtap"), get(fr, "medtap-1w")
		// A target that could not be measured is n/a, or ERROR if medtap failed.
		na := "n/a"
		if (m != nil && m.Status == "error") || (m1 != nil && m1.Status == "error") {
			na = "ERROR"
		}
		if fr.Role == "lossy" {
			t := Target{File: fr.Path, Name: "lossy throughput vs clean", Goal: fmt.Sprintf(">= %.0f%%", 100*targetLossyRatio), Status: na, Measured: "n/a"}
			if c := get(clean, "medtap"); ok(m) && ok(c) {
				r := m.Gbps / c.Gbps
				t.Value, t.Measured, t.Status = r, fmt.Sprintf("%.0f%% (%.2f vs %.2f Gbit/s)", 100*r, m.Gbps, c.Gbps), status(r >= targetLossyRatio)
			}
			ts = append(ts, t)
			continue
		}
		speedup := func(name string, goal float64) {
			t := Target{File: fr.Path, Name: "analyze vs " + name + " speed-up", Goal: fmt.Sprintf(">= %gx", goal), Status: na, Measured: "n/a"}
			if b := get(fr, name); ok(m) && ok(b) {
				r := b.BestSec / m.BestSec
				t.Value, t.Measured, t.Status = r, fmt.Sprintf("%.1fx", r)+paired(b, m, "%.2fx"), status(r >= goal)
			}
			ts = append(ts, t)
		}
		speedup("tshark", targetVsTshark)
		speedup("tcpdump", targetVsTcpdump)
		t := Target{File: fr.Path, Name: "ns/packet, 1 worker", Goal: fmt.Sprintf("<= %.0f", targetNsPerPkt1W), Status: na, Measured: "n/a"}
		if ok(m1) {
			t.Value, t.Measured, t.Status = m1.NsPerPkt, fmt.Sprintf("%.0f", m1.NsPerPkt), status(m1.NsPerPkt <= targetNsPerPkt1W)
			if len(m1.WallSec) >= 2 {
				t.Measured += fmt.Sprintf("; median of %d runs %.0f", len(m1.WallSec), m1.MedianSec*1e9/float64(max(fr.Packets, 1)))
			}
		}
		ts = append(ts, t)
		t = Target{File: fr.Path, Name: "HL7 share (vs --disable-parsers hl7)", Goal: fmt.Sprintf("<= %.0f%%", 100*targetHL7Share), Status: na, Measured: "n/a"}
		if nh := get(fr, "medtap-nohl7"); ok(m) && ok(nh) {
			r := m.BestSec/nh.BestSec - 1
			pr := ""
			if p, n := pairedRatio(m, nh); n >= 2 {
				pr = fmt.Sprintf("; median of %d rounds %+.0f%%", n, 100*(p-1))
			}
			t.Value, t.Measured, t.Status = r, fmt.Sprintf("%+.0f%% (%.3f vs %.3f s%s)", 100*r, m.BestSec, nh.BestSec, pr), status(r <= targetHL7Share)
		}
		ts = append(ts, t)
		t = Target{File: fr.Path, Name: "peak RSS", Goal: fmt.Sprintf("<= %.0f MiB", targetRSSMiB), Status: na, Measured: "n/a"}
		if ok(m) {
			rss := m.PeakRSS
			if ok(m1) {
				rss = max(rss, m1.PeakRSS)
			}
			t.Value, t.Measured, t.Status = rss, fmt.Sprintf("%.1f MiB", rss), status(rss <= targetRSSMiB)
		}
		ts = append(ts, t)
	}
	return ts
}

func exitCode(rep *Report, failOnMiss bool) int {
	for _, fr := range rep.Files {
		for _, t := range fr.Tools {
			if t.Status == "error" {
				return 1
			}
		}
	}
	if failOnMiss {
		for _, t := range rep.Targets {
			if t.Status == "MISS" {
				return 1
			}
		}
	}
	return 0
}

func header(w io.Writer, rep *Report) {
	label := ""
	if rep.Label != "" {
		label = " " + strconv.Quote(rep.Label)
	}
	fmt.Fprintf(w, "medtap-bench%s: %s, %d CPUs, %s/%s, %s; medtap --workers %d; %d rounds (tshark in %d), best counts\n",
		label, rep.Started.Format(time.RFC3339), rep.Host.CPUs, rep.Host.OS, rep.Host.Arch, rep.Host.Kernel,
		rep.Workers, rep.Runs, rep.TsharkRuns)
}

func table(w io.Writer, fr *FileResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "tool\tworkers\tbest s\tmedian s\tcpu s\tGbit/s\tMpkt/s\tns/pkt\tpeak RSS MiB\tmedtap speed-up\t")
	var m *ToolResult
	for _, t := range fr.Tools {
		if t.Name == "medtap" && t.Status == "ok" {
			m = t
		}
	}
	for _, t := range fr.Tools {
		name := t.Name
		switch name {
		case "medtap", "medtap-1w":
			name = "medtap analyze"
		case "medtap-nohl7":
			name = "medtap analyze, no hl7"
		}
		workers := "-"
		if t.Workers > 0 {
			workers = strconv.Itoa(t.Workers)
		}
		if t.Status != "ok" {
			fmt.Fprintf(tw, "%s\t%s\t%s\t\t\t\t\t\t\t\t %s\n", name, workers, t.Status, t.Error)
			continue
		}
		rel := "n/a" // how much faster medtap with all workers is than this row
		if m != nil {
			rel = fmt.Sprintf("%.1fx", t.BestSec/m.BestSec)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.3f\t%.3f\t%.2f\t%.2f\t%.3f\t%.0f\t%.1f\t%s\t\n", name, workers, t.BestSec, t.MedianSec, t.UserSec+t.SysSec,
			t.Gbps, t.Pps/1e6, t.NsPerPkt, t.PeakRSS, rel)
	}
	tw.Flush()
}

func targets(w io.Writer, ts []Target) {
	if len(ts) == 0 {
		return
	}
	fmt.Fprintln(w, "\ntargets")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "file\ttarget\tgoal\tmeasured\tstatus")
	for _, t := range ts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.File, t.Name, t.Goal, t.Measured, t.Status)
	}
	tw.Flush()
}

func writeJSON(path string, rep *Report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func hostInfo() Host {
	h := Host{CPUs: runtime.NumCPU(), OS: runtime.GOOS, Arch: runtime.GOARCH, Go: runtime.Version()}
	h.Name, _ = os.Hostname()
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		h.Kernel = "kernel " + strings.TrimSpace(string(b))
	}
	return h
}

func human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d B", n)
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

func lastLines(s string, n int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, " | ")
}
