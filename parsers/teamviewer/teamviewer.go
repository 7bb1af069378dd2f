package teamviewer

import (
	"bytes"
	"encoding/hex"
	"time"

	"github.com/medtap/medtap/parsers/internal/lines"
	"github.com/medtap/medtap/parsers/parser"
)

// Limits.
const (
	// MaxLine bounds an HTTP line looked at (transport http); longer lines
	// are cut.
	MaxLine = 2048
)

// Factory is the registry entry of the TeamViewer parser.
var Factory = parser.Factory{
	Name:      "teamviewer",
	Transport: parser.TCP,
	Ports:     []uint16{5938},
	Probe:     probe,
	New:       newStream,
}

// magic reports whether b starts with a TeamViewer command header.
func magic(b []byte) bool {
	return len(b) >= 2 && ((b[0] == 0x17 && b[1] == 0x24) || (b[0] == 0x11 && b[1] == 0x30))
}

var httpPrefixes = [...]string{"GET /din.aspx?", "POST /dout.aspx?", "GET /dout.aspx?", "POST /din.aspx?"}

// isDynGate reports whether an HTTP request line is TeamViewer's.
func isDynGate(line []byte) bool {
	for _, p := range httpPrefixes {
		if bytes.HasPrefix(line, []byte(p)) {
			return true
		}
	}
	return false
}

// probe matches a first message with a TeamViewer command header, or an
// HTTP request for /din.aspx or /dout.aspx. Four bytes are asked for, so
// that a two-byte coincidence in a datagram-like first segment is not
// enough.
func probe(_ parser.Direction, b []byte) parser.Verdict {
	if len(b) >= 1 && (b[0] == 0x17 || b[0] == 0x11) {
		if len(b) < 2 {
			return parser.NeedMore
		}
		if !magic(b) {
			return parser.NoMatch
		}
		if len(b) < 4 {
			return parser.NeedMore
		}
		return parser.Match
	}
	need := false
	for _, p := range httpPrefixes {
		n := min(len(b), len(p))
		if string(b[:n]) == p[:n] {
			if n == len(p) {
				return parser.Match
			}
			need = true
		}
	}
	if need {
		return parser.NeedMore
	}
	return parser.NoMatch
}

type stream struct {
	em     parser.Emitter
	ev     Session
	first  [2][]byte // first two bytes of each side
	ln     [2]lines.Buf
	closed bool
}

func newStream(_ *parser.Flow, em parser.Emitter, _ *parser.Env) parser.Stream {
	s := &stream{em: em}
	s.ln[0].Max, s.ln[1].Max = MaxLine, MaxLine
	return s
}

// Feed implements parser.Stream.
func (s *stream) Feed(dir parser.Direction, data []byte, _ time.Time) {
	dir &= 1
	if n := 2 - len(s.first[dir]); n > 0 {
		s.first[dir] = append(s.first[dir], data[:min(n, len(data))]...)
	}
	if s.ev.Transport == "" && len(data) > 0 {
		s.ev.Transport = "http"
		if data[0] == 0x17 || data[0] == 0x11 {
			s.ev.Transport = "tcp"
		}
	}
	if s.ev.Transport != "http" {
		return
	}
	s.ln[dir].Feed(data, func(line []byte, _ bool) bool {
		if dir == parser.ToServer && isDynGate(line) {
			s.ev.Requests++
		}
		if dir == parser.ToClient && bytes.HasPrefix(line, []byte("HTTP/1.")) {
			s.ev.ServerAnswered = true
		}
		return true
	})
}

// Gap implements parser.Stream: nothing is reassembled beyond lines, so a
// gap only cuts the line in progress.
func (s *stream) Gap(dir parser.Direction, _ int, _ time.Time) { s.ln[dir&1].Reset() }

// Close implements parser.Stream.
func (s *stream) Close(_ parser.CloseReason, ts time.Time) {
	if s.closed {
		return
	}
	s.closed = true
	ev := s.ev
	if ev.Transport == "" {
		ev.Transport = "tcp"
	}
	if ev.Transport == "tcp" {
		if c := s.first[parser.ToServer]; len(c) == 2 {
			ev.ClientMagic = hex.EncodeToString(c)
		}
		if c := s.first[parser.ToClient]; len(c) == 2 {
			ev.ServerMagic = hex.EncodeToString(c)
			ev.ServerAnswered = magic(c)
		}
	}
	s.em.Emit(ts, &ev)
}
