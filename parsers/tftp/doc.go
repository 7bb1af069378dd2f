// Package tftp decodes TFTP requests (RFC 1350, options RFC 2347) sent to
// port 69: read or write, the transfer mode, the options, and the file
// name's extension only (a name can hold a patient's name; firmware and
// configuration files are told apart by extension). One [Request] event
// per request; ERROR and OACK answers on the same flow give [Reply] events.
// The data transfer runs between other ports and is not followed.
package tftp
