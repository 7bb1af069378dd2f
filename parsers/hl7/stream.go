package hl7

import (
	"bytes"
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
	// maxInterned bounds the per-stream table of uncommon segment names.
	maxInterned = 64
)

// Factory is the registry entry of the HL7 v2 parser.
var Factory = parser.Factory{
	Name:      "hl7",
	Transport: parser.TCP,
	// 2575 is IANA's hl7; 6661 (tapirx, many interface engines), 2100 and
	// 5000 are common interface-engine listeners; probing by content
	// finds HL7 on any port.
	Ports: []uint16{2575, 6661, 2100, 5000},
	Probe: probe,
	// MLLP links stay open and idle for long between messages.
	IdleTimeout: time.Hour,
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

func newStream(_ *parser.Flow, em parser.Emitter, _ *parser.Env) parser.Stream {
	s := &stream{em: em}
	for i := range s.d {
		s.d[i].dir = parser.Direction(i)
		s.d[i].setSep('|')
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
	seq     uint64
	dec     decoders
	intern  map[string]string
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

	segPos  int // bytes of the current segment seen, 0..3 the name, 4 once past it
	name    [3]byte
	kind    segKind
	skipSeg bool // rest of the current segment is ignored
	field   int  // current field number
	fld     []byte
	cls     [256]bool // bytes that end a run of field text
	sep     byte

	notedOrphan, notedJunk bool // once-per-direction anomalies emitted

	m        msgBuild
	answered [answeredRing]ctlID
	ansN     int
	scratch  []byte
	scratch2 []byte
}

type ctlID struct {
	n int
	b [maxCtlID]byte
}

func (d *dirState) setSep(c byte) {
	if d.sep != 0 {
		d.cls[d.sep] = false
	}
	d.sep = c
	d.cls[cr], d.cls[lf], d.cls[startBlock], d.cls[endBlock], d.cls[c] = true, true, true, true, true
}

// Feed implements parser.Stream.
func (s *stream) Feed(dir parser.Direction, data []byte, ts time.Time) {
	d := &s.d[dir&1]
	for len(data) > 0 {
		if d.mode == modeStart {
			d.mode = modeBare
			if data[0] == startBlock {
				d.mode = modeMLLP
			}
		}
		if d.mode == modeMLLP && !d.inFrame && data[0] != startBlock {
			// Between frames: skip to the next start block.
			i := bytes.IndexByte(data, startBlock)
			if i < 0 {
				i = len(data)
			}
			if j := nonWhitespace(data[:i]); !d.notedJunk && !d.quiet && j >= 0 {
				d.notedJunk = true
				s.anomaly(ts, d, "data_outside_frame", d.off+int64(j), 0, 0)
			}
			d.off += int64(i)
			data = data[i:]
			continue
		}
		if d.resync {
			i := 0
			for i < len(data) && data[i] != cr && data[i] != lf && data[i] != startBlock {
				i++
			}
			if i < len(data) && data[i] != startBlock {
				i++
				d.resync = false
			} else if i < len(data) {
				d.resync = false
			}
			d.off += int64(i)
			data = data[i:]
			continue
		}
		if c := data[0]; d.segPos >= 4 && !d.cls[c] {
			n := 1
			for n < len(data) && !d.cls[data[n]] {
				n++
			}
			if m := &d.m; m.active && !m.skipping && int64(n) > MaxMessageLen-m.bytes+1 {
				n = int(MaxMessageLen - m.bytes + 1) // the limit is hit at the same byte however the stream is cut
			}
			if !d.skipSeg {
				d.fieldBytes(data[:n])
			}
			s.consumed(d, n, ts)
			data = data[n:]
			continue
		}
		s.special(d, data[0], ts)
		data = data[1:]
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
	m := &d.m
	if !m.active {
		return
	}
	m.bytes += int64(n)
	if m.bytes > MaxMessageLen && !m.skipping {
		m.skipping, m.truncated, d.skipSeg = true, true, true
		s.anomaly(ts, d, "message_too_large", m.start, m.bytes, MaxMessageLen)
	}
}

func (d *dirState) fieldBytes(b []byte) {
	if room := MaxFieldLen - len(d.fld); len(b) > room {
		b = b[:max(room, 0)]
	}
	if d.fld == nil {
		d.fld = make([]byte, 0, 512)
	}
	d.fld = append(d.fld, b...)
}

// special handles one byte that is not a run of field text: framing bytes,
// terminators, segment names, field separators.
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
	switch {
	case d.segPos < 3:
		d.name[d.segPos] = c
		d.segPos++
		if d.segPos == 3 {
			s.segmentName(d, ts)
		}
	case d.segPos == 3:
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
				d.setSep(c)
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
	default: // the field separator
		if !d.skipSeg {
			s.fieldDone(d)
		}
		d.field++
		d.fld = d.fld[:0]
		if d.field > MaxFields && !d.skipSeg {
			d.skipSeg = true
			if !d.m.notedFields {
				d.m.notedFields = true
				s.anomaly(ts, d, "too_many_fields", d.off, int64(d.field), MaxFields)
			}
		}
	}
}

// segmentName acts on a segment's three-letter name.
func (s *stream) segmentName(d *dirState, ts time.Time) {
	m := &d.m
	n := d.name
	if !(n[0] >= 'A' && n[0] <= 'Z') || !isUpperDigit(n[1]) || !isUpperDigit(n[2]) {
		d.kind, d.skipSeg = segOther, true
		if m.active && !m.notedBadSeg {
			m.notedBadSeg = true
			s.anomaly(ts, d, "bad_segment_name", d.off-3, 0, 0)
		}
		return
	}
	d.kind = classify(n)
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
		m.begin(framing, d.batch, d.off-3, ts)
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
		m.segs = append(m.segs, s.internName(n))
	}
	m.segment(d.kind)
}

func isUpperDigit(c byte) bool { return (c >= 'A' && c <= 'Z') || isDigit(c) }

// internName gives the string of a segment name without allocating for
// standard names and, up to maxInterned, for others seen on the stream.
func (s *stream) internName(n [3]byte) string {
	if v, ok := stdSegments[string(n[:])]; ok {
		return v
	}
	if v, ok := s.intern[string(n[:])]; ok {
		return v
	}
	v := string(n[:])
	if len(s.intern) < maxInterned {
		if s.intern == nil {
			s.intern = make(map[string]string)
		}
		s.intern[v] = v
	}
	return v
}

// endSegment finishes the current segment, if any.
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
	d.segPos, d.skipSeg, d.field, d.kind = 0, false, 0, segOther
	d.fld = d.fld[:0]
}

// fieldDone hands a complete field to the message.
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
		p := (*best)[0]
		*best = (*best)[1:]
		s.unanswered(p)
	}
}

func (s *stream) anomaly(ts time.Time, d *dirState, code string, off, length, limit int64) {
	s.em.Emit(ts, &parser.Anomaly{Source: "hl7", Code: code, Direction: d.dir.String(), Offset: off, Length: length, Limit: limit})
}

// stdSegments interns the standard segment names (HL7 v2.9 and earlier).
var stdSegments = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{
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
	} {
		m[n] = n
	}
	return m
}()
