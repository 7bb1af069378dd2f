package hl7

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"time"
	"unicode/utf8"
	"unsafe"
)

// span is a value kept in a message's arena.
type span struct{ off, n int32 }

// fieldID packs a segment name and field number: a field that held PHI.
func fieldID(seg uint32, f int) uint64 { return uint64(seg)<<32 | uint64(uint32(f)) }

type phiRef struct {
	field int32 // index in msgBuild.fields
	cat   category
	val   span
}

type swRef struct{ vendor, version, product, binary span }

type devRef struct{ v [8]span } // PRT-10, PRT-16..22

// mshRawMax bounds the MSH text kept raw until the event is built; a longer
// header is decoded as it comes, as every other value is.
const mshRawMax = 1024

// msgBuild is what one direction keeps of the message being read: the
// values the event needs, in a reused arena, and counters. Nothing is
// allocated per message until the event is built.
type msgBuild struct {
	active      bool
	framing     string
	batch       bool
	start       int64 // stream offset of "MSH"
	bytes       int64
	ts          time.Time
	truncated   bool
	skipping    bool // a limit was hit: the rest of the message is skipped
	notedBadSeg bool
	notedFields bool

	sep, comp, rep, esc, sub byte
	// cs is MSH-18's character set once csDone: it is looked up when a
	// value first needs it (one with 8-bit bytes) or the event is built.
	cs     charsetID
	csDone bool
	// plainDelims is true when comp, rep and sub are the standard ^ ~ &
	// (or absent), so that values need no rewriting of delimiters.
	plainDelims bool

	// msgBufs holds the arena the values are kept in, the raw MSH and
	// the segment, field, PHI, software, device and equipment lists.
	msgBufs
	typ, trig, strct, ctl, proc, ver  span
	sapp, sfac, rapp, rfac, aat, apat span
	// mshHas: mshRaw holds MSH-3, perhaps empty. mshEager: decodeMSH has
	// run, and MSH fields are decoded as they come.
	mshHas, mshEager bool
	msaCode, msaCtl  span
	hasMSA, nonAck   bool
	errs             int

	segCount int
	// segHash and fieldHash hash segs and fields (listHash), to find
	// the event lists in the stream's listCache.
	segHash, fieldHash uint64

	cats uint16
}

// msgBufs are the buffers a message is built in (msgBuild). They pass
// from message to message through the worker's pool (shared.takeBufs).
type msgBufs struct {
	arena []byte
	// mshRaw holds MSH-3 onwards as they came, split by the field
	// separator, decoded by decodeMSH only when the message becomes an
	// event or needs its character set: an ACK folded into the message
	// it answers never does.
	mshRaw []byte
	segs   []uint64 // the names of the first MaxListedSegments segments, as numbers
	fields []uint64 // fieldID of each field named in phi_fields
	phi    []phiRef
	sw     []swRef
	dev    []devRef
	equip  []span
}

// emptied gives the buffers with their contents dropped.
func (b msgBufs) emptied() msgBufs {
	return msgBufs{arena: b.arena[:0], mshRaw: b.mshRaw[:0], segs: b.segs[:0], fields: b.fields[:0],
		phi: b.phi[:0], sw: b.sw[:0], dev: b.dev[:0], equip: b.equip[:0]}
}

// maxPooledArena is the largest arena the pool keeps: a very long
// message's is left to the collector.
const maxPooledArena = 64 << 10

// begin starts a new message at an MSH segment, in buffers b.
func (m *msgBuild) begin(framing string, batch bool, start int64, ts time.Time, b msgBufs) {
	// Zeroing in place and setting what is not zero is cheaper than
	// copying a composite literal over the whole struct.
	*m = msgBuild{}
	m.active, m.framing, m.batch, m.start, m.bytes, m.ts = true, framing, batch, start, 3, ts
	m.sep, m.comp, m.rep, m.esc, m.sub, m.plainDelims = '|', '^', '~', '\\', '&', true
	m.msgBufs = b.emptied()
}

// bufs takes the message's buffers out of it.
func (m *msgBuild) bufs() msgBufs {
	b := m.msgBufs
	m.msgBufs = msgBufs{}
	return b
}

// segment notes a new segment of the message.
func (m *msgBuild) segment(k segKind) {
	switch k {
	case segMSH, segSFT, segMSA, segERR, segOther:
	default:
		m.nonAck = true
	}
	switch k {
	case segMSA:
		m.hasMSA = true
	case segERR:
		m.errs++
	case segSFT:
		if len(m.sw) < MaxSoftware {
			m.sw = append(m.sw, swRef{})
		}
	case segPRT:
		if len(m.dev) < MaxDevices {
			m.dev = append(m.dev, devRef{})
		}
	}
}

func (m *msgBuild) str(a string, v span) string { return a[v.off : v.off+v.n] }

func (m *msgBuild) bytesOf(v span) []byte { return m.arena[v.off : v.off+v.n] }

// ackCodes interns the acknowledgement codes of HL7 table 0008.
var ackCodes = [...]string{"AA", "AE", "AR", "CA", "CE", "CR"}

// ackCode gives MSA-1 as a string, without allocating for table 0008 codes.
func ackCode(b []byte) string {
	for _, c := range ackCodes {
		if string(b) == c {
			return c
		}
	}
	return string(b)
}

// field takes what the event needs from one complete field: its meaning
// by position, then the numbers the value scan finds in it.
func (s *stream) field(d *dirState, k segKind, f int, raw []byte) {
	s.positional(d, k, f, raw)
	if scanned(k, f) && !empty(raw, &d.m) && mayHoldNumber(raw) {
		s.scanHits(d, f, raw)
	}
}

// scanHits records the numbers the value scan finds in a field.
func (s *stream) scanHits(d *dirState, f int, raw []byte) {
	scanNumbersAll(raw, func(h numberHit) { s.addPHI(d, f, h.cat, raw[h.start:h.end]) })
}

// positional takes what a field's position gives it: header,
// acknowledgement, software and device values, and PHI by field.
func (s *stream) positional(d *dirState, k segKind, f int, raw []byte) {
	m := &d.m
	switch k {
	case segMSH:
		if f == 2 {
			s.encodingChars(d, raw)
		} else if f > 2 {
			s.mshFields(d, f, raw)
		}
		return
	case segMSA:
		switch f {
		case 1:
			m.msaCode = s.value(d, raw, MaxValueLen)
		case 2:
			m.msaCtl = s.value(d, raw, MaxValueLen)
		}
		return
	case segSFT:
		if n := len(m.sw); n > 0 && !empty(raw, m) {
			sw := &m.sw[n-1]
			switch f {
			case 1:
				sw.vendor = s.value(d, component(raw, m.comp, m.rep), MaxValueLen)
			case 2:
				sw.version = s.value(d, raw, MaxValueLen)
			case 3:
				sw.product = s.value(d, raw, MaxValueLen)
			case 4:
				sw.binary = s.value(d, raw, MaxValueLen)
			}
		}
		return
	case segPRT:
		if n := len(m.dev); n > 0 && !empty(raw, m) {
			switch {
			case f == 10:
				m.dev[n-1].v[0] = s.value(d, raw, MaxValueLen)
			case f >= 16 && f <= 22:
				m.dev[n-1].v[f-15] = s.value(d, raw, MaxValueLen)
			}
		}
		return
	case segOBX:
		if f == 18 && !empty(raw, m) {
			s.equipment(d, raw)
		}
		return
	case segERR, segFHS, segBHS, segBTS, segFTS:
		return
	}
	if c := phiFieldOf(k, f); c != noCat && !empty(raw, m) {
		s.addPHI(d, f, c, raw)
		if c == catPhone && bytes.IndexByte(raw, '@') >= 0 {
			m.cats |= catBit(catEmail)
		}
	}
}

// encodingChars takes MSH-2: component, repetition, escape and
// subcomponent characters (and truncation from v2.7, ignored).
func (s *stream) encodingChars(d *dirState, raw []byte) {
	m := &d.m
	if string(raw) == `^~\&` && m.sep != '^' && m.sep != '~' && m.sep != '\\' && m.sep != '&' {
		// The standard characters, checked at once.
		m.comp, m.rep, m.esc, m.sub, m.plainDelims = '^', '~', '\\', '&', true
		return
	}
	var enc [4]byte
	for i := 0; i < len(enc) && i < len(raw); i++ {
		enc[i] = raw[i]
	}
	ok := len(raw) >= 1
	for i, c := range enc {
		if c == 0 {
			continue
		}
		if !separatorByte(c) || c == m.sep {
			ok = false
		}
		for _, o := range enc[i+1:] {
			if o == c {
				ok = false
			}
		}
	}
	if !ok {
		s.anomaly(m.ts, d, "bad_encoding_characters", m.start, int64(len(raw)), 0)
	}
	m.comp, m.rep, m.esc, m.sub = enc[0], enc[1], enc[2], enc[3]
	m.plainDelims = (m.comp == 0 || m.comp == '^') && (m.rep == 0 || m.rep == '~') && (m.sub == 0 || m.sub == '&')
}

// mshFields keeps MSH fields f, f+1... (f >= 3; b is their text, split by
// the field separator): raw while they fit in mshRawMax, else decoded.
func (s *stream) mshFields(d *dirState, f int, b []byte) {
	m := &d.m
	if !m.mshEager {
		if len(m.mshRaw)+len(b)+1 <= mshRawMax {
			next := 3
			if m.mshHas {
				sb := [1]byte{m.sep}
				next = 4 + bytes.Count(m.mshRaw, sb[:])
			}
			for ; next <= f; next++ {
				if next > 3 {
					m.mshRaw = append(m.mshRaw, m.sep)
				}
				if next == f {
					m.mshRaw = append(m.mshRaw, b...)
				}
			}
			m.mshHas = true
			return
		}
		s.decodeMSH(d)
	}
	for {
		j := bytes.IndexByte(b, m.sep)
		if j < 0 {
			s.mshValue(d, f, fieldText(b))
			return
		}
		s.mshValue(d, f, fieldText(b[:j]))
		if f >= 18 {
			return
		}
		b, f = b[j+1:], f+1
	}
}

// decodeMSH decodes the MSH fields kept raw; later ones are decoded as
// they come.
func (s *stream) decodeMSH(d *dirState) {
	m := &d.m
	if m.mshEager {
		return
	}
	m.mshEager = true
	if !m.mshHas {
		return
	}
	b := m.mshRaw
	// Header fields are short: find their separators 8 bytes a step
	// rather than with a search call per field. ends[k] is where field
	// 3+k ends, for the nf fields up to MSH-18.
	var ends [16]int
	nf := 0
	sepw := lo8 * uint64(m.sep)
walk:
	for i := 0; i < len(b); i += 8 {
		for z := zeroBytes(wordZero(b, i) ^ sepw); z != 0; z &= z - 1 {
			ends[nf] = i + bits.TrailingZeros64(z)>>3
			if nf++; nf == len(ends) {
				break walk
			}
		}
	}
	if nf < len(ends) {
		ends[nf] = len(b)
		nf++
	}
	// Usually the whole header is plain ASCII without escapes: then its
	// values are the text as it came. It goes to the arena in one piece
	// (up to MSH-16, the last field kept) and the values are spans of it.
	plain := m.plainDelims && plainASCII(b, m.esc)
	base := len(m.arena)
	if plain {
		m.arena = append(m.arena, b[:ends[min(nf, 14)-1]]...)
	}
	start := 0
	for k, end := range ends[:nf] {
		if f := 3 + k; plain && f <= 16 {
			if mshPlainFields&(1<<f) != 0 {
				s.mshPlain(d, f, base+start, end-start)
			}
		} else {
			s.mshValue(d, f, b[start:end])
		}
		start = end + 1
	}
	m.mshRaw, m.mshHas = m.mshRaw[:0], false
}

// mshPlainFields are the header fields mshPlain takes: MSH-7 (time),
// MSH-8 (security), MSH-13 and MSH-14 are not kept.
const mshPlainFields = 1<<3 | 1<<4 | 1<<5 | 1<<6 | 1<<9 | 1<<10 | 1<<11 | 1<<12 | 1<<15 | 1<<16

// mshPlain takes header field f (3..16) from the arena, where it lies
// as it came (n bytes at off) and is plain ASCII under the standard
// delimiters: its value is a span of it, as keep would have copied it.
func (s *stream) mshPlain(d *dirState, f, off, n int) {
	m := &d.m
	v := m.arena[off : off+n]
	switch f {
	case 3:
		m.sapp = keptSpan(off, v, v)
	case 4:
		m.sfac = keptSpan(off, v, v)
	case 5:
		m.rapp = keptSpan(off, v, v)
	case 6:
		m.rfac = keptSpan(off, v, v)
	case 9:
		c1, c2, c3 := components3(v, m.comp, m.rep)
		m.typ, m.trig, m.strct = keptSpan(off, v, c1), keptSpan(off, v, c2), keptSpan(off, v, c3)
	case 10:
		m.ctl = keptSpan(off, v, v)
	case 11:
		m.proc = keptSpan(off, v, component(v, m.comp, m.rep))
	case 12:
		m.ver = keptSpan(off, v, component(v, m.comp, m.rep))
	case 15:
		m.aat = keptSpan(off, v, v)
	case 16:
		m.apat = keptSpan(off, v, v)
	}
}

// keptSpan is keep's value of part, a part of v (at off in the arena),
// plain ASCII, without copying it: the span of part less its trailing
// empty components and spaces, cut to MaxValueLen.
func keptSpan(off int, v, part []byte) span {
	for len(part) > 0 && (part[len(part)-1] == '^' || part[len(part)-1] == '~' || part[len(part)-1] == '&' || part[len(part)-1] == ' ') {
		part = part[:len(part)-1]
	}
	if len(part) == 0 {
		return span{}
	}
	// part starts cap(v)-cap(part) bytes into v.
	return span{int32(off + cap(v) - cap(part)), int32(min(len(part), MaxValueLen))}
}

// mshValue decodes one header field. MSH-3..16 are decoded as they would
// be when read, before MSH-18: with no character set declared.
func (s *stream) mshValue(d *dirState, f int, raw []byte) {
	m := &d.m
	v := func(raw []byte) span { return s.valueIn(d, raw, MaxValueLen, csNone) }
	switch f {
	case 3:
		m.sapp = v(raw)
	case 4:
		m.sfac = v(raw)
	case 5:
		m.rapp = v(raw)
	case 6:
		m.rfac = v(raw)
	case 9:
		c1, c2, c3 := components3(raw, m.comp, m.rep)
		m.typ = v(c1)
		m.trig = v(c2)
		m.strct = v(c3)
	case 10:
		m.ctl = v(raw)
	case 11:
		m.proc = v(component(raw, m.comp, m.rep))
	case 12:
		m.ver = v(component(raw, m.comp, m.rep))
	case 15:
		m.aat = v(raw)
	case 16:
		m.apat = v(raw)
	case 18:
		if !m.csDone {
			m.cs, m.csDone = s.lookupCharset(component(raw, m.comp, m.rep)), true
		}
	}
}

// charset gives the message's character set, reading MSH-18 on first use.
func (s *stream) charset(d *dirState) charsetID {
	m := &d.m
	if !m.csDone {
		s.decodeMSH(d)
		m.csDone = true // csNone when MSH-18 is absent
	}
	return m.cs
}

// empty reports whether a field holds no value: nothing, only delimiters
// and spaces, or the HL7 null `""`.
func empty(raw []byte, m *msgBuild) bool {
	if len(raw) == 2 && raw[0] == '"' && raw[1] == '"' {
		return true
	}
	for _, c := range raw {
		if c != m.comp && c != m.rep && c != m.sub && c != ' ' {
			return false
		}
	}
	return true
}

// component returns the first component of raw's first repetition. Values
// are short: a loop is quicker here than a search call per delimiter.
func component(raw []byte, comp, rep byte) []byte {
	for i, c := range raw {
		if (c == rep && rep != 0) || (c == comp && comp != 0) {
			return raw[:i]
		}
	}
	return raw
}

// components3 returns the first three components of raw's first
// repetition.
func components3(raw []byte, comp, rep byte) (c1, c2, c3 []byte) {
	var out [3][]byte
	k, start, end := 0, 0, len(raw)
	for i, c := range raw {
		if c == rep && rep != 0 {
			end = i
			break
		}
		if c == comp && comp != 0 {
			out[k], start = raw[start:i], i+1
			if k++; k == len(out) {
				return out[0], out[1], out[2]
			}
		}
	}
	out[k] = raw[start:end]
	return out[0], out[1], out[2]
}

// value decodes raw (escapes, then the message's character set) into the
// arena, at most limit bytes cut on a character boundary, trailing empty
// components dropped. ASCII without escapes under the standard delimiters,
// the usual case, is copied as it is.
func (s *stream) value(d *dirState, raw []byte, limit int) span {
	if d.m.plainDelims && plainASCII(raw, d.m.esc) {
		return d.m.keep(raw, limit)
	}
	return s.decode(d, raw, limit, s.charset(d))
}

// valueIn is value in character set cs.
func (s *stream) valueIn(d *dirState, raw []byte, limit int, cs charsetID) span {
	if d.m.plainDelims && plainASCII(raw, d.m.esc) {
		return d.m.keep(raw, limit)
	}
	return s.decode(d, raw, limit, cs)
}

// decode is value's slow path: escapes, delimiters, character sets.
func (s *stream) decode(d *dirState, raw []byte, limit int, cs charsetID) span {
	m := &d.m
	v := raw
	if !m.verbatim(raw, cs) {
		sh := s.sh
		sh.scratch = unescape(sh.scratch[:0], raw, m)
		sh.scratch2 = sh.dec.appendText(sh.scratch2[:0], sh.scratch, cs)
		v = sh.scratch2
	}
	return m.keep(v, limit)
}

// keep appends a decoded value to the arena, trailing empty components and
// spaces dropped, cut to limit bytes on a character boundary.
func (m *msgBuild) keep(v []byte, limit int) span {
	for len(v) > 0 && (v[len(v)-1] == '^' || v[len(v)-1] == '~' || v[len(v)-1] == '&' || v[len(v)-1] == ' ') {
		v = v[:len(v)-1]
	}
	if len(v) > limit {
		n := limit
		for n > 0 && !utf8.RuneStart(v[n]) {
			n--
		}
		v = v[:n]
	}
	sp := span{int32(len(m.arena)), int32(len(v))}
	m.arena = append(m.arena, v...)
	return sp
}

// plainASCII reports whether b has no 8-bit byte and no esc, 8 bytes a
// step.
func plainASCII(b []byte, esc byte) bool {
	escw := lo8 * uint64(esc)
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		if (x|zeroBytes(x^escw))&hi8 != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c >= 0x80 || c == esc {
			return false
		}
	}
	return true
}

// verbatim reports whether decoding raw in character set cs would give
// raw: no escape character, standard delimiters, and text that appendText
// copies (ASCII, or valid UTF-8 where no other 8-bit set is declared).
func (m *msgBuild) verbatim(raw []byte, cs charsetID) bool {
	if !m.plainDelims || (m.esc != 0 && bytes.IndexByte(raw, m.esc) >= 0) {
		return false
	}
	switch cs {
	case csNone, csASCII, csOther, csUTF8:
		return utf8.Valid(raw)
	}
	for _, c := range raw {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// unescape appends raw with HL7 escape sequences decoded and the message's
// delimiters written as the standard ^ ~ &. \F\ \S\ \T\ \R\ \E\ give the
// delimiter characters, \Xhh..\ the bytes; formatting (\H\ \N\ \.br\ ...)
// and character-set switches (\C..\ \M..\) are dropped. An unterminated
// escape is kept as it is.
func unescape(dst, raw []byte, m *msgBuild) []byte {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == m.esc && m.esc != 0 {
			j := bytes.IndexByte(raw[i+1:], m.esc)
			if j < 0 {
				return append(dst, raw[i:]...)
			}
			dst = appendEscape(dst, raw[i+1:i+1+j])
			i += j + 1
			continue
		}
		switch {
		case c == m.comp && c != 0:
			c = '^'
		case c == m.rep && c != 0:
			c = '~'
		case c == m.sub && c != 0:
			c = '&'
		}
		dst = append(dst, c)
	}
	return dst
}

func appendEscape(dst, seq []byte) []byte {
	if len(seq) == 0 {
		return dst
	}
	if len(seq) == 1 {
		switch seq[0] {
		case 'F':
			return append(dst, '|')
		case 'S':
			return append(dst, '^')
		case 'T':
			return append(dst, '&')
		case 'R':
			return append(dst, '~')
		case 'E':
			return append(dst, '\\')
		}
		return dst
	}
	if seq[0] == 'X' {
		h := seq[1:]
		for i := 0; i+1 < len(h); i += 2 {
			hi, ok1 := unhex(h[i])
			lo, ok2 := unhex(h[i+1])
			if !ok1 || !ok2 {
				break
			}
			dst = append(dst, hi<<4|lo)
		}
		return dst
	}
	if seq[0] == '.' && len(seq) == 3 && seq[1] == 'b' && seq[2] == 'r' {
		return append(dst, ' ')
	}
	return dst
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

// listHash adds a key to the hash of a list.
func listHash(h, key uint64) uint64 { return (h ^ key) * 0x100000001b3 }

// addPHI records that field f of the current segment held category c,
// with its value (raw is the field, or the number found in it).
func (s *stream) addPHI(d *dirState, f int, c category, raw []byte) {
	m := &d.m
	m.cats |= catBit(c)
	name, ok := s.fieldName(d, f)
	if !ok || len(m.phi) >= MaxPHIValues {
		return
	}
	m.phi = append(m.phi, phiRef{field: name, cat: c, val: s.value(d, raw, MaxPHIValueLen)})
}

// fieldName gives the index of field f of the current segment ("SEG-f")
// in the message's PHI field list, adding it on first use. ok is false
// when the list is full and the field is not in it.
func (s *stream) fieldName(d *dirState, f int) (int32, bool) {
	m := &d.m
	id := fieldID(d.name, f)
	for i := len(m.fields) - 1; i >= 0; i-- { // the field last named is the likeliest
		if m.fields[i] == id {
			return int32(i), true
		}
	}
	if len(m.fields) >= MaxPHIFields {
		return 0, false
	}
	m.fields = append(m.fields, id)
	m.fieldHash = listHash(m.fieldHash, id)
	return int32(len(m.fields) - 1), true
}

// fieldNames names fields by their fieldID: "PID-5". The names share one
// string.
func fieldNames(ids []uint64) []string {
	var b []byte
	for _, id := range ids {
		b = append(b, byte(id>>48), byte(id>>40), byte(id>>32), '-')
		b = appendInt(b, int(uint32(id)))
	}
	all, l := string(b), make([]string, len(ids))
	for i, id := range ids {
		n := 4 + decimalLen(int(uint32(id)))
		l[i], all = all[:n], all[n:]
	}
	return l
}

// decimalLen is the number of decimal digits of n >= 0.
func decimalLen(n int) int {
	k := 1
	for ; n >= 10; n /= 10 {
		k++
	}
	return k
}

// appendInt appends n >= 0 in decimal.
func appendInt(b []byte, n int) []byte {
	var t [20]byte
	i := len(t)
	for {
		i--
		t[i] = byte('0' + n%10)
		if n /= 10; n == 0 {
			break
		}
	}
	return append(b, t[i:]...)
}

// equipment records the distinct OBX-18 repetitions.
func (s *stream) equipment(d *dirState, raw []byte) {
	m := &d.m
	for len(raw) > 0 && len(m.equip) < MaxEquipment {
		r := raw
		if i := bytes.IndexByte(raw, m.rep); i >= 0 && m.rep != 0 {
			r, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		if empty(r, m) {
			continue
		}
		sp := s.value(d, r, MaxValueLen)
		v := m.arena[sp.off : sp.off+sp.n]
		dup := false
		for _, e := range m.equip {
			if bytes.Equal(m.arena[e.off:e.off+e.n], v) {
				dup = true
				break
			}
		}
		if dup {
			m.arena = m.arena[:sp.off]
			continue
		}
		m.equip = append(m.equip, sp)
	}
}

// endMessage ends the message being read, if any, and pairs or emits it.
// endMessage ends the message being read, if any, and pairs or emits it.
func (s *stream) endMessage(d *dirState, ts time.Time) {
	if !d.m.active {
		return
	}
	s.finishMessage(d, ts)
	s.sh.putBufs(d.m.bufs())
}

// finishMessage makes the event of the message just ended, or folds the
// acknowledgement it is into the message it answers.
func (s *stream) finishMessage(d *dirState, ts time.Time) {
	m := &d.m
	m.active = false
	m.ts = ts
	s.expire(ts)
	if m.hasMSA && !m.nonAck {
		s.ack(d, ts)
		return
	}
	msg, a := s.build(d)
	s.seq++
	if m.hasMSA {
		// A response with content (RSP, ORL...): it answers a message and
		// is reported itself.
		msg.AckCode, msg.AckedControlID = m.str(a, m.msaCode), m.str(a, m.msaCtl)
		msg.ErrorSegments = m.errs
		s.answer(d, ts)
		s.em.Emit(ts, msg)
		return
	}
	if msg.AcceptAckType == "NE" && msg.AppAckType == "NE" {
		// Enhanced mode, no acknowledgement of any kind asked for.
		s.em.Emit(ts, msg)
		return
	}
	if len(s.pending[d.dir]) >= MaxPending {
		s.unanswered(popPending(&s.pending[d.dir]))
	}
	s.pushPending(int(d.dir&1), pend{msg: msg, ts: ts, seq: s.seq})
}

// pushPending adds a message to those awaiting their ACK in direction
// dir. pending[dir] is a window on pendBuf[dir] that moves on as the
// oldest are popped: it is copied back to the start when it reaches the
// end, so that neither popping nor pushing copies the window each time.
func (s *stream) pushPending(dir int, x pend) {
	p := &s.pending[dir]
	if len(*p) == cap(*p) {
		buf := s.pendBuf[dir]
		if len(*p) >= len(buf)/2 {
			buf = make([]pend, max(8, min(2*len(buf), 2*MaxPending)))
		}
		n := copy(buf, *p)
		clear(buf[n:])
		s.pendBuf[dir], *p = buf, buf[:n]
	}
	*p = append(*p, x)
}

// popPending removes and gives the oldest of *p (not empty).
func popPending(p *[]pend) pend {
	x := (*p)[0]
	(*p)[0] = pend{} // let the event go
	*p = (*p)[1:]
	return x
}

// ack handles an acknowledgement: folded into the message it answers, a
// duplicate_ack anomaly, or an unsolicited ACK event.
func (s *stream) ack(d *dirState, ts time.Time) {
	if s.answer(d, ts) {
		return
	}
	m := &d.m
	ctl := m.bytesOf(m.msaCtl)
	o := &s.d[d.dir^1]
	if h := ctlHash(ctl); h != 0 {
		for _, a := range o.answered {
			if a == h {
				s.anomaly(ts, d, "duplicate_ack", m.start, 0, 0)
				return
			}
		}
	}
	msg, a := s.build(d)
	msg.UnsolicitedAck = true
	msg.AckCode, msg.AckedControlID = m.str(a, m.msaCode), m.str(a, m.msaCtl)
	msg.ErrorSegments = m.errs
	s.em.Emit(ts, msg)
}

// answer folds the current message's MSA into the pending message it
// answers, emitting that message; false when none is pending.
func (s *stream) answer(d *dirState, ts time.Time) bool {
	m := &d.m
	ctl := m.bytesOf(m.msaCtl)
	o := &s.d[d.dir^1]
	p := &s.pending[d.dir^1]
	for i := range *p {
		pd := &(*p)[i]
		if pd.msg.ControlID != string(ctl) {
			continue
		}
		msg := pd.msg
		code := ackCode(m.bytesOf(m.msaCode))
		if len(code) == 2 && code[0] == 'C' && pd.commit == "" &&
			(msg.AppAckType == "AL" || msg.AppAckType == "ER" || msg.AppAckType == "SU") {
			// Enhanced-mode commit ACK: the application ACK may follow.
			pd.commit = code
			return true
		}
		msg.AckCode, msg.CommitAckCode = code, pd.commit
		msg.ackLatency = ts.Sub(pd.ts).Seconds()
		msg.AckLatency = &msg.ackLatency
		msg.ErrorSegments = m.errs
		ets := pd.ts
		*p = append((*p)[:i], (*p)[i+1:]...)
		(*p)[:len(*p)+1][len(*p)] = pend{} // let the event go
		o.answered[o.ansN%answeredRing] = ctlHash(ctl)
		o.ansN++
		s.em.Emit(ets, msg)
		return true
	}
	return false
}

// expire reports messages that waited longer than MaxAckWait.
func (s *stream) expire(ts time.Time) {
	if len(s.pending[0]) == 0 && len(s.pending[1]) == 0 {
		return
	}
	for i := range s.pending {
		p := &s.pending[i]
		for len(*p) > 0 && ts.Sub((*p)[0].ts) > MaxAckWait {
			s.unanswered(popPending(p))
		}
	}
}

func (s *stream) unanswered(p pend) {
	if p.commit != "" {
		p.msg.AckCode = p.commit
	} else {
		p.msg.Unanswered = true
	}
	s.em.Emit(p.ts, p.msg)
}

// build makes the event of the current message. a is its arena as one
// string, which every value of the event points into.
func (s *stream) build(d *dirState) (*Message, string) {
	m := &d.m
	s.decodeMSH(d)
	cs := s.charset(d)
	msg, phi, text := s.sh.block(len(m.phi), len(m.arena))
	var a string
	if n := len(m.arena); n <= len(text) {
		copy(text, m.arena)
		a = unsafe.String(unsafe.SliceData(text), n)
	} else {
		a = string(m.arena)
	}
	// set field by field: the block is zero already
	msg.Direction, msg.Framing, msg.Batch = d.dir.String(), m.framing, m.batch
	msg.MessageType, msg.TriggerEvent, msg.MessageStructure = m.str(a, m.typ), m.str(a, m.trig), m.str(a, m.strct)
	msg.ControlID, msg.ProcessingID, msg.Version = m.str(a, m.ctl), m.str(a, m.proc), m.str(a, m.ver)
	msg.SendingApplication, msg.SendingFacility = m.str(a, m.sapp), m.str(a, m.sfac)
	msg.ReceivingApplication, msg.ReceivingFacility = m.str(a, m.rapp), m.str(a, m.rfac)
	msg.AcceptAckType, msg.AppAckType, msg.Charset = m.str(a, m.aat), m.str(a, m.apat), charsetNames[cs]
	msg.SegmentCount, msg.Bytes, msg.Truncated = m.segCount, m.bytes, m.truncated
	if len(m.segs) > 0 {
		msg.Segments, msg.segmentsJSON = s.segmentList(m)
	}
	if m.cats != 0 {
		msg.phiCategoriesJSON = s.sh.catLists.list(m.cats)
		msg.PHICategories = msg.phiCategoriesJSON.list
	}
	if len(m.fields) > 0 {
		msg.PHIFields, msg.phiFieldsJSON = s.sh.fieldLists.fieldList(m)
	}
	if len(m.phi) > 0 {
		if len(m.phi) <= len(phi) {
			msg.PHI = phi[:len(m.phi):len(m.phi)]
		} else {
			msg.PHI = make([]PHIValue, len(m.phi))
		}
		for i, p := range m.phi {
			// Field by field: a composite literal is built on the stack
			// and copied, which stalls on reading back what was just
			// written.
			v := &msg.PHI[i]
			v.Field, v.Category, v.Value = msg.PHIFields[p.field], p.cat.String(), m.str(a, p.val)
		}
	}
	if len(m.sw) > 0 {
		msg.Software = make([]Software, len(m.sw))
		for i, w := range m.sw {
			msg.Software[i] = Software{Vendor: m.str(a, w.vendor), Version: m.str(a, w.version), Product: m.str(a, w.product), BinaryID: m.str(a, w.binary)}
		}
	}
	if len(m.dev) > 0 {
		msg.UDI = make([]Device, len(m.dev))
		for i, v := range m.dev {
			msg.UDI[i] = Device{
				ID: m.str(a, v.v[0]), DeviceID: m.str(a, v.v[1]), ManufactureDate: m.str(a, v.v[2]),
				ExpiryDate: m.str(a, v.v[3]), Lot: m.str(a, v.v[4]), Serial: m.str(a, v.v[5]),
				Donation: m.str(a, v.v[6]), Type: m.str(a, v.v[7]),
			}
		}
	}
	if len(m.equip) > 0 {
		msg.EquipmentIDs = make([]string, len(m.equip))
		for i, e := range m.equip {
			msg.EquipmentIDs[i] = m.str(a, e)
		}
	}
	return msg, a
}
