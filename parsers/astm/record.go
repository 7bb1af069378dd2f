package astm

import (
	"bytes"
	"strconv"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/medtap/medtap/parsers/hl7"
)

type span struct{ off, n int32 }

type phiRef struct {
	field span
	cat   string
	val   span
}

type fieldKey struct {
	typ  byte
	f    int
	name span
}

// msgBuild is what one direction keeps of the message being read.
type msgBuild struct {
	active    bool
	framing   string
	bytes     int64
	truncated bool
	skipping  bool
	c         counters
	counts    RecordCounts
	records   int

	fd, rd, cd, ed byte // field, repeat, component, escape delimiters

	arena                             []byte
	sender, receiver, proc, ver, term span
	password                          bool
	cats                              uint16
	fields                            []fieldKey
	phi                               []phiRef
}

func (m *msgBuild) str(a string, v span) string { return a[v.off : v.off+v.n] }

// text passes message text (frame text, or the bare stream) to the record
// assembler: records end at CR (or LF).
func (s *stream) text(d *dirState, b []byte, ts time.Time) {
	bare := d.mode == modeBare
	for len(b) > 0 {
		i := 0
		for i < len(b) && b[i] != cr && b[i] != lf {
			i++
		}
		if d.m.active {
			d.m.bytes += int64(min(i+1, len(b)))
		}
		if bare {
			d.off += int64(min(i+1, len(b)))
		}
		if !d.recOver {
			if room := MaxRecordLen - len(d.rec); i > room {
				d.rec = append(d.rec, b[:room]...)
				d.recOver = true
			} else {
				if d.rec == nil {
					d.rec = make([]byte, 0, 256)
				}
				d.rec = append(d.rec, b[:i]...)
			}
		}
		if i == len(b) {
			return
		}
		s.endRecord(d, ts)
		b = b[i+1:]
	}
}

// endRecord decodes the record assembled, if any.
func (s *stream) endRecord(d *dirState, ts time.Time) {
	r := d.rec
	if d.recOver {
		s.anomaly(ts, d, "record_too_long", d.off, int64(len(r)), MaxRecordLen)
	}
	d.rec, d.recOver = d.rec[:0], false
	if len(r) == 0 {
		return
	}
	if m := &d.m; m.active && m.bytes > MaxMessageLen && !m.skipping {
		m.skipping, m.truncated = true, true
		s.anomaly(ts, d, "message_too_large", d.off, m.bytes, MaxMessageLen)
	}
	typ := r[0]
	if typ >= 'a' && typ <= 'z' {
		typ -= 'a' - 'A'
	}
	m := &d.m
	if typ == 'H' && len(r) >= 2 && delimByte(r[1]) {
		if m.active {
			m.truncated = true
			s.anomaly(ts, d, "missing_terminator", d.off, 0, 0)
			s.endMessage(d, ts)
		}
		s.begin(d, r, ts)
		return
	}
	if !m.active {
		if !d.quiet && !d.notedOrphan {
			d.notedOrphan = true
			s.anomaly(ts, d, "record_outside_message", d.off, 0, 0)
		}
		return
	}
	if m.skipping {
		if typ == 'L' {
			s.endMessage(d, ts)
		}
		return
	}
	m.records++
	if m.records > MaxRecords {
		m.skipping, m.truncated = true, true
		s.anomaly(ts, d, "too_many_records", d.off, int64(m.records), MaxRecords)
		return
	}
	switch typ {
	case 'P':
		m.counts.P++
	case 'O':
		m.counts.O++
	case 'R':
		m.counts.R++
	case 'C':
		m.counts.C++
	case 'Q':
		m.counts.Q++
	case 'L':
		m.counts.L++
	case 'M':
		m.counts.M++
	case 'S':
		m.counts.S++
	default:
		m.counts.Other++
	}
	// Fields: field n is the (n-1)th delimited piece.
	f := 1
	for rest := r; f <= MaxFields; f++ {
		i := bytes.IndexByte(rest, m.fd)
		v := rest
		if i >= 0 {
			v = rest[:i]
		}
		if f > 1 {
			s.field(d, typ, f, v)
		}
		if i < 0 {
			break
		}
		rest = rest[i+1:]
	}
	if typ == 'L' {
		s.endMessage(d, ts)
	}
}

// begin starts a message at its header record.
func (s *stream) begin(d *dirState, r []byte, ts time.Time) {
	m := &d.m
	framing := "e1381"
	if d.mode == modeBare {
		framing = "bare"
	}
	*m = msgBuild{
		active: true, framing: framing, bytes: int64(len(r) + 1), c: d.pre,
		fd: r[1], rd: '\\', cd: '^', ed: '&',
		arena: m.arena[:0], fields: m.fields[:0], phi: m.phi[:0],
	}
	m.counts.H = 1
	m.records = 1
	d.pre = counters{}
	d.quiet = false
	// The delimiter definition: repeat, component, escape.
	var dl [3]byte
	n := 0
	for i := 2; i < len(r) && r[i] != m.fd && n < 3; i++ {
		dl[n] = r[i]
		n++
	}
	ok := n == 3
	for i, c := range dl[:n] {
		if !delimByte(c) || c == m.fd {
			ok = false
		}
		for _, o := range dl[i+1 : n] {
			if o == c {
				ok = false
			}
		}
	}
	if ok {
		m.rd, m.cd, m.ed = dl[0], dl[1], dl[2]
	} else {
		s.anomaly(ts, d, "bad_delimiters", d.off, 0, 0)
	}
	f := 1
	for rest := r; f <= 14; f++ {
		i := bytes.IndexByte(rest, m.fd)
		v := rest
		if i >= 0 {
			v = rest[:i]
		}
		switch f {
		case 4:
			m.password = len(v) > 0
		case 5:
			m.sender = s.value(d, v)
		case 10:
			m.receiver = s.value(d, v)
		case 12:
			m.proc = s.value(d, v)
		case 13:
			m.ver = s.value(d, v)
		}
		if i < 0 {
			break
		}
		rest = rest[i+1:]
	}
}

// phiField gives the PHI category of a patient (P) or query (Q) record
// field by position (LIS2-A2 §8.1, §12.1), "" for none.
func phiField(typ byte, f int) string {
	switch typ {
	case 'P':
		switch f {
		case 3, 4, 5:
			return hl7.CatID
		case 6, 7, 14:
			return hl7.CatName
		case 8:
			return hl7.CatBirthDate
		case 9:
			return hl7.CatSex
		case 11:
			return hl7.CatAddress
		case 13:
			return hl7.CatPhone
		}
	case 'Q':
		if f == 3 || f == 4 {
			return hl7.CatID
		}
	}
	return ""
}

// field takes PHI from one field of a non-header record; every field but
// the terminator's is scanned for phone and resident ID numbers.
func (s *stream) field(d *dirState, typ byte, f int, v []byte) {
	m := &d.m
	if typ == 'L' {
		if f == 3 {
			m.term = s.value(d, v)
		}
		return
	}
	if empty(v, m) {
		return
	}
	if cat := phiField(typ, f); cat != "" {
		s.addPHI(d, typ, f, cat, v)
	}
	hl7.ScanNumbers(v, func(cat string, i, j int) { s.addPHI(d, typ, f, cat, v[i:j]) })
}

func empty(v []byte, m *msgBuild) bool {
	for _, c := range v {
		if c != m.cd && c != m.rd && c != ' ' {
			return false
		}
	}
	return true
}

func (s *stream) addPHI(d *dirState, typ byte, f int, cat string, v []byte) {
	m := &d.m
	for i, c := range catOrder {
		if c == cat {
			m.cats |= 1 << i
		}
	}
	var name span
	found := false
	for _, k := range m.fields {
		if k.typ == typ && k.f == f {
			name, found = k.name, true
			break
		}
	}
	if !found {
		if len(m.fields) >= MaxPHIFields {
			return
		}
		off := len(m.arena)
		m.arena = append(m.arena, typ, '-')
		m.arena = strconv.AppendInt(m.arena, int64(f), 10)
		name = span{int32(off), int32(len(m.arena) - off)}
		m.fields = append(m.fields, fieldKey{typ, f, name})
	}
	if len(m.phi) < MaxPHIValues {
		m.phi = append(m.phi, phiRef{name, cat, s.value(d, v)})
	}
}

// catOrder is the order phi_categories lists categories in (the hl7
// package's closed set).
var catOrder = [...]string{hl7.CatName, hl7.CatID, hl7.CatBirthDate, hl7.CatSex, hl7.CatAddress, hl7.CatPhone, hl7.CatEmail, hl7.CatIDNumber, hl7.CatInsurance, hl7.CatCustom}

// value decodes a field into the arena: escapes (&F& &S& &R& &E& &Xhh&)
// decoded, delimiters written as | \ ^, 8-bit text taken as UTF-8 when
// valid, else as GB 18030; at most MaxValueLen bytes, trailing empty
// components dropped.
func (s *stream) value(d *dirState, v []byte) span {
	m := &d.m
	s.tmp = s.tmp[:0]
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == m.ed {
			if j := bytes.IndexByte(v[i+1:], m.ed); j >= 0 {
				s.tmp = appendEscape(s.tmp, v[i+1:i+1+j])
				i += j + 1
				continue
			}
		}
		switch c {
		case m.cd:
			c = '^'
		case m.rd:
			c = '\\'
		}
		s.tmp = append(s.tmp, c)
	}
	out := s.tmp
	if !utf8.Valid(out) {
		if s.gb == nil {
			s.gb = simplifiedchinese.GB18030.NewDecoder()
		}
		s.tmp2 = s.tmp2[:0]
		if r, err := s.gb.Bytes(out); err == nil {
			s.tmp2 = append(s.tmp2, r...)
		} else {
			s.tmp2 = append(s.tmp2, bytes.ToValidUTF8(out, []byte("\uFFFD"))...)
		}
		out = s.tmp2
	}
	for len(out) > 0 && (out[len(out)-1] == '^' || out[len(out)-1] == '\\' || out[len(out)-1] == ' ') {
		out = out[:len(out)-1]
	}
	if len(out) > MaxValueLen {
		n := MaxValueLen
		for n > 0 && !utf8.RuneStart(out[n]) {
			n--
		}
		out = out[:n]
	}
	sp := span{int32(len(m.arena)), int32(len(out))}
	m.arena = append(m.arena, out...)
	return sp
}

func appendEscape(dst, seq []byte) []byte {
	if len(seq) == 1 {
		switch seq[0] {
		case 'F':
			return append(dst, '|')
		case 'S':
			return append(dst, '^')
		case 'R':
			return append(dst, '\\')
		case 'E':
			return append(dst, '&')
		}
		return dst
	}
	if len(seq) > 1 && seq[0] == 'X' {
		h := seq[1:]
		for i := 0; i+1 < len(h); i += 2 {
			hi, ok1 := unhex(h[i])
			lo, ok2 := unhex(h[i+1])
			if !ok1 || !ok2 {
				break
			}
			dst = append(dst, hi<<4|lo)
		}
	}
	return dst
}

// endMessage emits the message being read.
func (s *stream) endMessage(d *dirState, ts time.Time) {
	m := &d.m
	if !m.active {
		return
	}
	m.active = false
	a := string(m.arena)
	msg := &Message{
		Direction:       d.dir.String(),
		Framing:         m.framing,
		Sender:          m.str(a, m.sender),
		Receiver:        m.str(a, m.receiver),
		ProcessingID:    m.str(a, m.proc),
		Version:         m.str(a, m.ver),
		PasswordPresent: m.password,
		Records:         m.counts,
		TerminationCode: m.str(a, m.term),
		Frames:          m.c.frames,
		ChecksumErrors:  m.c.checksumErrors,
		Retransmissions: m.c.retransmissions,
		NAKs:            m.c.naks,
		Bytes:           m.bytes,
		Truncated:       m.truncated,
	}
	if m.cats != 0 {
		for i, c := range catOrder {
			if m.cats&(1<<i) != 0 {
				msg.PHICategories = append(msg.PHICategories, c)
			}
		}
	}
	if len(m.fields) > 0 {
		msg.PHIFields = make([]string, len(m.fields))
		for i, k := range m.fields {
			msg.PHIFields[i] = m.str(a, k.name)
		}
	}
	if len(m.phi) > 0 {
		msg.PHI = make([]PHIValue, len(m.phi))
		for i, p := range m.phi {
			msg.PHI[i] = PHIValue{Field: m.str(a, p.field), Category: p.cat, Value: m.str(a, p.val)}
		}
	}
	s.em.Emit(ts, msg)
}

// decoder state shared by a stream's directions.
type textState struct {
	tmp, tmp2 []byte
	gb        *encoding.Decoder
}
