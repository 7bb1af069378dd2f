package teamviewer

import (
	"flag"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/medtap/medtap/parsers/internal/ptest"
	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/parsertest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// No TeamViewer client runs here: these conversations are built from the
// published protocol facts (command header bytes 0x17 0x24 / 0x11 0x30 on
// TCP 5938; HTTP fallback to /din.aspx with client=DynGate). The payload
// after the header bytes is filler.
func synthetic() []*parsertest.Conversation {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	mk := func(port uint16, chunks ...string) *parsertest.Conversation {
		c := &parsertest.Conversation{Flow: parser.Flow{Proto: 6, Client: netip.MustParseAddrPort("10.99.0.2:50000"),
			Server: netip.AddrPortFrom(netip.MustParseAddr("10.99.0.9"), port)}, Close: parser.CloseFIN, End: t0.Add(time.Second)}
		for i, d := range chunks {
			c.Chunks = append(c.Chunks, parsertest.Chunk{Dir: parser.Direction(i & 1), Data: []byte(d), TS: t0.Add(time.Duration(i) * time.Millisecond)})
		}
		return c
	}
	return []*parsertest.Conversation{
		mk(5938, "\x17\x24\x0a\x20\x00\x00\x00\x00\x00\x00\x00\x00", "\x17\x24\x0b\x30\x00\x00\x00\x00", "\x11\x30\x00\x00"),
		mk(80, "GET /din.aspx?s=00000000&id=0&client=DynGate&p=10000001 HTTP/1.1\r\nUser-Agent: Mozilla/4.0 (compatible; MSIE 6.0; DynGate)\r\nHost: 10.99.0.9\r\n\r\n",
			"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n\x17\x24\x00\x00",
			"POST /dout.aspx?s=00000000&p=10000002 HTTP/1.1\r\nContent-Length: 2\r\n\r\n\x17\x24"),
	}
}

func TestSyntheticGolden(t *testing.T) {
	var b strings.Builder
	for _, c := range synthetic() {
		b.WriteString(parsertest.CheckChunking(t, Factory, c).JSON())
	}
	out := b.String()
	parsertest.Golden(t, "synthetic", out, *update)
	for _, want := range []string{`{"transport":"tcp","client_magic":"1724","server_magic":"1724","server_answered":true}`,
		`{"transport":"http","server_answered":true,"requests":2}`} {
		if !strings.Contains(out, want) {
			t.Errorf("want %s in\n%s", want, out)
		}
	}
}

func TestProbe(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want parser.Verdict
	}{
		{"\x17\x24\x0a\x20", parser.Match}, {"\x11\x30\x00\x00", parser.Match}, {"\x17\x24", parser.NeedMore},
		{"\x17\x03\x03\x00", parser.NoMatch}, // a TLS application_data record
		{"GET /din.aspx?s=1", parser.Match}, {"GET /di", parser.NeedMore}, {"GET / HTTP/1.1\r\n", parser.NoMatch},
	} {
		if got := probe(parser.ToServer, []byte(tc.in)); got != tc.want {
			t.Errorf("probe(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func FuzzStream(f *testing.F) {
	for _, b := range ptest.Frames(synthetic()) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) { ptest.Fuzz(t, Factory, 6, nil, in) })
}
