package astm

import (
	"strconv"

	"github.com/medtap/medtap/parsers/parser"
)

// AppendJSON appends the message as one JSON object, exactly as
// encoding/json marshals it (field order, omitempty, string escaping), for
// the pipeline's event.Appender. PHI values (`json:"-"`) are never written.
func (m *Message) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"direction":`...)
	dst = parser.AppendJSONString(dst, m.Direction)
	dst = append(dst, `,"framing":`...)
	dst = parser.AppendJSONString(dst, m.Framing)
	dst = parser.AppendJSONOptField(dst, `,"sender":`, m.Sender)
	dst = parser.AppendJSONOptField(dst, `,"receiver":`, m.Receiver)
	dst = parser.AppendJSONOptField(dst, `,"processing_id":`, m.ProcessingID)
	dst = parser.AppendJSONOptField(dst, `,"version":`, m.Version)
	if m.PasswordPresent {
		dst = append(dst, `,"password_present":true`...)
	}
	dst = append(dst, `,"records":{`...)
	first := true
	for i, n := range [...]int{m.Records.H, m.Records.P, m.Records.O, m.Records.R, m.Records.C, m.Records.Q, m.Records.L, m.Records.M, m.Records.S, m.Records.Other} {
		if n == 0 {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, recordKeys[i]...)
		dst = strconv.AppendInt(dst, int64(n), 10)
	}
	dst = append(dst, '}')
	dst = parser.AppendJSONOptField(dst, `,"termination_code":`, m.TerminationCode)
	dst = append(dst, `,"frames":`...)
	dst = strconv.AppendInt(dst, int64(m.Frames), 10)
	dst = append(dst, `,"checksum_errors":`...)
	dst = strconv.AppendInt(dst, int64(m.ChecksumErrors), 10)
	if m.Retransmissions != 0 {
		dst = append(dst, `,"retransmissions":`...)
		dst = strconv.AppendInt(dst, int64(m.Retransmissions), 10)
	}
	if m.NAKs != 0 {
		dst = append(dst, `,"naks":`...)
		dst = strconv.AppendInt(dst, int64(m.NAKs), 10)
	}
	dst = append(dst, `,"bytes":`...)
	dst = strconv.AppendInt(dst, m.Bytes, 10)
	if m.Truncated {
		dst = append(dst, `,"truncated":true`...)
	}
	if len(m.PHICategories) > 0 {
		dst = append(dst, `,"phi_categories":`...)
		dst = appendStrings(dst, m.PHICategories)
	}
	if len(m.PHIFields) > 0 {
		dst = append(dst, `,"phi_fields":`...)
		dst = appendStrings(dst, m.PHIFields)
	}
	return append(dst, '}')
}

// recordKeys are RecordCounts' JSON keys, in field order.
var recordKeys = [...]string{`"h":`, `"p":`, `"o":`, `"r":`, `"c":`, `"q":`, `"l":`, `"m":`, `"s":`, `"other":`}

// appendStrings appends a non-empty string slice as a JSON array.
func appendStrings(dst []byte, l []string) []byte {
	dst = append(dst, '[')
	for i, v := range l {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = parser.AppendJSONString(dst, v)
	}
	return append(dst, ']')
}
