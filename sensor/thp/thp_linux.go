package thp

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/medtap/medtap/sensor/internal/procmaps"
)

// modeFile holds the kernel's THP mode, the selected one in brackets:
// "always [madvise] never".
const modeFile = "/sys/kernel/mm/transparent_hugepage/enabled"

// Enable advises the heap's memory, with reserve bytes of it mapped first,
// when the kernel is in madvise mode and GODEBUG does not say disablethp.
// In the other modes it only reports the mode: "always" gives huge pages
// already, "never" is the administrator's choice. Call it early, before
// the heap holds much: the reserve must come from fresh memory, which the
// runtime does not need to clear.
func Enable(reserve int) (Result, error) {
	var r Result
	b, err := os.ReadFile(modeFile)
	if err != nil {
		return r, nil // no THP in this kernel
	}
	r.Mode = selectedMode(b)
	if r.Mode != "madvise" || disabledByGODEBUG(os.Getenv("GODEBUG")) || reserve <= 0 {
		return r, nil
	}
	r.Advised, err = adviseReserve(reserve)
	runtime.GC() // free the reserve now, not at the first collection of the run
	if err != nil {
		return r, fmt.Errorf("transparent huge pages: %w", err)
	}
	return r, nil
}

// adviseReserve maps reserve bytes of heap, as one allocation the GC frees
// once this returns, and advises the mappings that hold it.
func adviseReserve(reserve int) (int, error) {
	hold := make([]byte, reserve)
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(hold)))
	n, err := adviseMappings(lo, lo+uintptr(len(hold)))
	runtime.KeepAlive(hold)
	return n, err
}

// selectedMode gives the bracketed word of the mode file.
func selectedMode(b []byte) string {
	i := bytes.IndexByte(b, '[')
	j := bytes.IndexByte(b, ']')
	if i < 0 || j < i {
		return ""
	}
	return string(b[i+1 : j])
}

// disabledByGODEBUG reports whether GODEBUG asks the runtime to keep its
// heap off huge pages (disablethp=1): medtap follows it.
func disabledByGODEBUG(v string) bool {
	for _, kv := range strings.Split(v, ",") {
		if k, val, ok := strings.Cut(kv, "="); ok && strings.TrimSpace(k) == "disablethp" && strings.TrimSpace(val) != "0" {
			return true
		}
	}
	return false
}

// adviseMappings marks MADV_HUGEPAGE every writable mapping of this
// process that overlaps [lo, hi), and gives the bytes advised.
func adviseMappings(lo, hi uintptr) (int, error) {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m, ok := procmaps.Parse(sc.Text())
		if !ok || !m.Writable() || m.End <= lo || m.Start >= hi {
			continue
		}
		if err := procmaps.Madvise(m.Start, m.End, unix.MADV_HUGEPAGE); err != nil {
			return n, fmt.Errorf("madvise %#x-%#x: %w", m.Start, m.End, err)
		}
		n += int(m.End - m.Start)
	}
	return n, sc.Err()
}
