package tls

// Handshake is the one event a flow's TLS handshake gives. Field names are
// stable: other tools parse them. A field is omitted when the handshake did
// not show it (a flow picked up mid-stream, a handshake that failed early).
type Handshake struct {
	// Version is the negotiated version ("TLSv1.2", "TLSv1.3"): the
	// ServerHello's supported_versions selection, else its legacy version.
	Version string `json:"version,omitempty"`
	// ClientVersions are the versions the client offered: its
	// supported_versions list (GREASE removed), else its legacy version.
	ClientVersions []string `json:"client_versions,omitempty"`
	// Cipher is the chosen suite's IANA name, or "0xXXXX".
	Cipher string `json:"cipher,omitempty"`
	// CipherID is the chosen suite's id; nil when no ServerHello was seen.
	CipherID *uint16 `json:"cipher_id,omitempty"`
	// SNI is the client's first server_name host_name.
	SNI string `json:"sni,omitempty"`
	// ALPN is the client's offered protocol list (first 16).
	ALPN []string `json:"alpn,omitempty"`
	// ALPNChosen is the protocol the server selected.
	ALPNChosen string `json:"alpn_chosen,omitempty"`
	// JA4 is FoxIO's JA4 client fingerprint of the first ClientHello.
	JA4 string `json:"ja4,omitempty"`
	// JA3 is the MD5 JA3 client fingerprint of the first ClientHello.
	JA3 string `json:"ja3,omitempty"`
	// JA3S is the MD5 JA3S server fingerprint of the ServerHello.
	JA3S string `json:"ja3s,omitempty"`
	// Cert is the server's leaf certificate (TLS 1.2 and below only: in
	// TLS 1.3 it is encrypted).
	Cert *Cert `json:"cert,omitempty"`
	// Encrypted is false for a NULL cipher suite and when no ServerHello
	// was seen; true otherwise.
	Encrypted bool `json:"encrypted"`
	// NullCipher is true when the chosen suite is a NULL (integrity-only)
	// suite: the payload is in clear.
	NullCipher bool `json:"null_cipher"`
	// Resumed is true for an abbreviated handshake: TLS 1.3 with an
	// accepted pre_shared_key; TLS 1.2 and below when the server echoes the
	// client's non-empty session id or sends ChangeCipherSpec without a
	// ServerHelloDone.
	Resumed bool `json:"resumed"`
	// HelloRetry is true when the server sent a TLS 1.3 HelloRetryRequest.
	HelloRetry bool `json:"hello_retry"`
	// Alerts counts alerts seen in clear, both directions.
	Alerts int `json:"alerts"`
	// LastAlert is the last alert seen in clear.
	LastAlert *Alert `json:"last_alert,omitempty"`
	// Established is true when the handshake completed: ChangeCipherSpec
	// in both directions (TLS 1.2 and below), or application_data records
	// large enough to hold a Finished in both directions (TLS 1.3, a
	// heuristic: the client's Finished is such a record, its unpadded
	// encrypted alert is not).
	Established bool `json:"established"`
}

// EventType implements parser.Body.
func (*Handshake) EventType() string { return "tls" }

// Cert describes a leaf certificate.
type Cert struct {
	Subject    string `json:"subject"`     // RFC 2253 form (pkix.Name.String), at most 1024 bytes
	Issuer     string `json:"issuer"`      // RFC 2253 form, at most 1024 bytes
	NotBefore  string `json:"not_before"`  // RFC 3339, UTC
	NotAfter   string `json:"not_after"`   // RFC 3339, UTC
	Serial     string `json:"serial"`      // lower-case hex
	SelfSigned bool   `json:"self_signed"` // issuer == subject and the signature verifies with its own key
	SHA256     string `json:"sha256"`      // lower-case hex SHA-256 of the DER
}

// Alert is one TLS alert.
type Alert struct {
	Level       uint8  `json:"level"`       // 1 warning, 2 fatal
	Description uint8  `json:"description"` // alert description number
	Name        string `json:"name"`        // description name ("handshake_failure")
}

// Stats counts what a stream walked, per direction (indexed by
// parser.Direction). The pipeline reads it through an interface
// { Stats() tls.Stats } when it writes the flow record.
type Stats struct {
	Records        [2]uint64 // TLS records whose header was read
	AppDataRecords [2]uint64 // application_data records
	AppDataBytes   [2]uint64 // application_data record body bytes
}
