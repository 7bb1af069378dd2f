package syslog

import "github.com/medtap/medtap/parsers/textscan"

// Message is one syslog message (RFC 3164 or RFC 5424) over UDP, or over
// TCP with octet counting or newline framing (RFC 6587). Field names are
// stable. The message text is not serialised: it is offered to the textscan
// detectors, and only counts and categories go out.
type Message struct {
	Direction string `json:"direction"`
	// Format is "rfc5424", "rfc3164", or "bare" (no PRI).
	Format string `json:"format"`
	// Framing is "udp", "octet_counting" or "non_transparent".
	Framing string `json:"framing"`
	// Facility and Severity come from the PRI (nil without one).
	Facility *int `json:"facility,omitempty"`
	Severity *int `json:"severity,omitempty"`
	// Timestamp is the header's, as written (at most MaxField bytes).
	Timestamp string `json:"timestamp,omitempty"`
	// Hostname, AppName, ProcID and MsgID are the header fields (RFC 5424;
	// for RFC 3164 the HOSTNAME and the TAG's name and pid). Device
	// identity, not personal data; at most MaxField bytes each.
	Hostname string `json:"hostname,omitempty"`
	AppName  string `json:"app_name,omitempty"`
	ProcID   string `json:"proc_id,omitempty"`
	MsgID    string `json:"msg_id,omitempty"`
	// StructuredData is true when an RFC 5424 message carried SD elements.
	StructuredData bool `json:"structured_data,omitempty"`
	// Bytes is the whole message's length.
	Bytes int `json:"bytes"`
	// Truncated is true when the message was cut by MaxMessage.
	Truncated bool `json:"truncated,omitempty"`
	// PHI counts identifiers found in the message (header and text) by
	// textscan; PHIValues holds them for detection only.
	PHICategories []string         `json:"phi_categories,omitempty"`
	PHI           textscan.Counts  `json:"phi"`
	PHIValues     []textscan.Value `json:"-"`
}

// EventType implements parser.Body.
func (*Message) EventType() string { return "syslog" }
