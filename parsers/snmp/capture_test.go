package snmp

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

// net-snmp 5.9 snmpget -> snmpd: v2c public, v1, v3 unknown user (pcaps/make/remote-snmp.sh).
const capture = "../../pcaps/remote-snmp.pcap"

func TestCaptureGolden(t *testing.T) {
	out := ptest.Capture(t, Factory, capture)
	parsertest.Golden(t, "remote-snmp", out, *update)
}

func TestCaptureFacts(t *testing.T) {
	out := ptest.Capture(t, Factory, capture)
	rows := ptest.Oracle(t, capture+".tshark-app.tsv", "snmp")
	// tshark's versions: 1 = v2c, 0 = v1; v3 rows carry msgFlags instead.
	v2, v1, v3 := 0, 0, len(ptest.Column(rows, 1))
	for _, v := range ptest.Column(rows, 0) {
		switch v {
		case "1":
			v2++
		case "0":
			v1++
		}
	}
	if got := strings.Count(out, `"version":"2c"`); got != v2 {
		t.Errorf("v2c: %d events, tshark %d", got, v2)
	}
	if got := strings.Count(out, `"version":"1"`); got != v1 {
		t.Errorf("v1: %d events, tshark %d", got, v1)
	}
	if got := strings.Count(out, `"version":"3"`); got != v3 {
		t.Errorf("v3: %d events, tshark %d", got, v3)
	}
	if !strings.Contains(out, `"version":"2c","community_present":true,"default_community":true,"pdu":"get_request"`) {
		t.Errorf("public community not flagged:\n%s", out)
	}
}

func TestTable(t *testing.T) {
	// v1 trap with community "private" and one varbind.
	trap := "\x30\x2c\x02\x01\x00\x04\x07private\xa4\x1e\x06\x03\x2b\x06\x01\x40\x04\x7f\x00\x00\x01\x02\x01\x06\x02\x01\x01\x43\x01\x05\x30\x08\x30\x06\x06\x02\x2b\x06\x05\x00"
	for _, tc := range []struct {
		in, want string
	}{
		{trap, `{"direction":"to_server","version":"1","community_present":true,"default_community":true,"pdu":"trap","varbinds":1}`},
		{"\x30\x03\x02\x01\x01", `"code":"bad_pdu"`},
		{"\x30\x80", `"code":"bad_message"`},
	} {
		rec := &parsertest.Recorder{}
		s := newStream(&parser.Flow{Proto: 17}, rec, nil)
		s.Feed(parser.ToServer, []byte(tc.in), time.Unix(0, 0))
		if out := rec.JSON(); !strings.Contains(out, tc.want) {
			t.Errorf("want %s in\n%s", tc.want, out)
		}
	}
}

func TestProbe(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want parser.Verdict
	}{
		{"\x30\x0b\x02\x01\x01\x04\x06public", parser.Match},
		{"\x30\x0b\x02\x01\x02\x04\x06public", parser.NoMatch},
		{"\x30\x05\x02\x01\x03\x30\x00", parser.Match},
		{"\x16\x03\x01", parser.NoMatch},
	} {
		if got := probe(parser.ToServer, []byte(tc.in)); got != tc.want {
			t.Errorf("probe(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func FuzzStream(f *testing.F) {
	ptest.Seeds(f, capture)
	f.Fuzz(func(t *testing.T, in []byte) {
		ptest.Fuzz(t, Factory, 17, map[string]bool{"bad_message": true, "bad_pdu": true}, in)
	})
}
