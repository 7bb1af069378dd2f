package memlimit

import (
	"os"

	"golang.org/x/sys/unix"

	"github.com/medtap/medtap/sensor/internal/procmaps"
)

// TrimStartup drops the process's mappings of the pages of its own
// executable that it read while starting and may never read again: the
// code of package initialisers (the DICOM dictionary alone is 1.4 MB of
// it), tables read once, and every page the kernel mapped around them. It
// returns the bytes of the executable that were resident before.
//
// The pages stay in the page cache: those the run needs are mapped again
// at their next read, at the cost of a minor fault each, and the rest are
// no longer pinned by a mapping, so the kernel may reclaim them first.
// Only clean read-only mappings are dropped (trimmable).
func TrimStartup() (int64, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0, err
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	ms := parseSmaps(f)
	f.Close()
	var n int64
	for _, m := range trimmable(ms, exe) {
		if err := procmaps.Madvise(m.Start, m.End, unix.MADV_DONTNEED); err != nil {
			return n, err
		}
		n += m.rss
	}
	return n, nil
}
