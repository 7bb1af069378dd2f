package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os/exec"
	"strings"
	"time"
)

// dotTimeout bounds one Graphviz run.
const dotTimeout = 60 * time.Second

// ErrNoGraphviz is returned by RenderSVG when Graphviz's dot is not
// installed.
var ErrNoGraphviz = errors.New("graphviz 'dot' not found (install the Debian package graphviz); the DOT and Mermaid sources are still written")

// diagramFont is the font family diagrams ask for: it has the Chinese
// glyphs, and falls back to the viewer's sans-serif.
const diagramFont = "Noto Sans CJK SC,Noto Sans,DejaVu Sans,sans-serif"

// cluster is a group of nodes drawn together.
type cluster struct {
	key, title string
	nodes      []*Node
}

func clusters(d *Diagram, t *tr) (internal, external []cluster) {
	at := map[string]int{}
	var all []cluster
	for i := range d.Nodes {
		n := &d.Nodes[i]
		g := groupOf(n)
		j, ok := at[g]
		if !ok {
			j = len(all)
			at[g] = j
			var title string
			switch {
			case strings.HasPrefix(g, "z_"):
				title = t.s("External / WAN")
			case n.Kind == NodeInternal:
				title = t.s("Internal, not in inventory")
			default:
				title = t.class(n.Class)
			}
			all = append(all, cluster{key: g, title: title})
		}
		all[j].nodes = append(all[j].nodes, n)
	}
	for _, c := range all {
		if strings.HasPrefix(c.key, "z_") {
			external = append(external, c)
		} else {
			internal = append(internal, c)
		}
	}
	return internal, external
}

// dotID quotes a DOT identifier.
func dotID(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// htmlEsc escapes text for a DOT HTML-like label or for HTML/SVG.
func htmlEsc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

func nodeLines(n *Node, t *tr) []string {
	switch n.Kind {
	case NodeCountry:
		l := []string{n.Label}
		for i, m := range n.Members {
			if i == 3 {
				l = append(l, fmt.Sprintf(t.s("+%d more"), len(n.Members)-3))
				break
			}
			l = append(l, m)
		}
		return l
	case NodeExternal:
		if n.Country != "" {
			return []string{n.IP, n.Country}
		}
		return []string{n.IP}
	}
	l := strings.SplitN(n.Label, " (", 2)
	if len(l) == 2 {
		l[1] = strings.TrimSuffix(l[1], ")")
	}
	if n.Alerts > 0 {
		l = append(l, fmt.Sprintf("%s %d", t.s("Alerts"), n.Alerts))
	}
	return l
}

// penWidth grows with the log of the bytes carried.
func penWidth(bytes uint64) float64 {
	w := 1 + math.Log10(float64(bytes)+1)/3
	return math.Round(math.Min(w, 4)*10) / 10
}

// Layout tiers, left to right: internal clients, internal servers,
// external peers.
const (
	tierClient = iota
	tierServer
	tierExternal
)

// minBundle is the number of devices of one cluster with the same kind of
// flow to the same node from which the diagram draws one edge from the
// cluster instead of one per device.
const minBundle = 3

// tiers places each node: external peers right, internal nodes that
// internal nodes connect to in the middle, the rest left.
func tiers(d *Diagram) map[string]int {
	byID := map[string]*Node{}
	for i := range d.Nodes {
		byID[d.Nodes[i].ID] = &d.Nodes[i]
	}
	out := map[string]int{}
	for i := range d.Nodes {
		n := &d.Nodes[i]
		if groupOf(n) == "z_external" {
			out[n.ID] = tierExternal
		}
	}
	for _, e := range d.Edges {
		if f := byID[e.From]; f != nil && out[e.To] != tierExternal && out[e.From] != tierExternal {
			out[e.To] = tierServer
		}
	}
	return out
}

// DOT writes the diagram as Graphviz source. For readability at tens of
// devices: nodes sit in clusters by zone and device class, one column per
// cluster, clients left of servers and external peers right; parallel
// edges between two nodes fold into one labelled edge coloured by its
// worst flow; the same kind of flow from several devices of one cluster to
// one node is drawn once from the cluster; a legend explains the colours.
func (d *Diagram) DOT(w io.Writer, lang string) error {
	t, err := newTr(lang)
	if err != nil {
		return err
	}
	tier := tiers(d)
	var b bytes.Buffer
	fmt.Fprintf(&b, "digraph %s {\n", dotID("medtap "+d.Name))
	fmt.Fprintf(&b, "  graph [rankdir=LR, fontname=%s, fontsize=14, nodesep=0.18, ranksep=2.2, compound=true, labelloc=t, label=%s];\n",
		dotID(diagramFont), dotID(t.s("Data-flow diagrams")+": "+d.Name))
	fmt.Fprintf(&b, "  node [fontname=%s, fontsize=10, shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", color=\"#555555\", margin=\"0.1,0.03\"];\n", dotID(diagramFont))
	fmt.Fprintf(&b, "  edge [fontname=%s, fontsize=9, arrowsize=0.7];\n", dotID(diagramFont))
	internal, external := clusters(d, t)
	clusterOf := map[string]string{}
	writeNode := func(n *Node, indent string) {
		attrs := []string{"label=" + dotID(strings.Join(nodeLines(n, t), "\n"))}
		switch n.Kind {
		case NodeExternal, NodeCountry:
			attrs = append(attrs, `shape=ellipse`, `style="dashed,filled"`, `fillcolor="#f4f4f4"`)
		case NodeInternal:
			attrs = append(attrs, `style="rounded,dashed,filled"`, `fillcolor="#fafafa"`)
		}
		if n.Severe {
			attrs = append(attrs, `color="#c8102e"`, `penwidth=2.2`)
		}
		fmt.Fprintf(&b, "%s%s [%s];\n", indent, dotID(n.ID), strings.Join(attrs, ", "))
	}
	// Internal clusters split by tier, so each is one column.
	type col struct {
		id    string
		title string
		nodes []*Node
	}
	var cols []col
	for i, c := range internal {
		for _, tr := range []int{tierClient, tierServer} {
			var ns []*Node
			for _, n := range c.nodes {
				if tier[n.ID] == tr {
					ns = append(ns, n)
				}
			}
			if len(ns) > 0 {
				cols = append(cols, col{fmt.Sprintf("cluster_c%d_%d", i, tr), c.title, ns})
			}
		}
	}
	if len(cols) > 0 {
		fmt.Fprintf(&b, "  subgraph cluster_internal {\n    label=%s; style=\"rounded\"; color=\"#9aa7b4\"; fontsize=14;\n", dotID(t.s("Internal network")))
		for _, c := range cols {
			fmt.Fprintf(&b, "    subgraph %s {\n      label=%s; rank=same; style=\"rounded,filled\"; fillcolor=\"#eef3f8\"; color=\"#c5d3e0\"; fontsize=12;\n",
				c.id, dotID(fmt.Sprintf("%s (%d)", c.title, len(c.nodes))))
			for _, n := range c.nodes {
				writeNode(n, "      ")
				clusterOf[n.ID] = c.id
			}
			b.WriteString("    }\n")
		}
		b.WriteString("  }\n")
	}
	for i, c := range external {
		id := fmt.Sprintf("cluster_x%d", i)
		fmt.Fprintf(&b, "  subgraph %s {\n    label=%s; rank=same; style=\"rounded,filled\"; fillcolor=\"#fbf3ea\"; color=\"#e0c9a8\"; fontsize=12;\n",
			id, dotID(fmt.Sprintf("%s (%d)", c.title, len(c.nodes))))
		for _, n := range c.nodes {
			writeNode(n, "    ")
			clusterOf[n.ID] = id
		}
		b.WriteString("  }\n")
	}
	// Edges, laid out from the lower tier to the higher (an inbound
	// session from outside is drawn right to left with dir=back).
	type laid struct {
		tail, head string
		back       bool
		de         drawnEdge
		label      string
	}
	type bundleKey struct {
		cluster, head, label string
		back                 bool
	}
	var edges []laid
	bundles := map[bundleKey][]int{}
	for _, de := range aggregate(d) {
		l := laid{tail: de.from, head: de.to, de: de, label: strings.Join(edgeLabel(&de, t), "\n")}
		if tier[de.from] > tier[de.to] {
			l.tail, l.head, l.back = de.to, de.from, true
		}
		k := bundleKey{clusterOf[l.tail], l.head, l.label, l.back}
		bundles[k] = append(bundles[k], len(edges))
		edges = append(edges, l)
	}
	done := map[int]bool{}
	for i, l := range edges {
		if done[i] {
			continue
		}
		k := bundleKey{clusterOf[l.tail], l.head, l.label, l.back}
		attrs := []string{"color=" + dotID(styleColour[l.de.style]), "fontcolor=" + dotID(styleColour[l.de.style])}
		label := l.label
		var bytes uint64
		if members := bundles[k]; len(members) >= minBundle && k.cluster != "" && clusterOf[l.head] != k.cluster {
			for _, j := range members {
				done[j] = true
				bytes += edges[j].de.bytes
			}
			label += "\n" + fmt.Sprintf(t.s("from %d devices"), len(members))
			attrs = append(attrs, "ltail="+dotID(k.cluster))
			// From the middle member, so the edge leaves the group's
			// border half-way down rather than at one device.
			l.tail = edges[members[len(members)/2]].tail
		} else {
			bytes = l.de.bytes
		}
		attrs = append(attrs, "label="+dotID(label), fmt.Sprintf("penwidth=%.1f", penWidth(bytes)))
		if l.back {
			attrs = append(attrs, "dir=back")
		}
		if l.de.style == styleSensitive {
			attrs = append(attrs, "style=bold")
		}
		fmt.Fprintf(&b, "  %s -> %s [%s];\n", dotID(l.tail), dotID(l.head), strings.Join(attrs, ", "))
	}
	// The legend: an HTML-like table in a cluster of its own.
	fmt.Fprintf(&b, "  subgraph cluster_legend {\n    label=%s; style=\"rounded\"; color=\"#bbbbbb\"; fontsize=9;\n", dotID(t.s("Legend")))
	var lg strings.Builder
	lg.WriteString(`<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2">`)
	for _, s := range []linkStyle{styleSensitive, styleMedicalPlain, styleDevicePlain, styleEncrypted} {
		fmt.Fprintf(&lg, `<TR><TD><FONT COLOR="%s">━━▶</FONT></TD><TD ALIGN="LEFT">%s</TD></TR>`, styleColour[s], htmlEsc(t.s(styleName[s])))
	}
	fmt.Fprintf(&lg, `<TR><TD><FONT COLOR="#c8102e">▭</FONT></TD><TD ALIGN="LEFT">%s</TD></TR>`, htmlEsc(t.s("device with high or critical alerts")))
	fmt.Fprintf(&lg, `<TR><TD COLSPAN="2" ALIGN="LEFT">%s</TD></TR>`, htmlEsc(t.s("Arrows go from the client (the side that opened the connection) to the server.")))
	fmt.Fprintf(&lg, `<TR><TD COLSPAN="2" ALIGN="LEFT">%s</TD></TR>`, htmlEsc(t.s("An edge from a group's border stands for the same flow from several of its devices.")))
	lg.WriteString(`</TABLE>>`)
	fmt.Fprintf(&b, "    legend [shape=plaintext, style=\"\", fontsize=8, label=%s];\n  }\n", lg.String())
	b.WriteString("}\n")
	_, err = w.Write(b.Bytes())
	return err
}

var styleName = [...]string{
	styleEncrypted:    "all flows encrypted",
	styleDevicePlain:  "device or unknown data in clear",
	styleMedicalPlain: "medical data in clear",
	styleSensitive:    "patient data in clear",
}

// Mermaid writes the diagram as a Mermaid flowchart.
func (d *Diagram) Mermaid(w io.Writer, lang string) error {
	t, err := newTr(lang)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString("flowchart LR\n")
	ids := map[string]string{}
	for i := range d.Nodes {
		ids[d.Nodes[i].ID] = fmt.Sprintf("n%d", i)
	}
	q := func(s string) string {
		return `"` + strings.NewReplacer(`"`, "#quot;", "\n", "<br/>").Replace(s) + `"`
	}
	internal, external := clusters(d, t)
	writeNode := func(n *Node, indent string) {
		text := q(strings.Join(nodeLines(n, t), "\n"))
		switch n.Kind {
		case NodeExternal, NodeCountry:
			fmt.Fprintf(&b, "%s%s([%s])\n", indent, ids[n.ID], text)
		default:
			fmt.Fprintf(&b, "%s%s[%s]\n", indent, ids[n.ID], text)
		}
		if n.Severe {
			fmt.Fprintf(&b, "%sclass %s severe\n", indent, ids[n.ID])
		}
	}
	if len(internal) > 0 {
		fmt.Fprintf(&b, "  subgraph internal[%s]\n", q(t.s("Internal network")))
		for i, c := range internal {
			fmt.Fprintf(&b, "    subgraph c%d[%s]\n", i, q(fmt.Sprintf("%s (%d)", c.title, len(c.nodes))))
			for _, n := range c.nodes {
				writeNode(n, "      ")
			}
			b.WriteString("    end\n")
		}
		b.WriteString("  end\n")
	}
	for i, c := range external {
		fmt.Fprintf(&b, "  subgraph x%d[%s]\n", i, q(fmt.Sprintf("%s (%d)", c.title, len(c.nodes))))
		for _, n := range c.nodes {
			writeNode(n, "    ")
		}
		b.WriteString("  end\n")
	}
	var styles []string
	for i, de := range aggregate(d) {
		fmt.Fprintf(&b, "  %s -->|%s| %s\n", ids[de.from], q(strings.Join(edgeLabel(&de, t), "\n")), ids[de.to])
		styles = append(styles, fmt.Sprintf("  linkStyle %d stroke:%s,stroke-width:%.1fpx\n", i, styleColour[de.style], penWidth(de.bytes)))
	}
	for _, s := range styles {
		b.WriteString(s)
	}
	b.WriteString("  classDef severe stroke:#c8102e,stroke-width:3px\n")
	_, err = w.Write(b.Bytes())
	return err
}

// RenderSVG runs Graphviz's dot on DOT source. ErrNoGraphviz when dot is
// not installed.
func RenderSVG(dot []byte) ([]byte, error) {
	path, err := exec.LookPath("dot")
	if err != nil {
		return nil, ErrNoGraphviz
	}
	ctx, cancel := context.WithTimeout(context.Background(), dotTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "-Tsvg")
	cmd.Stdin = bytes.NewReader(dot)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		return nil, fmt.Errorf("graphviz dot: %w: %s", err, msg)
	}
	return out.Bytes(), nil
}
