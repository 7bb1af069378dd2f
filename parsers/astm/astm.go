package astm

import (
	"time"

	"github.com/medtap/medtap/parsers/parser"
)

// E1381 (CLSI LIS1-A) control characters.
const (
	stx = 0x02 // start of frame
	etx = 0x03 // end of the last frame of a low-level message
	eot = 0x04 // end of transmission: the sender gives the link back
	enq = 0x05 // enquiry: the sender asks for the link
	ack = 0x06 // receiver accepts
	nak = 0x15 // receiver rejects (frame) or refuses (ENQ)
	etb = 0x17 // end of an intermediate frame
	cr  = '\r'
	lf  = '\n'
)

// Limits. A stream keeps at most one frame's text (MaxFrameLen), one held
// frame, and one record (MaxRecordLen) per direction.
const (
	// MaxFrameLen is the longest frame text accepted. E1381 frames carry
	// at most 240 text characters, but analyzers in the field send longer
	// ones; a frame over this is dropped (frame_too_long) and the framer
	// resynchronises on the next STX, ENQ or EOT.
	MaxFrameLen = 64 << 10
	// MaxRecordLen is how much of one record is kept; the rest is skipped
	// (record_too_long) and the kept part decoded.
	MaxRecordLen = 64 << 10
	// MaxMessageLen is the longest message decoded; the rest is skipped in
	// sync (message_too_large) and the event says truncated.
	MaxMessageLen = 16 << 20
	// MaxRecords is the most records one message may have
	// (too_many_records); the rest are skipped.
	MaxRecords = 100000
	// MaxFields is the most fields of one record looked at; the rest are
	// ignored. Silent.
	MaxFields = 64
	// MaxPHIValues, MaxPHIFields and MaxValueLen bound what a message
	// keeps. Silent: categories are always complete.
	MaxPHIValues = 64
	MaxPHIFields = 32
	MaxValueLen  = 256
)

// Factory is the registry entry of the ASTM E1381/E1394 parser.
var Factory = parser.Factory{
	Name:      "astm",
	Transport: parser.TCP,
	// No port is standard: each analyzer and middleware is configured
	// with its own. Probing by content decides.
	Probe: probe,
	// Analyzer links stay connected and idle between runs.
	IdleTimeout: time.Hour,
	KeepWhole:   true,
	New:         newStream,
}

// probe matches the start of an E1381 transfer (ENQ, then a first frame
// STX, frame number, "H" and a delimiter), a first frame without the ENQ
// (a flow picked up after it), or bare E1394 records starting with a header
// "H" and four distinct delimiters ("H|\^&"). An ENQ alone asks for more:
// the sender waits for the receiver's ACK before its first frame. It
// decides on the first wrong byte and does not allocate.
func probe(_ parser.Direction, b []byte) parser.Verdict {
	if len(b) == 0 {
		return parser.NeedMore
	}
	switch b[0] {
	case enq:
		if len(b) == 1 {
			return parser.NeedMore
		}
		return probeFrame(b[1:])
	case stx:
		return probeFrame(b)
	case 'H':
		return probeHeader(b)
	}
	return parser.NoMatch
}

// probeFrame checks STX, a frame number and the start of a header record.
func probeFrame(b []byte) parser.Verdict {
	if b[0] != stx {
		return parser.NoMatch
	}
	if len(b) >= 2 && (b[1] < '0' || b[1] > '7') {
		return parser.NoMatch
	}
	if len(b) < 3 {
		return parser.NeedMore
	}
	return probeHeader(b[2:])
}

// probeHeader checks "H" and the delimiter definition: field, repeat,
// component and escape delimiters, distinct punctuation.
func probeHeader(b []byte) parser.Verdict {
	if b[0] != 'H' {
		return parser.NoMatch
	}
	for i := 1; i < len(b) && i <= 4; i++ {
		if !delimByte(b[i]) {
			return parser.NoMatch
		}
		for j := 1; j < i; j++ {
			if b[j] == b[i] {
				return parser.NoMatch
			}
		}
	}
	if len(b) < 5 {
		return parser.NeedMore
	}
	return parser.Match
}

// delimByte reports whether c may be a delimiter: printable ASCII,
// neither letter nor digit nor space.
func delimByte(c byte) bool {
	return c > ' ' && c < 0x7f && !(c >= '0' && c <= '9') && !(c >= 'A' && c <= 'Z') && !(c >= 'a' && c <= 'z')
}

func newStream(_ *parser.Flow, em parser.Emitter, _ *parser.Env) parser.Stream {
	s := &stream{em: em}
	for i := range s.d {
		s.d[i].dir = parser.Direction(i)
		s.d[i].lastFN = -1
	}
	return s
}

type dirMode uint8

const (
	modeStart dirMode = iota
	modeE1381
	modeBare
)

// lowState is where the E1381 framer is.
type lowState uint8

const (
	lsIdle lowState = iota // between frames: ENQ, STX, EOT, ACK, NAK expected
	lsFN                   // after STX: the frame number
	lsText                 // frame text up to ETB or ETX
	lsCk1                  // first checksum character
	lsCk2                  // second checksum character
	lsCR                   // CR after the checksum
	lsLF                   // LF after the CR
)

// stream is one flow's ASTM parser; it serves both directions.
type stream struct {
	em parser.Emitter
	d  [2]dirState
	textState
}

// dirState is one direction's framer, record assembler and message.
type dirState struct {
	dir  parser.Direction
	mode dirMode
	off  int64

	// E1381 framer.
	ls        lowState
	frame     []byte // current frame's text
	fn        byte   // current frame's number character
	sum       byte   // running checksum: frame number, text, ETB/ETX
	ck        byte   // checksum received, first nibble
	bad       bool   // current frame's checksum did not match
	over      bool   // current frame exceeded MaxFrameLen
	lastFN    int    // last accepted frame number, -1 none
	held      []byte // a frame with a bad checksum, awaiting its retransmission
	heldFN    byte
	holding   bool
	notedSeq  bool // bad_frame_number emitted this session
	notedSum  bool // bad_checksum emitted this session
	notedJunk bool

	// Bare framing.
	resync bool // after a gap: skip to the next record terminator
	quiet  bool // after a gap: records outside a message are expected

	// Records.
	rec         []byte
	recOver     bool
	notedOrphan bool
	pre         counters // low-level counts seen before the message's H

	m msgBuild
}

type counters struct{ frames, checksumErrors, retransmissions, naks int }

// cnt gives the counters the low level adds to now: the message being read,
// else the ones kept for the next.
func (d *dirState) cnt() *counters {
	if d.m.active {
		return &d.m.c
	}
	return &d.pre
}

// Feed implements parser.Stream.
func (s *stream) Feed(dir parser.Direction, data []byte, ts time.Time) {
	d := &s.d[dir&1]
	if d.mode == modeStart && len(data) > 0 {
		d.mode = modeE1381
		if data[0] == 'H' {
			d.mode = modeBare
		}
	}
	if d.mode == modeBare {
		s.bare(d, data, ts)
		return
	}
	for i := 0; i < len(data); {
		c := data[i]
		switch d.ls {
		case lsText:
			// Run of frame text.
			j := i
			for j < len(data) && data[j] != etx && data[j] != etb && data[j] != stx && data[j] != enq && data[j] != eot {
				j++
			}
			if j > i {
				d.frameText(data[i:j])
				d.off += int64(j - i)
				i = j
				continue
			}
			switch c {
			case etx, etb:
				d.sum += c
				d.ls = lsCk1
			default: // STX, ENQ, EOT inside a frame
				s.anomaly(ts, d, "missing_frame_end", d.off, 0, 0)
				d.ls = lsIdle
				continue // the byte is read again in lsIdle
			}
		case lsFN:
			if c < '0' || c > '7' {
				s.anomaly(ts, d, "bad_frame", d.off, 0, 0)
				d.ls = lsIdle
				continue
			}
			d.fn, d.sum, d.ls = c, c, lsText
		case lsCk1, lsCk2:
			v, ok := unhex(c)
			if !ok {
				d.bad = true
				s.frameDone(d, ts)
				d.ls = lsIdle
				continue
			}
			if d.ls == lsCk1 {
				d.ck, d.ls = v<<4, lsCk2
			} else {
				d.bad = d.ck|v != d.sum
				d.ls = lsCR
				s.frameDone(d, ts)
			}
		case lsCR, lsLF:
			if (d.ls == lsCR && c == cr) || (d.ls == lsLF && c == lf) {
				d.ls++
				if d.ls > lsLF {
					d.ls = lsIdle
				}
				break
			}
			d.ls = lsIdle
			continue
		default: // lsIdle
			s.idle(d, c, ts)
		}
		d.off++
		i++
	}
}

// idle handles a byte between frames.
func (s *stream) idle(d *dirState, c byte, ts time.Time) {
	switch c {
	case stx:
		d.ls, d.frame, d.bad, d.over = lsFN, d.frame[:0], false, false
	case enq:
		// A new session: frame numbers restart at 1.
		s.flushHeld(d, ts)
		d.lastFN, d.notedSeq, d.notedSum = 0, false, false
	case eot:
		s.flushHeld(d, ts)
		s.endRecord(d, ts)
		if d.m.active {
			d.m.truncated = true
			s.anomaly(ts, d, "missing_terminator", d.off, 0, 0)
			s.endMessage(d, ts)
		}
		d.lastFN = -1
	case ack:
	case nak:
		o := &s.d[d.dir^1]
		o.cnt().naks++
	case cr, lf:
	default:
		if !d.notedJunk {
			d.notedJunk = true
			s.anomaly(ts, d, "data_outside_frame", d.off, 0, 0)
		}
	}
}

func (d *dirState) frameText(b []byte) {
	for _, c := range b {
		d.sum += c
	}
	if d.over {
		return
	}
	if len(d.frame)+len(b) > MaxFrameLen {
		d.over = true
		return
	}
	if d.frame == nil {
		d.frame = make([]byte, 0, 256)
	}
	d.frame = append(d.frame, b...)
}

// frameDone acts on a complete frame: checksum, numbering, retransmission,
// then its text goes to the record layer.
func (s *stream) frameDone(d *dirState, ts time.Time) {
	if d.over {
		s.anomaly(ts, d, "frame_too_long", d.off, int64(len(d.frame)), MaxFrameLen)
		return
	}
	fn := int(d.fn - '0')
	if d.holding {
		d.holding = false
		if d.heldFN == d.fn {
			d.cnt().retransmissions++
		} else {
			s.acceptFrame(d, d.held, int(d.heldFN-'0'), ts)
		}
	}
	if d.bad {
		d.cnt().checksumErrors++
		if !d.notedSum {
			d.notedSum = true
			s.anomaly(ts, d, "bad_checksum", d.off, 0, 0)
		}
		// Held until the next frame shows whether the receiver asked for
		// it again (same number) or took it (next number).
		d.held = append(d.held[:0], d.frame...)
		d.heldFN, d.holding = d.fn, true
		return
	}
	if fn == d.lastFN {
		// Sent again after a lost ACK.
		d.cnt().retransmissions++
		return
	}
	s.acceptFrame(d, d.frame, fn, ts)
}

// flushHeld accepts a held frame nothing retransmitted.
func (s *stream) flushHeld(d *dirState, ts time.Time) {
	if d.holding {
		d.holding = false
		s.acceptFrame(d, d.held, int(d.heldFN-'0'), ts)
	}
}

func (s *stream) acceptFrame(d *dirState, text []byte, fn int, ts time.Time) {
	if d.lastFN >= 0 && fn != (d.lastFN+1)%8 && !d.notedSeq {
		d.notedSeq = true
		s.anomaly(ts, d, "bad_frame_number", d.off, int64(fn), 0)
	}
	d.lastFN = fn
	if len(d.rec) == 0 && len(text) > 1 && text[0] == 'H' && delimByte(text[1]) && d.m.active {
		// A header starts a new message: the frame counts toward it.
		d.m.truncated = true
		s.anomaly(ts, d, "missing_terminator", d.off, 0, 0)
		s.endMessage(d, ts)
	}
	d.cnt().frames++
	s.text(d, text, ts)
}

// bare reads records straight from the stream.
func (s *stream) bare(d *dirState, data []byte, ts time.Time) {
	if d.resync {
		i := 0
		for i < len(data) && data[i] != cr && data[i] != lf {
			i++
		}
		if i == len(data) {
			d.off += int64(i)
			return
		}
		d.resync = false
		d.off += int64(i + 1)
		data = data[i+1:]
	}
	s.text(d, data, ts)
}

// Gap implements parser.Stream: the message being read ends truncated and
// the direction resynchronises on the next frame (E1381) or record (bare).
func (s *stream) Gap(dir parser.Direction, missing int, ts time.Time) {
	d := &s.d[dir&1]
	d.rec, d.recOver = d.rec[:0], false
	d.holding = false
	if d.m.active {
		d.m.truncated = true
		s.endMessage(d, ts)
	}
	d.off += int64(missing)
	d.quiet = true
	switch d.mode {
	case modeBare:
		d.resync = true
	default:
		d.mode, d.ls, d.lastFN = modeE1381, lsIdle, -1
	}
}

// Close implements parser.Stream: a held frame is taken, the last record
// and message end.
func (s *stream) Close(_ parser.CloseReason, ts time.Time) {
	for i := range s.d {
		d := &s.d[i]
		s.flushHeld(d, ts)
		s.endRecord(d, ts)
		if d.m.active {
			d.m.truncated = true
			s.anomaly(ts, d, "missing_terminator", d.off, 0, 0)
			s.endMessage(d, ts)
		}
	}
}

func (s *stream) anomaly(ts time.Time, d *dirState, code string, off, length, limit int64) {
	s.em.Emit(ts, &parser.Anomaly{Source: "astm", Code: code, Direction: d.dir.String(), Offset: off, Length: length, Limit: limit})
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
