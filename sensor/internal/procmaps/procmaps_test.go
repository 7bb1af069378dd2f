package procmaps

import "testing"

func TestParse(t *testing.T) {
	for _, c := range []struct {
		line       string
		start, end uintptr
		perms      string
		path       string
		w, ok      bool
	}{
		{"3fbc7b400000-3fbc7e800000 rw-p 00000000 00:00 0 ", 0x3fbc7b400000, 0x3fbc7e800000, "rw-p", "", true, true},
		{"00400000-0114a000 r-xp 00000000 fd:01 123 /usr/bin/medtap", 0x400000, 0x114a000, "r-xp", "/usr/bin/medtap", false, true},
		{"00400000-0114a000 r--p 00000000 fd:01 123 /opt/my tools/medtap", 0x400000, 0x114a000, "r--p", "/opt/my tools/medtap", false, true},
		{"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]", 0xffffffffff600000, 0xffffffffff601000, "--xp", "[vsyscall]", false, true},
		{"", 0, 0, "", "", false, false},
		{"Rss:                9712 kB", 0, 0, "", "", false, false},
		{"zz-10 rw-p", 0, 0, "", "", false, false},
		{"20-10 rw-p", 0, 0, "", "", false, false},
		{"10-20", 0, 0, "", "", false, false},
	} {
		m, ok := Parse(c.line)
		if m.Start != c.start || m.End != c.end || m.Perms != c.perms || m.Path != c.path || m.Writable() != c.w || ok != c.ok {
			t.Errorf("Parse(%q) = %+v (writable %v) %v, want %#x-%#x %q %q (writable %v) %v", c.line, m, m.Writable(), ok, c.start, c.end, c.perms, c.path, c.w, c.ok)
		}
	}
}
