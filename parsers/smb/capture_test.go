package smb

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

// Samba 4.17 smbclient -> a Negotiate responder, SMB2/3 then SMB1 (pcaps/make/remote-smb.sh).
const capture = "../../pcaps/remote-smb.pcap"

func TestCaptureGolden(t *testing.T) {
	out := ptest.Capture(t, Factory, capture)
	parsertest.Golden(t, "remote-smb", out, *update)
}

func TestCaptureFacts(t *testing.T) {
	out := ptest.Capture(t, Factory, capture)
	rows := ptest.Oracle(t, capture+".tshark-app.tsv", "smb")
	offered := strings.Split(ptest.Column(rows, 2)[0], ",") // 0x0202,...
	var names []string
	for _, d := range offered {
		var v uint64
		for _, c := range d[2:] {
			v = v*16 + uint64(strings.IndexRune("0123456789abcdef", c))
		}
		names = append(names, `"`+dialectName(uint16(v))+`"`)
	}
	for _, want := range []string{
		`"smb2_dialects":[` + strings.Join(names, ",") + `],"dialect":"3.0.2"`,
		`"smb1_dialects":["` + strings.ReplaceAll(ptest.Column(rows, 0)[0], ",", `","`) + `"],"dialect":"NT LM 0.12","smb1":true`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("want %s in\n%s", want, out)
		}
	}
}

func nb(msg []byte) []byte {
	return append([]byte{0, byte(len(msg) >> 16), byte(len(msg) >> 8), byte(len(msg))}, msg...)
}

func TestTable(t *testing.T) {
	// An SMB2 negotiate request offering 2.1 and 3.1.1, answered with 3.1.1
	// through an SMB3 transform afterwards.
	req := make([]byte, 64+36+4)
	copy(req, "\xfeSMB")
	req[64+2] = 2
	req[64+36], req[64+37], req[64+38], req[64+39] = 0x10, 0x02, 0x11, 0x03
	rsp := make([]byte, 64+65)
	copy(rsp, "\xfeSMB")
	rsp[16] = 1
	rsp[64+4], rsp[64+5] = 0x11, 0x03
	tr := append([]byte("\xfdSMB"), make([]byte, 60)...)
	rec := &parsertest.Recorder{}
	s := newStream(&parser.Flow{Proto: 6}, rec, nil)
	s.Feed(parser.ToServer, nb(req), time.Unix(0, 0))
	s.Feed(parser.ToClient, append(nb(rsp), 0x85, 0, 0, 0), time.Unix(0, 0))
	s.Feed(parser.ToServer, nb(tr), time.Unix(0, 0))
	s.Close(parser.CloseFIN, time.Unix(0, 0))
	want := `{"smb2_dialects":["2.1","3.1.1"],"dialect":"3.1.1","smb1_messages":0,"smb2_messages":3,"encrypted":true}`
	if out := rec.JSON(); !strings.Contains(out, want) {
		t.Errorf("want %s in\n%s", want, out)
	}
}

func TestProbe(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want parser.Verdict
	}{
		{"\x00\x00\x00\x40\xfeSMB", parser.Match}, {"\x00\x00\x00\x40\xffSMB", parser.Match},
		{"\x00\x00\x00\x40\xfeSM", parser.NeedMore}, {"\x00\x00\x00\x40\xfeXYZ", parser.NoMatch}, {"\x81\x00", parser.NoMatch},
	} {
		if got := probe(parser.ToServer, []byte(tc.in)); got != tc.want {
			t.Errorf("probe(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func FuzzStream(f *testing.F) {
	ptest.Seeds(f, capture)
	f.Fuzz(func(t *testing.T, in []byte) {
		ptest.Fuzz(t, Factory, 6, map[string]bool{"bad_netbios_type": true, "frame_too_long": true, "gap": true}, in)
	})
}
