package ftp

import "github.com/medtap/medtap/parsers/textscan"

// Session is the one event of an FTP control connection, emitted at the end
// of the flow (or when it turns to TLS after AUTH TLS). Field names are
// stable. No argument value is serialised: not the user name, never the
// password, and of file names only the extension.
type Session struct {
	// Banner is the server's 220 greeting text (first line, at most
	// MaxLine bytes): it names the server software ("(vsFTPd 3.0.3)",
	// "pyftpdlib 1.5.7 ready.").
	Banner string `json:"banner,omitempty"`
	// UserPresent is true when the client sent USER; User holds the name
	// for detect/ to pseudonymise (a member of staff's account, treated as
	// sensitive), never serialised. Anonymous is true for "anonymous" or
	// "ftp".
	UserPresent bool   `json:"user_present,omitempty"`
	User        string `json:"-"`
	Anonymous   bool   `json:"anonymous,omitempty"`
	// PasswordPresent is true when PASS was sent in clear (credentials in
	// clear). The password is never kept.
	PasswordPresent bool `json:"password_present,omitempty"`
	// LoginResult is "success" (230), "failed" (530) or "" (not seen).
	LoginResult string `json:"login_result,omitempty"`
	// AuthTLS is the AUTH argument ("TLS", "SSL") when the client asked
	// for TLS; TLSAccepted when the server answered 234. After that the
	// control channel is encrypted and the parser stops.
	AuthTLS     string `json:"auth_tls,omitempty"`
	TLSAccepted bool   `json:"tls_accepted,omitempty"`
	// Commands counts the commands the client sent by verb, for known
	// verbs (RFC 959, 2228, 2389, 2428, 3659); others count under "other".
	Commands map[string]int `json:"commands,omitempty"`
	// Replies counts the server's final replies by first digit ("2xx",
	// "4xx", "5xx"...).
	Replies map[string]int `json:"replies,omitempty"`
	// Transfers lists file transfers (STOR, RETR, APPE, STOU), at most
	// MaxTransfers.
	Transfers []Transfer `json:"transfers,omitempty"`
	// PHI counts identifiers found in command arguments and replies by the
	// textscan detectors (PASS excluded); values for detection only.
	PHICategories []string         `json:"phi_categories,omitempty"`
	PHI           textscan.Counts  `json:"phi"`
	PHIValues     []textscan.Value `json:"-"`
}

// Transfer is one file transfer command and its outcome.
type Transfer struct {
	// Command is STOR, RETR, APPE or STOU.
	Command string `json:"command"`
	// Extension is the file name's extension, lower-case, without the dot
	// ("dcm", "hl7", "zip"), at most MaxExtLen bytes of [a-z0-9]; "" when
	// the name has none. The rest of the name may hold a patient's name
	// and is never kept.
	Extension string `json:"extension,omitempty"`
	// Reply is the final reply code (226 done, 550 refused...), 0 if none.
	Reply int `json:"reply,omitempty"`
}

// EventType implements parser.Body.
func (*Session) EventType() string { return "ftp" }
