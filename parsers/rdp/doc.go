// Package rdp decodes the start of a Remote Desktop Protocol connection
// (MS-RDPBCGR 2.2.1.1, 2.2.1.2 over ITU-T X.224 and TPKT, RFC 1006): the
// client's X.224 Connection Request with its cookie (the mstshash user
// name or a routing token) and requested security protocols, and the
// server's Connection Confirm with the selected protocol or a negotiation
// failure. What follows (TLS, CredSSP, or standard RDP security) is not
// decoded: the flow stays "rdp". One [Connection] event per flow.
//
// The user name in the mstshash cookie is a member of staff's account, not
// patient data, but it is sensitive: it is kept only in a field that is
// never serialised (Connection.User), so that detect/ can pseudonymise it
// with its keyed HMAC, as it does patient identifiers.
package rdp
