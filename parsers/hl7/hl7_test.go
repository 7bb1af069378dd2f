package hl7

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s: events differ from the golden file (run with -update to accept):\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

func TestCaptureHL7MLLP(t *testing.T) {
	convs := loadPcap(t, "../../pcaps/hl7-mllp.pcap")
	var all strings.Builder
	for _, c := range convs {
		rec := parsertest.CheckChunking(t, Factory, c)
		all.WriteString(rec.JSON())
	}
	golden(t, "hl7-mllp", all.String())
}
