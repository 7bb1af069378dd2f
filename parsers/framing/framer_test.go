package framing

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/parsertest"
)

var (
	t0         = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	testClient = netip.MustParseAddrPort("127.0.0.1:40001")
	testServer = netip.MustParseAddrPort("127.0.0.1:7001")
)

// mustParse compiles one definition from YAML text.
func mustParse(t testing.TB, y string) parser.Factory {
	t.Helper()
	fs, err := Parse("test.yaml", []byte(y))
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	if len(fs) != 1 {
		t.Fatalf("%d factories", len(fs))
	}
	return fs[0]
}

// item is one chunk of a hand-made conversation: bytes to the server
// (c), to the client (s), or a gap in the to-server direction.
type item struct {
	c, s []byte
	gap  int
}

func cs(b ...[]byte) item { return item{c: slices.Concat(b...)} }
func sc(b ...[]byte) item { return item{s: slices.Concat(b...)} }
func gap(n int) item      { return item{gap: n} }

func mkconv(proto uint8, items ...item) *parsertest.Conversation {
	c := &parsertest.Conversation{Flow: parser.Flow{Proto: proto, Client: testClient, Server: testServer}, Close: parser.CloseFIN}
	ts := t0
	for _, it := range items {
		switch {
		case it.gap > 0:
			c.Chunks = append(c.Chunks, parsertest.Chunk{Dir: parser.ToServer, Gap: it.gap, TS: ts})
		case it.c != nil:
			c.Chunks = append(c.Chunks, parsertest.Chunk{Dir: parser.ToServer, Data: it.c, TS: ts})
		case it.s != nil:
			c.Chunks = append(c.Chunks, parsertest.Chunk{Dir: parser.ToClient, Data: it.s, TS: ts})
		}
		ts = ts.Add(time.Millisecond)
	}
	c.End = ts
	return c
}

// summary condenses a run's events: the session counters, the anomaly
// codes in order, and one line per frame event.
func summary(rec *parsertest.Recorder) string {
	var b strings.Builder
	for _, e := range rec.Events {
		switch x := e.Body.(type) {
		case *parser.Anomaly:
			fmt.Fprintf(&b, "anomaly %s@%d ", x.Code, x.Offset)
		case *Frame:
			fmt.Fprintf(&b, "frame %s@%d+%d", x.Direction[3:], x.Offset, x.Length)
			if x.Identity != nil {
				fmt.Fprintf(&b, " id=%+v", *x.Identity)
			}
			for _, c := range x.Commands {
				fmt.Fprintf(&b, " cmd=%s", c.Name)
			}
			for _, p := range x.PHI {
				fmt.Fprintf(&b, " %s=%s", p.Field, p.Value)
			}
			if x.ChecksumError {
				b.WriteString(" ckerr")
			}
			if x.DataBeforeAuthentication {
				b.WriteString(" early")
			}
			b.WriteString("; ")
		case *Session:
			fmt.Fprintf(&b, "session %d/%d %dB/%dB", x.FramesToServer, x.FramesToClient, x.BytesToServer, x.BytesToClient)
			for _, kv := range []struct {
				k string
				v int64
			}{{"ck", x.ChecksumErrors}, {"over", x.OversizedFrames}, {"trunc", x.TruncatedFrames}, {"skip", x.SkippedBytes}, {"gaps", x.Gaps}} {
				if kv.v != 0 {
					fmt.Fprintf(&b, " %s=%d", kv.k, kv.v)
				}
			}
			if x.SyncLost {
				b.WriteString(" synclost")
			}
			if x.Authenticated != nil {
				fmt.Fprintf(&b, " auth=%v", *x.Authenticated)
			}
			if x.DataBeforeAuthentication {
				b.WriteString(" early")
			}
		}
	}
	return strings.TrimSpace(b.String())
}

// Frame builders for the test definitions below.

// lp2 is a frame with a 2-byte big-endian length of the payload.
func lp2(payload string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(payload))), payload...)
}

func stxetx(payload string) []byte { return []byte("\x02" + payload + "\x03") }

const (
	defLP2 = `
name: t
match: {magic: "00"}
framing: {kind: length_prefixed, size: 2}
fields:
  - {name: cmd, offset: 2, size: 1, type: string, command: true}
`
	defLP4LE = `
name: t
match: {offset: 4, magic: {text: AB}}
framing: {kind: length_prefixed, offset: 0, size: 4, endian: little, includes_header: true, adjust: 0}
fields:
  - {name: serial, offset: 6, to: end, type: string, identity: serial}
`
	defLP1Off = `
name: t
match: {magic: {text: "M"}}
framing: {kind: length_prefixed, offset: 1, size: 1, adjust: 1}
fields:
  - {name: model, offset: 2, to: end-1, type: string, identity: model}
`
	defLP8 = `
name: t
match: {magic: "00"}
framing: {kind: length_prefixed, size: 8, includes_header: true}
fields:
  - {name: serial, offset: 8, to: end, identity: serial}
`
	defLPSmall = `
name: t
max_frame_len: 16
match: {magic: "00"}
framing: {kind: length_prefixed, size: 2}
fields:
  - {name: cmd, offset: 2, size: 1, type: string, command: true}
`
	defLPSync = `
name: t
max_frame_len: 64
match: {offset: 2, magic: {text: SY}}
framing: {kind: length_prefixed, size: 2, sync: {offset: 2, bytes: {text: SY}}}
fields:
  - {name: cmd, offset: 4, size: 1, type: string, command: true}
`
	defFixed = `
name: t
match: {magic: {text: F}}
framing: {kind: fixed, size: 8}
fields:
  - {name: serial, offset: 1, size: 7, identity: serial}
`
	defFixedSync = `
name: t
match: {magic: {text: F}}
framing: {kind: fixed, size: 8, sync: {bytes: {text: F}}}
fields:
  - {name: serial, offset: 1, size: 7, identity: serial}
`
	defTLV = `
name: t
match: {magic: "01"}
framing: {kind: tlv, type_size: 1, length_size: 2, endian: big}
fields:
  - {name: tag, offset: 0, size: 1, type: uint}
  - {name: serial, offset: 3, to: end, identity: serial, when: {field: tag, equals: 1}}
  - {name: op, offset: 3, to: end, command: true, when: {field: tag, equals: 2}}
`
	defDelim = `
name: t
max_frame_len: 32
match: {magic: "02"}
framing: {kind: delimited, start: 0x02, end: 0x03, escape: 0x10, escape_xor: 0x20}
fields:
  - {name: serial, offset: 1, to: end-1, identity: serial}
`
	defDelimNoStart = `
name: t
match: {regex: '^[A-Z]+ '}
framing: {kind: delimited, end: "0d 0a", idle: "00"}
fields:
  - {name: serial, regex: '^SN ([A-Z0-9]+)', identity: serial}
`
	defHDLC = `
name: t
match: {magic: "7e"}
framing: {kind: delimited, start: 0x7e, end: 0x7e, escape: 0x7d, escape_xor: 0x20}
fields:
  - {name: serial, offset: 1, to: end-1, identity: serial}
`
	defDelimMulti = `
name: t
match: {magic: "ab cd"}
framing: {kind: delimited, start: "ab cd", end: ["ef 01", "ef 02"], trailer: 2, idle: "ff"}
fields:
  - {name: serial, offset: 2, to: end-4, identity: serial}
`
)

func TestFramers(t *testing.T) {
	big := strings.Repeat("x", 40)
	escSerial := "\x10\x22A\x10\x23B\x10\x30" // escapes of 02, 03, 10
	for _, tc := range []struct {
		name, def string
		items     []item
		want      string
	}{
		{"lp2 frames both ways, two in one chunk", defLP2,
			[]item{cs(lp2("a1"), lp2("b22")), sc(lp2("c")), cs(lp2("d"))},
			"frame server@0+4 cmd=a; frame server@4+5 cmd=b; frame client@0+3 cmd=c; frame server@9+3 cmd=d; session 3/1 12B/3B"},
		{"lp2 empty payload frame", defLP2, []item{cs(lp2(""), lp2("z"))}, "frame server@2+3 cmd=z; session 2/0 5B/0B"},
		{"lp4 little-endian, length includes header", defLP4LE,
			[]item{cs([]byte("\x0b\x00\x00\x00ABSN123"), []byte("\x08\x00\x00\x00ABxy"))},
			"frame server@0+11 id={Manufacturer: Model: Serial:SN123 SoftwareVersion: HardwareVersion: DeviceName: UDI:}; frame server@11+8 id={Manufacturer: Model: Serial:xy SoftwareVersion: HardwareVersion: DeviceName: UDI:}; session 2/0 19B/0B"},
		{"lp1 at offset 1 with adjust", defLP1Off,
			[]item{cs([]byte("M\x03VM8!"))},
			"frame server@0+6 id={Manufacturer: Model:VM8 Serial: SoftwareVersion: HardwareVersion: DeviceName: UDI:}; session 1/0 6B/0B"},
		{"lp8", defLP8, []item{cs([]byte("\x00\x00\x00\x00\x00\x00\x00\x0bS-1"))},
			"frame server@0+11 id={Manufacturer: Model: Serial:S-1 SoftwareVersion: HardwareVersion: DeviceName: UDI:}; session 1/0 11B/0B"},
		{"lp8 absurd length is oversized and skipped", defLP8, []item{cs([]byte("\x00\xff\x00\x00\x00\x00\x00\x00abc"))},
			"anomaly frame_too_long@0 session 0/0 0B/0B over=1"},
		{"oversized frame skipped in sync", defLPSmall,
			[]item{cs(lp2("a"), lp2(big)[:10]), cs(lp2(big)[10:], lp2("b"))},
			"frame server@0+3 cmd=a; anomaly frame_too_long@3 frame server@45+3 cmd=b; session 2/0 6B/0B over=1"},
		{"bad length without sync loses the direction", defLP4LE,
			[]item{cs([]byte("\x0b\x00\x00\x00ABSN123"), []byte("\x02\x00\x00\x00AB"), []byte("\x08\x00\x00\x00ABxy")), sc([]byte("\x08\x00\x00\x00ABzz"))},
			"frame server@0+11 id={Manufacturer: Model: Serial:SN123 SoftwareVersion: HardwareVersion: DeviceName: UDI:}; anomaly bad_length@11 anomaly sync_lost@15 frame client@0+8 id={Manufacturer: Model: Serial:zz SoftwareVersion: HardwareVersion: DeviceName: UDI:}; session 1/1 11B/8B skip=14 synclost"},
		{"bad sync resynchronises", defLPSync,
			[]item{cs(lp2("SYa"), []byte("junkSY"), lp2("SYb"), lp2("XXc"), lp2("SYd"))},
			"frame server@0+5 cmd=a; anomaly bad_sync@5 frame server@11+5 cmd=b; anomaly bad_sync@16 frame server@21+5 cmd=d; session 3/0 15B/0B skip=11"},
		{"gap inside a frame of known length keeps sync", defLP2,
			[]item{cs(lp2("a1234")[:3]), gap(4), cs(lp2("b"))},
			"frame server@7+3 cmd=b; session 1/0 3B/0B trunc=1 gaps=1"},
		{"gap covering the rest of a frame and more loses sync", defLP2,
			[]item{cs(lp2("a1234")[:3]), gap(5), cs(lp2("b"))},
			"anomaly sync_lost@8 session 0/0 0B/0B trunc=1 skip=3 gaps=1 synclost"},
		{"gap between frames with sync resynchronises", defLPSync,
			[]item{cs(lp2("SYa")), gap(7), cs([]byte("zz"), lp2("SYb"))},
			"frame server@0+5 cmd=a; frame server@14+5 cmd=b; session 2/0 10B/0B skip=2 gaps=1"},
		{"truncated frame at close", defLP2, []item{cs(lp2("a"), lp2("bcd")[:3])},
			"frame server@0+3 cmd=a; anomaly truncated_frame@3 session 1/0 3B/0B trunc=1"},
		{"fixed frames", defFixed, []item{cs([]byte("FSN00001FSN00002F"), []byte("SN00003"))},
			"frame server@0+8 id={Manufacturer: Model: Serial:SN00001 SoftwareVersion: HardwareVersion: DeviceName: UDI:}; frame server@8+8 id={Manufacturer: Model: Serial:SN00002 SoftwareVersion: HardwareVersion: DeviceName: UDI:}; frame server@16+8 id={Manufacturer: Model: Serial:SN00003 SoftwareVersion: HardwareVersion: DeviceName: UDI:}; session 3/0 24B/0B"},
		{"fixed frames stay aligned across a gap", defFixed, []item{cs([]byte("FSN00001FSN")), gap(8), cs([]byte("00003FSN00004"))},
			"frame server@0+8 id={Manufacturer: Model: Serial:SN00001 SoftwareVersion: HardwareVersion: DeviceName: UDI:}; frame server@24+8 id={Manufacturer: Model: Serial:SN00004 SoftwareVersion: HardwareVersion: DeviceName: UDI:}; session 2/0 16B/0B trunc=1 gaps=1"},
		{"fixed frames with sync skip a bad one", defFixedSync, []item{cs([]byte("FSN00001xSN00002FSN00003"))},
			"frame server@0+8 id={Manufacturer: Model: Serial:SN00001 SoftwareVersion: HardwareVersion: DeviceName: UDI:}; anomaly bad_sync@8 frame server@16+8 id={Manufacturer: Model: Serial:SN00003 SoftwareVersion: HardwareVersion: DeviceName: UDI:}; session 2/0 16B/0B skip=8"},
		{"tlv", defTLV, []item{cs([]byte("\x01\x00\x03S-9\x02\x00\x04stop\x03\x00\x00"))},
			"frame server@0+6 id={Manufacturer: Model: Serial:S-9 SoftwareVersion: HardwareVersion: DeviceName: UDI:}; frame server@6+7 cmd=stop; session 3/0 16B/0B"},
		{"delimited with escapes", defDelim, []item{cs(stxetx("SN1"), stxetx(escSerial)), sc(stxetx("SN2"))},
			"frame server@0+5 id={Manufacturer: Model: Serial:SN1 SoftwareVersion: HardwareVersion: DeviceName: UDI:}; frame server@5+10 id={Manufacturer: Model: Serial:A B SoftwareVersion: HardwareVersion: DeviceName: UDI:}; frame client@0+5 id={Manufacturer: Model: Serial:SN2 SoftwareVersion: HardwareVersion: DeviceName: UDI:}; session 2/1 15B/5B"},
		{"delimited: data outside frames, start inside a frame", defDelim, []item{cs([]byte("\x02SN1\x03xx\x02SN\x02SN3\x03"))},
			"frame server@0+5 id={Manufacturer: Model: Serial:SN1 SoftwareVersion: HardwareVersion: DeviceName: UDI:}; anomaly data_outside_frame@5 anomaly missing_frame_end@7 frame server@10+5 id={Manufacturer: Model: Serial:SN3 SoftwareVersion: HardwareVersion: DeviceName: UDI:}; session 2/0 10B/0B trunc=1 skip=2"},
		{"delimited: oversized frame read on to its end", defDelim, []item{cs(stxetx(big), stxetx("SN4"))},
			"anomaly frame_too_long@0 frame server@42+5 id={Manufacturer: Model: Serial:SN4 SoftwareVersion: HardwareVersion: DeviceName: UDI:}; session 1/0 5B/0B over=1"},
		{"delimited: gap drops the frame, next start resyncs", defDelim, []item{cs([]byte("\x02SN")), gap(4), cs([]byte("zz"), stxetx("SN5"))},
			"frame server@9+5 id={Manufacturer: Model: Serial:SN5 SoftwareVersion: HardwareVersion: DeviceName: UDI:}; session 1/0 5B/0B trunc=1 skip=2 gaps=1"},
		{"delimited: truncated at close", defDelim, []item{cs(stxetx("SN1"), []byte("\x02SN"))},
			"frame server@0+5 id={Manufacturer: Model: Serial:SN1 SoftwareVersion: HardwareVersion: DeviceName: UDI:}; anomaly truncated_frame@5 session 1/0 5B/0B trunc=1"},
		{"line frames without start, idle bytes, regex field", defDelimNoStart, []item{cs([]byte("HELLO 1\r\n\x00\x00SN AB12 x\r\n\r\nNOPE\r\n"))},
			"frame server@11+11 id={Manufacturer: Model: Serial:AB12 SoftwareVersion: HardwareVersion: DeviceName: UDI:}; session 3/0 26B/0B"},
		{"line frames: gap skips to the next end", defDelimNoStart, []item{cs([]byte("HELLO 1\r\nSN A")), gap(3), cs([]byte("B\r\nSN CD\r\n"))},
			"frame server@19+7 id={Manufacturer: Model: Serial:CD SoftwareVersion: HardwareVersion: DeviceName: UDI:}; session 2/0 16B/0B trunc=1 skip=3 gaps=1"},
		{"hdlc flags shared and doubled", defHDLC, []item{cs([]byte("\x7eSN1\x7eSN\x7d\x5e2\x7e\x7e\x7eSN3\x7e"))},
			"frame server@0+5 id={Manufacturer: Model: Serial:SN1 SoftwareVersion: HardwareVersion: DeviceName: UDI:}; frame server@4+7 id={Manufacturer: Model: Serial:SN~2 SoftwareVersion: HardwareVersion: DeviceName: UDI:}; frame server@12+5 id={Manufacturer: Model: Serial:SN3 SoftwareVersion: HardwareVersion: DeviceName: UDI:}; session 3/0 17B/0B"},
		{"multi-byte delimiters, alternatives, trailer, idle", defDelimMulti, []item{cs([]byte("\xff\xab\xcdSN1\xef\x01ok\xff\xff\xab\xcdSN2\xef\x02ok"))},
			"frame server@1+9 id={Manufacturer: Model: Serial:SN1 SoftwareVersion: HardwareVersion: DeviceName: UDI:}; frame server@12+9 id={Manufacturer: Model: Serial:SN2 SoftwareVersion: HardwareVersion: DeviceName: UDI:}; session 2/0 18B/0B"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := mustParse(t, tc.def)
			rec := parsertest.CheckChunking(t, f, mkconv(6, tc.items...))
			if got := summary(rec); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s\nevents:\n%s", got, tc.want, rec.JSON())
			}
		})
	}
}

func TestUDPDatagrams(t *testing.T) {
	f := mustParse(t, "transport: udp\n"+defLP2)
	if f.Transport != parser.UDP {
		t.Fatalf("transport %v", f.Transport)
	}
	// Each datagram starts a frame: a truncated one does not shift the
	// next. (parsertest.Replay would join the datagrams: fed by hand.)
	rec := &parsertest.Recorder{}
	fl := parser.Flow{Proto: 17, Client: testClient, Server: testServer}
	s := f.New(&fl, rec, nil)
	s.Feed(parser.ToServer, slices.Concat(lp2("a"), lp2("bc")[:2]), t0)
	s.Feed(parser.ToServer, lp2("d"), t0)
	s.Feed(parser.ToServer, slices.Concat(lp2("e"), []byte{0}), t0)
	s.Close(parser.CloseTimeout, t0)
	want := "frame server@0+3 cmd=a; anomaly truncated_frame@3 frame server@5+3 cmd=d; frame server@8+3 cmd=e; anomaly truncated_frame@11 session 3/0 9B/0B trunc=2"
	if got := summary(rec); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// Checksum test vectors: the CRC catalogue's check value of "123456789".
func TestChecksumVectors(t *testing.T) {
	in := []byte("123456789")
	for _, tc := range []struct {
		alg  string
		want uint64
	}{
		{"crc16-ccitt", 0x29B1}, // CRC-16/CCITT-FALSE (reveng catalogue: check=0x29b1)
		{"crc32", 0xCBF43926},   // CRC-32/ISO-HDLC (check=0xcbf43926)
		{"sum8", 0xDD},          // 477 mod 256
		{"xor8", 0x31},
	} {
		if got := compute(tc.alg, in); got != tc.want {
			t.Errorf("%s(123456789) = %#x, want %#x", tc.alg, got, tc.want)
		}
	}
	if compute("crc16-ccitt", nil) != 0xFFFF || compute("crc32", nil) != 0 {
		t.Error("empty input")
	}
}

// TestChecksums runs each algorithm and encoding through a framer: a good
// frame, then the same with one payload byte changed.
func TestChecksums(t *testing.T) {
	payload := []byte("123456789")
	for _, tc := range []struct {
		alg, enc, endian string
		stored           []byte
	}{
		{"sum8", "binary", "big", []byte{0xDD}},
		{"sum8", "hex", "big", []byte("DD")},
		{"xor8", "binary", "big", []byte{0x31}},
		{"xor8", "hex", "big", []byte("31")},
		{"crc16-ccitt", "binary", "big", []byte{0x29, 0xB1}},
		{"crc16-ccitt", "binary", "little", []byte{0xB1, 0x29}},
		{"crc16-ccitt", "hex", "big", []byte("29b1")},
		{"crc32", "binary", "big", []byte{0xCB, 0xF4, 0x39, 0x26}},
		{"crc32", "binary", "little", []byte{0x26, 0x39, 0xF4, 0xCB}},
		{"crc32", "hex", "big", []byte("CBF43926")},
	} {
		name := tc.alg + "/" + tc.enc + "/" + tc.endian
		t.Run(name, func(t *testing.T) {
			def := fmt.Sprintf(`
name: t
match: {magic: "00"}
framing: {kind: length_prefixed, size: 2}
checksum: {algorithm: %s, from: 2, to: end-%d, at: end-%d, encoding: %s, endian: %s}
`, tc.alg, len(tc.stored), len(tc.stored), tc.enc, tc.endian)
			f := mustParse(t, def)
			good := lp2(string(payload) + string(tc.stored))
			bad := slices.Clone(good)
			bad[3] ^= 1
			short := lp2("")
			rec := parsertest.CheckChunking(t, f, mkconv(6, cs(good, bad, short, good)))
			l := len(good)
			want := fmt.Sprintf("anomaly bad_checksum@%d anomaly frame_too_short@%d session 4/0 %dB/0B ck=2", l, 2*l, 3*l+2)
			if got := summary(rec); got != want {
				t.Errorf("got %s\nwant %s", got, want)
			}
			if v := f.Probe(parser.ToServer, good); v != parser.Match {
				t.Errorf("probe %d", v)
			}
		})
	}
}

// A definition without a content match verifies the first frame.
func TestProbeWithoutMatch(t *testing.T) {
	f := mustParse(t, `
name: t
ports: [7777]
framing: {kind: delimited, start: 0x02, end: 0x03, escape: 0x10, escape_xor: 0x20}
checksum: {algorithm: xor8, from: 1, to: end-2, at: end-2}
`)
	frame := func(p string) []byte {
		var x byte
		for _, c := range []byte(p) {
			x ^= c
		}
		b := append([]byte{0x02}, p...)
		if x == 0x02 || x == 0x03 || x == 0x10 {
			b = append(b, 0x10, x^0x20)
		} else {
			b = append(b, x)
		}
		return append(b, 0x03)
	}
	good := frame("AB") // xor 0x03: the checksum needs an escape
	for _, tc := range []struct {
		in   []byte
		want parser.Verdict
	}{
		{nil, parser.NeedMore},
		{good[:3], parser.NeedMore},
		{good, parser.Match},
		{slices.Concat(good[:len(good)-2], []byte{'x', 0x03}), parser.NoMatch},
		{[]byte("GET / HTTP/1.1\r\n"), parser.NoMatch},
		{[]byte("\x02\x03"), parser.NoMatch},
		{append([]byte{0x02}, make([]byte, 600)...), parser.NoMatch},
	} {
		if got := f.Probe(parser.ToServer, tc.in); got != tc.want {
			t.Errorf("probe(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
	lp := mustParse(t, `
name: t
ports: [7777]
framing: {kind: length_prefixed, size: 2, sync: {offset: 2, bytes: {text: SY}}}
`)
	for _, tc := range []struct {
		in   []byte
		want parser.Verdict
	}{
		{[]byte{0}, parser.NeedMore},
		{lp2("SYx"), parser.Match},
		{lp2("SYx")[:4], parser.NeedMore},
		{lp2("XYx"), parser.NoMatch},
		{[]byte("\x10\x00SY"), parser.Match}, // too long to wait for: sync bytes decide
	} {
		if got := lp.Probe(parser.ToServer, tc.in); got != tc.want {
			t.Errorf("lp probe(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestProbeContent(t *testing.T) {
	vn := builtinFactory(t, "vitalnet")
	dsf := builtinFactory(t, "devstat")
	astm := builtinFactory(t, "e1381")
	for _, tc := range []struct {
		f    parser.Factory
		in   string
		want parser.Verdict
	}{
		{vn, "", parser.NeedMore},
		{vn, "\x00\x00\x00\x47VN", parser.NeedMore},
		{vn, "\x00\x00\x00\x47VNET", parser.Match},
		{vn, "\x00\x00\x00\x47VNEX", parser.NoMatch},
		{vn, "GET / HTTP/1.1", parser.NoMatch},
		{dsf, "\x02", parser.NeedMore},
		{dsf, "\x02DS1", parser.Match},
		{dsf, "\x02DX", parser.NoMatch},
		{dsf, "\x0bMSH|", parser.NoMatch},
		{astm, "\x05", parser.NeedMore},
		{astm, "\x05\x021H|\\^&", parser.Match},
		{astm, "\x021H|\\^&", parser.Match},
		{astm, "\x05\x05\x05\x05\x05", parser.NoMatch},
		{astm, "H|\\^&|||", parser.NoMatch},
	} {
		if got := tc.f.Probe(parser.ToServer, []byte(tc.in)); got != tc.want {
			t.Errorf("%s probe(%q) = %d, want %d", tc.f.Name, tc.in, got, tc.want)
		}
	}
	md := mustParse(t, "match: {direction: to_client, magic: \"00\"}\n"+strings.Replace(defLP2, "match: {magic: \"00\"}\n", "", 1))
	if md.Probe(parser.ToServer, []byte{0, 1}) != parser.NoMatch || md.Probe(parser.ToClient, []byte{0, 1}) != parser.Match {
		t.Error("match.direction")
	}
}

func TestHandshake(t *testing.T) {
	f := mustParse(t, `
name: t
match: {magic: "00"}
framing: {kind: length_prefixed, size: 2}
fields:
  - {name: type, offset: 2, size: 1, type: string}
  - {name: cmd, offset: 3, size: 1, type: string, command: true, when: {field: type, equals: C}}
handshake:
  authenticated_when: {field: type, equals: K, direction: to_client}
  allowed_before: {field: type, in: [H, L]}
`)
	for _, tc := range []struct {
		name  string
		items []item
		want  string
	}{
		{"login first", []item{cs(lp2("H")), sc(lp2("H")), cs(lp2("L")), sc(lp2("K")), cs(lp2("Cx"))},
			"frame server@6+4 cmd=x; session 3/2 10B/6B auth=true"},
		{"data before login", []item{cs(lp2("H"), lp2("Cx")), cs(lp2("L")), sc(lp2("K")), cs(lp2("Cy"))},
			"anomaly data_before_authentication@3 frame server@3+4 cmd=x early; frame server@10+4 cmd=y; session 4/1 14B/3B auth=true early"},
		{"never authenticated", []item{cs(lp2("L"), lp2("D"))},
			"anomaly data_before_authentication@3 session 2/0 6B/0B auth=false early"},
		{"client cannot authenticate itself", []item{cs(lp2("K"))},
			"anomaly data_before_authentication@0 session 1/0 3B/0B auth=false early"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := parsertest.CheckChunking(t, f, mkconv(6, tc.items...))
			if got := summary(rec); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestValues checks the decoded values of the vitalnet capture: identity
// in the event, personal data only in the json:"-" fields.
func TestValues(t *testing.T) {
	f := builtinFactory(t, "vitalnet")
	convs := captureConvs(t, "framing-vitals.pcap")
	rec := parsertest.Replay(f, convs[0], parsertest.Whole, nil)
	var phi []PHIValue
	for _, e := range rec.Events {
		if fr, ok := e.Body.(*Frame); ok {
			phi = append(phi, fr.PHI...)
		}
	}
	want := []PHIValue{
		{"patient_id", "id", "TEST0003"}, {"patient_name", "name", "张三"}, {"birth_date", "birth_date", "19491231"},
		{"heart_rate", "clinical", "72"}, {"spo2", "clinical", "98"}, {"nibp_systolic", "clinical", "121"}, {"nibp_diastolic", "clinical", "79"},
		{"patient_id", "id", "TEST0001"}, {"patient_name", "name", "TEST^PATIENT"},
	}
	for i, w := range want {
		if i >= len(phi) || phi[i] != w {
			t.Fatalf("PHI[%d] = %+v, want %+v (all: %+v)", i, phi[min(i, len(phi)-1)], w, phi)
		}
	}
}

// crcFrame is a vitalnet frame built independently of the definition.
func crcFrame(typ byte, body []byte) []byte {
	f := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)+4))
	f = append(f, "VNET"...)
	f = append(f, 1, typ, 0, 1)
	f = append(f, body...)
	return binary.BigEndian.AppendUint32(f, crc32.ChecksumIEEE(f[4:]))
}
