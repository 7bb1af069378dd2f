// Package filename keeps the one thing medtap's file-transfer parsers (ftp,
// tftp) may say about a file name: its extension, which tells a DICOM or
// firmware upload from a log without carrying a name that could hold a
// patient's.
package filename

import "bytes"

// MaxExtLen bounds a file extension kept, in bytes.
const MaxExtLen = 8

// Extension returns a file name's extension, lower-case, if it is 1 to
// MaxExtLen letters and digits; "" otherwise. Only the last path element
// counts.
func Extension(name []byte) string {
	if i := bytes.LastIndexAny(name, "/\\"); i >= 0 {
		name = name[i+1:]
	}
	dot := bytes.LastIndexByte(name, '.')
	if dot < 0 {
		return ""
	}
	e := name[dot+1:]
	if len(e) == 0 || len(e) > MaxExtLen {
		return ""
	}
	var b [MaxExtLen]byte
	for i, c := range e {
		switch {
		case c >= 'A' && c <= 'Z':
			c += 32
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		default:
			return ""
		}
		b[i] = c
	}
	return string(b[:len(e)])
}
