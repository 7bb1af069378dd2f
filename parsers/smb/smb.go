package smb

import (
	"encoding/binary"
	"strconv"
	"time"

	"github.com/medtap/medtap/parsers/parser"
)

// Limits.
const (
	// MaxFrame is the largest NetBIOS session frame accepted (SMB2 allows
	// 8 MB plus header with large MTU); larger is frame_too_long and the
	// direction is given up.
	MaxFrame = 16 << 20
	// MaxKeep is how many first bytes of a message are kept for decoding:
	// a Negotiate request with every dialect and context fits.
	MaxKeep = 2048
	// MaxDialects bounds the dialects listed.
	MaxDialects = 32
	// maxDialectLen bounds one SMB1 dialect string.
	maxDialectLen = 32
)

// Factory is the registry entry of the SMB parser.
var Factory = parser.Factory{
	Name:      "smb",
	Transport: parser.TCP,
	Ports:     []uint16{445, 139},
	Probe:     probe,
	New:       newStream,
}

// probe matches a NetBIOS session message (type 0) whose payload starts
// with an SMB1 (0xFF 'SMB'), SMB2 (0xFE 'SMB') or SMB3 transform (0xFD
// 'SMB') header.
func probe(_ parser.Direction, b []byte) parser.Verdict {
	if len(b) >= 1 && b[0] != 0 {
		return parser.NoMatch
	}
	if len(b) < 8 {
		return parser.NeedMore
	}
	if n := int(b[1])<<16 | int(b[2])<<8 | int(b[3]); n < 4 || n > MaxFrame {
		return parser.NoMatch
	}
	if (b[4] != 0xFF && b[4] != 0xFE && b[4] != 0xFD) || string(b[5:8]) != "SMB" {
		return parser.NoMatch
	}
	return parser.Match
}

type dirState struct {
	hdr  [4]byte
	hdrN int
	left int    // bytes of the current frame still to come
	keep []byte // first bytes of the current frame
	dead bool
}

type stream struct {
	em      parser.Emitter
	d       [2]dirState
	ev      Negotiate
	smb1Idx bool // the SMB1 request was seen (dialect index maps into it)
	done    bool // the response was seen
	emitted bool
}

func newStream(_ *parser.Flow, em parser.Emitter, _ *parser.Env) parser.Stream {
	return &stream{em: em}
}

// Feed implements parser.Stream.
func (s *stream) Feed(dir parser.Direction, data []byte, ts time.Time) {
	dir &= 1
	d := &s.d[dir]
	for len(data) > 0 && !d.dead {
		if d.left == 0 && d.hdrN < 4 {
			n := copy(d.hdr[d.hdrN:], data)
			d.hdrN += n
			data = data[n:]
			if d.hdrN < 4 {
				return
			}
			l := int(d.hdr[1])<<16 | int(d.hdr[2])<<8 | int(d.hdr[3])
			if d.hdr[0] != 0 {
				// Other NetBIOS session packets (keep-alive 0x85, request
				// 0x81 ...) carry no SMB.
				if d.hdr[0] != 0x85 && d.hdr[0] != 0x81 && d.hdr[0] != 0x82 && d.hdr[0] != 0x83 {
					s.em.Emit(ts, &parser.Anomaly{Source: "smb", Code: "bad_netbios_type", Direction: dir.String(), Length: int64(d.hdr[0])})
					d.dead = true
					return
				}
			}
			if l > MaxFrame {
				s.em.Emit(ts, &parser.Anomaly{Source: "smb", Code: "frame_too_long", Direction: dir.String(), Length: int64(l), Limit: MaxFrame})
				d.dead = true
				return
			}
			d.left = l
			d.keep = d.keep[:0]
			if l == 0 {
				d.hdrN = 0
			}
			continue
		}
		n := min(d.left, len(data))
		if room := MaxKeep - len(d.keep); room > 0 && d.hdr[0] == 0 {
			d.keep = append(d.keep, data[:min(n, room)]...)
		}
		d.left -= n
		data = data[n:]
		if d.left == 0 {
			d.hdrN = 0
			if d.hdr[0] == 0 {
				s.message(dir, d.keep)
			}
		}
	}
}

// message decodes the kept start of one SMB message.
func (s *stream) message(dir parser.Direction, m []byte) {
	if len(m) < 4 || string(m[1:4]) != "SMB" {
		return
	}
	switch m[0] {
	case 0xFF:
		s.ev.SMB1Messages++
		s.smb1(dir, m)
	case 0xFE:
		s.ev.SMB2Messages++
		s.smb2(dir, m)
	case 0xFD:
		s.ev.Encrypted = true
		s.ev.SMB2Messages++
	}
}

// SMB1 header: 32 bytes; command at 4; flags at 9 (0x80 reply).
func (s *stream) smb1(dir parser.Direction, m []byte) {
	if len(m) < 33 {
		return
	}
	cmd := m[4]
	reply := m[9]&0x80 != 0
	if cmd != 0x72 {
		if s.done && !reply {
			s.ev.SMB1 = true
		}
		return
	}
	p := m[32:]
	wc := int(p[0])
	if !reply && dir == parser.ToServer {
		if len(p) < 3+2*wc {
			return
		}
		bc := int(binary.LittleEndian.Uint16(p[1+2*wc:]))
		b := p[3+2*wc:]
		b = b[:min(bc, len(b))]
		s.ev.SMB1Dialects = s.ev.SMB1Dialects[:0]
		for len(b) > 1 && b[0] == 0x02 && len(s.ev.SMB1Dialects) < MaxDialects {
			b = b[1:]
			end := 0
			for end < len(b) && b[end] != 0 {
				end++
			}
			s.ev.SMB1Dialects = append(s.ev.SMB1Dialects, parser.Printable(b[:min(end, maxDialectLen)]))
			if end < len(b) {
				end++
			}
			b = b[end:]
		}
		s.smb1Idx = true
		return
	}
	if reply && dir == parser.ToClient {
		if wc >= 1 && len(p) >= 3 {
			idx := int(binary.LittleEndian.Uint16(p[1:]))
			if idx < len(s.ev.SMB1Dialects) {
				s.ev.Dialect = s.ev.SMB1Dialects[idx]
				s.ev.SMB1 = true
			} else if idx == 0xFFFF {
				s.ev.Dialect = "none"
			}
			if wc >= 17 && len(p) >= 4 {
				s.ev.SigningRequired = p[3]&0x08 != 0
			}
		}
		s.done = true
	}
}

var dialectNames = map[uint16]string{
	0x0202: "2.0.2", 0x0210: "2.1", 0x0300: "3.0", 0x0302: "3.0.2", 0x0311: "3.1.1", 0x02FF: "2.???",
}

func dialectName(d uint16) string {
	if n, ok := dialectNames[d]; ok {
		return n
	}
	return "0x" + strconv.FormatUint(uint64(d), 16)
}

// SMB2 header: 64 bytes; command at 12; flags at 16 (0x1 server to
// redirector).
func (s *stream) smb2(dir parser.Direction, m []byte) {
	if len(m) < 64+8 {
		return
	}
	if binary.LittleEndian.Uint16(m[12:]) != 0 {
		return
	}
	reply := binary.LittleEndian.Uint32(m[16:])&1 != 0
	b := m[64:]
	if !reply && dir == parser.ToServer {
		if len(b) < 36 {
			return
		}
		n := int(binary.LittleEndian.Uint16(b[2:]))
		s.ev.SMB2Dialects = s.ev.SMB2Dialects[:0]
		for i := 0; i < n && 36+2*i+2 <= len(b) && i < MaxDialects; i++ {
			s.ev.SMB2Dialects = append(s.ev.SMB2Dialects, dialectName(binary.LittleEndian.Uint16(b[36+2*i:])))
		}
		return
	}
	if reply && dir == parser.ToClient {
		if binary.LittleEndian.Uint32(m[8:]) == 0 { // STATUS_SUCCESS
			s.ev.Dialect = dialectName(binary.LittleEndian.Uint16(b[4:]))
			s.ev.SigningRequired = binary.LittleEndian.Uint16(b[2:])&0x02 != 0
			if s.ev.Dialect != "2.???" {
				s.ev.SMB1 = false
			}
		}
		if s.ev.Dialect != "2.???" {
			s.done = true
		}
	}
}

func (s *stream) emit(ts time.Time) {
	if s.emitted || s.ev.SMB1Messages+s.ev.SMB2Messages == 0 {
		return
	}
	s.emitted = true
	ev := s.ev
	ev.SMB1Dialects = append([]string(nil), s.ev.SMB1Dialects...)
	ev.SMB2Dialects = append([]string(nil), s.ev.SMB2Dialects...)
	if len(ev.SMB1Dialects) == 0 {
		ev.SMB1Dialects = nil
	}
	if len(ev.SMB2Dialects) == 0 {
		ev.SMB2Dialects = nil
	}
	s.em.Emit(ts, &ev)
}

// Gap implements parser.Stream: the frame boundary is lost, so the
// direction is given up.
func (s *stream) Gap(dir parser.Direction, missing int, ts time.Time) {
	d := &s.d[dir&1]
	if !d.dead {
		d.dead = true
		s.em.Emit(ts, &parser.Anomaly{Source: "smb", Code: "gap", Direction: (dir & 1).String(), Length: int64(missing)})
	}
}

// Close implements parser.Stream: the one event goes out at the end of the
// flow, with the message counts.
func (s *stream) Close(_ parser.CloseReason, ts time.Time) {
	s.emit(ts)
}
