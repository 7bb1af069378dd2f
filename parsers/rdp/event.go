package rdp

// Connection is the one event of an RDP connection's X.224 negotiation
// (MS-RDPBCGR 2.2.1.1 and 2.2.1.2): what the client asked for and what the
// server chose. After negotiation the flow stays "rdp" even when it turns
// to TLS or CredSSP. Emitted on the Connection Confirm, or at the end of
// the flow. Field names are stable.
type Connection struct {
	// Cookie is "mstshash" when the request carried a
	// "Cookie: mstshash=USER" line, "msts" for a load-balancer routing
	// token ("Cookie: msts=..."), "" for none.
	Cookie string `json:"cookie,omitempty"`
	// UserPresent is true when the mstshash cookie named a user. The name
	// is a member of staff's account name, not patient data, but it is
	// sensitive: it is kept only in User (never serialised), so detect/
	// can pseudonymise it with its keyed HMAC like a patient identifier.
	UserPresent bool   `json:"user_present,omitempty"`
	User        string `json:"-"`
	// RequestedProtocols lists the client's requestedProtocols flags:
	// "rdp" (standard RDP security, no flag set), "tls", "credssp",
	// "rdstls", "credssp_early_auth" (HYBRID_EX), "rdsaad"; "rdp" alone
	// when the request had no negotiation request.
	RequestedProtocols []string `json:"requested_protocols,omitempty"`
	// SelectedProtocol is the server's choice from its negotiation
	// response: "rdp", "tls", "credssp", "rdstls", "credssp_early_auth",
	// "rdsaad"; empty when no confirm was seen.
	SelectedProtocol string `json:"selected_protocol,omitempty"`
	// Failure is the negotiation failure code name when the server
	// refused ("ssl_required_by_server", "ssl_not_allowed_by_server",
	// "ssl_cert_not_on_server", "inconsistent_flags",
	// "hybrid_required_by_server", "ssl_with_user_auth_required_by_server",
	// or "code_N").
	Failure string `json:"failure,omitempty"`
	// StandardSecurity is true when the connection goes on with standard
	// RDP security (RC4, no server authentication): selected "rdp".
	StandardSecurity bool `json:"standard_security,omitempty"`
	// Confirmed is true when the server's Connection Confirm was seen.
	Confirmed bool `json:"confirmed"`
}

// EventType implements parser.Body.
func (*Connection) EventType() string { return "rdp" }
