package hl7

// Message is the one event of an HL7 v2 message, with the acknowledgement
// that answered it folded in. Field names are stable: other tools parse them.
// A field is omitted when the message did not carry it.
//
// Fields tagged `json:"-"` hold values from the wire for in-memory
// detection (pseudonymising a patient, matching a device); they are never
// written out.
type Message struct {
	// Direction is the side that sent the message: to_server or to_client.
	Direction string `json:"direction"`
	// Framing is how the message was carried: "mllp" (0x0B ... 0x1C 0x0D)
	// or "bare" (segments straight on TCP).
	Framing string `json:"framing"`
	// Batch is true for a message inside an FHS/BHS batch envelope.
	Batch bool `json:"batch,omitempty"`
	// inBlock is set on a message built in a pooled block (block.go), of
	// size blockSizes[class]; they fill Batch's word.
	inBlock bool
	class   uint8

	MessageType          string `json:"message_type,omitempty"`          // MSH-9.1: ADT
	TriggerEvent         string `json:"trigger_event,omitempty"`         // MSH-9.2: A01
	MessageStructure     string `json:"message_structure,omitempty"`     // MSH-9.3: ADT_A01
	ControlID            string `json:"control_id,omitempty"`            // MSH-10
	ProcessingID         string `json:"processing_id,omitempty"`         // MSH-11.1: P, T, D
	Version              string `json:"version,omitempty"`               // MSH-12.1: 2.5.1
	SendingApplication   string `json:"sending_application,omitempty"`   // MSH-3
	SendingFacility      string `json:"sending_facility,omitempty"`      // MSH-4
	ReceivingApplication string `json:"receiving_application,omitempty"` // MSH-5
	ReceivingFacility    string `json:"receiving_facility,omitempty"`    // MSH-6
	AcceptAckType        string `json:"accept_ack_type,omitempty"`       // MSH-15: AL, NE, ER, SU
	AppAckType           string `json:"app_ack_type,omitempty"`          // MSH-16
	// Charset is MSH-18's first repetition in HL7 table 0211 spelling
	// ("UNICODE UTF-8", "GB 18030-2000", "8859/1"), or "other".
	Charset string `json:"charset,omitempty"`

	// Segments lists segment names in order (at most MaxListedSegments);
	// SegmentCount counts them all.
	Segments     []string `json:"segments"`
	SegmentCount int      `json:"segment_count"`
	// Bytes is the message's length from "MSH" to its last segment
	// terminator, MLLP framing bytes excluded.
	Bytes int64 `json:"bytes"`
	// Truncated is true when the message was not seen whole: a gap, a
	// missing end block at the end of the flow, or a limit hit.
	Truncated bool `json:"truncated,omitempty"`

	// AckCode is MSA-1 of the acknowledgement that answered the message
	// (AA, AE, AR; CA, CE, CR for an enhanced-mode commit ACK when no
	// application ACK followed).
	AckCode string `json:"ack_code,omitempty"`
	// CommitAckCode is the enhanced-mode commit ACK's MSA-1 when an
	// application ACK followed it.
	CommitAckCode string `json:"commit_ack_code,omitempty"`
	// AckLatency is the time from the message's last byte to its
	// acknowledgement's, in seconds.
	AckLatency *float64 `json:"ack_latency,omitempty"`
	// ErrorSegments counts ERR segments in the acknowledgement (or in this
	// message, for an unsolicited ACK).
	ErrorSegments int `json:"error_segments,omitempty"`
	// Unanswered is true when no acknowledgement came: by the end of the
	// flow, within MaxAckWait, or before MaxPending later messages.
	Unanswered bool `json:"unanswered,omitempty"`
	// UnsolicitedAck is true for an acknowledgement that answers no message
	// seen on the flow; AckedControlID is its MSA-2.
	UnsolicitedAck bool   `json:"unsolicited_ack,omitempty"`
	AckedControlID string `json:"acked_control_id,omitempty"`

	// PHICategories are the categories of personal information present
	// (closed set: see the Cat constants), in a fixed order.
	PHICategories []string `json:"phi_categories,omitempty"`
	// PHIFields names the fields that held it ("PID-5", "OBX-5"), in order
	// of first appearance, at most MaxPHIFields.
	PHIFields []string `json:"phi_fields,omitempty"`
	// PHI holds the values, for detection only (at most MaxPHIValues,
	// each at most MaxPHIValueLen bytes). Never serialised.
	PHI []PHIValue `json:"-"`

	// Software lists the SFT segments: the sending system's identity.
	Software []Software `json:"software,omitempty"`
	// UDI lists the devices named in PRT segments.
	UDI []Device `json:"udi,omitempty"`
	// EquipmentIDs are the distinct OBX-18 equipment instance identifiers.
	EquipmentIDs []string `json:"equipment_ids,omitempty"`

	ackLatency float64
	// The shared lists' encodings (lists.go), for AppendJSON.
	segmentsJSON, phiCategoriesJSON, phiFieldsJSON *sharedList
}

// EventType implements parser.Body.
func (*Message) EventType() string { return "hl7" }

// PHIValue is one piece of personal information found in a message: the
// field it came from, its category and its text (escapes decoded, character
// set converted to UTF-8, components joined with '^', repetitions with '~').
// Numbers found by the value scan carry only the matched number.
type PHIValue struct {
	Field    string
	Category string
	Value    string
}

// Software is one SFT segment. Device and software identities are not PHI.
type Software struct {
	Vendor   string `json:"vendor,omitempty"`    // SFT-1.1: software vendor organisation
	Version  string `json:"version,omitempty"`   // SFT-2: certified version or release number
	Product  string `json:"product,omitempty"`   // SFT-3: software product name
	BinaryID string `json:"binary_id,omitempty"` // SFT-4
}

// Device is one device named by a PRT segment (HL7 v2.7+ participation):
// its identifier and UDI parts.
type Device struct {
	ID              string `json:"id,omitempty"`               // PRT-10 participation device (EI)
	DeviceID        string `json:"device_id,omitempty"`        // PRT-16 UDI device identifier
	ManufactureDate string `json:"manufacture_date,omitempty"` // PRT-17
	ExpiryDate      string `json:"expiry_date,omitempty"`      // PRT-18
	Lot             string `json:"lot,omitempty"`              // PRT-19 lot number
	Serial          string `json:"serial,omitempty"`           // PRT-20 serial number
	Donation        string `json:"donation_id,omitempty"`      // PRT-21 donation identification
	Type            string `json:"type,omitempty"`             // PRT-22 device type
}
