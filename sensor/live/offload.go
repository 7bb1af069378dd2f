package live

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ethtool commands and flags (linux/ethtool.h).
const (
	ethtoolGGRO    = 0x2b
	ethtoolGFlags  = unix.ETHTOOL_GFLAGS
	ethFlagLRO     = 1 << 15
	ifreqSize      = 40
	ifnameSize     = unix.IFNAMSIZ
	siocEthtoolReq = unix.SIOCETHTOOL
)

type ethtoolValue struct {
	cmd  uint32
	data uint32
}

type ifreqData struct {
	name [ifnameSize]byte
	data unsafe.Pointer
	_    [ifreqSize - ifnameSize - 8]byte
}

// ethtoolGet runs one ETHTOOL_G* query that answers an ethtool_value.
func ethtoolGet(name string, cmd uint32) (uint32, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	v := ethtoolValue{cmd: cmd}
	var ifr ifreqData
	copy(ifr.name[:ifnameSize-1], name)
	ifr.data = unsafe.Pointer(&v)
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), siocEthtoolReq, uintptr(unsafe.Pointer(&ifr))); e != 0 {
		return 0, e
	}
	return v.data, nil
}

// offloadWarnings says whether the interface coalesces received frames
// (GRO, LRO): the sensor then sees aggregates above the MTU instead of the
// frames on the wire. Flow, TCP and protocol decoding still work, but
// frame counts and sizes differ from the wire; they are counted as
// oversize frames. Fix: `ethtool -K IF gro off lro off`.
func offloadWarnings(name string) []string {
	var out []string
	if v, err := ethtoolGet(name, ethtoolGGRO); err == nil && v != 0 {
		out = append(out, fmt.Sprintf("interface %s has GRO on: received frames are coalesced above the MTU (counted as oversize); turn it off with `ethtool -K %s gro off`", name, name))
	}
	if v, err := ethtoolGet(name, ethtoolGFlags); err == nil && v&ethFlagLRO != 0 {
		out = append(out, fmt.Sprintf("interface %s has LRO on: received frames are coalesced above the MTU (counted as oversize); turn it off with `ethtool -K %s lro off`", name, name))
	}
	return out
}
