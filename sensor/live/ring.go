// Package live captures from network interfaces for `medtap run`: a thin
// AF_PACKET TPACKET_V3 layer over golang.org/x/sys/unix (no cgo), one
// memory-mapped receive ring per socket, PACKET_FANOUT (hash, with defrag)
// across one socket per worker, so the kernel shards the traffic by a
// symmetric flow hash and each worker owns whole flows, both directions.
//
// Frames are read in place from the ring, without a copy: a block is handed
// back to the kernel only after the worker has processed every frame in it.
// AF_PACKET strips 802.1Q tags into the frame's metadata; the tag is put
// back in front of the frame, in the ring's headroom, so the decoder sees
// the frame as it was on the wire. Kernel drops and queue freezes
// (PACKET_STATISTICS) are read regularly and accumulated, so an operator
// knows exactly what was missed.
//
// Capabilities: opening a socket needs CAP_NET_RAW; promiscuous mode is
// set through PACKET_ADD_MEMBERSHIP, which the kernel undoes when the
// socket closes, so the interface is restored even if medtap is killed.
// Attaching eBPF programs needs CAP_BPF (or CAP_SYS_ADMIN) as well.
// DropCapabilities sheds them once everything is open.
package live

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/medtap/medtap/sensor/capture"
	"github.com/medtap/medtap/sensor/decode"
)

// Ring geometry defaults. A block is the unit the kernel hands over: it is
// returned when full or after BlockTimeout, whichever comes first. With
// DefaultBlockSize × DefaultBlockCount = 64 MiB per socket, a worker that
// stalls for a garbage collection or a burst of events can fall about
// 130 ms behind a 4 Gbit/s share of the link (its share of a 10 Gbit/s
// mirror with 2–3 workers) before the kernel drops anything.
const (
	DefaultBlockSize    = 1 << 20
	DefaultBlockCount   = 64
	DefaultBlockTimeout = 10 * time.Millisecond

	// MinBlockSize and MaxBlockSize bound the block size (a power of two);
	// a block must hold the largest frame (64 KiB GSO or GRO aggregates).
	MinBlockSize = 128 << 10
	MaxBlockSize = 16 << 20
	// MaxRingBytes bounds one socket's ring (block size × count).
	MaxRingBytes = 1 << 30
	// frameSize is the nominal TPACKET frame size the kernel checks the
	// request against; V3 packs frames of any size into blocks.
	frameSize = 2048
	// vlanHeadroom is the space reserved before each frame for the 802.1Q
	// tag the kernel stripped.
	vlanHeadroom = 4
	// statsInterval is how often kernel counters are read.
	statsInterval = time.Second
)

// Offsets in struct tpacket_block_desc / tpacket_hdr_v1 (linux/if_packet.h).
const (
	bdStatus     = 8
	bdNumPkts    = 12
	bdFirstPkt   = 16
	tpStatusUser = unix.TP_STATUS_USER
)

// Config says what to capture and how.
type Config struct {
	Interfaces   []string
	Workers      int           // sockets per interface, one per worker
	BlockSize    int           // 0: DefaultBlockSize
	BlockCount   int           // 0: DefaultBlockCount
	BlockTimeout time.Duration // 0: DefaultBlockTimeout
	NoPromisc    bool          // leave the interface's promiscuous mode alone
	// FilterFD, when > 0, is a socket filter program (an eBPF program's
	// file descriptor) attached to every socket before it is bound, so not
	// one frame escapes it.
	FilterFD int
}

func (c *Config) setDefaults() error {
	if len(c.Interfaces) == 0 {
		return errors.New("no interface: give --interface NAME")
	}
	if c.Workers <= 0 {
		c.Workers = 1
	}
	if c.BlockSize == 0 {
		c.BlockSize = DefaultBlockSize
	}
	if c.BlockCount == 0 {
		c.BlockCount = DefaultBlockCount
	}
	if c.BlockTimeout == 0 {
		c.BlockTimeout = DefaultBlockTimeout
	}
	pg := os.Getpagesize()
	switch {
	case c.BlockSize < MinBlockSize || c.BlockSize > MaxBlockSize || c.BlockSize&(c.BlockSize-1) != 0 || c.BlockSize%pg != 0:
		return fmt.Errorf("block size %d: want a power of two between %d and %d", c.BlockSize, MinBlockSize, MaxBlockSize)
	case c.BlockCount < 2:
		return fmt.Errorf("block count %d: want at least 2", c.BlockCount)
	case c.BlockSize*c.BlockCount > MaxRingBytes:
		return fmt.Errorf("ring of %d blocks of %d bytes exceeds %d bytes per socket", c.BlockCount, c.BlockSize, MaxRingBytes)
	case c.BlockTimeout < time.Millisecond || c.BlockTimeout > time.Second:
		return fmt.Errorf("block timeout %v: want 1ms to 1s", c.BlockTimeout)
	}
	return nil
}

// RingStats are one socket's counters. They are updated by the worker that
// owns the socket and may be read from any goroutine.
type RingStats struct {
	Packets  atomic.Uint64 // frames read from the ring
	Bytes    atomic.Uint64 // wire bytes of those frames
	Oversize atomic.Uint64 // frames longer than the MTU allows (GRO/LRO/GSO aggregates)
	VLAN     atomic.Uint64 // frames whose 802.1Q tag was restored
	Blocks   atomic.Uint64 // blocks processed and returned
	// From PACKET_STATISTICS, accumulated (the kernel resets them on read).
	KernelPackets atomic.Uint64 // frames the socket accepted (after its filter)
	KernelDrops   atomic.Uint64 // frames dropped because the ring was full
	Freezes       atomic.Uint64 // times the queue froze with no free block
}

// Ring is one TPACKET_V3 socket and its memory-mapped ring.
type Ring struct {
	Iface  string
	Worker int
	Stats  RingStats

	fd        int
	mem       []byte
	bsize     int
	bcount    int
	cur       int
	link      uint32
	maxFrame  uint32 // wire length above which a frame is oversize
	pkt       capture.Packet
	lastStats time.Time
	closed    bool
}

// Capture is a live capture on one or more interfaces: Workers sockets per
// interface, socket i of every interface feeding worker i.
type Capture struct {
	cfg   Config
	rings []*Ring
	srcs  []*Source
	// Warnings are one-line notes found while opening (GRO/LRO on).
	Warnings []string
}

// Open opens the sockets, maps their rings and joins them to one fanout
// group per interface. The kernel picks a socket within a group as
// hash % n with the same symmetric flow hash for every group, so when two
// interfaces carry the two directions of a link (a TAP), socket i of both
// gets the same flows.
func Open(cfg Config) (*Capture, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	c := &Capture{cfg: cfg}
	c.srcs = make([]*Source, cfg.Workers)
	for i := range c.srcs {
		c.srcs[i] = &Source{}
	}
	for _, name := range cfg.Interfaces {
		ifi, err := net.InterfaceByName(name)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("interface %q: %w (list them with `ip link`)", name, err)
		}
		c.Warnings = append(c.Warnings, offloadWarnings(name)...)
		group := uint16((os.Getpid()*31 + ifi.Index) & 0xffff)
		for w := 0; w < cfg.Workers; w++ {
			r, err := openRing(&cfg, ifi, group, w)
			if err != nil {
				c.Close()
				return nil, err
			}
			c.rings = append(c.rings, r)
			c.srcs[w].rings = append(c.srcs[w].rings, r)
		}
	}
	for _, s := range c.srcs {
		s.pfd = make([]unix.PollFd, len(s.rings))
		for i, r := range s.rings {
			s.pfd[i] = unix.PollFd{Fd: int32(r.fd), Events: unix.POLLIN | unix.POLLERR}
		}
	}
	return c, nil
}

// Rings lists every socket, for metrics.
func (c *Capture) Rings() []*Ring { return c.rings }

// Sources gives each worker its share: socket i of every interface.
func (c *Capture) Sources() []*Source { return c.srcs }

// Close reads the kernel counters one last time and closes every socket
// (which also ends promiscuous mode and detaches the filters).
func (c *Capture) Close() error {
	var first error
	for _, r := range c.rings {
		if err := r.close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func openRing(cfg *Config, ifi *net.Interface, group uint16, worker int) (r *Ring, err error) {
	// Protocol 0: the socket receives nothing until bind, so no frame gets
	// in before the ring, the filter and the fanout are in place.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("AF_PACKET socket on %s: %w (needs CAP_NET_RAW: run as root or grant it, see deploy/medtap.service)", ifi.Name, err)
	}
	r = &Ring{Iface: ifi.Name, Worker: worker, fd: fd, bsize: cfg.BlockSize, bcount: cfg.BlockCount}
	defer func() {
		if err != nil {
			r.close()
			r = nil
		}
	}()
	if r.link, err = linkType(fd, ifi.Name); err != nil {
		return nil, err
	}
	fail := func(what string, e error) error {
		return fmt.Errorf("AF_PACKET %s on %s: %w", what, ifi.Name, e)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return nil, fail("TPACKET_V3", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_RESERVE, vlanHeadroom); err != nil {
		return nil, fail("reserve", err)
	}
	if cfg.FilterFD > 0 {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ATTACH_BPF, cfg.FilterFD); err != nil {
			return nil, fail("attach eBPF filter", err)
		}
	}
	req := unix.TpacketReq3{
		Block_size:     uint32(cfg.BlockSize),
		Block_nr:       uint32(cfg.BlockCount),
		Frame_size:     frameSize,
		Frame_nr:       uint32(cfg.BlockSize / frameSize * cfg.BlockCount),
		Retire_blk_tov: uint32(cfg.BlockTimeout / time.Millisecond),
	}
	if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return nil, fail(fmt.Sprintf("receive ring of %d×%d bytes", cfg.BlockCount, cfg.BlockSize), err)
	}
	r.mem, err = unix.Mmap(fd, 0, cfg.BlockSize*cfg.BlockCount, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, fail("mmap of the ring", err)
	}
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}
	if err := unix.Bind(fd, sa); err != nil {
		return nil, fail("bind", err)
	}
	fanout := int(group) | (unix.PACKET_FANOUT_HASH|unix.PACKET_FANOUT_FLAG_DEFRAG)<<16
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_FANOUT, fanout); err != nil {
		return nil, fail("fanout", err)
	}
	if !cfg.NoPromisc {
		mreq := unix.PacketMreq{Ifindex: int32(ifi.Index), Type: unix.PACKET_MR_PROMISC}
		if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
			return nil, fail("promiscuous mode", err)
		}
	}
	// The largest frame the link carries whole: MTU plus Ethernet header
	// and two VLAN tags. Anything longer was coalesced by GRO/LRO or is a
	// local GSO send.
	r.maxFrame = uint32(ifi.MTU + 14 + 8)
	// Statistics so far count the frames between bind and now; start clean.
	_, _ = unix.GetsockoptTpacketStatsV3(fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	return r, nil
}

func (r *Ring) close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if r.fd > 0 {
		r.readStats()
	}
	var err error
	if r.mem != nil {
		err = unix.Munmap(r.mem)
		r.mem = nil
	}
	if r.fd > 0 {
		if cerr := unix.Close(r.fd); cerr != nil && err == nil {
			err = cerr
		}
	}
	return err
}

// readStats adds the kernel's counters since the last read.
func (r *Ring) readStats() {
	st, err := unix.GetsockoptTpacketStatsV3(r.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return
	}
	// tp_packets counts every frame the socket accepted, dropped or not.
	r.Stats.KernelPackets.Add(uint64(st.Packets))
	r.Stats.KernelDrops.Add(uint64(st.Drops))
	r.Stats.Freezes.Add(uint64(st.Freeze_q_cnt))
}

// block returns the descriptor status word of block i.
func (r *Ring) status(i int) *uint32 {
	return (*uint32)(unsafe.Pointer(&r.mem[i*r.bsize+bdStatus]))
}

// ready reports whether the current block belongs to userspace.
func (r *Ring) ready() bool {
	return atomic.LoadUint32(r.status(r.cur))&tpStatusUser != 0
}

// walk hands every frame of the current block to fn, then returns the
// block to the kernel and moves to the next. The caller checked ready.
func (r *Ring) walk(fn func(*capture.Packet)) int {
	base := r.cur * r.bsize
	blk := r.mem[base : base+r.bsize : base+r.bsize]
	n := int(le32(blk[bdNumPkts:]))
	off := int(le32(blk[bdFirstPkt:]))
	var pkts, bytes, oversize, vlans uint64
	for i := 0; i < n; i++ {
		if off < 0 || off+unix.SizeofTpacket3Hdr > len(blk) {
			break
		}
		h := (*unix.Tpacket3Hdr)(unsafe.Pointer(&blk[off]))
		mac := off + int(h.Mac)
		end := mac + int(h.Snaplen)
		if mac > len(blk) || end > len(blk) || end < mac {
			break
		}
		start, wire := mac, h.Len
		if h.Status&unix.TP_STATUS_VLAN_VALID != 0 && h.Snaplen >= 12 && int(h.Mac) >= unix.SizeofTpacket3Hdr+20+vlanHeadroom && r.link == decode.LinkEthernet {
			// Put the stripped tag back: move the two addresses into
			// the headroom and write TPID and TCI after them.
			tpid := uint16(unix.ETH_P_8021Q)
			if h.Status&unix.TP_STATUS_VLAN_TPID_VALID != 0 && h.Hv1.Vlan_tpid != 0 {
				tpid = h.Hv1.Vlan_tpid
			}
			start = mac - vlanHeadroom
			copy(blk[start:start+12], blk[mac:mac+12])
			tci := uint16(h.Hv1.Vlan_tci)
			blk[start+12], blk[start+13] = byte(tpid>>8), byte(tpid)
			blk[start+14], blk[start+15] = byte(tci>>8), byte(tci)
			wire += vlanHeadroom
			vlans++
		}
		if h.Len > r.maxFrame {
			oversize++
		}
		r.pkt = capture.Packet{Data: blk[start:end:end], TS: int64(h.Sec)*1e9 + int64(h.Nsec), WireLen: wire, Link: r.link}
		fn(&r.pkt)
		pkts++
		bytes += uint64(wire)
		if h.Next_offset == 0 {
			break
		}
		off += int(h.Next_offset)
	}
	r.pkt = capture.Packet{}
	atomic.StoreUint32(r.status(r.cur), unix.TP_STATUS_KERNEL)
	r.cur = (r.cur + 1) % r.bcount
	r.Stats.Packets.Add(pkts)
	r.Stats.Bytes.Add(bytes)
	r.Stats.Blocks.Add(1)
	if oversize > 0 {
		r.Stats.Oversize.Add(oversize)
	}
	if vlans > 0 {
		r.Stats.VLAN.Add(vlans)
	}
	return n
}

func le32(b []byte) uint32 {
	_ = b[3]
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// Source is one worker's sockets: socket i of every interface.
type Source struct {
	rings []*Ring
	pfd   []unix.PollFd
	next  int
}

// maxBlocksPerRead bounds the blocks one Read processes, so the worker
// gets back to its clock (rounds, flow timeouts) regularly under load.
const maxBlocksPerRead = 8

// Read processes the ready blocks of the worker's sockets (up to
// maxBlocksPerRead), handing each frame to fn; fn's packet and its data are
// valid only during the call (the block goes back to the kernel after).
// With nothing ready it waits up to wait. It returns the frames processed.
func (s *Source) Read(fn func(*capture.Packet), wait time.Duration) (int, error) {
	n, blocks := 0, 0
	for blocks < maxBlocksPerRead {
		progressed := false
		for range s.rings {
			r := s.rings[s.next]
			s.next = (s.next + 1) % len(s.rings)
			if r.ready() {
				n += r.walk(fn)
				blocks++
				progressed = true
			}
		}
		if !progressed {
			break
		}
	}
	if blocks > 0 {
		return n, nil
	}
	ms := int(wait / time.Millisecond)
	for i := range s.pfd {
		s.pfd[i].Revents = 0
	}
	_, err := unix.Poll(s.pfd, ms)
	if err != nil && !errors.Is(err, unix.EINTR) {
		return 0, fmt.Errorf("poll on capture sockets: %w", err)
	}
	for i := range s.pfd {
		if s.pfd[i].Revents&(unix.POLLERR|unix.POLLNVAL) != 0 {
			r := s.rings[i]
			if r.ready() {
				continue
			}
			return 0, fmt.Errorf("capture socket on %s: error condition (interface down or removed?)", r.Iface)
		}
	}
	return 0, nil
}

// Tick reads the kernel counters of the worker's sockets when due; the
// owning worker calls it between blocks.
func (s *Source) Tick(now time.Time) {
	for _, r := range s.rings {
		if now.Sub(r.lastStats) >= statsInterval {
			r.lastStats = now
			r.readStats()
		}
	}
}

// linkType maps the interface's hardware type (SIOCGIFHWADDR, asked
// through fd so that it is the interface of fd's network namespace) to a
// capture link type.
func linkType(fd int, name string) (uint32, error) {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, fmt.Errorf("interface %q: %w", name, err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFHWADDR, ifr); err != nil {
		return 0, fmt.Errorf("interface %q: reading its hardware type: %w", name, err)
	}
	switch t := ifr.Uint16(); t {
	case unix.ARPHRD_ETHER, unix.ARPHRD_LOOPBACK:
		return decode.LinkEthernet, nil
	case unix.ARPHRD_NONE, unix.ARPHRD_IPGRE, unix.ARPHRD_TUNNEL, unix.ARPHRD_TUNNEL6:
		return decode.LinkRaw, nil
	default:
		return 0, fmt.Errorf("interface %q: hardware type %d is not supported (Ethernet or raw IP interfaces only)", name, t)
	}
}
