package parser

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// AppendJSONString appends s as a JSON string exactly as encoding/json's
// Marshal writes it: <, > and & escaped as \u003c \u003e \u0026, control
// characters as \b \f \n \r \t or \u00XX, invalid UTF-8 as \ufffd, and
// U+2028 and U+2029 escaped. (strconv.Quote differs on all of these.) Every
// parser's hand-written AppendJSON uses it.
func AppendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if jsonSafe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// jsonSafe marks the ASCII bytes encoding/json writes as they are (its
// htmlSafeSet): 0x20 to 0x7F but " \ < > &.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// AppendJSONField appends a field of a JSON object: key, which holds the
// separator, the quoted name and the colon (`,"name":`), then v as
// AppendJSONString writes it.
func AppendJSONField(dst []byte, key, v string) []byte {
	return AppendJSONString(append(dst, key...), v)
}

// AppendJSONOptField is AppendJSONField for an omitempty field: nothing
// when v is empty.
func AppendJSONOptField(dst []byte, key, v string) []byte {
	if v == "" {
		return dst
	}
	return AppendJSONField(dst, key, v)
}

// AppendJSONFloat appends a float64 as encoding/json does (ES6 number
// formatting); null for NaN and infinities, which it refuses.
func AppendJSONFloat(dst []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(dst, "null"...)
	}
	if f > 0 && f < 1e9 {
		// Latencies and durations come from capture times in microseconds. When f is
		// the double nearest a whole number of microseconds, n/1e6, that
		// decimal has at most 15 significant digits, and no other
		// decimal of 15 digits or fewer rounds to the same double: it
		// is the shortest form strconv would find, written here from
		// integers without its search.
		if n := math.Round(f * 1e6); n/1e6 == f {
			u := uint64(n)
			dst = strconv.AppendUint(dst, u/1e6, 10)
			if frac := u % 1e6; frac != 0 {
				t := [7]byte{'.'}
				for i := 6; i > 0; i-- {
					t[i] = byte('0' + frac%10)
					frac /= 10
				}
				k := 7
				for t[k-1] == '0' {
					k--
				}
				dst = append(dst, t[:k]...)
			}
			return dst
		}
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// e-09 becomes e-9.
		if n := len(dst) - start; n >= 4 && dst[len(dst)-4] == 'e' && dst[len(dst)-3] == '-' && dst[len(dst)-2] == '0' {
			dst[len(dst)-2] = dst[len(dst)-1]
			dst = dst[:len(dst)-1]
		}
	}
	return dst
}
