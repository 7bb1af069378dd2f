package thp

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"unsafe"
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

func TestParseMapping(t *testing.T) {
	for _, c := range []struct {
		line       string
		start, end uintptr
		w, ok      bool
	}{
		{"3fbc7b400000-3fbc7e800000 rw-p 00000000 00:00 0 ", 0x3fbc7b400000, 0x3fbc7e800000, true, true},
		{"00400000-0114a000 r-xp 00000000 fd:01 123 /usr/bin/medtap", 0x400000, 0x114a000, false, true},
		{"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]", 0xffffffffff600000, 0xffffffffff601000, false, true},
		{"", 0, 0, false, false},
		{"zz-10 rw-p", 0, 0, false, false},
		{"20-10 rw-p", 0, 0, false, false},
		{"10-20", 0, 0, false, false},
	} {
		s, e, w, ok := parseMapping(c.line)
		if s != c.start || e != c.end || w != c.w || ok != c.ok {
			t.Errorf("parseMapping(%q) = %#x %#x %v %v, want %#x %#x %v %v", c.line, s, e, w, ok, c.start, c.end, c.w, c.ok)
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
		if s, e, _, ok := parseMapping(line); ok {
			in = s <= addr && addr < e
			continue
		}
		if in && strings.HasPrefix(line, "THPeligible:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "THPeligible:")) == "1", true
		}
	}
	return false, false
}
