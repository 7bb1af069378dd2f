package live

import (
	"errors"
	"fmt"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// DropCapabilities leaves the process, on every thread, with only the
// capabilities in keep (effective and permitted; none inheritable or
// ambient). Call it once the sockets are open and the eBPF programs
// loaded: reading the rings needs no privilege. Keep CAP_BPF when eBPF
// maps are still read (kernels before 6.5 check it on every bpf() call).
// Capabilities are per thread in Linux, so the change is made on all of the
// Go runtime's threads (syscall.AllThreadsSyscall; medtap is built without
// cgo).
func DropCapabilities(keep ...int) error {
	var data [2]unix.CapUserData
	for _, c := range keep {
		if c < 0 || c >= 64 {
			return fmt.Errorf("capability %d out of range", c)
		}
		data[c/32].Effective |= 1 << (c % 32)
		data[c/32].Permitted |= 1 << (c % 32)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	if _, _, e := syscall.AllThreadsSyscall(unix.SYS_PRCTL, unix.PR_CAPBSET_READ, 0, 0); e == unix.ENOTSUP {
		return errors.New("capabilities kept: this binary links cgo, so they cannot be changed on every thread (build medtap with CGO_ENABLED=0, or restrict them in the service unit)")
	}
	if _, _, e := syscall.AllThreadsSyscall(unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0); e != 0 && e != unix.EINVAL {
		return fmt.Errorf("clearing ambient capabilities: %w", e)
	}
	if _, _, e := syscall.AllThreadsSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0); e != 0 {
		return fmt.Errorf("dropping capabilities: %w", e)
	}
	return nil
}

// Effective returns the calling thread's effective capability set.
func Effective() (uint64, error) {
	var data [2]unix.CapUserData
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return 0, err
	}
	return uint64(data[1].Effective)<<32 | uint64(data[0].Effective), nil
}
