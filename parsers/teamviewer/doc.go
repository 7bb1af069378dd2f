// Package teamviewer recognises TeamViewer remote-control connections by
// content on any port: its own TCP framing, whose messages start with the
// command header bytes 0x17 0x24 or 0x11 0x30 (normally on TCP 5938), and
// its HTTP fallback, whose requests ask for /din.aspx or /dout.aspx as
// client "DynGate" (TeamViewer's original product name). The session is
// encrypted end to end and is not decoded further. One [Session] event per
// flow.
//
// Provenance: no TeamViewer client runs on the build machine, so the test
// vectors are built from these published facts, not captured.
package teamviewer
