package dicom

import (
	"encoding/binary"
	"time"

	"github.com/medtap/medtap/parsers/parser"
)

// Factory is the registry entry of the DICOM parser.
var Factory = parser.Factory{
	Name:      "dicom",
	Transport: parser.TCP,
	// DICOM (104), the common alternates 11112 and 4242 (Orthanc), and
	// DICOM over TLS (2762, 2761 ISCL): the TLS parser hands NULL-cipher
	// plaintext to ProbeInner, which finds this parser by content.
	Ports:       []uint16{104, 11112, 4242, 2761, 2762},
	Probe:       probe,
	IdleTimeout: idleTimeout,
	New:         newStream,
}

// Direction states of the PDU reader.
const (
	dsHeader uint8 = iota // reading a PDU header
	dsBody                // buffering a control PDU's body (bounded)
	dsPData               // walking a P-DATA-TF PDU's items
	dsSkip                // skipping the rest of a PDU in sync
	dsResync              // looking for a plausible PDU header after a gap or garbage
)

// dirState is the PDU reader of one direction.
type dirState struct {
	st      uint8
	hdr     [pduHeaderLen]byte
	hdrN    int
	typ     byte
	remain  uint32 // bytes left in the current PDU
	body    []byte // control PDU body, reused
	ihdr    [pdvHeaderLen]byte
	ihdrN   int
	inItem  bool
	iremain uint32 // data bytes left in the current PDV
	cur     *assembler
	off     int64 // stream offset
	win     [resyncWindow]byte
	winN    int
	skipped int64
	maxHit  bool // pdu_exceeds_negotiated_max reported
}

// pcInfo is what the negotiation said about one presentation context.
type pcInfo struct {
	ts       tsKind
	tsUID    string
	abstract string
}

// Stream is the DICOM parser of one TCP connection.
type Stream struct {
	flow    *parser.Flow
	em      parser.Emitter
	now     time.Time
	d       [2]dirState
	assoc   *Association
	first   time.Time
	pcs     [256]pcInfo
	asm     [2][256]*assembler
	asms    []*assembler
	pending []*txn
	// libraryPanics counts panics recovered from the DICOM library.
	libraryPanics int
}

func newStream(f *parser.Flow, em parser.Emitter, _ *parser.Env) parser.Stream {
	return &Stream{flow: f, em: em}
}

// anomaly emits an anomaly event and counts it on the association.
func (s *Stream) anomaly(dir parser.Direction, code string, length, limit int64) {
	s.anomalyAt(dir, code, s.d[dir].off, length, limit)
}

// anomalyAt is anomaly with an explicit stream offset, for problems found
// inside a chunk being consumed.
func (s *Stream) anomalyAt(dir parser.Direction, code string, off, length, limit int64) {
	if s.assoc != nil {
		s.assoc.Anomalies++
	}
	s.em.Emit(s.now, &parser.Anomaly{
		Source: "dicom", Code: code, Direction: dir.String(),
		Offset: off, Length: length, Limit: limit,
	})
}

// association returns the association in progress, starting one if none.
func (s *Stream) association() *Association {
	if s.assoc == nil {
		s.assoc = &Association{Type: "association", Result: "unknown", DIMSECounts: map[string]int{}}
		s.first = s.now
	}
	return s.assoc
}

// Feed implements parser.Stream.
func (s *Stream) Feed(dir parser.Direction, data []byte, ts time.Time) {
	s.now = ts
	s.feed(dir&1, data)
}

func (s *Stream) feed(dir parser.Direction, data []byte) {
	d := &s.d[dir]
	for len(data) > 0 {
		switch d.st {
		case dsHeader:
			n := copy(d.hdr[d.hdrN:], data)
			d.hdrN += n
			d.off += int64(n)
			data = data[n:]
			if d.hdrN < pduHeaderLen {
				return
			}
			d.hdrN = 0
			s.pduHeader(dir)
		case dsBody:
			n := min(int(d.remain), len(data))
			d.body = append(d.body, data[:n]...)
			d.remain -= uint32(n)
			d.off += int64(n)
			data = data[n:]
			if d.remain == 0 {
				d.st = dsHeader
				s.controlPDU(dir)
			}
		case dsSkip:
			n := min(int(d.remain), len(data))
			d.remain -= uint32(n)
			d.off += int64(n)
			data = data[n:]
			if d.remain == 0 {
				d.st = dsHeader
			}
		case dsPData:
			data = s.pdata(dir, data)
		case dsResync:
			data = s.resync(dir, data)
		}
	}
}

// pduHeader handles a complete PDU header.
func (s *Stream) pduHeader(dir parser.Direction) {
	d := &s.d[dir]
	typ, n := d.hdr[0], binary.BigEndian.Uint32(d.hdr[2:6])
	if typ < pduAssociateRQ || typ > pduAbort || d.hdr[1] != 0 {
		s.anomaly(dir, "unknown_pdu_type", int64(typ), 0)
		var left [pduHeaderLen - 1]byte
		copy(left[:], d.hdr[1:])
		s.enterResync(dir, left[:])
		return
	}
	a := s.association()
	if dir == parser.ToServer {
		a.PDUsToServer++
	} else {
		a.PDUsToClient++
	}
	d.typ, d.remain = typ, n
	switch typ {
	case pduAssociateRQ, pduAssociateAC:
		switch {
		case n > maxAssociatePDULength:
			s.anomaly(dir, "pdu_too_long", int64(n), maxAssociatePDULength)
			s.skipPDU(dir)
		case n < minAssociatePDULength:
			s.anomaly(dir, "bad_pdu_length", int64(n), minAssociatePDULength)
			s.skipPDU(dir)
		default:
			d.body = d.body[:0]
			d.st = dsBody
		}
	case pduPData:
		if dir == parser.ToServer {
			a.PDataBytesToServer += int64(n)
		} else {
			a.PDataBytesToClient += int64(n)
		}
		if n > maxPDataPDULength {
			s.anomaly(dir, "pdu_too_long", int64(n), maxPDataPDULength)
			s.lost(dir)
			s.skipPDU(dir)
			return
		}
		// The receiver's negotiated maximum: the requestor's for PDUs to
		// it (to_client), the acceptor's for PDUs to the acceptor.
		max := a.MaxPDULength
		if dir == parser.ToServer {
			max = a.AcceptorMaxPDULength
		}
		if max != 0 && n > max && !d.maxHit {
			d.maxHit = true
			s.anomaly(dir, "pdu_exceeds_negotiated_max", int64(n), int64(max))
		}
		d.st, d.ihdrN, d.inItem = dsPData, 0, false
		if n == 0 {
			d.st = dsHeader
		}
	default:
		if n != 4 {
			s.anomaly(dir, "bad_pdu_length", int64(n), 4)
		}
		if n > maxAssociatePDULength {
			s.skipPDU(dir)
			return
		}
		d.body = d.body[:0]
		d.st = dsBody
		if n == 0 {
			d.st = dsHeader
			s.controlPDU(dir)
		}
	}
}

func (s *Stream) skipPDU(dir parser.Direction) {
	d := &s.d[dir]
	d.st = dsSkip
	if d.remain == 0 {
		d.st = dsHeader
	}
}

// controlPDU handles a buffered non-P-DATA PDU.
func (s *Stream) controlPDU(dir parser.Direction) {
	d := &s.d[dir]
	b := d.body
	switch d.typ {
	case pduAssociateRQ:
		if s.assoc != nil && s.assoc.Result != "unknown" {
			// A second association on one connection: end the first.
			s.endAssociation("")
		}
		a := s.association()
		a.Result = "requested"
		s.negotiation(dir, d.typ, b)
	case pduAssociateAC:
		a := s.association()
		a.Result = "accepted"
		s.negotiation(dir, d.typ, b)
		s.setupContexts()
	case pduAssociateRJ:
		a := s.association()
		a.Result = "rejected"
		if len(b) >= 4 {
			a.Reject = decodeReject(b)
		}
		s.endAssociation("")
	case pduReleaseRQ:
		s.association()
	case pduReleaseRP:
		a := s.association()
		a.Result = "released"
		s.endAssociation("")
	case pduAbort:
		a := s.association()
		a.Result = "aborted"
		if len(b) >= 4 {
			a.Abort = decodeAbort(dir, b)
		}
		s.endAssociation("")
	}
}

func (s *Stream) negotiation(dir parser.Direction, typ byte, b []byte) {
	var buf [8]assocIssue
	for _, is := range decodeAssociate(typ, b, s.assoc, buf[:0]) {
		s.anomaly(dir, is.code, is.length, is.limit)
	}
}

// setupContexts fills the presentation context table from the negotiation.
func (s *Stream) setupContexts() {
	s.pcs = [256]pcInfo{}
	for _, pc := range s.assoc.PresentationContexts {
		if pc.Result != "accepted" {
			continue
		}
		s.pcs[pc.ID] = pcInfo{ts: tsKindOf(pc.AcceptedTransferSyntax), tsUID: pc.AcceptedTransferSyntax, abstract: pc.AbstractSyntax}
	}
}

// pdata walks P-DATA-TF items; it returns the bytes past this PDU.
func (s *Stream) pdata(dir parser.Direction, data []byte) []byte {
	d := &s.d[dir]
	for len(data) > 0 && d.remain > 0 {
		if !d.inItem {
			if d.ihdrN == 0 && d.remain < pdvHeaderLen {
				s.anomaly(dir, "pdv_length_exceeds_pdu", pdvHeaderLen, int64(d.remain))
				s.lost(dir)
				d.st = dsSkip
				return data
			}
			n := copy(d.ihdr[d.ihdrN:], data)
			d.ihdrN += n
			d.remain -= uint32(n)
			d.off += int64(n)
			data = data[n:]
			if d.ihdrN < pdvHeaderLen {
				return nil
			}
			d.ihdrN = 0
			il := binary.BigEndian.Uint32(d.ihdr[0:4])
			if il < 2 {
				s.anomaly(dir, "pdv_too_short", int64(il), 2)
				s.lost(dir)
				d.st = dsSkip
				return data
			}
			if il-2 > d.remain {
				s.anomaly(dir, "pdv_length_exceeds_pdu", int64(il), int64(d.remain)+2)
				s.lost(dir)
				d.st = dsSkip
				return data
			}
			mch := d.ihdr[5]
			if mch&0xfc != 0 {
				s.anomaly(dir, "bad_message_control_header", int64(mch), 0)
			}
			d.iremain = il - 2
			d.inItem = true
			s.pdvBegin(dir, d.ihdr[4], mch)
			if d.iremain == 0 {
				d.inItem = false
				s.pdvEnd(dir)
			}
			continue
		}
		n := min(int(d.iremain), len(data))
		s.pdvData(dir, data[:n])
		d.iremain -= uint32(n)
		d.remain -= uint32(n)
		d.off += int64(n)
		data = data[n:]
		if d.iremain == 0 {
			d.inItem = false
			s.pdvEnd(dir)
		}
	}
	if d.remain == 0 {
		d.st = dsHeader
	}
	return data
}

// enterResync starts looking for a plausible PDU header, beginning with
// the bytes in left (already counted in the offset).
func (s *Stream) enterResync(dir parser.Direction, left []byte) {
	d := &s.d[dir]
	d.st, d.winN, d.skipped = dsResync, 0, 0
	d.off -= int64(len(left))
	for len(left) > 0 && d.st == dsResync {
		left = s.resync(dir, left)
	}
	if len(left) > 0 {
		s.feed(dir, left)
	}
}

// resync slides a window over the bytes until it starts with a plausible
// PDU header, then hands the window back to the PDU reader. It returns the
// bytes past the window.
func (s *Stream) resync(dir parser.Direction, data []byte) []byte {
	d := &s.d[dir]
	for len(data) > 0 {
		d.win[d.winN] = data[0]
		d.winN++
		d.off++
		data = data[1:]
		for d.winN > 0 {
			v := plausible(d.win[:d.winN])
			if v < 0 {
				break
			}
			if v == 0 {
				copy(d.win[:], d.win[1:d.winN])
				d.winN--
				d.skipped++
				continue
			}
			var tmp [resyncWindow]byte
			n := copy(tmp[:], d.win[:d.winN])
			d.winN = 0
			d.off -= int64(n)
			s.anomaly(dir, "resync", d.skipped, 0)
			d.st, d.hdrN = dsHeader, 0
			s.feed(dir, tmp[:n])
			return data
		}
	}
	return nil
}

// Gap implements parser.Stream. Inside a P-DATA value being skipped (pixel
// data), a loss shorter than what is left stays in sync; otherwise the
// direction resynchronises on the next plausible PDU header.
func (s *Stream) Gap(dir parser.Direction, missing int, ts time.Time) {
	s.now = ts
	dir &= 1
	d := &s.d[dir]
	if s.assoc != nil {
		s.assoc.Gaps++
	}
	m := uint32(missing)
	if missing > 0 && int64(missing) <= int64(^uint32(0)) {
		switch {
		case d.st == dsSkip && m <= d.remain:
			d.remain -= m
			d.off += int64(missing)
			if d.remain == 0 {
				d.st = dsHeader
			}
			return
		case d.st == dsPData && d.inItem && m <= d.iremain:
			d.iremain -= m
			d.remain -= m
			d.off += int64(missing)
			if d.cur != nil {
				d.cur.dataLost(m)
			}
			if d.iremain == 0 {
				d.inItem = false
				s.pdvEnd(dir)
			}
			if d.remain == 0 {
				d.st = dsHeader
			}
			return
		}
	}
	d.off += int64(missing)
	s.lost(dir)
	d.st, d.winN, d.skipped, d.hdrN, d.ihdrN, d.inItem = dsResync, 0, 0, 0, 0, false
}

// Close implements parser.Stream.
func (s *Stream) Close(reason parser.CloseReason, ts time.Time) {
	s.now = ts
	if s.assoc != nil {
		s.endAssociation(reason.String())
	}
}

// endAssociation flushes pending transactions and emits the association.
func (s *Stream) endAssociation(closeReason string) {
	for _, a := range s.asms {
		a.abandon(s)
	}
	for _, t := range s.pending {
		t.ev.Incomplete = true
		s.emitTxn(t)
	}
	s.pending = s.pending[:0]
	a := s.assoc
	a.CloseReason = closeReason
	a.Duration = s.now.Sub(s.first).Seconds()
	if len(a.DIMSECounts) == 0 {
		a.DIMSECounts = nil
	}
	s.em.Emit(s.now, a)
	s.assoc = nil
	s.pcs = [256]pcInfo{}
}
