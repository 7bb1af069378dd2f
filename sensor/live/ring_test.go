package live

import (
	"encoding/binary"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/medtap/medtap/sensor/capture"
	"github.com/medtap/medtap/sensor/decode"
)

// fakeRing lays out blocks the way the kernel fills a TPACKET_V3 ring:
// block descriptor, then frames (tpacket3_hdr, sockaddr_ll, headroom,
// frame), so the ring walk can be tested without a socket.
func fakeRing(t testing.TB, frames [][]byte, vlan []uint16) *Ring {
	const bsize, bcount = MinBlockSize, 2
	r := &Ring{Iface: "fake", mem: make([]byte, bsize*bcount), bsize: bsize, bcount: bcount, link: decode.LinkEthernet, maxFrame: 1514 + 8}
	for b := 0; b < bcount; b++ {
		blk := r.mem[b*bsize : (b+1)*bsize]
		off := 48 // first frame, after the block descriptor
		binary.LittleEndian.PutUint32(blk[bdFirstPkt:], uint32(off))
		binary.LittleEndian.PutUint32(blk[bdNumPkts:], uint32(len(frames)))
		binary.LittleEndian.PutUint32(blk[bdStatus:], tpStatusUser)
		for i, f := range frames {
			h := (*unix.Tpacket3Hdr)(unsafe.Pointer(&blk[off]))
			const mac = 86 // TPACKET_ALIGN(68+16) + reserve 4 - 14, as the kernel computes
			h.Mac = mac
			h.Snaplen = uint32(len(f))
			h.Len = uint32(len(f))
			h.Sec, h.Nsec = 1700000000, uint32(i)
			if vlan != nil && vlan[i] != 0 {
				h.Status |= unix.TP_STATUS_VLAN_VALID
				h.Hv1.Vlan_tci = uint32(vlan[i])
			}
			copy(blk[off+mac:], f)
			next := (mac + len(f) + 15) &^ 15
			if i < len(frames)-1 {
				h.Next_offset = uint32(next)
			}
			off += next
		}
	}
	return r
}

func frame(n int) []byte {
	f := make([]byte, n)
	copy(f, []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00})
	return f
}

func TestWalkRestoresVLAN(t *testing.T) {
	r := fakeRing(t, [][]byte{frame(60), frame(1514), frame(3000)}, []uint16{0, 0x2064, 0})
	var got []capture.Packet
	n := r.walk(func(p *capture.Packet) {
		c := *p
		c.Data = append([]byte(nil), p.Data...)
		got = append(got, c)
	})
	if n != 3 || len(got) != 3 {
		t.Fatalf("walked %d frames, want 3", len(got))
	}
	if len(got[0].Data) != 60 || got[0].WireLen != 60 {
		t.Errorf("untagged frame: %d/%d bytes", len(got[0].Data), got[0].WireLen)
	}
	v := got[1].Data
	if len(v) != 1518 || got[1].WireLen != 1518 || binary.BigEndian.Uint16(v[12:]) != 0x8100 || binary.BigEndian.Uint16(v[14:]) != 0x2064 || binary.BigEndian.Uint16(v[16:]) != 0x0800 || v[5] != 1 || v[11] != 2 {
		t.Errorf("tag not restored: % x", v[:18])
	}
	if r.Stats.Oversize.Load() != 1 || r.Stats.VLAN.Load() != 1 || r.Stats.Packets.Load() != 3 {
		t.Errorf("stats: oversize %d vlan %d packets %d", r.Stats.Oversize.Load(), r.Stats.VLAN.Load(), r.Stats.Packets.Load())
	}
	if st := binary.LittleEndian.Uint32(r.mem[bdStatus:]); st != unix.TP_STATUS_KERNEL {
		t.Errorf("block not handed back: status %#x", st)
	}
	if r.cur != 1 {
		t.Errorf("current block %d, want 1", r.cur)
	}
}

func TestWalkAllocs(t *testing.T) {
	frames := make([][]byte, 64)
	tags := make([]uint16, 64)
	for i := range frames {
		frames[i] = frame(200 + i*16)
		if i%3 == 0 {
			tags[i] = 100
		}
	}
	r := fakeRing(t, frames, tags)
	var bytes int
	fn := func(p *capture.Packet) { bytes += len(p.Data) }
	allocs := testing.AllocsPerRun(100, func() {
		// Give the block back to "userspace" and walk it again.
		for b := 0; b < r.bcount; b++ {
			binary.LittleEndian.PutUint32(r.mem[b*r.bsize+bdStatus:], tpStatusUser)
		}
		r.walk(fn)
	})
	if allocs != 0 {
		t.Errorf("ring walk: %v allocations per block, want 0", allocs)
	}
	if bytes == 0 {
		t.Fatal("no frames walked")
	}
}

func TestConfigLimits(t *testing.T) {
	for _, c := range []Config{
		{},
		{Interfaces: []string{"x"}, BlockSize: 1000},
		{Interfaces: []string{"x"}, BlockSize: 64 << 20},
		{Interfaces: []string{"x"}, BlockCount: 1},
		{Interfaces: []string{"x"}, BlockSize: 16 << 20, BlockCount: 128},
	} {
		if err := c.setDefaults(); err == nil {
			t.Errorf("%+v: accepted", c)
		}
	}
	c := Config{Interfaces: []string{"x"}}
	if err := c.setDefaults(); err != nil || c.BlockSize != DefaultBlockSize || c.BlockCount != DefaultBlockCount || c.Workers != 1 {
		t.Errorf("defaults: %+v %v", c, err)
	}
}
