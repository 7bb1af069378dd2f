// Package smb decodes the dialect negotiation of SMB (MS-SMB, MS-SMB2) over
// direct TCP (445) or NetBIOS session service (139): the SMB1 dialect
// strings and SMB2/3 dialect numbers a client offers, the server's choice,
// whether SMB version 1 is in use, and whether the server requires
// signing. Later messages are only counted by version. One [Negotiate]
// event per flow.
package smb
