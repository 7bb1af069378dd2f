package hl7

import (
	"math"
	"strconv"

	"github.com/medtap/medtap/parsers/parser"
)

// AppendJSON appends the message as one JSON object, exactly as
// encoding/json marshals it (field order, omitempty, string escaping), for
// the pipeline's event.Appender: no reflection, no allocation but dst's
// growth. Fields tagged `json:"-"` (PHI values) are never written. An
// AckLatency that is not finite, which encoding/json refuses, is written
// as null.
func (m *Message) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"direction":`...)
	dst = parser.AppendJSONString(dst, m.Direction)
	dst = append(dst, `,"framing":`...)
	dst = parser.AppendJSONString(dst, m.Framing)
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
	return parser.AppendJSONString(append(dst, key...), v)
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
		dst = parser.AppendJSONString(append(dst, keys[i]...), v)
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
		dst = parser.AppendJSONString(dst, v)
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
