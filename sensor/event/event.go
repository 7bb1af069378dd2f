// Package event is medtap's one output record: the JSON-lines envelope shared
// by flow records, parser events, anomalies and (later) alerts and asset
// changes, and the key that orders them deterministically.
package event

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/medtap/medtap/parsers/parser"
)

// Key orders events. The pipeline stamps every event with the global index of
// the packet whose processing produced it (or of the clock tick or the end of
// input that did), the index of the flow's first packet, and a sequence
// number within that flow. The key depends only on the input, never on the
// worker count, so sorting by it makes output deterministic.
type Key struct {
	Packet uint64 // global index of the triggering packet, tick or end of input
	Flow   uint64 // global index of the flow's first packet
	Seq    uint32 // emission order within the flow for that trigger
}

// Less reports whether k sorts before o.
func (k Key) Less(o Key) bool {
	if k.Packet != o.Packet {
		return k.Packet < o.Packet
	}
	if k.Flow != o.Flow {
		return k.Flow < o.Flow
	}
	return k.Seq < o.Seq
}

// Event is one output record.
type Event struct {
	TS     time.Time
	Flow   *parser.Flow // nil for events not tied to a flow
	Sensor string
	Body   parser.Body
	Key    Key
	// Line is the event's JSON, encoded ahead by the worker that made it
	// (in parallel, off the single merge goroutine). It is valid only
	// during the sink's Write call; nil means not encoded yet.
	Line []byte
}

// Envelope is the envelope of an event line as AppendJSON writes it, for
// the readers of medtap's own output (carve, report, the hub): embed it in
// a struct with the event's object.
type Envelope struct {
	TS          string `json:"ts"`
	EventType   string `json:"event_type"`
	SrcIP       string `json:"src_ip"`
	SrcPort     uint16 `json:"src_port"`
	DestIP      string `json:"dest_ip"`
	DestPort    uint16 `json:"dest_port"`
	Proto       string `json:"proto"`
	VLAN        uint16 `json:"vlan"`
	CommunityID string `json:"community_id"`
	Sensor      string `json:"sensor"`
}

// TimeLayout is the ts format: RFC 3339, UTC, always nine fraction digits so
// lines sort as text too.
const TimeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// AppendTime appends t in TimeLayout, UTC, without the layout interpreter
// (it runs once per event).
func AppendTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(dst, TimeLayout)
	}
	h, mi, sec := t.Clock()
	var b [30]byte
	put := func(i, n, w int) {
		for j := i + w - 1; j >= i; j-- {
			b[j] = byte('0' + n%10)
			n /= 10
		}
	}
	put(0, y, 4)
	b[4] = '-'
	put(5, int(mo), 2)
	b[7] = '-'
	put(8, d, 2)
	b[10] = 'T'
	put(11, h, 2)
	b[13] = ':'
	put(14, mi, 2)
	b[16] = ':'
	put(17, sec, 2)
	b[19] = '.'
	put(20, t.Nanosecond(), 9)
	b[29] = 'Z'
	return append(dst, b[:]...)
}

// ProtoName gives the lower-case transport name for an IP protocol number.
func ProtoName(p uint8) string {
	switch p {
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 1:
		return "icmp"
	case 58:
		return "ipv6-icmp"
	}
	return strconv.Itoa(int(p))
}

// AppendJSON appends the event as one JSON object (no newline) to dst.
func (e *Event) AppendJSON(dst []byte) ([]byte, error) {
	typ := e.Body.EventType()
	dst = append(dst, `{"ts":"`...)
	dst = AppendTime(dst, e.TS)
	dst = append(dst, `","event_type":`...)
	dst = parser.AppendJSONString(dst, typ)
	if f := e.Flow; f != nil {
		dst = append(dst, `,"src_ip":"`...)
		dst = f.Client.Addr().AppendTo(dst)
		dst = append(dst, `","src_port":`...)
		dst = strconv.AppendUint(dst, uint64(f.Client.Port()), 10)
		dst = append(dst, `,"dest_ip":"`...)
		dst = f.Server.Addr().AppendTo(dst)
		dst = append(dst, `","dest_port":`...)
		dst = strconv.AppendUint(dst, uint64(f.Server.Port()), 10)
		dst = append(dst, `,"proto":"`...)
		dst = append(dst, ProtoName(f.Proto)...)
		dst = append(dst, '"')
		if f.VLAN != 0 {
			dst = append(dst, `,"vlan":`...)
			dst = strconv.AppendUint(dst, uint64(f.VLAN), 10)
		}
		dst = append(dst, `,"community_id":`...)
		dst = parser.AppendJSONString(dst, f.CommunityID)
	}
	if e.Sensor != "" {
		dst = append(dst, `,"sensor":`...)
		dst = parser.AppendJSONString(dst, e.Sensor)
	}
	dst = append(dst, ',')
	dst = parser.AppendJSONString(dst, typ)
	dst = append(dst, ':')
	var err error
	if a, ok := e.Body.(Appender); ok {
		dst = a.AppendJSON(dst)
	} else {
		var b []byte
		b, err = json.Marshal(e.Body)
		dst = append(dst, b...)
	}
	dst = append(dst, '}')
	return dst, err
}

// Appender is implemented by bodies that encode themselves without
// reflection, byte for byte as encoding/json would: the most frequent ones
// (HL7 and ASTM messages, flow records, asset changes).
type Appender interface {
	AppendJSON(dst []byte) []byte
}

// MarshalJSON implements json.Marshaler.
func (e *Event) MarshalJSON() ([]byte, error) { return e.AppendJSON(nil) }
