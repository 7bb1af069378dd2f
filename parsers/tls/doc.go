// Package tls decodes the cleartext part of TLS handshakes on TCP flows: it
// turns the ClientHello, ServerHello, the TLS 1.2 server Certificate and
// cleartext alerts into one [Handshake] event per flow, with the JA3, JA3S and
// JA4 fingerprints, and tells the pipeline whether the flow's payload is
// encrypted ([parser.EncryptionVerdict]).
//
// The package has the usual four layers, of which it holds three:
//
//   - grammar (hello.go, cert.go, fingerprint.go): bytes of one handshake
//     message to typed hellos, certificate facts and fingerprints;
//   - stream glue (stream.go, null.go): per direction, TLS records are walked
//     across Feed calls with a bounded buffer, handshake messages are
//     reassembled across records, gaps stop a direction cleanly;
//   - events (event.go): the [Handshake] body and anomalies.
//
// Policy (which versions, ciphers or certificates are acceptable) lives in
// detect/, never here.
//
// Once a direction's handshake turns encrypted (its ChangeCipherSpec in TLS
// 1.2 and below, the ServerHello in TLS 1.3, or its first application_data
// record), that direction is only walked: record headers are read and record
// bodies skipped in place without copying, so bulk application data costs a
// few branches per record and no allocation.
//
// A NULL cipher suite (integrity only, no encryption) is reported as such, and
// the plaintext of its TLS 1.2 application_data records, MAC stripped, is
// handed to an inner parser found with [parser.Env.ProbeInner], so that plain
// DICOM or HL7 carried in NULL-cipher TLS is decoded as if it were bare.
package tls
