package ssh

// Session is the one event of an SSH connection: the version exchange and
// the first key exchange offers of both sides, emitted when both KEXINIT
// messages were seen, or at the end of the flow with what was. Duration and
// bytes are in the flow record. Field names are stable.
type Session struct {
	// ClientProto and ServerProto are the protocol versions of the
	// identification strings ("2.0", "1.99", "1.5").
	ClientProto string `json:"client_proto,omitempty"`
	ServerProto string `json:"server_proto,omitempty"`
	// ClientSoftware and ServerSoftware are the softwareversion parts
	// ("OpenSSH_9.2p1", "dropbear_2022.83"); ClientComments and
	// ServerComments what follows the space ("Debian-2+deb12u3"). Software
	// identity, not personal data; at most MaxBannerLen bytes, printable
	// ASCII.
	ClientSoftware string `json:"client_software,omitempty"`
	ClientComments string `json:"client_comments,omitempty"`
	ServerSoftware string `json:"server_software,omitempty"`
	ServerComments string `json:"server_comments,omitempty"`
	// HASSH is the client fingerprint: the lower-case hex MD5 of
	// HASSHAlgorithms, "kex;enc;mac;cmp" from the client's KEXINIT (its
	// client-to-server lists). HASSHServer is the same over the server's
	// KEXINIT with its server-to-client lists.
	HASSH                 string `json:"hassh,omitempty"`
	HASSHAlgorithms       string `json:"hassh_algorithms,omitempty"`
	HASSHServer           string `json:"hassh_server,omitempty"`
	HASSHServerAlgorithms string `json:"hassh_server_algorithms,omitempty"`
	// ServerHostKeyAlgorithms is the server's host key algorithm list.
	ServerHostKeyAlgorithms string `json:"server_host_key_algorithms,omitempty"`
	// Truncated is true when the flow ended (or a gap or limit came)
	// before both KEXINITs were seen.
	Truncated bool `json:"truncated,omitempty"`
}

// EventType implements parser.Body.
func (*Session) EventType() string { return "ssh" }
