package decode

import (
	"os"
	"unsafe"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/sys/unix"

	"github.com/medtap/medtap/sensor/internal/procmaps"
)

// PrefaultTables maps, one system call for each, the pages of gopacket's
// two 65,536-entry enum tables (EthernetTypeMetadata, PPPTypeMetadata:
// 2.5 MiB each, in .bss). They hold pointers, so the collector's first
// cycle reads them whole, and as they are mostly never written, that read
// is their first touch: some 1,300 page faults, about 10 ms of every start
// on the reference VM, where a fault costs microseconds. MADV_POPULATE_READ
// (Linux 5.14) maps the zero page under them at once; the memory stays
// shared, not resident. On older kernels it fails and nothing changes.
func PrefaultTables() error {
	for _, t := range []struct {
		p    unsafe.Pointer
		size uintptr
	}{
		{unsafe.Pointer(&layers.EthernetTypeMetadata), unsafe.Sizeof(layers.EthernetTypeMetadata)},
		{unsafe.Pointer(&layers.PPPTypeMetadata), unsafe.Sizeof(layers.PPPTypeMetadata)},
	} {
		start := uintptr(t.p) &^ uintptr(os.Getpagesize()-1)
		if err := procmaps.Madvise(start, uintptr(t.p)+t.size, unix.MADV_POPULATE_READ); err != nil {
			return err
		}
	}
	return nil
}
