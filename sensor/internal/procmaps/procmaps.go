// Package procmaps reads the mapping lines of /proc/self/maps and
// /proc/self/smaps, for the packages that advise medtap's own memory
// (sensor/thp, sensor/memlimit).
package procmaps

import (
	"strconv"
	"strings"
)

// Mapping is one mapping line: "7f1d2000-7f1d4000 rw-p 00000000 00:00 0 PATH".
type Mapping struct {
	Start, End uintptr
	Perms      string // "rw-p", "r-xp"...
	Path       string // "" for anonymous memory
}

// Writable reports whether the mapping may be written.
func (m Mapping) Writable() bool { return len(m.Perms) > 1 && m.Perms[1] == 'w' }

// Parse reads a mapping line; ok is false for anything else, such as an
// smaps field line ("Rss:  123 kB").
func Parse(line string) (m Mapping, ok bool) {
	f := strings.Fields(line)
	if len(f) < 2 {
		return Mapping{}, false
	}
	a, b, found := strings.Cut(f[0], "-")
	if !found {
		return Mapping{}, false
	}
	s, err1 := strconv.ParseUint(a, 16, 64)
	e, err2 := strconv.ParseUint(b, 16, 64)
	if err1 != nil || err2 != nil || e <= s {
		return Mapping{}, false
	}
	m = Mapping{Start: uintptr(s), End: uintptr(e), Perms: f[1]}
	if len(f) >= 6 {
		m.Path = strings.Join(f[5:], " ")
	}
	return m, true
}
