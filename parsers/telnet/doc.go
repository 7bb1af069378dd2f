// Package telnet decodes Telnet sessions (RFC 854, 855 and the option
// RFCs): the options both sides negotiate, login and password prompts, and
// whether they were answered, which means credentials crossed in clear.
// Typed text is never serialised: the user name is kept for detect/ to
// pseudonymise, the password is never kept and never scanned. The rest of
// the text is offered to the textscan detectors. One [Session] per flow.
package telnet
