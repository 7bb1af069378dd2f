package parser

import "testing"

func TestPrintable(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"OpenSSH_9.2p1", "OpenSSH_9.2p1"},
		{"a\x00b\r\n", "a?b??"},
		{"caf\xc3\xa9 \x7f~", "caf?? ?~"},
		{"", ""},
	} {
		if got := Printable([]byte(c.in)); got != c.want {
			t.Errorf("Printable(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
