package main

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/medtap/medtap/detect/report"
)

const pcapDir = "../../../pcaps"

func TestCheckExitCodesAndJUnit(t *testing.T) {
	dir := t.TempDir()
	junit := filepath.Join(dir, "junit.xml")
	phi := filepath.Join(pcapDir, "hl7-mllp.pcap")    // MT-PHI-002, high
	clean := filepath.Join(pcapDir, "vlan-qinq.pcap") // no medical traffic
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"check", "--workers", "1", phi}, exitFailure, "FAIL: "},
		{[]string{"check", "--workers", "1", "--fail-on", "critical", phi}, exitOK, "PASS: "},
		{[]string{"check", "--workers", "1", clean}, exitOK, "PASS: 0 alerts"},
		{[]string{"check", "--workers", "1", "--junit", junit, phi}, exitFailure, "MT-PHI-002"},
	}
	for _, c := range cases {
		code, stdout, stderr := medtap(c.args...)
		if code != c.code || !strings.Contains(stdout, c.want) {
			t.Errorf("%v: exit %d (want %d), stdout lacks %q?\n%s%s", c.args, code, c.code, c.want, stdout, stderr)
		}
		if strings.Contains(stdout, `"event_type"`) {
			t.Errorf("%v: events on stdout", c.args)
		}
	}
	b, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Suites []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil || len(doc.Suites) != 1 || doc.Suites[0].Failures < 1 {
		t.Errorf("junit: %v %+v", err, doc)
	}
	if _, err := exec.LookPath("xmllint"); err == nil {
		if out, err := exec.Command("xmllint", "--noout", "--schema", "../../../detect/report/testdata/junit.xsd", junit).CombinedOutput(); err != nil {
			t.Errorf("junit does not validate: %v\n%s", err, out)
		}
	}
	// Usage errors.
	for _, args := range [][]string{
		{"check", "--fail-on", "severe", phi},
		{"check"},
		{"check", "--junit", filepath.Join(dir, "missing", "j.xml"), phi},
	} {
		if code, _, _ := medtap(args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}

// The flow behind an alert is carved from a capture with four DICOM
// associations: the same packets whether the alert is found in
// alerts.jsonl or by analyzing again, and exactly the frames tshark
// selects for that connection.
func TestCarveAlert(t *testing.T) {
	corpus := filepath.Join(pcapDir, "dicom-corpus.pcap")
	dir := t.TempDir()
	if code, _, stderr := medtap("analyze", "-q", "--workers", "1", "-o", dir, corpus); code != exitOK {
		t.Fatalf("analyze: %s", stderr)
	}
	f, err := os.Open(filepath.Join(dir, "alerts.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	alerts, err := report.ReadAlerts(f)
	f.Close()
	if err != nil || len(alerts) == 0 {
		t.Fatalf("alerts: %v (%d)", err, len(alerts))
	}
	// An alert on the last association, so that carving must pick one flow
	// of four.
	a := alerts[len(alerts)-1]
	for _, x := range alerts {
		if x.SrcPort != 0 && x.SrcPort != alerts[0].SrcPort {
			a = x
		}
	}
	if a.ID == "" || a.SrcPort == 0 {
		t.Fatalf("alert without id or flow: %+v", a)
	}
	viaFile := filepath.Join(dir, "a.pcap")
	viaRun := filepath.Join(dir, "b.pcap")
	if code, stdout, stderr := medtap("carve", "--alert", a.ID, "--alerts", filepath.Join(dir, "alerts.jsonl"), "-o", viaFile, corpus); code != exitOK {
		t.Fatalf("carve --alerts: exit %d: %s%s", code, stdout, stderr)
	}
	if code, stdout, stderr := medtap("carve", "--workers", "1", "--alert", a.ID, "-o", viaRun, corpus); code != exitOK {
		t.Fatalf("carve: exit %d: %s%s", code, stdout, stderr)
	}
	b1, _ := os.ReadFile(viaFile)
	b2, _ := os.ReadFile(viaRun)
	if len(b1) <= 24 || !bytes.Equal(b1, b2) {
		t.Fatalf("carved files differ or are empty (%d, %d bytes)", len(b1), len(b2))
	}
	if code, _, stderr := medtap("carve", "--alert", "0000000000000000", "--alerts", filepath.Join(dir, "alerts.jsonl"), "-o", filepath.Join(dir, "c.pcap"), corpus); code != exitFailure || !strings.Contains(stderr, "no alert") {
		t.Errorf("unknown id: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "c.pcap")); err == nil {
		t.Error("a failed carve left a file")
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed (Debian package tshark): skipping the independent count")
	}
	count := func(file, filter string) int {
		args := []string{"-r", file, "-T", "fields", "-e", "frame.number"}
		if filter != "" {
			args = append(args, "-Y", filter)
		}
		out, err := exec.Command("tshark", args...).Output()
		if err != nil {
			t.Fatalf("tshark: %v", err)
		}
		return len(strings.Fields(string(out)))
	}
	filter := "tcp.port==" + strconv.Itoa(int(a.SrcPort)) + " && tcp.port==" + strconv.Itoa(int(a.DestPort))
	want, got := count(corpus, filter), count(viaFile, "")
	if want == 0 || got != want {
		t.Errorf("carved %d packets, tshark selects %d with %q", got, want, filter)
	}
}

// analyze --db, then report from the database in both languages.
func TestReportFromDB(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "inv.db")
	for _, p := range []string{"dicom-store.pcap", "hl7-mllp.pcap"} {
		if code, _, stderr := medtap("analyze", "-q", "--workers", "1", "--db", db, "-o", filepath.Join(dir, "out-"+p), filepath.Join(pcapDir, p)); code != exitOK {
			t.Fatalf("analyze %s: %s", p, stderr)
		}
	}
	for _, lang := range []string{"en", "zh"} {
		out := filepath.Join(dir, "report-"+lang)
		code, stdout, stderr := medtap("report", "--db", db, "--format", "html", "--lang", lang, "-o", out)
		if code != exitOK {
			t.Fatalf("report %s: exit %d: %s", lang, code, stderr)
		}
		if !strings.Contains(stdout, "report: ") {
			t.Errorf("stdout: %s", stdout)
		}
		html, err := os.ReadFile(filepath.Join(out, "report.html"))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"127.0.0.1", "MT-PHI-001", "dicom-store.pcap"} {
			if !bytes.Contains(html, []byte(s)) {
				t.Errorf("%s report lacks %q", lang, s)
			}
		}
		if lang == "zh" && !bytes.Contains(html, []byte("电子接口情况")) {
			t.Error("zh report lacks 电子接口情况")
		}
	}
	// From assets.json and alerts.jsonl, without a database.
	o := filepath.Join(dir, "out-dicom-store.pcap")
	if code, _, stderr := medtap("report", "--assets", filepath.Join(o, "assets.json"), "--alerts", filepath.Join(o, "alerts.jsonl"),
		"--format", "md", "-o", filepath.Join(dir, "r-md")); code != exitOK {
		t.Fatalf("report --assets: %s", stderr)
	}
	for _, args := range [][]string{
		{"report", "--db", db, "--format", "pdf", "-o", dir},
		{"report", "--db", db, "--lang", "fr", "-o", dir},
		{"report", "--db", db},
	} {
		if code, _, _ := medtap(args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
	if code, _, stderr := medtap("report", "--db", filepath.Join(dir, "none.db"), "-o", dir); code != exitFailure || strings.Count(stderr, "\n") != 1 {
		t.Errorf("missing db: exit %d: %q", code, stderr)
	}
}
