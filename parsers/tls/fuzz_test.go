package tls

import (
	"encoding/binary"
	"encoding/json"
	"testing"
	"time"

	"github.com/medtap/medtap/parsers/parser"
)

// The fuzz input is a sequence of frames: one control byte, a big-endian
// uint16 length, then that many payload bytes (fewer if the input ends).
// Control & 3: 0 feeds the payload to_server, 1 to_client; 2 and 3 are a
// gap of length bytes on to_server / to_client (no payload follows).

func encodeFrames(segs []segment) []byte {
	var b []byte
	for _, s := range segs {
		for p := s.data; len(p) > 0; p = p[min(len(p), 0xffff):] {
			b = append(b, byte(s.dir))
			b = binary.BigEndian.AppendUint16(b, uint16(min(len(p), 0xffff)))
			b = append(b, p[:min(len(p), 0xffff)]...)
		}
	}
	return b
}

// knownCodes are every anomaly code the package emits.
var knownCodes = map[string]bool{
	"bad_record_type": true, "bad_record_version": true, "record_too_long": true,
	"handshake_too_long": true, "too_many_handshake_messages": true,
	"bad_client_hello": true, "bad_server_hello": true, "bad_extension": true,
	"bad_certificate_message": true, "bad_certificate": true,
	"gap_in_handshake": true, "null_record_too_short": true,
}

// countingInner accepts plaintext starting with 'G' and keeps only counts.
type countingInner struct{ n int }

func (c *countingInner) Feed(_ parser.Direction, p []byte, _ time.Time) { c.n += len(p) }
func (c *countingInner) Gap(parser.Direction, int, time.Time)           {}
func (c *countingInner) Close(parser.CloseReason, time.Time)            {}

func FuzzStream(f *testing.F) {
	for _, c := range captures {
		for _, fl := range loadFlows(f, c.name) {
			f.Add(encodeFrames(fl.segs))
		}
	}
	f.Add(encodeFrames(nullFlow(f, 600)))
	f.Add(encodeFrames([]segment{{dir: parser.ToServer, data: record(ctHandshake, edgeHello())}}))
	f.Add([]byte{0, 0, 5, 0x16, 3, 3, 0, 4, 2, 0, 0, 0, 1, 0, 0})
	f.Fuzz(fuzzOne)
}

// fuzzOne runs one fuzz input.
func fuzzOne(t *testing.T, in []byte) {
	{
		rec := &recorder{}
		inner := &countingInner{}
		env := &parser.Env{ProbeInner: func(_ parser.Direction, first []byte) (parser.Stream, parser.Verdict) {
			switch {
			case first[0] == 'G':
				return inner, parser.Match
			case len(first) < 4:
				return nil, parser.NeedMore
			}
			return nil, parser.NoMatch
		}}
		st := Factory.New(&parser.Flow{Proto: 6}, rec, env).(*stream)
		ts := synthTS
		for len(in) >= 3 {
			ctl, n := in[0], int(binary.BigEndian.Uint16(in[1:]))
			in = in[3:]
			dir := parser.Direction(ctl & 1)
			if ctl&2 != 0 {
				st.Gap(dir, n, ts)
			} else {
				n = min(n, len(in))
				st.Feed(dir, in[:n], ts)
				in = in[n:]
			}
			checkBounds(t, st)
			ts = ts.Add(time.Millisecond)
		}
		st.Encrypted()
		st.Close(parser.CloseFIN, ts)
		checkEvents(t, rec)
	}
}

// checkBounds asserts the stream's buffers stay within their limits.
func checkBounds(t *testing.T, st *stream) {
	t.Helper()
	for i := range st.d {
		d := &st.d[i]
		if cap(d.hs) > 4+maxHandshakeMsg || cap(d.probe) > parser.MaxProbeBytes ||
			d.need < 0 || d.need > maxRecordLen || d.hdrN >= recordHeaderLen || d.plainLeft > d.need {
			t.Fatalf("dir %d out of bounds: hs cap %d probe cap %d need %d hdrN %d plainLeft %d",
				i, cap(d.hs), cap(d.probe), d.need, d.hdrN, d.plainLeft)
		}
	}
}

// checkEvents asserts every event is valid: known anomaly codes, at most one
// Handshake, and everything marshals.
func checkEvents(t *testing.T, rec *recorder) {
	t.Helper()
	hs := 0
	for _, e := range rec.events {
		switch b := e.body.(type) {
		case *parser.Anomaly:
			if b.Source != "tls" || !knownCodes[b.Code] || (b.Direction != "to_server" && b.Direction != "to_client") {
				t.Fatalf("bad anomaly %+v", b)
			}
		case *Handshake:
			hs++
			if b.JA4 != "" && len(b.JA4) != 36 {
				t.Fatalf("ja4 %q", b.JA4)
			}
			if b.JA3 != "" && len(b.JA3) != 32 || b.JA3S != "" && len(b.JA3S) != 32 {
				t.Fatalf("ja3 %q ja3s %q", b.JA3, b.JA3S)
			}
		default:
			t.Fatalf("unexpected body %T", b)
		}
		if _, err := json.Marshal(e.body); err != nil {
			t.Fatal(err)
		}
	}
	if hs > 1 {
		t.Fatalf("%d Handshake events", hs)
	}
}
