package dicom

import (
	"encoding/binary"

	"github.com/suyashkumar/dicom/pkg/tag"
)

// tsKind is how a dataset is encoded (PS3.5 10).
type tsKind uint8

const (
	tsAuto       tsKind = iota // context unknown: explicit or implicit VR LE sniffed from the first element
	tsImplicitLE               // 1.2.840.10008.1.2
	tsExplicitLE               // 1.2.840.10008.1.2.1 and every encapsulated syntax
	tsExplicitBE               // 1.2.840.10008.1.2.2 (retired)
	tsDeflated                 // 1.2.840.10008.1.2.1.99: deflated explicit VR LE
)

// tsKindOf maps a transfer syntax UID to its encoding.
func tsKindOf(uid string) tsKind {
	switch uid {
	case "":
		return tsAuto
	case "1.2.840.10008.1.2":
		return tsImplicitLE
	case "1.2.840.10008.1.2.2":
		return tsExplicitBE
	case "1.2.840.10008.1.2.1.99":
		return tsDeflated
	}
	return tsExplicitLE
}

// span is a slice of a dsResult's arena.
type span struct{ off, n uint16 }

// phiSpan is one PHI value found: its tag, category and bytes.
type phiSpan struct {
	tag uint32
	cat uint8
	v   span
}

// dsResult is what the walker extracts from one dataset. Its buffers are
// reused from one dataset to the next, so steady-state walking allocates
// nothing.
type dsResult struct {
	arena       []byte
	ident       [numIdent]span
	identSet    [numIdent]bool
	phi         []phiSpan
	phiCats     uint32 // bit per category
	phiTags     []uint32
	queryKeys   []uint32
	privateTags int
}

func (r *dsResult) reset() {
	r.arena = r.arena[:0]
	r.ident = [numIdent]span{}
	r.identSet = [numIdent]bool{}
	r.phi = r.phi[:0]
	r.phiCats = 0
	r.phiTags = r.phiTags[:0]
	r.queryKeys = r.queryKeys[:0]
	r.privateTags = 0
}

func (r *dsResult) bytes(s span) []byte { return r.arena[s.off : s.off+s.n] }

// Frame kinds of the walker's nesting stack.
const (
	frSeq   uint8 = iota + 1 // a sequence: items follow
	frItem                   // an item of a sequence: elements follow
	frEncap                  // encapsulated pixel data: items are skipped
)

type frame struct {
	kind     uint8
	implicit bool  // contents are implicit VR LE (UN with undefined length)
	end      int64 // dataset offset where a defined-length frame ends; -1 undefined
	cat      uint8 // PHI category of the sequence (for its items' presence)
}

// Walker states.
const (
	wsHeader uint8 = iota // collecting an element header
	wsValue               // inside a value: keep or skip
	wsDead                // walk abandoned: bytes are counted only
)

// walker is the streaming data element walker. It is fed a dataset's bytes
// in any chunking and keeps only the header being read and the values it
// extracts (bounded). Every declared length is checked against the
// enclosing defined length; values it does not need, pixel data and
// anything longer than maxValueKeep are skipped in sync.
type walker struct {
	ts       tsKind
	st       uint8
	hdr      [12]byte
	hdrN     int
	hdrNeed  int
	pos      int64
	base     int64 // pos when the current write began
	remain   int64 // value bytes left
	keep     int8  // ident field being kept, -1 none
	keepCat  uint8 // PHI category being kept
	keepTag  uint32
	keepOff  int
	keepN    int
	query    bool // collect top-level tags as query keys
	stack    [2*maxSequenceDepth + 2]frame
	depth    int // frames on the stack
	seqDepth int
	res      *dsResult
	anom     func(code string, length, limit int64)
	panics   func()
}

func (w *walker) reset(ts tsKind, res *dsResult, query bool) {
	w.ts = ts
	w.st = wsHeader
	w.hdrN, w.hdrNeed = 0, 8
	w.pos, w.remain = 0, 0
	w.keep, w.keepCat = -1, 0
	w.query = query
	w.depth, w.seqDepth = 0, 0
	w.res = res
	res.reset()
}

func (w *walker) fail(code string, length, limit int64) {
	w.st = wsDead
	if w.anom != nil {
		w.anom(code, length, limit)
	}
}

func (w *walker) top() *frame {
	if w.depth == 0 {
		return nil
	}
	return &w.stack[w.depth-1]
}

func (w *walker) implicit() bool {
	if f := w.top(); f != nil && f.implicit {
		return true
	}
	return w.ts == tsImplicitLE
}

func (w *walker) bigEndian() bool { return w.ts == tsExplicitBE }

// room is how many bytes the innermost defined-length frame has left, or
// -1 if every enclosing frame is of undefined length.
func (w *walker) room() int64 {
	for i := w.depth - 1; i >= 0; i-- {
		if w.stack[i].end >= 0 {
			return w.stack[i].end - w.pos
		}
	}
	return -1
}

// popFinished pops defined-length frames that end here.
func (w *walker) popFinished() {
	for w.depth > 0 {
		f := &w.stack[w.depth-1]
		if f.end < 0 || w.pos < f.end {
			return
		}
		w.pop()
	}
}

func (w *walker) pop() {
	if w.stack[w.depth-1].kind == frSeq {
		w.seqDepth--
	}
	w.depth--
}

func (w *walker) push(f frame) bool {
	if f.kind == frSeq {
		if w.seqDepth >= maxSequenceDepth {
			return false
		}
		w.seqDepth++
	}
	w.stack[w.depth] = f
	w.depth++
	return true
}

// write walks the next bytes of the dataset.
func (w *walker) write(p []byte) {
	if w.res == nil {
		// Never reset for a dataset (data arrived in a state the stream
		// did not set up): count the bytes, decode nothing.
		w.st = wsDead
	}
	w.base = w.pos
	for len(p) > 0 {
		switch w.st {
		case wsDead:
			w.pos += int64(len(p))
			return
		case wsHeader:
			n := copy(w.hdr[w.hdrN:w.hdrNeed], p)
			w.hdrN += n
			w.pos += int64(n)
			p = p[n:]
			if w.hdrN < w.hdrNeed {
				return
			}
			w.header()
		case wsValue:
			n := int64(len(p))
			if n > w.remain {
				n = w.remain
			}
			if w.keep >= 0 || w.keepCat != 0 {
				w.keepBytes(p[:n])
			}
			w.remain -= n
			w.pos += n
			p = p[n:]
			if w.remain == 0 {
				w.valueDone()
			}
		}
	}
}

func (w *walker) u16(b []byte) uint16 {
	if w.bigEndian() {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (w *walker) u32(b []byte) uint32 {
	if w.bigEndian() {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

// longVR says whether an explicit VR has the 12-byte header form.
func longVR(a, b byte) bool {
	switch string([]byte{a, b}) {
	case "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR", "UT", "SV", "UV":
		return true
	}
	return false
}

// knownVR says whether two bytes are a VR of PS3.5 6.2.
func knownVR(a, b byte) bool {
	switch string([]byte{a, b}) {
	case "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO", "LT", "OB", "OD", "OF", "OL", "OV", "OW",
		"PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UN", "UR", "US", "UT", "UV":
		return true
	}
	return false
}

const undefinedLength = 0xffffffff

// header handles a complete element header in w.hdr[:w.hdrNeed].
func (w *walker) header() {
	if w.ts == tsAuto {
		// First element of a dataset on a context whose transfer syntax
		// was not seen: explicit VR if a VR follows the tag.
		if knownVR(w.hdr[4], w.hdr[5]) {
			w.ts = tsExplicitLE
		} else {
			w.ts = tsImplicitLE
		}
	}
	t := uint32(w.u16(w.hdr[0:2]))<<16 | uint32(w.u16(w.hdr[2:4]))
	var vr0, vr1 byte
	var vl uint32
	if t>>16 == 0xfffe {
		vl = w.u32(w.hdr[4:8])
		w.hdrN, w.hdrNeed = 0, 8
		w.item(t, vl)
		return
	}
	if w.implicit() {
		vl = w.u32(w.hdr[4:8])
	} else {
		vr0, vr1 = w.hdr[4], w.hdr[5]
		if longVR(vr0, vr1) {
			if w.hdrNeed == 8 {
				w.hdrNeed = 12
				return
			}
			vl = w.u32(w.hdr[8:12])
		} else {
			vl = uint32(w.u16(w.hdr[6:8]))
		}
	}
	w.hdrN, w.hdrNeed = 0, 8
	w.element(t, vr0, vr1, vl)
}

// item handles an item, item delimitation or sequence delimitation tag.
func (w *walker) item(t uint32, vl uint32) {
	f := w.top()
	switch t {
	case tagItem:
		if f == nil || (f.kind != frSeq && f.kind != frEncap) {
			w.fail("dataset_unexpected_item", int64(vl), 0)
			return
		}
		if f.kind == frEncap {
			if vl == undefinedLength {
				w.fail("dataset_element_overruns", int64(vl), 0)
				return
			}
			w.skip(vl)
			return
		}
		end := int64(-1)
		if vl != undefinedLength {
			if r := w.room(); r >= 0 && int64(vl) > r {
				w.fail("dataset_element_overruns", int64(vl), r)
				return
			}
			end = w.pos + int64(vl)
		}
		w.push(frame{kind: frItem, implicit: f.implicit, end: end})
		w.popFinished()
	case tagItemDelim:
		if f != nil && f.kind == frItem && f.end < 0 {
			w.pop()
		}
		w.popFinished()
	case tagSeqDelim:
		if f != nil && f.kind == frItem && f.end < 0 {
			w.pop()
			f = w.top()
		}
		if f != nil && (f.kind == frSeq || f.kind == frEncap) && f.end < 0 {
			w.pop()
		}
		w.popFinished()
	default:
		w.fail("dataset_unexpected_item", int64(vl), 0)
	}
}

// isSQ says whether an element holds a sequence.
func (w *walker) isSQ(t uint32, vr0, vr1 byte) bool {
	if !w.implicit() {
		return vr0 == 'S' && vr1 == 'Q'
	}
	if t>>16&1 == 1 || t&0xffff == 0 || t>>16 == 0x7fe0 {
		return false
	}
	return dictSQ(t, w.panics)
}

// dictSQ asks the dictionary of github.com/suyashkumar/dicom whether a
// standard tag is a sequence. A panic in the library is recovered here, at
// the boundary, and counted.
func dictSQ(t uint32, panics func()) (sq bool) {
	defer func() {
		if recover() != nil {
			sq = false
			if panics != nil {
				panics()
			}
		}
	}()
	info, err := tag.Find(tag.Tag{Group: uint16(t >> 16), Element: uint16(t)})
	if err != nil {
		return false
	}
	for _, vr := range info.VRs {
		if vr == "SQ" {
			return true
		}
	}
	return false
}

// element handles a data element header (not an item tag).
func (w *walker) element(t uint32, vr0, vr1 byte, vl uint32) {
	f := w.top()
	if f != nil && f.kind == frSeq {
		w.fail("dataset_malformed_sequence", int64(vl), 0)
		return
	}
	if t>>16&1 == 1 {
		w.res.privateTags++
	}
	if w.query && w.depth == 0 && len(w.res.queryKeys) < maxQueryKeys {
		w.res.queryKeys = append(w.res.queryKeys, t)
	}
	cat := phiCategory(t)
	if vl == undefinedLength {
		if t == tagPixelData {
			// Encapsulated pixel data: items are skipped, never kept.
			w.push(frame{kind: frEncap, end: -1})
			return
		}
		// SQ, or UN / implicit with undefined length: a sequence.
		if cat != phiNone {
			w.markPHI(t, cat)
		}
		if !w.push(frame{kind: frSeq, implicit: w.implicit() || (vr0 == 'U' && vr1 == 'N'), end: -1, cat: cat}) {
			w.fail("sequence_too_deep", int64(w.seqDepth+1), maxSequenceDepth)
		}
		return
	}
	if r := w.room(); r >= 0 && int64(vl) > r {
		w.fail("dataset_element_overruns", int64(vl), r)
		return
	}
	if w.isSQ(t, vr0, vr1) {
		if cat != phiNone && vl > 0 {
			w.markPHI(t, cat)
		}
		if !w.push(frame{kind: frSeq, implicit: w.implicit(), end: w.pos + int64(vl), cat: cat}) {
			if w.anom != nil {
				w.anom("sequence_too_deep", int64(w.seqDepth+1), maxSequenceDepth)
			}
			w.skip(vl)
			return
		}
		w.popFinished()
		return
	}
	w.keep, w.keepCat, w.keepTag = -1, cat, t
	if w.depth == 0 {
		w.keep = int8(identField(t))
	}
	if t == tagPixelData {
		w.keep, w.keepCat = -1, 0
	}
	w.keepOff, w.keepN = len(w.res.arena), 0
	w.remain = int64(vl)
	w.st = wsValue
	if vl == 0 {
		w.valueDone()
	}
}

// skip skips n value bytes in sync.
func (w *walker) skip(n uint32) {
	w.keep, w.keepCat = -1, 0
	w.remain = int64(n)
	w.st = wsValue
	if n == 0 {
		w.valueDone()
	}
}

func (w *walker) keepBytes(b []byte) {
	room := maxValueKeep - w.keepN
	if room > maxArenaBytes-len(w.res.arena) {
		room = maxArenaBytes - len(w.res.arena)
	}
	if len(b) > room {
		b = b[:room]
	}
	w.res.arena = append(w.res.arena, b...)
	w.keepN += len(b)
}

// valueDone completes a value: records what was kept.
func (w *walker) valueDone() {
	w.st = wsHeader
	r := w.res
	if w.keep >= 0 || w.keepCat != 0 {
		v := trimValue(r.arena[w.keepOff : w.keepOff+w.keepN])
		off := w.keepOff
		if len(v) > 0 {
			off = w.keepOff + indexOf(r.arena[w.keepOff:w.keepOff+w.keepN], v)
		}
		sp := span{uint16(off), uint16(len(v))}
		if w.keep >= 0 && !r.identSet[w.keep] {
			r.ident[w.keep], r.identSet[w.keep] = sp, true
		}
		if w.keepCat != 0 && len(v) > 0 {
			w.markPHI(w.keepTag, w.keepCat)
			if len(r.phi) < maxPHIValues {
				r.phi = append(r.phi, phiSpan{tag: w.keepTag, cat: w.keepCat, v: sp})
			}
		}
	}
	w.keep, w.keepCat = -1, 0
	w.popFinished()
}

// markPHI records that a PHI tag is present with a value.
func (w *walker) markPHI(t uint32, cat uint8) {
	r := w.res
	r.phiCats |= 1 << cat
	for _, x := range r.phiTags {
		if x == t {
			return
		}
	}
	if len(r.phiTags) < maxPHIValues {
		r.phiTags = append(r.phiTags, t)
	}
}

// trimValue trims DICOM padding (spaces and NULs) from both ends.
func trimValue(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == 0) {
		b = b[:len(b)-1]
	}
	for len(b) > 0 && (b[0] == ' ' || b[0] == 0) {
		b = b[1:]
	}
	return b
}

// indexOf returns the offset of sub within b, where sub is a subslice of b.
func indexOf(b, sub []byte) int {
	if len(sub) == 0 {
		return 0
	}
	return cap(b) - cap(sub)
}
