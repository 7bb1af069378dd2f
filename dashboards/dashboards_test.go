package dashboards

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/medtap/medtap/sensor/metrics"
)

const (
	promtool  = "/usr/bin/promtool" // Debian package prometheus
	rulesFile = "prometheus/medtap-rules.yml"
	rulesTest = "prometheus/medtap-rules.test.yml"
)

var metricRE = regexp.MustCompile(`\bmedtap_[a-z0-9_]+`)

// usedMetrics gives the medtap metric names in a PromQL expression, with
// the histogram suffixes stripped.
func usedMetrics(expr string) []string {
	var out []string
	for _, n := range metricRE.FindAllString(expr, -1) {
		for _, suf := range []string{"_bucket", "_sum", "_count"} {
			if strings.HasSuffix(n, suf) && !strings.HasSuffix(n, "_total"+suf) {
				n = strings.TrimSuffix(n, suf)
				break
			}
		}
		out = append(out, n)
	}
	return out
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		Expr       string `json:"expr"`
		Datasource struct {
			UID string `json:"uid"`
		} `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // rows
}

type dashboard struct {
	UID           string `json:"uid"`
	Title         string `json:"title"`
	SchemaVersion int    `json:"schemaVersion"`
	Templating    struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

// dashboardExprs checks every dashboard's structure and returns its
// expressions by "file: panel".
func dashboardExprs(t *testing.T) map[string]string {
	t.Helper()
	files, _ := filepath.Glob("grafana/*.json")
	if len(files) < 3 {
		t.Fatalf("want at least 3 dashboards, found %v", files)
	}
	exprs := map[string]string{}
	uids := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboard
		if err := json.Unmarshal(b, &d); err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if d.UID == "" || uids[d.UID] || d.Title == "" {
			t.Errorf("%s: uid %q (empty or repeated) or no title", f, d.UID)
		}
		uids[d.UID] = true
		if d.SchemaVersion < 36 {
			t.Errorf("%s: schemaVersion %d, want 36 or later", f, d.SchemaVersion)
		}
		hasDS := false
		for _, v := range d.Templating.List {
			if v.Name == "DS_PROMETHEUS" && v.Type == "datasource" && v.Query == "prometheus" {
				hasDS = true
			}
		}
		if !hasDS {
			t.Errorf("%s: no DS_PROMETHEUS datasource variable", f)
		}
		ids := map[int]bool{}
		var walk func(ps []panel)
		walk = func(ps []panel) {
			for _, p := range ps {
				if ids[p.ID] {
					t.Errorf("%s: panel id %d repeated", f, p.ID)
				}
				ids[p.ID] = true
				if p.Type != "row" && p.Datasource.UID != "${DS_PROMETHEUS}" {
					t.Errorf("%s: panel %q datasource %q, want ${DS_PROMETHEUS}", f, p.Title, p.Datasource.UID)
				}
				if p.Type != "row" && len(p.Targets) == 0 {
					t.Errorf("%s: panel %q has no query", f, p.Title)
				}
				for i, tg := range p.Targets {
					if tg.Datasource.UID != "${DS_PROMETHEUS}" || tg.Expr == "" {
						t.Errorf("%s: panel %q target %d: datasource %q, expr %q", f, p.Title, i, tg.Datasource.UID, tg.Expr)
					}
					exprs[fmt.Sprintf("%s: %s #%d", filepath.Base(f), p.Title, i)] = tg.Expr
				}
				walk(p.Panels)
			}
		}
		walk(d.Panels)
	}
	return exprs
}

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert  string            `yaml:"alert"`
			Record string            `yaml:"record"`
			Expr   string            `yaml:"expr"`
			Labels map[string]string `yaml:"labels"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func ruleExprs(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var rf ruleFile
	if err := yaml.Unmarshal(b, &rf); err != nil {
		t.Fatalf("%s: %v", rulesFile, err)
	}
	out := map[string]string{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			out[rulesFile+": "+r.Alert+r.Record] = r.Expr
		}
	}
	for _, want := range []string{"MedtapSensorDown", "MedtapPacketsDropped", "MedtapParserPanic", "MedtapCriticalFindings"} {
		if _, ok := out[rulesFile+": "+want]; !ok {
			t.Errorf("%s: no alert %s", rulesFile, want)
		}
	}
	return out
}

// TestMetricsExist checks that every medtap metric a dashboard or a rule
// uses is one medtap exports.
func TestMetricsExist(t *testing.T) {
	known := metrics.Names()
	all := dashboardExprs(t)
	for k, v := range ruleExprs(t) {
		all[k] = v
	}
	used := 0
	for where, expr := range all {
		for _, n := range usedMetrics(expr) {
			used++
			if !slices.Contains(known, n) {
				t.Errorf("%s: metric %s is not exported by medtap (sensor/metrics)", where, n)
			}
		}
	}
	if used == 0 {
		t.Fatal("no medtap metric found in dashboards and rules")
	}
}

// TestUsedMetricsParsing checks the name extraction itself.
func TestUsedMetricsParsing(t *testing.T) {
	got := usedMetrics(`histogram_quantile(0.9, rate(medtap_output_write_duration_seconds_bucket[5m])) / medtap_flows_created_total + medtap_x_total_count + medtap_hl7_messages_total`)
	want := []string{"medtap_output_write_duration_seconds", "medtap_flows_created_total", "medtap_x_total_count", "medtap_hl7_messages_total"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func needPromtool(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(promtool); err != nil {
		t.Skipf("%s not installed (apt-get install prometheus)", promtool)
	}
}

// TestPromtoolRules validates the alerting rules and runs their unit
// tests with promtool.
func TestPromtoolRules(t *testing.T) {
	needPromtool(t)
	for _, args := range [][]string{{"check", "rules", rulesFile}, {"test", "rules", rulesTest}} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// grafanaVars stand in for Grafana's variables so that Prometheus can parse
// a dashboard's expressions.
var grafanaVars = strings.NewReplacer(
	"$__rate_interval", "5m",
	"$__interval", "1m",
	"$__range", "1h",
	"$instance", ".*",
)

// TestPromtoolDashboardQueries has promtool parse every dashboard
// expression, written as recording rules.
func TestPromtoolDashboardQueries(t *testing.T) {
	needPromtool(t)
	exprs := dashboardExprs(t)
	keys := make([]string, 0, len(exprs))
	for k := range exprs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []rule
	for i, k := range keys {
		e := grafanaVars.Replace(exprs[k])
		if strings.Contains(e, "$") {
			t.Errorf("%s: unknown Grafana variable in %q", k, e)
		}
		rules = append(rules, rule{Record: fmt.Sprintf("dashboard:query_%d", i), Expr: e})
	}
	b, err := yaml.Marshal(map[string]any{"groups": []map[string]any{{"name": "dashboards", "rules": rules}}})
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "dashboard-queries.yml")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", f).CombinedOutput()
	if err != nil {
		t.Errorf("promtool check rules (dashboard queries): %v\n%s\nqueries in order: %v", err, out, keys)
	}
}
