package thp

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"unsafe"

	"github.com/medtap/medtap/sensor/internal/procmaps"
)

func TestSelectedMode(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"always [madvise] never\n", "madvise"},
		{"[always] madvise never\n", "always"},
		{"always madvise [never]\n", "never"},
		{"", ""},
		{"always madvise never\n", ""},
		{"] [", ""},
	} {
		if got := selectedMode([]byte(c.in)); got != c.want {
			t.Errorf("selectedMode(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestDisabledByGODEBUG(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"", false},
		{"disablethp=1", true},
		{"gctrace=1,disablethp=1", true},
		{"disablethp=0", false},
		{"madvdontneed=1", false},
		{"xdisablethp=1", false},
	} {
		if got := disabledByGODEBUG(c.in); got != c.want {
			t.Errorf("disabledByGODEBUG(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

// TestEnable checks, on a kernel in madvise mode, that heap memory
// allocated after Enable lies in a mapping the kernel will back with huge
// pages (smaps: THPeligible 1).
func TestEnable(t *testing.T) {
	r, err := Enable(DefaultReserve)
	if err != nil {
		t.Fatal(err)
	}
	if r.Mode != "madvise" {
		t.Skipf("kernel THP mode %q: nothing to advise", r.Mode)
	}
	if r.Advised < DefaultReserve {
		t.Fatalf("advised %d bytes, want at least the reserve (%d)", r.Advised, DefaultReserve)
	}
	buf := make([]byte, 8<<20)
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	eligible, found := smapsEligible(t, addr)
	if !found {
		t.Fatalf("no mapping holds the heap address %#x", addr)
	}
	if !eligible {
		t.Errorf("the mapping holding heap address %#x is not THP-eligible after Enable", addr)
	}
}

// smapsEligible reads THPeligible of the mapping holding addr.
func smapsEligible(t *testing.T, addr uintptr) (eligible, found bool) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Text()
		if m, ok := procmaps.Parse(line); ok {
			in = m.Start <= addr && addr < m.End
			continue
		}
		if in && strings.HasPrefix(line, "THPeligible:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "THPeligible:")) == "1", true
		}
	}
	return false, false
}
