package hl7

import (
	"bytes"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// charsetID is a character set named by MSH-18 (HL7 table 0211), or guessed.
type charsetID uint8

const (
	csNone    charsetID = iota // MSH-18 empty: ASCII declared, UTF-8 or GB 18030 guessed for 8-bit bytes
	csASCII                    // ASCII
	csUTF8                     // UNICODE UTF-8
	cs8859_1                   // 8859/1 .. 8859/9, 8859/15
	cs8859_2                   //
	cs8859_3                   //
	cs8859_4                   //
	cs8859_5                   //
	cs8859_6                   //
	cs8859_7                   //
	cs8859_8                   //
	cs8859_9                   //
	cs8859_15                  //
	csGB18030                  // GB 18030-2000 (also GBK, GB2312: GB 18030 is their superset)
	csBig5                     // BIG-5
	csKSX1001                  // KS X 1001 (EUC-KR)
	csUnicode                  // UNICODE (UCS-2), UTF-16, UTF-32: reported, not decoded
	csOther                    // a name not in the table: reported as "other", decoded as csNone
	numCharsets
)

// charsetNames are the names the charset field reports: HL7 table 0211's
// spelling.
var charsetNames = [numCharsets]string{
	csNone: "", csASCII: "ASCII", csUTF8: "UNICODE UTF-8",
	cs8859_1: "8859/1", cs8859_2: "8859/2", cs8859_3: "8859/3", cs8859_4: "8859/4",
	cs8859_5: "8859/5", cs8859_6: "8859/6", cs8859_7: "8859/7", cs8859_8: "8859/8",
	cs8859_9: "8859/9", cs8859_15: "8859/15", csGB18030: "GB 18030-2000",
	csBig5: "BIG-5", csKSX1001: "KS X 1001", csUnicode: "UNICODE", csOther: "other",
}

// charsetAliases maps upper-cased MSH-18 values, with spaces, '-', '_' and
// '/' removed, to a character set. Beside table 0211 it holds the spellings
// found in the field (UTF-8, GBK, GB2312, ISO-8859-1).
var charsetAliases = map[string]charsetID{
	"ASCII": csASCII, "USASCII": csASCII, "ISOIR6": csASCII,
	"UNICODEUTF8": csUTF8, "UTF8": csUTF8, "ISOIR192": csUTF8,
	"88591": cs8859_1, "ISO88591": cs8859_1, "ISOIR100": cs8859_1, "LATIN1": cs8859_1,
	"88592": cs8859_2, "ISO88592": cs8859_2,
	"88593": cs8859_3, "ISO88593": cs8859_3,
	"88594": cs8859_4, "ISO88594": cs8859_4,
	"88595": cs8859_5, "ISO88595": cs8859_5,
	"88596": cs8859_6, "ISO88596": cs8859_6,
	"88597": cs8859_7, "ISO88597": cs8859_7,
	"88598": cs8859_8, "ISO88598": cs8859_8,
	"88599": cs8859_9, "ISO88599": cs8859_9,
	"885915": cs8859_15, "ISO885915": cs8859_15,
	"GB180302000": csGB18030, "GB18030": csGB18030, "GBK": csGB18030, "GB2312": csGB18030,
	"BIG5": csBig5, "CNS116431992": csBig5,
	"KSX1001": csKSX1001, "EUCKR": csKSX1001,
	"UNICODE": csUnicode, "UNICODEUTF16": csUnicode, "UNICODEUTF32": csUnicode, "UTF16": csUnicode,
}

// maxCharsetName bounds the MSH-18 value looked up.
const maxCharsetName = 32

// lookupCharset names the character set of an MSH-18 value (its first
// repetition, first component). It does not allocate.
func lookupCharset(v []byte) charsetID {
	var key [maxCharsetName]byte
	n := 0
	for _, c := range v {
		switch {
		case c == ' ' || c == '-' || c == '_' || c == '/':
			continue
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		if n == len(key) {
			return csOther
		}
		key[n] = c
		n++
	}
	if n == 0 {
		return csNone
	}
	if id, ok := charsetAliases[string(key[:n])]; ok {
		return id
	}
	return csOther
}

// csMemo remembers a stream's last MSH-18 value and its character set:
// a link's messages all declare the same.
type csMemo struct {
	n  int
	v  [maxCharsetName]byte
	id charsetID
}

// lookupCharset is lookupCharset, remembering the stream's last answer.
func (s *stream) lookupCharset(v []byte) charsetID {
	c := &s.csMemo
	if c.n > 0 && string(v) == string(c.v[:c.n]) {
		return c.id
	}
	id := lookupCharset(v)
	if len(v) > 0 && len(v) <= len(c.v) {
		c.n = copy(c.v[:], v)
		c.id = id
	}
	return id
}

// encodingOf gives the x/text decoder source for a character set, nil when
// the bytes are used as they are.
func encodingOf(id charsetID) encoding.Encoding {
	switch id {
	case cs8859_1:
		return charmap.ISO8859_1
	case cs8859_2:
		return charmap.ISO8859_2
	case cs8859_3:
		return charmap.ISO8859_3
	case cs8859_4:
		return charmap.ISO8859_4
	case cs8859_5:
		return charmap.ISO8859_5
	case cs8859_6:
		return charmap.ISO8859_6
	case cs8859_7:
		return charmap.ISO8859_7
	case cs8859_8:
		return charmap.ISO8859_8
	case cs8859_9:
		return charmap.ISO8859_9
	case cs8859_15:
		return charmap.ISO8859_15
	case csGB18030:
		return simplifiedchinese.GB18030
	case csBig5:
		return traditionalchinese.Big5
	case csKSX1001:
		return korean.EUCKR
	}
	return nil
}

// decoders caches one stream's decoders, made on first use.
type decoders [numCharsets]*encoding.Decoder

// appendText appends src, in character set id, to dst as UTF-8. Bytes
// under 0x80 are copied as they are. With no declared set (or ASCII, or a
// name not in the table) 8-bit text is taken as UTF-8 when it is valid
// UTF-8, else as GB 18030, the usual undeclared set of Chinese hospital
// systems. Text that does not decode is replaced by U+FFFD. It allocates
// only when dst must grow and on the stream's first use of a set.
func (ds *decoders) appendText(dst, src []byte, id charsetID) []byte {
	ascii := true
	for _, c := range src {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return append(dst, src...)
	}
	switch id {
	case csNone, csASCII, csOther, csUTF8:
		if utf8.Valid(src) {
			return append(dst, src...)
		}
		if id == csUTF8 {
			return append(dst, bytes.ToValidUTF8(src, []byte("\uFFFD"))...)
		}
		id = csGB18030
	case csUnicode:
		return append(dst, bytes.ToValidUTF8(src, []byte("\uFFFD"))...)
	}
	d := ds[id]
	if d == nil {
		d = encodingOf(id).NewDecoder()
		ds[id] = d
	}
	d.Reset()
	for len(src) > 0 {
		if cap(dst)-len(dst) < 4*len(src)+16 {
			dst = append(dst[:cap(dst)], make([]byte, 4*len(src)+16)...)[:len(dst)]
		}
		nDst, nSrc, err := d.Transform(dst[len(dst):cap(dst)], src, true)
		dst = dst[:len(dst)+nDst]
		src = src[nSrc:]
		if err != nil && nSrc == 0 && nDst == 0 {
			// Undecodable: give the byte up as U+FFFD and go on.
			dst = append(dst, "\uFFFD"...)
			src = src[1:]
			d.Reset()
		}
	}
	return dst
}
