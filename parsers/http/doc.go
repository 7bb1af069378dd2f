// Package http decodes HTTP/1.0 and HTTP/1.1 (RFC 9112) on any port into
// one [Transaction] event per request and its response: method, path
// (query removed, identifiers masked), Host, User-Agent, Server, the
// Authorization scheme (Basic means credentials in clear; the credentials
// are never serialised), content types and lengths, and WS-Management
// (WinRM, /wsman on 5985/5986 or any port). Bodies, with Content-Length or
// chunked framing, are offered to the textscan detectors (their first
// MaxScanBody bytes, when not compressed); only counts and categories go
// out, the values stay in a field for detect/ to pseudonymise.
package http
