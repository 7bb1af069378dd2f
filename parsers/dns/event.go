package dns

// Message is the event of one DNS, mDNS, LLMNR or NetBIOS name service
// message. Field names are stable. Names identify hosts and services, not
// patients.
type Message struct {
	// Protocol is dns, mdns (UDP 5353), llmnr (UDP 5355) or nbns (UDP
	// 137): the wire format is the same family, the port tells which.
	Protocol      string     `json:"protocol"`
	ID            uint16     `json:"id"`
	Response      bool       `json:"response"`
	Opcode        string     `json:"opcode"`          // query, status, notify, update; nbns: registration, release, wack, refresh
	Rcode         string     `json:"rcode,omitempty"` // responses: noerror, formerr, servfail, nxdomain, notimp, refused, or the number
	Authoritative bool       `json:"authoritative,omitempty"`
	Truncated     bool       `json:"truncated,omitempty"`
	Questions     []Question `json:"questions,omitempty"`
	// Answers are the answer and additional records (and, for NetBIOS
	// registrations, the record the host registers).
	Answers []Record `json:"answers,omitempty"`
	// Dropped counts questions and records past the limits.
	Dropped int `json:"dropped,omitempty"`
}

// EventType implements parser.Body.
func (*Message) EventType() string { return "dns" }

// Question is one question.
type Question struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// NBSuffix is a NetBIOS name's 16th byte in hex ("00" workstation,
	// "20" file server, "1c" domain controllers).
	NBSuffix string `json:"nb_suffix,omitempty"`
}

// Record is one resource record.
type Record struct {
	Section  string `json:"section"` // answer, additional
	Name     string `json:"name"`
	Type     string `json:"type"`
	TTL      uint32 `json:"ttl"`
	Address  string `json:"address,omitempty"` // A, AAAA, NB
	Target   string `json:"target,omitempty"`  // PTR, CNAME, NS, SRV
	Port     uint16 `json:"port,omitempty"`    // SRV
	NBSuffix string `json:"nb_suffix,omitempty"`
}
