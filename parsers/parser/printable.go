package parser

import "strings"

// Printable copies wire bytes into a string for an event field (a banner,
// a software name, a command), with every byte outside printable ASCII
// replaced by '?', so no control character or invalid UTF-8 reaches the
// output.
func Printable(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b))
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			c = '?'
		}
		sb.WriteByte(c)
	}
	return sb.String()
}
