// Package anydesk recognises AnyDesk remote-desktop connections. AnyDesk
// speaks TLS 1.2 (direct connections on TCP 7070, relays on 80, 443 and
// 6568) with a certificate each installation generates for itself at first
// start: self-signed, subject and issuer common name "AnyDesk Client". TLS
// 1.2 sends the server's certificate in clear, so that name identifies the
// application whatever the port.
//
// The pipeline picks a parser from the first bytes of a flow, and a
// ClientHello shows nothing AnyDesk-specific, so in the usual case (the
// client's ClientHello seen first) the flow goes to the tls parser;
// detect/ then recognises AnyDesk from the tls event with [Certificate].
// When the server's flight is seen first (a flow picked up mid-stream, a
// lost ClientHello), this package's probe finds the certificate name in it
// and claims the flow: the TLS parser runs inside, and a [Session] event
// follows its tls event.
//
// Provenance: no AnyDesk binary runs on the build machine (it is not free
// software); the test vectors are a TLS server flight built with OpenSSL
// from these published facts (AnyDesk's security documentation: TLS 1.2,
// self-signed per-client certificates; the certificate name as reported
// by nmap and sslscan against port 7070).
package anydesk
