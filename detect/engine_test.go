package detect

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/medtap/medtap/detect/policy"
	"github.com/medtap/medtap/parsers"
	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/flow"
	"github.com/medtap/medtap/sensor/pipeline"
)

func TestKeyFileCreatedPrivateAndReused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "k", "pseudonym.key")
	if err := os.Mkdir(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	k1, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %#o, want 0600", fi.Mode().Perm())
	}
	if len(k1) != keyBytes {
		t.Errorf("key is %d bytes", len(k1))
	}
	k2, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k1, k2) {
		t.Error("second load made a new key")
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
	// Another file gives another key.
	k3, err := LoadOrCreateKey(filepath.Join(dir, "other.key"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(k1, k3) {
		t.Error("two key files hold the same key")
	}
	// A key open to others is refused.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable key accepted: %v", err)
	}
	// A corrupt key is refused, not replaced.
	bad := filepath.Join(dir, "bad.key")
	if err := os.WriteFile(bad, []byte("not hex\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(bad); err == nil {
		t.Error("corrupt key accepted")
	}
}

func TestEngineUsesKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "medtap.key")
	e1, err := New(nil, Options{KeyFile: path})
	if err != nil {
		t.Fatal(err)
	}
	e1.Close()
	e2, err := New(nil, Options{KeyFile: path})
	if err != nil {
		t.Fatal(err)
	}
	e2.Close()
	if e1.ps.pseudonym("TEST0001") != e2.ps.pseudonym("TEST0001") {
		t.Error("pseudonym changed across runs with the same key file")
	}
	e3, _ := New(nil, Options{Key: testKey})
	e3.Close()
	if e1.ps.pseudonym("TEST0001") == e3.ps.pseudonym("TEST0001") {
		t.Error("pseudonyms do not depend on the key")
	}
}

func TestPseudonymNormalisation(t *testing.T) {
	p := pseudonymizer{key: testKey}
	a := p.pseudonym("TEST0002")
	if len(a) != pseudonymHex || !regexp.MustCompile(`^[0-9a-f]+$`).MatchString(a) {
		t.Fatalf("pseudonym %q", a)
	}
	// HL7 CX (PID-3) and DICOM PatientID of one patient agree.
	ids := identifiers("TEST0002^^^MEDTAP_HOSP^MR~OTHER7^^^X", nil)
	if !slices.Equal(ids, []string{"TEST0002", "OTHER7"}) {
		t.Errorf("identifiers: %v", ids)
	}
	if got := identifiers("*", nil); len(got) != 0 {
		t.Errorf("wildcard taken as identifier: %v", got)
	}
}

func TestMask(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ZHAO^WEI", "Z***^W**"},
		{"张^三", "*^*"},
		{"欧阳^小明", "欧*^小*"},
		{"TEST^PATIENT^^^^^L", "T***^P******^^^^^*"},
		{"19700101", "1*******"},
		{"1 Test Road^^Testcity", "* T*** R***^^T*******"},
		{"", ""},
	} {
		if got := mask(tc.in); got != tc.want {
			t.Errorf("mask(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// The 22 NMPA 2022 capability codes and the threat types.
var (
	capabilityCodes = []string{"ALOF", "AUDT", "AUTH", "NAUT", "PAUT", "CONN", "PLOK", "SAHD", "DIDT", "IGAU", "DTBK",
		"STCF", "TXCF", "TXIG", "CSUP", "SBOM", "RDMP", "SGUD", "CNFS", "EMRG", "RMOT", "MLDP"}
	threats       = []string{"read", "manipulate", "spoof", "flood", "redirect", "ransom"}
	dataCats      = []string{"sensitive_medical", "non_sensitive_medical", "device", "unknown"}
	ruleIDPattern = regexp.MustCompile(`^MT-[A-Z]+-\d{3}$`)
)

// TestRuleTable checks the registry: ids unique and well-formed, the
// vocabulary closed, both remediation languages present, every rule
// documented in RULES.md and exercised by at least one declarative case.
func TestRuleTable(t *testing.T) {
	doc, err := os.ReadFile("RULES.md")
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, dir := range caseDirs(t) {
		var exp expectSpec
		loadYAML(t, filepath.Join(dir, "expected.yaml"), &exp)
		for id, n := range exp.Rules {
			if n > 0 {
				covered[id] = true
			}
		}
		for _, m := range exp.Match {
			if id, ok := m["alert.rule_id"].(string); ok {
				covered[id] = true
			}
		}
	}
	seen := map[string]bool{}
	for _, r := range Rules() {
		if !ruleIDPattern.MatchString(r.ID) || seen[r.ID] {
			t.Errorf("rule id %q malformed or repeated", r.ID)
		}
		seen[r.ID] = true
		if policy.SeverityRank(r.Severity) < 0 || !slices.Contains(threats, r.Threat) || !slices.Contains(dataCats, r.DataCategory) {
			t.Errorf("%s: severity %q, threat %q or data category %q not in the closed sets", r.ID, r.Severity, r.Threat, r.DataCategory)
		}
		for _, c := range r.Capability {
			if !slices.Contains(capabilityCodes, c) {
				t.Errorf("%s: capability %q is not an NMPA code", r.ID, c)
			}
		}
		if r.Title == "" || r.Description == "" || r.RemediationEN == "" || r.RemediationZH == "" || r.Category == "" {
			t.Errorf("%s: title, description, category or remediation missing", r.ID)
		}
		if !bytes.Contains(doc, []byte("## "+r.ID)) {
			t.Errorf("%s: not documented in RULES.md", r.ID)
		}
		if !covered[r.ID] {
			t.Errorf("%s: no declarative case expects it", r.ID)
		}
	}
	for id := range covered {
		if ruleByID(id) == nil {
			t.Errorf("case expects unknown rule %s", id)
		}
	}
}

func TestLoadPolicyRejectsUnknownRule(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.yaml")
	os.WriteFile(path, []byte("learning_period: 1h\nrules:\n  MT-PHI-001: {severity: low}\n  MT-NOPE-001: {enabled: false}\n"), 0o600)
	_, err := LoadPolicy(path)
	if err == nil || err.Error() != path+`:4: unknown rule id "MT-NOPE-001" (see `+"`medtap rules`)" {
		t.Errorf("got %v", err)
	}
}

// TestSeverityOverrideAndSwitch: a policy can lower a rule's severity and
// switch another off.
func TestSeverityOverrideAndSwitch(t *testing.T) {
	pol, err := policy.Parse("p.yaml", []byte("rules:\n  MT-PHI-001: {severity: low}\n  MT-PHI-004: {enabled: false}\n"))
	if err != nil {
		t.Fatal(err)
	}
	alerts := runPcap(t, pol, "../pcaps/dicom-store.pcap", 1)
	if len(alerts) != 1 {
		t.Fatalf("got %d alerts", len(alerts))
	}
	a := alerts[0].Body.(*Alert)
	if a.RuleID != RulePHIDICOM || a.Severity != "low" {
		t.Errorf("got %s %s", a.RuleID, a.Severity)
	}
}

func runPcap(t testing.TB, pol *policy.Policy, pcap string, workers int) []*event.Event {
	alerts := &collect{}
	eng, err := New(pol, Options{AlertSink: alerts, Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	p := pipeline.New(pipeline.Config{Workers: workers, Flow: flow.Config{Parsers: parsers.All}})
	st := p.Run(context.Background(), []string{pcap}, eng, func(err error) { t.Error(err) })
	if st.SinkErr != nil {
		t.Fatal(st.SinkErr)
	}
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	return alerts.evs
}

// TestDeterministic: the same input gives the same alerts, whatever the
// worker count.
func TestDeterministic(t *testing.T) {
	var outs []string
	for _, w := range []int{1, 2, 1} {
		var b bytes.Buffer
		for _, pc := range []string{"../pcaps/dicom-store.pcap", "../pcaps/hl7-mllp.pcap", "../pcaps/https-curl.pcap",
			"testdata/captures/telnet-login.pcap", "testdata/captures/syslog-phi.pcap", "testdata/captures/snmp-v2c.pcap"} {
			for _, ev := range runPcap(t, nil, pc, w) {
				j, err := ev.AppendJSON(nil)
				if err != nil {
					t.Fatal(err)
				}
				b.Write(append(j, '\n'))
			}
		}
		outs = append(outs, b.String())
	}
	if outs[0] != outs[1] || outs[0] != outs[2] {
		t.Errorf("alerts differ between runs:\n%s\n---\n%s", outs[0], outs[1])
	}
	if !strings.Contains(outs[0], `"event_type":"alert"`) || !strings.Contains(outs[0], `"community_id":"1:`) {
		t.Errorf("alert events lack the envelope:\n%s", outs[0])
	}
}
