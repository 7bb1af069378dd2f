package anydesk

// Session is the event of an AnyDesk connection recognised by its TLS
// certificate: AnyDesk generates a self-signed certificate whose subject
// and issuer common name is "AnyDesk Client" and speaks TLS 1.2 on 7070
// (direct connections) or to its relays. Emitted once, after the TLS
// parser's tls event for the same flow. Field names are stable.
type Session struct {
	// Evidence says what identified AnyDesk: "certificate" (the server's
	// certificate subject or issuer CN is "AnyDesk Client").
	Evidence string `json:"evidence"`
	// TLSVersion and Established repeat the tls event's.
	TLSVersion  string `json:"tls_version,omitempty"`
	Established bool   `json:"established"`
	// CertSHA256 is the certificate's SHA-256: AnyDesk derives its client
	// fingerprint from this certificate, so it follows one installation.
	CertSHA256 string `json:"cert_sha256,omitempty"`
}

// EventType implements parser.Body.
func (*Session) EventType() string { return "anydesk" }
