// Package framing decodes proprietary device protocols that are declared,
// not coded: a YAML definition says how a vendor's frames are found
// (length-prefixed, delimited with escapes, fixed-size or TLV), how their
// integrity is checked (sum8, xor8, CRC-16/CCITT-FALSE, CRC-32), which
// fields they carry and what each is for (device identity for the
// inventory, personal data for detection, commands that change device
// settings), and an optional authentication step. Device makers and
// hospitals teach medtap their protocols with `--framing FILE`; the
// built-in definitions (builtin/*.yaml, embedded) use the same format.
//
// [Load] compiles definition files into one parser.Factory per protocol
// (its name becomes the app_proto), [Builtin] returns the embedded ones,
// and [Factories] both, a loaded definition replacing a built-in of the
// same name. A mistake in a file fails the load with a [DefinitionError]
// "FILE:LINE: reason".
//
// The package has three of the four layers:
//
//   - grammar (load.go, def.go, fields.go, checksum.go): the YAML walker
//     with positions and limits, the compiled definition, field decoding
//     (uint, string in ASCII/UTF-8/GB 18030/Latin-1, bytes as hex, packed
//     BCD, regex capture) and the checksum algorithms;
//   - stream glue (stream.go, frame.go): per direction, a framer that
//     finds frames in reassembled bytes without buffering more than the
//     definition's max_frame_len, skips oversized frames in sync,
//     resynchronises on sync bytes or start delimiters after errors and
//     gaps, checks checksums and the handshake, and decodes fields only
//     when a frame produces an event (the steady state allocates nothing);
//   - events (event.go): [Frame] per message that carries identity,
//     personal data or a command, [Session] per flow, anomalies.
//
// Values from the wire are kept only where detection needs them: identity
// values are device data and are written out; personal data is written as
// field names and categories, its values only in fields tagged `json:"-"`
// ([Frame.PHI]). Policy lives in detect/.
//
// The format is documented with examples in README.md.
package framing
