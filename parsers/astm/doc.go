// Package astm decodes ASTM E1381 / E1394 (CLSI LIS1-A / LIS2-A2) traffic
// between clinical laboratory analyzers and laboratory information systems
// on TCP flows into one [Message] event per message (header H to terminator
// L).
//
// The package has three of the four layers:
//
//   - grammar (record.go): records split on CR, delimiters from the header
//     record, escape sequences, the header's sender identity (H-5) and the
//     patient record's PHI fields, phone and resident ID numbers found in
//     any other record by the hl7 package's scanner;
//   - stream glue (astm.go): per direction, the E1381 low level (ENQ, ACK,
//     NAK, EOT, STX frames with frame numbers, ETB/ETX and a checksum),
//     checked and reassembled with a bounded buffer, retransmissions
//     recognised by frame number; or bare E1394 records over TCP;
//   - events (event.go): the [Message] body and anomalies.
//
// Values from the wire are kept only where detection needs them, in fields
// tagged `json:"-"` ([Message.PHI]); the JSON carries field names and PHI
// categories, never patient data. Policy lives in detect/.
package astm
