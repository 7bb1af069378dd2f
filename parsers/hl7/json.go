package hl7

import (
	"encoding/binary"
	"slices"
	"strconv"
	"unsafe"

	"github.com/medtap/medtap/parsers/parser"
)

// AppendJSON appends the message as one JSON object, exactly as
// encoding/json marshals it (field order, omitempty, string escaping), for
// the pipeline's event.Appender: no reflection, no allocation but dst's
// growth. Fields tagged `json:"-"` (PHI values) are never written. An
// AckLatency that is not finite, which encoding/json refuses, is written
// as null.
func (m *Message) AppendJSON(dst []byte) []byte {
	dst = appendHead(dst, m.Direction, m.Framing)
	if m.Batch {
		dst = append(dst, `,"batch":true`...)
	}
	dst = appendField(dst, `,"message_type":"`, m.MessageType)
	dst = appendField(dst, `,"trigger_event":"`, m.TriggerEvent)
	dst = appendField(dst, `,"message_structure":"`, m.MessageStructure)
	dst = appendField(dst, `,"control_id":"`, m.ControlID)
	dst = appendField(dst, `,"processing_id":"`, m.ProcessingID)
	dst = appendField(dst, `,"version":"`, m.Version)
	dst = appendField(dst, `,"sending_application":"`, m.SendingApplication)
	dst = appendField(dst, `,"sending_facility":"`, m.SendingFacility)
	dst = appendField(dst, `,"receiving_application":"`, m.ReceivingApplication)
	dst = appendField(dst, `,"receiving_facility":"`, m.ReceivingFacility)
	dst = appendField(dst, `,"accept_ack_type":"`, m.AcceptAckType)
	dst = appendField(dst, `,"app_ack_type":"`, m.AppAckType)
	dst = appendField(dst, `,"charset":"`, m.Charset)
	dst = append(dst, `,"segments":`...)
	dst = appendList(dst, m.Segments, m.segmentsJSON)
	dst = append(dst, `,"segment_count":`...)
	dst = strconv.AppendInt(dst, int64(m.SegmentCount), 10)
	dst = append(dst, `,"bytes":`...)
	dst = strconv.AppendInt(dst, m.Bytes, 10)
	if m.Truncated {
		dst = append(dst, `,"truncated":true`...)
	}
	dst = appendField(dst, `,"ack_code":"`, m.AckCode)
	dst = appendField(dst, `,"commit_ack_code":"`, m.CommitAckCode)
	if m.AckLatency != nil {
		dst = append(dst, `,"ack_latency":`...)
		dst = parser.AppendJSONFloat(dst, *m.AckLatency)
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
	dst = appendField(dst, `,"acked_control_id":"`, m.AckedControlID)
	if len(m.PHICategories) > 0 {
		dst = append(dst, `,"phi_categories":`...)
		dst = appendList(dst, m.PHICategories, m.phiCategoriesJSON)
	}
	if len(m.PHIFields) > 0 {
		dst = append(dst, `,"phi_fields":`...)
		dst = appendList(dst, m.PHIFields, m.phiFieldsJSON)
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

// appendField appends key (which ends with the value's opening quote)
// and v when v is not empty (omitempty).
func appendField(dst []byte, key, v string) []byte {
	if v == "" {
		return dst
	}
	return appendQuoted(dst, key, v)
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
		dst = appendText(append(dst, keys[i]...), v)
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
		dst = appendText(dst, v)
	}
	return append(dst, ']')
}

// appendList appends a list that may be shared with its encoding e.
func appendList(dst []byte, l []string, e *sharedList) []byte {
	if e.encodes(l) {
		return append(dst, e.json...)
	}
	return appendStrings(dst, l)
}

// heads are the openings of events in their usual directions and
// framings: "{", "direction" and "framing", encoded once.
var heads = func() (h [4]struct{ dir, framing, json string }) {
	i := 0
	for _, dir := range []parser.Direction{parser.ToServer, parser.ToClient} {
		for _, framing := range []string{"mllp", "bare"} {
			h[i].dir, h[i].framing = dir.String(), framing
			h[i].json = string(appendHeadSlow(nil, h[i].dir, framing))
			i++
		}
	}
	return h
}()

// appendHead appends the event's opening up to its framing.
func appendHead(dst []byte, dir, framing string) []byte {
	for i := range heads {
		if h := &heads[i]; h.dir == dir && h.framing == framing {
			return append(dst, h.json...)
		}
	}
	return appendHeadSlow(dst, dir, framing)
}

func appendHeadSlow(dst []byte, dir, framing string) []byte {
	dst = append(dst, `{"direction":`...)
	dst = appendText(dst, dir)
	dst = append(dst, `,"framing":`...)
	return appendText(dst, framing)
}

// appendText appends s as a JSON string, as parser.AppendJSONString does.
func appendText(dst []byte, s string) []byte {
	return appendQuoted(dst, `"`, s)
}

// appendQuoted appends key, which ends with an opening quote, and s as a
// JSON string. Values are nearly always printable ASCII that JSON takes
// as it is (no quote, backslash, <, >, & or control character): those
// are found 8 bytes a step and copied without a byte-by-byte escaping
// loop. Most values are short, and keys are constants of 8 to 32 bytes:
// up to 16 bytes (32 for keys), they are moved as two words that
// overlap, without a call, and a value's words are checked as they go.
func appendQuoted(dst []byte, key, s string) []byte {
	n := len(s)
	dst = slices.Grow(dst, len(key)+17)
	at := len(dst)
	if k := len(key); k >= 8 && k <= 32 {
		out, kb := dst[at:at+k], unsafe.Slice(unsafe.StringData(key), k)
		if k >= 16 {
			*(*[16]byte)(out) = *(*[16]byte)(kb)
			*(*[16]byte)(out[k-16:]) = *(*[16]byte)(kb[k-16:])
		} else {
			*(*[8]byte)(out) = *(*[8]byte)(kb)
			*(*[8]byte)(out[k-8:]) = *(*[8]byte)(kb[k-8:])
		}
		dst = dst[:at+k]
	} else {
		dst = append(dst, key...)
	}
	if n > 16 {
		if !jsonPlain(s) {
			return parser.AppendJSONString(dst[:len(dst)-1], s)
		}
		dst = append(dst, s...)
		return append(dst, '"')
	}
	at = len(dst)
	out := dst[at : at+17]
	b := unsafe.Slice(unsafe.StringData(s), n)
	switch {
	case n >= 8:
		x, y := binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[n-8:])
		if !jsonPlainWord(x) || !jsonPlainWord(y) {
			return parser.AppendJSONString(dst[:at-1], s)
		}
		binary.LittleEndian.PutUint64(out, x)
		binary.LittleEndian.PutUint64(out[n-8:], y)
	case n >= 4:
		x, y := binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[n-4:])
		if !jsonPlainWord(uint64(x) | uint64(y)<<32) {
			return parser.AppendJSONString(dst[:at-1], s)
		}
		binary.LittleEndian.PutUint32(out, x)
		binary.LittleEndian.PutUint32(out[n-4:], y)
	case n > 0:
		if !jsonPlainWord(shortWord(b)) {
			return parser.AppendJSONString(dst[:at-1], s)
		}
		out[0], out[n/2], out[n-1] = b[0], b[n/2], b[n-1]
	}
	out[n] = '"'
	return dst[:at+n+1]
}

// jsonPlain reports whether s holds only bytes encoding/json writes as
// they are: 0x20..0x7F but " \ < > &.
func jsonPlain(s string) bool {
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	switch {
	case len(b) == 0:
		return true
	case len(b) < 4:
		return jsonPlainWord(shortWord(b))
	case len(b) < 8:
		// Two 4-byte words that overlap.
		return jsonPlainWord(uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint32(b[len(b)-4:]))<<32)
	}
	for i := 0; i+8 <= len(b); i += 8 {
		if !jsonPlainWord(binary.LittleEndian.Uint64(b[i:])) {
			return false
		}
	}
	// The last word overlaps the words before: its bytes were checked or
	// are to be.
	return jsonPlainWord(binary.LittleEndian.Uint64(b[len(b)-8:]))
}

// shortWord holds the bytes of b (1 to 3 of them): its first, middle and
// last, padded with 'A'.
func shortWord(b []byte) uint64 {
	return uint64(b[0]) | uint64(b[len(b)/2])<<8 | uint64(b[len(b)-1])<<16 | 0x4141414141000000
}

// jsonPlainWord reports whether the 8 bytes of x are all plain (jsonPlain).
// " (0x22) and & (0x26) differ in one bit, as do < (0x3C) and > (0x3E):
// setting it matches each pair with one comparison.
func jsonPlainWord(x uint64) bool {
	ctl := hi8 &^ ((x & low7) + 0x6060606060606060) // low 7 bits below 0x20
	bad := x&hi8 | ctl |
		zeroBytes(x^lo8*'\\') |
		zeroBytes((x|lo8*0x04)^lo8*'&') |
		zeroBytes((x|lo8*0x02)^lo8*'>')
	return bad == 0
}
