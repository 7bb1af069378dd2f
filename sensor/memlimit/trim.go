//go:build linux

package memlimit

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// mapping is one mapping of /proc/self/smaps, with what trimming needs.
type mapping struct {
	start, end uint64
	perms      string
	path       string
	rss        int64 // bytes
	anon       int64 // Anonymous: private copies of written pages, bytes
}

// parseSmaps reads the mappings of an smaps file.
func parseSmaps(r io.Reader) []mapping {
	var out []mapping
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if strings.HasSuffix(f[0], ":") {
			// A field of the latest mapping: "Rss:  123 kB".
			if len(out) == 0 || len(f) < 2 {
				continue
			}
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				continue
			}
			m := &out[len(out)-1]
			switch f[0] {
			case "Rss:":
				m.rss = kb << 10
			case "Anonymous:":
				m.anon = kb << 10
			}
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		if !ok || len(f) < 5 {
			continue
		}
		a, errA := strconv.ParseUint(lo, 16, 64)
		b, errB := strconv.ParseUint(hi, 16, 64)
		if errA != nil || errB != nil {
			continue
		}
		m := mapping{start: a, end: b, perms: f[1]}
		if len(f) >= 6 {
			m.path = strings.Join(f[5:], " ")
		}
		out = append(out, m)
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
		if m.path != exe || m.anon != 0 || m.rss == 0 {
			continue
		}
		if m.perms != "r-xp" && m.perms != "r--p" {
			continue
		}
		out = append(out, m)
	}
	return out
}
