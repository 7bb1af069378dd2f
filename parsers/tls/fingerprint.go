package tls

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
)

// isGREASE reports whether v is one of the reserved GREASE values 0x0a0a,
// 0x1a1a ... 0xfafa (RFC 8701), which fingerprints ignore.
func isGREASE(v uint16) bool {
	return v&0x0f0f == 0x0a0a && v>>8 == v&0xff
}

// noGREASE returns vs without GREASE values, in order, as a new slice.
func noGREASE(vs []uint16) []uint16 {
	out := make([]uint16, 0, len(vs))
	for _, v := range vs {
		if !isGREASE(v) {
			out = append(out, v)
		}
	}
	return out
}

// ja4Empty stands for the hash of an empty list in JA4.
const ja4Empty = "000000000000"

// ja4 computes the JA4 TLS client fingerprint of a ClientHello carried over
// TCP, following FoxIO's JA4 specification (technical_details/JA4.md).
func ja4(c *clientHello) string {
	b := make([]byte, 0, 40)
	b = append(b, 't')
	b = append(b, ja4Version(c)...)
	if c.hasSNI {
		b = append(b, 'd')
	} else {
		b = append(b, 'i')
	}
	ciphers := noGREASE(c.ciphers)
	exts := noGREASE(c.exts)
	b = append2(b, len(ciphers))
	b = append2(b, len(exts))
	b = append(b, ja4ALPN(c.alpnFirst)...)
	b = append(b, '_')

	slices.Sort(ciphers)
	b = append(b, ja4Hash(hexList(nil, ciphers))...)
	b = append(b, '_')

	sorted := exts[:0:0]
	for _, e := range exts {
		if e != extServerName && e != extALPN {
			sorted = append(sorted, e)
		}
	}
	if len(sorted) == 0 {
		return string(append(b, ja4Empty...))
	}
	slices.Sort(sorted)
	raw := hexList(nil, sorted)
	if sig := noGREASE(c.sigAlgs); len(sig) > 0 {
		raw = append(raw, '_')
		raw = hexList(raw, sig)
	}
	return string(append(b, ja4Hash(raw)...))
}

// ja4Version gives JA4's two-character version: the highest non-GREASE
// supported_versions value if that extension is present, else the
// ClientHello's legacy version.
func ja4Version(c *clientHello) string {
	v := c.version
	if c.hasVersions {
		var hi uint16
		for _, x := range c.versions {
			if !isGREASE(x) && x > hi {
				hi = x
			}
		}
		if hi != 0 {
			v = hi
		}
	}
	switch v {
	case verTLS13:
		return "13"
	case verTLS12:
		return "12"
	case verTLS11:
		return "11"
	case verTLS10:
		return "10"
	case verSSL3:
		return "s3"
	case 0x0002:
		return "s2"
	case 0xfeff:
		return "d1"
	case 0xfefd:
		return "d2"
	case 0xfefc:
		return "d3"
	}
	return "00"
}

// ja4ALPN gives the first and last characters of the first ALPN value, "00"
// if there is none; when either end byte is not ASCII alphanumeric, the first
// and last characters of the value's hex form instead.
func ja4ALPN(p string) string {
	if p == "" {
		return "00"
	}
	first, last := p[0], p[len(p)-1]
	if isAlnum(first) && isAlnum(last) {
		return string([]byte{first, last})
	}
	h := hex.EncodeToString([]byte(p))
	return string([]byte{h[0], h[len(h)-1]})
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// append2 appends n as two decimal digits, capped at 99.
func append2(b []byte, n int) []byte {
	n = min(n, 99)
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

// hexList appends vs as comma-separated four-digit lower-case hex.
func hexList(b []byte, vs []uint16) []byte {
	const digits = "0123456789abcdef"
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, digits[v>>12], digits[v>>8&0xf], digits[v>>4&0xf], digits[v&0xf])
	}
	return b
}

// ja4Hash is the first 12 hex digits of SHA-256, or ja4Empty for nothing.
func ja4Hash(raw []byte) string {
	if len(raw) == 0 {
		return ja4Empty
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:6])
}

// ja3String builds the JA3 input "version,ciphers,extensions,groups,
// point_formats" in decimal, list items joined by '-', GREASE removed.
func ja3String(c *clientHello) string {
	b := strconv.AppendUint(nil, uint64(c.version), 10)
	b = append(b, ',')
	b = decList(b, noGREASE(c.ciphers))
	b = append(b, ',')
	b = decList(b, noGREASE(c.exts))
	b = append(b, ',')
	b = decList(b, noGREASE(c.groups))
	b = append(b, ',')
	for i, p := range c.points {
		if i > 0 {
			b = append(b, '-')
		}
		b = strconv.AppendUint(b, uint64(p), 10)
	}
	return string(b)
}

// ja3sString builds the JA3S input "version,cipher,extensions" of a
// ServerHello, in decimal, GREASE removed.
func ja3sString(s *serverHello) string {
	b := strconv.AppendUint(nil, uint64(s.version), 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(s.cipher), 10)
	b = append(b, ',')
	b = decList(b, noGREASE(s.exts))
	return string(b)
}

func decList(b []byte, vs []uint16) []byte {
	for i, v := range vs {
		if i > 0 {
			b = append(b, '-')
		}
		b = strconv.AppendUint(b, uint64(v), 10)
	}
	return b
}

// md5Hex is the lower-case hex MD5 of s, as JA3 and JA3S publish it.
func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
