package dicom

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

// Decoding of text values with the dataset's SpecificCharacterSet
// (0008,0005), PS3.3 C.12.1.1.2 and PS3.5 6.1. It runs only when an event
// is built, never on the byte path.

// charsetEncoding maps a defined term to its encoding; nil is the default
// repertoire (ASCII).
func charsetEncoding(term string) (encoding.Encoding, bool) {
	switch term {
	case "", "ISO_IR 6", "ISO 2022 IR 6":
		return nil, true
	case "ISO_IR 100", "ISO 2022 IR 100":
		return charmap.ISO8859_1, true
	case "ISO_IR 101", "ISO 2022 IR 101":
		return charmap.ISO8859_2, true
	case "ISO_IR 109", "ISO 2022 IR 109":
		return charmap.ISO8859_3, true
	case "ISO_IR 110", "ISO 2022 IR 110":
		return charmap.ISO8859_4, true
	case "ISO_IR 144", "ISO 2022 IR 144":
		return charmap.ISO8859_5, true
	case "ISO_IR 127", "ISO 2022 IR 127":
		return charmap.ISO8859_6, true
	case "ISO_IR 126", "ISO 2022 IR 126":
		return charmap.ISO8859_7, true
	case "ISO_IR 138", "ISO 2022 IR 138":
		return charmap.ISO8859_8, true
	case "ISO_IR 148", "ISO 2022 IR 148":
		return charmap.ISO8859_9, true
	case "ISO_IR 203", "ISO 2022 IR 203":
		return charmap.ISO8859_15, true
	case "ISO_IR 166", "ISO 2022 IR 166":
		return charmap.Windows874, true
	case "ISO_IR 13", "ISO 2022 IR 13":
		return japanese.ShiftJIS, true
	case "ISO 2022 IR 87", "ISO 2022 IR 159":
		return japanese.ISO2022JP, true
	case "ISO 2022 IR 149":
		return korean.EUCKR, true
	case "ISO 2022 IR 58":
		return simplifiedchinese.GBK, true
	case "ISO_IR 192":
		return unicode.UTF8, true
	case "GB18030":
		return simplifiedchinese.GB18030, true
	case "GBK":
		return simplifiedchinese.GBK, true
	}
	return nil, false
}

// escapeEncoding maps an ISO 2022 escape sequence (without ESC) to the
// encoding of the bytes that follow it. keep says the escape must be
// passed to the decoder (ISO-2022-JP is stateful).
func escapeEncoding(esc []byte) (enc encoding.Encoding, n int, keep bool) {
	if len(esc) >= 2 {
		switch string(esc[:2]) {
		case "(B", "(J": // ASCII, JIS X 0201 Romaji
			return nil, 2, false
		case ")I": // JIS X 0201 Katakana
			return japanese.ShiftJIS, 2, false
		case "$B", "$@": // JIS X 0208
			return japanese.ISO2022JP, 2, true
		case "-A":
			return charmap.ISO8859_1, 2, false
		case "-B":
			return charmap.ISO8859_2, 2, false
		case "-C":
			return charmap.ISO8859_3, 2, false
		case "-D":
			return charmap.ISO8859_4, 2, false
		case "-F":
			return charmap.ISO8859_7, 2, false
		case "-G":
			return charmap.ISO8859_6, 2, false
		case "-H":
			return charmap.ISO8859_8, 2, false
		case "-L":
			return charmap.ISO8859_5, 2, false
		case "-M":
			return charmap.ISO8859_9, 2, false
		case "-T":
			return charmap.Windows874, 2, false
		case "-b":
			return charmap.ISO8859_15, 2, false
		}
	}
	if len(esc) >= 3 {
		switch string(esc[:3]) {
		case "$)C": // KS X 1001 in G1
			return korean.EUCKR, 3, false
		case "$)A": // GB 2312 in G1
			return simplifiedchinese.GBK, 3, false
		case "$(D": // JIS X 0212
			return japanese.ISO2022JP, 3, true
		}
	}
	return nil, 0, false
}

// decodeText decodes a text value. charset is the raw value of (0008,0005)
// (backslash-separated defined terms).
func decodeText(charset string, v []byte) string {
	if isASCII(v) {
		// Every supported character set is ASCII-compatible (ISO 2022
		// switches only with ESC, which is not printable ASCII here).
		return string(v)
	}
	terms := strings.Split(charset, `\`)
	for i := range terms {
		terms[i] = strings.TrimSpace(terms[i])
	}
	first, ok := charsetEncoding(terms[0])
	if !ok {
		first = nil
	}
	if bytes.IndexByte(v, 0x1b) < 0 {
		return decodeWith(first, v)
	}
	// ISO 2022 code extensions: split at each escape; the bytes before
	// the first escape are in the first term's character set.
	var out strings.Builder
	i := bytes.IndexByte(v, 0x1b)
	out.WriteString(decodeWith(first, v[:i]))
	v = v[i:]
	for len(v) > 0 {
		next := bytes.IndexByte(v[1:], 0x1b)
		var frag []byte
		if next < 0 {
			frag, v = v, nil
		} else {
			frag, v = v[:next+1], v[next+1:]
		}
		enc, n, keep := escapeEncoding(frag[1:])
		if n == 0 {
			out.WriteString(decodeWith(first, frag[1:]))
			continue
		}
		if keep {
			out.WriteString(decodeWith(enc, frag))
		} else {
			out.WriteString(decodeWith(enc, frag[1+n:]))
		}
	}
	return out.String()
}

// isASCII says whether b holds only 7-bit bytes and no ESC.
func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 || c == 0x1b {
			return false
		}
	}
	return true
}

// decodeWith decodes b with enc; nil is the default repertoire, read as
// UTF-8 when valid (many stacks write UTF-8 without saying so) or else
// Latin-1. Undecodable bytes become U+FFFD.
func decodeWith(enc encoding.Encoding, b []byte) string {
	if enc == nil {
		if utf8.Valid(b) {
			return string(b)
		}
		enc = charmap.ISO8859_1
	}
	s, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return string(s)
}
