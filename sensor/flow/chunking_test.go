package flow_test

import (
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medtap/medtap/parsers"
	"github.com/medtap/medtap/sensor/capture"
	"github.com/medtap/medtap/sensor/decode"
	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/flow"
)

// resegment turns one decoded TCP data packet into several carrying the same
// bytes: cut returns the piece lengths; swap delivers each pair of pieces
// second-first, so reassembly has to put them back in order.
func resegment(p decode.Packet, cut func(n int) []int, swap bool) []decode.Packet {
	if p.Proto != 6 || len(p.Payload) < 2 {
		return []decode.Packet{p}
	}
	var out []decode.Packet
	seq := p.TCP.Seq
	if p.TCP.Flags&decode.FlagSYN != 0 {
		seq++
	}
	rest := p.Payload
	for i, n := range cut(len(p.Payload)) {
		q := p
		q.Payload = rest[:n:n]
		q.TCP.Seq = seq
		q.TCP.Flags &^= decode.FlagSYN | decode.FlagFIN
		if i == 0 {
			q.TCP.Seq = p.TCP.Seq
			q.TCP.Flags = p.TCP.Flags &^ decode.FlagFIN
		}
		out = append(out, q)
		seq += uint32(n)
		rest = rest[n:]
	}
	// The FIN rides on the last piece.
	out[len(out)-1].TCP.Flags |= p.TCP.Flags & decode.FlagFIN
	if swap {
		for i := 1; i+1 < len(out); i += 2 {
			out[i], out[i+1] = out[i+1], out[i]
		}
	}
	return out
}

func ones(n int) []int {
	c := make([]int, n)
	for i := range c {
		c[i] = 1
	}
	return c
}

func halves(n int) []int { return []int{n / 2, n - n/2} }

func thirds(n int) []int {
	if n < 3 {
		return []int{n}
	}
	return []int{n / 3, n / 3, n - 2*(n/3)}
}

// run feeds a capture through one flow table with every parser, each TCP
// data segment cut as told, and returns the events as comparable lines:
// flow records lose their packet and byte counts, which cutting changes.
func run(t *testing.T, path string, cut func(int) []int, swap bool) ([]string, flow.Stats) {
	t.Helper()
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	dec := decode.New(decode.DefaultDefragLimits)
	tab := flow.NewTable(flow.Config{Parsers: parsers.All})
	tab.Begin(nil)
	var idx uint64
	var p decode.Packet
	for {
		pk, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if dec.Decode(pk.Data, pk.Link, pk.TS, pk.WireLen, &p) != decode.OK {
			continue
		}
		orig := p
		orig.Payload = append([]byte(nil), p.Payload...)
		pieces := []decode.Packet{orig}
		if cut != nil {
			pieces = resegment(orig, cut, swap)
		}
		for i := range pieces {
			tab.Packet(&pieces[i], idx)
		}
		idx++
	}
	tab.Flush(idx)
	return lines(t, tab.End()), tab.Stats
}

func lines(t *testing.T, evs []*event.Event) []string {
	var out []string
	for _, e := range evs {
		if r, ok := e.Body.(*flow.Record); ok {
			c := *r
			c.PktsToServer, c.PktsToClient, c.BytesToServer, c.BytesToClient = 0, 0, 0, 0
			e = &event.Event{TS: e.TS, Flow: e.Flow, Body: &c}
		}
		b, err := e.AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

// TestSegmentationInvariance: however the senders' TCP stacks had cut the
// same byte streams (one byte per segment, halves, thirds delivered out of
// order), probing, reassembly and every parser give the same events.
func TestSegmentationInvariance(t *testing.T) {
	files, _ := filepath.Glob("../../pcaps/*.pcap")
	var checked int
	for _, f := range files {
		// Re-cutting a stream with holes changes how much is buffered
		// (limits), so the invariance is for complete streams.
		if strings.Contains(f, "truncated") || strings.Contains(f, "lossy") {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			want, wst := run(t, f, nil, false)
			for _, c := range []struct {
				name string
				cut  func(int) []int
				swap bool
			}{{"one byte per segment", ones, false}, {"halves", halves, false}, {"thirds out of order", thirds, true}} {
				got, gst := run(t, f, c.cut, c.swap)
				if wst.TCP.Segments > 0 && gst.TCP.Segments <= wst.TCP.Segments {
					t.Fatalf("%s: %d segments, no more than the original %d", c.name, gst.TCP.Segments, wst.TCP.Segments)
				}
				if c.swap && wst.TCP.Segments > 0 && gst.TCP.OutOfOrder == 0 {
					t.Fatalf("%s: nothing arrived out of order", c.name)
				}
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Fatalf("%s: events differ\n got: %s\nwant: %s", c.name, diffHint(got, want), diffHint(want, got))
				}
			}
			checked++
		})
	}
	if checked == 0 {
		t.Fatal("no captures")
	}
}

// diffHint returns the first line of a that b lacks.
func diffHint(a, b []string) string {
	in := map[string]bool{}
	for _, l := range b {
		in[l] = true
	}
	for _, l := range a {
		if !in[l] {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil {
				return l
			}
		}
	}
	return "(same lines, different order or count)"
}
