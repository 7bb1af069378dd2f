package astm

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/parsertest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Synthetic E1394 records, modelled on the LIS2-A2 examples; every name,
// identifier and number is invented (the resident ID has a valid check
// digit so the scan finds it).
const (
	synthName       = "Synthetic^Patient^Q"
	synthResidentID = "11010519491231002X"
	synthPhone      = "13912345678"
)

var synthPHI = []string{"Synthetic", "PAT0001", synthResidentID, synthPhone, "19491231", "Fake Road", "Dr^Who"}

// resultRecords is one message from an analyzer: header with a sender
// name, version and serial, a patient, an order, results and a comment.
func resultRecords(extraR int) []string {
	r := []string{
		`H|\^&|||Analyzer-X^2.1.0^SN12345|||||LIS01||P|LIS2-A2|20250102030405`,
		`P|1||PAT0001|` + synthResidentID + `|` + synthName + `||19491231|M||Fake Road 1^Beijing||` + synthPhone + `|Dr^Who`,
		`O|1|SID001^1^2||^^^GLU\^^^NA|R||||||N||||Serum`,
		`R|1|^^^GLU|5.4|mmol/L|3.9-6.1|N||F||||20250102030000`,
		`R|2|^^^NA|140|mmol/L|135-145|N||F||||20250102030000`,
		`C|1|I|call ward 13812345678 if abnormal|G`,
	}
	for i := 0; i < extraR; i++ {
		r = append(r, fmt.Sprintf(`R|%d|^^^T%d|%d|u||N||F`, i+3, i, i))
	}
	return append(r, `L|1|N`)
}

// frame builds one E1381 frame: STX, number, text, ETB or ETX, checksum, CR LF.
func frame(fn int, text string, last bool, corrupt bool) []byte {
	end := byte(etb)
	if last {
		end = etx
	}
	b := []byte{stx, byte('0' + fn%8)}
	b = append(b, text...)
	b = append(b, end)
	var sum byte
	for _, c := range b[1:] {
		sum += c
	}
	if corrupt {
		sum++
	}
	b = append(b, fmt.Sprintf("%02X\r\n", sum)...)
	return b
}

// session is an E1381 transfer of records as the sender writes it, and the
// receiver's answers, as alternating chunks: ENQ / ACK, frame / ACK, ...,
// EOT. Records longer than maxText are split into ETB frames. badFrame
// (1-based, 0 none) is sent first with a wrong checksum, NAKed, and sent
// again.
func session(records []string, maxText, badFrame int) [][]byte {
	out := [][]byte{{enq}, {ack}}
	fn := 1
	n := 0
	for _, r := range records {
		text := r + "\r"
		for len(text) > 0 {
			k := min(len(text), maxText)
			part, last := text[:k], k == len(text)
			text = text[k:]
			n++
			if n == badFrame {
				out = append(out, frame(fn, part, last, true), []byte{nak})
			}
			out = append(out, frame(fn, part, last, false), []byte{ack})
			fn++
		}
	}
	return append(out, []byte{eot}, nil)
}

var (
	client = netip.MustParseAddrPort("127.0.0.1:40001")
	server = netip.MustParseAddrPort("127.0.0.1:5001")
	t0     = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
)

func conv(chunks [][]byte) *parsertest.Conversation {
	c := &parsertest.Conversation{Flow: parser.Flow{Proto: 6, Client: client, Server: server}, Close: parser.CloseFIN}
	ts := t0
	for i, d := range chunks {
		if d != nil {
			c.Chunks = append(c.Chunks, parsertest.Chunk{Dir: parser.Direction(i & 1), Data: d, TS: ts})
		}
		ts = ts.Add(5 * time.Millisecond)
	}
	c.End = ts
	return c
}

func cases() []struct {
	name string
	c    *parsertest.Conversation
} {
	bare := []byte(strings.Join(resultRecords(0), "\r\n") + "\r\n")
	two := session(append(resultRecords(0), resultRecords(1)...), 240, 0)
	noL := resultRecords(0)
	noL = noL[:len(noL)-1]
	badSum := session(resultRecords(0), 240, 0)
	badSum[4] = frame(2, "P|1\r", true, true) // wrong checksum, taken by the receiver
	withGap := conv(session(resultRecords(0), 40, 0))
	withGap.Chunks = append(withGap.Chunks[:6], append([]parsertest.Chunk{{Dir: parser.ToServer, Gap: 50, TS: t0}}, withGap.Chunks[6:]...)...)
	return []struct {
		name string
		c    *parsertest.Conversation
	}{
		{"results", conv(session(resultRecords(0), 240, 0))},
		{"etb_frames", conv(session(resultRecords(3), 20, 0))},
		{"nak_retransmit", conv(session(resultRecords(0), 240, 3))},
		{"bad_checksum_accepted", conv(badSum)},
		{"two_messages_one_session", conv(two)},
		{"eot_without_terminator", conv(session(noL, 240, 0))},
		{"bare_records", conv([][]byte{bare})},
		{"gap", withGap},
		{"query_from_lis", conv([][]byte{nil, {enq}, {ack}, frame(1, `H|\^&|||LIS-Y|||||Analyzer-X||P|1`+"\r", true, false), {ack}, frame(2, `Q|1|^PAT0001^SID001||^^^ALL||||||||O`+"\r", true, false), {ack}, frame(3, "L|1|N\r", true, false), {ack}, {eot}})},
		{"junk_and_bad_frames", conv([][]byte{append([]byte{enq, 'x', stx, 'Z'}, append(frame(1, "H|\\^&|||A\r", true, false), stx, '2', 'L', '|', '1', enq)...), nil, append(frame(1, "H|\\^&\r", true, false), eot)})},
	}
}

func TestCases(t *testing.T) {
	var all strings.Builder
	for _, tc := range cases() {
		t.Run(tc.name, func(t *testing.T) {
			rec := parsertest.CheckChunking(t, Factory, tc.c)
			all.WriteString("# " + tc.name + "\n" + rec.JSON())
			js := rec.JSON()
			for _, v := range synthPHI {
				if strings.Contains(js, v) {
					t.Errorf("event JSON holds synthetic PHI %q", v)
				}
			}
		})
	}
	golden(t, "cases", all.String())
}

func TestValues(t *testing.T) {
	rec := parsertest.Replay(Factory, conv(session(resultRecords(0), 240, 0)), parsertest.Whole, nil)
	var m *Message
	for _, e := range rec.Events {
		if x, ok := e.Body.(*Message); ok {
			m = x
		}
	}
	if m == nil {
		t.Fatalf("no message:\n%s", rec.JSON())
	}
	if m.Sender != "Analyzer-X^2.1.0^SN12345" || m.Receiver != "LIS01" || m.Version != "LIS2-A2" || m.ProcessingID != "P" {
		t.Errorf("header: %+v", m)
	}
	if m.Records != (RecordCounts{H: 1, P: 1, O: 1, R: 2, C: 1, L: 1}) || m.Frames != 7 || m.ChecksumErrors != 0 {
		t.Errorf("counts: %+v frames %d", m.Records, m.Frames)
	}
	want := []PHIValue{{"P-6", "name", synthName}, {"P-5", "id_number", synthResidentID}, {"P-13", "phone", synthPhone}, {"C-4", "phone", "13812345678"}}
	for _, w := range want {
		found := false
		for _, p := range m.PHI {
			if p == w {
				found = true
			}
		}
		if !found {
			t.Errorf("PHI %+v not in %+v", w, m.PHI)
		}
	}
}

func TestProbe(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want parser.Verdict
	}{
		{"", parser.NeedMore},
		{"\x05", parser.NeedMore},
		{"\x05\x021H|\\^&", parser.Match},
		{"\x05\x021H|", parser.NeedMore},
		{"\x05\x05", parser.NoMatch},
		{"\x05\x029", parser.NoMatch},
		{"\x05\x021P|", parser.NoMatch},
		{"\x021H|\\^&|", parser.Match},
		{"H|\\^&|||", parser.Match},
		{"H|\\^&", parser.Match},
		{"H|||", parser.NoMatch},
		{"HTTP/1.1 200", parser.NoMatch},
		{"H|\\^a", parser.NoMatch},
		{"\x06", parser.NoMatch},
		{"\x16\x03\x01", parser.NoMatch},
		{"MSH|^~\\&", parser.NoMatch},
	} {
		if got := probe(parser.ToServer, []byte(tc.in)); got != tc.want {
			t.Errorf("probe(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { probe(parser.ToServer, []byte("\x05\x021H|\\^&")) }); n != 0 {
		t.Errorf("probe allocates %v", n)
	}
}

func TestLimits(t *testing.T) {
	long := `H|\^&|||A` + "\r" + "C|1|I|" + strings.Repeat("x", MaxRecordLen+10) + "\rL|1|N\r"
	rec := parsertest.Replay(Factory, conv([][]byte{[]byte(long)}), parsertest.Whole, nil)
	if js := rec.JSON(); !strings.Contains(js, "record_too_long") || !strings.Contains(js, `"l":1`) {
		t.Errorf("events:\n%s", js)
	}
	big := frame(1, strings.Repeat("y", MaxFrameLen+10), true, false)
	rec = parsertest.Replay(Factory, conv([][]byte{append(append([]byte{enq}, big...), eot)}), parsertest.Whole, nil)
	if js := rec.JSON(); !strings.Contains(js, "frame_too_long") {
		t.Errorf("events:\n%s", js)
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	parsertest.Golden(t, name, got, *update)
}

func FuzzStream(f *testing.F) {
	for _, tc := range cases() {
		var a, b []byte
		for _, c := range tc.c.Chunks {
			if c.Dir == parser.ToServer {
				a = append(a, c.Data...)
			} else {
				b = append(b, c.Data...)
			}
		}
		f.Add(append(a, b...), uint16(len(a)), uint8(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, split uint16, step uint8) {
		cut := min(int(split), len(data))
		c := &parsertest.Conversation{Close: parser.CloseFIN, End: t0}
		c.Chunks = append(c.Chunks, parsertest.Chunk{Dir: parser.ToServer, Data: data[:cut], TS: t0},
			parsertest.Chunk{Dir: parser.ToClient, Data: data[cut:], TS: t0})
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
			compareJSON(t, e.Body)
		}
		fl := parser.Flow{}
		s := Factory.New(&fl, &parsertest.Recorder{}, nil).(*stream)
		s.Feed(parser.ToServer, data, t0)
		for i := range s.d {
			if len(s.d[i].frame) > MaxFrameLen || len(s.d[i].rec) > MaxRecordLen || len(s.d[i].held) > MaxFrameLen {
				t.Fatal("buffer over its limit")
			}
		}
	})
}

func BenchmarkFeed(b *testing.B) {
	var buf bytes.Buffer
	for _, ch := range session(resultRecords(20), 240, 0) {
		if len(ch) > 0 && ch[0] != ack {
			buf.Write(ch)
		}
	}
	data := buf.Bytes()
	fl := parser.Flow{}
	s := Factory.New(&fl, &parsertest.Recorder{}, nil)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		s.Feed(parser.ToServer, data, t0)
	}
}
