package framing

import "hash/crc32"

// Checksum algorithms: the closed set `checksum.algorithm` takes its value
// from, with the stored value's size in bytes.
var checksumSizes = map[string]int{
	"sum8":        1, // sum of the bytes mod 256
	"xor8":        1, // XOR of the bytes
	"crc16-ccitt": 2, // CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, not reflected, no final XOR
	"crc32":       4, // CRC-32 (ISO-HDLC, zlib, Ethernet): reflected poly 0xEDB88320, init and final XOR 0xFFFFFFFF
}

// crc16Table is CRC-16/CCITT-FALSE's byte table (polynomial 0x1021).
var crc16Table = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i) << 8
		for range 8 {
			if c&0x8000 != 0 {
				c = c<<1 ^ 0x1021
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

// crc16CCITT is CRC-16/CCITT-FALSE of b ("123456789" gives 0x29B1).
func crc16CCITT(b []byte) uint16 {
	c := uint16(0xFFFF)
	for _, x := range b {
		c = c<<8 ^ crc16Table[byte(c>>8)^x]
	}
	return c
}

// compute runs algorithm alg over b. (hash/crc32 is fast on long frames,
// but its input escapes: probes use computeLocal.)
func compute(alg string, b []byte) uint64 {
	if alg == "crc32" {
		return uint64(crc32.ChecksumIEEE(b))
	}
	return computeLocal(alg, b)
}

// crc32Table is CRC-32's reflected byte table (polynomial 0xEDB88320).
var crc32Table = func() (t [256]uint32) {
	for i := range t {
		c := uint32(i)
		for range 8 {
			if c&1 != 0 {
				c = c>>1 ^ 0xEDB88320
			} else {
				c >>= 1
			}
		}
		t[i] = c
	}
	return t
}()

// computeLocal is compute without hash/crc32, so b does not escape.
func computeLocal(alg string, b []byte) uint64 {
	switch alg {
	case "sum8":
		var s byte
		for _, x := range b {
			s += x
		}
		return uint64(s)
	case "xor8":
		var s byte
		for _, x := range b {
			s ^= x
		}
		return uint64(s)
	case "crc16-ccitt":
		return uint64(crc16CCITT(b))
	case "crc32":
		c := ^uint32(0)
		for _, x := range b {
			c = crc32Table[byte(c)^x] ^ c>>8
		}
		return uint64(^c)
	}
	return 0
}

// verify checks frame fr's checksum. ok is false when the frame is too
// short to hold the checked range and the stored value (fits false) or
// when the values differ.
func (c *checksum) verify(fr []byte) (ok, fits bool) {
	a, e, at, fits := c.bounds(len(fr))
	if !fits {
		return false, false
	}
	return c.matches(fr[at:at+c.width()], compute(c.alg, fr[a:e])), true
}

// verifyLocal is verify for probes: fr does not escape.
func (c *checksum) verifyLocal(fr []byte) bool {
	a, e, at, fits := c.bounds(len(fr))
	return fits && c.matches(fr[at:at+c.width()], computeLocal(c.alg, fr[a:e]))
}

// bounds resolves the checked range and the stored value's place in a
// frame of l bytes.
func (c *checksum) bounds(l int) (a, e, at int, fits bool) {
	a, e, at = c.from.at(l), c.to.at(l), c.at.at(l)
	return a, e, at, a >= 0 && e <= l && a <= e && at >= 0 && at+c.width() <= l
}

// matches compares the stored value b with the computed one.
func (c *checksum) matches(b []byte, want uint64) bool {
	stored, ok := c.stored(b)
	return ok && stored == want
}

// stored decodes the checksum value as the frame holds it.
func (c *checksum) stored(b []byte) (uint64, bool) {
	if c.hex {
		var v uint64
		for _, x := range b {
			d, ok := hexDigit(x)
			if !ok {
				return 0, false
			}
			v = v<<4 | uint64(d)
		}
		return v, true
	}
	return readUint(b, c.big), true
}

func hexDigit(x byte) (byte, bool) {
	switch {
	case x >= '0' && x <= '9':
		return x - '0', true
	case x >= 'A' && x <= 'F':
		return x - 'A' + 10, true
	case x >= 'a' && x <= 'f':
		return x - 'a' + 10, true
	}
	return 0, false
}

// readUint reads an unsigned integer of len(b) (at most 8) bytes.
func readUint(b []byte, big bool) uint64 {
	var v uint64
	if big {
		for _, x := range b {
			v = v<<8 | uint64(x)
		}
		return v
	}
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}
