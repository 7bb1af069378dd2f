package report

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medtap/medtap/detect"
	"github.com/medtap/medtap/detect/inventory"
)

func sampleCheck(failOn string) *Check {
	as, alerts, _ := synthHospital(12)
	_ = as
	// One alert carries its event line, as a run's alerts do.
	alerts[0].Event = []byte(`{"ts":"2026-11-23T08:13:00.000000000Z","event_type":"alert","src_ip":"10.20.11.11","src_port":40000,"dest_ip":"10.20.10.11","dest_port":104,"proto":"tcp","community_id":"1:x","alert":{"alert_id":"` + alerts[0].ID + `","rule_id":"MT-PHI-001","title":"Patient data in clear over DICOM","severity":"high","category":"phi_cleartext","capability":["TXCF"],"threat":"read","data_category":"sensitive_medical","assets":[{"ip":"10.20.11.11","role":"client","ae_title":"CT03"},{"ip":"10.20.10.11","role":"server"}],"evidence":{"tags":["(0010,0010)","(0010,0030)"],"phi_categories":["birth_date","name"],"patient_count":1,"masked":["PID-5=Z***"]},"remediation":{"zh":"","en":""},"count":1,"first_seen":"2026-11-23T08:13:00.000000000Z","last_seen":"2026-11-23T08:16:00.000000000Z"}}`)
	alerts = append(alerts, inventory.AlertRecord{ID: "00000000000000aa", RuleID: "MT-TLS-001", Title: "Obsolete TLS/SSL version",
		Severity: "medium", SrcIP: "10.20.12.11", DestIP: "10.20.10.11", DestPort: 2762, Proto: "tcp", Count: 1,
		FirstSeen: synthStart, LastSeen: synthStart})
	return &Check{Rules: detect.Rules(), Disabled: map[string]bool{"MT-SVC-002": true}, Alerts: alerts, FailOn: failOn,
		Started: synthStart, Elapsed: 1500 * time.Millisecond, Inputs: []string{"a.pcap"}, Version: "test"}
}

func xmllint(t *testing.T, file string) (string, error) {
	t.Helper()
	out, err := exec.Command("xmllint", "--noout", "--schema", "testdata/junit.xsd", file).CombinedOutput()
	return string(out), err
}

func TestJUnitValidates(t *testing.T) {
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Skip("xmllint not installed (Debian package libxml2-utils)")
	}
	dir := t.TempDir()
	for _, failOn := range []string{"info", "high", "critical"} {
		c := sampleCheck(failOn)
		var b bytes.Buffer
		if err := c.WriteJUnit(&b); err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, failOn+".xml")
		os.WriteFile(f, b.Bytes(), 0o644)
		if out, err := xmllint(t, f); err != nil {
			t.Fatalf("fail-on %s: JUnit does not validate: %v\n%s", failOn, err, out)
		}
		var doc junitSuites
		if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		s := doc.Suites[0]
		if s.Tests != len(detect.Rules()) || len(s.Cases) != s.Tests {
			t.Errorf("%d test cases, want one per rule (%d)", s.Tests, len(detect.Rules()))
		}
		if s.Skipped != 1 {
			t.Errorf("skipped %d, want 1 (MT-SVC-002 disabled)", s.Skipped)
		}
		failed := map[string]bool{}
		for _, tc := range s.Cases {
			if tc.Failure != nil {
				failed[strings.Fields(tc.Name)[0]] = true
			}
		}
		want := map[string]map[string]bool{
			"info":     {"MT-PHI-001": true, "MT-PHI-002": true, "MT-RMOT-001": true, "MT-TLS-001": true},
			"high":     {"MT-PHI-001": true, "MT-PHI-002": true, "MT-RMOT-001": true},
			"critical": {"MT-PHI-002": true},
		}[failOn]
		if len(failed) != len(want) || s.Failures != len(want) {
			t.Errorf("fail-on %s: failed %v (%d), want %v", failOn, failed, s.Failures, want)
		}
		for id := range want {
			if !failed[id] {
				t.Errorf("fail-on %s: %s passed", failOn, id)
			}
		}
		if c.Failed() != (len(want) > 0) {
			t.Errorf("Failed() = %v", c.Failed())
		}
		// Evidence names only: tags and categories, never masked excerpts.
		if !bytes.Contains(b.Bytes(), []byte("(0010,0010)")) || bytes.Contains(b.Bytes(), []byte("Z***")) {
			t.Errorf("failure text: want tags, no masked excerpt:\n%s", b.String())
		}
	}
	// The schema does reject what it should: a test case without a name.
	bad := filepath.Join(dir, "bad.xml")
	os.WriteFile(bad, []byte(`<?xml version="1.0"?><testsuites><testsuite name="x" tests="1" failures="0" errors="0"><testcase classname="c" time="0"/></testsuite></testsuites>`), 0o644)
	if out, err := xmllint(t, bad); err == nil {
		t.Errorf("a test case without a name validated:\n%s", out)
	}
}

func TestFindingsTable(t *testing.T) {
	var b bytes.Buffer
	c := sampleCheck("high")
	if err := c.WriteFindings(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, s := range []string{"RULE", "MT-PHI-002", "critical", "FAIL: "} {
		if !strings.Contains(out, s) {
			t.Errorf("findings table lacks %q:\n%s", s, out)
		}
	}
	// Most severe first.
	if strings.Index(out, "MT-PHI-002") > strings.Index(out, "MT-PHI-001") {
		t.Errorf("critical rule not first:\n%s", out)
	}
	c = sampleCheck("critical")
	c.Alerts = c.Alerts[len(c.Alerts)-1:]
	b.Reset()
	c.WriteFindings(&b)
	if !strings.Contains(b.String(), "PASS: 1 alerts, none at or above critical") {
		t.Errorf("pass line:\n%s", b.String())
	}
}

func TestReadAlerts(t *testing.T) {
	lines := `{"ts":"2026-11-23T10:00:01.000000000Z","event_type":"flow","src_ip":"10.0.0.1","flow":{"app_proto":"alert"}}
{"ts":"2026-11-23T10:00:01.000000000Z","event_type":"alert","src_ip":"10.0.0.1","src_port":40000,"dest_ip":"10.0.0.2","dest_port":104,"proto":"tcp","vlan":7,"community_id":"1:x","alert":{"alert_id":"00112233aabbccdd","rule_id":"MT-PHI-001","title":"t","severity":"high","capability":["TXCF"],"count":2,"first_seen":"2026-11-23T10:00:00.000000000Z","last_seen":"2026-11-23T10:00:01.000000000Z","evidence":{},"remediation":{"zh":"","en":""}}}
`
	recs, err := ReadAlerts(strings.NewReader(lines))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	r := recs[0]
	if r.ID != "00112233aabbccdd" || r.VLAN != 7 || r.DestPort != 104 || r.Count != 2 || r.FirstSeen.IsZero() || len(r.Event) == 0 {
		t.Errorf("record %+v", r)
	}
	if _, err := ReadAlerts(strings.NewReader("{\"event_type\":\"alert\",\n")); err == nil {
		t.Error("broken line accepted")
	}
}
