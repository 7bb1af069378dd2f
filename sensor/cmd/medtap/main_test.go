package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medtap/medtap/detect/leaktest"
)

const sample = "../../../pcaps/dicom-store.pcap"

// TestMain keeps the pseudonym key that analyze creates on first use out of
// the real user configuration directory.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "medtap-config")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CONFIG_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

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
		{[]string{"analyze", "--memory-limit", "lots", sample}, `--memory-limit: "lots" is neither off nor a size like 44MiB or 1GiB`},
		{[]string{"analyze", "--memory-limit", "8MiB", sample}, `--memory-limit: "8MiB" is below the least limit, 16MiB; use a larger size or off`},
		{[]string{"carve", "--alert", "x", "-o", "x.pcap", "-"}, "cannot read standard input (-)"},
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
	if len(entries) != 3 {
		t.Errorf("output dir holds %d entries, want events.jsonl, alerts.jsonl and assets.json", len(entries))
	}
}

// TestAnalyzeStdin: "-" reads a capture piped in (here the gzip-compressed
// sample), with the same events as the file.
func TestAnalyzeStdin(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := medtap("analyze", "-q", "-o", filepath.Join(dir, "file"), sample)
	if code != exitOK {
		t.Fatalf("file: exit %d: %s", code, stderr)
	}
	gz, err := os.ReadFile(sample + ".gz")
	if err != nil {
		t.Fatal(err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		pw.Write(gz)
		pw.Close()
	}()
	old := os.Stdin
	os.Stdin = pr
	defer func() { os.Stdin = old; pr.Close() }()
	code, _, stderr = medtap("analyze", "-q", "-o", filepath.Join(dir, "stdin"), "-")
	if code != exitOK {
		t.Fatalf("stdin: exit %d: %s", code, stderr)
	}
	a, _ := os.ReadFile(filepath.Join(dir, "file", "events.jsonl"))
	b, _ := os.ReadFile(filepath.Join(dir, "stdin", "events.jsonl"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("events from stdin (%d bytes) differ from the file's (%d bytes)", len(b), len(a))
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

func TestAnalyzeWritesAlertsWithoutPatientValues(t *testing.T) {
	out := t.TempDir()
	key := filepath.Join(t.TempDir(), "k")
	code, stdout, stderr := medtap("analyze", "-o", out, "--key-file", key, sample)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	alerts, err := os.ReadFile(filepath.Join(out, "alerts.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(alerts), `"rule_id":"MT-PHI-001"`) || !strings.Contains(stdout, "alerts: ") {
		t.Errorf("no cleartext-PHI alert for DICOM in clear:\n%s\n%s", alerts, stdout)
	}
	st, err := os.Stat(key)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, mode %v", err, st.Mode())
	}
	// The synthetic patient in the capture (pcaps/make/dicom/*.dump).
	events, _ := os.ReadFile(filepath.Join(out, "events.jsonl"))
	for _, v := range []string{"TEST^PATIENT", "TEST0001", "PATIENT^TEST"} {
		for name, data := range map[string]string{"events": string(events), "alerts": string(alerts), "stdout": stdout, "stderr": stderr} {
			if strings.Contains(data, v) {
				t.Errorf("%s contains the patient value %q", name, v)
			}
		}
	}
}

func TestRulesAndPolicyCommands(t *testing.T) {
	code, stdout, _ := medtap("rules")
	if code != exitOK || !strings.Contains(stdout, "MT-PHI-001") || !strings.Contains(stdout, "TXCF") {
		t.Errorf("rules: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = medtap("rules", "--json")
	var rules []map[string]any
	if code != exitOK || json.Unmarshal([]byte(stdout), &rules) != nil || len(rules) == 0 {
		t.Errorf("rules --json: exit %d\n%.200s", code, stdout)
	}
	code, def, _ := medtap("policy", "default")
	if code != exitOK || !strings.Contains(def, "home_country") {
		t.Fatalf("policy default: exit %d", code)
	}
	good := filepath.Join(t.TempDir(), "good.yaml")
	os.WriteFile(good, []byte(def), 0o644)
	if code, stdout, stderr := medtap("policy", "check", good); code != exitOK || !strings.Contains(stdout, "valid") {
		t.Errorf("policy check of the default: exit %d %s %s", code, stdout, stderr)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("home_country: CN\nno_such_key: 1\n"), 0o644)
	code, _, stderr := medtap("policy", "check", bad)
	if code != exitFailure || !strings.Contains(stderr, bad+":2") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("bad policy: exit %d, want one line naming %s:2, got %q", code, bad, stderr)
	}
	// A bad policy stops analyze before any output is written.
	out := filepath.Join(t.TempDir(), "out")
	code, _, stderr = medtap("analyze", "-o", out, "--policy", bad, sample)
	if code != exitFailure || !strings.Contains(stderr, bad+":2") {
		t.Errorf("analyze with a bad policy: exit %d %q", code, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("output directory created despite the bad policy")
	}
	if code, _, stderr := medtap("analyze", "--evidence", "all", sample); code != exitUsage || !strings.Contains(stderr, "use default or masked") {
		t.Errorf("bad --evidence: exit %d %q", code, stderr)
	}
}

func TestFramingFlag(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "vendor.yaml")
	os.WriteFile(bad, []byte("name: vendorx\nports: [9000]\nframing:\n  length_prefixed: {offset: 0, size: 3}\n"), 0o644)
	out := filepath.Join(t.TempDir(), "out")
	code, _, stderr := medtap("analyze", "-o", out, "--framing", bad, sample)
	if code != exitFailure || !strings.HasPrefix(stderr, "medtap analyze: "+bad+":") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("bad definition: exit %d, want one line naming the file and line, got %q", code, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("output written despite the bad definition")
	}
	// The bundled vendor captures are found by the built-in definitions.
	code, stdout, stderr := medtap("analyze", "-q", "../../../pcaps/framing-vitals.pcap")
	if code != exitOK || !strings.Contains(stdout, `"app_proto":"vitalnet"`) {
		t.Errorf("vitalnet not found: exit %d %s", code, stderr)
	}
}

// TestNoPatientValueInAnyOutput analyzes every bundled capture into an
// inventory database, then lists the assets and writes reports, and fails
// if any synthetic patient value or credential of the captures appears in
// any file or message medtap produced, the database's raw bytes included.
func TestNoPatientValueInAnyOutput(t *testing.T) {
	markers, err := leaktest.Markers("../../..")
	if err != nil {
		t.Fatal(err)
	}
	caps, _ := filepath.Glob("../../../pcaps/*.pcap*")
	var inputs []string
	for _, c := range caps {
		if strings.HasSuffix(c, ".tsv") || strings.Contains(c, "truncated") || strings.Contains(c, "corrupt") || strings.HasSuffix(c, ".keys") {
			continue
		}
		inputs = append(inputs, c)
	}
	dir := t.TempDir()
	out, db, rep := filepath.Join(dir, "out"), filepath.Join(dir, "inv.db"), filepath.Join(dir, "report")
	key := filepath.Join(dir, "key")
	texts := map[string]string{}
	runs := [][]string{
		append([]string{"analyze", "-o", out, "--db", db, "--key-file", key, "--progress", "never"}, inputs...),
		{"assets", "--db", db},
		{"assets", "--db", db, "--format", "json"},
		{"assets", "--db", db, "--format", "csv"},
		{"report", "--db", db, "--format", "html", "--lang", "zh", "-o", rep},
		{"report", "--db", db, "--format", "md", "--lang", "en", "-o", rep + "-md"},
		{"report", "--db", db, "--format", "json", "-o", rep + "-json"},
	}
	for _, args := range runs {
		code, stdout, stderr := medtap(args...)
		if code != exitOK {
			t.Fatalf("medtap %s: exit %d: %s", args[0], code, stderr)
		}
		texts["medtap "+strings.Join(args[:min(len(args), 4)], " ")+" stdout"] = stdout
		texts["medtap "+args[0]+" stderr"] += stderr
	}
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || path == key {
			return err
		}
		b, err := os.ReadFile(path)
		texts[path] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d outputs, %d markers", len(texts), len(markers))
	if len(texts) < 15 {
		t.Fatalf("only %d outputs to check", len(texts))
	}
	for name, text := range texts {
		for _, m := range markers {
			if strings.Contains(text, m) {
				t.Errorf("%s contains the synthetic patient value or credential %q", name, m)
			}
		}
	}
}

func TestDisableParsers(t *testing.T) {
	const capture = "../../../pcaps/hl7-mllp.pcap"
	code, stdout, stderr := medtap("analyze", "-q", capture)
	if code != exitOK || !strings.Contains(stdout, `"event_type":"hl7"`) {
		t.Fatalf("hl7 on: exit %d, no hl7 event: %s", code, stderr)
	}
	code, stdout, stderr = medtap("analyze", "-q", "--disable-parsers", " tls, hl7", capture)
	if code != exitOK || strings.Contains(stdout, `"event_type":"hl7"`) || !strings.Contains(stdout, `"app_proto":"unknown"`) {
		t.Errorf("hl7 off: exit %d, want flow records only, app_proto unknown: %s %.300s", code, stderr, stdout)
	}
	out := filepath.Join(t.TempDir(), "out")
	code, _, stderr = medtap("analyze", "-o", out, "--disable-parsers", "hl8", capture)
	if code != exitFailure || !strings.HasPrefix(stderr, `medtap analyze: --disable-parsers: no parser named "hl8"; the parsers are: dicom, hl7,`) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("unknown parser: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("output written despite the bad flag")
	}
}
