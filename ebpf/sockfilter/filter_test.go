package sockfilter_test

import (
	"encoding/binary"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/medtap/medtap/ebpf/sockfilter"
	"github.com/medtap/medtap/sensor/capture"
	"github.com/medtap/medtap/sensor/live"
	"github.com/medtap/medtap/sensor/live/livetest"
)

// frameOf builds an Ethernet frame (optionally 802.1Q-tagged) carrying
// IPv4 with a TCP or UDP header and payload bytes of zeros. Checksums are
// left zero: taps see frames before IP checks them.
func frameOf(vlan uint16, src, dst string, proto byte, sport, dport uint16, payload int) []byte {
	f := []byte{0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1}
	if vlan != 0 {
		f = binary.BigEndian.AppendUint16(f, 0x8100)
		f = binary.BigEndian.AppendUint16(f, vlan)
	}
	f = binary.BigEndian.AppendUint16(f, 0x0800)
	l4 := 8
	if proto == 6 {
		l4 = 20
	}
	ip := make([]byte, 20)
	ip[0], ip[8], ip[9] = 0x45, 64, proto
	binary.BigEndian.PutUint16(ip[2:], uint16(20+l4+payload))
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	copy(ip[12:], s[:])
	copy(ip[16:], d[:])
	f = append(f, ip...)
	h := make([]byte, l4)
	binary.BigEndian.PutUint16(h[0:], sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	if proto == 6 {
		h[12], h[13] = 5<<4, 0x18 // PSH ACK
	} else {
		binary.BigEndian.PutUint16(h[4:], uint16(8+payload))
	}
	f = append(f, h...)
	return append(f, make([]byte, payload)...)
}

// filterOnPair makes a veth pair without offloads, loads the filter with
// cfg and opens a one-socket capture carrying it on the pair's B end; all
// three go with the test. It skips where namespaces or eBPF are missing.
func filterOnPair(t *testing.T, cfg sockfilter.Config) (*livetest.Pair, *sockfilter.Filter, *live.Capture) {
	t.Helper()
	livetest.Require(t)
	if err := sockfilter.Probe(); err != nil {
		t.Skipf("eBPF unavailable: %v", err)
	}
	p := livetest.NewPair(t)
	p.NoOffloads(t)
	f, err := sockfilter.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	var c *live.Capture
	if err := livetest.In(p.B, func() (err error) {
		c, err = live.Open(live.Config{Interfaces: []string{p.IfB}, Workers: 1, FilterFD: f.FD(), BlockCount: 4})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return p, f, c
}

// sendFrames sends frames out of p's A end on a packet socket.
func sendFrames(t *testing.T, p *livetest.Pair, frames [][]byte) {
	t.Helper()
	if err := livetest.In(p.A, func() error {
		ifi, err := net.InterfaceByName(p.IfA)
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		for _, fr := range frames {
			if err := unix.Sendto(fd, fr, 0, &unix.SockaddrLinklayer{Ifindex: ifi.Index, Halen: 6}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestFilterVerdicts sends crafted frames across a veth pair to a capture
// socket carrying the filter, and checks each verdict in the kernel's
// counters and in what reaches the ring.
func TestFilterVerdicts(t *testing.T) {
	p, f, c := filterOnPair(t, sockfilter.Config{
		IgnoreVLANs: []uint16{100},
		IgnoreNets:  []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")},
		SampleAfter: 1000,
	})

	frames := [][]byte{
		frameOf(100, "10.1.0.1", "10.1.0.2", 17, 5000, 6000, 10), // ignored VLAN
		frameOf(0, "192.0.2.5", "10.1.0.2", 17, 5000, 6000, 10),  // ignored network
		frameOf(200, "10.1.0.1", "10.1.0.2", 17, 5000, 2575, 10), // kept, tag restored
		frameOf(0, "10.1.0.1", "10.1.0.2", 6, 40000, 104, 600),   // bulk: 600 seen
		frameOf(0, "10.1.0.2", "10.1.0.1", 6, 104, 40000, 600),   // other direction: 1200
		frameOf(0, "10.1.0.1", "10.1.0.2", 6, 40000, 104, 600),   // truncated
		frameOf(0, "10.1.0.1", "10.1.0.2", 6, 40000, 104, 600),   // truncated
	}
	sendFrames(t, p, frames)

	type got struct {
		caplen, wire int
		vlan         uint16
	}
	var seen []got
	src := c.Sources()[0]
	deadline := time.Now().Add(3 * time.Second)
	for len(seen) < 5 && time.Now().Before(deadline) {
		if _, err := src.Read(func(pk *capture.Packet) {
			g := got{caplen: len(pk.Data), wire: int(pk.WireLen)}
			if binary.BigEndian.Uint16(pk.Data[12:]) == 0x8100 {
				g.vlan = binary.BigEndian.Uint16(pk.Data[14:]) & 0xfff
			}
			seen = append(seen, g)
		}, 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	want := []got{{14 + 4 + 28 + 10, 14 + 4 + 28 + 10, 200}, {654, 654, 0}, {654, 654, 0}, {54, 654, 0}, {54, 654, 0}}
	if len(seen) != len(want) {
		t.Fatalf("ring got %d frames %+v, want %+v", len(seen), seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Errorf("frame %d: %+v, want %+v", i, seen[i], want[i])
		}
	}
	cs, err := f.Counters()
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]uint64{}
	for _, x := range cs {
		n[string(x.Kind)+"/"+x.Name] = x.Packets
	}
	for k, v := range map[string]uint64{
		"all/all": 7, "verdict/drop_vlan": 1, "verdict/drop_network": 1, "verdict/truncate": 2, "verdict/keep": 3,
		"port/dicom_104": 4, "port/hl7_mllp_2575": 1, "ip_proto/tcp": 4, "ethertype/ipv4": 6,
	} {
		if n[k] != v {
			t.Errorf("%s = %d, want %d", k, n[k], v)
		}
	}
}

// withPayload writes p over the start of a frame's payload (the last n
// bytes of frameOf's frame, n its payload length).
func withPayload(f []byte, p string) []byte {
	off := len(f) - int(binary.BigEndian.Uint16(f[16:18])) + 40 // IPv4 total length minus IP and TCP headers
	copy(f[off:], p)
	return f
}

// withFlags sets the TCP flags of an untagged frame from frameOf.
func withFlags(f []byte, flags byte) []byte {
	f[14+20+13] = flags
	return f
}

// TestKeepWhole checks that bulk sampling cuts an unmarked flow past its
// threshold and starts it afresh on a SYN, but leaves whole a flow
// userspace marked keep-whole (both directions) and one whose first
// payload opens MLLP + HL7 or ASTM.
func TestKeepWhole(t *testing.T) {
	p, f, c := filterOnPair(t, sockfilter.Config{SampleAfter: 1000})
	// Marked by the server's side first: the key does not depend on order.
	if err := f.KeepWhole(netip.MustParseAddrPort("10.1.0.2:2575"), netip.MustParseAddrPort("10.1.0.1:40000")); err != nil {
		t.Fatal(err)
	}
	frames := [][]byte{
		frameOf(0, "10.1.0.1", "10.1.0.2", 6, 40000, 2575, 600), // marked: 600
		frameOf(0, "10.1.0.2", "10.1.0.1", 6, 2575, 40000, 600), // 1200
		frameOf(0, "10.1.0.1", "10.1.0.2", 6, 40000, 2575, 600), // past the threshold, whole
		frameOf(0, "10.1.0.2", "10.1.0.1", 6, 2575, 40000, 600), // whole
		frameOf(0, "10.1.0.1", "10.1.0.2", 6, 40001, 104, 600),  // unmarked: 600
		frameOf(0, "10.1.0.1", "10.1.0.2", 6, 40001, 104, 600),  // 1200
		frameOf(0, "10.1.0.1", "10.1.0.2", 6, 40001, 104, 600),  // cut
		// A new connection on the same addresses and ports counts afresh.
		withFlags(frameOf(0, "10.1.0.1", "10.1.0.2", 6, 40001, 104, 0), 0x02),
		frameOf(0, "10.1.0.1", "10.1.0.2", 6, 40001, 104, 600), // whole
		// Unmarked, but the first payload opens MLLP before an HL7 header:
		// the kernel keeps the flow whole by itself.
		withPayload(frameOf(0, "10.1.0.1", "10.1.0.2", 6, 40002, 6661, 600), "\x0bMSH|^~\\&|"),
		frameOf(0, "10.1.0.1", "10.1.0.2", 6, 40002, 6661, 600),
		frameOf(0, "10.1.0.1", "10.1.0.2", 6, 40002, 6661, 600), // whole
		// An ASTM E1381 ENQ alone first does the same.
		withPayload(frameOf(0, "10.1.0.1", "10.1.0.2", 6, 40003, 7000, 1), "\x05"),
		frameOf(0, "10.1.0.1", "10.1.0.2", 6, 40003, 7000, 600),
		frameOf(0, "10.1.0.1", "10.1.0.2", 6, 40003, 7000, 600),
		frameOf(0, "10.1.0.1", "10.1.0.2", 6, 40003, 7000, 600), // whole
		// An MLLP start block before anything but a header is not enough.
		withPayload(frameOf(0, "10.1.0.1", "10.1.0.2", 6, 40004, 6661, 600), "\x0bXYZ"),
		frameOf(0, "10.1.0.1", "10.1.0.2", 6, 40004, 6661, 600),
		frameOf(0, "10.1.0.1", "10.1.0.2", 6, 40004, 6661, 600), // cut
	}
	sendFrames(t, p, frames)
	var caplens []int
	src := c.Sources()[0]
	deadline := time.Now().Add(3 * time.Second)
	for len(caplens) < len(frames) && time.Now().Before(deadline) {
		if _, err := src.Read(func(pk *capture.Packet) { caplens = append(caplens, len(pk.Data)) }, 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	want := []int{654, 654, 654, 654, 654, 654, 54, 54, 654, 654, 654, 654, 55, 654, 654, 654, 654, 654, 54}
	if !slices.Equal(caplens, want) {
		t.Errorf("captured lengths %v, want %v", caplens, want)
	}
	if n := f.KeptWhole.Load(); n != 1 {
		t.Errorf("KeptWhole = %d, want 1", n)
	}
}
