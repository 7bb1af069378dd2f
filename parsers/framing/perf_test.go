package framing

import (
	"encoding/binary"
	"testing"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/parsertest"
)

// ackFrames is n vitalnet ack frames (type 0x90): no identity, personal
// data or command, so no event.
func ackFrames(n int) []byte {
	var b []byte
	for i := range n {
		b = append(b, crcFrame(0x90, binary.BigEndian.AppendUint16(nil, uint16(i)))...)
	}
	return b
}

// keepalives is n devstat keepalive frames: no event.
func keepalives(n int) []byte {
	var b []byte
	for i := range n {
		f := []byte{'D', 'S', '1', 0x04, byte(i), 0}
		var x byte
		for _, c := range f {
			x ^= c
		}
		f = append([]byte{0x02}, append(f, x)...)
		if x == 0x02 || x == 0x03 || x == 0x10 || byte(i) == 0x02 || byte(i) == 0x03 || byte(i) == 0x10 {
			continue
		}
		b = append(b, append(f, 0x03)...)
	}
	return b
}

// authenticated returns a vitalnet stream past its handshake.
func authenticated(tb testing.TB) (parser.Stream, *parsertest.Recorder) {
	f := builtinFactory(tb, "vitalnet")
	rec := &parsertest.Recorder{}
	fl := parser.Flow{Proto: 6, Client: testClient, Server: testServer}
	s := f.New(&fl, rec, nil)
	s.Feed(parser.ToClient, crcFrame(0x82, nil), t0)
	return s, rec
}

// chunks cuts b into pieces of n bytes.
func chunks(b []byte, n int) [][]byte {
	var out [][]byte
	for len(b) > n {
		out = append(out, b[:n])
		b = b[n:]
	}
	return append(out, b)
}

// TestSteadyStateAllocs: frames that emit nothing cost no allocation,
// whole or cut anywhere (once the frame buffer exists).
func TestSteadyStateAllocs(t *testing.T) {
	s, rec := authenticated(t)
	data := ackFrames(32)
	parts := chunks(data, 7)
	s.Feed(parser.ToServer, data, t0) // warm up
	for _, p := range parts {
		s.Feed(parser.ToServer, p, t0)
	}
	if n := testing.AllocsPerRun(50, func() { s.Feed(parser.ToServer, data, t0) }); n != 0 {
		t.Errorf("length_prefixed whole: %v allocs per feed", n)
	}
	if n := testing.AllocsPerRun(50, func() {
		for _, p := range parts {
			s.Feed(parser.ToServer, p, t0)
		}
	}); n != 0 {
		t.Errorf("length_prefixed in 7-byte pieces: %v allocs", n)
	}
	if len(rec.Events) != 0 {
		t.Errorf("events: %s", rec.JSON())
	}

	ds := builtinFactory(t, "devstat")
	drec := &parsertest.Recorder{}
	fl := parser.Flow{Proto: 6}
	st := ds.New(&fl, drec, nil)
	ka := keepalives(40)
	st.Feed(parser.ToServer, ka, t0)
	if n := testing.AllocsPerRun(50, func() { st.Feed(parser.ToServer, ka, t0) }); n != 0 {
		t.Errorf("delimited: %v allocs per feed", n)
	}
	if len(drec.Events) != 0 {
		t.Errorf("devstat events: %s", drec.JSON())
	}
}

func TestProbeAllocs(t *testing.T) {
	vn := builtinFactory(t, "vitalnet")
	e := builtinFactory(t, "e1381")
	nm := mustParse(t, `
name: t
ports: [7777]
framing: {kind: delimited, start: 0x02, end: 0x03, escape: 0x10, escape_xor: 0x20}
checksum: {algorithm: crc16-ccitt, from: 1, to: end-3, at: end-3}
`)
	first := ackFrames(1)
	for _, tc := range []struct {
		f  parser.Factory
		in []byte
	}{
		{vn, first}, {e, []byte("\x05\x021H|\\^&|||")}, {nm, []byte("\x02abc\x10\x22xx\x03")}, {vn, []byte("GET / HTTP/1.1")},
	} {
		if n := testing.AllocsPerRun(100, func() { tc.f.Probe(parser.ToServer, tc.in) }); n != 0 {
			t.Errorf("%s probe(%q): %v allocs", tc.f.Name, tc.in, n)
		}
	}
}

// BenchmarkLengthPrefixed: vitalnet frames without events (acks, 18 bytes
// each, CRC-32 checked), fed whole and in 1448-byte segments.
func BenchmarkLengthPrefixed(b *testing.B) {
	data := ackFrames(1000)
	for _, bc := range []struct {
		name  string
		parts [][]byte
	}{{"whole", [][]byte{data}}, {"segments", chunks(data, 1448)}} {
		b.Run(bc.name, func(b *testing.B) {
			s, _ := authenticated(b)
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				for _, p := range bc.parts {
					s.Feed(parser.ToServer, p, t0)
				}
			}
			b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}

// BenchmarkDelimited: devstat keepalives (STX/ETX, escapes, xor8).
func BenchmarkDelimited(b *testing.B) {
	data := keepalives(250)
	fl := parser.Flow{Proto: 6}
	s := builtinFactory(b, "devstat").New(&fl, &parsertest.Recorder{}, nil)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		s.Feed(parser.ToServer, data, t0)
	}
}

// BenchmarkEvents: vitalnet vitals frames, each an event with personal
// data (the allocating path).
func BenchmarkEvents(b *testing.B) {
	convs := captureConvs(b, "framing-vitals.pcap")
	var data []byte
	for _, c := range parsertest.Joined(convs[0]) {
		if c.Dir == parser.ToServer && c.Data != nil {
			data = append(data, c.Data...)
		}
	}
	f := builtinFactory(b, "vitalnet")
	fl := parser.Flow{Proto: 6}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		s := f.New(&fl, &parsertest.Recorder{}, nil)
		s.Feed(parser.ToServer, data, t0)
	}
}
