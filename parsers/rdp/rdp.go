package rdp

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"time"

	"github.com/medtap/medtap/parsers/parser"
)

// Limits.
const (
	// MaxTPKT is the longest first TPKT accepted per direction: a
	// Connection Request with a cookie and a negotiation request is under
	// 300 bytes. A longer declared length is tpkt_too_long.
	MaxTPKT = 1024
	// MaxUserLen bounds the user name kept from the cookie.
	MaxUserLen = 128
	// minTPKT is TPKT header (4) + X.224 LI, code, dst-ref, src-ref, class.
	minTPKT = 4 + 7
)

// X.224 TPDU codes (the high nibble of the code byte).
const (
	tpduCR = 0xE0 // Connection Request
	tpduCC = 0xD0 // Connection Confirm
)

// Negotiation structure types.
const (
	negReq     = 0x01
	negRsp     = 0x02
	negFailure = 0x03
)

// Factory is the registry entry of the RDP parser.
var Factory = parser.Factory{
	Name:      "rdp",
	Transport: parser.TCP,
	Ports:     []uint16{3389},
	Probe:     probe,
	New:       newStream,
}

// probe matches a TPKT (version 3, reserved 0) holding an X.224 Connection
// Request (client) or Connection Confirm (server) whose length indicator
// agrees with the TPKT length.
func probe(_ parser.Direction, b []byte) parser.Verdict {
	if len(b) >= 1 && b[0] != 3 {
		return parser.NoMatch
	}
	if len(b) >= 2 && b[1] != 0 {
		return parser.NoMatch
	}
	if len(b) < 6 {
		return parser.NeedMore
	}
	n := int(binary.BigEndian.Uint16(b[2:]))
	if n < minTPKT || n > MaxTPKT || int(b[4]) != n-5 {
		return parser.NoMatch
	}
	if c := b[5] & 0xF0; c != tpduCR && c != tpduCC {
		return parser.NoMatch
	}
	return parser.Match
}

type stream struct {
	em      parser.Emitter
	buf     [2][]byte
	done    [2]bool
	ev      Connection
	req     bool // the request was seen
	emitted bool
}

func newStream(_ *parser.Flow, em parser.Emitter, _ *parser.Env) parser.Stream {
	return &stream{em: em}
}

func (s *stream) anomaly(ts time.Time, dir parser.Direction, code string, length, limit int64) {
	s.em.Emit(ts, &parser.Anomaly{Source: "rdp", Code: code, Direction: dir.String(), Length: length, Limit: limit})
}

// Feed implements parser.Stream. Only the first TPKT of each direction is
// read.
func (s *stream) Feed(dir parser.Direction, data []byte, ts time.Time) {
	dir &= 1
	if s.done[dir] {
		return
	}
	b := s.buf[dir]
	need := 4
	if len(b) >= 4 {
		need = int(binary.BigEndian.Uint16(b[2:]))
	}
	for len(data) > 0 {
		n := min(need-len(b), len(data))
		b = append(b, data[:n]...)
		data = data[n:]
		if len(b) < need {
			break
		}
		if need == 4 {
			need = int(binary.BigEndian.Uint16(b[2:]))
			if b[0] != 3 || need < minTPKT || need > MaxTPKT {
				s.anomaly(ts, dir, "bad_tpkt", int64(need), MaxTPKT)
				s.done[dir], b = true, nil
				break
			}
			continue
		}
		s.tpdu(dir, b[4:], ts)
		s.done[dir], b = true, nil
		break
	}
	s.buf[dir] = b
}

// tpdu decodes an X.224 TPDU: LI, code, dst-ref(2), src-ref(2), class,
// then the variable part.
func (s *stream) tpdu(dir parser.Direction, t []byte, ts time.Time) {
	li := int(t[0])
	if li+1 != len(t) {
		s.anomaly(ts, dir, "bad_x224_length", int64(li), int64(len(t)-1))
		return
	}
	code := t[1] & 0xF0
	v := t[7:]
	switch {
	case dir == parser.ToServer && code == tpduCR:
		s.request(v)
	case dir == parser.ToClient && code == tpduCC:
		s.confirm(v, ts)
	default:
		s.anomaly(ts, dir, "unexpected_tpdu", int64(code), 0)
	}
}

// request reads the Connection Request's variable part: an optional cookie
// or routing token line ending CR LF, then an optional RDP_NEG_REQ.
func (s *stream) request(v []byte) {
	s.req = true
	if bytes.HasPrefix(v, []byte("Cookie: ")) {
		end := bytes.Index(v, []byte("\r\n"))
		line := v
		if end >= 0 {
			line, v = v[:end], v[end+2:]
		} else {
			v = nil
		}
		val := line[len("Cookie: "):]
		switch {
		case bytes.HasPrefix(val, []byte("mstshash=")):
			s.ev.Cookie = "mstshash"
			u := val[len("mstshash="):]
			if len(u) > MaxUserLen {
				u = u[:MaxUserLen]
			}
			if len(u) > 0 {
				s.ev.UserPresent, s.ev.User = true, string(u)
			}
		case bytes.HasPrefix(val, []byte("msts=")):
			s.ev.Cookie = "msts"
		default:
			s.ev.Cookie = "other"
		}
	}
	if len(v) >= 8 && v[0] == negReq {
		s.ev.RequestedProtocols = protocolNames(binary.LittleEndian.Uint32(v[4:]), true)
	} else {
		s.ev.RequestedProtocols = []string{"rdp"}
	}
}

// Security protocol flags (MS-RDPBCGR 2.2.1.1.1).
var protocolFlags = [...]struct {
	bit  uint32
	name string
}{
	{0x01, "tls"}, {0x02, "credssp"}, {0x04, "rdstls"}, {0x08, "credssp_early_auth"}, {0x10, "rdsaad"},
}

// protocolNames lists the flags set; all lists "rdp" first, since standard
// RDP security is always acceptable to a client that asks for others.
func protocolNames(p uint32, all bool) []string {
	var out []string
	if all || p == 0 {
		out = append(out, "rdp")
	}
	for _, f := range protocolFlags {
		if p&f.bit != 0 {
			out = append(out, f.name)
		}
	}
	if rest := p &^ 0x1F; rest != 0 {
		out = append(out, "0x"+strconv.FormatUint(uint64(rest), 16))
	}
	return out
}

var failureNames = [...]string{
	1: "ssl_required_by_server", 2: "ssl_not_allowed_by_server", 3: "ssl_cert_not_on_server",
	4: "inconsistent_flags", 5: "hybrid_required_by_server", 6: "ssl_with_user_auth_required_by_server",
}

// confirm reads the Connection Confirm's optional RDP_NEG_RSP or
// RDP_NEG_FAILURE; without one the server chose standard RDP security.
func (s *stream) confirm(v []byte, ts time.Time) {
	s.ev.Confirmed = true
	switch {
	case len(v) >= 8 && v[0] == negRsp:
		p := binary.LittleEndian.Uint32(v[4:])
		names := protocolNames(p, false)
		if len(names) > 0 {
			s.ev.SelectedProtocol = names[len(names)-1]
		}
	case len(v) >= 8 && v[0] == negFailure:
		c := binary.LittleEndian.Uint32(v[4:])
		if int(c) < len(failureNames) && failureNames[c] != "" {
			s.ev.Failure = failureNames[c]
		} else {
			s.ev.Failure = "code_" + strconv.FormatUint(uint64(c), 10)
		}
	default:
		s.ev.SelectedProtocol = "rdp"
	}
	s.ev.StandardSecurity = s.ev.SelectedProtocol == "rdp"
	s.emit(ts)
}

func (s *stream) emit(ts time.Time) {
	if s.emitted || (!s.req && !s.ev.Confirmed) {
		return
	}
	s.emitted = true
	ev := s.ev
	s.em.Emit(ts, &ev)
}

// Gap implements parser.Stream: a gap inside the first TPKT leaves that
// direction undecoded.
func (s *stream) Gap(dir parser.Direction, missing int, ts time.Time) {
	dir &= 1
	if !s.done[dir] {
		s.anomaly(ts, dir, "gap_in_negotiation", int64(missing), 0)
		s.done[dir], s.buf[dir] = true, nil
	}
}

// Close implements parser.Stream.
func (s *stream) Close(_ parser.CloseReason, ts time.Time) {
	s.emit(ts)
}
