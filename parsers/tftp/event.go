package tftp

// Request is one TFTP read or write request (RFC 1350, options RFC 2347),
// sent to port 69. The transfer itself goes between other ports and is not
// followed. Field names are stable.
type Request struct {
	// Op is "read" (RRQ) or "write" (WRQ).
	Op string `json:"op"`
	// Extension is the file name's extension, lower-case, without the dot,
	// at most MaxExtLen bytes of [a-z0-9] ("bin", "cfg", "dcm"); the rest
	// of the name is never kept.
	Extension string `json:"extension,omitempty"`
	// Mode is "octet", "netascii" or "mail" (lower-case), else "other".
	Mode string `json:"mode"`
	// Options are the option names the request carried (RFC 2347-2349,
	// 7440: "blksize", "tsize", "timeout", "windowsize"), lower-case, at most
	// MaxOptions, each at most MaxOptionLen bytes.
	Options []string `json:"options,omitempty"`
}

// EventType implements parser.Body.
func (*Request) EventType() string { return "tftp" }

// Reply is a packet sent back to the client on the request's flow: an
// ERROR (a server may answer from port 69 itself) or OACK. The data
// transfer is on another flow.
type Reply struct {
	// Op is "error" or "oack".
	Op string `json:"op"`
	// ErrorCode is the ERROR packet's code (1 file not found, 2 access
	// violation...).
	ErrorCode int `json:"error_code,omitempty"`
}

// EventType implements parser.Body.
func (*Reply) EventType() string { return "tftp" }
