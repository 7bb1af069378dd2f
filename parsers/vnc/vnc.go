package vnc

import (
	"encoding/binary"
	"strconv"
	"time"

	"github.com/medtap/medtap/parsers/parser"
)

// Limits.
const (
	// MaxPending bounds the bytes a direction may have waiting while the
	// other side's next message is needed to read them (the server's
	// answer depends on the client's version and choice).
	MaxPending = 512
	// MaxReasonLen bounds a failure reason length accepted; longer is
	// bad_reason_length and the handshake is given up.
	MaxReasonLen = 64 << 10
	versionLen   = 12
)

// Factory is the registry entry of the VNC parser.
var Factory = parser.Factory{
	Name:      "vnc",
	Transport: parser.TCP,
	Ports:     []uint16{5900, 5901, 5902, 5800},
	Probe:     probe,
	New:       newStream,
}

// probe matches a ProtocolVersion message: "RFB xxx.yyy\n" with digits.
func probe(_ parser.Direction, b []byte) parser.Verdict {
	const tmpl = "RFB 000.000\n"
	for i := 0; i < len(b) && i < versionLen; i++ {
		t := tmpl[i]
		if t == '0' {
			if b[i] < '0' || b[i] > '9' {
				return parser.NoMatch
			}
		} else if b[i] != t {
			return parser.NoMatch
		}
	}
	if len(b) < versionLen {
		return parser.NeedMore
	}
	return parser.Match
}

// Server-side states.
type sstate uint8

const (
	sVersion     sstate = iota
	sTypes33            // u32 security type (3.3)
	sTypeCount          // u8 count (3.7+)
	sTypeList           // count bytes
	sAwaitChoice        // waiting for the client's choice
	sChallenge          // 16 bytes of VNC authentication challenge
	sResult             // u32 SecurityResult
	sReasonLen          // u32 reason length, then skip
	sReason
	sServerInit // width, height
	sDone
)

type stream struct {
	em      parser.Emitter
	pend    [2][]byte
	ss      sstate
	cs      uint8 // client: 0 version, 1 choice, 2 done
	minor   int   // version in use: 3, 7 or 8 (minor of 3.x), from the client
	count   int
	skip    int
	choice  int // -1 unknown
	ev      Session
	emitted bool
	dead    bool
}

func newStream(_ *parser.Flow, em parser.Emitter, _ *parser.Env) parser.Stream {
	return &stream{em: em, choice: -1}
}

func (s *stream) anomaly(ts time.Time, dir parser.Direction, code string, length, limit int64) {
	s.em.Emit(ts, &parser.Anomaly{Source: "vnc", Code: code, Direction: dir.String(), Length: length, Limit: limit})
}

var typeNames = map[int]string{
	0: "invalid", 1: "none", 2: "vnc_auth", 5: "ra2", 6: "ra2ne", 16: "tight", 17: "ultra",
	18: "tls", 19: "vencrypt", 20: "sasl", 21: "md5", 22: "xvp", 30: "apple_ard",
}

func typeName(t int) string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return "type_" + strconv.Itoa(t)
}

// Feed implements parser.Stream.
func (s *stream) Feed(dir parser.Direction, data []byte, ts time.Time) {
	dir &= 1
	if s.dead || (s.ss == sDone && s.cs == 2) {
		return
	}
	if dir == parser.ToClient && s.skip > 0 {
		n := min(s.skip, len(data))
		s.skip -= n
		data = data[n:]
	}
	if len(s.pend[dir])+len(data) > MaxPending {
		data = data[:max(0, MaxPending-len(s.pend[dir]))]
	}
	s.pend[dir] = append(s.pend[dir], data...)
	for s.step(ts) {
	}
}

// take returns n bytes from a direction's pending bytes, or nil.
func (s *stream) take(dir parser.Direction, n int) []byte {
	p := s.pend[dir]
	if len(p) < n {
		return nil
	}
	out := p[:n]
	s.pend[dir] = p[n:]
	return out
}

func parseVersion(b []byte) (string, int) {
	v := string(b[4:11])
	minor, _ := strconv.Atoi(string(b[8:11]))
	return v, minor
}

// step makes one move on either side; false when neither can move.
func (s *stream) step(ts time.Time) bool {
	moved := false
	// Client side.
	switch s.cs {
	case 0:
		if b := s.take(parser.ToServer, versionLen); b != nil {
			if probe(parser.ToServer, b) != parser.Match {
				s.anomaly(ts, parser.ToServer, "bad_version", 0, 0)
				s.dead = true
				return false
			}
			s.ev.ClientVersion, s.minor = parseVersion(b)
			if s.ev.ClientVersion == "003.889" { // Apple Remote Desktop speaks 3.8
				s.minor = 8
			}
			s.cs = 1
			moved = true
		}
	case 1:
		if s.minor >= 7 && s.ss >= sAwaitChoice {
			if b := s.take(parser.ToServer, 1); b != nil {
				s.choice = int(b[0])
				s.ev.SecurityType = typeName(s.choice)
				s.ev.NoAuth = s.choice == 1
				s.cs = 2
				s.pend[parser.ToServer] = nil
				moved = true
			}
		} else if s.minor < 7 && s.minor != 0 {
			s.cs = 2
			s.pend[parser.ToServer] = nil
			moved = true
		}
	default:
		s.pend[parser.ToServer] = nil
	}
	// Server side.
	const sv = parser.ToClient
	switch s.ss {
	case sVersion:
		if b := s.take(sv, versionLen); b != nil {
			if probe(sv, b) != parser.Match {
				s.anomaly(ts, sv, "bad_version", 0, 0)
				s.dead = true
				return false
			}
			s.ev.ServerVersion, _ = parseVersion(b)
			s.ss = sTypeCount
			moved = true
		}
	case sTypeCount, sTypes33:
		if s.cs == 0 {
			break // the client's version decides the format
		}
		if s.minor < 7 {
			b := s.take(sv, 4)
			if b == nil {
				break
			}
			t := int(binary.BigEndian.Uint32(b))
			moved = true
			if t == 0 {
				s.ev.ConnectFailed = true
				s.ss = sReasonLen
				break
			}
			s.choice = t
			s.ev.SecurityTypes = []string{typeName(t)}
			s.ev.SecurityType = typeName(t)
			s.ev.NoAuth = t == 1
			s.afterChoice(ts)
			break
		}
		b := s.take(sv, 1)
		if b == nil {
			break
		}
		moved = true
		s.count = int(b[0])
		if s.count == 0 {
			s.ev.ConnectFailed = true
			s.ss = sReasonLen
			break
		}
		s.ss = sTypeList
	case sTypeList:
		b := s.take(sv, s.count)
		if b == nil {
			break
		}
		moved = true
		for _, t := range b {
			s.ev.SecurityTypes = append(s.ev.SecurityTypes, typeName(int(t)))
		}
		s.ss = sAwaitChoice
	case sAwaitChoice:
		if s.choice >= 0 {
			s.afterChoice(ts)
			moved = true
		}
	case sChallenge:
		if s.take(sv, 16) != nil {
			s.ss = sResult
			moved = true
		}
	case sResult:
		b := s.take(sv, 4)
		if b == nil {
			break
		}
		moved = true
		if binary.BigEndian.Uint32(b) == 0 {
			s.ev.Result = "ok"
			s.ss = sServerInit
		} else {
			s.ev.Result = "failed"
			s.emit(ts)
			s.ss = sDone
			if s.minor >= 8 {
				s.ss = sReasonLen
			}
		}
	case sReasonLen:
		b := s.take(sv, 4)
		if b == nil {
			break
		}
		n := int(binary.BigEndian.Uint32(b))
		if n > MaxReasonLen {
			s.anomaly(ts, sv, "bad_reason_length", int64(n), MaxReasonLen)
			s.ss = sDone
			s.emit(ts)
			break
		}
		drop := min(n, len(s.pend[sv]))
		s.pend[sv] = s.pend[sv][drop:]
		s.skip = n - drop
		s.ss = sDone
		s.emit(ts)
		moved = true
	case sServerInit:
		if b := s.take(sv, 4); b != nil {
			s.ev.Width = binary.BigEndian.Uint16(b)
			s.ev.Height = binary.BigEndian.Uint16(b[2:])
			s.ss = sDone
			s.emit(ts)
			moved = true
		}
	case sDone:
		s.pend[sv] = nil
	}
	return moved
}

// afterChoice sets the server state once the security type in use is known.
func (s *stream) afterChoice(ts time.Time) {
	switch {
	case s.choice == 2:
		s.ss = sChallenge
	case s.choice == 1 && s.minor >= 8:
		s.ss = sResult
	case s.choice == 1:
		s.ss = sServerInit
	default:
		// Type-specific exchange (TLS, VeNCrypt, ...): not followed.
		s.ss = sDone
		s.emit(ts)
	}
}

func (s *stream) emit(ts time.Time) {
	if s.emitted || (s.ev.ServerVersion == "" && s.ev.ClientVersion == "") {
		return
	}
	s.emitted = true
	ev := s.ev
	ev.Truncated = !(s.ev.Result != "" || s.ev.ConnectFailed || s.ss == sDone || s.ss == sServerInit)
	s.em.Emit(ts, &ev)
}

// Gap implements parser.Stream: the handshake cannot be followed past a
// gap.
func (s *stream) Gap(dir parser.Direction, missing int, ts time.Time) {
	if s.dead || (s.ss == sDone && s.cs == 2) {
		return
	}
	s.anomaly(ts, dir&1, "gap_in_handshake", int64(missing), 0)
	s.dead = true
}

// Close implements parser.Stream.
func (s *stream) Close(_ parser.CloseReason, ts time.Time) {
	s.emit(ts)
	s.pend = [2][]byte{}
}
