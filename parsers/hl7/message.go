package hl7

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"time"
	"unicode/utf8"
)

// span is a value kept in a message's arena.
type span struct{ off, n int32 }

// fieldKey names a field that held PHI: segment name and field number
// (fieldID), and its name "PID-5" in the arena.
type fieldKey struct {
	id   uint64
	name span
}

// fieldID packs a segment name and field number.
func fieldID(seg uint32, f int) uint64 { return uint64(seg)<<32 | uint64(uint32(f)) }

type phiRef struct {
	field span
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

	arena                             []byte
	typ, trig, strct, ctl, proc, ver  span
	sapp, sfac, rapp, rfac, aat, apat span
	// mshRaw holds MSH-3 onwards as they came, split by the field
	// separator (mshHas: it holds MSH-3, perhaps empty), decoded by
	// decodeMSH only when the message becomes an event or needs its
	// character set: an ACK folded into the message it answers never
	// does. After decodeMSH (mshEager), MSH fields are decoded as they come.
	mshRaw           []byte
	mshHas, mshEager bool
	msaCode, msaCtl  span
	hasMSA, nonAck   bool
	errs             int

	segs     []string
	segCount int

	cats   uint16
	fields []fieldKey
	phi    []phiRef
	sw     []swRef
	dev    []devRef
	equip  []span
}

// begin starts a new message at an MSH segment.
func (m *msgBuild) begin(framing string, batch bool, start int64, ts time.Time) {
	*m = msgBuild{
		active: true, framing: framing, batch: batch, start: start, bytes: 3, ts: ts,
		sep: '|', comp: '^', rep: '~', esc: '\\', sub: '&', plainDelims: true,
		arena: m.arena[:0], mshRaw: m.mshRaw[:0], segs: m.segs[:0], fields: m.fields[:0], phi: m.phi[:0],
		sw: m.sw[:0], dev: m.dev[:0], equip: m.equip[:0],
	}
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
				sw.vendor = s.value(d, component(raw, m.comp, m.rep, 1), MaxValueLen)
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
	if c := phiField(k, f); c != noCat && !empty(raw, m) {
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
	w := sepWalker{r: b, sepw: lo8 * uint64(m.sep), i: -8}
	for f, start := 3, 0; f <= 18; f++ {
		end := w.next()
		if end < 0 {
			s.mshValue(d, f, b[start:])
			break
		}
		s.mshValue(d, f, b[start:end])
		start = end + 1
	}
	m.mshRaw, m.mshHas = m.mshRaw[:0], false
}

// mshValue decodes one header field. MSH-3..16 are decoded as they would
// be when read, before MSH-18: with no character set declared.
func (s *stream) mshValue(d *dirState, f int, raw []byte) {
	m := &d.m
	switch f {
	case 3:
		m.sapp = s.valueIn(d, raw, MaxValueLen, csNone)
	case 4:
		m.sfac = s.valueIn(d, raw, MaxValueLen, csNone)
	case 5:
		m.rapp = s.valueIn(d, raw, MaxValueLen, csNone)
	case 6:
		m.rfac = s.valueIn(d, raw, MaxValueLen, csNone)
	case 9:
		c1, c2, c3 := components3(raw, m.comp, m.rep)
		m.typ = s.valueIn(d, c1, MaxValueLen, csNone)
		m.trig = s.valueIn(d, c2, MaxValueLen, csNone)
		m.strct = s.valueIn(d, c3, MaxValueLen, csNone)
	case 10:
		m.ctl = s.valueIn(d, raw, MaxValueLen, csNone)
	case 11:
		m.proc = s.valueIn(d, component(raw, m.comp, m.rep, 1), MaxValueLen, csNone)
	case 12:
		m.ver = s.valueIn(d, component(raw, m.comp, m.rep, 1), MaxValueLen, csNone)
	case 15:
		m.aat = s.valueIn(d, raw, MaxValueLen, csNone)
	case 16:
		m.apat = s.valueIn(d, raw, MaxValueLen, csNone)
	case 18:
		if !m.csDone {
			m.cs, m.csDone = lookupCharset(component(raw, m.comp, m.rep, 1)), true
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

// component returns component n (from 1) of raw's first repetition.
func component(raw []byte, comp, rep byte, n int) []byte {
	if rep != 0 {
		if i := bytes.IndexByte(raw, rep); i >= 0 {
			raw = raw[:i]
		}
	}
	if comp == 0 {
		if n == 1 {
			return raw
		}
		return nil
	}
	for k := 1; ; k++ {
		i := bytes.IndexByte(raw, comp)
		if k == n {
			if i >= 0 {
				return raw[:i]
			}
			return raw
		}
		if i < 0 {
			return nil
		}
		raw = raw[i+1:]
	}
}

// components3 returns the first three components of raw's first
// repetition, as component does one by one.
func components3(raw []byte, comp, rep byte) (c1, c2, c3 []byte) {
	if rep != 0 {
		if i := bytes.IndexByte(raw, rep); i >= 0 {
			raw = raw[:i]
		}
	}
	if comp == 0 {
		return raw, nil, nil
	}
	var out [3][]byte
	for k := range out {
		i := bytes.IndexByte(raw, comp)
		if i < 0 {
			out[k] = raw
			break
		}
		out[k], raw = raw[:i], raw[i+1:]
	}
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
		d.scratch = unescape(d.scratch[:0], raw, m)
		d.scratch2 = s.dec.appendText(d.scratch2[:0], d.scratch, cs)
		v = d.scratch2
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

// fieldName gives the arena span of "SEG-n" for the current segment,
// adding it to the message's PHI field list on first use. ok is false
// when the list is full and the field is not in it.
func (s *stream) fieldName(d *dirState, f int) (span, bool) {
	m := &d.m
	id := fieldID(d.name, f)
	for i := len(m.fields) - 1; i >= 0; i-- { // the field last named is the likeliest
		if m.fields[i].id == id {
			return m.fields[i].name, true
		}
	}
	if len(m.fields) >= MaxPHIFields {
		return span{}, false
	}
	off := len(m.arena)
	m.arena = append(m.arena, byte(d.name>>16), byte(d.name>>8), byte(d.name), '-')
	m.arena = appendInt(m.arena, f)
	sp := span{int32(off), int32(len(m.arena) - off)}
	m.fields = append(m.fields, fieldKey{id: id, name: sp})
	return sp, true
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
	m := &d.m
	if !m.active {
		return
	}
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
	p := &s.pending[d.dir]
	if len(*p) >= MaxPending {
		old := (*p)[0]
		*p = append((*p)[:0], (*p)[1:]...)
		s.unanswered(old)
	}
	*p = append(*p, pend{msg: msg, ts: ts, seq: s.seq})
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
	for i := range o.answered {
		if c := &o.answered[i]; c.n > 0 && bytes.Equal(c.b[:c.n], ctl[:min(len(ctl), maxCtlID)]) {
			s.anomaly(ts, d, "duplicate_ack", m.start, 0, 0)
			return
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
		*p = append((*p)[:i], (*p)[i+1:]...)
		c := &o.answered[o.ansN%answeredRing]
		o.ansN++
		c.n = copy(c.b[:], ctl)
		s.em.Emit(pd.ts, msg)
		return true
	}
	return false
}

// expire reports messages that waited longer than MaxAckWait.
func (s *stream) expire(ts time.Time) {
	for i := range s.pending {
		p := &s.pending[i]
		for len(*p) > 0 && ts.Sub((*p)[0].ts) > MaxAckWait {
			old := (*p)[0]
			*p = append((*p)[:0], (*p)[1:]...)
			s.unanswered(old)
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

// eventBlock holds an event and, when they fit, its string slices and PHI
// values, so that most events take two allocations: this and the arena
// string every value points into.
type eventBlock struct {
	msg  Message
	strs [blockStrings]string
	phi  [blockPHI]PHIValue
}

// Room in an eventBlock: segment names, PHI field names and categories;
// PHI values. Larger events allocate their slices apart.
const (
	blockStrings = 32
	blockPHI     = 12
)

// build makes the event of the current message. a is its arena as one
// string, which every value of the event points into.
func (s *stream) build(d *dirState) (*Message, string) {
	m := &d.m
	s.decodeMSH(d)
	cs := s.charset(d)
	a := string(m.arena)
	ev := &eventBlock{}
	msg := &ev.msg // set field by field: the block is zero already
	msg.Direction, msg.Framing, msg.Batch = d.dir.String(), m.framing, m.batch
	msg.MessageType, msg.TriggerEvent, msg.MessageStructure = m.str(a, m.typ), m.str(a, m.trig), m.str(a, m.strct)
	msg.ControlID, msg.ProcessingID, msg.Version = m.str(a, m.ctl), m.str(a, m.proc), m.str(a, m.ver)
	msg.SendingApplication, msg.SendingFacility = m.str(a, m.sapp), m.str(a, m.sfac)
	msg.ReceivingApplication, msg.ReceivingFacility = m.str(a, m.rapp), m.str(a, m.rfac)
	msg.AcceptAckType, msg.AppAckType, msg.Charset = m.str(a, m.aat), m.str(a, m.apat), charsetNames[cs]
	msg.SegmentCount, msg.Bytes, msg.Truncated = m.segCount, m.bytes, m.truncated
	ncat := bits.OnesCount16(m.cats)
	if n := len(m.segs) + len(m.fields) + ncat; n > 0 {
		strs := ev.strs[:0]
		if n > len(ev.strs) {
			strs = make([]string, 0, n)
		}
		if len(m.segs) > 0 {
			strs = append(strs, m.segs...)
			msg.Segments = strs[:len(strs):len(strs)]
		}
		if ncat > 0 {
			k := len(strs)
			for i, c := range catOrder {
				if m.cats&(1<<i) != 0 {
					strs = append(strs, c)
				}
			}
			msg.PHICategories = strs[k:len(strs):len(strs)]
		}
		if len(m.fields) > 0 {
			k := len(strs)
			for _, f := range m.fields {
				strs = append(strs, m.str(a, f.name))
			}
			msg.PHIFields = strs[k:len(strs):len(strs)]
		}
	}
	if len(m.phi) > 0 {
		if len(m.phi) <= len(ev.phi) {
			msg.PHI = ev.phi[:len(m.phi):len(m.phi)]
		} else {
			msg.PHI = make([]PHIValue, len(m.phi))
		}
		for i, p := range m.phi {
			msg.PHI[i] = PHIValue{Field: m.str(a, p.field), Category: p.cat.String(), Value: m.str(a, p.val)}
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
