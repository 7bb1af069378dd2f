//go:build linux

package memlimit

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

const smapsSample = `00400000-0114c000 r-xp 00000000 fe:01 1234   /opt/medtap/bin/medtap
Size:              13616 kB
Rss:                9712 kB
Private_Dirty:      9712 kB
Anonymous:             0 kB
0114c000-01e0c000 r--p 00d4c000 fe:01 1234   /opt/medtap/bin/medtap
Size:              13056 kB
Rss:                9152 kB
Private_Dirty:         0 kB
Anonymous:             0 kB
01e0c000-0200c000 r--p 00a0c000 fe:01 1234   /opt/medtap/bin/medtap
Rss:                 512 kB
Private_Dirty:       512 kB
Anonymous:           512 kB
0200c000-0273f000 rw-p 01a0c000 fe:01 1234   /opt/medtap/bin/medtap
Rss:                1100 kB
Private_Dirty:       900 kB
Anonymous:           900 kB
7f0000000000-7f0000100000 r-xp 00000000 fe:01 99     /usr/lib/libc.so.6
Rss:                 800 kB
Private_Dirty:         0 kB
c000000000-c004000000 rw-p 00000000 00:00 0
Rss:               71628 kB
Anonymous:         71628 kB
`

// TestTrimmable: only the executable's read-only mappings of file pages
// are dropped (dirty in the page cache or not); a relocated one, the writable data, other
// files and anonymous memory are kept.
func TestTrimmable(t *testing.T) {
	ms := parseSmaps(strings.NewReader(smapsSample))
	if len(ms) != 6 {
		t.Fatalf("parsed %d mappings, want 6: %+v", len(ms), ms)
	}
	got := trimmable(ms, "/opt/medtap/bin/medtap")
	if len(got) != 2 || got[0].Start != 0x400000 || got[1].Start != 0x114c000 {
		t.Fatalf("trimmable: %+v, want the r-xp and the clean r--p mapping", got)
	}
	if got[0].rss != 9712<<10 || got[1].End != 0x1e0c000 {
		t.Errorf("mapping read wrong: %+v", got)
	}
}

// TestTrimStartup drops the test binary's resident code and constants;
// the program goes on running (and so reads them back) unharmed.
func TestTrimStartup(t *testing.T) {
	before := rssFile(t)
	n, err := TrimStartup()
	if err != nil {
		t.Fatal(err)
	}
	after := rssFile(t)
	t.Logf("resident file pages %d KiB -> %d KiB (%d KiB of the executable dropped)", before>>10, after>>10, n>>10)
	if n == 0 || after >= before {
		t.Errorf("nothing dropped: %d bytes reported, RssFile %d -> %d", n, before, after)
	}
	// Code and constants come back on use.
	if strconv.Itoa(12345) != "12345" || !strings.Contains(smapsSample, "libc") {
		t.Error("the program misbehaves after the trim")
	}
}

func rssFile(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "RssFile:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}
