package hl7

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/parsertest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// mllp wraps messages in MLLP frames, segment terminators normalised to CR.
func mllp(msgs ...string) []byte {
	var b bytes.Buffer
	for _, m := range msgs {
		b.WriteByte(startBlock)
		b.WriteString(crTerminated(m))
		b.WriteString("\x1c\r")
	}
	return b.Bytes()
}

// crTerminated turns CRLF and LF line ends into CR and ends the text with CR.
func crTerminated(m string) string {
	m = strings.ReplaceAll(m, "\r\n", "\r")
	m = strings.ReplaceAll(m, "\n", "\r")
	m = strings.TrimRight(m, "\r")
	return m + "\r"
}

var (
	synthClient = netip.MustParseAddrPort("127.0.0.1:40000")
	synthServer = netip.MustParseAddrPort("127.0.0.1:2575")
	synthTS     = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
)

// conv builds a conversation from alternating chunks, to_server first, each
// 10 ms after the previous.
func conv(chunks ...[]byte) *parsertest.Conversation {
	c := &parsertest.Conversation{
		Flow:  parser.Flow{Proto: 6, Client: synthClient, Server: synthServer},
		Close: parser.CloseFIN,
	}
	ts := synthTS
	for i, d := range chunks {
		if d != nil {
			c.Chunks = append(c.Chunks, parsertest.Chunk{Dir: parser.Direction(i & 1), Data: d, TS: ts})
		}
		ts = ts.Add(10 * time.Millisecond)
	}
	c.End = ts
	return c
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func loadPcap(t testing.TB, path string) []*parsertest.Conversation {
	t.Helper()
	convs, err := parsertest.Streams(path)
	if err != nil {
		t.Fatal(err)
	}
	return convs
}

// golden compares got with testdata/name.golden, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	parsertest.Golden(t, name, got, *update)
}

// TestCaptures replays every pcaps/hl7-*.pcap (real peers: python3-hl7's
// mllp_send and the servers in pcaps/make, see pcaps/README.md): chunking
// invariance, no PHI in JSON, AppendJSON as encoding/json, and golden
// events in testdata/<capture>.golden.
func TestCaptures(t *testing.T) {
	caps, _ := filepath.Glob("../../pcaps/hl7-*.pcap")
	if len(caps) < 5 {
		t.Fatalf("captures missing: %v", caps)
	}
	for _, p := range caps {
		name := strings.TrimSuffix(filepath.Base(p), ".pcap")
		t.Run(name, func(t *testing.T) {
			var all strings.Builder
			for _, c := range loadPcap(t, p) {
				rec := parsertest.CheckChunking(t, Factory, c)
				checkNoPHI(t, rec)
				checkAppendJSON(t, rec)
				all.WriteString(rec.JSON())
			}
			golden(t, name, all.String())
		})
	}
}

// captureMessages replays a capture whole and returns its Message events.
func captureMessages(t *testing.T, name string) []*Message {
	t.Helper()
	var msgs []*Message
	for _, c := range loadPcap(t, "../../pcaps/"+name) {
		for _, e := range parsertest.Replay(Factory, c, parsertest.Whole, nil).Events {
			if m, ok := e.Body.(*Message); ok {
				msgs = append(msgs, m)
			}
		}
	}
	return msgs
}

// sentMessages splits a file mllp_send --loose sends into messages, each
// a list of segments, each a list of fields (MSH-1 is fields[1]).
func sentMessages(t *testing.T, path string) [][][]string {
	t.Helper()
	text := strings.ReplaceAll(strings.ReplaceAll(readFile(t, path), "\r\n", "\n"), "\r", "\n")
	var msgs [][][]string
	for _, line := range strings.Split(text, "\n") {
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "MSH") {
			msgs = append(msgs, nil)
		}
		sep := "|"
		if strings.HasPrefix(line, "MSH") {
			sep = line[3:4]
		}
		f := strings.Split(line, sep)
		if f[0] == "MSH" {
			f = append([]string{"MSH", sep}, f[1:]...)
		}
		msgs[len(msgs)-1] = append(msgs[len(msgs)-1], f)
	}
	return msgs
}

// field gives field n of the first segment named seg, "" when absent.
func field(segs [][]string, seg string, n int) string {
	for _, s := range segs {
		if s[0] == seg && n < len(s) {
			return s[n]
		}
	}
	return ""
}

// TestChineseCapture checks what tshark cannot show (it mangles UTF-8): the
// Chinese names, addresses, resident IDs and phone numbers decoded from
// hl7-chinese.pcap against the file mllp_send sent, in memory through the
// PHI values the JSON never holds.
func TestChineseCapture(t *testing.T) {
	sent := sentMessages(t, "../../pcaps/make/hl7-chinese.hl7")
	msgs := captureMessages(t, "hl7-chinese.pcap")
	if len(msgs) != len(sent) {
		t.Fatalf("%d events for %d messages sent", len(msgs), len(sent))
	}
	for i, m := range msgs {
		segs := sent[i]
		if m.ControlID != field(segs, "MSH", 10) || m.Charset != "UNICODE UTF-8" || m.AckCode != "AA" {
			t.Errorf("message %d: %s charset %q ack %q", i, m.ControlID, m.Charset, m.AckCode)
		}
		want := []PHIValue{{"PID-5", CatName, strings.TrimRight(field(segs, "PID", 5), "^")}}
		for _, id := range strings.Split(field(segs, "PID", 3), "~") {
			if id := strings.Split(id, "^")[0]; len(id) == 18 {
				want = append(want, PHIValue{"PID-3", CatIDNumber, id})
			}
		}
		if a := field(segs, "PID", 11); a != "" {
			want = append(want, PHIValue{"PID-11", CatAddress, a})
		}
		if p := field(segs, "PID", 13); p != "" {
			num := p[strings.LastIndex(p, "^")+1:]
			want = append(want, PHIValue{"PID-13", CatPhone, strings.TrimRight(p, "^")}, PHIValue{"PID-13", CatPhone, num})
		}
		if n := field(segs, "NK1", 2); n != "" {
			want = append(want, PHIValue{"NK1-2", CatName, n})
		}
		if n := field(segs, "PV1", 7); n != "" {
			want = append(want, PHIValue{"PV1-7", CatName, n})
		}
		for _, w := range want {
			if !slices.Contains(m.PHI, w) {
				t.Errorf("message %s: no %+v in %+v", m.ControlID, w, m.PHI)
			}
		}
		for _, p := range m.PHI {
			if !utf8.ValidString(p.Value) || strings.ContainsRune(p.Value, utf8.RuneError) {
				t.Errorf("%s %s: badly decoded %q", m.ControlID, p.Field, p.Value)
			}
		}
	}
	// The phone number in the ORU's free text (OBX-5), found by the scan.
	if !slices.Contains(msgs[2].PHI, PHIValue{"OBX-5", CatPhone, "139 1234 5679"}) {
		t.Errorf("phone in OBX-5 not found: %+v", msgs[2].PHI)
	}
}

// TestNAKCapture checks the rejections of hl7-nak.pcap: each message
// folds in its AE or AR and the ERR segments hl7-nak-server.py sent.
func TestNAKCapture(t *testing.T) {
	msgs := captureMessages(t, "hl7-nak.pcap")
	want := []struct {
		ctl, typ, code string
		errs           int
	}{{"NAK0001", "ORM", "AE", 1}, {"NAK0002", "ZZZ", "AR", 1}, {"NAK0003", "ORM", "AE", 2}}
	if len(msgs) != len(want) {
		t.Fatalf("%d events, want %d", len(msgs), len(want))
	}
	for i, w := range want {
		m := msgs[i]
		if m.ControlID != w.ctl || m.MessageType != w.typ || m.AckCode != w.code || m.ErrorSegments != w.errs || m.AckLatency == nil {
			t.Errorf("event %d: %s %s ack %q errors %d, want %+v", i, m.ControlID, m.MessageType, m.AckCode, m.ErrorSegments, w)
		}
	}
}

// TestLargeCapture checks the ~200 KB ORU of hl7-large.pcap, read from
// ~140 TCP segments, against what hl7-large-gen.py writes.
func TestLargeCapture(t *testing.T) {
	msgs := captureMessages(t, "hl7-large.pcap")
	if len(msgs) != 1 {
		t.Fatalf("%d events", len(msgs))
	}
	m := msgs[0]
	// 5 header and report segments, 41 OBX and 40 NTE; 202174 bytes
	// (the generator's 202175 less the final LF mllp_send strips).
	if m.SegmentCount != 86 || m.Bytes != 202174 || m.Truncated || m.AckCode != "AA" || m.MessageType != "ORU" || m.ControlID != "BIG000001" {
		t.Errorf("event %+v", m)
	}
}

// TestCorpusCapture checks the public samples of hl7-corpus.pcap against
// the files mllp_send sent (hl7-corpus.txt, read from the shared corpus
// when present): one event per file, in order, with its MSH-9 and MSH-10.
// tshark misreads two of them (TestAgainstTshark), so this is their oracle.
func TestCorpusCapture(t *testing.T) {
	const root = "/work/shared/corpus/public/"
	var files []string
	for _, l := range strings.Split(readFile(t, "../../pcaps/make/hl7-corpus.txt"), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			files = append(files, strings.Fields(l)[0])
		}
	}
	if _, err := os.Stat(root + files[0]); err != nil {
		t.Skip("shared corpus absent")
	}
	msgs := captureMessages(t, "hl7-corpus.pcap")
	k := 0
	for _, f := range files {
		segs := sentMessages(t, root+f)[0]
		typ := strings.Split(field(segs, "MSH", 9), segs[0][2][:1])
		ctl := field(segs, "MSH", 10)
		if k >= len(msgs) {
			t.Fatalf("%s: no event", f)
		}
		m := msgs[k]
		k++
		if m.ControlID != ctl || m.MessageType != typ[0] || (len(typ) > 1 && m.TriggerEvent != typ[1]) {
			t.Errorf("%s: event %s %s^%s, sent MSH-9 %v MSH-10 %q", f, m.ControlID, m.MessageType, m.TriggerEvent, typ, ctl)
		}
		// mllp_ack_server.py acknowledges every message. One whose
		// MSH-15 and MSH-16 are NE asks for none and is reported at
		// once; a client's ACK answers nothing and is reported itself.
		// The server's ACK to either is then unsolicited.
		if typ[0] == "ACK" || (field(segs, "MSH", 15) == "NE" && field(segs, "MSH", 16) == "NE") {
			if k >= len(msgs) || !msgs[k].UnsolicitedAck || msgs[k].AckedControlID != ctl || msgs[k].Direction != "to_client" {
				t.Fatalf("%s: no unsolicited ACK of %q from the server", f, ctl)
			}
			k++
			continue
		}
		if m.AckCode != "AA" || m.AckLatency == nil {
			t.Errorf("%s: ack %q", f, m.AckCode)
		}
	}
	if k != len(msgs) {
		t.Errorf("%d events for %d files", len(msgs), len(files))
	}
}

// TestPipelinedAckTimes checks that a message answered while later ones
// still wait is emitted at its own time, not the next one's, and that
// each ACK is paired with its message.
func TestPipelinedAckTimes(t *testing.T) {
	rec := &parsertest.Recorder{}
	s := Factory.New(&parser.Flow{}, rec, nil)
	t0 := synthTS
	for i, ctl := range []string{"P1", "P2", "P3"} {
		s.Feed(parser.ToServer, mllp(adtUTF8(ctl)), t0.Add(time.Duration(i)*time.Second))
	}
	for i, ctl := range []string{"P1", "P2", "P3"} {
		s.Feed(parser.ToClient, mllp(ack("AA", ctl)), t0.Add(time.Duration(10+i)*time.Second))
	}
	if len(rec.Events) != 3 {
		t.Fatalf("%d events, want 3", len(rec.Events))
	}
	for i, e := range rec.Events {
		m := e.Body.(*Message)
		if want := t0.Add(time.Duration(i) * time.Second); !e.TS.Equal(want) || m.AckCode != "AA" || m.AckLatency == nil || *m.AckLatency != 10 {
			t.Errorf("%s: emitted at %v, want %v; ack %q", m.ControlID, e.TS, want, m.AckCode)
		}
	}
}

// TestWorkerSharedLists checks that the streams of one worker (one
// parser.Local) share the lists their events carry, and that a second
// stream's events are the same as a lone stream's.
func TestWorkerSharedLists(t *testing.T) {
	env := &parser.Env{Local: &parser.Local{}}
	var events [][]*Message
	for range 2 {
		rec := &parsertest.Recorder{}
		s := Factory.New(&parser.Flow{}, rec, env)
		s.Feed(parser.ToServer, mllp(adtUTF8("S1")), synthTS)
		s.Close(parser.CloseEndOfInput, synthTS)
		var msgs []*Message
		for _, e := range rec.Events {
			if m, ok := e.Body.(*Message); ok {
				msgs = append(msgs, m)
			}
		}
		if len(msgs) != 1 {
			t.Fatalf("%d messages, want 1", len(msgs))
		}
		events = append(events, msgs)
	}
	a, b := events[0][0], events[1][0]
	if len(a.Segments) == 0 || &a.Segments[0] != &b.Segments[0] {
		t.Errorf("the second stream built its own segment list")
	}
	if len(a.PHIFields) == 0 || &a.PHIFields[0] != &b.PHIFields[0] {
		t.Errorf("the second stream built its own PHI field list")
	}
	lone := &parsertest.Recorder{}
	s := Factory.New(&parser.Flow{}, lone, nil)
	s.Feed(parser.ToServer, mllp(adtUTF8("S1")), synthTS)
	s.Close(parser.CloseEndOfInput, synthTS)
	want := lone.Events[0].Body.(*Message).AppendJSON(nil)
	if got := b.AppendJSON(nil); !bytes.Equal(got, want) {
		t.Errorf("shared-list event differs:\n got %s\nwant %s", got, want)
	}
}
