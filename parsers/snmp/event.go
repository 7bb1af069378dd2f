package snmp

// Message is one SNMP message (RFC 1157, 3416, 3412). Field names are
// stable. The community string is never serialised nor kept.
type Message struct {
	Direction string `json:"direction"`
	// Version is "1", "2c" or "3".
	Version string `json:"version"`
	// CommunityPresent is true for a v1/v2c message with a non-empty
	// community: a shared secret in clear. DefaultCommunity is true when
	// it is "public" or "private".
	CommunityPresent bool `json:"community_present,omitempty"`
	DefaultCommunity bool `json:"default_community,omitempty"`
	// PDU is "get_request", "get_next_request", "response", "set_request",
	// "trap" (v1), "get_bulk_request", "inform_request", "snmpv2_trap",
	// "report", or "" for an encrypted v3 scoped PDU.
	PDU string `json:"pdu,omitempty"`
	// RequestID, ErrorStatus and VarBinds are the PDU's, when in clear.
	RequestID   int64 `json:"request_id,omitempty"`
	ErrorStatus int   `json:"error_status,omitempty"`
	VarBinds    int   `json:"varbinds,omitempty"`
	// V3 security: Auth and Priv are the msgFlags bits; UserPresent says
	// msgUserName was not empty (the name is kept in User, never
	// serialised, for detect/ to pseudonymise).
	V3Auth      bool   `json:"v3_auth,omitempty"`
	V3Priv      bool   `json:"v3_priv,omitempty"`
	UserPresent bool   `json:"user_present,omitempty"`
	User        string `json:"-"`
	// Malformed is true when the BER could not be decoded past the
	// version (an anomaly says where).
	Malformed bool `json:"malformed,omitempty"`
}

// EventType implements parser.Body.
func (*Message) EventType() string { return "snmp" }
