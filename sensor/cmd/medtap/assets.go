package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/medtap/medtap/detect/geo"
	"github.com/medtap/medtap/detect/inventory"
	"github.com/medtap/medtap/detect/inventory/oui"
	"github.com/medtap/medtap/detect/inventory/store"
	"github.com/medtap/medtap/detect/report"
	"github.com/medtap/medtap/sensor/metrics"
	"github.com/medtap/medtap/sensor/pipeline"
)

// defaultDB is the inventory file `medtap assets` reads when --db is not
// given.
const defaultDB = "medtap.db"

// registerInventory adds the inventory flags shared by analyze, run and
// check.
func (sf *sessionFlags) registerInventory(fs *flag.FlagSet) {
	fs.StringVar(&sf.db, "db", "", "inventory database `FILE` (SQLite): assets, alerts and runs are added to it (default: inventory kept in memory only)")
	fs.BoolVar(&sf.fresh, "fresh", false, "with --db: empty the inventory first instead of adding to it")
}

// invSession is the inventory of one session and where it is kept.
type invSession struct {
	inv    *inventory.Inventory
	db     *store.Store // nil without --db
	run    inventory.Run
	assets string // assets.json in the -o directory, or ""
}

// openInventory makes the session's inventory: loaded from --db when
// given, its asset events written to the events output, its alerts fed by
// detection; at finish it is saved and assets.json written in the -o
// directory. Called by openOutputs before detection starts.
func (s *session) openInventory() error {
	sf := s.flags
	if sf.fresh && sf.db == "" {
		return errors.New("--fresh needs --db FILE")
	}
	is := &invSession{}
	opt := inventory.Options{Policy: s.det.pol, Geo: s.det.geo, Sensor: sf.sensor, Vendor: oui.Lookup, Changes: s.changeSink()}
	if opt.Geo == nil {
		if g, err := geo.Default(); err == nil {
			opt.Geo = g
			s.closers = append(s.closers, func() { g.Close() })
		}
	}
	is.run = inventory.Run{Command: strings.TrimPrefix(s.cmd, "medtap "), Sensor: sf.sensor, Started: time.Now().UTC(),
		MedtapVersion: version, RuleSetVersion: report.RuleSetVersion(), Policy: s.det.pol.Source}
	if opt.Geo != nil {
		is.run.GeoDBVersion = opt.Geo.Version()
	}
	var loaded []inventory.Asset
	if sf.db != "" {
		db, err := store.Open(sf.db)
		if err != nil {
			return fmt.Errorf("--db: %w", err)
		}
		s.closers = append(s.closers, func() { db.Close() })
		if sf.fresh {
			if err := db.Reset(); err != nil {
				return fmt.Errorf("--fresh: %w", err)
			}
		} else if loaded, err = db.LoadAssets(); err != nil {
			return fmt.Errorf("--db: %w", err)
		}
		if is.run.ID, err = db.StartRun(is.run); err != nil {
			return fmt.Errorf("--db: %w", err)
		}
		is.db = db
		opt.Store = db
	}
	opt.Store = s.inventoryStore(opt.Store) // and the API's view, the NATS asset states (natsapi.go)
	is.inv = inventory.New(opt)
	is.inv.Load(loaded)
	if sf.out != "" {
		is.assets = filepath.Join(sf.out, "assets.json")
	}
	s.inv = is
	if s.reg != nil {
		s.reg.MustRegister(metrics.NewInventoryCollector(is.inv.ClassCounts))
	}
	s.eventSinks = append(s.eventSinks, is.inv)
	s.alertSinks = append(s.alertSinks, is.inv)
	s.commits = append(s.commits, is.commit)
	return nil
}

// recordRun notes what a run read, for the run record reports print.
func (s *session) recordRun(files []string, st *pipeline.Stats) {
	if s.inv == nil {
		return
	}
	r := &s.inv.run
	if st.FirstTS != 0 {
		r.FirstPacket, r.LastPacket = time.Unix(0, st.FirstTS).UTC(), time.Unix(0, st.LastTS).UTC()
	}
	r.Packets = st.Frames
	if s.inv.db == nil {
		return
	}
	r.Inputs = r.Inputs[:0]
	for _, f := range files {
		in := inventory.InputFile{Path: f}
		if sum, size, err := fileSHA256(f); err == nil {
			in.SHA256, in.Size = sum, size
		}
		r.Inputs = append(r.Inputs, in)
	}
}

func fileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

// commit saves the inventory and writes assets.json (through a temporary
// file, like the other outputs).
func (is *invSession) commit() error {
	// The events file is in place already: no more asset events.
	is.inv.SetChanges(nil)
	if err := is.inv.Flush(); err != nil {
		return err
	}
	if is.db != nil {
		r := is.run
		r.Finished = time.Now().UTC()
		r.Events = is.inv.Stats().Events
		if err := is.db.FinishRun(r); err != nil {
			return err
		}
	}
	if is.assets == "" {
		return nil
	}
	var assets []inventory.Asset
	if is.db != nil {
		// The whole inventory, this run's and earlier runs' assets.
		var err error
		if assets, err = is.db.LoadAssets(); err != nil {
			return err
		}
	} else {
		assets = is.inv.Assets()
	}
	return writeAssetsFile(is.assets, assets)
}

// writeAssetsFile writes assets.json through a temporary file, in place
// only when whole.
func writeAssetsFile(path string, assets []inventory.Asset) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	err = inventory.WriteAssetsJSON(tmp, assets)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// assetsCmd lists the inventory.
func assetsCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("assets", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", defaultDB, "inventory database `FILE` written by medtap analyze/run --db")
	format := fs.String("format", "table", "output format: table, json or csv")
	class := fs.String("class", "", "only assets of this device `CLASS` ("+strings.Join(inventory.Classes, ", ")+")")
	ip := fs.String("ip", "", "only assets that used this address, or an address in this `PREFIX` (10.1.0.0/16)")
	vendor := fs.String("vendor", "", "only assets whose MAC vendor contains `TEXT` (case-insensitive)")
	mac := fs.String("mac", "", "only the asset with this `MAC`")
	text := fs.String("match", "", "only assets whose host names, AE titles, HL7 applications, manufacturer or model contain `TEXT`")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: medtap assets [flags]\n\nLists the devices of an inventory database.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "medtap assets: unexpected argument %q; filters are flags (--ip, --class, ...)\n", fs.Arg(0))
		return exitUsage
	}
	switch *format {
	case "table", "json", "csv":
	default:
		fmt.Fprintf(stderr, "medtap assets: --format %q: use table, json or csv\n", *format)
		return exitUsage
	}
	if *class != "" && !slices.Contains(inventory.Classes, *class) {
		fmt.Fprintf(stderr, "medtap assets: --class %q: use one of %s\n", *class, strings.Join(inventory.Classes, ", "))
		return exitUsage
	}
	var prefix netip.Prefix
	if *ip != "" {
		var err error
		if prefix, err = netip.ParsePrefix(*ip); err != nil {
			a, err2 := netip.ParseAddr(*ip)
			if err2 != nil {
				fmt.Fprintf(stderr, "medtap assets: --ip %q: not an address or prefix\n", *ip)
				return exitUsage
			}
			prefix = netip.PrefixFrom(a, a.BitLen())
		}
	}
	st, err := store.OpenExisting(*db)
	if err != nil {
		fmt.Fprintf(stderr, "medtap assets: %v\n", oneLine(err))
		return exitFailure
	}
	defer st.Close()
	all, err := st.LoadAssets()
	if err != nil {
		fmt.Fprintf(stderr, "medtap assets: %v\n", oneLine(err))
		return exitFailure
	}
	assets := all[:0:0]
	for _, a := range all {
		if *class != "" && a.Class != *class {
			continue
		}
		if *vendor != "" && !strings.Contains(strings.ToLower(a.Vendor), strings.ToLower(*vendor)) {
			continue
		}
		if *mac != "" && !strings.EqualFold(a.MAC, *mac) {
			continue
		}
		if prefix.IsValid() && !usedAddr(a, prefix) {
			continue
		}
		if *text != "" && !matchesText(a, strings.ToLower(*text)) {
			continue
		}
		assets = append(assets, a)
	}
	var out bytes.Buffer
	switch *format {
	case "json":
		if err := inventory.WriteAssetsJSON(&out, assets); err != nil {
			fmt.Fprintf(stderr, "medtap assets: %v\n", err)
			return exitFailure
		}
	case "csv":
		w := csv.NewWriter(&out)
		w.Write(assetColumns)
		for i := range assets {
			w.Write(assetRow(&assets[i], 0))
		}
		w.Flush()
	default:
		tw := tabwriter.NewWriter(&out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.ToUpper(strings.Join(assetColumns, "\t")))
		for i := range assets {
			fmt.Fprintln(tw, strings.Join(assetRow(&assets[i], 28), "\t"))
		}
		tw.Flush()
		fmt.Fprintf(&out, "%d of %d assets in %s\n", len(assets), len(all), *db)
	}
	stdout.Write(out.Bytes())
	return exitOK
}

func usedAddr(a inventory.Asset, p netip.Prefix) bool {
	for _, ip := range a.IPs {
		if x, err := netip.ParseAddr(ip.IP); err == nil && p.Contains(x) {
			return true
		}
	}
	return false
}

func matchesText(a inventory.Asset, t string) bool {
	var fields []string
	for _, h := range a.Hostnames {
		fields = append(fields, h.Name)
	}
	for _, ae := range a.Medical.AETitles {
		fields = append(fields, ae.Title)
	}
	for _, h := range a.Medical.HL7 {
		fields = append(fields, h.Application, h.Facility)
	}
	fields = append(fields, a.Medical.Manufacturer, a.Medical.Model, a.Medical.StationName)
	for _, f := range fields {
		if strings.Contains(strings.ToLower(f), t) {
			return true
		}
	}
	return false
}

var assetColumns = []string{"id", "ip", "mac", "vendor", "class", "identity", "services", "alerts", "last_seen"}

// assetRow is one asset's table or CSV row; width > 0 shortens long cells
// for a terminal.
func assetRow(a *inventory.Asset, width int) []string {
	cut := func(s string) string {
		if width > 0 && len([]rune(s)) > width {
			return string([]rune(s)[:width-1]) + "…"
		}
		return s
	}
	var id []string
	if m := a.Medical.Manufacturer + " " + a.Medical.Model; strings.TrimSpace(m) != "" {
		id = append(id, strings.TrimSpace(m))
	}
	for _, ae := range a.Medical.AETitles {
		id = append(id, "AE "+ae.Title)
	}
	for _, h := range a.Medical.HL7 {
		if h.Role == "sender" {
			id = append(id, "HL7 "+h.Application)
		}
	}
	for _, s := range a.Medical.ASTMSenders {
		id = append(id, "ASTM "+s)
	}
	if len(id) == 0 {
		for _, h := range a.Hostnames {
			id = append(id, h.Name)
			break
		}
	}
	var svcs []string
	for _, s := range a.Services {
		svcs = append(svcs, s.Transport+"/"+strconv.Itoa(int(s.Port))+" "+s.AppProto)
	}
	r := a.Risk.OpenAlerts
	alerts := ""
	if r.Total() > 0 {
		alerts = fmt.Sprintf("%dc %dh %dm %dl", r.Critical, r.High, r.Medium, r.Low)
	}
	last := ""
	if !a.LastSeen.IsZero() {
		last = a.LastSeen.UTC().Format("2006-01-02 15:04:05")
	}
	vendor := a.Vendor
	mac := a.MAC
	if width > 0 {
		if vendor == "" {
			vendor = "-"
		}
		if mac == "" {
			mac = "-"
		}
	}
	return []string{a.ID, a.IP, mac, cut(vendor), a.Class, cut(strings.Join(id, ", ")), cut(strings.Join(svcs, ", ")), alerts, last}
}
