package smb

// Negotiate is the one event of an SMB connection, emitted at the end of
// the flow: the dialects the client offered, the one the server chose, and
// how many messages of each SMB version the flow carried. Field names are
// stable.
type Negotiate struct {
	// SMB1Dialects are the dialect strings of an SMB1 Negotiate request
	// ("NT LM 0.12", "SMB 2.002", "SMB 2.???"), at most MaxDialects.
	SMB1Dialects []string `json:"smb1_dialects,omitempty"`
	// SMB2Dialects are the dialects of an SMB2 Negotiate request, as
	// "2.0.2", "2.1", "3.0", "3.0.2", "3.1.1" (or "0xNNNN").
	SMB2Dialects []string `json:"smb2_dialects,omitempty"`
	// Dialect is the server's choice: an SMB1 dialect string (from the
	// index in its SMB1 response) or an SMB2 dialect ("2.1", "3.1.1";
	// "2.???" is the wildcard answer to a multi-protocol negotiate).
	Dialect string `json:"dialect,omitempty"`
	// SMB1 is true when SMB version 1 is in use: the server answered in
	// SMB1 with a dialect, or SMB1 commands beyond Negotiate were seen.
	SMB1 bool `json:"smb1,omitempty"`
	// SigningRequired is the server's security mode "signing required" bit.
	SigningRequired bool `json:"signing_required,omitempty"`
	// SMB1Messages and SMB2Messages count the messages of each version
	// (SMB2 includes SMB3 and transform-wrapped messages).
	SMB1Messages int `json:"smb1_messages"`
	SMB2Messages int `json:"smb2_messages"`
	// Encrypted is true when SMB3 transform headers (0xFD 'S' 'M' 'B')
	// carried messages.
	Encrypted bool `json:"encrypted,omitempty"`
}

// EventType implements parser.Body.
func (*Negotiate) EventType() string { return "smb" }
