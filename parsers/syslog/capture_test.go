package syslog

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

// util-linux logger -> a listener, UDP 5424 and 3164, TCP octet counting (pcaps/make/remote-syslog.sh).
const capture = "../../pcaps/remote-syslog.pcap"

func TestCaptureGolden(t *testing.T) {
	out := ptest.Capture(t, Factory, capture)
	parsertest.Golden(t, "remote-syslog", out, *update)
}

func TestCaptureFacts(t *testing.T) {
	out := ptest.Capture(t, Factory, capture)
	rows := ptest.Oracle(t, capture+".tshark-app.tsv", "syslog")
	for _, r := range rows {
		want := `"facility":` + r[0] + `,"severity":` + r[1]
		if !strings.Contains(out, want) || (r[3] != "" && !strings.Contains(out, `"app_name":"`+r[3]+`"`)) {
			t.Errorf("tshark %v not in the events:\n%s", r, out)
		}
	}
	if strings.Count(out, "\n") != 4 {
		t.Errorf("want 4 messages:\n%s", out)
	}
	for _, want := range []string{`"phi_categories":["id_number","phone"]`, `"phi_categories":["bank_card"]`} {
		if !strings.Contains(out, want) {
			t.Errorf("want %s in\n%s", want, out)
		}
	}
}

func TestTable(t *testing.T) {
	for _, tc := range []struct {
		proto uint8
		in    string
		want  string
	}{
		{17, "<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!", `"format":"rfc3164","framing":"udp","facility":1,"severity":5,"timestamp":"Feb  5 17:32:18","hostname":"10.0.0.99"`},
		{17, "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"App]lication\"] msg 13912345678",
			`"hostname":"mymachine.example.com","app_name":"evntslog","msg_id":"ID47","structured_data":true,"bytes":140,"phi_categories":["phone"]`},
		{17, "no pri at all", `"format":"bare"`},
		{6, "<34>1 - host app - - - one\n<34>1 - host app - - - two\n", `"framing":"non_transparent","facility":4,"severity":2,"hostname":"host","app_name":"app","bytes":26`},
		{6, "5x <1>", `"code":"bad_octet_count"`},
	} {
		rec := &parsertest.Recorder{}
		s := newStream(&parser.Flow{Proto: tc.proto}, rec, nil)
		s.Feed(parser.ToServer, []byte(tc.in), time.Unix(0, 0))
		s.Close(parser.CloseFIN, time.Unix(0, 0))
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
		{"<34>1 ", parser.Match}, {"<13>Feb", parser.Match}, {"120 <34>1", parser.Match}, {"<1", parser.NeedMore},
		{"<192>1 ", parser.NoMatch}, {"<?xml", parser.NoMatch}, {"12", parser.NeedMore}, {"12x", parser.NoMatch},
	} {
		if got := probe(parser.ToServer, []byte(tc.in)); got != tc.want {
			t.Errorf("probe(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func FuzzStream(f *testing.F) {
	ptest.Seeds(f, capture)
	f.Fuzz(func(t *testing.T, in []byte) {
		ptest.Fuzz(t, Factory, 6, map[string]bool{"bad_octet_count": true, "gap": true}, in)
	})
}
