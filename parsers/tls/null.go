package tls

import (
	"time"

	"github.com/medtap/medtap/parsers/parser"
)

// plaintext hands NULL-cipher application data, MAC stripped, to the inner
// parser. Until one is found, each direction's first bytes (at most
// parser.MaxProbeBytes) are kept and offered to Env.ProbeInner; on Match the
// inner stream gets the kept bytes of this direction, then those of the
// other, then everything after.
func (s *stream) plaintext(dir parser.Direction, p []byte, ts time.Time) {
	if len(p) == 0 {
		return
	}
	if s.inner != nil {
		s.inner.Feed(dir, p, ts)
		return
	}
	if s.innerOff || s.env == nil || s.env.ProbeInner == nil {
		return
	}
	d := &s.d[dir]
	if d.probeNo {
		return
	}
	if d.probe == nil {
		d.probe = make([]byte, 0, parser.MaxProbeBytes)
	}
	n := min(parser.MaxProbeBytes-len(d.probe), len(p))
	d.probe = append(d.probe, p[:n]...)
	st, v := s.env.ProbeInner(dir, d.probe)
	if v == parser.Match && st != nil {
		s.inner = st
		mine, other := d.probe, s.d[dir^1].probe
		s.d[0].probe, s.d[1].probe = nil, nil
		st.Feed(dir, mine, ts)
		if len(other) > 0 {
			st.Feed(dir^1, other, ts)
		}
		if n < len(p) {
			st.Feed(dir, p[n:], ts)
		}
		return
	}
	if v == parser.NeedMore && len(d.probe) < parser.MaxProbeBytes {
		return
	}
	s.probeFailed(dir)
}

// probeFailed stops probing one direction; with both failed, none is tried.
func (s *stream) probeFailed(dir parser.Direction) {
	d := &s.d[dir]
	d.probeNo, d.probe = true, nil
	if s.d[dir^1].probeNo {
		s.innerOff = true
	}
}

// plainGap passes lost plaintext to the inner parser, or, while probing,
// gives up probing that direction (its first bytes have a hole).
func (s *stream) plainGap(dir parser.Direction, lost int, ts time.Time) {
	if s.inner != nil {
		s.inner.Gap(dir, lost, ts)
		return
	}
	if !s.innerOff && !s.d[dir].probeNo {
		s.probeFailed(dir)
	}
}
