package ftp

import (
	"flag"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medtap/medtap/parsers/internal/ptest"
	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/parsertest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Python ftplib -> pyftpdlib 1.5.7 (pcaps/make/remote-ftp.sh).
const capture = "../../pcaps/remote-ftp.pcap"

func TestCaptureGolden(t *testing.T) {
	out := ptest.Capture(t, Factory, capture)
	parsertest.Golden(t, "remote-ftp", out, *update)
}

func TestCaptureFacts(t *testing.T) {
	out := ptest.Capture(t, Factory, capture)
	rows := ptest.Oracle(t, capture+".tshark-app.tsv", "ftp")
	// Every command tshark saw is counted.
	count := map[string]int{}
	for _, c := range ptest.Column(rows, 0) {
		count[c]++
	}
	for c, n := range count {
		if !strings.Contains(out, `"`+c+`":`+strconv.Itoa(n)) {
			t.Errorf("tshark saw %d %s; events:\n%s", n, c, out)
		}
	}
	for _, want := range []string{`"banner":"pyftpdlib 1.5.7 ready."`, `"password_present":true`, `{"command":"STOR","extension":"dcm","reply":226}`, `{"command":"RETR","extension":"hl7","reply":550}`} {
		if !strings.Contains(out, want) {
			t.Errorf("want %s in\n%s", want, out)
		}
	}
}

func TestTable(t *testing.T) {
	for _, tc := range []struct {
		name  string
		feeds []string // alternating server, client
		want  string
	}{
		{"auth tls", []string{"220 (vsFTPd 3.0.3)\r\n", "AUTH TLS\r\n", "234 Proceed.\r\n", "\x16\x03\x01garbage"}, `"banner":"(vsFTPd 3.0.3)","auth_tls":"TLS","tls_accepted":true`},
		{"anonymous failed", []string{"220-Welcome\r\n220 FTP\r\n", "user anonymous\r\npass x\r\n", "331 ok\r\n530 no\r\n"}, `"anonymous":true,"password_present":true,"login_result":"failed"`},
		{"odd names", []string{"220 FTP\r\n", "STOR a/b.c/NOEXT\r\nRETR x.TAR\r\nSTOR y.verylongext\r\n"}, `"transfers":[{"command":"STOR"},{"command":"RETR","extension":"tar"},{"command":"STOR"}]`},
	} {
		rec := &parsertest.Recorder{}
		s := newStream(&parser.Flow{Proto: 6}, rec, nil)
		for i, f := range tc.feeds {
			s.Feed(parser.Direction(i&1^1), []byte(f), time.Unix(0, 0))
		}
		s.Close(parser.CloseFIN, time.Unix(0, 0))
		if out := rec.JSON(); !strings.Contains(out, tc.want) {
			t.Errorf("%s: want %s in\n%s", tc.name, tc.want, out)
		}
	}
}

func TestProbe(t *testing.T) {
	for _, tc := range []struct {
		dir  parser.Direction
		in   string
		want parser.Verdict
	}{
		{parser.ToClient, "220 (vsFTPd 3.0.3)\r\n", parser.Match},
		{parser.ToClient, "220 mail.example ESMTP Postfix\r\n", parser.NoMatch},
		{parser.ToClient, "220 ", parser.NeedMore},
		{parser.ToServer, "USER op\r\n", parser.Match},
		{parser.ToServer, "US", parser.NeedMore},
		{parser.ToServer, "GET / HTTP/1.1\r\n", parser.NoMatch},
	} {
		if got := probe(tc.dir, []byte(tc.in)); got != tc.want {
			t.Errorf("probe(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func FuzzStream(f *testing.F) {
	ptest.Seeds(f, capture)
	f.Fuzz(func(t *testing.T, in []byte) {
		ptest.Fuzz(t, Factory, 6, map[string]bool{"line_too_long": true, "gap": true}, in)
	})
}
