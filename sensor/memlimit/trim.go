//go:build linux

package memlimit

import (
	"bufio"
	"io"
	"strconv"
	"strings"

	"github.com/medtap/medtap/sensor/internal/procmaps"
)

// mapping is one mapping of /proc/self/smaps, with what trimming needs.
type mapping struct {
	procmaps.Mapping
	rss  int64 // bytes
	anon int64 // Anonymous: private copies of written pages, bytes
}

// parseSmaps reads the mappings of an smaps file.
func parseSmaps(r io.Reader) []mapping {
	var out []mapping
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m, ok := procmaps.Parse(line); ok {
			out = append(out, mapping{Mapping: m})
			continue
		}
		// A field of the latest mapping: "Rss:  123 kB".
		f := strings.Fields(line)
		if len(out) == 0 || len(f) < 2 {
			continue
		}
		kb, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		switch m := &out[len(out)-1]; f[0] {
		case "Rss:":
			m.rss = kb << 10
		case "Anonymous:":
			m.anon = kb << 10
		}
	}
	return out
}

// trimmable picks the mappings of the executable exe that may be dropped:
// read-only (code and constants) and holding only the file's own pages, so
// that the kernel gives the same bytes again when they are next read. A
// mapping with a page written since it was mapped (relocations of a
// position-independent binary, kept as a private anonymous copy) would
// lose the writes, and is left alone. (Private_Dirty counts file pages not
// yet written back, as after a fresh build: those are the file's own.)
func trimmable(ms []mapping, exe string) []mapping {
	var out []mapping
	for _, m := range ms {
		if m.Path != exe || m.anon != 0 || m.rss == 0 {
			continue
		}
		if m.Perms != "r-xp" && m.Perms != "r--p" {
			continue
		}
		out = append(out, m)
	}
	return out
}
