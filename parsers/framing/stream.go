package framing

import (
	"slices"
	"time"

	"github.com/medtap/medtap/parsers/parser"
)

// Anomaly codes (source: the protocol's name).
type anomCode uint8

const (
	codeFrameTooLong anomCode = iota
	codeBadLength
	codeBadSync
	codeBadChecksum
	codeFrameTooShort
	codeDataOutsideFrame
	codeMissingFrameEnd
	codeTruncatedFrame
	codeSyncLost
	codeDataBeforeAuth
	numCodes
)

var codeNames = [numCodes]string{
	codeFrameTooLong:     "frame_too_long",
	codeBadLength:        "bad_length",
	codeBadSync:          "bad_sync",
	codeBadChecksum:      "bad_checksum",
	codeFrameTooShort:    "frame_too_short",
	codeDataOutsideFrame: "data_outside_frame",
	codeMissingFrameEnd:  "missing_frame_end",
	codeTruncatedFrame:   "truncated_frame",
	codeSyncLost:         "sync_lost",
	codeDataBeforeAuth:   "data_before_authentication",
}

// factory builds the registry entry of a compiled definition.
func (d *def) factory() parser.Factory {
	return parser.Factory{
		Name:        d.name,
		Transport:   d.transport,
		Ports:       slices.Clone(d.ports),
		Probe:       d.probe,
		IdleTimeout: d.idle,
		KeepWhole:   true,
		New: func(f *parser.Flow, em parser.Emitter, _ *parser.Env) parser.Stream {
			return newStream(d, f, em)
		},
	}
}

// Delimited framing states.
const (
	dsOutside uint8 = iota // between frames, looking for the start delimiter
	dsInside               // inside a frame (or, without a start delimiter, at or in one)
	dsTrailer              // after the end delimiter, reading the trailer
	dsSeekEnd              // after a gap without a start delimiter: skipping to the next end
)

// dirState is one direction's framing state.
type dirState struct {
	dir   parser.Direction
	off   int64  // stream offset of the next byte
	buf   []byte // the frame being assembled (unescaped), at most maxFrame bytes
	start int64  // stream offset of the current frame's first byte

	// counted framings (length_prefixed, tlv, fixed)
	need   int   // the frame's length once its header was read; 0 before
	skip   int64 // bytes still to skip: the rest of an oversized or gap-cut frame
	resync bool  // looking for a plausible header after an error or a gap
	dead   bool  // sync lost for good: the rest of the direction is skipped
	base   int64 // fixed: the stream offset frames are aligned to

	// delimited framing
	st       uint8
	inFrame  bool   // a frame has begun (its first byte seen)
	esc      bool   // the escape byte was seen
	tail     uint64 // the last bytes eligible for a delimiter, newest lowest
	tailN    int
	trail    int  // trailer bytes still to read
	over     bool // the frame outgrew maxFrame: read on without buffering
	discard  bool // reading a trailer after skipping to an end delimiter
	afterGap bool // bytes outside frames follow a gap: expected, not an anomaly
	endLen   int  // the matched end delimiter's length
	gapFrom  int64
	idleN    int64 // idle bytes since gapFrom
}

// stream is one flow's parser for one definition; it serves both directions.
type stream struct {
	d    *def
	em   parser.Emitter
	udp  bool
	dirs [2]dirState

	frames, bytes            [2]int64
	ckErrs, oversized, trunc int64
	skipped, gaps, nAnom     int64
	syncLost                 bool
	auth, dataBefore         bool
	codeCount                [numCodes]uint8
	ident                    Identity
	cats                     uint16
	cmds                     []CommandCount
}

func newStream(d *def, f *parser.Flow, em parser.Emitter) *stream {
	s := &stream{d: d, em: em, udp: f != nil && f.Proto == 17}
	for i := range s.dirs {
		s.dirs[i].dir = parser.Direction(i)
	}
	return s
}

// Feed implements parser.Stream.
func (s *stream) Feed(dir parser.Direction, data []byte, ts time.Time) {
	ds := &s.dirs[dir&1]
	if s.udp {
		s.resetDatagram(ds)
	}
	if s.d.kind == kindDelim {
		s.feedDelim(ds, data, ts)
	} else {
		s.feedCounted(ds, data, ts)
	}
	if s.udp {
		s.endDatagram(ds, ts)
	}
}

// Gap implements parser.Stream.
func (s *stream) Gap(dir parser.Direction, missing int, ts time.Time) {
	if missing <= 0 {
		return
	}
	s.gaps++
	ds := &s.dirs[dir&1]
	if s.d.kind == kindDelim {
		s.gapDelim(ds, int64(missing), ts)
	} else {
		s.gapCounted(ds, int64(missing), ts)
	}
}

// Close implements parser.Stream.
func (s *stream) Close(reason parser.CloseReason, ts time.Time) {
	for i := range s.dirs {
		s.endOfData(&s.dirs[i], ts)
	}
	ev := &Session{
		Kind: "session", Protocol: s.d.name, Close: reason.String(),
		FramesToServer: s.frames[0], FramesToClient: s.frames[1],
		BytesToServer: s.bytes[0], BytesToClient: s.bytes[1],
		ChecksumErrors: s.ckErrs, OversizedFrames: s.oversized, TruncatedFrames: s.trunc,
		SkippedBytes: s.skipped, Gaps: s.gaps, SyncLost: s.syncLost, Anomalies: s.nAnom,
		DataBeforeAuthentication: s.dataBefore,
		Commands:                 s.cmds,
		PHICategories:            catList(s.cats),
	}
	if s.d.hs != nil {
		a := s.auth
		ev.Authenticated = &a
	}
	if !s.ident.empty() {
		id := s.ident
		ev.Identity = &id
	}
	s.em.Emit(ts, ev)
}

// endOfData ends a direction's data (the flow closed, or a datagram
// ended): a frame in progress is truncated, bytes outside frames are
// accounted.
func (s *stream) endOfData(ds *dirState, ts time.Time) {
	if s.d.kind == kindDelim {
		s.stopDelim(ds, ts)
		return
	}
	if len(ds.buf) > 0 && !ds.resync && !ds.dead {
		s.truncated(ds, ts)
	}
	ds.buf, ds.need = ds.buf[:0], 0
}

func (s *stream) truncated(ds *dirState, ts time.Time) {
	s.trunc++
	s.anomaly(ds, codeTruncatedFrame, ds.start, ds.off-ds.start, 0, ts)
}

// resetDatagram starts a datagram's framing afresh: every datagram begins
// with a frame.
func (s *stream) resetDatagram(ds *dirState) {
	ds.dead, ds.resync, ds.skip, ds.need = false, false, 0, 0
	ds.buf = ds.buf[:0]
	ds.base = ds.off
	ds.gapFrom, ds.idleN = ds.off, 0
}

func (s *stream) endDatagram(ds *dirState, ts time.Time) {
	if ds.skip > 0 {
		ds.skip = 0
	}
	s.endOfData(ds, ts)
}

// anomaly emits one anomaly, at most MaxAnomaliesPerCode per code and flow;
// all are counted.
func (s *stream) anomaly(ds *dirState, c anomCode, off, length, limit int64, ts time.Time) {
	s.nAnom++
	if s.codeCount[c] >= MaxAnomaliesPerCode {
		return
	}
	s.codeCount[c]++
	s.em.Emit(ts, &parser.Anomaly{Source: s.d.name, Code: codeNames[c], Direction: ds.dir.String(), Offset: off, Length: length, Limit: limit})
}

// grow makes room for n bytes in ds.buf (n at most maxFrame).
func (s *stream) grow(ds *dirState, n int) {
	if cap(ds.buf) >= n {
		return
	}
	c := min(max(n, 2*cap(ds.buf), 64), max(s.d.maxFrame, n))
	nb := make([]byte, len(ds.buf), c)
	copy(nb, ds.buf)
	ds.buf = nb
}

// ---- counted framings: length_prefixed, tlv, fixed ----

type hdrStatus uint8

const (
	hdrShort hdrStatus = iota // fewer than hdrNeed bytes
	hdrOK
	hdrBadSync
	hdrBadLength
)

// header checks a counted frame's header at the start of b and returns the
// frame's length (possibly above maxFrame). It does not allocate.
func (d *def) header(b []byte) (int, hdrStatus) {
	if len(b) < d.hdrNeed {
		return 0, hdrShort
	}
	if len(d.sync) > 0 && string(b[d.syncOff:d.syncOff+len(d.sync)]) != string(d.sync) {
		return 0, hdrBadSync
	}
	if d.kind == kindFixed {
		return d.fixed, hdrOK
	}
	v := readUint(b[d.lenOff:d.lenOff+d.lenSize], d.lenBig)
	if v > 1<<40 {
		v = 1 << 40
	}
	total := int64(v) + int64(d.adjust)
	if !d.inclHdr {
		total += int64(d.lenOff + d.lenSize)
	}
	if total < int64(d.hdrNeed) || total < 1 {
		return 0, hdrBadLength
	}
	return int(total), hdrOK
}

func (s *stream) feedCounted(ds *dirState, data []byte, ts time.Time) {
	d := s.d
	for len(data) > 0 {
		if ds.dead {
			s.skipped += int64(len(data))
			ds.off += int64(len(data))
			return
		}
		if ds.skip > 0 {
			n := min(int64(len(data)), ds.skip)
			ds.skip -= n
			ds.off += n
			data = data[n:]
			continue
		}
		// Fast path: nothing buffered and a whole frame in data.
		if len(ds.buf) == 0 && !ds.resync {
			if total, st := d.header(data); st == hdrOK && total <= len(data) && total <= d.maxFrame {
				ds.start = ds.off
				s.frame(ds, data[:total], int64(total), ts)
				ds.off += int64(total)
				data = data[total:]
				continue
			}
		}
		if len(ds.buf) == 0 {
			ds.start = ds.off
		}
		if ds.need == 0 {
			n := min(d.hdrNeed-len(ds.buf), len(data))
			if n > 0 {
				s.grow(ds, d.hdrNeed)
				ds.buf = append(ds.buf, data[:n]...)
				ds.off += int64(n)
				data = data[n:]
			}
			total, st := d.header(ds.buf)
			switch st {
			case hdrShort:
				return
			case hdrBadSync, hdrBadLength:
				s.badHeader(ds, st, ts)
				continue
			}
			if ds.resync {
				if total > d.maxFrame {
					// A guess whose length is out of bounds: keep looking.
					s.badHeader(ds, hdrBadLength, ts)
					continue
				}
				ds.resync = false
				ds.base = ds.start
			}
			if total > d.maxFrame {
				s.oversized++
				s.anomaly(ds, codeFrameTooLong, ds.start, int64(total), int64(d.maxFrame), ts)
				ds.skip = int64(total - len(ds.buf))
				ds.buf = ds.buf[:0]
				continue
			}
			ds.need = total
		}
		n := min(ds.need-len(ds.buf), len(data))
		s.grow(ds, len(ds.buf)+n) // as the bytes arrive, never what the header declares
		ds.buf = append(ds.buf, data[:n]...)
		ds.off += int64(n)
		data = data[n:]
		if len(ds.buf) == ds.need {
			s.frame(ds, ds.buf, int64(ds.need), ts)
			ds.buf, ds.need = ds.buf[:0], 0
		}
	}
}

// badHeader handles a header whose sync bytes or length are wrong: with
// sync bytes the direction slides to the next place they could start;
// without, the frame boundaries are lost for good.
func (s *stream) badHeader(ds *dirState, st hdrStatus, ts time.Time) {
	d := s.d
	if !ds.resync {
		c := codeBadLength
		if st == hdrBadSync {
			c = codeBadSync
		}
		s.anomaly(ds, c, ds.start, 0, 0, ts)
		if len(d.sync) == 0 {
			s.loseSync(ds, ts)
			return
		}
		ds.resync = true
	}
	// Drop at least one byte, then up to where the sync bytes could start.
	p := 1
	for ; p < len(ds.buf); p++ {
		if s.syncFits(ds.buf[p:]) {
			break
		}
	}
	p = min(p, len(ds.buf))
	s.skipped += int64(p)
	n := copy(ds.buf, ds.buf[p:])
	ds.buf = ds.buf[:n]
	ds.start += int64(p)
}

// syncFits reports whether b could begin a frame: the sync bytes it holds
// match.
func (s *stream) syncFits(b []byte) bool {
	d := s.d
	for j, c := range d.sync {
		i := d.syncOff + j
		if i >= len(b) {
			return true
		}
		if b[i] != c {
			return false
		}
	}
	return true
}

func (s *stream) loseSync(ds *dirState, ts time.Time) {
	s.anomaly(ds, codeSyncLost, ds.off, 0, 0, ts)
	s.syncLost = true
	ds.dead = true
	s.skipped += int64(len(ds.buf))
	ds.buf, ds.need, ds.skip = ds.buf[:0], 0, 0
}

// gapCounted: a gap inside a frame of known length, or inside a fixed-size
// stream, keeps the framing in step; anywhere else it needs sync bytes to
// find the next frame, or the direction is given up.
func (s *stream) gapCounted(ds *dirState, missing int64, ts time.Time) {
	d := s.d
	ds.off += missing
	if ds.dead {
		s.skipped += missing
		return
	}
	if ds.skip > 0 {
		if missing <= ds.skip {
			ds.skip -= missing
			return
		}
		ds.skip = 0
	} else if ds.need > 0 && int64(len(ds.buf))+missing <= int64(ds.need) {
		s.trunc++
		ds.skip = int64(ds.need-len(ds.buf)) - missing
		ds.buf, ds.need = ds.buf[:0], 0
		return
	}
	if len(ds.buf) > 0 && !ds.resync {
		s.trunc++
	}
	ds.buf, ds.need = ds.buf[:0], 0
	if d.kind == kindFixed && !ds.resync {
		// Frames start at base + k*size: skip to the next boundary.
		r := (ds.off - ds.base) % int64(d.fixed)
		if r != 0 {
			ds.skip = int64(d.fixed) - r
		}
		return
	}
	if len(d.sync) > 0 {
		ds.resync = true
		return
	}
	s.loseSync(ds, ts)
}

// ---- delimited framing ----

// delimiter is a start or end sequence as the last bytes of tail.
type delimiter struct {
	val, mask uint64
	n         int
}

func mkDelim(b []byte) delimiter {
	var d delimiter
	for _, c := range b {
		d.val = d.val<<8 | uint64(c)
		d.mask = d.mask<<8 | 0xFF
	}
	d.n = len(b)
	return d
}

func (x delimiter) in(tail uint64, n int) bool { return x.n > 0 && n >= x.n && tail&x.mask == x.val }

func (s *stream) push(ds *dirState, b byte) {
	ds.tail = ds.tail<<8 | uint64(b)
	if ds.tailN < 8 {
		ds.tailN++
	}
}

// onlyStart reports whether the frame in progress holds only its start
// delimiter.
func (s *stream) onlyStart(ds *dirState) bool {
	return len(s.d.start) > 0 && ds.off-ds.start == int64(len(s.d.start))
}

// begin starts a frame whose first byte is at stream offset at, with its
// first bytes pre (the start delimiter).
func (s *stream) begin(ds *dirState, at int64, pre []byte) {
	ds.start = at
	ds.afterGap = false
	ds.inFrame, ds.esc, ds.over, ds.tailN = true, false, false, 0
	ds.st = dsInside
	ds.buf = append(ds.buf[:0], pre...)
}

// flushOutside accounts the bytes outside frames since gapFrom, up to the
// current offset.
func (s *stream) flushOutside(ds *dirState, ts time.Time) {
	s.flushOutsideTo(ds, ds.off, ts)
}

func (s *stream) flushOutsideTo(ds *dirState, to int64, ts time.Time) {
	if n := to - ds.gapFrom - ds.idleN; n > 0 {
		s.skipped += n
		if !ds.afterGap {
			s.anomaly(ds, codeDataOutsideFrame, ds.gapFrom, n, 0, ts)
		}
	}
	ds.gapFrom, ds.idleN = to, 0
}

func (s *stream) feedDelim(ds *dirState, data []byte, ts time.Time) {
	d := s.d
	if ds.st == dsOutside && len(d.start) == 0 {
		ds.st = dsInside
	}
	start := d.startDelim
	for _, b := range data {
		ds.off++
		switch ds.st {
		case dsOutside:
			if d.idleByte[b] {
				ds.idleN++
				ds.tailN = 0
				continue
			}
			s.push(ds, b)
			if start.in(ds.tail, ds.tailN) {
				s.flushOutsideTo(ds, ds.off-int64(start.n), ts)
				s.begin(ds, ds.off-int64(start.n), d.start)
			}
		case dsTrailer:
			ds.trail--
			if ds.discard {
				if ds.trail == 0 {
					s.skipped += ds.off - ds.gapFrom
					ds.gapFrom, ds.idleN = ds.off, 0
					ds.discard = false
					ds.st = dsInside
				}
				continue
			}
			s.put(ds, b)
			if ds.trail == 0 {
				s.endFrame(ds, ts)
			}
		case dsSeekEnd:
			if ds.esc {
				ds.esc, ds.tailN = false, 0
				continue
			}
			if int(b) == d.escape {
				ds.esc = true
				continue
			}
			s.push(ds, b)
			if s.endMatch(ds) {
				ds.tailN = 0
				if d.trailer > 0 {
					ds.st, ds.trail, ds.discard = dsTrailer, d.trailer, true
				} else {
					s.skipped += ds.off - ds.gapFrom
					ds.gapFrom, ds.idleN = ds.off, 0
					ds.st = dsInside
				}
			}
		default: // dsInside
			if !ds.inFrame {
				if d.idleByte[b] {
					ds.idleN++
					continue
				}
				s.flushOutsideTo(ds, ds.off-1, ts)
				s.begin(ds, ds.off-1, nil)
			}
			if ds.esc {
				ds.esc, ds.tailN = false, 0
				s.put(ds, b^d.escXor)
				continue
			}
			if int(b) == d.escape {
				ds.esc = true
				continue
			}
			s.put(ds, b)
			s.push(ds, b)
			if s.endMatch(ds) {
				if d.startIsEnd && ds.off-ds.start == int64(2*len(d.start)) {
					// Two flags in a row: the second opens the frame.
					s.begin(ds, ds.off-int64(start.n), d.start)
					continue
				}
				if d.trailer > 0 {
					ds.st, ds.trail = dsTrailer, d.trailer
				} else {
					s.endFrame(ds, ts)
				}
				continue
			}
			if start.n > 0 && !d.startIsEnd && start.in(ds.tail, ds.tailN) && ds.off-ds.start > int64(start.n) {
				// A new frame began before this one ended.
				s.trunc++
				s.anomaly(ds, codeMissingFrameEnd, ds.start, ds.off-int64(start.n)-ds.start, 0, ts)
				s.begin(ds, ds.off-int64(start.n), d.start)
			}
		}
	}
}

func (s *stream) endMatch(ds *dirState) bool {
	for _, e := range s.d.endDelims {
		if e.in(ds.tail, ds.tailN) {
			ds.endLen = e.n
			return true
		}
	}
	return false
}

// put adds a frame byte, or counts it once the frame outgrew maxFrame.
func (s *stream) put(ds *dirState, b byte) {
	if ds.over {
		return
	}
	if len(ds.buf) >= s.d.maxFrame {
		ds.over = true
		ds.buf = ds.buf[:0]
		return
	}
	if len(ds.buf) == cap(ds.buf) {
		s.grow(ds, len(ds.buf)+1)
	}
	ds.buf = append(ds.buf, b)
}

// endFrame completes a delimited frame.
func (s *stream) endFrame(ds *dirState, ts time.Time) {
	d := s.d
	wire := ds.off - ds.start
	switch {
	case ds.over:
		s.oversized++
		s.anomaly(ds, codeFrameTooLong, ds.start, wire, int64(d.maxFrame), ts)
	case len(ds.buf) == len(d.start)+ds.endLen+d.trailer:
		// Only delimiters: an empty frame, ignored.
	default:
		s.frame(ds, ds.buf, wire, ts)
	}
	s.resetDelim(ds)
	if d.startIsEnd && d.trailer == 0 {
		// The closing flag also opens the next frame.
		s.begin(ds, ds.off-int64(ds.endLen), d.start)
	}
}

// gapDelim drops the frame in progress and looks for the next start
// delimiter (or, without one, the next end delimiter).
func (s *stream) gapDelim(ds *dirState, missing int64, ts time.Time) {
	s.account(ds, ts, false)
	ds.off += missing
	s.resetDelim(ds)
	ds.afterGap = true
	if len(s.d.start) == 0 {
		ds.st = dsSeekEnd
	}
}

// stopDelim ends a direction's data: the frame in progress is truncated.
func (s *stream) stopDelim(ds *dirState, ts time.Time) {
	s.account(ds, ts, true)
	s.resetDelim(ds)
}

// account counts what the bytes since the last frame were when the data
// stops or skips: a truncated frame, bytes skipped after a gap, or bytes
// outside frames.
func (s *stream) account(ds *dirState, ts time.Time, anomaly bool) {
	switch {
	case ds.st == dsSeekEnd || ds.discard:
		s.skipped += ds.off - ds.gapFrom
	case ds.inFrame:
		if !s.onlyStart(ds) {
			if anomaly {
				s.truncated(ds, ts)
			} else {
				s.trunc++
			}
		}
	default:
		s.flushOutside(ds, ts)
	}
}

func (s *stream) resetDelim(ds *dirState) {
	ds.gapFrom, ds.idleN = ds.off, 0
	ds.inFrame, ds.esc, ds.over, ds.discard, ds.tailN = false, false, false, false, 0
	ds.buf = ds.buf[:0]
	ds.st = dsInside
	if len(s.d.start) > 0 {
		ds.st = dsOutside
	}
}
