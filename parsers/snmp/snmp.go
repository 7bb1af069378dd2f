package snmp

import (
	"time"

	"github.com/medtap/medtap/parsers/parser"
)

// Limits.
const (
	// MaxUserLen bounds the v3 user name kept (RFC 3414 allows 32).
	MaxUserLen = 32
	// MaxVarBinds bounds the variable bindings counted.
	MaxVarBinds = 1024
)

// Factory is the registry entry of the SNMP parser.
var Factory = parser.Factory{
	Name:      "snmp",
	Transport: parser.UDP,
	Ports:     []uint16{161, 162},
	Probe:     probe,
	New:       newStream,
}

// BER tags.
const (
	tagInteger  = 0x02
	tagOctets   = 0x04
	tagSequence = 0x30
)

var pduNames = [...]string{"get_request", "get_next_request", "response", "set_request", "trap", "get_bulk_request", "inform_request", "snmpv2_trap", "report"}

// probe matches a BER SEQUENCE whose first element is INTEGER version 0, 1
// or 3, followed by an OCTET STRING (v1, v2c) or a SEQUENCE (v3).
func probe(_ parser.Direction, b []byte) parser.Verdict {
	seq, _, ok := tlv(b)
	if !ok || seq.tag != tagSequence {
		return parser.NoMatch
	}
	body := b[seq.off:min(len(b), seq.off+seq.len)]
	v, rest, ok := tlv(body)
	if !ok || v.tag != tagInteger || v.len != 1 {
		return parser.NoMatch
	}
	ver := body[v.off]
	if ver != 0 && ver != 1 && ver != 3 {
		return parser.NoMatch
	}
	next, _, ok := tlv(rest)
	if !ok || (ver < 3 && next.tag != tagOctets) || (ver == 3 && next.tag != tagSequence) {
		return parser.NoMatch
	}
	return parser.Match
}

// elem is one decoded BER header: tag, content offset and length.
type elem struct {
	tag byte
	off int
	len int
}

// tlv decodes the header of the element at the start of b (definite
// lengths up to 4 bytes), checks that its content fits in b, and returns it
// and the bytes after it.
func tlv(b []byte) (elem, []byte, bool) {
	if len(b) < 2 {
		return elem{}, nil, false
	}
	e := elem{tag: b[0]}
	l := int(b[1])
	off := 2
	if l&0x80 != 0 {
		n := l & 0x7f
		if n == 0 || n > 4 || len(b) < 2+n {
			return elem{}, nil, false
		}
		l = 0
		for i := 0; i < n; i++ {
			l = l<<8 | int(b[2+i])
		}
		off += n
	}
	if l < 0 || l > len(b)-off {
		return elem{}, nil, false
	}
	e.off, e.len = off, l
	return e, b[off+l:], true
}

func content(b []byte, e elem) []byte { return b[e.off : e.off+e.len] }

func intValue(b []byte) int64 {
	if len(b) == 0 || len(b) > 8 {
		return 0
	}
	v := int64(int8(b[0]))
	for _, c := range b[1:] {
		v = v<<8 | int64(c)
	}
	return v
}

type stream struct{ em parser.Emitter }

func newStream(_ *parser.Flow, em parser.Emitter, _ *parser.Env) parser.Stream {
	return &stream{em: em}
}

// Feed implements parser.Stream: each call is one datagram.
func (s *stream) Feed(dir parser.Direction, data []byte, ts time.Time) {
	dir &= 1
	m := &Message{Direction: dir.String()}
	if !decode(data, m) {
		if m.Version == "" {
			s.em.Emit(ts, &parser.Anomaly{Source: "snmp", Code: "bad_message", Direction: dir.String(), Length: int64(len(data))})
			return
		}
		m.Malformed = true
		s.em.Emit(ts, &parser.Anomaly{Source: "snmp", Code: "bad_pdu", Direction: dir.String(), Length: int64(len(data))})
	}
	s.em.Emit(ts, m)
}

func decode(b []byte, m *Message) bool {
	seq, _, ok := tlv(b)
	if !ok || seq.tag != tagSequence {
		return false
	}
	body := content(b, seq)
	v, rest, ok := tlv(body)
	if !ok || v.tag != tagInteger || v.len != 1 {
		return false
	}
	switch body[v.off] {
	case 0:
		m.Version = "1"
	case 1:
		m.Version = "2c"
	case 3:
		m.Version = "3"
		return decodeV3(rest, m)
	default:
		return false
	}
	if c, _, ok := tlv(rest); !ok || c.tag != tagOctets {
		return false
	}
	return decodeCommunity(body, v, m)
}

// decodeCommunity reads the community and the PDU after the version.
func decodeCommunity(body []byte, v elem, m *Message) bool {
	after := body[v.off+v.len:]
	c, rest, ok := tlv(after)
	if !ok {
		return false
	}
	comm := content(after, c)
	m.CommunityPresent = len(comm) > 0
	m.DefaultCommunity = string(comm) == "public" || string(comm) == "private"
	return decodePDU(rest, m)
}

// decodePDU reads a PDU: request-id, error-status, error-index, varbinds;
// or a v1 Trap: enterprise, agent-addr, generic, specific, time-stamp,
// varbinds.
func decodePDU(b []byte, m *Message) bool {
	p, _, ok := tlv(b)
	if !ok || p.tag < 0xA0 || p.tag > 0xA8 {
		return false
	}
	m.PDU = pduNames[p.tag-0xA0]
	body := content(b, p)
	skip := 3
	if p.tag == 0xA4 {
		skip = 5
	}
	for i := 0; i < skip; i++ {
		e, rest, ok := tlv(body)
		if !ok {
			return false
		}
		if p.tag != 0xA4 && e.tag == tagInteger {
			switch i {
			case 0:
				m.RequestID = intValue(content(body, e))
			case 1:
				m.ErrorStatus = int(intValue(content(body, e)))
			}
		}
		body = rest
	}
	vb, _, ok := tlv(body)
	if !ok || vb.tag != tagSequence {
		return false
	}
	list := content(body, vb)
	for len(list) > 0 && m.VarBinds < MaxVarBinds {
		_, rest, ok := tlv(list)
		if !ok {
			return false
		}
		m.VarBinds++
		list = rest
	}
	return true
}

// decodeV3 reads msgGlobalData, the USM security parameters and the
// scoped PDU (in clear unless privacy is on).
func decodeV3(b []byte, m *Message) bool {
	g, rest, ok := tlv(b)
	if !ok || g.tag != tagSequence {
		return false
	}
	gd := content(b, g)
	for i := 0; i < 3; i++ { // msgID, msgMaxSize, msgFlags
		e, r, ok := tlv(gd)
		if !ok {
			return false
		}
		if i == 2 && e.tag == tagOctets && e.len >= 1 {
			f := gd[e.off]
			m.V3Auth, m.V3Priv = f&1 != 0, f&2 != 0
		}
		gd = r
	}
	sp, rest2, ok := tlv(rest)
	if !ok || sp.tag != tagOctets {
		return false
	}
	usm := content(rest, sp)
	if u, _, ok := tlv(usm); ok && u.tag == tagSequence {
		f := content(usm, u)
		for i := 0; i < 4; i++ { // engineID, boots, time, userName
			e, r, ok := tlv(f)
			if !ok {
				break
			}
			if i == 3 && e.tag == tagOctets && e.len > 0 {
				name := content(f, e)
				m.UserPresent = true
				m.User = string(name[:min(len(name), MaxUserLen)])
			}
			f = r
		}
	}
	if m.V3Priv {
		return true // the scoped PDU is encrypted
	}
	sc, _, ok := tlv(rest2)
	if !ok || sc.tag != tagSequence {
		return false
	}
	spdu := content(rest2, sc)
	for i := 0; i < 2; i++ { // contextEngineID, contextName
		_, r, ok := tlv(spdu)
		if !ok {
			return false
		}
		spdu = r
	}
	return decodePDU(spdu, m)
}

// Gap implements parser.Stream (datagrams have no gaps).
func (s *stream) Gap(parser.Direction, int, time.Time) {}

// Close implements parser.Stream.
func (s *stream) Close(parser.CloseReason, time.Time) {}
