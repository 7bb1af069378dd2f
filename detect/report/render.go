package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Formats of the main report file.
const (
	FormatMarkdown = "md"
	FormatHTML     = "html"
	FormatJSON     = "json"
)

// Written lists the files a WriteDir call wrote, and whether SVG was
// rendered.
type Written struct {
	Files []string
	// SVGError is why the diagrams have no SVG (ErrNoGraphviz or a dot
	// failure); the DOT and Mermaid sources are written regardless.
	SVGError error
}

// WriteDir writes the report to dir: report.md|html|json in the format
// asked for, and in every case the electronic-interface table
// (interfaces.csv, interfaces.md), the capability matrix, findings and
// timeline as CSV, and each data-flow diagram as DOT, Mermaid and (with
// Graphviz) SVG. Each file is written through a temporary file and renamed
// when complete.
func (r *Report) WriteDir(dir, format, lang string) (Written, error) {
	var wr Written
	t, err := newTr(lang)
	if err != nil {
		return wr, err
	}
	switch format {
	case FormatMarkdown, FormatHTML, FormatJSON:
	default:
		return wr, fmt.Errorf("format %q: use md, html or json", format)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return wr, err
	}
	put := func(name string, b []byte) error {
		if err := writeAtomic(filepath.Join(dir, name), b); err != nil {
			return err
		}
		wr.Files = append(wr.Files, name)
		return nil
	}
	// Diagrams first: the HTML report inlines their SVG.
	svgs := make([][]byte, len(r.Diagrams))
	for i := range r.Diagrams {
		d := &r.Diagrams[i]
		base := fmt.Sprintf("dataflow-%d-%s", i+1, slug(d.Name))
		var dot, mmd bytes.Buffer
		if err := d.DOT(&dot, t.lang); err != nil {
			return wr, err
		}
		if err := d.Mermaid(&mmd, t.lang); err != nil {
			return wr, err
		}
		if err := put(base+".dot", dot.Bytes()); err != nil {
			return wr, err
		}
		if err := put(base+".mmd", mmd.Bytes()); err != nil {
			return wr, err
		}
		if wr.SVGError == nil {
			svg, err := RenderSVG(dot.Bytes())
			if err != nil {
				wr.SVGError = err
			} else {
				svgs[i] = svg
				if err := put(base+".svg", svg); err != nil {
					return wr, err
				}
			}
		}
	}
	csvs := []struct {
		name string
		fn   func(io.Writer, *tr) error
	}{
		{"interfaces.csv", r.interfacesCSV},
		{"capabilities.csv", r.matrixCSV},
		{"findings.csv", r.findingsCSV},
		{"timeline.csv", r.timelineCSV},
	}
	for _, c := range csvs {
		var b bytes.Buffer
		if t.lang == LangZH {
			b.WriteString("\ufeff") // so spreadsheet programs read UTF-8
		}
		if err := c.fn(&b, t); err != nil {
			return wr, err
		}
		if err := put(c.name, b.Bytes()); err != nil {
			return wr, err
		}
	}
	var imd bytes.Buffer
	r.interfacesMD(&imd, t)
	if err := put("interfaces.md", imd.Bytes()); err != nil {
		return wr, err
	}
	var main bytes.Buffer
	switch format {
	case FormatMarkdown:
		err = r.Markdown(&main, t.lang, wr.SVGError)
	case FormatHTML:
		err = r.HTML(&main, t.lang, svgs, wr.SVGError)
	case FormatJSON:
		err = r.JSON(&main)
	}
	if err != nil {
		return wr, err
	}
	if err := put("report."+format, main.Bytes()); err != nil {
		return wr, err
	}
	return wr, nil
}

var slugRE = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func slug(s string) string {
	s = strings.Trim(slugRE.ReplaceAllString(s, "-"), "-.")
	if len(s) > 40 {
		s = s[:40]
	}
	if s == "" {
		s = "capture"
	}
	return s
}

func writeAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	err = errors.Join(err, f.Close())
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// JSON writes the whole report as one JSON document.
func (r *Report) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func yesNo(t *tr, s string) string { return t.s(s) }

func (r *Report) interfaceHeader(t *tr) []string {
	return []string{t.s("Device"), t.s("Interface (intended use)"), t.s("Port"), t.s("Transport"), t.s("Protocol"),
		t.s("Standard or private"), t.s("LAN/WAN"), t.s("Data types"), t.s("Encryption"), t.s("Throughput (average)"),
		t.s("Flows"), t.s("Bytes"), t.s("First seen"), t.s("Last seen"),
		t.s("Intended users"), t.s("Interface form"), t.s("Usage limits")}
}

func (r *Report) interfaceRows(t *tr) [][]string {
	var out [][]string
	for i := range r.Interfaces {
		x := &r.Interfaces[i]
		cats := make([]string, len(x.DataTypes))
		for j, c := range x.DataTypes {
			cats[j] = t.cat(c)
		}
		out = append(out, []string{x.Device, interfaceUse(x, t), strconv.Itoa(int(x.Port)), x.Transport, x.Protocol,
			t.s(x.Standard), t.s(x.Network), strings.Join(cats, ", "), yesNo(t, x.Encryption), humanBits(x.Throughput),
			strconv.FormatUint(x.Flows, 10), strconv.FormatUint(x.Bytes, 10), stamp(x.FirstSeen), stamp(x.LastSeen), "", "", ""})
	}
	return out
}

func writeCSV(w io.Writer, head []string, rows [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, r := range rows {
		if err := cw.Write(csvSafe(r)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe defuses cells that spreadsheet programs would run as formulas:
// device names come from the wire.
func csvSafe(r []string) []string {
	out := make([]string, len(r))
	for i, c := range r {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) && !isNumber(c) {
			c = "'" + c
		}
		out[i] = c
	}
	return out
}

func isNumber(s string) bool { _, err := strconv.ParseFloat(s, 64); return err == nil }

func (r *Report) interfacesCSV(w io.Writer, t *tr) error {
	return writeCSV(w, r.interfaceHeader(t), r.interfaceRows(t))
}

func (r *Report) matrixHeader(t *tr) []string {
	return []string{t.s("Code"), t.s("Capability"), t.s("Observable by a network monitor"), t.s("Status"), t.s("Evidence"), t.s("Rules"), t.s("Alert ids")}
}

func (r *Report) matrixRows(t *tr) [][]string {
	var out [][]string
	for _, m := range r.Matrix {
		name, ev := m.NameEN, m.EvidenceEN
		if t.lang == LangZH {
			name, ev = m.NameZH, m.EvidenceZH
		}
		obs := t.s(m.Observable)
		if m.Observable == ObsNone {
			obs = t.s("no")
		}
		out = append(out, []string{m.Code, name, obs, t.s(m.Status), ev, strings.Join(m.Rules, " "), strings.Join(m.AlertIDs, " ")})
	}
	return out
}

func (r *Report) matrixCSV(w io.Writer, t *tr) error {
	return writeCSV(w, r.matrixHeader(t), r.matrixRows(t))
}

func (r *Report) findingsHeader(t *tr) []string {
	return []string{t.s("Device"), t.s("Rule"), t.s("Severity"), t.s("Title"), t.s("Alerts"), t.s("Count"), t.s("First seen"), t.s("Last seen"), t.s("Capability"), t.s("Alert ids")}
}

func (r *Report) findingsRows(t *tr) [][]string {
	var out [][]string
	for _, f := range r.Findings {
		out = append(out, []string{f.Device, f.RuleID, t.s(f.Severity), f.Title, strconv.Itoa(f.Alerts), strconv.Itoa(f.Count),
			f.FirstSeen, f.LastSeen, strings.Join(f.Capability, " "), strings.Join(f.AlertIDs, " ")})
	}
	return out
}

func (r *Report) findingsCSV(w io.Writer, t *tr) error {
	return writeCSV(w, r.findingsHeader(t), r.findingsRows(t))
}

func (r *Report) timelineHeader(t *tr) []string {
	return []string{t.s("Time"), t.s("Last seen"), t.s("Severity"), t.s("Rule"), t.s("Title"), t.s("Device"), t.s("Flow"), t.s("Count"), t.s("Alert id")}
}

func (r *Report) timelineRows(t *tr) [][]string {
	var out [][]string
	for _, e := range r.Timeline {
		out = append(out, []string{e.Time, e.End, t.s(e.Severity), e.RuleID, e.Title, strings.Join(e.Devices, "; "), e.Flow, strconv.Itoa(e.Count), e.AlertID})
	}
	return out
}

func (r *Report) timelineCSV(w io.Writer, t *tr) error {
	return writeCSV(w, r.timelineHeader(t), r.timelineRows(t))
}

// mdCell escapes a Markdown table cell.
func mdCell(s string) string {
	s = strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;").Replace(s)
	if s == "" {
		return " "
	}
	return s
}

func mdTable(w io.Writer, head []string, rows [][]string) {
	cells := make([]string, len(head))
	for i, h := range head {
		cells[i] = mdCell(h)
	}
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(cells, " | "), strings.Repeat("---|", len(head)))
	for _, r := range rows {
		for i := range cells {
			cells[i] = ""
			if i < len(r) {
				cells[i] = mdCell(r[i])
			}
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	fmt.Fprintln(w)
}

func (r *Report) interfacesMD(w io.Writer, t *tr) {
	fmt.Fprintf(w, "# %s\n\n%s\n\n", t.s("Electronic interfaces"), t.s("Columns left empty are not observable on the network and are for the manufacturer to fill in."))
	mdTable(w, r.interfaceHeader(t), r.interfaceRows(t))
}

func (r *Report) metaRows(t *tr) [][]string {
	m := &r.Meta
	window := t.s("none")
	if !m.From.IsZero() {
		window = m.From.Format(time.RFC3339) + " — " + m.To.Format(time.RFC3339)
	}
	or := func(l []string) string {
		if len(l) == 0 {
			return t.s("none")
		}
		return strings.Join(l, ", ")
	}
	return [][]string{
		{t.s("Generated"), m.Generated.Format(time.RFC3339)},
		{t.s("medtap version"), m.MedtapVersion},
		{t.s("Versions of the runs"), or(m.RunVersions)},
		{t.s("Rule-set version"), m.RuleSetVersion},
		{t.s("Geo database"), or(m.GeoDBVersions)},
		{t.s("Capture window"), window},
		{t.s("Assets"), strconv.Itoa(m.Assets)},
		{t.s("Alerts"), strconv.Itoa(m.Alerts)},
	}
}

func (r *Report) inputRows() [][]string {
	var out [][]string
	for _, f := range r.Meta.Inputs {
		out = append(out, []string{f.Path, strconv.FormatInt(f.Size, 10), f.SHA256})
	}
	return out
}

func (r *Report) deviceHeader(t *tr) []string {
	return []string{t.s("Device"), t.s("Class"), t.s("Identity"), t.s("MAC / vendor"), t.s("Medical encrypted"), t.s("Open alerts"), t.s("Contradicted")}
}

func (r *Report) deviceRows(t *tr) [][]string {
	var out [][]string
	for _, d := range r.Devices {
		mac := d.MAC
		if d.Vendor != "" {
			mac += " " + d.Vendor
		}
		enc := "-"
		if d.Encrypted != nil {
			enc = fmt.Sprintf("%.0f%%", *d.Encrypted*100)
		}
		al := "0"
		if n := d.Alerts.Total(); n > 0 {
			al = fmt.Sprintf("%d (%s %d, %s %d)", n, t.s("critical"), d.Alerts.Critical, t.s("high"), d.Alerts.High)
		}
		out = append(out, []string{d.Label, t.class(d.Class), d.Identity, mac, enc, al, strings.Join(d.Contradicted, " ")})
	}
	return out
}

// Markdown writes the report as one Markdown document; diagrams are linked
// (SVG) and their Mermaid source is embedded.
func (r *Report) Markdown(w io.Writer, lang string, svgErr error) error {
	t, err := newTr(lang)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\n\n## %s\n\n", t.s("medtap evidence report"), t.s("Capture metadata"))
	mdTable(&b, []string{"", ""}, r.metaRows(t))
	if rows := r.inputRows(); len(rows) > 0 {
		fmt.Fprintf(&b, "### %s\n\n", t.s("Input files"))
		mdTable(&b, []string{t.s("File"), t.s("Size"), "SHA-256"}, rows)
	}
	fmt.Fprintf(&b, "## %s\n\n", t.s("Devices"))
	mdTable(&b, r.deviceHeader(t), r.deviceRows(t))
	fmt.Fprintf(&b, "## %s\n\n", t.s("Data-flow diagrams"))
	if svgErr != nil {
		fmt.Fprintf(&b, "> %s\n\n", svgNote(t, svgErr))
	}
	for i := range r.Diagrams {
		d := &r.Diagrams[i]
		base := fmt.Sprintf("dataflow-%d-%s", i+1, slug(d.Name))
		fmt.Fprintf(&b, "### %s: %s\n\n%s %d, %s %d. ", t.s("Scenario"), mdCell(d.Name), t.s("Nodes"), len(d.Nodes), t.s("Flows"), len(d.Edges))
		if svgErr == nil {
			fmt.Fprintf(&b, "![%s](%s.svg)\n\n", mdCell(d.Name), base)
		} else {
			fmt.Fprintf(&b, "(%s.dot)\n\n", base)
		}
		var mmd bytes.Buffer
		if err := d.Mermaid(&mmd, t.lang); err != nil {
			return err
		}
		fmt.Fprintf(&b, "```mermaid\n%s```\n\n", mmd.String())
	}
	fmt.Fprintf(&b, "## %s\n\n%s\n\n", t.s("Electronic interfaces"), t.s("Columns left empty are not observable on the network and are for the manufacturer to fill in."))
	mdTable(&b, r.interfaceHeader(t), r.interfaceRows(t))
	fmt.Fprintf(&b, "## %s\n\n", t.s("Capability evidence matrix"))
	mdTable(&b, r.matrixHeader(t), r.matrixRows(t))
	fmt.Fprintf(&b, "## %s\n\n", t.s("Findings"))
	if len(r.Findings) == 0 {
		fmt.Fprintf(&b, "%s\n\n", t.s("No alerts."))
	} else {
		mdTable(&b, r.findingsHeader(t), r.findingsRows(t))
	}
	fmt.Fprintf(&b, "## %s\n\n", t.s("Timeline"))
	if len(r.Timeline) < r.Meta.Alerts {
		fmt.Fprintf(&b, "%s\n\n", fmt.Sprintf(t.s("Timeline truncated to the %d most severe alerts."), len(r.Timeline)))
	}
	if len(r.Timeline) == 0 {
		fmt.Fprintf(&b, "%s\n\n", t.s("No alerts."))
	} else {
		mdTable(&b, r.timelineHeader(t), r.timelineRows(t))
	}
	_, err = w.Write(b.Bytes())
	return err
}

func svgNote(t *tr, err error) string {
	if errors.Is(err, ErrNoGraphviz) {
		return t.s("SVG not rendered: Graphviz 'dot' was not found (Debian package graphviz); the DOT and Mermaid sources are written.")
	}
	return err.Error()
}
