package framing

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/parsertest"
)

// FuzzLoad compiles arbitrary definition text. Invariants: no panic, an
// error is a *DefinitionError or a plain error with a line, and a
// definition that loads makes streams that survive its own text as input.
// Seeds: the built-ins, the test definitions and every bad definition.
func FuzzLoad(f *testing.F) {
	for _, name := range []string{"vitalnet", "devstat", "e1381"} {
		b, err := builtinFS.ReadFile("builtin/" + name + ".yaml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, d := range testDefs {
		f.Add([]byte(d))
	}
	for _, tc := range badDefinitions {
		f.Add([]byte(tc.yaml))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fs, err := Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		for _, fac := range fs {
			fac.Probe(parser.ToServer, data)
			runBoth(t, fac, data, len(data)/2, 3)
		}
	})
}

// testDefs are the table tests' definitions, one of each framing kind.
var testDefs = []string{defLP2, defLP4LE, defLP1Off, defLP8, defLPSmall, defLPSync, defFixed, defFixedSync, defTLV, defDelim, defDelimNoStart, defHDLC, defDelimMulti}

// fuzzFactories are the definitions FuzzFramers feeds: the built-ins (the
// disabled e1381 too) and the test definitions.
func fuzzFactories(tb testing.TB) []parser.Factory {
	fs := []parser.Factory{builtinFactory(tb, "vitalnet"), builtinFactory(tb, "devstat"), builtinFactory(tb, "e1381")}
	for _, d := range testDefs {
		fs = append(fs, mustParse(tb, d))
	}
	return fs
}

// FuzzFramers feeds arbitrary bytes, cut at split into two directions and
// fed in step-byte chunks, to the definition chosen by which. Invariants:
// no panic, the same events whole and chunked, every event marshals, no
// direction buffers more than max_frame_len. Seeds: every stream of the
// captures and the framer table's inputs.
func FuzzFramers(f *testing.F) {
	facs := fuzzFactories(f)
	for _, c := range captures {
		for _, conv := range captureConvs(f, c.file) {
			var a, b []byte
			for _, ch := range parsertest.Joined(conv) {
				if ch.Dir == parser.ToServer {
					a = append(a, ch.Data...)
				} else {
					b = append(b, ch.Data...)
				}
			}
			which := uint8(slices.IndexFunc(facs, func(x parser.Factory) bool { return x.Name == c.proto }))
			f.Add(slices.Concat(a, b), uint16(len(a)), uint8(5), which)
		}
	}
	f.Add([]byte("\x05\x021H|\\^&|||A\r\x0325\r\n\x04"), uint16(100), uint8(1), uint8(2))
	f.Add(slices.Concat(lp2("a"), lp2("bcd")), uint16(3), uint8(1), uint8(3))
	f.Add([]byte("\x7eSN1\x7eSN\x7d\x5e2\x7e\x7e"), uint16(5), uint8(2), uint8(14))
	f.Fuzz(func(t *testing.T, data []byte, split uint16, step uint8, which uint8) {
		fac := facs[int(which)%len(facs)]
		fac.Probe(parser.ToServer, data)
		runBoth(t, fac, data, int(split), int(step))
	})
}

// runBoth feeds data (to the server up to cut, the rest to the client)
// whole and in step-byte chunks and checks the invariants.
func runBoth(t *testing.T, fac parser.Factory, data []byte, cut, step int) {
	cut = min(cut, len(data))
	c := &parsertest.Conversation{Flow: parser.Flow{Proto: 6, Client: testClient, Server: testServer}, Close: parser.CloseFIN, End: t0}
	if cut > 0 {
		c.Chunks = append(c.Chunks, parsertest.Chunk{Dir: parser.ToServer, Data: data[:cut], TS: t0})
	}
	if cut < len(data) {
		c.Chunks = append(c.Chunks, parsertest.Chunk{Dir: parser.ToClient, Data: data[cut:], TS: t0})
	}
	whole := parsertest.Replay(fac, c, parsertest.Whole, nil)
	stepped := parsertest.Replay(fac, c, func(b []byte) [][]byte { return chunks(b, step+1) }, nil)
	if whole.JSON() != stepped.JSON() {
		t.Fatalf("chunking changed the events:\n%s\nvs\n%s", whole.JSON(), stepped.JSON())
	}
	for _, e := range whole.Events {
		if _, err := json.Marshal(e.Body); err != nil {
			t.Fatal(err)
		}
	}
	fl := parser.Flow{Proto: 6}
	s := fac.New(&fl, &parsertest.Recorder{}, nil).(*stream)
	for _, p := range chunks(data, step+1) {
		s.Feed(parser.ToServer, p, t0)
		if b := len(s.dirs[0].buf); b > s.d.maxFrame {
			t.Fatalf("buffered %d bytes, max_frame_len %d", b, s.d.maxFrame)
		}
	}
	s.Gap(parser.ToServer, 7, t0)
	s.Feed(parser.ToServer, data, t0)
	s.Close(parser.CloseEndOfInput, t0)
}
