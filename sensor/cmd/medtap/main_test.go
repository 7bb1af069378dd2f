package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sample = "../../../pcaps/dicom-store.pcap"

func medtap(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{nil, "Usage:"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"analyze"}, "no capture files given"},
		{[]string{"analyze", "--workers", "0", sample}, "--workers 0 out of range"},
		{[]string{"analyze", "--bogus", sample}, "flag provided but not defined: -bogus"},
		{[]string{"analyze", "--progress", "sometimes", sample}, "use auto, always or never"},
	}
	for _, c := range cases {
		code, _, stderr := medtap(c.args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d", c.args, code, exitUsage)
		}
		if !strings.Contains(stderr, c.want) {
			t.Errorf("%v: stderr lacks %q:\n%s", c.args, c.want, stderr)
		}
	}
}

func TestAnalyzeWritesEventsAndSummary(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := medtap("analyze", "-o", out, "--progress", "never", sample)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, w := range []string{"medtap: 1 file,", "packets", "throughput:", "flows: 1", "anomalies:", "events:"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("summary lacks %q:\n%s", w, stdout)
		}
	}
	data, err := os.ReadFile(filepath.Join(out, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("bad line %q: %v", l, err)
		}
		for _, k := range []string{"ts", "event_type", "src_ip", "dest_port", "community_id"} {
			if _, ok := m[k]; !ok {
				t.Errorf("line lacks %s: %s", k, l)
			}
		}
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(out)
	if len(entries) != 1 {
		t.Errorf("output dir holds %d entries, want only events.jsonl", len(entries))
	}
}

func TestAnalyzeToStdout(t *testing.T) {
	code, stdout, stderr := medtap("analyze", "-q", sample)
	if code != exitOK || !strings.HasPrefix(stdout, `{"ts":"`) || stderr != "" {
		t.Fatalf("exit %d stdout %.80q stderr %q", code, stdout, stderr)
	}
}

func TestBadFileIsReportedAndOthersAnalyzed(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pcap")
	os.WriteFile(bad, []byte("not a capture at all"), 0o644)
	missing := filepath.Join(dir, "missing.pcap")
	out := t.TempDir()
	code, stdout, stderr := medtap("analyze", "-o", out, bad, missing, sample)
	if code != exitFailure {
		t.Errorf("exit %d, want %d", code, exitFailure)
	}
	errLines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(errLines) != 2 {
		t.Errorf("want one line per bad input, got:\n%s", stderr)
	}
	if !strings.Contains(stderr, bad+": offset 0: not a pcap") || !strings.Contains(stderr, missing) {
		t.Errorf("stderr does not name the files and problems:\n%s", stderr)
	}
	if !strings.Contains(stdout, "3 files (1 failed)") && !strings.Contains(stdout, "2 files (1 failed)") {
		t.Errorf("summary does not count the failure:\n%s", stdout)
	}
	if _, err := os.Stat(filepath.Join(out, "events.jsonl")); err != nil {
		t.Errorf("the good file's events were not written: %v", err)
	}
}

func TestUnwritableOutput(t *testing.T) {
	// Root writes anywhere, so the unwritable place is a path under a
	// regular file.
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	code, _, stderr := medtap("analyze", "-o", filepath.Join(f, "sub"), sample)
	if code != exitFailure || !strings.Contains(stderr, "cannot create output directory") {
		t.Errorf("exit %d stderr %q", code, stderr)
	}
	if strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("want one line, got %q", stderr)
	}
}
