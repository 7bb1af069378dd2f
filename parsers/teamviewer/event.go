package teamviewer

// Session is the one event of a TeamViewer connection, emitted at the end
// of the flow. Field names are stable.
type Session struct {
	// Transport is "tcp" (TeamViewer's own framing, normally on 5938) or
	// "http" (its HTTP fallback on 80/443-less networks: requests for
	// /din.aspx and /dout.aspx, client "DynGate").
	Transport string `json:"transport"`
	// ClientMagic and ServerMagic are the first two bytes each side sent,
	// in hex ("1724", "1130"), for transport tcp.
	ClientMagic string `json:"client_magic,omitempty"`
	ServerMagic string `json:"server_magic,omitempty"`
	// ServerAnswered is true when the other side answered in kind: its
	// first bytes carry a TeamViewer magic too (tcp), or an HTTP status
	// line came back (http).
	ServerAnswered bool `json:"server_answered,omitempty"`
	// Requests counts the DynGate HTTP requests (transport http).
	Requests int `json:"requests,omitempty"`
}

// EventType implements parser.Body.
func (*Session) EventType() string { return "teamviewer" }
