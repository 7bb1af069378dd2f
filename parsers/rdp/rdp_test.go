package rdp

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

// FreeRDP 2.11 xfreerdp -> a Connection Confirm responder (pcaps/make/remote-rdp.sh).
const capture = "../../pcaps/remote-rdp.pcap"

func TestCaptureGolden(t *testing.T) {
	out := ptest.Capture(t, Factory, capture)
	parsertest.Golden(t, "remote-rdp", out, *update)
	rows := ptest.Oracle(t, capture+".tshark-app.tsv", "rdp")
	// tshark: requested 0x3 (TLS + CredSSP), selected 0x2 (CredSSP),
	// failure 1 (SSL required by server).
	if r := ptest.Column(rows, 0); len(r) != 1 || r[0] != "0x00000003" {
		t.Fatalf("oracle requested %v", r)
	}
	for _, want := range []string{
		`"cookie":"mstshash","user_present":true,"requested_protocols":["rdp","tls","credssp"],"selected_protocol":"credssp","confirmed":true`,
		`"requested_protocols":["rdp"],"failure":"ssl_required_by_server","confirmed":true`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("want %s in\n%s", want, out)
		}
	}
}

// TestUserKept: the mstshash user name is kept for detection, not written.
func TestUserKept(t *testing.T) {
	rec := &parsertest.Recorder{}
	s := newStream(&parser.Flow{Proto: 6}, rec, nil)
	cr := tpkt(0xE0, []byte("Cookie: mstshash=medtap-op\r\n\x01\x00\x08\x00\x0b\x00\x00\x00"))
	s.Feed(parser.ToServer, cr, time.Unix(0, 0))
	s.Feed(parser.ToClient, tpkt(0xD0, []byte{2, 0, 8, 0, 8, 0, 0, 0}), time.Unix(0, 0))
	s.Close(parser.CloseFIN, time.Unix(0, 0))
	if len(rec.Events) != 1 {
		t.Fatalf("%d events", len(rec.Events))
	}
	c := rec.Events[0].Body.(*Connection)
	if c.User != "medtap-op" || !c.UserPresent || c.SelectedProtocol != "credssp_early_auth" {
		t.Errorf("%+v", c)
	}
	if want := []string{"rdp", "tls", "credssp", "credssp_early_auth"}; strings.Join(c.RequestedProtocols, ",") != strings.Join(want, ",") {
		t.Errorf("requested %v", c.RequestedProtocols)
	}
	ptest.NoSecrets(t, rec.JSON())
}

func tpkt(code byte, v []byte) []byte {
	x := append([]byte{byte(6 + len(v)), code, 0, 0, 0, 0, 0}, v...)
	n := 4 + len(x)
	return append([]byte{3, 0, byte(n >> 8), byte(n)}, x...)
}

func TestProbe(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want parser.Verdict
	}{
		{tpkt(0xE0, nil), parser.Match},
		{tpkt(0xD0, []byte{2, 0, 8, 0, 1, 0, 0, 0}), parser.Match},
		{tpkt(0xF0, nil), parser.NoMatch}, // data TPDU: not a connection start
		{[]byte{3, 0, 0}, parser.NeedMore},
		{[]byte{3, 0, 0, 13, 9, 0xE0}, parser.NoMatch}, // LI disagrees
		{[]byte("GET /"), parser.NoMatch},
		{[]byte{0x16, 3, 1}, parser.NoMatch},
	} {
		if got := probe(parser.ToServer, tc.in); got != tc.want {
			t.Errorf("probe(%x) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

var codes = map[string]bool{"bad_tpkt": true, "bad_x224_length": true, "unexpected_tpdu": true, "gap_in_negotiation": true}

func FuzzStream(f *testing.F) {
	ptest.Seeds(f, capture)
	f.Fuzz(func(t *testing.T, in []byte) { ptest.Fuzz(t, Factory, 6, codes, in) })
}
