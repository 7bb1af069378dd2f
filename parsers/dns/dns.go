// Package dns decodes the DNS message family on UDP: unicast DNS (RFC
// 1035) answers, multicast DNS (RFC 6762) announcements, LLMNR (RFC 4795)
// and the NetBIOS name service (RFC 1002), whose messages share DNS's
// header and record layout. The inventory learns host names from them.
// Each datagram is one message; nothing is kept between datagrams.
package dns

import (
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"strconv"
	"time"

	"github.com/medtap/medtap/parsers/parser"
)

// Limits on what one message may make the parser do or keep.
const (
	HeaderLen = 12
	// MaxCount is the largest section count accepted: more records than
	// this cannot fit a datagram anyway (minimum 11 bytes each).
	MaxCount = 6000
	// MaxQuestions and MaxRecords bound what one event keeps; the rest
	// are counted in Dropped (anomaly too_many_records).
	MaxQuestions = 16
	MaxRecords   = 64
	// MaxNameLen is the longest decoded name (RFC 1035: 255 octets);
	// MaxPointers the most compression pointers followed in one name.
	MaxNameLen  = 255
	MaxPointers = 16
)

// Well-known ports that say which member of the family a flow carries.
const (
	portMDNS  = 5353
	portLLMNR = 5355
	portNBNS  = 137
)

// Factory is the registry entry of the DNS family parser.
var Factory = parser.Factory{
	Name:      "dns",
	Transport: parser.UDP,
	Ports:     []uint16{53, portMDNS, portLLMNR, portNBNS},
	Probe:     probe,
	New:       newStream,
}

// probe walks the whole datagram without allocating: a header with sane
// counts, then every name, question and record exactly to the end. A
// view cut at parser.MaxProbeBytes matches when everything before the
// cut was well-formed.
func probe(_ parser.Direction, b []byte) parser.Verdict {
	if len(b) < HeaderLen {
		return parser.NoMatch
	}
	qd, an, ns, ar := count(b, 4), count(b, 6), count(b, 8), count(b, 10)
	if qd+an+ns+ar == 0 || qd > MaxQuestions || an > MaxCount || ns > MaxCount || ar > MaxCount {
		return parser.NoMatch
	}
	switch (b[2] >> 3) & 0xf {
	case 0, 1, 2, 4, 5, 6, 7, 8, 15:
	default:
		return parser.NoMatch
	}
	cut := len(b) >= parser.MaxProbeBytes
	off := HeaderLen
	for i := 0; i < qd+an+ns+ar; i++ {
		next, ok := skipName(b, off)
		if !ok {
			return cutVerdict(cut, i > qd)
		}
		off = next
		fixed := 4
		if i >= qd {
			fixed = 10
		}
		if off+fixed > len(b) {
			return cutVerdict(cut, i > qd)
		}
		if i >= qd {
			off += fixed + int(binary.BigEndian.Uint16(b[off+8:]))
			if off > len(b) {
				return cutVerdict(cut, true)
			}
		} else {
			off += fixed
		}
	}
	if off != len(b) {
		return parser.NoMatch
	}
	return parser.Match
}

func cutVerdict(cut, enough bool) parser.Verdict {
	if cut && enough {
		return parser.Match
	}
	return parser.NoMatch
}

func count(b []byte, off int) int { return int(binary.BigEndian.Uint16(b[off:])) }

// skipName validates the name at off and returns the offset after it.
func skipName(b []byte, off int) (int, bool) {
	end := -1
	total := 0
	for jumps := 0; ; {
		if off >= len(b) {
			return 0, false
		}
		l := int(b[off])
		switch l & 0xc0 {
		case 0:
			if l == 0 {
				if end < 0 {
					end = off + 1
				}
				return end, true
			}
			total += l + 1
			if total > MaxNameLen || off+1+l > len(b) {
				return 0, false
			}
			off += 1 + l
		case 0xc0:
			if off+1 >= len(b) || jumps >= MaxPointers {
				return 0, false
			}
			ptr := int(binary.BigEndian.Uint16(b[off:]) & 0x3fff)
			if ptr >= off {
				return 0, false // only backward pointers: no loops
			}
			if end < 0 {
				end = off + 2
			}
			off = ptr
			jumps++
		default:
			return 0, false
		}
	}
}

type stream struct {
	em    parser.Emitter
	proto string
}

func newStream(f *parser.Flow, em parser.Emitter, _ *parser.Env) parser.Stream {
	s := &stream{em: em, proto: "dns"}
	switch {
	case f.Server.Port() == portMDNS || f.Client.Port() == portMDNS:
		s.proto = "mdns"
	case f.Server.Port() == portLLMNR || f.Client.Port() == portLLMNR:
		s.proto = "llmnr"
	case f.Server.Port() == portNBNS && f.Client.Port() == portNBNS, f.Server.Port() == portNBNS:
		s.proto = "nbns"
	}
	return s
}

// Feed decodes one datagram.
func (s *stream) Feed(dir parser.Direction, data []byte, ts time.Time) {
	m, code := Decode(s.proto, data)
	if code != "" {
		s.em.Emit(ts, &parser.Anomaly{Source: "dns", Code: code, Direction: dir.String(), Length: int64(len(data))})
	}
	if m != nil {
		s.em.Emit(ts, m)
	}
}

// Gap cannot happen on UDP.
func (s *stream) Gap(parser.Direction, int, time.Time) {}

// Close has nothing to flush.
func (s *stream) Close(parser.CloseReason, time.Time) {}

var opcodes = [...]string{0: "query", 1: "iquery", 2: "status", 4: "notify", 5: "update"}
var nbnsOpcodes = [...]string{0: "query", 5: "registration", 6: "release", 7: "wack", 8: "refresh", 9: "refresh", 15: "multihomed_registration"}
var rcodes = [...]string{"noerror", "formerr", "servfail", "nxdomain", "notimp", "refused"}

// Decode decodes one message of the given protocol (dns, mdns, llmnr,
// nbns). It returns nil and an anomaly code when the header is broken;
// a message whose records break part-way is returned with what came
// before, and the anomaly code.
func Decode(proto string, b []byte) (*Message, string) {
	if len(b) < HeaderLen {
		return nil, "message_too_short"
	}
	flags := binary.BigEndian.Uint16(b[2:])
	m := &Message{Protocol: proto, ID: binary.BigEndian.Uint16(b), Response: flags&0x8000 != 0,
		Authoritative: flags&0x0400 != 0, Truncated: flags&0x0200 != 0}
	op := int(flags>>11) & 0xf
	names := opcodes[:]
	if proto == "nbns" {
		names = nbnsOpcodes[:]
	}
	if op < len(names) && names[op] != "" {
		m.Opcode = names[op]
	} else {
		m.Opcode = strconv.Itoa(op)
	}
	if m.Response {
		rc := int(flags & 0xf)
		if rc < len(rcodes) {
			m.Rcode = rcodes[rc]
		} else {
			m.Rcode = strconv.Itoa(rc)
		}
	}
	qd, an, ns, ar := count(b, 4), count(b, 6), count(b, 8), count(b, 10)
	if an > MaxCount || ns > MaxCount || ar > MaxCount || qd > MaxCount {
		return nil, "count_too_large"
	}
	off := HeaderLen
	var name []byte
	for i := 0; i < qd; i++ {
		var ok bool
		name, off, ok = readName(b, off, name[:0])
		if !ok || off+4 > len(b) {
			return m, "question_truncated"
		}
		typ := binary.BigEndian.Uint16(b[off:])
		off += 4
		if len(m.Questions) >= MaxQuestions {
			m.Dropped++
			continue
		}
		q := Question{Type: typeName(typ)}
		if proto == "nbns" && typ == 33 {
			q.Type = "NBSTAT"
		}
		q.Name, q.NBSuffix = displayName(proto, name)
		m.Questions = append(m.Questions, q)
	}
	for i := 0; i < an+ns+ar; i++ {
		var ok bool
		name, off, ok = readName(b, off, name[:0])
		if !ok || off+10 > len(b) {
			return m, "record_truncated"
		}
		typ := binary.BigEndian.Uint16(b[off:])
		ttl := binary.BigEndian.Uint32(b[off+4:])
		rdl := int(binary.BigEndian.Uint16(b[off+8:]))
		off += 10
		if off+rdl > len(b) {
			return m, "record_truncated"
		}
		rdata := b[off : off+rdl]
		rdOff := off
		off += rdl
		if i >= an && i < an+ns {
			continue // authority records name servers, not hosts
		}
		if len(m.Answers) >= MaxRecords {
			m.Dropped++
			continue
		}
		r := Record{Section: "answer", Type: typeName(typ), TTL: ttl}
		if proto == "nbns" && typ == 33 {
			r.Type = "NBSTAT"
		}
		if i >= an+ns {
			r.Section = "additional"
		}
		r.Name, r.NBSuffix = displayName(proto, name)
		switch {
		case typ == 1 && rdl == 4:
			r.Address = netip.AddrFrom4([4]byte(rdata)).String()
		case typ == 28 && rdl == 16:
			r.Address = netip.AddrFrom16([16]byte(rdata)).String()
		case typ == 0x20 && proto == "nbns" && rdl >= 6:
			// NB: flags, then the first IPv4 address.
			r.Address = netip.AddrFrom4([4]byte(rdata[2:6])).String()
		case typ == 5 || typ == 12 || typ == 2:
			if t, _, ok := readName(b, rdOff, nil); ok {
				r.Target = string(t)
			}
		case typ == 33 && rdl > 6 && proto != "nbns":
			r.Port = binary.BigEndian.Uint16(rdata[4:])
			if t, _, ok := readName(b, rdOff+6, nil); ok {
				r.Target = string(t)
			}
		case typ == 41:
			continue // EDNS OPT: no name to learn
		}
		m.Answers = append(m.Answers, r)
	}
	if m.Dropped > 0 {
		return m, "too_many_records"
	}
	return m, ""
}

// readName appends the dotted name at off to dst and returns the offset
// after it.
func readName(b []byte, off int, dst []byte) ([]byte, int, bool) {
	end := -1
	for jumps := 0; ; {
		if off >= len(b) {
			return dst, 0, false
		}
		l := int(b[off])
		switch l & 0xc0 {
		case 0:
			if l == 0 {
				if end < 0 {
					end = off + 1
				}
				return dst, end, true
			}
			if off+1+l > len(b) || len(dst)+l+1 > MaxNameLen {
				return dst, 0, false
			}
			if len(dst) > 0 {
				dst = append(dst, '.')
			}
			dst = append(dst, b[off+1:off+1+l]...)
			off += 1 + l
		case 0xc0:
			if off+1 >= len(b) || jumps >= MaxPointers {
				return dst, 0, false
			}
			ptr := int(binary.BigEndian.Uint16(b[off:]) & 0x3fff)
			if ptr >= off {
				return dst, 0, false
			}
			if end < 0 {
				end = off + 2
			}
			off = ptr
			jumps++
		default:
			return dst, 0, false
		}
	}
}

// displayName turns a wire name into text; NetBIOS names are decoded from
// their first-level encoding (RFC 1001 14.1) into the name and its suffix.
func displayName(proto string, name []byte) (string, string) {
	if proto != "nbns" || len(name) < 32 {
		return string(name), ""
	}
	var raw [16]byte
	for i := range raw {
		hi, lo := name[2*i]-'A', name[2*i+1]-'A'
		if hi > 15 || lo > 15 {
			return string(name), ""
		}
		raw[i] = hi<<4 | lo
	}
	n := 15
	for n > 0 && (raw[n-1] == ' ' || raw[n-1] == 0) {
		n--
	}
	return string(raw[:n]), hex.EncodeToString(raw[15:16])
}

func typeName(t uint16) string {
	switch t {
	case 1:
		return "A"
	case 2:
		return "NS"
	case 5:
		return "CNAME"
	case 12:
		return "PTR"
	case 16:
		return "TXT"
	case 28:
		return "AAAA"
	case 32:
		return "NB"
	case 33:
		return "SRV"
	case 41:
		return "OPT"
	case 47:
		return "NSEC"
	case 255:
		return "ANY"
	}
	return strconv.Itoa(int(t))
}
