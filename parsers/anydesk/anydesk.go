package anydesk

import (
	"bytes"
	"strings"
	"time"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/tls"
)

// CertName is the common name of AnyDesk's self-generated certificates.
const CertName = "AnyDesk Client"

// Factory is the registry entry of the AnyDesk parser. It must come before
// tls in the registry.
var Factory = parser.Factory{
	Name:      "anydesk",
	Transport: parser.TCP,
	Ports:     []uint16{7070, 6568},
	Probe:     probe,
	New:       newStream,
}

// Certificate reports whether a certificate seen by the tls parser is an
// AnyDesk one: subject or issuer common name "AnyDesk Client".
func Certificate(c *tls.Cert) bool {
	if c == nil {
		return false
	}
	return hasCN(c.Subject) || hasCN(c.Issuer)
}

func hasCN(dn string) bool {
	for _, rdn := range strings.Split(dn, ",") {
		if strings.TrimSpace(rdn) == "CN="+CertName {
			return true
		}
	}
	return false
}

// probe matches a TLS handshake record holding a ServerHello, from the
// server's side, whose first bytes (ServerHello and the start of the
// Certificate message, where the issuer name is) contain "AnyDesk Client".
func probe(_ parser.Direction, b []byte) parser.Verdict {
	if len(b) >= 1 && b[0] != 22 {
		return parser.NoMatch
	}
	if len(b) >= 2 && b[1] != 3 {
		return parser.NoMatch
	}
	if len(b) < 6 {
		return parser.NeedMore
	}
	if b[5] != 2 { // ServerHello
		return parser.NoMatch
	}
	if bytes.Contains(b, []byte(CertName)) {
		return parser.Match
	}
	if len(b) >= parser.MaxProbeBytes {
		return parser.NoMatch
	}
	return parser.NeedMore
}

// stream runs the TLS parser and adds a Session after its tls event.
type stream struct {
	em    parser.Emitter
	inner parser.Stream
	done  bool
}

func newStream(f *parser.Flow, em parser.Emitter, env *parser.Env) parser.Stream {
	s := &stream{em: em}
	s.inner = tls.Factory.New(f, s, env)
	return s
}

// Emit implements parser.Emitter for the inner TLS stream.
func (s *stream) Emit(ts time.Time, b parser.Body) {
	s.em.Emit(ts, b)
	h, ok := b.(*tls.Handshake)
	if !ok || s.done || !Certificate(h.Cert) {
		return
	}
	s.done = true
	s.em.Emit(ts, &Session{Evidence: "certificate", TLSVersion: h.Version, Established: h.Established, CertSHA256: h.Cert.SHA256})
}

// Feed implements parser.Stream.
func (s *stream) Feed(dir parser.Direction, data []byte, ts time.Time) { s.inner.Feed(dir, data, ts) }

// Gap implements parser.Stream.
func (s *stream) Gap(dir parser.Direction, n int, ts time.Time) { s.inner.Gap(dir, n, ts) }

// Close implements parser.Stream.
func (s *stream) Close(r parser.CloseReason, ts time.Time) { s.inner.Close(r, ts) }

// Encrypted implements parser.EncryptionVerdict through the TLS stream.
func (s *stream) Encrypted() (bool, bool) {
	if v, ok := s.inner.(parser.EncryptionVerdict); ok {
		return v.Encrypted()
	}
	return true, true
}

// Stats passes the TLS stream's record counts on, for the flow record.
func (s *stream) Stats() tls.Stats {
	if v, ok := s.inner.(interface{ Stats() tls.Stats }); ok {
		return v.Stats()
	}
	return tls.Stats{}
}
