package detect

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateDoc = flag.Bool("update", false, "rewrite RULES.md from the rule table")

const rulesDocHead = `# medtap detection rules

Generated from the rule table (detect/rules.go) by
` + "`go test ./detect -run TestRulesDoc -update`" + `; a test fails when this file
and the table disagree. ` + "`medtap rules`" + ` prints the same table.

## The alert

Every alert is one JSON line: the event envelope (` + "`ts`, `event_type`:\"alert\"" + `, the
flow: ` + "`src_ip`, `src_port`, `dest_ip`, `dest_port`, `proto`, `vlan`, `community_id`" + `, and
` + "`sensor`" + `) and an ` + "`alert`" + ` object:

| field | meaning |
| --- | --- |
| rule_id | stable id below |
| title | short English title |
| severity | info, low, medium, high, critical (rule default, raised or lowered by the finding, or set by the policy's ` + "`rules:`" + `) |
| category | rule family (snake_case) |
| capability | NMPA 2022 capability codes the finding evidences |
| threat | read, manipulate, spoof, flood, redirect, ransom |
| data_category | sensitive_medical, non_sensitive_medical, device, unknown |
| protocol | dicom, hl7, astm, tls (when one applies) |
| assets | ip, role (client, server, sender), ae_title, application (HL7 MSH-3^MSH-4), device_class, country. No patient data. |
| evidence.fields / evidence.tags | HL7/ASTM field paths (PID-5, P-6) and DICOM tags ((0010,0010)) that held personal information |
| evidence.phi_categories | name, id, id_number, birth_date, sex, age, address, phone, email, insurance, other_patient, health, staff_name, ... |
| evidence.patients | keyed pseudonyms (HMAC-SHA256, first 16 hex digits) of patient identifiers (DICOM PatientID/OtherPatientIDs, HL7 PID-2/3/4, ASTM P-3/4/5, national ID numbers), at most 16; the key is made on first run (mode 0600) and reused |
| evidence.patient_count | distinct identifiers seen (counted up to 4096) |
| evidence.messages | messages or datasets with the finding |
| evidence.masked | only with evidence mode "masked": FIELD=excerpt, first character of each component kept (one-character components masked whole) |
| evidence.details | rule-specific facts; keys listed per rule |
| remediation | zh and en |
| count, first_seen, last_seen | findings folded into the alert (one alert per rule and flow, emitted at the end of the flow; a flow holds at most 32 alerts open, and a finding that would open another is emitted at once as an alert of its own) |
| suppressed | alerts of this rule and asset dropped by the rate limit before this one |
| rate_limited | true on the summary emitted at Close for alerts dropped by the rate limit (count = how many) |

Baselines: rules marked "learned" treat what they see during the policy's
` + "`learning_period`" + ` (capture time from the first event) as known, and report novelty
after it. ` + "`learning_period: 0s`" + ` means no baseline: every first sighting is new.

Test cases: ` + "`detect/testdata/cases/<RULE-ID>[-variant]/`" + ` (case.yaml, policy.yaml,
expected.yaml), run by ` + "`go test ./detect`" + `.
`

func renderRulesDoc(cases []string) string {
	var b strings.Builder
	b.WriteString(rulesDocHead)
	for _, r := range Rules() {
		fmt.Fprintf(&b, "\n## %s %s\n\n", r.ID, r.Title)
		fmt.Fprintf(&b, "- severity: %s; category: %s; threat: %s; data category: %s\n", r.Severity, r.Category, r.Threat, r.DataCategory)
		fmt.Fprintf(&b, "- capability: %s; seeds-digest §3.8: %s\n", strings.Join(r.Capability, ", "), r.Seed)
		if len(r.DetailKeys) > 0 {
			fmt.Fprintf(&b, "- evidence.details: %s\n", strings.Join(r.DetailKeys, ", "))
		}
		var cs []string
		for _, c := range cases {
			if c == r.ID || strings.HasPrefix(c, r.ID+"-") {
				cs = append(cs, "`"+c+"`")
			}
		}
		if len(cs) > 0 {
			fmt.Fprintf(&b, "- cases: %s\n", strings.Join(cs, ", "))
		}
		fmt.Fprintf(&b, "\n%s\n\nRemediation: %s\n\n处置建议：%s\n", r.Description, r.RemediationEN, r.RemediationZH)
	}
	return b.String()
}

func TestRulesDoc(t *testing.T) {
	var cases []string
	for _, d := range caseDirs(t) {
		cases = append(cases, filepath.Base(d))
	}
	want := renderRulesDoc(cases)
	if *updateDoc {
		if err := os.WriteFile("RULES.md", []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile("RULES.md")
	if err != nil || string(got) != want {
		t.Errorf("RULES.md is out of date: run go test ./detect -run TestRulesDoc -update")
	}
}
