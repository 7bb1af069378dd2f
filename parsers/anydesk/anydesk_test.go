package anydesk

import (
	"flag"
	"strings"
	"testing"

	"github.com/medtap/medtap/parsers/internal/ptest"
	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/parsertest"
	"github.com/medtap/medtap/parsers/tls"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// openssl s_client -> s_server -tls1_2 with a self-signed "CN=AnyDesk
// Client" certificate, AnyDesk's (pcaps/make/remote-anydesk-cert.sh). Not
// AnyDesk itself.
const capture = "../../pcaps/remote-anydesk-cert.pcap"

func TestCaptureGolden(t *testing.T) {
	out := ptest.Capture(t, Factory, capture)
	parsertest.Golden(t, "remote-anydesk-cert", out, *update)
	if !strings.Contains(out, `anydesk `) || !strings.Contains(out, `"evidence":"certificate","tls_version":"TLSv1.2","established":true`) {
		t.Errorf("no anydesk session:\n%s", out)
	}
	if rows := ptest.Oracle(t, capture+".tshark-app.tsv", "tls"); len(rows) != 1 || !strings.Contains(rows[0][1], CertName) {
		t.Errorf("oracle: %v", rows)
	}
}

// TestProbeServerFirst: with the ClientHello lost, the server's first
// flight is claimed by this parser; with it, tls's probe decides (the
// anydesk probe says NoMatch on a ClientHello).
func TestProbeServerFirst(t *testing.T) {
	convs, err := parsertest.Streams(capture)
	if err != nil {
		t.Skip(err)
	}
	var server, client []byte
	for _, c := range parsertest.Joined(convs[0]) {
		if c.Dir == parser.ToClient && server == nil {
			server = c.Data
		}
		if c.Dir == parser.ToServer && client == nil {
			client = c.Data
		}
	}
	if v := probe(parser.ToClient, server[:min(len(server), parser.MaxProbeBytes)]); v != parser.Match {
		t.Errorf("server flight: %v", v)
	}
	if v := probe(parser.ToServer, client); v != parser.NoMatch {
		t.Errorf("client hello: %v", v)
	}
	if v := tls.Factory.Probe(parser.ToServer, client); v != parser.Match {
		t.Errorf("tls on the client hello: %v", v)
	}
}

// TestCertificate: detect/ recognises AnyDesk on flows the tls parser got.
func TestCertificate(t *testing.T) {
	convs, err := parsertest.Streams(capture)
	if err != nil {
		t.Skip(err)
	}
	rec := parsertest.Replay(tls.Factory, convs[0], parsertest.Whole, nil)
	found := false
	for _, e := range rec.Events {
		if h, ok := e.Body.(*tls.Handshake); ok {
			found = Certificate(h.Cert)
		}
	}
	if !found {
		t.Error("the tls event's certificate is not recognised")
	}
	for _, c := range []*tls.Cert{nil, {Subject: "CN=AnyDesk Clientele"}, {Subject: "O=x,CN=example.org", Issuer: "CN=AnyDesk Client"}} {
		want := c != nil && strings.HasSuffix(c.Issuer, "CN=AnyDesk Client")
		if got := Certificate(c); got != want {
			t.Errorf("Certificate(%+v) = %v", c, got)
		}
	}
}

func FuzzStream(f *testing.F) {
	ptest.Seeds(f, capture)
	tlsCodes := map[string]bool{}
	for _, c := range []string{"bad_record_type", "bad_record_version", "record_too_long", "handshake_too_long", "too_many_handshake_messages",
		"bad_client_hello", "bad_server_hello", "bad_extension", "bad_certificate_message", "bad_certificate", "gap_in_handshake", "null_record_too_short"} {
		tlsCodes["tls/"+c] = true
	}
	f.Fuzz(func(t *testing.T, in []byte) { ptest.Fuzz(t, Factory, 6, tlsCodes, in) })
}
