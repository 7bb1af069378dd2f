package hl7

import (
	"bytes"
	"hash/maphash"
	"time"

	"github.com/medtap/medtap/parsers/parser"
)

// MLLP framing bytes (HL7 v2.5.1 Appendix C).
const (
	startBlock = 0x0B // <VT>, start of an MLLP frame
	endBlock   = 0x1C // <FS>, end of an MLLP frame, then <CR>
	cr         = '\r' // segment terminator
	lf         = '\n' // accepted as a segment terminator too
)

// Limits. Every one is hit with an anomaly (or documented as silent) and
// bounds memory: a stream keeps at most one field (MaxFieldLen) and one
// message's extracted values per direction, never a whole message.
const (
	// MaxMessageLen is the longest message decoded. The rest of a longer
	// one is skipped in sync, without buffering (message_too_large), and its
	// event says truncated.
	MaxMessageLen = 16 << 20
	// MaxSegments is the most segments one message may have; the rest are
	// skipped (too_many_segments).
	MaxSegments = 20000
	// MaxFields is the most fields one segment may have; the rest of the
	// segment is skipped (too_many_fields).
	MaxFields = 1000
	// MaxFieldLen is how much of one field is kept for decoding. Longer
	// fields (base64 ED payloads in OBX-5) are read on without being kept:
	// only their first MaxFieldLen bytes are scanned. Silent.
	MaxFieldLen = 16 << 10
	// MaxListedSegments is how many segment names an event lists;
	// segment_count still counts all. Silent.
	MaxListedSegments = 256
	// MaxPHIValues bounds the PHI values kept per message, MaxPHIFields
	// the field names listed, MaxPHIValueLen each value's length. Silent:
	// categories are always complete.
	MaxPHIValues   = 128
	MaxPHIFields   = 64
	MaxPHIValueLen = 256
	// MaxValueLen bounds every other value kept (application names,
	// control id, software, device ids). Silent.
	MaxValueLen = 128
	// MaxSoftware, MaxDevices and MaxEquipment bound the SFT, PRT and
	// OBX-18 entries per message. Silent.
	MaxSoftware  = 8
	MaxDevices   = 8
	MaxEquipment = 16
	// MaxPending is how many messages per direction may wait for their
	// ACK; the oldest is then reported unanswered.
	MaxPending = 64
	// MaxAckWait is how long (in capture time) a message waits for its
	// ACK before it is reported unanswered.
	MaxAckWait = 10 * time.Minute
	// answeredRing is how many answered control ids per direction are
	// remembered to tell a duplicate ACK from an unsolicited one.
	answeredRing = 16
	// maxCtlID is how much of a control id the answered ring compares.
	maxCtlID = 64
	// maxInterned bounds the per-worker table of uncommon segment names.
	maxInterned = 64
)

// parserName is the parser's Name, also its key in parser.Local.
const parserName = "hl7"

// Factory is the registry entry of the HL7 v2 parser.
var Factory = parser.Factory{
	Name:      parserName,
	Transport: parser.TCP,
	// 2575 is IANA's hl7; 6661 (tapirx, many interface engines), 2100 and
	// 5000 are common interface-engine listeners; probing by content
	// finds HL7 on any port.
	Ports: []uint16{2575, 6661, 2100, 5000},
	Probe: probe,
	// MLLP links stay open and idle for long between messages.
	IdleTimeout: time.Hour,
	KeepWhole:   true,
	New:         newStream,
}

// probe matches an MLLP start block followed by MSH (or a batch header FHS,
// BHS), or a bare stream that starts with such a segment and a plausible
// field separator and component separator. It decides on the first wrong
// byte and does not allocate.
func probe(_ parser.Direction, b []byte) parser.Verdict {
	if len(b) == 0 {
		return parser.NeedMore
	}
	if b[0] == startBlock {
		if !headerPrefix(b[1:]) {
			return parser.NoMatch
		}
		if len(b) < 4 {
			return parser.NeedMore
		}
		return parser.Match
	}
	if !headerPrefix(b) {
		return parser.NoMatch
	}
	if len(b) >= 4 && !separatorByte(b[3]) {
		return parser.NoMatch
	}
	if len(b) >= 5 && (!separatorByte(b[4]) || b[4] == b[3]) {
		return parser.NoMatch
	}
	if len(b) < 5 {
		return parser.NeedMore
	}
	return parser.Match
}

// headerPrefix reports whether b is a prefix of "MSH", "FHS" or "BHS", or
// starts with one.
func headerPrefix(b []byte) bool {
	for _, h := range [...]string{"MSH", "FHS", "BHS"} {
		n := min(len(b), 3)
		if string(b[:n]) == h[:n] {
			return true
		}
	}
	return false
}

// separatorByte reports whether c may be a delimiter: printable ASCII,
// neither letter nor digit nor space.
func separatorByte(c byte) bool {
	return c > ' ' && c < 0x7f && !isAlnum(c)
}

func newStream(_ *parser.Flow, em parser.Emitter, env *parser.Env) parser.Stream {
	var l *parser.Local
	if env != nil {
		l = env.Local
	}
	s := &stream{em: em, sh: l.Value(parserName, newShared).(*shared)}
	for i := range s.d {
		s.d[i].dir = parser.Direction(i)
		s.d[i].sep = '|'
	}
	return s
}

// dirMode is what a direction's framing turned out to be.
type dirMode uint8

const (
	modeStart dirMode = iota // no byte seen yet
	modeMLLP                 // MLLP frames
	modeBare                 // bare segments
)

// stream is one flow's HL7 parser; it serves both directions.
type stream struct {
	em      parser.Emitter
	d       [2]dirState
	pending [2][]pend // messages sent in each direction awaiting their ACK
	pendBuf [2][]pend // the arrays pending lies in (pushPending)
	seq     uint64
	sh      *shared
	csMemo  csMemo
}

// shared is what the streams of one worker share (parser.Local). HL7
// connections are often short, a few messages each: caches kept per
// stream would mostly be cold.
type shared struct {
	dec    decoders
	intern map[string]string
	// segLists, fieldLists and catLists hold the lists events share.
	segLists, fieldLists listCache
	catLists             catCache
	// bufs holds the build buffers of ended messages, the latest last. A
	// new message takes the latest, still in this core's cache; a
	// stream's own buffers would have gone cold while other streams ran
	// (on the benchmark's messages, 4096 streams in turn took 4.4 µs a
	// message against 2.4 for 64).
	bufs []msgBufs
	// blocks holds released event blocks by size (blockSizes), the latest
	// last; blockBytes is their total size.
	blocks     [numBlockSizes][]*blockHead
	blockBytes int
	// scratch and scratch2 are decode's buffers, used within one call.
	scratch, scratch2 []byte
}

// maxPooledBufs bounds the pool of build buffers.
const maxPooledBufs = 32

func newShared() any { return new(shared) }

// takeBufs gives the latest buffers put back, or none (they grow as
// needed).
func (sh *shared) takeBufs() msgBufs {
	n := len(sh.bufs)
	if n == 0 {
		return msgBufs{}
	}
	b := sh.bufs[n-1]
	sh.bufs[n-1] = msgBufs{}
	sh.bufs = sh.bufs[:n-1]
	return b
}

// putBufs takes back an ended message's buffers.
func (sh *shared) putBufs(b msgBufs) {
	if len(sh.bufs) < maxPooledBufs && cap(b.arena) <= maxPooledArena {
		sh.bufs = append(sh.bufs, b)
	}
}

// pend is a message waiting for its acknowledgement.
type pend struct {
	msg    *Message
	ts     time.Time
	seq    uint64
	commit string // an enhanced-mode commit ACK's code, while the application ACK is awaited
}

// dirState is one direction's framing, tokenizer and message state.
type dirState struct {
	dir     parser.Direction
	mode    dirMode
	inFrame bool  // MLLP: between start and end block
	resync  bool  // after a gap: skip to the next segment terminator or start block
	quiet   bool  // after a gap: segments outside a message are expected
	off     int64 // bytes of this direction consumed
	batch   bool  // inside an FHS/BHS envelope

	segPos  int    // bytes of the current segment's name and separator seen, 0..3; 4 in its fields
	name    uint32 // the segment name's bytes, big-endian: "PID" is 'P'<<16|'I'<<8|'D'
	kind    segKind
	skipSeg bool // rest of the current segment is ignored
	field   int  // number of the field being read
	// fld is the part of the field being read that earlier Feeds carried
	// (at most MaxFieldLen bytes). Fields that start and end within one
	// Feed are read in place and never copied.
	fld []byte
	sep byte

	notedOrphan, notedJunk bool // once-per-direction anomalies emitted

	m msgBuild
	// answered holds ctlHash of the control ids of the latest messages
	// answered in this direction (0: none).
	answered [answeredRing]uint64
	ansN     int
}

// ctlSeed keys ctlHash.
var ctlSeed = maphash.MakeSeed()

// ctlHash is what the answered ring keeps of a control id: a hash of its
// first maxCtlID bytes, never 0 but for an empty id. Eight bytes a
// message instead of the id itself keep a stream small: hospitals keep
// thousands of HL7 connections open, mostly idle.
func ctlHash(ctl []byte) uint64 {
	if len(ctl) == 0 {
		return 0
	}
	return maphash.Bytes(ctlSeed, ctl[:min(len(ctl), maxCtlID)]) | 1
}

// terminator reports whether c ends a segment (CR, LF) or a frame (the MLLP
// start and end blocks).
func terminator(c byte) bool { return terminators[c] }

var terminators = [256]bool{cr: true, lf: true, startBlock: true, endBlock: true}

// nextPos caches, for one Feed, where the next CR, LF, start block and end
// block are, so that each is searched for once, not once per segment.
// A field holds -1 until searched, len(data) when there is none.
type nextPos struct{ cr, lf, vt, fs int }

// find gives the index of the first c in b at or after i, or len(b),
// cached in *at.
func find(b []byte, i int, at *int, c byte) int {
	if *at < i {
		*at = indexFrom(b, i, c)
	}
	return *at
}

// indexFrom gives the index of the first c in b at or after i, or len(b).
func indexFrom(b []byte, i int, c byte) int {
	if j := bytes.IndexByte(b[i:], c); j >= 0 {
		return i + j
	}
	return len(b)
}

// term gives the index of the first terminator in b at or after i, or
// len(b). Only the searches whose cached answer lies behind i run again:
// once per segment for CR, once per Feed or frame for the others.
func (p *nextPos) term(b []byte, i int) int {
	if p.cr < i {
		p.cr = indexFrom(b, i, cr)
	}
	if p.lf < i {
		p.lf = indexFrom(b, i, lf)
	}
	if p.vt < i {
		p.vt = indexFrom(b, i, startBlock)
	}
	if p.fs < i {
		p.fs = indexFrom(b, i, endBlock)
	}
	return min(p.cr, p.lf, p.vt, p.fs)
}

// Feed implements parser.Stream. It reads a segment's fields in place, from
// one terminator search and one pass of the number scan's word-at-a-time
// filter over the segment, and looks at single fields only where the event
// needs them; framing bytes, segment names and their first separator are
// decided byte by byte only when a Feed cuts them.
func (s *stream) Feed(dir parser.Direction, data []byte, ts time.Time) {
	d := &s.d[dir&1]
	nx := nextPos{-1, -1, -1, -1}
	for i := 0; i < len(data); {
		if d.mode == modeStart {
			d.mode = modeBare
			if data[i] == startBlock {
				d.mode = modeMLLP
			}
		}
		if d.mode == modeMLLP && !d.inFrame && data[i] != startBlock {
			// Between frames: skip to the next start block.
			j := find(data, i, &nx.vt, startBlock)
			if k := nonWhitespace(data[i:j]); !d.notedJunk && !d.quiet && k >= 0 {
				d.notedJunk = true
				s.anomaly(ts, d, "data_outside_frame", d.off+int64(k), 0, 0)
			}
			d.off += int64(j - i)
			i = j
			continue
		}
		if d.resync {
			j := i
			for j < len(data) && data[j] != cr && data[j] != lf && data[j] != startBlock {
				j++
			}
			if j < len(data) && data[j] != startBlock {
				j++
				d.resync = false
			} else if j < len(data) {
				d.resync = false
			}
			d.off += int64(j - i)
			i = j
			continue
		}
		c := data[i]
		if d.segPos == 4 && !terminator(c) {
			i += s.body(d, data[i:], nx.term(data, i)-i, ts)
			continue
		}
		if d.segPos == 0 && len(data)-i >= 4 && s.header(d, data[i:i+4], ts) {
			i += 4
			continue
		}
		s.special(d, c, ts)
		i++
	}
}

// nonWhitespace gives the index of b's first byte that is not white space
// (CR, LF, space, tab, NUL), or -1.
func nonWhitespace(b []byte) int {
	for i, c := range b {
		if c != cr && c != lf && c != ' ' && c != '\t' && c != 0 {
			return i
		}
	}
	return -1
}

// consumed accounts n bytes of the current segment.
func (s *stream) consumed(d *dirState, n int, ts time.Time) {
	d.off += int64(n)
	if d.m.active {
		d.m.bytes += int64(n)
		if d.m.bytes > MaxMessageLen {
			s.tooLarge(d, ts)
		}
	}
}

// tooLarge starts skipping a message past MaxMessageLen, once.
func (s *stream) tooLarge(d *dirState, ts time.Time) {
	m := &d.m
	if m.skipping {
		return
	}
	m.skipping, m.truncated, d.skipSeg = true, true, true
	s.anomaly(ts, d, "message_too_large", m.start, m.bytes, MaxMessageLen)
}

// advance consumes n bytes, and one more when over is set: the message's
// first byte over MaxMessageLen, which ends its decoding.
func (s *stream) advance(d *dirState, n int, over bool, ts time.Time) int {
	s.consumed(d, n, ts)
	if over {
		s.consumed(d, 1, ts)
		n++
	}
	return n
}

// fieldBytes keeps b as more of the field being read, up to MaxFieldLen.
func (d *dirState) fieldBytes(b []byte) {
	if room := MaxFieldLen - len(d.fld); len(b) > room {
		b = b[:max(room, 0)]
	}
	if len(b) == 0 {
		return
	}
	if d.fld == nil {
		d.fld = make([]byte, 0, 512)
	}
	d.fld = append(d.fld, b...)
}

// header reads a segment's name and the byte after it when b (4 bytes)
// holds them, none ends a segment or frame and no limit is near; false
// leaves them to special, one at a time. Either way gives the same result.
func (s *stream) header(d *dirState, b []byte, ts time.Time) bool {
	if terminator(b[0]) || terminator(b[1]) || terminator(b[2]) || terminator(b[3]) {
		return false
	}
	if m := &d.m; m.active && !m.skipping && m.bytes+4 > MaxMessageLen {
		return false
	}
	s.consumed(d, 3, ts)
	n := uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2])
	d.name = n
	d.segPos = 3
	s.segmentName(d, n, ts)
	s.consumed(d, 1, ts)
	s.nameEnd(d, b[3], ts)
	return true
}

// special handles one byte outside a segment's fields: framing bytes,
// terminators, the bytes of a segment name and the separator after it.
func (s *stream) special(d *dirState, c byte, ts time.Time) {
	switch {
	case c == startBlock:
		if d.mode == modeMLLP && d.inFrame {
			s.anomaly(ts, d, "missing_end_block", d.off, 0, 0)
		}
		s.endSegment(d, ts)
		s.endMessage(d, ts)
		d.mode, d.inFrame, d.quiet = modeMLLP, true, false
		d.off++
		return
	case c == endBlock:
		s.endSegment(d, ts)
		s.endMessage(d, ts)
		d.inFrame = false
		d.off++
		return
	case c == cr || c == lf:
		s.consumed(d, 1, ts)
		s.endSegment(d, ts)
		return
	}
	s.consumed(d, 1, ts)
	if d.segPos < 3 {
		d.name = d.name<<8&0xffff00 | uint32(c)
		d.segPos++
		if d.segPos == 3 {
			s.segmentName(d, d.name, ts)
		}
		return
	}
	s.nameEnd(d, c, ts) // segPos 3: Feed passes field bytes to body
}

// nameEnd acts on the byte after a segment's name: MSH-1, the field
// separator itself, or the separator before field 1.
func (s *stream) nameEnd(d *dirState, c byte, ts time.Time) {
	d.segPos = 4
	switch d.kind {
	case segMSH, segFHS, segBHS:
		// MSH-1: the field separator itself; MSH-2 comes next.
		if d.kind == segMSH && !d.skipSeg {
			if !separatorByte(c) {
				s.anomaly(ts, d, "bad_field_separator", d.off-4, 0, 0)
				d.m.skipping, d.m.truncated, d.skipSeg = true, true, true
				return
			}
			d.sep = c
			d.m.sep = c
		}
		d.field = 2
	default:
		if c != d.sep {
			if d.m.active && !d.skipSeg && !d.m.notedBadSeg {
				d.m.notedBadSeg = true
				s.anomaly(ts, d, "bad_segment_name", d.off-4, 0, 0)
			}
			d.skipSeg = true
			return
		}
		d.field = 1
	}
	d.fld = d.fld[:0]
}

// body reads fields of the current segment from b, whose first t bytes
// come before the segment's end (t == len(b) when the segment goes on past
// b). It returns how many bytes it consumed, at least one: the t bytes and
// the CR or LF after them when that ends the segment, the t bytes when the
// segment ends otherwise or goes on (the open field is kept in fld), or
// fewer when a field carried from an earlier Feed ended or a limit was
// hit, for Feed to call again.
//
// Fields are handed over exactly as a byte-at-a-time reader would: each
// once complete, cut to MaxFieldLen, in order; a field whose separator or
// terminator is the message's first byte over MaxMessageLen is lost, and
// so are fields after MaxFields.
func (s *stream) body(d *dirState, b []byte, t int, ts time.Time) int {
	m := &d.m
	n, limited := t, false
	if m.active && !m.skipping {
		if room := MaxMessageLen - m.bytes; int64(n) >= room {
			// The byte at room is over the limit. Only fields ending
			// before it count, so the last one stays open (a CR or
			// LF at room would be over too).
			n, limited = int(room), true
		}
	}
	over := limited && n < t
	if d.skipSeg || !m.active || m.skipping {
		return s.advance(d, n, over, ts)
	}
	r := b[:n]
	ended := !limited && t < len(b) && (b[t] == cr || b[t] == lf)
	sep := d.sep
	if len(d.fld) > 0 {
		// Finish the field an earlier Feed left open.
		j := bytes.IndexByte(r, sep)
		if j < 0 {
			d.fieldBytes(r)
			if ended {
				s.consumed(d, n+1, ts)
				s.fieldDone(d)
				d.resetSegment()
				return n + 1
			}
			return s.advance(d, n, over, ts)
		}
		d.fieldBytes(r[:j])
		s.consumed(d, j+1, ts)
		s.fieldDone(d)
		d.fld = d.fld[:0]
		s.nextField(d, ts)
		return j + 1
	}
	// Fields d.field... up to end: all of r when the segment ends, else
	// up to the last separator (the field after it stays open).
	end, seps := n, n
	if !ended {
		if end = bytes.LastIndexByte(r, sep); end < 0 {
			d.fieldBytes(r)
			return s.advance(d, n, over, ts)
		}
		seps = end + 1
	}
	f := d.field
	if f+seps > MaxFields {
		// The separator after field MaxFields ends what is read.
		if p := nthByte(r[:seps], sep, MaxFields-f+1); p >= 0 {
			s.fields(d, r[:p], f)
			s.consumed(d, p+1, ts)
			d.field = MaxFields
			s.nextField(d, ts)
			return p + 1
		}
	}
	s.fields(d, r[:end], f)
	if ended {
		s.consumed(d, n+1, ts)
		d.resetSegment()
		return n + 1
	}
	sb := [1]byte{sep}
	d.field = f + bytes.Count(r[:end], sb[:]) + 1
	d.fieldBytes(r[end+1:])
	return s.advance(d, n, over, ts)
}

// nthByte gives the index of the k-th (from 1) c in b, or -1.
func nthByte(b []byte, c byte, k int) int {
	off := 0
	for ; k > 0; k-- {
		j := bytes.IndexByte(b[off:], c)
		if j < 0 {
			return -1
		}
		off += j + 1
	}
	return off - 1
}

// nextField moves past a field separator; past MaxFields the rest of the
// segment is skipped.
func (s *stream) nextField(d *dirState, ts time.Time) {
	d.field++
	if d.field > MaxFields && !d.skipSeg {
		d.skipSeg = true
		if !d.m.notedFields {
			d.m.notedFields = true
			s.anomaly(ts, d, "too_many_fields", d.off, int64(d.field), MaxFields)
		}
	}
}

// segmentName acts on a segment's three-letter name n (also in d.name).
func (s *stream) segmentName(d *dirState, n uint32, ts time.Time) {
	m := &d.m
	if c := byte(n >> 16); !(c >= 'A' && c <= 'Z') || !isUpperDigit(byte(n>>8)) || !isUpperDigit(byte(n)) {
		d.kind, d.skipSeg = segOther, true
		if m.active && !m.notedBadSeg {
			m.notedBadSeg = true
			s.anomaly(ts, d, "bad_segment_name", d.off-3, 0, 0)
		}
		return
	}
	e := lookupSegment(n)
	if e != nil {
		d.kind = e.kind
	} else {
		d.kind = classify(n)
	}
	switch d.kind {
	case segMSH, segFHS, segBHS, segBTS, segFTS:
		if m.active {
			m.bytes -= 3 // the name just read belongs to the next message
		}
	}
	switch d.kind {
	case segMSH:
		s.endMessage(d, ts)
		d.quiet = false
		framing := "bare"
		if d.mode == modeMLLP {
			framing = "mllp"
		}
		m.begin(framing, d.batch, d.off-3, ts, s.sh.takeBufs())
	case segFHS, segBHS:
		s.endMessage(d, ts)
		d.batch, d.skipSeg = true, true
		return
	case segBTS, segFTS:
		s.endMessage(d, ts)
		d.batch, d.skipSeg = false, true
		return
	default:
		if !m.active {
			d.skipSeg = true
			if !d.quiet && !d.notedOrphan {
				d.notedOrphan = true
				s.anomaly(ts, d, "segment_outside_message", d.off-3, 0, 0)
			}
			return
		}
	}
	m.segCount++
	if m.skipping {
		d.skipSeg = true
		return
	}
	if m.segCount > MaxSegments {
		m.skipping, m.truncated, d.skipSeg = true, true, true
		s.anomaly(ts, d, "too_many_segments", m.start, int64(m.segCount), MaxSegments)
		return
	}
	if len(m.segs) < MaxListedSegments {
		m.segs = append(m.segs, uint64(n))
		m.segHash = listHash(m.segHash, uint64(n))
	}
	m.segment(d.kind)
}

func isUpperDigit(c byte) bool { return (c >= 'A' && c <= 'Z') || isDigit(c) }

// internName gives the string of a segment name that is not standard,
// without allocating for the first maxInterned such names seen by the
// worker's streams.
func (s *stream) internName(key uint32) string {
	n := [3]byte{byte(key >> 16), byte(key >> 8), byte(key)}
	sh := s.sh
	if v, ok := sh.intern[string(n[:])]; ok {
		return v
	}
	v := string(n[:])
	if len(sh.intern) < maxInterned {
		if sh.intern == nil {
			sh.intern = make(map[string]string)
		}
		sh.intern[v] = v
	}
	return v
}

// endSegment finishes the current segment, if any: the field still open
// is complete.
func (s *stream) endSegment(d *dirState, ts time.Time) {
	if d.segPos == 0 {
		return
	}
	if d.segPos < 3 && d.m.active && !d.m.notedBadSeg {
		d.m.notedBadSeg = true
		s.anomaly(ts, d, "bad_segment_name", d.off-int64(d.segPos), 0, 0)
	}
	if d.segPos >= 4 && !d.skipSeg {
		s.fieldDone(d)
	}
	d.resetSegment()
}

func (d *dirState) resetSegment() {
	d.segPos, d.skipSeg, d.field, d.kind = 0, false, 0, segOther
	d.fld = d.fld[:0]
}

// fieldDone hands the field kept in fld to the message.
func (s *stream) fieldDone(d *dirState) {
	m := &d.m
	if !m.active || m.skipping {
		return
	}
	s.field(d, d.kind, d.field, d.fld)
}

// Gap implements parser.Stream: the message being read is ended as
// truncated, and the direction resynchronises on the next start block
// (MLLP) or the next MSH segment (bare).
func (s *stream) Gap(dir parser.Direction, missing int, ts time.Time) {
	d := &s.d[dir&1]
	if d.m.active {
		d.m.truncated = true
	}
	d.segPos, d.skipSeg, d.field = 0, false, 0
	d.fld = d.fld[:0]
	s.endMessage(d, ts)
	d.off += int64(missing)
	d.quiet = true
	switch d.mode {
	case modeMLLP:
		d.inFrame = false
	default:
		d.mode, d.resync = modeBare, true
	}
}

// Close implements parser.Stream: the last bare messages end here; an open
// MLLP frame is reported (missing_end_block) and its message truncated;
// messages still awaiting an ACK are reported unanswered.
func (s *stream) Close(_ parser.CloseReason, ts time.Time) {
	for i := range s.d {
		d := &s.d[i]
		if d.mode == modeMLLP && d.inFrame && d.m.active {
			s.anomaly(ts, d, "missing_end_block", d.off, 0, 0)
			d.m.truncated = true
		}
		s.endSegment(d, ts)
		s.endMessage(d, ts)
	}
	for {
		var best *[]pend
		for i := range s.pending {
			p := &s.pending[i]
			if len(*p) > 0 && (best == nil || (*p)[0].seq < (*best)[0].seq) {
				best = p
			}
		}
		if best == nil {
			return
		}
		s.unanswered(popPending(best))
	}
}

func (s *stream) anomaly(ts time.Time, d *dirState, code string, off, length, limit int64) {
	s.em.Emit(ts, &parser.Anomaly{Source: "hl7", Code: code, Direction: d.dir.String(), Offset: off, Length: length, Limit: limit})
}

// stdSegmentNames are the standard segment names (HL7 v2.9 and earlier),
// interned without allocating.
var stdSegmentNames = []string{
	"ABS", "ACC", "ADD", "ADJ", "AFF", "AIG", "AIL", "AIP", "AIS", "AL1", "APR", "ARQ", "ARV", "AUT",
	"BHS", "BLC", "BLG", "BPO", "BPX", "BTS", "BTX", "BUI", "CDM", "CDO", "CER", "CM0", "CM1", "CM2",
	"CNS", "CON", "CSP", "CSR", "CSS", "CTD", "CTI", "DB1", "DG1", "DMI", "DON", "DRG", "DSC", "DSP",
	"ECD", "ECR", "EDU", "EQP", "EQU", "ERR", "EVN", "FAC", "FHS", "FT1", "FTS", "GOL", "GP1", "GP2",
	"GT1", "IAM", "IAR", "IIM", "ILT", "IN1", "IN2", "IN3", "INV", "IPC", "IPR", "ISD", "ITM", "IVC",
	"IVT", "LAN", "LCC", "LCH", "LDP", "LOC", "LRL", "MFA", "MFE", "MFI", "MRG", "MSA", "MSH", "NCK",
	"NDS", "NK1", "NPU", "NSC", "NST", "NTE", "OBR", "OBX", "ODS", "ODT", "OM1", "OM2", "OM3", "OM4",
	"OM5", "OM6", "OM7", "ORC", "ORG", "OVR", "PAC", "PCE", "PCR", "PD1", "PDA", "PDC", "PEO", "PES",
	"PID", "PKG", "PMT", "PR1", "PRA", "PRB", "PRC", "PRD", "PRT", "PSG", "PSH", "PSL", "PSS", "PTH",
	"PV1", "PV2", "PYE", "QAK", "QID", "QPD", "QRD", "QRF", "QRI", "RCP", "RDF", "RDT", "REL", "RF1",
	"RFI", "RGS", "RMI", "ROL", "RQ1", "RQD", "RXA", "RXC", "RXD", "RXE", "RXG", "RXO", "RXR", "RXV",
	"SAC", "SCD", "SCH", "SCP", "SDD", "SFT", "SHP", "SID", "SLT", "SPM", "STF", "STZ", "TCC", "TCD",
	"TQ1", "TQ2", "TXA", "UAC", "UB1", "UB2", "URD", "URS", "VAR", "VND",
}
