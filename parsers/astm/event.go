package astm

// Message is the one event of an ASTM E1394 (CLSI LIS2-A2) message: the
// records from a header (H) to its terminator (L), with the E1381 (LIS1-A)
// low-level transfer that carried it. Field names are stable.
type Message struct {
	// Direction is the side that sent the message: to_server or to_client.
	Direction string `json:"direction"`
	// Framing is "e1381" (ENQ, STX frames with checksums, EOT) or "bare"
	// (records straight on TCP, CR-terminated).
	Framing string `json:"framing"`
	// Sender is H-5, the sender name or ID (analyzer name, software
	// version, serial number as components joined with '^'): device
	// identity, not PHI.
	Sender string `json:"sender,omitempty"`
	// Receiver is H-10, the receiver ID.
	Receiver string `json:"receiver,omitempty"`
	// ProcessingID is H-12 (P production, T training, D debugging, Q
	// quality control).
	ProcessingID string `json:"processing_id,omitempty"`
	// Version is H-13, the version of the specification ("LIS2-A2", "1394-97").
	Version string `json:"version,omitempty"`
	// PasswordPresent is true when H-4, the access password, was not empty:
	// it travels in clear. The password itself is never kept.
	PasswordPresent bool `json:"password_present,omitempty"`
	// Records counts the message's records by type.
	Records RecordCounts `json:"records"`
	// TerminationCode is L-3 (N normal, T sender abort, R receiver abort,
	// E error, Q query error, I no information, F last request).
	TerminationCode string `json:"termination_code,omitempty"`
	// Frames counts E1381 frames accepted for the message (retransmissions
	// excluded); ChecksumErrors the frames whose checksum was wrong;
	// Retransmissions the frames sent again under the same number; NAKs
	// the NAKs the receiver answered with.
	Frames          int `json:"frames"`
	ChecksumErrors  int `json:"checksum_errors"`
	Retransmissions int `json:"retransmissions,omitempty"`
	NAKs            int `json:"naks,omitempty"`
	// Bytes is the message text's length (records and their terminators,
	// framing excluded).
	Bytes int64 `json:"bytes"`
	// Truncated is true when the message did not end with an L record: a
	// gap, EOT or the end of the flow came first, or a limit was hit.
	Truncated bool `json:"truncated,omitempty"`
	// PHICategories (the hl7 package's closed set) and PHIFields ("P-6")
	// say what personal information the message held; PHI holds the
	// values for detection only and is never serialised.
	PHICategories []string   `json:"phi_categories,omitempty"`
	PHIFields     []string   `json:"phi_fields,omitempty"`
	PHI           []PHIValue `json:"-"`
}

// EventType implements parser.Body.
func (*Message) EventType() string { return "astm" }

// RecordCounts counts records by type letter.
type RecordCounts struct {
	H     int `json:"h,omitempty"`     // header
	P     int `json:"p,omitempty"`     // patient
	O     int `json:"o,omitempty"`     // test order
	R     int `json:"r,omitempty"`     // result
	C     int `json:"c,omitempty"`     // comment
	Q     int `json:"q,omitempty"`     // request information (query)
	L     int `json:"l,omitempty"`     // terminator
	M     int `json:"m,omitempty"`     // manufacturer information
	S     int `json:"s,omitempty"`     // scientific
	Other int `json:"other,omitempty"` // any other letter
}

// PHIValue is one piece of personal information: field, category, text.
type PHIValue struct {
	Field    string
	Category string
	Value    string
}
