package filename

import "testing"

func TestExtension(t *testing.T) {
	for _, c := range []struct{ name, want string }{
		{"study.DCM", "dcm"},
		{"/var/log/app.log", "log"},
		{`C:\upd\fw.Bin`, "bin"},
		{"dir.d/noext", ""},
		{"trailing.", ""},
		{"toolong.abcdefghi", ""},
		{"exactly.abcdefgh", "abcdefgh"},
		{"bad.ex-t", ""},
		{"", ""},
	} {
		if got := Extension([]byte(c.name)); got != c.want {
			t.Errorf("Extension(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}
