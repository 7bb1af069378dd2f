// Package hl7 decodes HL7 v2 messages on TCP flows, framed by MLLP or bare,
// singly or in FHS/BHS batches, into one [Message] event per message with
// the acknowledgement that answered it folded in.
//
// The package has three of the four layers:
//
//   - grammar (message.go, charset.go, phi.go, swar.go): delimiters from
//     MSH-1/MSH-2, escape sequences, components and repetitions, character
//     sets from MSH-18 through golang.org/x/text, the PHI field table and
//     the value scan for PRC resident ID and phone numbers with its
//     word-at-a-time filter;
//   - stream glue (stream.go, fields.go): per direction, a tokenizer that
//     reads fields in place and carries only the field a Feed ends in
//     (never a whole message), looking only at the fields whose position
//     means something or where the filter sees a number; MLLP framing with
//     resynchronisation on start blocks, bare segments split on MSH, gaps
//     and limits, and the pairing of messages with their ACKs by MSA-2;
//   - events (event.go, json.go, block.go, lists.go): the [Message] body,
//     built in one allocation with the lists it shares with the stream's
//     earlier events (each with its JSON, encoded once), its
//     encoding/json identical AppendJSON, and anomalies.
//
// Values from the wire are kept only where detection needs them, in fields
// tagged `json:"-"` ([Message.PHI]); the JSON carries field names and PHI
// categories, never patient data. Policy lives in detect/.
package hl7
