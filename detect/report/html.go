package report

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"regexp"
)

// svgStart finds the svg element in Graphviz output (after the XML
// declaration, DOCTYPE and comments, which cannot sit inside HTML).
var svgStart = regexp.MustCompile(`(?s)<svg[\s>]`)

// inlineSVG makes an SVG document embeddable in HTML.
func inlineSVG(svg []byte) template.HTML {
	loc := svgStart.FindIndex(svg)
	if loc == nil {
		return ""
	}
	// Graphviz escapes every label it writes; the markup is its own.
	return template.HTML(bytes.TrimSpace(svg[loc[0]:]))
}

type htmlTable struct {
	Head []string
	Rows [][]string
	// Class of each row (severity or status), for colour.
	RowClass []string
}

type htmlDiagram struct {
	Title   string
	Summary string
	SVG     template.HTML
	Mermaid string
}

type htmlPage struct {
	Lang                                  string
	T                                     func(string) string
	Meta, Inputs, Devices, Interfaces     htmlTable
	Matrix, Findings, Timeline            htmlTable
	Diagrams                              []htmlDiagram
	SVGNote, InterfacesNote, TimelineNote string
	Severity                              []sevCount
}

type sevCount struct {
	Class, Name string
	N           int
}

// HTML writes the report as one self-contained HTML page: CSS and the SVG
// diagrams inline, no script, no external resource.
func (r *Report) HTML(w io.Writer, lang string, svgs [][]byte, svgErr error) error {
	t, err := newTr(lang)
	if err != nil {
		return err
	}
	p := htmlPage{Lang: t.lang, T: t.s}
	p.Meta = htmlTable{Rows: r.metaRows(t)}
	p.Inputs = htmlTable{Head: []string{t.s("File"), t.s("Size"), "SHA-256"}, Rows: r.inputRows()}
	p.Devices = htmlTable{Head: r.deviceHeader(t), Rows: r.deviceRows(t)}
	for _, d := range r.Devices {
		cls := ""
		switch {
		case d.Alerts.Critical > 0:
			cls = "critical"
		case d.Alerts.High > 0:
			cls = "high"
		}
		p.Devices.RowClass = append(p.Devices.RowClass, cls)
	}
	p.Interfaces = htmlTable{Head: r.interfaceHeader(t)[:14], Rows: trimCols(r.interfaceRows(t), 14)}
	for _, x := range r.Interfaces {
		cls := ""
		if x.Encryption != "yes" && contains(x.DataTypes, "sensitive_medical") {
			cls = "high"
		}
		p.Interfaces.RowClass = append(p.Interfaces.RowClass, cls)
	}
	p.InterfacesNote = t.s("Columns left empty are not observable on the network and are for the manufacturer to fill in.")
	p.Matrix = htmlTable{Head: r.matrixHeader(t), Rows: r.matrixRows(t)}
	for _, m := range r.Matrix {
		p.Matrix.RowClass = append(p.Matrix.RowClass, map[string]string{StatusContradicted: "high", StatusSupported: "ok", StatusNotObservable: "muted"}[m.Status])
	}
	p.Findings = htmlTable{Head: r.findingsHeader(t), Rows: r.findingsRows(t)}
	for _, f := range r.Findings {
		p.Findings.RowClass = append(p.Findings.RowClass, f.Severity)
	}
	p.Timeline = htmlTable{Head: r.timelineHeader(t), Rows: r.timelineRows(t)}
	for _, e := range r.Timeline {
		p.Timeline.RowClass = append(p.Timeline.RowClass, e.Severity)
	}
	if len(r.Timeline) < r.Meta.Alerts {
		p.TimelineNote = fmt.Sprintf(t.s("Timeline truncated to the %d most severe alerts."), len(r.Timeline))
	}
	if svgErr != nil {
		p.SVGNote = svgNote(t, svgErr)
	}
	for i := range r.Diagrams {
		d := &r.Diagrams[i]
		hd := htmlDiagram{Title: t.s("Scenario") + ": " + d.Name,
			Summary: fmt.Sprintf("%s %d, %s %d", t.s("Nodes"), len(d.Nodes), t.s("Flows"), len(d.Edges))}
		if i < len(svgs) && svgs[i] != nil {
			hd.SVG = inlineSVG(svgs[i])
		}
		var mmd bytes.Buffer
		if err := d.Mermaid(&mmd, t.lang); err != nil {
			return err
		}
		hd.Mermaid = mmd.String()
		p.Diagrams = append(p.Diagrams, hd)
	}
	sv := r.Severity
	p.Severity = []sevCount{{"critical", t.s("critical"), sv.Critical}, {"high", t.s("high"), sv.High},
		{"medium", t.s("medium"), sv.Medium}, {"low", t.s("low"), sv.Low}, {"info", t.s("info"), sv.Info}}
	return pageTmpl.Execute(w, p)
}

func trimCols(rows [][]string, n int) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		if len(r) > n {
			r = r[:n]
		}
		out[i] = r
	}
	return out
}

var pageTmpl = template.Must(template.New("page").Funcs(template.FuncMap{"index_or": indexOr}).Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{call .T "medtap evidence report"}}</title>
<style>
:root { --fg:#1d232a; --muted:#6b7580; --line:#d9dee3; --head:#eef3f8; --crit:#8b0a1e; --high:#c8102e; --med:#e08a00; --low:#1f6fb4; --ok:#2b7a3d; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Noto Sans", "DejaVu Sans", system-ui, sans-serif; color: var(--fg); margin: 0 auto; padding: 24px 32px; max-width: 1500px; font-size: 14px; line-height: 1.45; }
h1 { font-size: 24px; margin: 0 0 8px; }
h2 { font-size: 19px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 6px; }
nav { margin: 8px 0 16px; }
nav a { margin-right: 14px; color: var(--low); text-decoration: none; }
.badges span { display: inline-block; padding: 3px 10px; margin-right: 6px; border-radius: 12px; color: #fff; font-weight: 600; font-size: 13px; }
.b-critical { background: var(--crit); } .b-high { background: var(--high); } .b-medium { background: var(--med); } .b-low { background: var(--low); } .b-info { background: var(--muted); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 7px; text-align: left; vertical-align: top; }
th { background: var(--head); position: sticky; top: 0; }
tr.critical td:first-child { border-left: 5px solid var(--crit); }
tr.high td:first-child { border-left: 5px solid var(--high); }
tr.medium td:first-child { border-left: 5px solid var(--med); }
tr.low td:first-child, tr.info td:first-child { border-left: 5px solid var(--low); }
tr.ok td:first-child { border-left: 5px solid var(--ok); }
tr.muted td { color: var(--muted); }
table.meta { width: auto; } table.meta td:first-child { font-weight: 600; background: var(--head); }
td.mono, .mono { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; }
.diagram { border: 1px solid var(--line); border-radius: 6px; padding: 8px; margin: 8px 0 16px; overflow: auto; max-height: 1400px; background: #fff; }
.diagram svg { display: block; margin: 0 auto; max-width: none; height: auto; }
.note { color: var(--muted); font-style: italic; }
details summary { cursor: pointer; color: var(--muted); }
pre { background: #f6f8fa; padding: 8px; overflow: auto; font-size: 12px; }
</style>
</head>
<body>
<h1>{{call .T "medtap evidence report"}}</h1>
<div class="badges">{{range .Severity}}<span class="b-{{.Class}}">{{.Name}} {{.N}}</span>{{end}}</div>
<nav><a href="#meta">{{call .T "Capture metadata"}}</a><a href="#devices">{{call .T "Devices"}}</a><a href="#dataflow">{{call .T "Data-flow diagrams"}}</a><a href="#interfaces">{{call .T "Electronic interfaces"}}</a><a href="#matrix">{{call .T "Capability evidence matrix"}}</a><a href="#findings">{{call .T "Findings"}}</a><a href="#timeline">{{call .T "Timeline"}}</a></nav>
{{define "table"}}<div class="scroll"><table>{{if .Head}}<thead><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr></thead>{{end}}<tbody>{{$rc := .RowClass}}{{range $i, $r := .Rows}}<tr{{with index_or $rc $i}} class="{{.}}"{{end}}>{{range $r}}<td>{{.}}</td>{{end}}</tr>{{end}}</tbody></table></div>{{end}}
<h2 id="meta">{{call .T "Capture metadata"}}</h2>
<table class="meta"><tbody>{{range .Meta.Rows}}<tr><td>{{index . 0}}</td><td>{{index . 1}}</td></tr>{{end}}</tbody></table>
{{if .Inputs.Rows}}<h3>{{call .T "Input files"}}</h3>{{template "table" .Inputs}}{{end}}
<h2 id="devices">{{call .T "Devices"}}</h2>
{{template "table" .Devices}}
<h2 id="dataflow">{{call .T "Data-flow diagrams"}}</h2>
{{if .SVGNote}}<p class="note">{{.SVGNote}}</p>{{end}}
{{range .Diagrams}}<h3>{{.Title}}</h3><p class="note">{{.Summary}}</p>{{if .SVG}}<div class="diagram">{{.SVG}}</div>{{end}}
<details><summary>Mermaid</summary><pre>{{.Mermaid}}</pre></details>{{end}}
<h2 id="interfaces">{{call .T "Electronic interfaces"}}</h2>
<p class="note">{{.InterfacesNote}}</p>
{{template "table" .Interfaces}}
<h2 id="matrix">{{call .T "Capability evidence matrix"}}</h2>
{{template "table" .Matrix}}
<h2 id="findings">{{call .T "Findings"}}</h2>
{{if .Findings.Rows}}{{template "table" .Findings}}{{else}}<p>{{call .T "No alerts."}}</p>{{end}}
<h2 id="timeline">{{call .T "Timeline"}}</h2>
{{if .TimelineNote}}<p class="note">{{.TimelineNote}}</p>{{end}}
{{if .Timeline.Rows}}{{template "table" .Timeline}}{{else}}<p>{{call .T "No alerts."}}</p>{{end}}
</body>
</html>
`))

// indexOr is l[i], or "" past its end.
func indexOr(l []string, i int) string {
	if i < len(l) {
		return l[i]
	}
	return ""
}
