package report

import (
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/medtap/medtap/detect/inventory"
)

// Limits that keep reports readable and bounded.
const (
	// MaxExternalNodes is the number of external peers (not inventory
	// assets) a diagram draws one by one; past it they are folded into one
	// node per country.
	MaxExternalNodes = 12
	// MaxTimeline bounds the timeline's rows (the most severe first when
	// cut; the findings table still counts everything).
	MaxTimeline = 2000
	// maxIDsPerFinding bounds the alert ids listed in one finding row.
	maxIDsPerFinding = 5
)

// Input is what a report is built from.
type Input struct {
	Assets []inventory.Asset
	Alerts []inventory.AlertRecord
	Runs   []inventory.Run
	// Generated is the report's time (the caller's clock; tests fix it).
	Generated time.Time
	// Version is the medtap version writing the report.
	Version string
}

// Report is everything a report holds, ready to render in either language.
type Report struct {
	Meta       Meta                 `json:"metadata"`
	Diagrams   []Diagram            `json:"data_flow_diagrams"`
	Interfaces []InterfaceRow       `json:"electronic_interfaces"`
	Matrix     []CapabilityRow      `json:"capability_matrix"`
	Findings   []Finding            `json:"findings"`
	Timeline   []TimelineEntry      `json:"timeline"`
	Devices    []DeviceSummary      `json:"devices"`
	Severity   inventory.BySeverity `json:"alerts_by_severity"`
}

// Meta is the capture metadata every artefact carries.
type Meta struct {
	Generated      time.Time             `json:"generated"`
	MedtapVersion  string                `json:"medtap_version"`
	RuleSetVersion string                `json:"rule_set_version"`
	GeoDBVersions  []string              `json:"geo_db_versions,omitempty"`
	RunVersions    []string              `json:"run_medtap_versions,omitempty"` // versions of the runs that fed the data
	From           time.Time             `json:"from,omitzero"`                 // first packet
	To             time.Time             `json:"to,omitzero"`                   // last packet
	Inputs         []inventory.InputFile `json:"inputs,omitempty"`
	Runs           []inventory.Run       `json:"runs,omitempty"`
	Assets         int                   `json:"assets"`
	Alerts         int                   `json:"alerts"`
}

// DeviceSummary is one line of the device list.
type DeviceSummary struct {
	ID           string               `json:"id"`
	Label        string               `json:"label"`
	IP           string               `json:"ip"`
	MAC          string               `json:"mac,omitempty"`
	Vendor       string               `json:"vendor,omitempty"`
	Class        string               `json:"class"`
	Identity     string               `json:"identity,omitempty"` // manufacturer model, AE titles
	Internal     bool                 `json:"internal"`
	Alerts       inventory.BySeverity `json:"alerts"`
	Contradicted []string             `json:"contradicted,omitempty"`
	Encrypted    *float64             `json:"medical_encrypted_share,omitempty"`
}

// Build makes the report.
func Build(in Input) *Report {
	ix := newIndex(in.Assets)
	alerts := append([]inventory.AlertRecord(nil), in.Alerts...)
	sortAlerts(alerts)
	r := &Report{}
	r.Meta = buildMeta(in)
	r.Devices = buildDevices(in.Assets, alerts, ix)
	r.Diagrams = buildDiagrams(in, ix, alerts)
	r.Interfaces = buildInterfaces(in.Assets, ix)
	r.Matrix = buildMatrix(in.Assets, alerts)
	r.Findings = buildFindings(alerts, ix)
	r.Timeline = buildTimeline(alerts, ix)
	for _, a := range alerts {
		r.Severity.Add(a.Severity)
	}
	return r
}

func buildMeta(in Input) Meta {
	m := Meta{Generated: in.Generated.UTC(), MedtapVersion: in.Version, RuleSetVersion: RuleSetVersion(),
		Assets: len(in.Assets), Alerts: len(in.Alerts)}
	geo, vers := map[string]bool{}, map[string]bool{}
	seenIn := map[string]bool{}
	for _, r := range in.Runs {
		m.Runs = append(m.Runs, r)
		if r.GeoDBVersion != "" {
			geo[r.GeoDBVersion] = true
		}
		if r.MedtapVersion != "" {
			vers[r.MedtapVersion] = true
		}
		if !r.FirstPacket.IsZero() && (m.From.IsZero() || r.FirstPacket.Before(m.From)) {
			m.From = r.FirstPacket.UTC()
		}
		if r.LastPacket.After(m.To) {
			m.To = r.LastPacket.UTC()
		}
		for _, f := range r.Inputs {
			if !seenIn[f.SHA256+f.Path] {
				seenIn[f.SHA256+f.Path] = true
				m.Inputs = append(m.Inputs, f)
			}
		}
	}
	// Without runs (an inventory built elsewhere), the window is what the
	// assets and alerts span.
	if m.From.IsZero() {
		for _, a := range in.Assets {
			if !a.FirstSeen.IsZero() && (m.From.IsZero() || a.FirstSeen.Before(m.From)) {
				m.From = a.FirstSeen.UTC()
			}
			if a.LastSeen.After(m.To) {
				m.To = a.LastSeen.UTC()
			}
		}
	}
	m.GeoDBVersions, m.RunVersions = sortedKeys(geo), sortedKeys(vers)
	return m
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// index finds assets by id and by any address they used.
type index struct {
	byID map[string]*inventory.Asset
	byIP map[string]*inventory.Asset
}

func newIndex(as []inventory.Asset) *index {
	ix := &index{byID: map[string]*inventory.Asset{}, byIP: map[string]*inventory.Asset{}}
	for i := range as {
		a := &as[i]
		ix.byID[a.ID] = a
		for _, s := range a.IPs {
			if _, ok := ix.byIP[s.IP]; !ok {
				ix.byIP[s.IP] = a
			}
		}
	}
	// The current address wins over history.
	for i := range as {
		if as[i].IP != "" {
			ix.byIP[as[i].IP] = &as[i]
		}
	}
	return ix
}

// label names an asset for tables and diagrams: its strongest identity,
// then its address.
func label(a *inventory.Asset) string {
	var name string
	m := &a.Medical
	switch {
	case m.StationName != "":
		name = m.StationName
	case len(m.AETitles) > 0:
		name = m.AETitles[0].Title
	case len(m.HL7) > 0 && m.HL7[0].Application != "":
		name = m.HL7[0].Application
	case len(a.Hostnames) > 0:
		name = a.Hostnames[0].Name
	}
	if name == "" || name == a.IP {
		return a.IP
	}
	return name + " (" + a.IP + ")"
}

func identity(a *inventory.Asset) string {
	var parts []string
	m := &a.Medical
	if s := strings.TrimSpace(m.Manufacturer + " " + m.Model); s != "" {
		parts = append(parts, s)
	}
	if m.Modality != "" {
		parts = append(parts, m.Modality)
	}
	for i, ae := range m.AETitles {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("+%d AE", len(m.AETitles)-3))
			break
		}
		parts = append(parts, "AE "+ae.Title)
	}
	for i, h := range m.HL7 {
		if i == 2 {
			break
		}
		if h.Role == "sender" {
			parts = append(parts, "HL7 "+h.Application)
		}
	}
	return strings.Join(parts, ", ")
}

func buildDevices(as []inventory.Asset, alerts []inventory.AlertRecord, ix *index) []DeviceSummary {
	counts := map[string]*inventory.BySeverity{}
	contra := map[string]map[string]bool{}
	for i := range alerts {
		for _, id := range alertAssets(&alerts[i], ix) {
			if counts[id] == nil {
				counts[id], contra[id] = &inventory.BySeverity{}, map[string]bool{}
			}
			counts[id].Add(alerts[i].Severity)
			for _, c := range alerts[i].Capability {
				contra[id][c] = true
			}
		}
	}
	out := make([]DeviceSummary, 0, len(as))
	for i := range as {
		a := &as[i]
		d := DeviceSummary{ID: a.ID, Label: label(a), IP: a.IP, MAC: a.MAC, Vendor: a.Vendor, Class: a.Class,
			Identity: identity(a), Internal: a.Internal, Encrypted: a.MedicalEncryptedShare, Alerts: a.Risk.OpenAlerts,
			Contradicted: a.Risk.Contradicted}
		if c := counts[a.ID]; c != nil {
			d.Alerts = *c
			d.Contradicted = sortedKeys(contra[a.ID])
		}
		out = append(out, d)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if ci, cj := classOrder(out[i].Class), classOrder(out[j].Class); ci != cj {
			return ci < cj
		}
		return ipLess(out[i].IP, out[j].IP)
	})
	return out
}

func classOrder(c string) int {
	for i, x := range inventory.Classes {
		if x == c {
			return i
		}
	}
	return len(inventory.Classes)
}

func ipLess(a, b string) bool {
	x, e1 := netip.ParseAddr(a)
	y, e2 := netip.ParseAddr(b)
	if e1 != nil || e2 != nil {
		return a < b
	}
	return x.Less(y)
}

// alertAssets are the inventory asset ids an alert is about: the ids the
// store resolved, else its assets' addresses (or its flow's ends) looked up
// in the inventory; an address with no asset stands for itself.
func alertAssets(a *inventory.AlertRecord, ix *index) []string {
	if len(a.AssetIDs) > 0 {
		return a.AssetIDs
	}
	var out []string
	seen := map[string]bool{}
	for _, ip := range alertIPs(a) {
		id := ip
		if as := ix.byIP[ip]; as != nil {
			id = as.ID
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// assetName is the display name of an asset id or bare address.
func (ix *index) assetName(id string) string {
	if a := ix.byID[id]; a != nil {
		return label(a)
	}
	return id
}

// throughput is average bits per second over the seen span (at least 1 s).
func throughput(bytes uint64, first, last time.Time) float64 {
	d := last.Sub(first).Seconds()
	if d < 1 {
		d = 1
	}
	return float64(bytes) * 8 / d
}

// humanBits formats bits per second.
func humanBits(bps float64) string {
	switch {
	case bps >= 1e9:
		return fmt.Sprintf("%.1f Gbit/s", bps/1e9)
	case bps >= 1e6:
		return fmt.Sprintf("%.1f Mbit/s", bps/1e6)
	case bps >= 1e3:
		return fmt.Sprintf("%.1f kbit/s", bps/1e3)
	}
	return fmt.Sprintf("%.0f bit/s", bps)
}

// humanBytes formats a byte count.
func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	exp := int(math.Log(float64(n)) / math.Log(unit))
	if exp > 4 {
		exp = 4
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/math.Pow(unit, float64(exp)), "KMGT"[exp-1])
}
