package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/medtap/medtap/detect"
	"github.com/medtap/medtap/detect/geo"
	"github.com/medtap/medtap/detect/policy"
	"github.com/medtap/medtap/sensor/metrics"
	"github.com/medtap/medtap/sensor/output"
)

// detection is the detect engine of one analyze run and where its alerts go.
type detection struct {
	pol      *policy.Policy
	geo      *geo.DB // nil: the engine opens the embedded database
	key      []byte
	evidence string
	engine   *detect.Engine
	alerts   *output.JSONL // alerts.jsonl, or the events stream itself on stdout
	path     string
	metrics  *metrics.Sink // nil without --listen/--serve
}

// newDetection loads the policy, the country database and the pseudonym key,
// so that a bad file is reported before any output exists.
func newDetection(af sessionFlags) (*detection, error) {
	d := &detection{pol: policy.Default(), evidence: af.evidence}
	if af.policy != "" {
		pol, err := detect.LoadPolicy(af.policy)
		if err != nil {
			return nil, err
		}
		d.pol = pol
	}
	if af.geoip != "" {
		db, err := geo.Open(af.geoip)
		if err != nil {
			return nil, fmt.Errorf("--geoip %s: %w", af.geoip, err)
		}
		d.geo = db
	}
	keyFile := af.keyFile
	if keyFile == "" {
		keyFile = defaultKeyFile()
	}
	key, err := detect.LoadOrCreateKey(keyFile)
	if err != nil {
		d.close()
		return nil, fmt.Errorf("pseudonym key: %w (use --key-file to choose another place)", err)
	}
	d.key = key
	return d, nil
}

// defaultKeyFile is medtap/pseudonym.key in the user's configuration
// directory, which is created private to the user; without one, the
// working directory.
func defaultKeyFile() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return detect.DefaultKeyFile
	}
	dir = filepath.Join(dir, "medtap")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return detect.DefaultKeyFile
	}
	return filepath.Join(dir, "pseudonym.key")
}

// start makes the engine; its alerts go to the alerts output, the metrics
// sink and the extra sinks.
func (d *detection) start(extra ...detect.Sink) error {
	if d.alerts != nil {
		d.path = d.alerts.Path()
	}
	var alerts detect.Sink = d.alerts
	if d.metrics != nil || len(extra) > 0 {
		tee := output.Tee{d.alerts}
		if d.metrics != nil {
			tee = append(tee, d.metrics)
		}
		for _, x := range extra {
			tee = append(tee, x)
		}
		alerts = tee
	}
	e, err := detect.New(d.pol, detect.Options{AlertSink: alerts, Key: d.key, Evidence: d.evidence, Geo: d.geo})
	if err != nil {
		return err
	}
	d.engine = e
	return nil
}

// commit puts alerts.jsonl in place (when it is a file of its own).
func (d *detection) commit(events *output.JSONL) error {
	if d.alerts == nil || d.alerts == events {
		return nil
	}
	return d.alerts.Commit()
}

func (d *detection) abort() {
	if d.alerts != nil {
		d.alerts.Abort()
	}
}

func (d *detection) close() {
	if d.geo != nil {
		d.geo.Close()
		d.geo = nil
	}
}

// summary adds the alert counts to the run's summary: rule ids and counts,
// nothing else.
func (d *detection) summary(w io.Writer) {
	st := d.engine.Stats()
	total := 0
	ids := make([]string, 0, len(st.Alerts))
	for id, n := range st.Alerts {
		total += n
		ids = append(ids, id)
	}
	sort.Strings(ids)
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprintf("%s %d", id, st.Alerts[id])
	}
	line := fmt.Sprintf("alerts: %d", total)
	if total > 0 {
		line += " (" + strings.Join(parts, ", ") + ")"
	}
	limited := 0
	for _, n := range st.RateLimited {
		limited += n
	}
	if limited > 0 {
		line += fmt.Sprintf(", %d more held back by the rate limit", limited)
	}
	if d.path != "" {
		line += "; written to " + d.path
	}
	fmt.Fprintln(w, line)
}

func rulesCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rules", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the rules as JSON")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	rules := detect.Rules()
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rules); err != nil {
			fmt.Fprintf(stderr, "medtap rules: %v\n", err)
			return exitFailure
		}
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEVERITY\tNMPA\tTHREAT\tTITLE")
	for _, r := range rules {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Severity, strings.Join(r.Capability, ","), r.Threat, r.Title)
	}
	tw.Flush()
	return exitOK
}

func policyCmd(args []string, stdout, stderr io.Writer) int {
	const usage = "usage: medtap policy check FILE | medtap policy default"
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "check":
		if len(args) != 2 {
			fmt.Fprintln(stderr, usage)
			return exitUsage
		}
		if _, err := detect.LoadPolicy(args[1]); err != nil {
			fmt.Fprintf(stderr, "medtap policy: %v\n", oneLine(err))
			return exitFailure
		}
		fmt.Fprintf(stdout, "%s: policy is valid\n", args[1])
		return exitOK
	case "default":
		stdout.Write(policy.DefaultYAML())
		return exitOK
	}
	fmt.Fprintf(stderr, "medtap policy: unknown subcommand %q\n%s\n", args[0], usage)
	return exitUsage
}
