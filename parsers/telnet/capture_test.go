package telnet

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

// Python telnetlib -> inetutils telnetd, failed login (pcaps/make/remote-telnet.sh).
const capture = "../../pcaps/remote-telnet.pcap"

func TestCaptureGolden(t *testing.T) {
	out := ptest.Capture(t, Factory, capture)
	parsertest.Golden(t, "remote-telnet", out, *update)
}

func TestCaptureFacts(t *testing.T) {
	out := ptest.Capture(t, Factory, capture)
	for _, want := range []string{`"login_answered":true`, `"password_answered":true`, `"user_present":true`, `"login_failed":true`} {
		if !strings.Contains(out, want) {
			t.Errorf("want %s in\n%s", want, out)
		}
	}
	// tshark saw option negotiation in the same flow.
	if rows := ptest.Oracle(t, capture+".tshark-app.tsv", "telnet"); len(rows) == 0 {
		t.Error("tshark decoded no telnet commands")
	}
	// The user name is kept for detection; the password nowhere.
	convs, _ := parsertest.Streams(capture)
	rec := parsertest.Replay(Factory, convs[0], parsertest.Whole, nil)
	s := rec.Events[len(rec.Events)-1].Body.(*Session)
	if s.User != "medtap-op" {
		t.Errorf("user %q", s.User)
	}
	for _, v := range s.PHIValues {
		if strings.Contains(v.Value, "medtap-secret") {
			t.Error("password scanned")
		}
	}
}

func TestTable(t *testing.T) {
	iac := func(b ...byte) string { return string(append([]byte{cmdIAC}, b...)) }
	for _, tc := range []struct {
		name  string
		feeds []string // alternating server, client
		want  string
	}{
		{"prompt with echo", []string{iac(cmdDO, 24) + "Welcome\r\nlogin: ", "o", "o", "p\r", "\r\nPassword: ", "x\r\n", "\r\nLogin incorrect\r\n"},
			`"options":["terminal_type"],"login_prompt":true,"login_answered":true,"password_prompt":true,"password_answered":true,"user_present":true,"login_failed":true`},
		{"no login", []string{iac(cmdWILL, 1) + "$ ", "ls\r\n", "file 13912345678\r\n$ "},
			`"phi_categories":["phone"]`},
		{"encryption agreed", []string{iac(cmdWILL, optEncrypt), iac(cmdDO, optEncrypt)}, `"encryption":true`},
		{"subnegotiation", []string{iac(cmdSB, 24, 1) + iac(cmdSE) + "User name: ", "op\r\n"}, `"login_answered":true`},
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
		in   string
		want parser.Verdict
	}{
		{"\xff\xfd\x18", parser.Match}, {"\xff\xfb", parser.NeedMore}, {"\xff\xf0\x00", parser.NoMatch}, {"login:", parser.NoMatch},
	} {
		if got := probe(parser.ToClient, []byte(tc.in)); got != tc.want {
			t.Errorf("probe(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func FuzzStream(f *testing.F) {
	ptest.Seeds(f, capture)
	f.Fuzz(func(t *testing.T, in []byte) {
		ptest.Fuzz(t, Factory, 6, map[string]bool{"subnegotiation_too_long": true, "gap": true}, in)
	})
}
