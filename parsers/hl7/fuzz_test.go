package hl7

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/parser/jsontest"
	"github.com/medtap/medtap/parsers/parsertest"
)

// FuzzStream feeds arbitrary bytes, cut at split into two directions, in
// chunks of step bytes. Invariants: no panic, buffers within their limits,
// every event marshals, and feeding whole or byte by byte gives the same
// events. Seeds: the synthetic conversations, the public samples and the
// captures.
func FuzzStream(f *testing.F) {
	for _, tc := range synthetic() {
		var a, b []byte
		for _, c := range tc.c.Chunks {
			if c.Dir == parser.ToServer {
				a = append(a, c.Data...)
			} else {
				b = append(b, c.Data...)
			}
		}
		f.Add(append(a, b...), uint16(len(a)), uint8(7))
	}
	files, _ := filepath.Glob("testdata/public/*.hl7")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && len(b) < 8192 {
			f.Add(mllp(string(b)), uint16(len(b)), uint8(13))
		}
	}
	caps, _ := filepath.Glob("../../pcaps/hl7-*.pcap")
	for _, p := range caps {
		if fi, err := os.Stat(p); err != nil || fi.Size() > 32<<10 {
			continue // hl7-large.pcap: too big a seed
		}
		convs, err := parsertest.Streams(p)
		if err != nil {
			continue
		}
		for _, c := range convs {
			var a, b []byte
			for _, ch := range parsertest.Joined(c) {
				if ch.Dir == parser.ToServer {
					a = append(a, ch.Data...)
				} else {
					b = append(b, ch.Data...)
				}
			}
			f.Add(append(a, b...), uint16(len(a)), uint8(1))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, split uint16, step uint8) {
		cut := min(int(split), len(data))
		c := &parsertest.Conversation{Close: parser.CloseFIN, End: synthTS}
		if cut > 0 {
			c.Chunks = append(c.Chunks, parsertest.Chunk{Dir: parser.ToServer, Data: data[:cut], TS: synthTS})
		}
		if cut < len(data) {
			c.Chunks = append(c.Chunks, parsertest.Chunk{Dir: parser.ToClient, Data: data[cut:], TS: synthTS.Add(time.Millisecond)})
		}
		probe(parser.ToServer, data)
		whole := parsertest.Replay(Factory, c, parsertest.Whole, nil)
		stepped := parsertest.Replay(Factory, c, parsertest.Steps(int(step)+1), nil)
		if whole.JSON() != stepped.JSON() {
			t.Fatalf("chunking changed the events:\n%s\nvs\n%s", whole.JSON(), stepped.JSON())
		}
		for _, e := range whole.Events {
			if _, err := json.Marshal(e.Body); err != nil {
				t.Fatal(err)
			}
			if m, ok := e.Body.(*Message); ok {
				jsontest.SameAsMarshal(t, m)
			}
			if m, ok := e.Body.(*Message); ok && (len(m.PHI) > MaxPHIValues || len(m.PHIFields) > MaxPHIFields || len(m.Segments) > MaxListedSegments) {
				t.Fatalf("limits exceeded: %d PHI, %d fields, %d segments", len(m.PHI), len(m.PHIFields), len(m.Segments))
			}
		}
		// Buffers stay within their limits.
		fl := parser.Flow{}
		s := Factory.New(&fl, &parsertest.Recorder{}, nil).(*stream)
		s.Feed(parser.ToServer, data, synthTS)
		for i := range s.d {
			if len(s.d[i].fld) > MaxFieldLen {
				t.Fatalf("field buffer %d > %d", len(s.d[i].fld), MaxFieldLen)
			}
		}
	})
}
