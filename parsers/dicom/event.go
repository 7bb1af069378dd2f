package dicom

// Association is one DICOM association: its negotiation, its outcome and
// its totals. It is emitted once, when the association ends (release,
// reject, abort or end of the flow). Field names are stable.
type Association struct {
	Type                 string                `json:"type"` // always "association"
	CallingAE            string                `json:"calling_ae"`
	CalledAE             string                `json:"called_ae"`
	Result               string                `json:"result"` // requested, accepted, rejected, released, aborted, unknown
	CloseReason          string                `json:"close_reason,omitempty"`
	ProtocolVersion      uint16                `json:"protocol_version,omitempty"`
	ApplicationContext   string                `json:"application_context,omitempty"`
	PresentationContexts []PresentationContext `json:"presentation_contexts,omitempty"`

	// Requestor's user information (A-ASSOCIATE-RQ).
	MaxPDULength              uint32 `json:"max_pdu_length"`
	ImplementationClassUID    string `json:"implementation_class_uid,omitempty"`
	ImplementationVersionName string `json:"implementation_version_name,omitempty"`
	// Acceptor's user information (A-ASSOCIATE-AC).
	AcceptorMaxPDULength              uint32 `json:"acceptor_max_pdu_length,omitempty"`
	AcceptorImplementationClassUID    string `json:"acceptor_implementation_class_uid,omitempty"`
	AcceptorImplementationVersionName string `json:"acceptor_implementation_version_name,omitempty"`

	AsyncOps            *AsyncOps             `json:"async_ops,omitempty"`
	RoleSelection       []RoleSelection       `json:"role_selection,omitempty"`
	ExtendedNegotiation []ExtendedNegotiation `json:"extended_negotiation,omitempty"`
	UserIdentity        *UserIdentity         `json:"user_identity,omitempty"`

	Reject *Reject `json:"reject,omitempty"`
	Abort  *Abort  `json:"abort,omitempty"`

	PDUsToServer       int64          `json:"pdus_to_server"`
	PDUsToClient       int64          `json:"pdus_to_client"`
	PDataBytesToServer int64          `json:"pdata_bytes_to_server"`
	PDataBytesToClient int64          `json:"pdata_bytes_to_client"`
	DIMSECounts        map[string]int `json:"dimse_counts,omitempty"` // requests by command name
	Gaps               int            `json:"gaps,omitempty"`
	Anomalies          int            `json:"anomalies,omitempty"`
	Duration           float64        `json:"duration"` // seconds from first to last PDU
}

// EventType implements parser.Body.
func (*Association) EventType() string { return "dicom" }

// PresentationContext is one proposed context and the acceptor's answer.
type PresentationContext struct {
	ID                     uint8    `json:"id"`
	AbstractSyntax         string   `json:"abstract_syntax,omitempty"`
	TransferSyntaxes       []string `json:"transfer_syntaxes,omitempty"` // proposed
	AcceptedTransferSyntax string   `json:"accepted_transfer_syntax,omitempty"`
	Result                 string   `json:"result,omitempty"` // accepted, rejected; empty if no answer seen
	Reason                 string   `json:"reason,omitempty"` // user_rejection, no_reason, abstract_syntax_not_supported, transfer_syntaxes_not_supported
}

// AsyncOps is the asynchronous operations window (sub-item 0x53).
type AsyncOps struct {
	Invoked           uint16 `json:"invoked"`
	Performed         uint16 `json:"performed"`
	AcceptorInvoked   uint16 `json:"acceptor_invoked,omitempty"`
	AcceptorPerformed uint16 `json:"acceptor_performed,omitempty"`
	Accepted          bool   `json:"accepted"`
}

// RoleSelection is one SCP/SCU role selection (sub-item 0x54).
type RoleSelection struct {
	SOPClassUID string `json:"sop_class_uid"`
	Source      string `json:"source"` // requestor or acceptor
	SCURole     uint8  `json:"scu_role"`
	SCPRole     uint8  `json:"scp_role"`
}

// ExtendedNegotiation is one SOP class extended negotiation (sub-item 0x56)
// or common extended negotiation (0x57). Only the length of the
// service-class application information is kept.
type ExtendedNegotiation struct {
	SOPClassUID     string `json:"sop_class_uid"`
	Source          string `json:"source"` // requestor or acceptor
	Common          bool   `json:"common,omitempty"`
	ServiceClassUID string `json:"service_class_uid,omitempty"`
	InfoLength      int    `json:"info_length"`
}

// UserIdentity is the user identity negotiation (sub-items 0x58 and 0x59).
// The passcode is never kept. The username is kept for detection in memory
// only: it is not serialised.
type UserIdentity struct {
	Type                      uint8  `json:"type"`
	TypeName                  string `json:"type_name"` // username, username_passcode, kerberos, saml, jwt, unknown
	PositiveResponseRequested bool   `json:"positive_response_requested"`
	UsernameInClear           bool   `json:"username_in_clear"`
	PasscodePresent           bool   `json:"passcode_present"`
	PrimaryFieldLength        int    `json:"primary_field_length"`
	ServerResponse            bool   `json:"server_response"` // an 0x59 sub-item was seen in the A-ASSOCIATE-AC
	ServerResponseLength      int    `json:"server_response_length,omitempty"`

	Username string `json:"-"` // types 1 and 2 only; PHI-ish, never serialised
}

// Reject is an A-ASSOCIATE-RJ.
type Reject struct {
	Result string `json:"result"` // rejected_permanent, rejected_transient
	Source string `json:"source"` // service_user, service_provider_acse, service_provider_presentation
	Reason string `json:"reason"`
}

// Abort is an A-ABORT.
type Abort struct {
	Direction string `json:"direction"` // the direction the A-ABORT travelled
	Source    string `json:"source"`    // service_user, service_provider
	Reason    string `json:"reason,omitempty"`
}

// DIMSE is one DIMSE transaction: a request and its final response (with
// the count of pending responses for C-FIND, C-GET and C-MOVE). Identifying
// attributes of the device and the object are serialised; patient values
// are in PHI only, which is never serialised.
type DIMSE struct {
	Type                  string  `json:"type"` // always "dimse"
	Command               string  `json:"command"`
	RequestDirection      string  `json:"request_direction"`
	MessageID             uint16  `json:"message_id"`
	SOPClassUID           string  `json:"sop_class_uid,omitempty"`
	SOPInstanceUID        string  `json:"sop_instance_uid,omitempty"`
	Priority              string  `json:"priority,omitempty"`
	Status                string  `json:"status,omitempty"` // "0x0000"
	StatusClass           string  `json:"status_class"`     // success, pending, warning, failure, cancel, none
	MoveDestination       string  `json:"move_destination,omitempty"`
	MoveOriginatorAE      string  `json:"move_originator_ae,omitempty"`
	EventTypeID           *uint16 `json:"event_type_id,omitempty"`
	ActionTypeID          *uint16 `json:"action_type_id,omitempty"`
	ErrorComment          bool    `json:"error_comment,omitempty"` // present; text not kept
	SubOperations         *SubOps `json:"sub_operations,omitempty"`
	PendingResponses      int     `json:"pending_responses,omitempty"`
	Cancelled             bool    `json:"cancelled,omitempty"`
	PresentationContextID uint8   `json:"presentation_context_id"`
	AbstractSyntax        string  `json:"abstract_syntax,omitempty"`
	TransferSyntax        string  `json:"transfer_syntax,omitempty"`
	DatasetBytes          int64   `json:"dataset_bytes"`          // request dataset
	ResponseDatasetBytes  int64   `json:"response_dataset_bytes"` // all response datasets
	Latency               float64 `json:"latency"`                // seconds, request command to final response command

	// Identifying attributes (device and object, not patient).
	Modality             string   `json:"modality,omitempty"`
	BodyPartExamined     string   `json:"body_part_examined,omitempty"` // (0018,0015): HEAD, BRAIN... (face-capable images)
	Manufacturer         string   `json:"manufacturer,omitempty"`
	Model                string   `json:"model,omitempty"`
	DeviceSerialNumber   string   `json:"device_serial_number,omitempty"`
	SoftwareVersions     string   `json:"software_versions,omitempty"`
	StationName          string   `json:"station_name,omitempty"`
	InstitutionName      string   `json:"institution_name,omitempty"`
	StudyInstanceUID     string   `json:"study_instance_uid,omitempty"`
	SeriesInstanceUID    string   `json:"series_instance_uid,omitempty"`
	DatasetSOPInstanceID string   `json:"dataset_sop_instance_uid,omitempty"`
	SpecificCharacterSet string   `json:"specific_character_set,omitempty"`
	QueryRetrieveLevel   string   `json:"query_retrieve_level,omitempty"`
	QueryKeys            []string `json:"query_keys,omitempty"`

	PHICategories          []string `json:"phi_categories,omitempty"`
	PHITags                []string `json:"phi_tags,omitempty"`
	PatientIdentityRemoved bool     `json:"patient_identity_removed"`
	PrivateTags            int      `json:"private_tags"`

	Incomplete bool `json:"incomplete,omitempty"` // no final response seen
	Unpaired   bool `json:"unpaired,omitempty"`   // a response without a request seen
	Gap        bool `json:"gap,omitempty"`        // bytes of this transaction were lost

	// PHI holds the patient values found (request and response
	// datasets), decoded with the dataset's SpecificCharacterSet, for
	// detection code in memory. Never serialised.
	PHI []PHIValue `json:"-"`
}

// EventType implements parser.Body.
func (*DIMSE) EventType() string { return "dicom" }

// SubOps are the C-GET/C-MOVE sub-operation counters of the last response.
type SubOps struct {
	Remaining *uint16 `json:"remaining,omitempty"`
	Completed uint16  `json:"completed"`
	Failed    uint16  `json:"failed"`
	Warning   uint16  `json:"warning"`
}

// PHIValue is one patient value found in a dataset. It only ever lives in
// memory (DIMSE.PHI is `json:"-"`).
type PHIValue struct {
	Tag      uint32 // group<<16 | element
	Category string // one of PHICategoryNames
	Value    string // decoded to UTF-8
	Response bool   // found in a response dataset (C-FIND match...)
}
