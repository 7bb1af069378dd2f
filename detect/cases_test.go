package detect

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/medtap/medtap/detect/internal/capgen"
	"github.com/medtap/medtap/detect/policy"
	"github.com/medtap/medtap/parsers"
	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/flow"
	"github.com/medtap/medtap/sensor/pipeline"
)

// A declarative case lives in testdata/cases/<name>/:
//
//	case.yaml      the input: real captures (re-addressed, re-timed) and
//	               synthetic conversations, concatenated into one pcap
//	policy.yaml    the policy (optional: the built-in default)
//	expected.yaml  alert counts and field matches
//
// The runner builds the capture, runs the real pipeline (parsers.All) with
// the Engine as its sink, and checks the alerts.

type caseSpec struct {
	Description string      `yaml:"description"`
	Start       string      `yaml:"start"` // RFC 3339; default: first input's own time
	Evidence    string      `yaml:"evidence"`
	Inputs      []inputSpec `yaml:"inputs"`
}

type inputSpec struct {
	At string `yaml:"at"` // offset from the case start; default: 1s after the previous input

	Pcap          string `yaml:"pcap"` // relative to the case directory
	ServerPort    uint16 `yaml:"server_port"`
	Client        string `yaml:"client"`
	Server        string `yaml:"server"`
	NewServerPort uint16 `yaml:"new_server_port"`

	Conn *connSpec `yaml:"conn"`
	UDP  *connSpec `yaml:"udp"`
}

type connSpec struct {
	Client    string              `yaml:"client"` // ip:port
	Server    string              `yaml:"server"`
	Handshake string              `yaml:"handshake"` // full (default), synack (SYN, SYN-ACK, RST), syn (SYN, RST)
	Send      []sendSpec          `yaml:"send"`
	DICOM     *capgen.Association `yaml:"dicom"`
	Close     string              `yaml:"close"` // fin (default), rst, none
	Step      string              `yaml:"step"`
}

type sendSpec struct {
	Dir  string `yaml:"dir"` // client or server
	Text string `yaml:"text"`
	MLLP string `yaml:"mllp"` // HL7 message, segments one per line
}

type expectSpec struct {
	Total *int             `yaml:"total"`
	Rules map[string]int   `yaml:"rules"` // exact count per listed rule
	Match []map[string]any `yaml:"match"`
}

func loadYAML(t *testing.T, path string, v any) bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return true
}

// buildCapture writes the case's capture to out.
func buildCapture(dir string, cs *caseSpec, out string) error {
	var buf bytes.Buffer
	w := capgen.NewWriter(&buf)
	var start time.Time
	if cs.Start != "" {
		t, err := time.Parse(time.RFC3339, cs.Start)
		if err != nil {
			return err
		}
		start = t
	}
	next := start
	for i, in := range cs.Inputs {
		at := next
		if in.At != "" {
			d, err := time.ParseDuration(in.At)
			if err != nil {
				return fmt.Errorf("input %d: at: %w", i, err)
			}
			at = start.Add(d)
		}
		switch {
		case in.Pcap != "":
			pk, err := capgen.ReadPcap(filepath.Join(dir, in.Pcap))
			if err != nil {
				return err
			}
			if len(pk) == 0 {
				continue
			}
			if start.IsZero() {
				start, at = pk[0].T, pk[0].T
			}
			var rw *capgen.Rewrite
			if in.ServerPort != 0 {
				rw = &capgen.Rewrite{ServerPort: in.ServerPort, Client: netip.MustParseAddr(in.Client),
					Server: netip.MustParseAddr(in.Server), NewServerPort: in.NewServerPort}
			}
			shift := at.Sub(pk[0].T)
			for _, p := range pk {
				if rw != nil {
					rw.Apply(p.Frame)
				}
				w.Frame(p.T.Add(shift), p.Frame)
			}
		case in.Conn != nil:
			if start.IsZero() {
				return fmt.Errorf("input %d: a synthetic first input needs start", i)
			}
			c := &capgen.Conn{W: w, Client: netip.MustParseAddrPort(in.Conn.Client), Server: netip.MustParseAddrPort(in.Conn.Server), T: at}
			if in.Conn.Step != "" {
				d, err := time.ParseDuration(in.Conn.Step)
				if err != nil {
					return err
				}
				c.Step = d
			}
			switch in.Conn.Handshake {
			case "", "full":
				c.Open()
			case "synack":
				c.Open()
				c.Reset(0)
			case "syn":
				c.Segment(0, capgen.SYN, nil)
				c.Segment(1, capgen.RST|capgen.ACK, nil)
			default:
				return fmt.Errorf("input %d: handshake %q", i, in.Conn.Handshake)
			}
			if in.Conn.Handshake == "synack" || in.Conn.Handshake == "syn" {
				break
			}
			for _, s := range in.Conn.Send {
				c.Send(dirOf(s.Dir), payloadOf(s))
			}
			if in.Conn.DICOM != nil {
				if err := in.Conn.DICOM.Talk(c); err != nil {
					return err
				}
			}
			switch in.Conn.Close {
			case "", "fin":
				c.Close()
			case "rst":
				c.Reset(0)
			case "none":
			default:
				return fmt.Errorf("input %d: close %q", i, in.Conn.Close)
			}
		case in.UDP != nil:
			t := at
			cl, sv := netip.MustParseAddrPort(in.UDP.Client), netip.MustParseAddrPort(in.UDP.Server)
			for _, s := range in.UDP.Send {
				src, dst := cl, sv
				if dirOf(s.Dir) == 1 {
					src, dst = sv, cl
				}
				capgen.UDP(w, t, src, dst, payloadOf(s))
				t = t.Add(time.Millisecond)
			}
		default:
			return fmt.Errorf("input %d: needs pcap, conn or udp", i)
		}
		next = w.Last.Add(time.Second)
	}
	if err := w.Err(); err != nil {
		return err
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

func dirOf(s string) int {
	if s == "server" {
		return 1
	}
	return 0
}

func payloadOf(s sendSpec) []byte {
	if s.MLLP != "" {
		msg := strings.ReplaceAll(strings.TrimRight(s.MLLP, "\n"), "\n", "\r") + "\r"
		return capgen.MLLP(msg)
	}
	return []byte(s.Text)
}

// collect is a sink that keeps events.
type collect struct {
	evs []*event.Event
	js  bytes.Buffer
}

func (c *collect) Write(evs []*event.Event) error {
	for _, ev := range evs {
		b, err := ev.AppendJSON(nil)
		if err != nil {
			return err
		}
		c.js.Write(b)
		c.js.WriteByte('\n')
	}
	c.evs = append(c.evs, evs...)
	return nil
}

// tee passes events to the engine and keeps their JSON.
type tee struct {
	events collect
	eng    *Engine
}

func (t *tee) Write(evs []*event.Event) error {
	if err := t.events.Write(evs); err != nil {
		return err
	}
	return t.eng.Write(evs)
}

// runResult is what one run produced.
type runResult struct {
	alerts []map[string]any
	events string // events JSON lines
	alertJ string // alerts JSON lines
	log    string // errors reported by the pipeline
}

var testKey = bytes.Repeat([]byte{0x42}, 32)

// runCase runs one case; evidence overrides the case's evidence mode when
// not nil.
func runCase(t *testing.T, dir string, evidence *string) (*caseSpec, runResult) {
	t.Helper()
	var cs caseSpec
	if !loadYAML(t, filepath.Join(dir, "case.yaml"), &cs) {
		t.Fatalf("%s: no case.yaml", dir)
	}
	pcap := filepath.Join(t.TempDir(), "input.pcap")
	if err := buildCapture(dir, &cs, pcap); err != nil {
		t.Fatalf("build capture: %v", err)
	}
	pol := policy.Default()
	if _, err := os.Stat(filepath.Join(dir, "policy.yaml")); err == nil {
		p, err := LoadPolicy(filepath.Join(dir, "policy.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		pol = p
	}
	mode := cs.Evidence
	if evidence != nil {
		mode = *evidence
	}
	alerts := &collect{}
	eng, err := New(pol, Options{AlertSink: alerts, Key: testKey, Evidence: mode})
	if err != nil {
		t.Fatal(err)
	}
	sink := &tee{eng: eng}
	var logb strings.Builder
	p := pipeline.New(pipeline.Config{Workers: 1, Flow: flow.Config{Parsers: parsers.All}})
	st := p.Run(context.Background(), []string{pcap}, sink, func(err error) { fmt.Fprintln(&logb, err) })
	if st.SinkErr != nil {
		t.Fatal(st.SinkErr)
	}
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	var res runResult
	res.events, res.alertJ, res.log = sink.events.js.String(), alerts.js.String(), logb.String()
	for _, line := range strings.Split(strings.TrimSpace(res.alertJ), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		res.alerts = append(res.alerts, m)
	}
	return &cs, res
}

func caseDirs(t *testing.T) []string {
	dirs, err := filepath.Glob("testdata/cases/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	sort.Strings(dirs)
	return dirs
}

func TestCases(t *testing.T) {
	for _, dir := range caseDirs(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var exp expectSpec
			if !loadYAML(t, filepath.Join(dir, "expected.yaml"), &exp) {
				t.Fatal("no expected.yaml")
			}
			_, res := runCase(t, dir, nil)
			dump := func() string {
				var b strings.Builder
				for _, a := range res.alerts {
					j, _ := json.Marshal(a["alert"])
					b.WriteString(string(j) + "\n")
				}
				return b.String()
			}
			if os.Getenv("DETECT_DUMP") != "" {
				t.Log("\n" + dump())
			}
			if exp.Total != nil && len(res.alerts) != *exp.Total {
				t.Errorf("got %d alerts, want %d:\n%s", len(res.alerts), *exp.Total, dump())
			}
			got := map[string]int{}
			for _, a := range res.alerts {
				got[a["alert"].(map[string]any)["rule_id"].(string)]++
			}
			for id, n := range exp.Rules {
				if got[id] != n {
					t.Errorf("rule %s: got %d alerts, want %d:\n%s", id, got[id], n, dump())
				}
			}
			for i, m := range exp.Match {
				found := false
				for _, a := range res.alerts {
					if matches(a, m) {
						found = true
						break
					}
				}
				if !found {
					t.Errorf("match %d (%v): no alert matches:\n%s", i, m, dump())
				}
			}
		})
	}
}

// matches checks dotted paths of an alert event ("alert.evidence.tags",
// "src_ip") against expected values. A list expected for a list must be
// equal; a scalar expected for a list must be one of its elements.
func matches(a map[string]any, m map[string]any) bool {
	for path, want := range m {
		var cur any = a
		for _, p := range strings.Split(path, ".") {
			mm, ok := cur.(map[string]any)
			if !ok {
				return false
			}
			cur = mm[p]
		}
		wj, _ := json.Marshal(want)
		var w any
		_ = json.Unmarshal(wj, &w)
		if reflect.DeepEqual(cur, w) {
			continue
		}
		if l, ok := cur.([]any); ok {
			hit := false
			for _, x := range l {
				if reflect.DeepEqual(x, w) {
					hit = true
				}
			}
			if hit {
				continue
			}
		}
		return false
	}
	return true
}
