// Package dicom is medtap's DICOM network decoder (PS3.8 upper layer and
// PS3.7 DIMSE) for plain TCP and for the plaintext of NULL-cipher TLS that
// the TLS parser hands over through Env.ProbeInner.
//
// The grammar (pdu.go, dataset.go, dimse.go command sets) turns bytes into
// typed values; the stream glue (stream.go) reads PDUs of each direction
// incrementally, reassembles PDVs per presentation context and pairs
// requests with responses; the events (event.go) are one Association per
// association and one DIMSE per transaction, both under the "dicom" JSON
// key, told apart by their "type" field, and encode themselves without
// reflection (json.go, AppendJSON, byte-identical to encoding/json). Policy
// lives in detect/.
//
// Nothing is ever allocated to a size the wire declares: control PDUs and
// command sets are buffered up to named limits (limits.go), P-DATA is
// walked in place, and the streaming data element walker keeps only the
// few attributes it extracts, skipping pixel data and any long value in
// sync, so a 2 GB C-STORE costs the memory of a 2 KB one. Protocol
// violations and limits hit are parser.Anomaly events with Source "dicom".
//
// Patient values (names, IDs, birth dates...) are decoded with the
// dataset's SpecificCharacterSet into DIMSE.PHI for detection code, and
// the user identity's username into UserIdentity.Username; both are
// `json:"-"` and never leave the process. The JSON carries only tag names,
// categories and counts. See README.md for fields, codes and limits.
package dicom
