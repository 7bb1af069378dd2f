package dicom

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/parsertest"
)

// serverPort is the TCP port a capture's DICOM server listened on.
func serverPort(t *testing.T, name string) uint16 {
	convs, err := parsertest.Streams(pcapPath(name))
	if err != nil || len(convs) == 0 {
		t.Fatalf("reading %s: %v", name, err)
	}
	return convs[0].Flow.Server.Port()
}

func haveCapture(t *testing.T, name string) {
	t.Helper()
	if _, err := os.Stat(pcapPath(name)); err != nil {
		t.Skipf("capture %s absent: %v", name, err)
	}
}

// TestCaptureChunking checks every capture conversation fed whole, byte by
// byte and split at every point gives the same events.
func TestCaptureChunking(t *testing.T) {
	for _, name := range captures {
		t.Run(name, func(t *testing.T) {
			haveCapture(t, name)
			convs, err := parsertest.Streams(pcapPath(name))
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range convs {
				rec := parsertest.CheckChunking(t, Factory, c)
				for _, e := range rec.Events {
					if a, ok := e.Body.(*parser.Anomaly); ok {
						t.Errorf("anomaly on a clean DCMTK capture: %+v", a)
					}
				}
			}
		})
	}
}

// TestCaptureNoPHI checks the synthetic patient values of the captured
// objects (pcaps/make/dicom/*.dump) never appear in the JSON, while the
// detection side sees them in memory.
func TestCaptureNoPHI(t *testing.T) {
	dumps, _ := filepath.Glob(filepath.Join("..", "..", "pcaps", "make", "dicom", "*.dump"))
	if len(dumps) == 0 {
		t.Skip("no pcaps/make/dicom/*.dump")
	}
	phiLine := regexp.MustCompile(`^\((0010|0008),(0010|0020|0030|0090)\) \w\w \[([^\]]+)\]`)
	values := map[string]bool{}
	for _, d := range dumps {
		b, err := os.ReadFile(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if m := phiLine.FindStringSubmatch(line); m != nil && (m[1] == "0010" || m[2] == "0090") {
				values[m[3]] = true
			}
		}
	}
	if !values["TEST^PATIENT"] || !values["TEST0001"] {
		t.Fatalf("expected the synthetic patient in the dumps, got %v", values)
	}
	for _, name := range captures {
		if strings.Contains(name, "echo") {
			continue // no dataset
		}
		t.Run(name, func(t *testing.T) {
			haveCapture(t, name)
			rec, _ := replayCapture(t, name)
			j := rec.JSON()
			for v := range values {
				if strings.Contains(j, v) {
					t.Errorf("JSON contains patient value %q", v)
				}
			}
			seen := 0
			for _, e := range rec.Events {
				if d, ok := e.Body.(*DIMSE); ok {
					for _, p := range d.PHI {
						if p.Tag == 0x00100010 && p.Value == "TEST^PATIENT" && p.Category == "name" {
							seen++
						}
					}
				}
			}
			if seen == 0 {
				t.Errorf("PatientName not available in memory")
			}
		})
	}
}

// tsharkView is what tshark's DICOM dissector reports for a capture.
type tsharkView struct {
	assocs    []string            // "calling>called" per A-ASSOCIATE-RQ
	abstracts map[string]bool     // proposed abstract syntax UIDs
	commands  map[string][]string // "C-STORE ID=1" -> response statuses seen
}

var (
	pdvCmd = regexp.MustCompile(`^\s+PDV, (C|N)-([A-Z-]+)-(RQ|RSP) ID=(\d+)(?: \(([^)]*)\))?`)
	uidIn  = regexp.MustCompile(`\(([0-9.]+)\)`)
)

func runTshark(t *testing.T, name string) tsharkView {
	t.Helper()
	path, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed")
	}
	decode := fmt.Sprintf("tcp.port==%d,dicom", serverPort(t, name))
	v := tsharkView{abstracts: map[string]bool{}, commands: map[string][]string{}}
	out, err := exec.Command(path, "-r", pcapPath(name), "-d", decode, "-Y", "dicom.pdu.type==1",
		"-T", "fields", "-E", "occurrence=f", "-e", "dicom.assoc.ae.calling", "-e", "dicom.assoc.ae.called").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) == 2 {
			v.assocs = append(v.assocs, strings.TrimSpace(f[0])+">"+strings.TrimSpace(f[1]))
		}
	}
	out, err = exec.Command(path, "-r", pcapPath(name), "-d", decode, "-Y", "dicom.pdu.type==1",
		"-T", "fields", "-e", "dicom.pctx.abss.syntax").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	for _, m := range uidIn.FindAllStringSubmatch(string(out), -1) {
		v.abstracts[m[1]] = true
	}
	out, err = exec.Command(path, "-r", pcapPath(name), "-d", decode, "-o", "dicom.tag_tree:TRUE", "-V").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if m := pdvCmd.FindStringSubmatch(sc.Text()); m != nil {
			key := m[1] + "-" + m[2] + " ID=" + m[4]
			if m[3] == "RSP" {
				v.commands[key] = append(v.commands[key], m[5])
			} else if _, ok := v.commands[key]; !ok {
				v.commands[key] = nil
			}
		}
	}
	return v
}

// TestAgainstTshark compares associations, AE titles, proposed abstract
// syntaxes, commands and statuses with tshark's DICOM dissector.
func TestAgainstTshark(t *testing.T) {
	for _, name := range captures {
		t.Run(name, func(t *testing.T) {
			haveCapture(t, name)
			want := runTshark(t, name)
			rec, _ := replayCapture(t, name)
			var assocs []string
			abstracts := map[string]bool{}
			commands := map[string]string{}
			for _, e := range rec.Events {
				switch b := e.Body.(type) {
				case *Association:
					assocs = append(assocs, b.CallingAE+">"+b.CalledAE)
					for _, pc := range b.PresentationContexts {
						abstracts[pc.AbstractSyntax] = true
					}
				case *DIMSE:
					commands[fmt.Sprintf("%s ID=%d", b.Command, b.MessageID)] = b.StatusClass
				}
			}
			if strings.Join(assocs, ",") != strings.Join(want.assocs, ",") {
				t.Errorf("associations %v, tshark %v", assocs, want.assocs)
			}
			if a, b := keys(abstracts), keys(want.abstracts); a != b {
				t.Errorf("abstract syntaxes\n ours   %s\n tshark %s", a, b)
			}
			if len(commands) != len(want.commands) {
				t.Errorf("commands %v, tshark %v", commands, want.commands)
			}
			for k, class := range commands {
				st, ok := want.commands[k]
				if !ok {
					t.Errorf("%s not seen by tshark", k)
					continue
				}
				tsharkClass := "none"
				if len(st) == 0 && tsharkMissesResponses[name] != "" {
					// tshark 4.0 loses the responses after a deflated
					// dataset; the capture script checks storescp received
					// every object, so each C-STORE succeeded.
					tsharkClass = tsharkMissesResponses[name]
				}
				if len(st) > 0 {
					tsharkClass = strings.ToLower(strings.Fields(st[len(st)-1])[0])
				}
				if class != tsharkClass {
					t.Errorf("%s: status class %s, tshark %q", k, class, st)
				}
			}
		})
	}
}

// tsharkMissesResponses names captures where tshark's dissector is wrong,
// with the status class the capture script guarantees instead.
var tsharkMissesResponses = map[string]string{"dicom-store-deflated.pcap": "success"}

func keys(m map[string]bool) string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}
