package hl7

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends the message as one JSON object, exactly as
// encoding/json marshals it (field order, omitempty, string escaping), for
// the pipeline's event.Appender: no reflection, no allocation but dst's
// growth. Fields tagged `json:"-"` (PHI values) are never written. An
// AckLatency that is not finite, which encoding/json refuses, is written
// as null.
func (m *Message) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"direction":`...)
	dst = AppendJSONString(dst, m.Direction)
	dst = append(dst, `,"framing":`...)
	dst = AppendJSONString(dst, m.Framing)
	if m.Batch {
		dst = append(dst, `,"batch":true`...)
	}
	dst = appendField(dst, `,"message_type":`, m.MessageType)
	dst = appendField(dst, `,"trigger_event":`, m.TriggerEvent)
	dst = appendField(dst, `,"message_structure":`, m.MessageStructure)
	dst = appendField(dst, `,"control_id":`, m.ControlID)
	dst = appendField(dst, `,"processing_id":`, m.ProcessingID)
	dst = appendField(dst, `,"version":`, m.Version)
	dst = appendField(dst, `,"sending_application":`, m.SendingApplication)
	dst = appendField(dst, `,"sending_facility":`, m.SendingFacility)
	dst = appendField(dst, `,"receiving_application":`, m.ReceivingApplication)
	dst = appendField(dst, `,"receiving_facility":`, m.ReceivingFacility)
	dst = appendField(dst, `,"accept_ack_type":`, m.AcceptAckType)
	dst = appendField(dst, `,"app_ack_type":`, m.AppAckType)
	dst = appendField(dst, `,"charset":`, m.Charset)
	dst = append(dst, `,"segments":`...)
	dst = appendStrings(dst, m.Segments)
	dst = append(dst, `,"segment_count":`...)
	dst = strconv.AppendInt(dst, int64(m.SegmentCount), 10)
	dst = append(dst, `,"bytes":`...)
	dst = strconv.AppendInt(dst, m.Bytes, 10)
	if m.Truncated {
		dst = append(dst, `,"truncated":true`...)
	}
	dst = appendField(dst, `,"ack_code":`, m.AckCode)
	dst = appendField(dst, `,"commit_ack_code":`, m.CommitAckCode)
	if m.AckLatency != nil {
		dst = append(dst, `,"ack_latency":`...)
		dst = appendJSONFloat(dst, *m.AckLatency)
	}
	if m.ErrorSegments != 0 {
		dst = append(dst, `,"error_segments":`...)
		dst = strconv.AppendInt(dst, int64(m.ErrorSegments), 10)
	}
	if m.Unanswered {
		dst = append(dst, `,"unanswered":true`...)
	}
	if m.UnsolicitedAck {
		dst = append(dst, `,"unsolicited_ack":true`...)
	}
	dst = appendField(dst, `,"acked_control_id":`, m.AckedControlID)
	if len(m.PHICategories) > 0 {
		dst = append(dst, `,"phi_categories":`...)
		dst = appendStrings(dst, m.PHICategories)
	}
	if len(m.PHIFields) > 0 {
		dst = append(dst, `,"phi_fields":`...)
		dst = appendStrings(dst, m.PHIFields)
	}
	if len(m.Software) > 0 {
		dst = append(dst, `,"software":[`...)
		for i := range m.Software {
			if i > 0 {
				dst = append(dst, ',')
			}
			w := &m.Software[i]
			dst = appendObject(dst, []string{`"vendor":`, `"version":`, `"product":`, `"binary_id":`},
				w.Vendor, w.Version, w.Product, w.BinaryID)
		}
		dst = append(dst, ']')
	}
	if len(m.UDI) > 0 {
		dst = append(dst, `,"udi":[`...)
		for i := range m.UDI {
			if i > 0 {
				dst = append(dst, ',')
			}
			v := &m.UDI[i]
			dst = appendObject(dst, []string{`"id":`, `"device_id":`, `"manufacture_date":`, `"expiry_date":`, `"lot":`, `"serial":`, `"donation_id":`, `"type":`},
				v.ID, v.DeviceID, v.ManufactureDate, v.ExpiryDate, v.Lot, v.Serial, v.Donation, v.Type)
		}
		dst = append(dst, ']')
	}
	if len(m.EquipmentIDs) > 0 {
		dst = append(dst, `,"equipment_ids":`...)
		dst = appendStrings(dst, m.EquipmentIDs)
	}
	return append(dst, '}')
}

// appendField appends key and v when v is not empty (omitempty).
func appendField(dst []byte, key, v string) []byte {
	if v == "" {
		return dst
	}
	return AppendJSONString(append(dst, key...), v)
}

// appendObject appends an object of omitempty string fields.
func appendObject(dst []byte, keys []string, vals ...string) []byte {
	dst = append(dst, '{')
	first := true
	for i, v := range vals {
		if v == "" {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = AppendJSONString(append(dst, keys[i]...), v)
	}
	return append(dst, '}')
}

// appendStrings appends a string slice: null when nil, as encoding/json.
func appendStrings(dst []byte, l []string) []byte {
	if l == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, v := range l {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendJSONString(dst, v)
	}
	return append(dst, ']')
}

// appendJSONFloat appends a float64 as encoding/json does (ES6 number
// formatting); null for NaN and infinities, which it refuses.
func appendJSONFloat(dst []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(dst, "null"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// e-09 becomes e-9.
		if n := len(dst) - start; n >= 4 && dst[len(dst)-4] == 'e' && dst[len(dst)-3] == '-' && dst[len(dst)-2] == '0' {
			dst[len(dst)-2] = dst[len(dst)-1]
			dst = dst[:len(dst)-1]
		}
	}
	return dst
}

// AppendJSONString appends s as a JSON string exactly as encoding/json's
// Marshal writes it: <, > and & escaped as \u003c \u003e \u0026, control
// characters as \b \f \n \r \t or \u00XX, invalid UTF-8 as \ufffd, and
// U+2028 and U+2029 escaped. (strconv.Quote differs on all of these.) The
// ASTM parser shares it.
func AppendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if jsonSafe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// jsonSafe marks the ASCII bytes encoding/json writes as they are (its
// htmlSafeSet): 0x20 to 0x7F but " \ < > &.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()
