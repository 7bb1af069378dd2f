package hl7

import (
	"encoding/binary"
	"math/bits"
)

// Word-at-a-time byte classification (SWAR: SIMD within a register). Each
// helper looks at 8 bytes per step with carry-free arithmetic on their low 7
// bits, so no byte's result leaks into its neighbour's, and masks bytes of
// 0x80 and above out separately.
const (
	lo8  = 0x0101010101010101
	hi8  = 0x8080808080808080
	low7 = 0x7f7f7f7f7f7f7f7f
)

// runDigits is the fewest digits a number the value scan reports can hold:
// a phone number has 10 to 15, a PRC mobile 11, a resident ID 17 and a
// check character.
const runDigits = 10

// numberCandidate returns the offset of a byte of the first run of r at or
// after i that may hold a number the value scan reports, or -1 when there
// is none. A run is a maximal stretch of bytes in 0x20..0x39 (space, the
// punctuation "!"#$%&'()*+,-./" and digits) other than sep; i must start
// one (the start of a value, or the byte after a field separator).
//
// Every number scanNumbers reports lies in one run (it is made of digits,
// spaces and "()+-") and has either its digits in groups split by such
// bytes (phone numbers), or 11 or 13 digits in a row (a mobile number,
// alone or after 86), or 17 or more (a resident ID). So a run qualifies
// when it has at least runDigits digits and a non-digit byte, or exactly
// 11 or 13 digits, or 17 and more. Timestamps (14 digits in a row), dates,
// codes and short numbers do not; the value scan only looks at the fields
// holding a run that does.
func numberCandidate(r []byte, i int, sep byte) int {
	if i >= len(r) {
		return -1
	}
	var sepw uint64 // the separator in every byte, when it may be a run byte
	if sep >= 0x20 && sep <= 0x39 {
		sepw = lo8 * uint64(sep)
	}
	// The current run's digits, and its other bytes (not zero: the run
	// is mixed).
	cnt, mix := 0, uint64(0)
	for ; i+8 <= len(r); i += 8 {
		x := binary.LittleEndian.Uint64(r[i:])
		a := x & low7
		lt := hi8 &^ (x | (a + 0x4646464646464646)) // ASCII below 0x3A
		dg := (a + 0x5050505050505050) & lt         // '0'..'9'
		if dg|uint64(cnt) == 0 {
			continue // no digit in the word or the run before it
		}
		in := (a + 0x6060606060606060) & lt // 0x20..0x39
		if sepw != 0 {
			in &^= zeroBytes(x ^ sepw)
		}
		out := hi8 &^ in // bytes that end runs
		nd := in &^ dg
		if out == 0 {
			cnt += highBits(dg)
			mix |= nd
			continue
		}
		// Only the run carried in can end here with runDigits digits: one
		// inside the word has at most 7. It needs at least 3 carried.
		if cnt > 2 {
			if k, ok := runEnd(cnt, mix != 0, dg, nd, out); ok {
				return i + k
			}
		}
		if int64(out) < 0 {
			cnt, mix = 0, 0 // the word's last byte ends a run
			continue
		}
		sh := 64 - bits.LeadingZeros64(out) // the bytes after the last that ends a run
		cnt, mix = highBits(dg>>sh), nd>>sh
	}
	// The tail, padded with bytes that end runs ('A').
	x := tailWord(r, i, lo8*'A')
	a := x & low7
	lt := hi8 &^ (x | (a + 0x4646464646464646))
	dg := (a + 0x5050505050505050) & lt
	in := (a + 0x6060606060606060) & lt
	if sepw != 0 {
		in &^= zeroBytes(x ^ sepw)
	}
	if k, ok := runEnd(cnt, mix != 0, dg, in&^dg, hi8&^in); ok {
		return i + k
	}
	return -1
}

// runEnd decides on the run that ends at the first byte of out (not zero),
// given its digits and mixedness before this word and the word's digit and
// other run byte masks. When the run qualifies, it gives the offset in the
// word of the run's last byte (-1: the last byte of the word before).
func runEnd(cnt int, mixed bool, dg, nd, out uint64) (int, bool) {
	below := out&-out - 1
	c := cnt + highBits(dg&below)
	if c >= runDigits && (mixed || nd&below != 0 || c == 11 || c == 13 || c >= 17) {
		return bits.TrailingZeros64(out)>>3 - 1, true
	}
	return 0, false
}

// tailWord reads the last bytes of r, from i (len(r)-8 < i <= len(r)),
// padded to 8 with pad's byte (pad is lo8 times it). When r is longer than its tail, they
// are read with the bytes before them in one load, not one at a time.
func tailWord(r []byte, i int, pad uint64) uint64 {
	n := len(r) - i // 0..7 bytes
	if len(r) >= 8 {
		// A shift by 64 (n == 0) gives 0 in Go.
		return binary.LittleEndian.Uint64(r[len(r)-8:])>>(8*(8-n)) | pad<<(8*n)
	}
	x := pad << (8 * n)
	for k, c := range r[i:] {
		x |= uint64(c) << (8 * k)
	}
	return x
}

// highBits counts the bytes of m with their high bit set; m has no other
// bits. (A multiplication adds the bytes up in the top one: no call to a
// population count that GOAMD64=v1 cannot assume.)
func highBits(m uint64) int { return int((m >> 7) * lo8 >> 56) }

// zeroBytes has the high bit set in each byte of x that is zero, exactly.
func zeroBytes(x uint64) uint64 {
	return ^(((x & low7) + low7) | x | low7)
}

// mayHoldNumber reports whether a value may hold a number the value scan
// reports (see numberCandidate).
func mayHoldNumber(v []byte) bool { return numberCandidate(v, 0, 0) >= 0 }
