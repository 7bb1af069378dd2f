package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/medtap/medtap/detect"
	"github.com/medtap/medtap/detect/inventory"
)

var keepDir = flag.String("keep", "", "write the synthetic 50-device reports to this directory (to look at them)")

func synthReport(n int) *Report {
	as, alerts, runs := synthHospital(n)
	return Build(Input{Assets: as, Alerts: alerts, Runs: runs, Generated: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC), Version: "test"})
}

// checkXML parses b as XML (every token).
func checkXML(t *testing.T, name string, b []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	for {
		_, err := dec.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("%s: not well-formed XML: %v", name, err)
		}
	}
}

// externalRef finds anything in a page that would make a browser fetch.
var externalRef = regexp.MustCompile(`(?i)(<script|<link|<img|<iframe|\bsrc\s*=|@import|url\(|href\s*=\s*"(https?:)?//)`)

func TestReportBothLanguages(t *testing.T) {
	if _, err := exec.LookPath("dot"); err != nil {
		t.Skip("Graphviz dot not installed (Debian package graphviz): the SVG checks need it")
	}
	r := synthReport(50)
	as, _, _ := synthHospital(50)
	for _, lang := range []string{LangEN, LangZH} {
		for _, format := range []string{FormatHTML, FormatMarkdown, FormatJSON} {
			t.Run(lang+"-"+format, func(t *testing.T) {
				dir := t.TempDir()
				if *keepDir != "" {
					dir = filepath.Join(*keepDir, lang+"-"+format)
				}
				wr, err := r.WriteDir(dir, format, lang)
				if err != nil {
					t.Fatal(err)
				}
				if wr.SVGError != nil {
					t.Fatalf("svg: %v", wr.SVGError)
				}
				svg, err := os.ReadFile(filepath.Join(dir, "dataflow-1-ward-a.pcap.svg"))
				if err != nil {
					t.Fatalf("%v (wrote %v)", err, wr.Files)
				}
				checkXML(t, "svg", svg)
				for _, a := range as {
					if !bytes.Contains(svg, []byte(a.IP)) {
						t.Errorf("svg lacks asset %s (%s)", a.ID, a.IP)
					}
				}
				for _, f := range []string{"interfaces.csv", "interfaces.md", "capabilities.csv", "findings.csv", "timeline.csv",
					"dataflow-1-ward-a.pcap.dot", "dataflow-1-ward-a.pcap.mmd", "report." + format} {
					if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
						t.Errorf("%s: %v", f, err)
					}
				}
				main, _ := os.ReadFile(filepath.Join(dir, "report."+format))
				ifc, _ := os.ReadFile(filepath.Join(dir, "interfaces.csv"))
				if lang == LangZH {
					for _, h := range []string{"预期用途", "数据类型", "技术特征", "网络类型", "数据接口"} {
						if !bytes.Contains(ifc, []byte(h)) {
							t.Errorf("interfaces.csv lacks the guideline header %s", h)
						}
					}
					if format != FormatJSON {
						for _, h := range []string{"电子接口情况", "数据架构", "网络安全能力证据矩阵", "被证据否定", "时间线"} {
							if !bytes.Contains(main, []byte(h)) {
								t.Errorf("report lacks %s", h)
							}
						}
						if bytes.Contains(main, []byte("Electronic interfaces")) || bytes.Contains(main, []byte("Capture metadata")) {
							t.Error("Chinese report has English headings")
						}
					}
				} else if format != FormatJSON {
					for _, h := range []string{"Electronic interfaces", "Capability evidence matrix", "contradicted", "Timeline"} {
						if !bytes.Contains(main, []byte(h)) {
							t.Errorf("report lacks %s", h)
						}
					}
				}
				switch format {
				case FormatHTML:
					if m := externalRef.Find(main); m != nil {
						t.Errorf("HTML would fetch something: %q", m)
					}
					if !bytes.Contains(main, []byte("<svg")) || !bytes.Contains(main, []byte("<style>")) {
						t.Error("HTML lacks the inline SVG or CSS")
					}
				case FormatJSON:
					if !bytes.Contains(main, []byte(`"capability_matrix"`)) {
						t.Error("JSON lacks the matrix")
					}
				}
				// Metadata in every main report.
				for _, s := range []string{"4f2a9c0e6b1d3f5a7c9e0b2d4f6a8c0e1b3d5f7a9c0e2b4d6f8a0c2e4b6d8f0a", RuleSetVersion(), "geo-whois-asn-country 2026-11-01", "v0.9.0"} {
					if !bytes.Contains(main, []byte(s)) {
						t.Errorf("report lacks metadata %q", s)
					}
				}
			})
		}
	}
}

func TestCapabilityMatrix(t *testing.T) {
	r := synthReport(50)
	if len(r.Matrix) != 22 {
		t.Fatalf("%d capabilities, want 22", len(r.Matrix))
	}
	want := map[string]string{
		"TXCF": StatusContradicted, // MT-PHI alerts
		"RMOT": StatusContradicted,
		"PLOK": StatusNotObservable, "SGUD": StatusNotObservable, "EMRG": StatusNotObservable,
		"CONN": StatusSupported, // services seen, no CONN alert
		"AUDT": StatusSupported, // syslog export
		"SBOM": StatusSupported, // DICOM implementations
		"DTBK": StatusNotObserved,
	}
	for _, row := range r.Matrix {
		if w, ok := want[row.Code]; ok && row.Status != w {
			t.Errorf("%s: %s, want %s (%s)", row.Code, row.Status, w, row.EvidenceEN)
		}
		if row.Status == StatusContradicted && (len(row.Rules) == 0 || len(row.AlertIDs) == 0) {
			t.Errorf("%s contradicted without rules or alert ids", row.Code)
		}
		if row.EvidenceEN == "" || row.EvidenceZH == "" {
			t.Errorf("%s: no evidence text", row.Code)
		}
	}
	// Every code of the rule table is one of the 22.
	codes := map[string]bool{}
	for _, c := range Capabilities {
		codes[c.Code] = true
	}
	for _, ru := range detect.Rules() {
		for _, c := range ru.Capability {
			if !codes[c] {
				t.Errorf("rule %s cites %s, not an NMPA 2022 code", ru.ID, c)
			}
		}
	}
}

func TestDiagramReadableAt50(t *testing.T) {
	r := synthReport(50)
	if len(r.Diagrams) != 1 {
		t.Fatalf("%d diagrams", len(r.Diagrams))
	}
	d := &r.Diagrams[0]
	var ext, devices int
	for _, n := range d.Nodes {
		switch n.Kind {
		case NodeExternal, NodeCountry:
			ext++
		case NodeDevice:
			devices++
		}
	}
	if devices != 50 {
		t.Errorf("%d device nodes, want 50", devices)
	}
	if ext > MaxExternalNodes {
		t.Errorf("%d external nodes drawn, want them folded to at most %d", ext, MaxExternalNodes)
	}
	// Parallel edges fold: at most one drawn edge per ordered node pair.
	seen := map[[2]string]bool{}
	for _, de := range aggregate(d) {
		k := [2]string{de.from, de.to}
		if seen[k] {
			t.Errorf("two drawn edges %v", k)
		}
		seen[k] = true
		if len(edgeLabel(&de, &tr{LangEN})) > maxEdgeLines+1 {
			t.Errorf("edge %v label too long", k)
		}
	}
}

func TestScenariosPerRun(t *testing.T) {
	as, alerts, _ := synthHospital(10)
	runs := []inventory.Run{
		{ID: 1, Sensor: "ward", FirstPacket: synthStart, LastPacket: synthStart.Add(20 * time.Minute)},
		{ID: 2, Sensor: "remote-maintenance", FirstPacket: synthStart.Add(29 * time.Minute), LastPacket: synthStart.Add(51 * time.Minute)},
	}
	r := Build(Input{Assets: as, Alerts: alerts, Runs: runs})
	if len(r.Diagrams) != 2 || r.Diagrams[0].Name != "ward" || r.Diagrams[1].Name != "remote-maintenance" {
		t.Fatalf("diagrams %+v", r.Diagrams)
	}
	hasSSH := func(d *Diagram) bool {
		for _, e := range d.Edges {
			if e.Protocol == "ssh" {
				return true
			}
		}
		return false
	}
	if hasSSH(&r.Diagrams[0]) || !hasSSH(&r.Diagrams[1]) {
		t.Error("the remote-maintenance flows belong to the second scenario only")
	}
}

func TestNoGraphviz(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	r := synthReport(5)
	dir := t.TempDir()
	wr, err := r.WriteDir(dir, FormatMarkdown, LangEN)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(wr.SVGError, ErrNoGraphviz) {
		t.Fatalf("SVGError %v", wr.SVGError)
	}
	if _, err := os.Stat(filepath.Join(dir, "dataflow-1-ward-a.pcap.dot")); err != nil {
		t.Error("no DOT without Graphviz")
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	if !bytes.Contains(md, []byte("graphviz")) {
		t.Error("the report does not say why there is no SVG")
	}
}

func TestTranslationsComplete(t *testing.T) {
	var keys []string
	for _, v := range catNames {
		keys = append(keys, v)
	}
	for _, v := range classNames {
		keys = append(keys, v)
	}
	for _, v := range styleName {
		keys = append(keys, v)
	}
	r := &Report{}
	en := &tr{LangEN}
	for _, f := range [][]string{r.interfaceHeader(en), r.matrixHeader(en), r.findingsHeader(en), r.timelineHeader(en), r.deviceHeader(en)} {
		keys = append(keys, f...)
	}
	keys = append(keys, StatusSupported, StatusContradicted, StatusNotObserved, StatusNotObservable, "standard", "private", "LAN", "WAN", "LAN+WAN", "yes", "no", "partly", "server", "client")
	for _, k := range keys {
		if _, ok := zh[k]; !ok {
			t.Errorf("no Chinese for %q", k)
		}
	}
}

func TestCSVFormulaInjection(t *testing.T) {
	got := csvSafe([]string{"=cmd()", "+1", "-12", "@x", "ok", ""})
	want := []string{"'=cmd()", "+1", "-12", "'@x", "ok", ""}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q", got)
	}
}

// An AE title or host name from the wire cannot break the DOT, Mermaid or
// HTML it is written into.
func TestHostileNames(t *testing.T) {
	as, alerts, runs := synthHospital(4)
	as[0].Medical.AETitles[0].Title = "X\"];evil[label=\"<script>alert(1)</script>"
	as[1].Hostnames = []inventory.Hostname{{Name: "a|b\n]]--> c"}}
	r := Build(Input{Assets: as, Alerts: alerts, Runs: runs})
	var dot, html bytes.Buffer
	if err := r.Diagrams[0].DOT(&dot, LangEN); err != nil {
		t.Fatal(err)
	}
	svg, err := RenderSVG(dot.Bytes())
	if errors.Is(err, ErrNoGraphviz) {
		t.Skip("Graphviz not installed")
	}
	if err != nil {
		t.Fatalf("dot rejected the escaped source: %v", err)
	}
	checkXML(t, "svg", svg)
	if bytes.Contains(svg, []byte("<script")) {
		t.Error("script element in SVG")
	}
	if err := r.HTML(&html, LangEN, [][]byte{svg}, nil); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(html.Bytes(), []byte("<script")) {
		t.Error("script element in HTML")
	}
}

// Every literal string the renderers translate has its Chinese.
func TestTranslationsInSource(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	re := regexp.MustCompile(`t\.s\("((?:[^"\\]|\\.)*)"\)`)
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllSubmatch(b, -1) {
			n++
			k := strings.ReplaceAll(string(m[1]), `\"`, `"`)
			if _, ok := zh[k]; !ok {
				t.Errorf("%s: no Chinese for %q", f, k)
			}
		}
	}
	if n < 20 {
		t.Fatalf("found only %d translated strings: is the pattern right?", n)
	}
}
