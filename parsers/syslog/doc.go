// Package syslog decodes syslog messages (RFC 3164 and RFC 5424) over UDP,
// and over TCP with octet counting or newline framing (RFC 6587), into one
// [Message] event per message: PRI (facility, severity), timestamp,
// hostname, application, process and message ids. The free text is not
// serialised: it is offered to the textscan detectors, since devices log
// patient identifiers more often than they should.
package syslog
