package tftp

import (
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/medtap/medtap/parsers/internal/ptest"
	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/parsertest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// tftp-hpa client -> tftpd-hpa: get, put, get missing (pcaps/make/remote-tftp.sh).
const capture = "../../pcaps/remote-tftp.pcap"

func TestCaptureGolden(t *testing.T) {
	out := ptest.Capture(t, Factory, capture)
	parsertest.Golden(t, "remote-tftp", out, *update)
}

func TestCaptureFacts(t *testing.T) {
	out := ptest.Capture(t, Factory, capture)
	rows := ptest.Oracle(t, capture+".tshark-app.tsv", "tftp")
	ops := map[string]string{"1": `"op":"read"`, "2": `"op":"write"`, "5": `"op":"error","error_code":`}
	for _, r := range rows {
		if !strings.Contains(out, ops[r[0]]+r[1]) {
			t.Errorf("tshark %v not in the events:\n%s", r, out)
		}
	}
	if !strings.Contains(out, `"extension":"bin"`) {
		t.Errorf("no extension:\n%s", out)
	}
}

func TestTable(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"\x00\x02ZHAO_WEI.DCM\x00octet\x00blksize\x001428\x00tsize\x000\x00", `{"op":"write","extension":"dcm","mode":"octet","options":["blksize","tsize"]}`},
		{"\x00\x01noext\x00NETASCII\x00", `{"op":"read","mode":"netascii"}`},
		{"\x00\x06blksize\x001428\x00", `{"op":"oack"}`},
		{"\x00\x09", `"code":"bad_opcode"`},
		{"\x00\x01x\x00", `"code":"bad_request"`},
	} {
		rec := &parsertest.Recorder{}
		s := newStream(&parser.Flow{Proto: 17}, rec, nil)
		s.Feed(parser.ToServer, []byte(tc.in), time.Unix(0, 0))
		out := rec.JSON()
		if !strings.Contains(out, tc.want) {
			t.Errorf("want %s in\n%s", tc.want, out)
		}
		ptest.NoSecrets(t, out)
	}
}

func TestProbe(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want parser.Verdict
	}{
		{"\x00\x01f.bin\x00octet\x00", parser.Match}, {"\x00\x01f.bin\x00bogus\x00", parser.NoMatch},
		{"\x00\x03\x00\x01data", parser.NoMatch}, {"\x00\x01", parser.NoMatch},
	} {
		if got := probe(parser.ToServer, []byte(tc.in)); got != tc.want {
			t.Errorf("probe(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func FuzzStream(f *testing.F) {
	ptest.Seeds(f, capture)
	f.Fuzz(func(t *testing.T, in []byte) {
		ptest.Fuzz(t, Factory, 17, map[string]bool{"short_packet": true, "bad_request": true, "bad_opcode": true}, in)
	})
}
