package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/medtap/medtap/detect/inventory/store"
	"github.com/medtap/medtap/detect/report"
)

func reportCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "inventory database `FILE` written by 'medtap analyze --db' (default: "+defaultDB+" unless --assets is given)")
	assetsFile := fs.String("assets", "", "build from this assets.json (written by 'medtap analyze -o') instead of a database")
	alertsFile := fs.String("alerts", "", "with --assets: the alerts.jsonl of the same run")
	format := fs.String("format", "html", "main report `FORMAT`: md, html or json")
	lang := fs.String("lang", "en", "report language: en or zh (Chinese headers follow the NMPA guideline's wording)")
	out := fs.String("o", "", "output `DIR` (created if needed)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: medtap report [--db FILE | --assets assets.json [--alerts alerts.jsonl]] --format md|html|json [--lang en|zh] -o DIR\n\nWrites the evidence report: data-flow diagrams (DOT, Mermaid, SVG with\nGraphviz), the electronic-interface table (CSV, Markdown), the NMPA\ncapability evidence matrix, findings and a timeline, with the capture\nmetadata.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args); done {
		return code
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "medtap report: unexpected argument %q; the report reads the inventory (--db or --assets), not captures\n", fs.Arg(0))
		return exitUsage
	case *out == "":
		fmt.Fprintln(stderr, "medtap report: -o DIR is required (where to write the report)")
		return exitUsage
	case *format != report.FormatMarkdown && *format != report.FormatHTML && *format != report.FormatJSON:
		fmt.Fprintf(stderr, "medtap report: --format %q: use md, html or json\n", *format)
		return exitUsage
	case *lang != report.LangEN && *lang != report.LangZH:
		fmt.Fprintf(stderr, "medtap report: --lang %q: use en or zh\n", *lang)
		return exitUsage
	case *db != "" && *assetsFile != "":
		fmt.Fprintln(stderr, "medtap report: use either --db or --assets, not both")
		return exitUsage
	case *alertsFile != "" && *assetsFile == "":
		fmt.Fprintln(stderr, "medtap report: --alerts goes with --assets (a database holds its alerts)")
		return exitUsage
	}
	in := report.Input{Generated: time.Now().UTC(), Version: version}
	var err error
	if *assetsFile != "" {
		err = loadFiles(&in, *assetsFile, *alertsFile)
	} else {
		path := *db
		if path == "" {
			path = defaultDB
		}
		err = loadDB(&in, path)
	}
	if err != nil {
		fmt.Fprintf(stderr, "medtap report: %v\n", oneLine(err))
		return exitFailure
	}
	r := report.Build(in)
	wr, err := r.WriteDir(*out, *format, *lang)
	if err != nil {
		fmt.Fprintf(stderr, "medtap report: %v\n", oneLine(err))
		return exitFailure
	}
	if wr.SVGError != nil {
		fmt.Fprintf(stderr, "medtap report: no SVG diagrams: %v\n", oneLine(wr.SVGError))
	}
	fmt.Fprintf(stdout, "report: %d assets, %d alerts, %d diagram(s); %d files in %s (report.%s)\n",
		len(in.Assets), len(in.Alerts), len(r.Diagrams), len(wr.Files), *out, *format)
	return exitOK
}

func loadDB(in *report.Input, path string) error {
	db, err := store.OpenExisting(path)
	if err != nil {
		return fmt.Errorf("--db: %w (write one with 'medtap analyze --db %s')", err, path)
	}
	defer db.Close()
	if in.Assets, err = db.LoadAssets(); err != nil {
		return err
	}
	if in.Alerts, err = db.Alerts(store.AlertFilter{}); err != nil {
		return err
	}
	in.Runs, err = db.Runs()
	return err
}

func loadFiles(in *report.Input, assetsPath, alertsPath string) error {
	b, err := os.ReadFile(assetsPath)
	if err != nil {
		return fmt.Errorf("--assets: %w", err)
	}
	if err := json.Unmarshal(b, &in.Assets); err != nil {
		return fmt.Errorf("--assets %s: not an assets.json array: %w", assetsPath, err)
	}
	if alertsPath == "" {
		return nil
	}
	f, err := os.Open(alertsPath)
	if err != nil {
		return fmt.Errorf("--alerts: %w", err)
	}
	defer f.Close()
	if in.Alerts, err = report.ReadAlerts(f); err != nil {
		return fmt.Errorf("--alerts %s: %w", alertsPath, err)
	}
	return nil
}
