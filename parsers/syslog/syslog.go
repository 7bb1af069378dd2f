package syslog

import (
	"bytes"
	"time"

	"github.com/medtap/medtap/parsers/internal/lines"
	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/textscan"
)

// Limits.
const (
	// MaxMessage is the longest message decoded; the rest is skipped and
	// the message marked truncated (RFC 5424 receivers must take 480
	// bytes, should take 2048; rsyslog's default is 8 KB).
	MaxMessage = 8192
	// MaxField bounds each header field kept.
	MaxField = 64
	// maxCountDigits bounds an octet count (MaxMessage and then some).
	maxCountDigits = 9
)

// Factory is the registry entry of the syslog parser.
var Factory = parser.Factory{
	Name:      "syslog",
	Transport: parser.TCP | parser.UDP,
	Ports:     []uint16{514, 601},
	Probe:     probe,
	New:       newStream,
}

// probe matches "<PRI>" (1 to 3 digits, at most 191) followed by a
// version digit and a space (RFC 5424), a letter (an RFC 3164 month) or a
// digit; or an octet count "N <PRI>" (RFC 6587).
func probe(_ parser.Direction, b []byte) parser.Verdict {
	if len(b) > 0 && b[0] >= '1' && b[0] <= '9' {
		i := 0
		for i < len(b) && i < maxCountDigits && isDigit(b[i]) {
			i++
		}
		if i == len(b) {
			return parser.NeedMore
		}
		if b[i] != ' ' {
			return parser.NoMatch
		}
		b = b[i+1:]
		if len(b) == 0 {
			return parser.NeedMore
		}
	}
	_, n, v := pri(b)
	if v != parser.Match {
		return v
	}
	if len(b) <= n {
		return parser.NeedMore
	}
	c := b[n]
	if isDigit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') {
		return parser.Match
	}
	return parser.NoMatch
}

// pri reads "<N>" at the start of b.
func pri(b []byte) (int, int, parser.Verdict) {
	if len(b) == 0 {
		return 0, 0, parser.NeedMore
	}
	if b[0] != '<' {
		return 0, 0, parser.NoMatch
	}
	v := 0
	for i := 1; i < len(b); i++ {
		c := b[i]
		if c == '>' {
			if i == 1 || v > 191 {
				return 0, 0, parser.NoMatch
			}
			return v, i + 1, parser.Match
		}
		if !isDigit(c) || i > 3 {
			return 0, 0, parser.NoMatch
		}
		v = v*10 + int(c-'0')
	}
	return 0, 0, parser.NeedMore
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

type framing uint8

const (
	frUnknown framing = iota
	frCount
	frLine
)

type dirState struct {
	fr    framing
	count int  // octet count being read (frCount, before the space)
	inMsg bool // reading a counted message
	left  int
	total int
	buf   []byte
	long  bool
	ln    lines.Buf
	dead  bool
}

type stream struct {
	em   parser.Emitter
	udp  bool
	d    [2]dirState
	scan textscan.Collector
}

func newStream(f *parser.Flow, em parser.Emitter, _ *parser.Env) parser.Stream {
	s := &stream{em: em, udp: f.Proto == 17}
	s.d[0].ln.Max, s.d[1].ln.Max = MaxMessage, MaxMessage
	return s
}

// Feed implements parser.Stream.
func (s *stream) Feed(dir parser.Direction, data []byte, ts time.Time) {
	dir &= 1
	if s.udp {
		m := data
		if len(m) > MaxMessage {
			m = m[:MaxMessage]
		}
		s.message(dir, "udp", m, len(data), len(data) > MaxMessage, ts)
		return
	}
	d := &s.d[dir]
	for len(data) > 0 && !d.dead {
		if d.fr == frUnknown {
			if isDigit(data[0]) {
				d.fr = frCount
			} else {
				d.fr = frLine
			}
		}
		if d.fr == frLine {
			d.ln.Feed(data, func(line []byte, long bool) bool {
				if len(line) > 0 {
					s.message(dir, "non_transparent", line, len(line), long, ts)
				}
				return true
			})
			return
		}
		if !d.inMsg {
			c := data[0]
			data = data[1:]
			switch {
			case isDigit(c) && d.count < 1e8:
				d.count = d.count*10 + int(c-'0')
			case c == ' ' && d.count > 0:
				d.inMsg, d.left, d.total, d.buf, d.long = true, d.count, d.count, d.buf[:0], d.count > MaxMessage
				d.count = 0
			case c == '\n' && d.count == 0:
				// A stray newline between counted messages.
			default:
				s.em.Emit(ts, &parser.Anomaly{Source: "syslog", Code: "bad_octet_count", Direction: dir.String()})
				d.dead = true
				return
			}
			continue
		}
		n := min(d.left, len(data))
		if room := MaxMessage - len(d.buf); room > 0 {
			d.buf = append(d.buf, data[:min(n, room)]...)
		}
		d.left -= n
		data = data[n:]
		if d.left == 0 {
			d.inMsg = false
			s.message(dir, "octet_counting", d.buf, d.total, d.long, ts)
		}
	}
}

// message decodes one message and emits it.
func (s *stream) message(dir parser.Direction, fr string, b []byte, size int, long bool, ts time.Time) {
	m := &Message{Direction: dir.String(), Framing: fr, Bytes: size, Truncated: long}
	p, n, v := pri(b)
	rest := b
	if v == parser.Match {
		fac, sev := p>>3, p&7
		m.Facility, m.Severity = &fac, &sev
		rest = b[n:]
		if len(rest) >= 2 && isDigit(rest[0]) && (rest[1] == ' ' || (isDigit(rest[1]) && len(rest) > 2 && rest[2] == ' ')) {
			m.Format = "rfc5424"
			rest = rfc5424(rest, m)
		} else {
			m.Format = "rfc3164"
			rest = rfc3164(rest, m)
		}
	} else {
		m.Format = "bare"
	}
	s.scan.Reset()
	s.scan.Scan("msg", rest)
	m.PHI, m.PHIValues = s.scan.Take()
	m.PHICategories = m.PHI.Categories()
	s.em.Emit(ts, m)
}

// field splits off the next space-delimited token.
func field(b []byte) ([]byte, []byte) {
	if i := bytes.IndexByte(b, ' '); i >= 0 {
		return b[:i], b[i+1:]
	}
	return b, nil
}

func keep(b []byte) string {
	if len(b) == 1 && b[0] == '-' {
		return ""
	}
	if len(b) > MaxField {
		b = b[:MaxField]
	}
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x21 || c > 0x7e {
			c = '?'
		}
		out[i] = c
	}
	return string(out)
}

// rfc5424 reads VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD and
// returns the MSG.
func rfc5424(b []byte, m *Message) []byte {
	var f []byte
	_, b = field(b) // version
	f, b = field(b)
	m.Timestamp = keep(f)
	f, b = field(b)
	m.Hostname = keep(f)
	f, b = field(b)
	m.AppName = keep(f)
	f, b = field(b)
	m.ProcID = keep(f)
	f, b = field(b)
	m.MsgID = keep(f)
	if len(b) > 0 && b[0] == '[' {
		m.StructuredData = true
		// SD elements: skip to the "] " that ends the last one, minding
		// escaped brackets and quoted values.
		inQ := false
		i := 0
		for ; i < len(b); i++ {
			c := b[i]
			switch {
			case c == '\\' && inQ:
				i++
			case c == '"':
				inQ = !inQ
			case c == ']' && !inQ && (i+1 == len(b) || b[i+1] == ' '):
				if i+1 == len(b) || b[i+1] != '[' {
					return b[min(len(b), i+2):]
				}
			}
		}
		return nil
	}
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
		if len(b) > 0 && b[0] == ' ' {
			b = b[1:]
		}
	}
	return b
}

// rfc3164 reads "Mmm dd hh:mm:ss HOSTNAME TAG[pid]: " when present and
// returns the MSG.
func rfc3164(b []byte, m *Message) []byte {
	if len(b) >= 16 && b[3] == ' ' && b[6] == ' ' && b[9] == ':' && b[12] == ':' && b[15] == ' ' {
		m.Timestamp = string(bytes.Map(func(r rune) rune {
			if r < 0x20 || r > 0x7e {
				return '?'
			}
			return r
		}, b[:15]))
		b = b[16:]
		// HOSTNAME, unless the next token is already the TAG.
		tok, rest := field(b)
		if len(tok) > 0 && !bytes.ContainsAny(tok, ":[") {
			m.Hostname = keep(tok)
			b = rest
		}
	}
	// TAG: alphanumerics up to '[', ':' or space.
	i := 0
	for i < len(b) && i < 48 && b[i] != '[' && b[i] != ':' && b[i] != ' ' {
		i++
	}
	if i > 0 && i < len(b) && (b[i] == '[' || b[i] == ':') {
		m.AppName = keep(b[:i])
		b = b[i:]
		if b[0] == '[' {
			if j := bytes.IndexByte(b, ']'); j > 0 {
				m.ProcID = keep(b[1:j])
				b = b[j+1:]
			}
		}
		if len(b) > 0 && b[0] == ':' {
			b = b[1:]
		}
		if len(b) > 0 && b[0] == ' ' {
			b = b[1:]
		}
	}
	return b
}

// Gap implements parser.Stream: framing is lost on TCP; the direction is
// given up.
func (s *stream) Gap(dir parser.Direction, missing int, ts time.Time) {
	d := &s.d[dir&1]
	if !d.dead {
		d.dead = true
		s.em.Emit(ts, &parser.Anomaly{Source: "syslog", Code: "gap", Direction: (dir & 1).String(), Length: int64(missing)})
	}
}

// Close implements parser.Stream: a last newline-framed message without
// its newline is decoded.
func (s *stream) Close(_ parser.CloseReason, ts time.Time) {
	for dir := range s.d {
		d := &s.d[dir]
		if d.fr == frLine && !d.dead && len(d.ln.Pending()) > 0 {
			p := d.ln.Pending()
			s.message(parser.Direction(dir), "non_transparent", p, len(p), false, ts)
			d.ln.Reset()
		}
	}
}
