package http

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

// curl 7.88 -> python3 http.server, Basic auth, a query, a /wsman POST (pcaps/make/remote-http.sh).
const capture = "../../pcaps/remote-http.pcap"

func TestCaptureGolden(t *testing.T) {
	out := ptest.Capture(t, Factory, capture)
	parsertest.Golden(t, "remote-http", out, *update)
}

func TestCaptureFacts(t *testing.T) {
	out := ptest.Capture(t, Factory, capture)
	rows := ptest.Oracle(t, capture+".tshark-app.tsv", "http")
	for _, col := range []int{0, 2, 3, 4} { // method, status, server, user agent
		for _, v := range ptest.Column(rows, col) {
			if !strings.Contains(out, `":"`+v+`"`) && !strings.Contains(out, `":`+v+`,`) {
				t.Errorf("tshark's %q not in the events:\n%s", v, out)
			}
		}
	}
	for _, want := range []string{
		`"path":"/patient.txt"`, `"auth_scheme":"basic"`, `"phi":{"id_number":1,"phone":1,"bank_card":1}`,
		`"path":"/","query_present":true`, `"winrm":true`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("want %s in\n%s", want, out)
		}
	}
	// The Basic user name is kept for detection, never written.
	convs, _ := parsertest.Streams(capture)
	rec := parsertest.Replay(Factory, convs[0], parsertest.Whole, nil)
	if tr := rec.Events[0].Body.(*Transaction); tr.User != "medtap-op" || len(tr.PHIValues) != 3 {
		t.Errorf("user %q values %d", tr.User, len(tr.PHIValues))
	}
}

func run(feeds ...string) string {
	rec := &parsertest.Recorder{}
	s := newStream(&parser.Flow{Proto: 6}, rec, nil)
	for i, f := range feeds {
		s.Feed(parser.Direction(i&1), []byte(f), time.Unix(0, 0))
	}
	s.Close(parser.CloseFIN, time.Unix(0, 0))
	return rec.JSON()
}

func TestTable(t *testing.T) {
	for _, tc := range []struct {
		name  string
		feeds []string // alternating client, server
		want  []string
	}{
		{"pipelined keep-alive", []string{
			"GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 15\r\nContent-Type: text/plain; charset=utf-8\r\n\r\ntel 13912345678",
			"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"},
			[]string{`"method":"GET","path":"/a","version":"1.1","host":"h","status":200,"response_content_length":2,"response_body_bytes":2,"phi":{}}`,
				`"method":"POST","path":"/b","version":"1.1","request_content_type":"text/plain","request_content_length":15,"request_body_bytes":15,"status":201,"phi_categories":["phone"]`}},
		{"chunked response", []string{"GET /c HTTP/1.1\r\n\r\n",
			"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nid 11\r\n11\r\n010519491231002X \r\n0\r\nX-T: 1\r\n\r\n"},
			[]string{`"response_body_bytes":22,"phi_categories":["id_number"]`}},
		{"masked path, ntlm, interim", []string{"PUT /patients/13912345678/x?y=1 HTTP/1.1\r\nAuthorization: NTLM abc\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n",
			"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 401 No\r\nWWW-Authenticate: Negotiate\r\nContent-Length: 0\r\n\r\n"},
			[]string{`"path":"/patients/***********/x","query_present":true`, `"auth_scheme":"ntlm"`, `"status":401`, `"www_authenticate":"negotiate"`}},
		{"record number in the path", []string{"GET /fhir/Patient/MT9001/_history/2 HTTP/1.1\r\n\r\n"},
			[]string{`"path":"/fhir/Patient/******/_history/*"`}},
		{"unanswered", []string{"GET /x HTTP/1.0\r\n\r\n"}, []string{`"method":"GET","path":"/x","version":"1.0","phi":{}}`}},
		{"websocket", []string{"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", "HTTP/1.1 101 Switching\r\nUpgrade: websocket\r\n\r\n\x81\x05hello", "\x81\x85garbage"},
			[]string{`"status":101`, `"upgrade":"websocket"`}},
		{"gzip not scanned", []string{"GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 11\r\n\r\n13912345678"},
			[]string{`"encoded":true,"phi":{}`}},
		{"read to close", []string{"GET / HTTP/1.0\r\n\r\n", "HTTP/1.0 200 OK\r\n\r\nabc 13912345678"},
			[]string{`"response_body_bytes":15,"phi_categories":["phone"]`}},
		{"bad request line", []string{"GET /\r\n\r\n"}, []string{`"code":"bad_request_line"`}},
	} {
		out := run(tc.feeds...)
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: want %s in\n%s", tc.name, w, out)
			}
		}
	}
}

func TestProbe(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want parser.Verdict
	}{
		{"GET / HTTP/1.1\r\n", parser.Match},
		{"POST /wsman HTTP/1.1\r\n", parser.Match},
		{"GET / HT", parser.NeedMore},
		{"HTTP/1.1 200 OK\r\n", parser.Match},
		{"MSH|^~\\&|", parser.NoMatch},
		{"\x0bMSH|", parser.NoMatch},
		{"\x01\x00\x00\x00", parser.NoMatch},
		{"GET / RTSP/1.0\r\n", parser.NoMatch},
		{"FOO / HTTP/1.1\r\n", parser.NoMatch},
	} {
		if got := probe(parser.ToServer, []byte(tc.in)); got != tc.want {
			t.Errorf("probe(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

var codes = map[string]bool{"header_line_too_long": true, "too_many_headers": true, "bad_header": true, "bad_content_length": true,
	"bad_chunk_size": true, "bad_request_line": true, "bad_status_line": true, "response_without_request": true,
	"too_many_pending_requests": true, "gap": true}

func FuzzStream(f *testing.F) {
	ptest.Seeds(f, capture, "../../pcaps/http-plain.pcap")
	f.Fuzz(func(t *testing.T, in []byte) { ptest.Fuzz(t, Factory, 6, codes, in) })
}
