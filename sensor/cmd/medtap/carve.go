package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"time"

	"github.com/medtap/medtap/detect/inventory"
	"github.com/medtap/medtap/detect/inventory/store"
	"github.com/medtap/medtap/sensor/capture"
	"github.com/medtap/medtap/sensor/carve"
)

func carveCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("carve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf sessionFlags
	sf.register(fs, "write the flow's packets to `FILE` (pcap, nanosecond timestamps, the capture's link type)")
	id := fs.String("alert", "", "the alert's `ID` (alert_id in alerts.jsonl, reports and medtap check)")
	alertsFile := fs.String("alerts", "", "find the alert in this alerts.jsonl or events.jsonl `FILE` (default: the --db inventory if given, else analyze the captures again; ids are the same on every run)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: medtap carve --alert ID -o OUT.pcap [--alerts FILE | --db FILE] [flags] FILE|DIR...\n\nWrites the packets of the flow behind an alert (both directions, IP\nfragments included) from the captures to a pcap file. Without --alerts\nthe captures are analyzed again to find the alert (pass the same\n--policy as the run that raised it).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args); done {
		return code
	}
	out := sf.out
	sf.out = ""
	switch {
	case *id == "":
		fmt.Fprintln(stderr, "medtap carve: --alert ID is required (the alert_id of the alert)")
		return exitUsage
	case out == "":
		fmt.Fprintln(stderr, "medtap carve: -o FILE is required (where to write the pcap)")
		return exitUsage
	case fs.NArg() == 0:
		fmt.Fprintln(stderr, "medtap carve: no capture files given; pass the captures the alert came from")
		return exitUsage
	case slices.Contains(fs.Args(), capture.Stdin):
		fmt.Fprintln(stderr, "medtap carve: cannot read standard input (-): carving reads the captures more than once; save it to a file first")
		return exitUsage
	}
	if err := sf.validate(); err != nil {
		fmt.Fprintf(stderr, "medtap carve: %v\n", err)
		return exitUsage
	}
	dbPath := sf.db
	sf.db, sf.fresh = "", false // --db names where the alert is, never a place to write
	var target carve.Target
	if *alertsFile != "" && dbPath != "" {
		fmt.Fprintln(stderr, "medtap carve: use either --alerts or --db, not both")
		return exitUsage
	}
	if dbPath != "" {
		rec, err := alertFromDB(dbPath, *id)
		if err == nil {
			target, err = targetOf(rec)
		}
		if err != nil {
			fmt.Fprintf(stderr, "medtap carve: %v\n", oneLine(err))
			return exitFailure
		}
	} else if *alertsFile != "" {
		f, err := os.Open(*alertsFile)
		if err != nil {
			fmt.Fprintf(stderr, "medtap carve: --alerts: %v\n", err)
			return exitFailure
		}
		target, err = carve.FindAlert(f, *id)
		f.Close()
		if err != nil {
			fmt.Fprintf(stderr, "medtap carve: %s: %v\n", *alertsFile, oneLine(err))
			return exitFailure
		}
	} else {
		a, err := analyzeForAlerts("medtap carve", sf, fs.Args(), stderr)
		if err != nil {
			fmt.Fprintf(stderr, "medtap carve: %v\n", oneLine(err))
			return exitFailure
		}
		var rec *inventory.AlertRecord
		for i := range a.alerts {
			if a.alerts[i].ID == *id {
				rec = &a.alerts[i]
				break
			}
		}
		if rec == nil {
			fmt.Fprintf(stderr, "medtap carve: no alert %s in these captures (%d alerts); check the id and pass the same --policy as the run that raised it\n", *id, len(a.alerts))
			return exitFailure
		}
		if target, err = targetOf(rec); err != nil {
			fmt.Fprintf(stderr, "medtap carve: %v\n", err)
			return exitFailure
		}
	}
	files, errs := capture.Expand(fs.Args())
	for _, err := range errs {
		fmt.Fprintf(stderr, "medtap: %v\n", oneLine(err))
	}
	if len(errs) > 0 {
		return exitFailure
	}
	var res carve.Result
	err := writeFileAtomic(out, func(w io.Writer) error {
		var err error
		res, err = carve.Carve(files, target, w)
		return err
	})
	if err != nil {
		fmt.Fprintf(stderr, "medtap carve: %v\n", oneLine(err))
		return exitFailure
	}
	fmt.Fprintf(stdout, "%s: %d packets (%d IP fragments), %d bytes, %s .. %s, flow %s\n", out, res.Packets, res.Fragments, res.Bytes,
		res.First.Format(time.RFC3339Nano), res.Last.Format(time.RFC3339Nano), target)
	return exitOK
}

// alertFromDB reads one alert from an inventory database.
func alertFromDB(path, id string) (*inventory.AlertRecord, error) {
	db, err := store.OpenExisting(path)
	if err != nil {
		return nil, fmt.Errorf("--db: %w", err)
	}
	defer db.Close()
	all, err := db.Alerts(store.AlertFilter{})
	if err != nil {
		return nil, fmt.Errorf("--db: %w", err)
	}
	for i := range all {
		if all[i].ID == id {
			return &all[i], nil
		}
	}
	return nil, fmt.Errorf("no alert %s in %s (%d alerts)", id, path, len(all))
}

// targetOf is the flow of a stored alert.
func targetOf(a *inventory.AlertRecord) (carve.Target, error) {
	if len(a.Event) > 0 {
		return carve.TargetFromEvent(a.Event)
	}
	if a.SrcIP == "" {
		return carve.Target{}, fmt.Errorf("alert %s (%s) is not tied to a flow", a.ID, a.RuleID)
	}
	src, err1 := netip.ParseAddr(a.SrcIP)
	dst, err2 := netip.ParseAddr(a.DestIP)
	if err := errors.Join(err1, err2); err != nil {
		return carve.Target{}, fmt.Errorf("alert %s: %w", a.ID, err)
	}
	p := uint8(6)
	if a.Proto == "udp" {
		p = 17
	}
	return carve.Target{Proto: p, VLAN: a.VLAN, Client: netip.AddrPortFrom(src, a.SrcPort), Server: netip.AddrPortFrom(dst, a.DestPort),
		From: a.FirstSeen, To: a.LastSeen}, nil
}
