package telnet

import "github.com/medtap/medtap/parsers/textscan"

// Session is the one event of a Telnet connection, emitted at the end of the
// flow: the options negotiated, and whether a login happened in clear.
// Typed values (user names, passwords, commands) are never serialised.
// Field names are stable.
type Session struct {
	// Options lists the options either side negotiated (WILL/DO), by name
	// ("echo", "suppress_go_ahead", "terminal_type", "naws",
	// "terminal_speed", "linemode", "new_environ", "x_display_location",
	// "status", "timing_mark", "binary", "authentication", "encryption",
	// "start_tls", "option_N"), in order of first appearance, at most
	// MaxOptions.
	Options []string `json:"options,omitempty"`
	// Encryption is true when the ENCRYPT option or START_TLS was agreed
	// (both sides said yes).
	Encryption bool `json:"encryption,omitempty"`
	// LoginPrompt and PasswordPrompt are true when the server sent a
	// "login:"/"username:" or "password:" prompt; LoginAnswered and
	// PasswordAnswered when the client typed a line after it. A password
	// answered means credentials crossed in clear.
	LoginPrompt      bool `json:"login_prompt,omitempty"`
	LoginAnswered    bool `json:"login_answered,omitempty"`
	PasswordPrompt   bool `json:"password_prompt,omitempty"`
	PasswordAnswered bool `json:"password_answered,omitempty"`
	// UserPresent is true when a user name was typed; User holds it (at
	// most MaxLine bytes) for detect/ to pseudonymise, never serialised.
	// The password is never kept.
	UserPresent bool   `json:"user_present,omitempty"`
	User        string `json:"-"`
	// LoginFailed is true when the server said "Login incorrect" (or
	// "Login failed", "Authentication failed") after the password.
	LoginFailed bool `json:"login_failed,omitempty"`
	// Lines counts the text lines each side sent (to_server, to_client).
	ClientLines int `json:"client_lines"`
	ServerLines int `json:"server_lines"`
	// PHI counts identifiers found in the session's text (both sides,
	// password lines excluded) by the textscan detectors; PHICategories
	// names them; PHIValues holds the values for detection only.
	PHICategories []string         `json:"phi_categories,omitempty"`
	PHI           textscan.Counts  `json:"phi"`
	PHIValues     []textscan.Value `json:"-"`
}

// EventType implements parser.Body.
func (*Session) EventType() string { return "telnet" }
