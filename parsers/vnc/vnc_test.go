package vnc

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

// TigerVNC 1.12 vncviewer -> Xvnc, security None and VncAuth
// (pcaps/make/remote-vnc.sh).
const capture = "../../pcaps/remote-vnc.pcap"

func TestCaptureGolden(t *testing.T) {
	out := ptest.Capture(t, Factory, capture)
	parsertest.Golden(t, "remote-vnc", out, *update)
	rows := ptest.Oracle(t, capture+".tshark-app.tsv", "vnc")
	types := ptest.Column(rows, 2)  // 1 then 2
	widths := ptest.Column(rows, 4) // 640 then 800
	if len(types) != 2 || len(widths) != 2 {
		t.Fatalf("oracle: types %v widths %v", types, widths)
	}
	for _, want := range []string{
		`"security_type":"none","no_auth":true,"result":"ok","width":` + widths[0],
		`"security_type":"vnc_auth","result":"ok","width":` + widths[1],
	} {
		if !strings.Contains(out, want) {
			t.Errorf("want %s in\n%s", want, out)
		}
	}
}

func run(feeds ...string) string {
	rec := &parsertest.Recorder{}
	s := newStream(&parser.Flow{Proto: 6}, rec, nil)
	for i, f := range feeds {
		s.Feed(parser.Direction(i&1^1), []byte(f), time.Unix(0, 0)) // server first
	}
	s.Close(parser.CloseFIN, time.Unix(0, 0))
	return rec.JSON()
}

func TestTable(t *testing.T) {
	for _, tc := range []struct {
		name  string
		feeds []string // alternating server, client
		want  string
	}{
		{"rfb 3.3 none", []string{"RFB 003.003\n", "RFB 003.003\n", "\x00\x00\x00\x01", "\x01", "\x01\x00\x00\xc8"},
			`"server_version":"003.003","client_version":"003.003","security_types":["none"],"security_type":"none","no_auth":true,"width":256,"height":200}`},
		{"refused", []string{"RFB 003.008\n", "RFB 003.008\n", "\x00\x00\x00\x00\x04nope"}, `"connect_failed":true`},
		{"auth failed", []string{"RFB 003.008\n", "RFB 003.008\n", "\x02\x02\x12", "\x02", strings.Repeat("c", 16), strings.Repeat("r", 16), "\x00\x00\x00\x01\x00\x00\x00\x03bad"},
			`"security_types":["vnc_auth","tls"],"security_type":"vnc_auth","result":"failed"}`},
		{"vencrypt", []string{"RFB 003.008\n", "RFB 003.008\n", "\x01\x13", "\x13"}, `"security_type":"vencrypt"}`},
		{"only banner", []string{"RFB 003.008\n"}, `"truncated":true`},
	} {
		if out := run(tc.feeds...); !strings.Contains(out, tc.want) {
			t.Errorf("%s: want %s in\n%s", tc.name, tc.want, out)
		}
	}
}

func TestProbe(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want parser.Verdict
	}{
		{"RFB 003.008\n", parser.Match}, {"RFB 003.889\n", parser.Match}, {"RFB 0", parser.NeedMore},
		{"RFB x", parser.NoMatch}, {"SSH-2.0", parser.NoMatch},
	} {
		if got := probe(parser.ToClient, []byte(tc.in)); got != tc.want {
			t.Errorf("probe(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

var codes = map[string]bool{"bad_version": true, "bad_reason_length": true, "gap_in_handshake": true}

func FuzzStream(f *testing.F) {
	ptest.Seeds(f, capture)
	f.Fuzz(func(t *testing.T, in []byte) { ptest.Fuzz(t, Factory, 6, codes, in) })
}
