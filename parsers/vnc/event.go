package vnc

// Session is the one event of an RFB (VNC) connection's handshake (RFC
// 6143 §7.1): versions, the security types the server offered and the one
// the client chose, and the result. Emitted after the SecurityResult (or
// after the choice of None in RFB 3.3/3.7, which has no result), or at the
// end of the flow. Field names are stable.
type Session struct {
	// ServerVersion and ClientVersion are the ProtocolVersion messages'
	// "MMM.mmm" ("003.008"; "003.889" is Apple Remote Desktop).
	ServerVersion string `json:"server_version,omitempty"`
	ClientVersion string `json:"client_version,omitempty"`
	// SecurityTypes are the types the server offered, by name: "none",
	// "vnc_auth", "ra2", "ra2ne", "tight", "ultra", "tls", "vencrypt",
	// "sasl", "md5", "xvp", "apple_ard" or "type_N". In RFB 3.3 the server
	// decides alone and this holds its one choice.
	SecurityTypes []string `json:"security_types,omitempty"`
	// SecurityType is the type in use: the client's choice (3.7, 3.8) or
	// the server's (3.3).
	SecurityType string `json:"security_type,omitempty"`
	// NoAuth is true when the type in use is None: anyone reaching the
	// port controls the screen.
	NoAuth bool `json:"no_auth,omitempty"`
	// Result is the SecurityResult: "ok", "failed", or "" when not seen.
	Result string `json:"result,omitempty"`
	// ConnectFailed is true when the server refused at once (zero types
	// offered, or type 0 in 3.3), with a reason string (not kept).
	ConnectFailed bool `json:"connect_failed,omitempty"`
	// Width and Height come from ServerInit, when it was seen in clear.
	Width  uint16 `json:"width,omitempty"`
	Height uint16 `json:"height,omitempty"`
	// Truncated is true when the flow ended before the handshake did.
	Truncated bool `json:"truncated,omitempty"`
}

// EventType implements parser.Body.
func (*Session) EventType() string { return "vnc" }
