// Package hl7 decodes HL7 v2 messages on TCP flows, framed by MLLP or bare,
// singly or in FHS/BHS batches, into one [Message] event per message with
// the acknowledgement that answered it folded in.
//
// The package has three of the four layers:
//
//   - grammar (message.go, charset.go, phi.go): delimiters from MSH-1/MSH-2,
//     escape sequences, components and repetitions, character sets from
//     MSH-18 through golang.org/x/text, the PHI field table and the value
//     scan for PRC resident ID and phone numbers;
//   - stream glue (stream.go): per direction, a streaming tokenizer that
//     keeps one field at a time (never a whole message), MLLP framing with
//     resynchronisation on start blocks, bare segments split on MSH,
//     gaps and limits, and the pairing of messages with their ACKs by
//     MSA-2;
//   - events (event.go): the [Message] body and anomalies.
//
// Values from the wire are kept only where detection needs them, in fields
// tagged `json:"-"` ([Message.PHI]); the JSON carries field names and PHI
// categories, never patient data. Policy lives in detect/.
package hl7
