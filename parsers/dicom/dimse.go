package dicom

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"io"
	"math/bits"
	"slices"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// DIMSE command fields (PS3.7 E.1).
const (
	cmdCStore         = 0x0001
	cmdCGet           = 0x0010
	cmdCFind          = 0x0020
	cmdCMove          = 0x0021
	cmdCEcho          = 0x0030
	cmdNEventReport   = 0x0100
	cmdNGet           = 0x0110
	cmdNSet           = 0x0120
	cmdNAction        = 0x0130
	cmdNCreate        = 0x0140
	cmdNDelete        = 0x0150
	cmdCCancel        = 0x0fff
	cmdResponseBit    = 0x8000
	dataSetTypeNone   = 0x0101
	statusPending     = 0xff00
	statusPendingWarn = 0xff01
)

func commandName(f uint16) string {
	switch f &^ cmdResponseBit {
	case cmdCStore:
		return "C-STORE"
	case cmdCGet:
		return "C-GET"
	case cmdCFind:
		return "C-FIND"
	case cmdCMove:
		return "C-MOVE"
	case cmdCEcho:
		return "C-ECHO"
	case cmdNEventReport:
		return "N-EVENT-REPORT"
	case cmdNGet:
		return "N-GET"
	case cmdNSet:
		return "N-SET"
	case cmdNAction:
		return "N-ACTION"
	case cmdNCreate:
		return "N-CREATE"
	case cmdNDelete:
		return "N-DELETE"
	case cmdCCancel:
		return "C-CANCEL"
	}
	return "unknown"
}

// statusClass classifies a DIMSE status (PS3.7 C).
func statusClass(st uint16) string {
	switch {
	case st == 0:
		return "success"
	case st == statusPending || st == statusPendingWarn:
		return "pending"
	case st == 0xfe00:
		return "cancel"
	case st == 0x0001 || st == 0x0107 || st == 0x0116 || st&0xf000 == 0xb000:
		return "warning"
	}
	return "failure"
}

var priorities = [...]string{"medium", "high", "low"}

// cmdInfo is a decoded command set; byte fields are slices of the
// assembler's command buffer.
type cmdInfo struct {
	field, msgID, respTo, dsType, status, priority uint16
	eventType, actionType                          uint16
	remaining, completed, failed, warning          uint16
	has                                            uint32 // bit per hasX below
	affClass, reqClass, affInst, reqInst           []byte
	moveDest, moveOrig                             []byte
}

const (
	hasField = 1 << iota
	hasMsgID
	hasRespTo
	hasStatus
	hasPriority
	hasEventType
	hasActionType
	hasRemaining
	hasCompleted
	hasFailed
	hasWarning
	hasErrorComment
)

// parseCommand decodes a command set (implicit VR little endian, group
// 0000). Every element length is checked against the bytes present.
func parseCommand(b []byte, c *cmdInfo) (code string) {
	*c = cmdInfo{dsType: dataSetTypeNone}
	for len(b) > 0 {
		if len(b) < 8 {
			return "command_element_overruns"
		}
		t := uint32(binary.LittleEndian.Uint16(b[0:2]))<<16 | uint32(binary.LittleEndian.Uint16(b[2:4]))
		n := binary.LittleEndian.Uint32(b[4:8])
		if uint64(n) > uint64(len(b)-8) {
			return "command_element_overruns"
		}
		v := b[8 : 8+n]
		b = b[8+n:]
		if t>>16 != 0 {
			code = "command_bad_group"
			continue
		}
		us := func(dst *uint16, bit uint32) {
			if len(v) == 2 {
				*dst = binary.LittleEndian.Uint16(v)
				c.has |= bit
			}
		}
		switch t & 0xffff {
		case 0x0002:
			c.affClass = v
		case 0x0003:
			c.reqClass = v
		case 0x0100:
			us(&c.field, hasField)
		case 0x0110:
			us(&c.msgID, hasMsgID)
		case 0x0120:
			us(&c.respTo, hasRespTo)
		case 0x0600:
			c.moveDest = v
		case 0x0700:
			us(&c.priority, hasPriority)
		case 0x0800:
			var x uint16
			us(&x, 0)
			if len(v) == 2 {
				c.dsType = x
			}
		case 0x0900:
			us(&c.status, hasStatus)
		case 0x0902:
			if len(v) > 0 {
				c.has |= hasErrorComment
			}
		case 0x1000:
			c.affInst = v
		case 0x1001:
			c.reqInst = v
		case 0x1002:
			us(&c.eventType, hasEventType)
		case 0x1008:
			us(&c.actionType, hasActionType)
		case 0x1020:
			us(&c.remaining, hasRemaining)
		case 0x1021:
			us(&c.completed, hasCompleted)
		case 0x1022:
			us(&c.failed, hasFailed)
		case 0x1023:
			us(&c.warning, hasWarning)
		case 0x1030:
			c.moveOrig = v
		}
	}
	return code
}

// txn is one DIMSE transaction in progress.
type txn struct {
	ev      *DIMSE
	reqDir  parser.Direction
	field   uint16
	start   int64 // unix nanoseconds of the request command
	final   bool  // final response seen; emitted once its dataset ends
	emitted bool
	phiCats uint32
	phiTags []uint32
}

// assembler reassembles the messages of one presentation context in one
// direction: the command set into a bounded buffer, the dataset straight
// into the walker.
type assembler struct {
	s        *Stream
	dir      parser.Direction
	pcid     uint8
	mch      byte // message control header of the current PDV
	cmd      []byte
	inCmd    bool
	cmdBad   bool
	inData   bool
	dataBad  bool
	expect   *txn // transaction whose dataset comes next
	expResp  bool
	w        walker
	res      dsResult
	ts       tsKind
	dsBytes  int64
	defl     []byte
	deflOver bool
	fr       io.ReadCloser
	info     cmdInfo
}

func (s *Stream) assembler(dir parser.Direction, pcid uint8) *assembler {
	if a := s.asm[dir][pcid]; a != nil {
		return a
	}
	a := &assembler{s: s, dir: dir, pcid: pcid}
	a.w.anom = func(code string, length, limit int64) {
		off := s.d[dir].off
		if a.ts != tsDeflated {
			off += a.w.pos - a.w.base
		}
		s.anomalyAt(dir, code, off, length, limit)
	}
	a.w.panics = s.libraryPanic
	s.asm[dir][pcid] = a
	s.asms = append(s.asms, a)
	return a
}

func (s *Stream) libraryPanic() {
	s.libraryPanics++
	s.anomaly(parser.ToServer, "library_panic", int64(s.libraryPanics), 0)
}

func (s *Stream) pdvBegin(dir parser.Direction, pcid, mch byte) {
	a := s.assembler(dir, pcid)
	s.d[dir].cur = a
	a.mch = mch
	if mch&1 != 0 { // command
		if a.inData {
			s.anomaly(dir, "dataset_incomplete", a.dsBytes, 0)
			a.finishData()
		}
		if !a.inCmd {
			a.inCmd, a.cmdBad, a.cmd = true, false, a.cmd[:0]
		}
		return
	}
	if a.inCmd {
		s.anomaly(dir, "command_incomplete", int64(len(a.cmd)), 0)
		a.inCmd = false
	}
	if !a.inData {
		a.inData, a.dsBytes, a.dataBad = true, 0, false
		if a.expect == nil {
			s.anomaly(dir, "unexpected_dataset", int64(pcid), 0)
			a.dataBad = true
			return
		}
		a.ts = s.pcs[pcid].ts
		f := a.expect.field
		query := !a.expResp && (f == cmdCFind || f == cmdCGet || f == cmdCMove)
		wts := a.ts
		if wts == tsDeflated {
			wts = tsExplicitLE
			a.defl, a.deflOver = a.defl[:0], false
		}
		a.w.reset(wts, &a.res, query)
	}
}

func (s *Stream) pdvData(dir parser.Direction, p []byte) {
	a := s.d[dir].cur
	if a.mch&1 != 0 {
		if a.cmdBad {
			return
		}
		if room := maxCommandSetLength - len(a.cmd); len(p) > room {
			s.anomalyAt(dir, "command_too_long", s.d[dir].off+int64(room), 0, maxCommandSetLength)
			a.cmdBad = true
			return
		}
		a.cmd = append(a.cmd, p...)
		return
	}
	a.dsBytes += int64(len(p))
	if a.dataBad {
		return
	}
	if a.ts == tsDeflated {
		if a.deflOver {
			return
		}
		if room := maxDeflateInput - len(a.defl); len(p) > room {
			a.defl = append(a.defl, p[:room]...)
			a.deflOver = true
			s.anomalyAt(dir, "deflate_input_limit", s.d[dir].off+int64(room), 0, maxDeflateInput)
			return
		}
		a.defl = append(a.defl, p...)
		return
	}
	a.w.write(p)
}

func (s *Stream) pdvEnd(dir parser.Direction) {
	a := s.d[dir].cur
	if a.mch&2 == 0 {
		return
	}
	if a.mch&1 != 0 {
		a.inCmd = false
		if !a.cmdBad {
			s.command(a)
		}
		return
	}
	a.finishData()
}

// dataLost says missing bytes of the current PDV were lost.
func (a *assembler) dataLost(n uint32) {
	if a.mch&1 != 0 {
		a.cmdBad = true
		return
	}
	a.dsBytes += int64(n)
	if a.expect != nil {
		a.expect.ev.Gap = true
	}
	if a.dataBad || a.ts == tsDeflated {
		a.dataBad = true
		return
	}
	w := &a.w
	if w.st == wsValue && w.keep < 0 && w.keepCat == 0 && w.remain > int64(n) {
		w.remain -= int64(n)
		w.pos += int64(n)
		return
	}
	w.st = wsDead
}

// lost says bytes of a direction were lost out of sync: messages in
// progress in that direction are abandoned.
func (s *Stream) lost(dir parser.Direction) {
	for _, a := range s.asms {
		if a.dir != dir {
			continue
		}
		if a.inCmd {
			a.inCmd = false
		}
		if a.inData {
			if a.expect != nil {
				a.expect.ev.Gap = true
			}
			a.finishData()
		}
	}
}

// abandon ends whatever the assembler has in progress at the end of an
// association or flow.
func (a *assembler) abandon(s *Stream) {
	a.inCmd = false
	if a.inData {
		a.finishData()
	}
	if a.expect != nil && a.expect.final {
		s.emitTxn(a.expect)
	}
	a.expect = nil
}

// command handles a complete command set.
func (s *Stream) command(a *assembler) {
	c := &a.info
	if code := parseCommand(a.cmd, c); code != "" {
		s.anomaly(a.dir, code, int64(len(a.cmd)), 0)
	}
	if c.has&hasField == 0 {
		s.anomaly(a.dir, "command_missing_field", 0, 0)
		return
	}
	hasData := c.dsType != dataSetTypeNone
	if a.expect != nil && a.expect.final {
		// The previous message's dataset never came.
		s.emitTxn(a.expect)
	}
	a.expect = nil
	assoc := s.association()
	name := commandName(c.field)
	switch {
	case c.field == cmdCCancel:
		assoc.DIMSECounts[name]++
		if t := s.findPending(a.dir, c.respTo); t != nil {
			t.ev.Cancelled = true
		}
	case c.field&cmdResponseBit == 0:
		assoc.DIMSECounts[name]++
		t := s.newTxn(a, c, name)
		if old := s.findPending(a.dir, c.msgID); old != nil {
			s.anomaly(a.dir, "duplicate_message_id", int64(c.msgID), 0)
			s.removePending(old)
			old.ev.Incomplete = true
			s.emitTxn(old)
		}
		if len(s.pending) >= maxPendingTransactions {
			s.anomaly(a.dir, "too_many_pending", int64(len(s.pending)), maxPendingTransactions)
			old := s.pending[0]
			s.removePending(old)
			old.ev.Incomplete = true
			s.emitTxn(old)
		}
		s.pending = append(s.pending, t)
		if hasData {
			a.expect, a.expResp = t, false
		}
	default:
		t := s.findPending(a.dir.Reverse(), c.respTo)
		if t == nil {
			s.anomaly(a.dir, "unpaired_response", int64(c.respTo), 0)
			t = s.newTxn(a, c, name)
			t.reqDir = a.dir.Reverse()
			t.ev.RequestDirection = t.reqDir.String()
			t.ev.MessageID = c.respTo
			t.ev.Unpaired = true
			t.start = s.now.UnixNano()
			s.pending = append(s.pending, t)
		}
		s.response(a, t, c, hasData)
	}
}

func (s *Stream) newTxn(a *assembler, c *cmdInfo, name string) *txn {
	pc := &s.pcs[a.pcid]
	ev := &DIMSE{
		Type: "dimse", Command: name, RequestDirection: a.dir.String(), MessageID: c.msgID,
		PresentationContextID: a.pcid, AbstractSyntax: pc.abstract, TransferSyntax: pc.tsUID,
		StatusClass: "none",
	}
	ev.SOPClassUID = uidString(c.affClass)
	if ev.SOPClassUID == "" {
		ev.SOPClassUID = uidString(c.reqClass)
	}
	ev.SOPInstanceUID = uidString(c.affInst)
	if ev.SOPInstanceUID == "" {
		ev.SOPInstanceUID = uidString(c.reqInst)
	}
	f := c.field &^ cmdResponseBit
	if c.has&hasPriority != 0 && (f == cmdCStore || f == cmdCFind || f == cmdCGet || f == cmdCMove) {
		ev.Priority = pick(priorities[:], byte(min(c.priority, 255)))
	}
	ev.MoveDestination = aeTitle(c.moveDest)
	ev.MoveOriginatorAE = aeTitle(c.moveOrig)
	if c.has&hasEventType != 0 {
		v := c.eventType
		ev.EventTypeID = &v
	}
	if c.has&hasActionType != 0 {
		v := c.actionType
		ev.ActionTypeID = &v
	}
	return &txn{ev: ev, reqDir: a.dir, field: f, start: s.now.UnixNano()}
}

func (s *Stream) findPending(reqDir parser.Direction, id uint16) *txn {
	for _, t := range s.pending {
		if t.reqDir == reqDir && t.ev.MessageID == id {
			return t
		}
	}
	return nil
}

func (s *Stream) removePending(t *txn) {
	for i, x := range s.pending {
		if x == t {
			copy(s.pending[i:], s.pending[i+1:])
			s.pending[len(s.pending)-1] = nil
			s.pending = s.pending[:len(s.pending)-1]
			return
		}
	}
}

// response applies a response command to its transaction.
func (s *Stream) response(a *assembler, t *txn, c *cmdInfo, hasData bool) {
	ev := t.ev
	if ev.SOPInstanceUID == "" {
		ev.SOPInstanceUID = uidString(c.affInst)
	}
	if ev.SOPClassUID == "" {
		ev.SOPClassUID = uidString(c.affClass)
	}
	if c.has&(hasRemaining|hasCompleted|hasFailed|hasWarning) != 0 {
		so := &SubOps{Completed: c.completed, Failed: c.failed, Warning: c.warning}
		if c.has&hasRemaining != 0 {
			r := c.remaining
			so.Remaining = &r
		}
		ev.SubOperations = so
	}
	if c.has&hasErrorComment != 0 {
		ev.ErrorComment = true
	}
	pending := c.has&hasStatus != 0 && (c.status == statusPending || c.status == statusPendingWarn)
	if pending {
		ev.PendingResponses++
	} else {
		if c.has&hasStatus != 0 {
			ev.Status = "0x" + hex4(c.status)
			ev.StatusClass = statusClass(c.status)
		} else {
			s.anomaly(a.dir, "command_missing_status", 0, 0)
		}
		ev.Latency = float64(s.now.UnixNano()-t.start) / 1e9
		t.final = true
		s.removePending(t)
	}
	if hasData {
		a.expect, a.expResp = t, true
		return
	}
	if t.final {
		s.emitTxn(t)
	}
}

func hex4(v uint16) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[v>>12], digits[v>>8&15], digits[v>>4&15], digits[v&15]})
}

// finishData ends the dataset in progress and folds what the walker found
// into its transaction.
func (a *assembler) finishData() {
	a.inData = false
	t := a.expect
	if a.dataBad || t == nil {
		a.dataBad = false
		return
	}
	a.expect = nil
	s := a.s
	if t.emitted {
		return
	}
	if a.ts == tsDeflated {
		a.inflate()
	}
	if a.expResp {
		t.ev.ResponseDatasetBytes += a.dsBytes
	} else {
		t.ev.DatasetBytes += a.dsBytes
	}
	s.merge(t, &a.res, a.expResp)
	if t.final {
		s.emitTxn(t)
	}
}

// inflate inflates the buffered deflated dataset into the walker, within
// the bomb limits.
func (a *assembler) inflate() {
	limit := int64(len(a.defl)) * maxInflateRatio
	if limit > maxInflatedBytes {
		limit = maxInflatedBytes
	}
	src := bytes.NewReader(a.defl)
	if a.fr == nil {
		a.fr = flate.NewReader(src)
	} else {
		a.fr.(flate.Resetter).Reset(src, nil)
	}
	var buf [4096]byte
	var total int64
	for {
		n, err := a.fr.Read(buf[:])
		if n > 0 {
			if total+int64(n) > limit {
				n = int(limit - total)
				a.w.write(buf[:n])
				a.s.anomaly(a.dir, "inflate_limit", total+int64(n), limit)
				return
			}
			total += int64(n)
			a.w.write(buf[:n])
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			if !(a.deflOver && err == io.ErrUnexpectedEOF) {
				a.s.anomaly(a.dir, "inflate_error", total, 0)
			}
			return
		}
	}
}

// merge folds one dataset's findings into a transaction.
func (s *Stream) merge(t *txn, r *dsResult, resp bool) {
	ev := t.ev
	charset := ""
	if r.identSet[idCharset] {
		charset = string(r.bytes(r.ident[idCharset]))
		if ev.SpecificCharacterSet == "" {
			ev.SpecificCharacterSet = charset
		}
	}
	set := func(dst *string, id int, text bool) {
		if *dst != "" || !r.identSet[id] {
			return
		}
		if text {
			*dst = decodeText(charset, r.bytes(r.ident[id]))
		} else {
			*dst = string(r.bytes(r.ident[id]))
		}
	}
	set(&ev.Modality, idModality, false)
	set(&ev.BodyPartExamined, idBodyPart, false)
	set(&ev.Manufacturer, idManufacturer, true)
	set(&ev.Model, idModel, true)
	set(&ev.DeviceSerialNumber, idSerial, true)
	set(&ev.SoftwareVersions, idSoftware, true)
	set(&ev.StationName, idStation, true)
	set(&ev.InstitutionName, idInstitution, true)
	set(&ev.StudyInstanceUID, idStudy, false)
	set(&ev.SeriesInstanceUID, idSeries, false)
	set(&ev.DatasetSOPInstanceID, idSOPInstance, false)
	set(&ev.QueryRetrieveLevel, idQRLevel, false)
	if r.identSet[idIdentityRemoved] && string(r.bytes(r.ident[idIdentityRemoved])) == "YES" {
		ev.PatientIdentityRemoved = true
	}
	if !resp && len(r.queryKeys) > 0 && ev.QueryKeys == nil {
		ev.QueryKeys = make([]string, 0, len(r.queryKeys))
		for _, k := range r.queryKeys {
			ev.QueryKeys = append(ev.QueryKeys, s.tagName(k))
		}
	}
	t.phiCats |= r.phiCats
	for _, x := range r.phiTags {
		found := false
		for _, y := range t.phiTags {
			if x == y {
				found = true
				break
			}
		}
		if !found && len(t.phiTags) < maxPHIValues {
			t.phiTags = append(t.phiTags, x)
		}
	}
	for _, p := range r.phi {
		if len(ev.PHI) >= maxPHIValues {
			break
		}
		ev.PHI = append(ev.PHI, PHIValue{
			Tag: p.tag, Category: PHICategoryNames[p.cat],
			Value: decodeText(charset, r.bytes(p.v)), Response: resp,
		})
	}
	ev.PrivateTags += r.privateTags
}

// tagName gives a tag's dictionary keyword (from
// github.com/suyashkumar/dicom), or "(gggg,eeee)" when it has none.
func (s *Stream) tagName(t uint32) (name string) {
	defer func() {
		if recover() != nil {
			s.libraryPanic()
			name = tagString(t)
		}
	}()
	if t>>16&1 == 0 {
		if info, err := tag.Find(tag.Tag{Group: uint16(t >> 16), Element: uint16(t)}); err == nil && info.Keyword != "" {
			return info.Keyword
		}
	}
	return tagString(t)
}

func tagString(t uint32) string {
	const digits = "0123456789abcdef"
	var b [11]byte
	b[0], b[5], b[10] = '(', ',', ')'
	for i := 0; i < 4; i++ {
		b[4-i] = digits[t>>(16+4*i)&15]
		b[9-i] = digits[t>>(4*i)&15]
	}
	return string(b[:])
}

// emitTxn emits a transaction's event.
func (s *Stream) emitTxn(t *txn) {
	if t.emitted {
		return
	}
	t.emitted = true
	ev := t.ev
	if n := bits.OnesCount32(t.phiCats &^ 1); n > 0 {
		ev.PHICategories = make([]string, 0, n)
		for c := uint8(1); c < numPHICategories; c++ {
			if t.phiCats&(1<<c) != 0 {
				ev.PHICategories = append(ev.PHICategories, PHICategoryNames[c])
			}
		}
	}
	if len(t.phiTags) > 0 {
		slices.Sort(t.phiTags)
		ev.PHITags = make([]string, 0, len(t.phiTags))
		for _, x := range t.phiTags {
			ev.PHITags = append(ev.PHITags, tagString(x))
		}
	}
	s.em.Emit(s.now, ev)
}
