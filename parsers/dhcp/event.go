package dhcp

// Message is the event of one DHCP message. Field names are stable. Host
// names and vendor classes identify devices, not patients.
type Message struct {
	// Direction is to_server for a client's BOOTREQUEST, to_client for a
	// server's BOOTREPLY (from the op field: DHCP requests and replies
	// travel on different address pairs, so the flow cannot tell).
	Direction string `json:"direction"`
	// MessageType is option 53: discover, offer, request, decline, ack,
	// nak, release, inform (or the number); bootp without it.
	MessageType   string `json:"message_type"`
	TransactionID string `json:"xid"` // hex
	ClientMAC     string `json:"client_mac,omitempty"`
	ClientIP      string `json:"client_ip,omitempty"`      // ciaddr
	YourIP        string `json:"your_ip,omitempty"`        // yiaddr: the address given
	NextServerIP  string `json:"next_server_ip,omitempty"` // siaddr
	RelayIP       string `json:"relay_ip,omitempty"`       // giaddr
	RequestedIP   string `json:"requested_ip,omitempty"`   // option 50
	ServerID      string `json:"server_id,omitempty"`      // option 54
	LeaseTime     uint32 `json:"lease_time,omitempty"`     // option 51, seconds
	Hostname      string `json:"hostname,omitempty"`       // option 12
	FQDN          string `json:"fqdn,omitempty"`           // option 81
	// ParameterRequestList is option 55 as comma-separated codes in the
	// client's order; VendorClass is option 60; ClientID option 61 in hex.
	ParameterRequestList string `json:"parameter_request_list,omitempty"`
	VendorClass          string `json:"vendor_class,omitempty"`
	ClientID             string `json:"client_id,omitempty"`
	// Options lists the option codes in the order sent: with option 55 it
	// fingerprints the client's DHCP stack.
	Options string `json:"options,omitempty"`
}

// EventType implements parser.Body.
func (*Message) EventType() string { return "dhcp" }
