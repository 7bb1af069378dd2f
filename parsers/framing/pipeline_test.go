package framing_test

import (
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medtap/medtap/parsers/astm"
	"github.com/medtap/medtap/parsers/dicom"
	"github.com/medtap/medtap/parsers/framing"
	"github.com/medtap/medtap/parsers/hl7"
	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/tls"
	"github.com/medtap/medtap/sensor/capture"
	"github.com/medtap/medtap/sensor/decode"
	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/flow"
)

// appProtos runs a capture through medtap's decoder and flow table with
// the Go parsers followed by the built-in definitions (the order the
// registry will list them in) and returns each flow's app_proto, keyed by
// server port, and the device events.
func appProtos(t *testing.T, path string) (map[uint16][]string, []*event.Event) {
	t.Helper()
	parsers := append([]parser.Factory{dicom.Factory, hl7.Factory, tls.Factory, astm.Factory}, framing.Builtin()...)
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	dec := decode.New(decode.DefaultDefragLimits)
	tab := flow.NewTable(flow.Config{Parsers: parsers})
	var p decode.Packet
	var idx uint64
	var evs []*event.Event
	for {
		pk, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			break // damaged captures end early
		}
		if dec.Decode(pk.Data, pk.Link, pk.TS, pk.WireLen, &p) == decode.OK {
			tab.Begin(nil)
			tab.Packet(&p, idx)
			evs = append(evs, tab.End()...)
		}
		idx++
	}
	tab.Begin(nil)
	tab.Flush(idx)
	evs = append(evs, tab.End()...)
	out := map[uint16][]string{}
	var dev []*event.Event
	for _, e := range evs {
		switch b := e.Body.(type) {
		case *flow.Record:
			out[e.Flow.Server.Port()] = append(out[e.Flow.Server.Port()], b.AppProto)
		case *framing.Frame, *framing.Session:
			dev = append(dev, e)
		}
	}
	return out, dev
}

// TestPipeline: the example captures are claimed by their definitions on
// the hinted ports and, by content, on the others.
func TestPipeline(t *testing.T) {
	for _, tc := range []struct {
		file string
		want map[uint16]string
	}{
		{"framing-vitals.pcap", map[uint16]string{7001: "vitalnet,vitalnet", 17001: "vitalnet"}},
		{"framing-status.pcap", map[uint16]string{7002: "devstat", 17002: "devstat"}},
	} {
		got, dev := appProtos(t, filepath.Join("..", "..", "pcaps", tc.file))
		for port, w := range tc.want {
			if g := strings.Join(got[port], ","); g != w {
				t.Errorf("%s port %d: app_proto %q, want %q", tc.file, port, g, w)
			}
		}
		if len(dev) == 0 {
			t.Errorf("%s: no device events", tc.file)
		}
		for _, e := range dev {
			if _, err := e.MarshalJSON(); err != nil {
				t.Error(err)
			}
		}
	}
}

// TestNoFalseMatches: no other capture's flow is claimed by a built-in
// definition, the disabled e1381 one included.
func TestNoFalseMatches(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "pcaps", "*.pcap*"))
	e1381, err := framing.Load("builtin:e1381")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range append(framing.Builtin(), e1381...) {
		names[f.Name] = true
	}
	seen := map[string]int{}
	for _, f := range files {
		if strings.HasSuffix(f, ".tsv") || strings.HasSuffix(f, ".keys") || strings.Contains(f, "framing-") {
			continue
		}
		got, _ := appProtos(t, f)
		for port, protos := range got {
			for _, p := range protos {
				seen[p]++
				if names[p] {
					t.Errorf("%s: flow to port %d claimed by %s", filepath.Base(f), port, p)
				}
			}
		}
	}
	// The sweep must have run: the Go parsers claimed their captures.
	if seen["dicom"] == 0 || seen["hl7"] == 0 || seen["tls"] == 0 {
		t.Errorf("flows by app_proto: %v", seen)
	}
	t.Logf("flows by app_proto: %v", seen)
}
