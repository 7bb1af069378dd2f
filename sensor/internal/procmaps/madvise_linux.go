package procmaps

import "golang.org/x/sys/unix"

// Madvise advises the memory from start to end, given by address: the
// mappings advised (the heap's, the executable's) are not slices of this
// program.
func Madvise(start, end uintptr, advice int) error {
	if _, _, errno := unix.Syscall(unix.SYS_MADVISE, start, end-start, uintptr(advice)); errno != 0 {
		return errno
	}
	return nil
}
