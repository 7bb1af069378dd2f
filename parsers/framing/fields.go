package framing

import (
	"encoding/hex"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// trimmed drops NUL padding and surrounding spaces from a string field's
// bytes without allocating.
func trimmed(b []byte) []byte {
	if i := indexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// bcdLen is how many digits packed BCD b holds before its filler: a nibble
// 0xF ends the digits (and must be the last), any other nibble above 9
// makes the field invalid (-1).
func bcdLen(b []byte) int {
	n := 0
	for _, x := range b {
		for _, d := range [2]byte{x >> 4, x & 0x0F} {
			switch {
			case d <= 9:
				n++
			case d == 0x0F:
				return n
			default:
				return -1
			}
		}
	}
	return n
}

// present reports whether offset field f has a value in frame fr: the
// frame holds its bytes, its condition holds, and a string, bytes or BCD
// value is not empty after trimming. It does not allocate.
func (f *field) present(fr []byte, dir int8, cc *condCache) bool {
	if f.when != nil && !f.when.eval(fr, dir, cc) {
		return false
	}
	b, ok := f.span(fr)
	if !ok {
		return false
	}
	switch f.typ {
	case ftString:
		return len(trimmed(b)) > 0
	case ftBytes:
		return len(b) > 0
	case ftBCD:
		return bcdLen(b) > 0
	}
	return true
}

// condCache remembers, for one frame, the conditions already evaluated
// (by id; many fields share one condition).
type condCache struct{ done, val uint64 }

// eval is holds through the frame's cache.
func (c *cond) eval(fr []byte, dir int8, cc *condCache) bool {
	if c.id >= 64 {
		return c.holds(fr, dir)
	}
	bit := uint64(1) << c.id
	if cc.done&bit == 0 {
		cc.done |= bit
		if c.holds(fr, dir) {
			cc.val |= bit
		}
	}
	return cc.val&bit != 0
}

// holds evaluates the condition on frame fr sent in direction dir.
func (c *cond) holds(fr []byte, dir int8) bool {
	if c.dir >= 0 && c.dir != dir {
		return false
	}
	b, ok := c.f.span(fr)
	if !ok {
		return false
	}
	in := false
	if c.f.typ == ftUint {
		v := readUint(b, c.f.big)
		for _, n := range c.nums {
			if n == v {
				in = true
				break
			}
		}
	} else {
		t := b
		if c.f.typ == ftString {
			t = trimmed(b)
		}
		for _, s := range c.strs {
			if string(t) == s {
				in = true
				break
			}
		}
	}
	return in != c.neg
}

// text decodes offset field f's value in frame fr for an event; ok is
// false when the field is absent. It allocates.
func (f *field) text(fr []byte) (string, bool) {
	b, ok := f.span(fr)
	if !ok {
		return "", false
	}
	switch f.typ {
	case ftUint:
		v := readUint(b, f.big)
		if n, ok := f.names[v]; ok {
			return n, true
		}
		if f.role == roleCommand {
			return "0x" + strconv.FormatUint(v, 16), true
		}
		return strconv.FormatUint(v, 10), true
	case ftBytes:
		if len(b) > MaxValueLen/2 {
			b = b[:MaxValueLen/2]
		}
		return hex.EncodeToString(b), len(b) > 0
	case ftBCD:
		n := bcdLen(b)
		if n <= 0 {
			return "", false
		}
		n = min(n, MaxValueLen)
		out := make([]byte, n)
		for i := range out {
			x := b[i/2]
			if i%2 == 0 {
				out[i] = '0' + x>>4
			} else {
				out[i] = '0' + x&0x0F
			}
		}
		return string(out), true
	}
	t := trimmed(b)
	if len(t) == 0 {
		return "", false
	}
	s := decodeText(t, f.cs)
	return s, s != ""
}

// decodeText turns a string field's bytes into valid UTF-8 of at most
// MaxValueLen bytes, with control characters replaced by spaces.
func decodeText(b []byte, cs charset) string {
	if len(b) > 4*MaxValueLen {
		b = b[:4*MaxValueLen]
	}
	var s string
	switch cs {
	case csGB18030:
		out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b)
		if err != nil {
			s = strings.ToValidUTF8(string(b), "\uFFFD")
		} else {
			s = string(out)
		}
	case csLatin1:
		out, _ := charmap.ISO8859_1.NewDecoder().Bytes(b)
		s = string(out)
	case csASCII:
		buf := []byte(string(b))
		for i, x := range buf {
			if x >= 0x80 {
				buf[i] = '?'
			}
		}
		s = string(buf)
	default:
		s = strings.ToValidUTF8(string(b), "\uFFFD")
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7F {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	return truncUTF8(s, MaxValueLen)
}

// truncUTF8 cuts s to at most n bytes on a rune boundary.
func truncUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// regexText runs regex field f on frame fr and returns its first capture
// group as text; ok is false when it does not match or the group is
// empty. It allocates only when it matches.
func (f *field) regexText(fr []byte) (string, bool) {
	w, ok := f.regexInput(fr)
	if !ok {
		return "", false
	}
	m := f.re.FindSubmatchIndex(w)
	if len(m) < 4 || m[2] < 0 || m[3] <= m[2] {
		return "", false
	}
	s := decodeText(w[m[2]:m[3]], f.cs)
	return s, s != ""
}

// regexMatches reports whether regex field f matches frame fr, without
// allocating.
func (f *field) regexMatches(fr []byte) bool {
	w, ok := f.regexInput(fr)
	return ok && f.re.Match(w)
}

// regexInput is the part of frame fr a regex field reads: its range, at
// most MaxRegexInput bytes.
func (f *field) regexInput(fr []byte) ([]byte, bool) {
	a, e := f.from.at(len(fr)), f.to.at(len(fr))
	if a < 0 || e > len(fr) || a > e {
		return nil, false
	}
	w := fr[a:e]
	if len(w) > MaxRegexInput {
		w = w[:MaxRegexInput]
	}
	return w, true
}
