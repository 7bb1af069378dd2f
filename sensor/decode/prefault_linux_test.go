package decode

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/sys/unix"
)

// TestPrefaultTables reads gopacket's enum tables in a fresh process with
// the collector off, so that nothing has touched them yet: without
// PrefaultTables the read takes a page fault per page, with it next to none.
func TestPrefaultTables(t *testing.T) {
	if os.Getenv("MEDTAP_PREFAULT_CHILD") != "" {
		return // the child's work is in TestMain
	}
	faults := func(prefault bool) int {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestPrefaultTables$")
		cmd.Env = append(os.Environ(), "GOGC=off", "MEDTAP_PREFAULT_CHILD="+strconv.FormatBool(prefault))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		for _, l := range strings.Split(string(out), "\n") {
			if v, ok := strings.CutPrefix(l, "faults "); ok {
				n, err := strconv.Atoi(v)
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
		}
		t.Fatalf("child printed no fault count:\n%s", out)
		return 0
	}
	pages := int((unsafe.Sizeof(layers.EthernetTypeMetadata) + unsafe.Sizeof(layers.PPPTypeMetadata)) / uintptr(os.Getpagesize()))
	cold := faults(false)
	warm := faults(true)
	if warm < 0 {
		t.Skip("MADV_POPULATE_READ not supported by this kernel")
	}
	t.Logf("reading %d pages: %d faults cold, %d after PrefaultTables", pages, cold, warm)
	if cold < pages/2 {
		t.Fatalf("only %d faults reading %d cold pages: the test does not see a cold table", cold, pages)
	}
	if warm > pages/20 {
		t.Fatalf("%d faults reading the tables after PrefaultTables (of %d pages)", warm, pages)
	}
}

func TestMain(m *testing.M) {
	if v := os.Getenv("MEDTAP_PREFAULT_CHILD"); v != "" {
		if v == "true" {
			if err := PrefaultTables(); err != nil {
				if errors.Is(err, unix.EINVAL) {
					fmt.Println("faults -1")
					os.Exit(0)
				}
				fmt.Println("prefault:", err)
				os.Exit(1)
			}
		}
		before := minorFaults()
		var sum uintptr
		for _, tab := range [][]layers.EnumMetadata{layers.EthernetTypeMetadata[:], layers.PPPTypeMetadata[:]} {
			for i := range tab {
				sum += uintptr(unsafe.Pointer(unsafe.StringData(tab[i].Name)))
			}
		}
		fmt.Printf("faults %d\n", minorFaults()-before)
		if sum == 1 {
			fmt.Println() // keeps the loads
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func minorFaults() int {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return int(ru.Minflt)
}
