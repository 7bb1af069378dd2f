package report

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/medtap/medtap/detect/inventory"
)

// Diagram is the data-flow diagram of one capture or labelled scenario:
// devices and their peers as nodes, flows as edges (client to server).
type Diagram struct {
	Name  string    `json:"name"` // the scenario label (sensor name) or the capture
	From  time.Time `json:"from,omitzero"`
	To    time.Time `json:"to,omitzero"`
	Nodes []Node    `json:"nodes"`
	Edges []Edge    `json:"edges"`
}

// Node kinds.
const (
	NodeDevice   = "device"   // an inventory asset
	NodeExternal = "external" // a peer outside the internal networks, not an asset
	NodeCountry  = "country"  // external peers folded per country
	NodeInternal = "internal" // an internal peer not in the inventory
)

// Node is a device or a peer.
type Node struct {
	ID       string   `json:"id"`
	Label    string   `json:"label"`
	Kind     string   `json:"kind"`
	Class    string   `json:"class,omitempty"`
	IP       string   `json:"ip,omitempty"`
	Country  string   `json:"country,omitempty"`
	Internal bool     `json:"internal"`
	Alerts   int      `json:"alerts"`
	Severe   bool     `json:"severe"`            // high or critical alerts
	Members  []string `json:"members,omitempty"` // folded peers' addresses
}

// Edge is one kind of flow between two nodes: one protocol and port and
// data category, from the client to the server.
type Edge struct {
	From         string    `json:"from"`
	To           string    `json:"to"`
	Protocol     string    `json:"protocol"` // app_proto
	Transport    string    `json:"transport"`
	Port         uint16    `json:"port"`
	DataCategory string    `json:"data_category"`
	Encrypted    bool      `json:"encrypted"` // every flow seen was encrypted
	Flows        uint64    `json:"flows"`
	Bytes        uint64    `json:"bytes"`
	FirstSeen    time.Time `json:"first_seen"`
	LastSeen     time.Time `json:"last_seen"`
}

// scenario is a set of runs drawn together.
type scenario struct {
	name    string
	windows [][2]time.Time
}

// scenarios groups runs by their sensor label (a lab names each session
// after its scenario: "remote-maintenance", "ward"), else one per run. No
// runs, or one: one diagram of everything.
func scenarios(runs []inventory.Run) []scenario {
	if len(runs) <= 1 {
		name := "all"
		if len(runs) == 1 {
			name = runName(runs[0])
		}
		return []scenario{{name: name}}
	}
	var out []scenario
	at := map[string]int{}
	for _, r := range runs {
		name := runName(r)
		i, ok := at[name]
		if !ok {
			i = len(out)
			at[name] = i
			out = append(out, scenario{name: name})
		}
		if !r.FirstPacket.IsZero() {
			out[i].windows = append(out[i].windows, [2]time.Time{r.FirstPacket, r.LastPacket})
		}
	}
	return out
}

func runName(r inventory.Run) string {
	if r.Sensor != "" {
		return r.Sensor
	}
	if len(r.Inputs) == 1 {
		p := r.Inputs[0].Path
		if i := strings.LastIndexAny(p, `/\`); i >= 0 {
			p = p[i+1:]
		}
		return p
	}
	return fmt.Sprintf("run %d", r.ID)
}

// overlaps reports whether [f, l] meets any window (no windows: all).
func (s *scenario) overlaps(f, l time.Time) bool {
	if len(s.windows) == 0 {
		return true
	}
	for _, w := range s.windows {
		if !l.Before(w[0]) && !f.After(w[1]) {
			return true
		}
	}
	return false
}

func buildDiagrams(in Input, ix *index, alerts []inventory.AlertRecord) []Diagram {
	var out []Diagram
	for _, sc := range scenarios(in.Runs) {
		// Alerts count on a diagram when they fall in its scenario.
		alertN := map[string]int{}
		severe := map[string]bool{}
		for i := range alerts {
			a := &alerts[i]
			if !sc.overlaps(a.FirstSeen, a.LastSeen) {
				continue
			}
			for _, id := range alertAssets(a, ix) {
				alertN[id]++
				if AtOrAbove(a.Severity, "high") {
					severe[id] = true
				}
			}
		}
		d := buildDiagram(in.Assets, ix, &sc, alertN, severe)
		if len(sc.windows) > 0 {
			d.From, d.To = sc.windows[0][0], sc.windows[0][1]
			for _, w := range sc.windows[1:] {
				if w[0].Before(d.From) {
					d.From = w[0]
				}
				if w[1].After(d.To) {
					d.To = w[1]
				}
			}
		}
		out = append(out, d)
	}
	return out
}

type edgeKey struct {
	from, to, proto, transport, cat string
	port                            uint16
}

func buildDiagram(as []inventory.Asset, ix *index, sc *scenario, alertN map[string]int, severe map[string]bool) Diagram {
	d := Diagram{Name: sc.name}
	nodes := map[string]*Node{}
	edges := map[edgeKey]*Edge{}
	// External peers are counted first, to know whether to fold them.
	external := map[string]bool{}
	for i := range as {
		for _, p := range as[i].Peers {
			if sc.overlaps(p.FirstSeen, p.LastSeen) && ix.byIP[p.IP] == nil && p.AssetID == "" && !p.Internal {
				external[p.IP] = true
			}
		}
	}
	fold := len(external) > MaxExternalNodes
	addAsset := func(a *inventory.Asset) string {
		if n := nodes[a.ID]; n == nil {
			nodes[a.ID] = &Node{ID: a.ID, Label: label(a), Kind: NodeDevice, Class: classOr(a.Class), IP: a.IP,
				Country: a.Country, Internal: a.Internal, Alerts: alertN[a.ID], Severe: severe[a.ID]}
		}
		return a.ID
	}
	addPeer := func(p *inventory.Peer) string {
		if p.AssetID != "" {
			if a := ix.byID[p.AssetID]; a != nil {
				return addAsset(a)
			}
		}
		if a := ix.byIP[p.IP]; a != nil {
			return addAsset(a)
		}
		if p.Internal {
			id := "ip:" + p.IP
			if nodes[id] == nil {
				nodes[id] = &Node{ID: id, Label: p.IP, Kind: NodeInternal, Class: inventory.ClassUnknown, IP: p.IP, Internal: true,
					Alerts: alertN[p.IP], Severe: severe[p.IP]}
			}
			return id
		}
		cty := p.Country
		if cty == "" {
			cty = "??"
		}
		if fold {
			id := "country:" + cty
			n := nodes[id]
			if n == nil {
				n = &Node{ID: id, Kind: NodeCountry, Country: cty}
				nodes[id] = n
			}
			if !contains(n.Members, p.IP) {
				n.Members = append(n.Members, p.IP)
			}
			n.Alerts += alertN[p.IP]
			n.Severe = n.Severe || severe[p.IP]
			return id
		}
		id := "ip:" + p.IP
		if nodes[id] == nil {
			nodes[id] = &Node{ID: id, Label: p.IP, Kind: NodeExternal, IP: p.IP, Country: p.Country,
				Alerts: alertN[p.IP], Severe: severe[p.IP]}
		}
		return id
	}
	for i := range as {
		a := &as[i]
		if len(sc.windows) > 0 && !sc.overlaps(a.FirstSeen, a.LastSeen) {
			continue
		}
		self := addAsset(a)
		for j := range a.Peers {
			p := &a.Peers[j]
			if !sc.overlaps(p.FirstSeen, p.LastSeen) {
				continue
			}
			other := addPeer(p)
			k := edgeKey{from: self, to: other, proto: p.AppProto, transport: p.Transport, cat: catOr(p.DataCategory), port: p.Port}
			if p.Direction == "in" {
				k.from, k.to = other, self
			}
			e := edges[k]
			if e == nil {
				e = &Edge{From: k.from, To: k.to, Protocol: k.proto, Transport: k.transport, Port: k.port, DataCategory: k.cat,
					Encrypted: p.Encrypted, FirstSeen: p.FirstSeen, LastSeen: p.LastSeen}
				edges[k] = e
			}
			// Both ends of a link between two assets report it: the
			// same flows, so the larger count, not the sum.
			e.Flows, e.Bytes = max(e.Flows, p.Flows), max(e.Bytes, p.Bytes)
			e.Encrypted = e.Encrypted && p.Encrypted
			if p.FirstSeen.Before(e.FirstSeen) {
				e.FirstSeen = p.FirstSeen
			}
			if p.LastSeen.After(e.LastSeen) {
				e.LastSeen = p.LastSeen
			}
		}
	}
	for _, n := range nodes {
		if n.Kind == NodeCountry {
			sort.Strings(n.Members)
			n.Label = fmt.Sprintf("%s (%d)", n.Country, len(n.Members))
		}
		d.Nodes = append(d.Nodes, *n)
	}
	sort.Slice(d.Nodes, func(i, j int) bool {
		a, b := &d.Nodes[i], &d.Nodes[j]
		if ga, gb := groupOf(a), groupOf(b); ga != gb {
			return ga < gb
		}
		return ipLess(a.IP, b.IP) || (a.IP == b.IP && a.ID < b.ID)
	})
	for _, e := range edges {
		d.Edges = append(d.Edges, *e)
	}
	sort.Slice(d.Edges, func(i, j int) bool {
		a, b := &d.Edges[i], &d.Edges[j]
		if a.From != b.From {
			return a.From < b.From
		}
		if a.To != b.To {
			return a.To < b.To
		}
		if a.Port != b.Port {
			return a.Port < b.Port
		}
		return a.Protocol+a.DataCategory < b.Protocol+b.DataCategory
	})
	return d
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func classOr(c string) string {
	if c == "" {
		return inventory.ClassUnknown
	}
	return c
}

func catOr(c string) string {
	if c == "" {
		return inventory.CatUnknown
	}
	return c
}

// groupOf is the cluster a node is drawn in: internal devices by class,
// internal peers not in the inventory, external peers.
func groupOf(n *Node) string {
	switch n.Kind {
	case NodeExternal, NodeCountry:
		return "z_external"
	case NodeInternal:
		return fmt.Sprintf("y_%02d_%s", classOrder(inventory.ClassUnknown), "internal")
	}
	if !n.Internal {
		return "z_external"
	}
	return fmt.Sprintf("a_%02d_%s", classOrder(n.Class), n.Class)
}

// linkStyle is how an aggregated edge is drawn: the worst of its flows.
type linkStyle int

const (
	styleEncrypted    linkStyle = iota // every flow encrypted
	styleDevicePlain                   // device or unknown data in clear
	styleMedicalPlain                  // non-sensitive medical data in clear
	styleSensitive                     // patient data in clear
)

func edgeStyle(e *Edge) linkStyle {
	switch {
	case e.Encrypted:
		return styleEncrypted
	case e.DataCategory == inventory.CatSensitiveMedical:
		return styleSensitive
	case e.DataCategory == inventory.CatNonSensitiveMedical:
		return styleMedicalPlain
	}
	return styleDevicePlain
}

// Colours (stroke) per style, chosen to stay apart for common colour
// vision deficiencies (blue/orange/red/grey rather than red/green).
var styleColour = [...]string{
	styleEncrypted:    "#1f6fb4",
	styleDevicePlain:  "#7f7f7f",
	styleMedicalPlain: "#e08a00",
	styleSensitive:    "#c8102e",
}

// drawnEdge is the parallel edges of one node pair, drawn as one.
type drawnEdge struct {
	from, to string
	parts    []*Edge
	style    linkStyle
	bytes    uint64
}

// maxEdgeLines bounds the lines of one drawn edge's label.
const maxEdgeLines = 3

func aggregate(d *Diagram) []drawnEdge {
	var out []drawnEdge
	at := map[[2]string]int{}
	for i := range d.Edges {
		e := &d.Edges[i]
		k := [2]string{e.From, e.To}
		j, ok := at[k]
		if !ok {
			j = len(out)
			at[k] = j
			out = append(out, drawnEdge{from: e.From, to: e.To})
		}
		de := &out[j]
		de.parts = append(de.parts, e)
		de.bytes += e.Bytes
		de.style = max(de.style, edgeStyle(e))
	}
	return out
}

// edgeLabel is "dicom tcp/104 sensitive, clear" lines, most severe first.
func edgeLabel(de *drawnEdge, t *tr) []string {
	parts := append([]*Edge(nil), de.parts...)
	sort.SliceStable(parts, func(i, j int) bool { return edgeStyle(parts[i]) > edgeStyle(parts[j]) })
	var lines []string
	for i, e := range parts {
		if i == maxEdgeLines {
			lines = append(lines, fmt.Sprintf(t.s("+%d more"), len(parts)-maxEdgeLines))
			break
		}
		enc := t.s("clear")
		if e.Encrypted {
			enc = t.s("encrypted")
		}
		lines = append(lines, fmt.Sprintf("%s %s/%d · %s · %s", e.Protocol, e.Transport, e.Port, t.cat(e.DataCategory), enc))
	}
	return lines
}
