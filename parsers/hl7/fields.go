package hl7

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// fields hands the complete fields f, f+1... of r (split by the field
// separator, the last one ending where r does) to the message, with the
// same result as field on each in turn. It splits out only the fields
// whose position has a meaning (posMask) and those in which the number
// scan's filter finds a run of digits (numberCandidate), and passes over
// the rest unread: one pass of the filter over r, one walk over the
// separators up to the last field it needs.
func (s *stream) fields(d *dirState, r []byte, f int) {
	k := d.kind
	switch fieldPlan[k] {
	case planNone:
		return
	case planEach:
		s.eachField(d, r, f)
		return
	case planMSH:
		s.mshBlock(d, r, f)
		return
	}
	var pos uint64 // positional fields from f on: bit 0 is field f
	if f < 64 {
		pos = posMask[k] >> uint(f)
	}
	if skip := bits.TrailingZeros64(pos); pos != 0 && skip >= 8 {
		// The first positional field is far (OBX-18, PRT-10): often the
		// segment ends before it.
		sb := [1]byte{d.sep}
		if bytes.Count(r, sb[:]) < skip {
			pos = 0
		}
	}
	cand := -1
	if scannedKind[k] {
		cand = numberCandidate(r, 0, d.sep)
	}
	if pos == 0 && cand < 0 {
		return
	}
	sepw := lo8 * uint64(d.sep)
	i, z := -8, uint64(0) // the word at i; its separators not reached yet
	for start := 0; ; f++ {
		for z == 0 && i < len(r) {
			if i += 8; i < len(r) {
				z = zeroBytes(wordZero(r, i) ^ sepw)
			}
		}
		end, last := len(r), z == 0
		if !last {
			end = i + bits.TrailingZeros64(z)>>3
			z &= z - 1
		}
		// An empty field gives nothing by position (positional checks
		// empty), but in MSA, whose fields it takes as they are.
		if pos&1 != 0 && (end > start || k == segMSA) {
			s.positional(d, k, f, fieldText(r[start:end]))
		}
		if cand >= 0 && cand < end {
			if raw := fieldText(r[start:end]); scanned(k, f) && !empty(raw, &d.m) {
				s.scanHits(d, f, raw)
			}
			cand = -1
			if !last {
				cand = numberCandidate(r, end+1, d.sep)
			}
		}
		pos >>= 1
		if last || (pos == 0 && cand < 0) {
			return
		}
		start = end + 1
	}
}

// wordZero reads 8 bytes of r from i, padded with zeros past its end (a
// zero is never a separator).
func wordZero(r []byte, i int) uint64 {
	if i+8 <= len(r) {
		return binary.LittleEndian.Uint64(r[i:])
	}
	return tailZero(r, i)
}

// tailZero is wordZero at the end of r, out of line so that wordZero is
// inlined in the walks over separators.
//
//go:noinline
func tailZero(r []byte, i int) uint64 { return tailWord(r, i, 0) }

// mshBlock takes MSH fields f, f+1... from r: MSH-2 at once, the rest kept
// raw (mshFields).
func (s *stream) mshBlock(d *dirState, r []byte, f int) {
	if f == 2 {
		j := bytes.IndexByte(r, d.sep)
		if j < 0 {
			s.encodingChars(d, fieldText(r))
			return
		}
		s.encodingChars(d, fieldText(r[:j]))
		r, f = r[j+1:], 3
	}
	if f >= 3 {
		s.mshFields(d, f, r)
	}
}

// eachField hands every field of r to field, one by one.
func (s *stream) eachField(d *dirState, r []byte, f int) {
	for {
		j := bytes.IndexByte(r, d.sep)
		if j < 0 {
			s.field(d, d.kind, f, fieldText(r))
			return
		}
		s.field(d, d.kind, f, fieldText(r[:j]))
		r = r[j+1:]
		f++
	}
}

// fieldText is what is kept of a field: its first MaxFieldLen bytes.
func fieldText(raw []byte) []byte { return raw[:min(len(raw), MaxFieldLen)] }

// plan says how fields reaches a segment kind's fields.
type plan uint8

const (
	planSparse plan = iota // positional fields and number scan candidates only
	planNone               // nothing is taken from the fields (ERR, envelopes)
	planEach               // every field: most have a meaning (IN1, IN2, Z segments)
	planMSH                // MSH-2 at once, the rest kept raw
)

var (
	fieldPlan   [segFTS + 1]plan
	scannedKind [segFTS + 1]bool
	// posMask has bit n set for each field n of a segment kind that has
	// a meaning by position: acknowledgement, software and device
	// fields, OBX-18, and the PHI fields of phiField.
	posMask [segFTS + 1]uint64
	// phiTable is phiField for fields under 64, looked up without a
	// switch per field.
	phiTable [segFTS + 1][64]category
)

// phiFieldOf is phiField, from phiTable where it can.
func phiFieldOf(k segKind, f int) category {
	if uint(f) < 64 && k <= segFTS {
		return phiTable[k][f]
	}
	return phiField(k, f)
}

func init() {
	for k := segOther; k <= segFTS; k++ {
		scannedKind[k] = scanned(k, 1)
		for f := 0; f < 64; f++ {
			phiTable[k][f] = phiField(k, f)
			if f > 0 && phiTable[k][f] != noCat {
				posMask[k] |= 1 << f
			}
		}
	}
	posMask[segMSA] = 1<<1 | 1<<2
	posMask[segSFT] = 1<<1 | 1<<2 | 1<<3 | 1<<4
	posMask[segPRT] = 1<<10 | 0x7f<<16
	posMask[segOBX] = 1 << 18
	fieldPlan[segMSH] = planMSH
	for _, k := range []segKind{segERR, segFHS, segBHS, segBTS, segFTS} {
		fieldPlan[k] = planNone
	}
	for _, k := range []segKind{segIN1, segIN2, segZ} {
		fieldPlan[k] = planEach
	}
}
