package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/medtap/medtap/detect"
	"github.com/medtap/medtap/detect/inventory"
)

// Check is the outcome of `medtap check`: the rules, which of them the
// policy turned off, the alerts of the run and the failing threshold.
type Check struct {
	Rules    []detect.RuleInfo
	Disabled map[string]bool // rule ids the policy switched off
	Alerts   []inventory.AlertRecord
	FailOn   string // severity: alerts at or above it fail the check
	Started  time.Time
	Elapsed  time.Duration
	Inputs   []string // capture files, for the suite's properties
	Version  string   // medtap version
}

// Failing are the alerts at or above FailOn, in time order.
func (c *Check) Failing() []inventory.AlertRecord {
	var out []inventory.AlertRecord
	for _, a := range c.Alerts {
		if AtOrAbove(a.Severity, c.FailOn) {
			out = append(out, a)
		}
	}
	sortAlerts(out)
	return out
}

// Failed reports whether the check fails.
func (c *Check) Failed() bool { return len(c.Failing()) > 0 }

// WriteFindings prints the short findings table: one row per rule with
// alerts (count, highest severity, first and last seen, assets), then the
// verdict line.
func (c *Check) WriteFindings(w io.Writer) error {
	type row struct {
		rule, title, sev string
		alerts, fail     int
		first, last      time.Time
		assets           map[string]bool
	}
	rows := map[string]*row{}
	for _, a := range c.Alerts {
		r := rows[a.RuleID]
		if r == nil {
			r = &row{rule: a.RuleID, title: a.Title, sev: a.Severity, first: a.FirstSeen, last: a.LastSeen, assets: map[string]bool{}}
			rows[a.RuleID] = r
		}
		r.alerts++
		if AtOrAbove(a.Severity, c.FailOn) {
			r.fail++
		}
		if AtOrAbove(a.Severity, r.sev) {
			r.sev = a.Severity
		}
		if a.FirstSeen.Before(r.first) {
			r.first = a.FirstSeen
		}
		if a.LastSeen.After(r.last) {
			r.last = a.LastSeen
		}
		for _, ip := range alertIPs(&a) {
			r.assets[ip] = true
		}
	}
	list := make([]*row, 0, len(rows))
	for _, r := range rows {
		list = append(list, r)
	}
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if ra, rb := sevRank(a.sev), sevRank(b.sev); ra != rb {
			return ra > rb
		}
		return a.rule < b.rule
	})
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(list) > 0 {
		fmt.Fprintln(tw, "RULE\tSEVERITY\tALERTS\tFAILING\tFIRST SEEN\tLAST SEEN\tASSETS\tTITLE")
	}
	for _, r := range list {
		assets := make([]string, 0, len(r.assets))
		for ip := range r.assets {
			assets = append(assets, ip)
		}
		sort.Strings(assets)
		if len(assets) > 3 {
			assets = append(assets[:3], fmt.Sprintf("+%d", len(r.assets)-3))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\n", r.rule, r.sev, r.alerts, r.fail,
			r.first.UTC().Format(time.DateTime), r.last.UTC().Format(time.DateTime), strings.Join(assets, ","), r.title)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	n := len(c.Failing())
	var err error
	if n > 0 {
		_, err = fmt.Fprintf(w, "FAIL: %d of %d alerts at or above %s\n", n, len(c.Alerts), c.FailOn)
	} else {
		_, err = fmt.Fprintf(w, "PASS: %d alerts, none at or above %s\n", len(c.Alerts), c.FailOn)
	}
	return err
}

func sevRank(s string) int {
	for i, x := range []string{"info", "low", "medium", "high", "critical"} {
		if x == s {
			return i
		}
	}
	return -1
}

// alertIPs are the alert's asset addresses, or its flow's ends.
func alertIPs(a *inventory.AlertRecord) []string {
	if b := alertBody(a); b != nil && len(b.Assets) > 0 {
		out := make([]string, 0, len(b.Assets))
		for _, x := range b.Assets {
			out = append(out, x.IP)
		}
		return out
	}
	var out []string
	for _, ip := range []string{a.SrcIP, a.DestIP} {
		if ip != "" {
			out = append(out, ip)
		}
	}
	return out
}

// JUnit XML, in the structure JUnit's Ant task and Jenkins, GitLab and
// GitHub test reporters read: testsuites > testsuite > testcase with an
// optional failure or skipped child.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// WriteJUnit writes the check as JUnit XML: one test case per rule, failed
// when the rule raised alerts at or above FailOn (the alerts are the
// failure text), skipped when the policy turned the rule off. Alerts below
// the threshold are listed in the passing case's system-out. Evidence is
// written as field names, tags and categories only: never masked excerpts,
// whatever the evidence mode, since CI logs travel.
func (c *Check) WriteJUnit(w io.Writer) error {
	byRule := map[string][]inventory.AlertRecord{}
	for _, a := range c.Alerts {
		byRule[a.RuleID] = append(byRule[a.RuleID], a)
	}
	suite := junitSuite{
		Name:      "medtap check",
		Time:      seconds(c.Elapsed),
		Timestamp: c.Started.UTC().Format("2006-01-02T15:04:05"),
		Properties: []junitProperty{
			{"medtap_version", c.Version},
			{"fail_on", c.FailOn},
			{"rule_set_version", RuleSetVersion()},
		},
	}
	for _, in := range c.Inputs {
		suite.Properties = append(suite.Properties, junitProperty{"input", in})
	}
	for _, r := range c.Rules {
		tc := junitCase{Name: r.ID + " " + r.Title, ClassName: "medtap." + r.Category, Time: "0"}
		as := byRule[r.ID]
		sortAlerts(as)
		var fail, pass []inventory.AlertRecord
		for _, a := range as {
			if AtOrAbove(a.Severity, c.FailOn) {
				fail = append(fail, a)
			} else {
				pass = append(pass, a)
			}
		}
		switch {
		case c.Disabled[r.ID]:
			tc.Skipped = &junitSkipped{Message: "rule disabled by the policy"}
			suite.Skipped++
		case len(fail) > 0:
			tc.Failure = &junitFailure{
				Message: fmt.Sprintf("%d alert(s) at or above %s", len(fail), c.FailOn),
				Type:    r.Category,
				Text:    alertText(fail),
			}
			suite.Failures++
		}
		if len(pass) > 0 {
			tc.SystemOut = fmt.Sprintf("%d alert(s) below %s:\n%s", len(pass), c.FailOn, alertText(pass))
		}
		suite.Cases = append(suite.Cases, tc)
		suite.Tests++
	}
	doc := junitSuites{Name: "medtap", Tests: suite.Tests, Failures: suite.Failures, Skipped: suite.Skipped,
		Time: suite.Time, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// alertText is one line per alert: id, severity, time, flow, count, and
// evidence names (never values).
func alertText(as []inventory.AlertRecord) string {
	var b strings.Builder
	for i := range as {
		a := &as[i]
		fmt.Fprintf(&b, "%s %s %s", a.ID, a.Severity, a.FirstSeen.UTC().Format(time.RFC3339Nano))
		if !a.LastSeen.Equal(a.FirstSeen) {
			fmt.Fprintf(&b, "..%s", a.LastSeen.UTC().Format(time.RFC3339Nano))
		}
		if a.SrcIP != "" {
			fmt.Fprintf(&b, " %s %s:%d -> %s:%d", a.Proto, a.SrcIP, a.SrcPort, a.DestIP, a.DestPort)
			if a.VLAN != 0 {
				fmt.Fprintf(&b, " vlan %d", a.VLAN)
			}
		}
		fmt.Fprintf(&b, " count %d", a.Count)
		if body := alertBody(a); body != nil {
			ev := body.Evidence
			if len(ev.PHICategories) > 0 {
				fmt.Fprintf(&b, " categories %s", strings.Join(ev.PHICategories, ","))
			}
			if len(ev.Fields) > 0 {
				fmt.Fprintf(&b, " fields %s", strings.Join(ev.Fields, ","))
			}
			if len(ev.Tags) > 0 {
				fmt.Fprintf(&b, " tags %s", strings.Join(ev.Tags, ","))
			}
			if ev.PatientCount > 0 {
				fmt.Fprintf(&b, " patients %d", ev.PatientCount)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}
