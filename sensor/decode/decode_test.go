package decode

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Frames in these tests are built with gopacket's serializers, an encoder
// independent of the decoder under test.

var (
	ip4a = net.IP{192, 0, 2, 1}
	ip4b = net.IP{198, 51, 100, 7}
	ip6a = net.ParseIP("2001:db8::1")
	ip6b = net.ParseIP("2001:db8::2")
	macA = net.HardwareAddr{2, 0, 0, 0, 0, 1}
	macB = net.HardwareAddr{2, 0, 0, 0, 0, 2}
)

func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func tcpLayers(net4 bool, payload string) []gopacket.SerializableLayer {
	tcp := &layers.TCP{SrcPort: 40000, DstPort: 104, Seq: 7, Ack: 9, PSH: true, ACK: true, Window: 512, DataOffset: 5}
	var ip gopacket.SerializableLayer
	if net4 {
		ip4 := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: ip4a, DstIP: ip4b}
		tcp.SetNetworkLayerForChecksum(ip4)
		ip = ip4
	} else {
		ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: ip6a, DstIP: ip6b}
		tcp.SetNetworkLayerForChecksum(ip6)
		ip = ip6
	}
	return []gopacket.SerializableLayer{ip, tcp, gopacket.Payload(payload)}
}

func eth(t layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: t}
}

func TestLinkTypes(t *testing.T) {
	v4 := tcpLayers(true, "hello")
	v6 := tcpLayers(false, "hello")
	cases := []struct {
		name        string
		link        uint32
		frame       []byte
		v6          bool
		vlan, vlan2 uint16
	}{
		{"ethernet ipv4", LinkEthernet, serialize(t, append([]gopacket.SerializableLayer{eth(layers.EthernetTypeIPv4)}, v4...)...), false, 0, 0},
		{"ethernet ipv6", LinkEthernet, serialize(t, append([]gopacket.SerializableLayer{eth(layers.EthernetTypeIPv6)}, v6...)...), true, 0, 0},
		{"802.1Q", LinkEthernet, serialize(t, append([]gopacket.SerializableLayer{eth(layers.EthernetTypeDot1Q),
			&layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeIPv4}}, v4...)...), false, 100, 0},
		{"QinQ 802.1ad", LinkEthernet, serialize(t, append([]gopacket.SerializableLayer{eth(layers.EthernetTypeQinQ),
			&layers.Dot1Q{VLANIdentifier: 200, Type: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: 300, Type: layers.EthernetTypeIPv4}}, v4...)...), false, 200, 300},
		{"linux sll", LinkLinuxSLL, append(sllHeader(0x0800), serialize(t, v4...)...), false, 0, 0},
		{"linux sll2", LinkSLL2, append(sll2Header(0x86dd), serialize(t, v6...)...), true, 0, 0},
		{"raw ipv4", LinkRaw, serialize(t, v4...), false, 0, 0},
		{"raw ipv6", LinkRaw, serialize(t, v6...), true, 0, 0},
		{"linktype ipv4", LinkIPv4, serialize(t, v4...), false, 0, 0},
		{"linktype ipv6", LinkIPv6, serialize(t, v6...), true, 0, 0},
		{"null ipv4 little endian", LinkNull, append([]byte{2, 0, 0, 0}, serialize(t, v4...)...), false, 0, 0},
		{"null ipv6 big endian (family 24)", LinkNull, append([]byte{0, 0, 0, 24}, serialize(t, v6...)...), true, 0, 0},
		{"loop ipv6 (family 30)", LinkLoop, append([]byte{0, 0, 0, 30}, serialize(t, v6...)...), true, 0, 0},
		{"ipv6 hop-by-hop and destination options", LinkIPv6, serialize(t,
			&layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolIPv6HopByHop, SrcIP: ip6a, DstIP: ip6b},
			hopByHop(layers.IPProtocolIPv6Destination), destOpts(layers.IPProtocolTCP),
			tcpOnly(t, false), gopacket.Payload("hello")), true, 0, 0},
	}
	d := New(DefaultDefragLimits)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p Packet
			if r := d.Decode(c.frame, c.link, 1, uint32(len(c.frame)), &p); r != OK {
				t.Fatalf("result %d, want OK (malformed counters %v)", r, d.Stats.Malformed)
			}
			if p.Proto != 6 || p.SrcPort != 40000 || p.DstPort != 104 || p.TCP.Seq != 7 || p.TCP.Ack != 9 || p.TCP.Flags != FlagPSH|FlagACK {
				t.Errorf("tcp fields wrong: %+v", p)
			}
			if string(p.Payload) != "hello" {
				t.Errorf("payload %q", p.Payload)
			}
			if p.IPv6 != c.v6 || p.VLAN != c.vlan || p.VLAN2 != c.vlan2 {
				t.Errorf("ipv6 %v vlan %d/%d, want %v %d/%d", p.IPv6, p.VLAN, p.VLAN2, c.v6, c.vlan, c.vlan2)
			}
			wantSrc := ip4a.To4()
			if c.v6 {
				wantSrc = ip6a.To16()
			}
			if !bytes.Equal(p.Src[:len(wantSrc)], wantSrc) {
				t.Errorf("src %v", p.Src)
			}
		})
	}
}

func hopByHop(next layers.IPProtocol) *layers.IPv6HopByHop {
	h := &layers.IPv6HopByHop{Options: []*layers.IPv6HopByHopOption{{OptionType: 1, OptionLength: 4, OptionData: []byte{0, 0, 0, 0}}}}
	h.NextHeader = next
	return h
}

func destOpts(next layers.IPProtocol) *layers.IPv6Destination {
	h := &layers.IPv6Destination{Options: []*layers.IPv6DestinationOption{{OptionType: 1, OptionLength: 4, OptionData: []byte{0, 0, 0, 0}}}}
	h.NextHeader = next
	return h
}

func tcpOnly(t testing.TB, v4 bool) *layers.TCP {
	tcp := &layers.TCP{SrcPort: 40000, DstPort: 104, Seq: 7, Ack: 9, PSH: true, ACK: true, Window: 512, DataOffset: 5}
	if v4 {
		tcp.SetNetworkLayerForChecksum(&layers.IPv4{SrcIP: ip4a, DstIP: ip4b, Protocol: layers.IPProtocolTCP})
	} else {
		tcp.SetNetworkLayerForChecksum(&layers.IPv6{SrcIP: ip6a, DstIP: ip6b, NextHeader: layers.IPProtocolTCP})
	}
	return tcp
}

func sllHeader(proto uint16) []byte {
	h := make([]byte, 16)
	binary.BigEndian.PutUint16(h[0:2], 0) // packet type: to us
	binary.BigEndian.PutUint16(h[2:4], 1) // ARPHRD_ETHER
	binary.BigEndian.PutUint16(h[4:6], 6) // address length
	copy(h[6:12], macA)
	binary.BigEndian.PutUint16(h[14:16], proto)
	return h
}

func sll2Header(proto uint16) []byte {
	h := make([]byte, 20)
	binary.BigEndian.PutUint16(h[0:2], proto)
	binary.BigEndian.PutUint32(h[4:8], 1) // interface index
	binary.BigEndian.PutUint16(h[8:10], 1)
	h[10] = 0 // packet type
	h[11] = 6
	copy(h[12:18], macA)
	return h
}

// udpDatagram returns the IP payload (UDP header + data) of a datagram.
func udpDatagram(t testing.TB, v4 bool, data []byte) []byte {
	u := &layers.UDP{SrcPort: 5000, DstPort: 514}
	if v4 {
		u.SetNetworkLayerForChecksum(&layers.IPv4{SrcIP: ip4a, DstIP: ip4b, Protocol: layers.IPProtocolUDP})
	} else {
		u.SetNetworkLayerForChecksum(&layers.IPv6{SrcIP: ip6a, DstIP: ip6b, NextHeader: layers.IPProtocolUDP})
	}
	return serialize(t, u, gopacket.Payload(data))
}

func udpFrame(t testing.TB) []byte {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 1, Protocol: layers.IPProtocolUDP, SrcIP: ip4a, DstIP: ip4b}
	u := &layers.UDP{SrcPort: 1, DstPort: 2}
	u.SetNetworkLayerForChecksum(ip)
	return serialize(t, eth(layers.EthernetTypeIPv4), ip, u, gopacket.Payload("x"))
}

func frag4(t testing.TB, id uint16, off int, more bool, piece []byte) []byte {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: ip4a, DstIP: ip4b, Id: id, FragOffset: uint16(off / 8)}
	if more {
		ip.Flags = layers.IPv4MoreFragments
	}
	return serialize(t, eth(layers.EthernetTypeIPv4), ip, gopacket.Payload(piece))
}

func frag6(t testing.TB, id uint32, off int, more bool, piece []byte) []byte {
	ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolIPv6Fragment, SrcIP: ip6a, DstIP: ip6b}
	fr := &layers.IPv6Fragment{NextHeader: layers.IPProtocolUDP, FragmentOffset: uint16(off / 8), MoreFragments: more, Identification: id}
	return serialize(t, eth(layers.EthernetTypeIPv6), ip, fr, gopacket.Payload(piece))
}

func TestFragmentsReassembleOutOfOrder(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 250) // 4000 bytes
	for _, v4 := range []bool{true, false} {
		dg := udpDatagram(t, v4, data)
		var frames [][]byte
		for off := 0; off < len(dg); off += 1480 {
			end := min(off+1480, len(dg))
			if v4 {
				frames = append(frames, frag4(t, 77, off, end < len(dg), dg[off:end]))
			} else {
				frames = append(frames, frag6(t, 77, off, end < len(dg), dg[off:end]))
			}
		}
		// Last fragment first, then the rest.
		frames = append(frames[len(frames)-1:], frames[:len(frames)-1]...)
		d := New(DefaultDefragLimits)
		var p Packet
		for i, f := range frames {
			r := d.Decode(f, LinkEthernet, int64(i), uint32(len(f)), &p)
			if i < len(frames)-1 {
				if r != Fragment {
					t.Fatalf("v4=%v fragment %d: result %d, want Fragment", v4, i, r)
				}
				continue
			}
			if r != OK || !p.Reassembled || p.Proto != 17 || p.DstPort != 514 || !bytes.Equal(p.Payload, data) {
				t.Fatalf("v4=%v: reassembly failed: result %d proto %d port %d len %d", v4, r, p.Proto, p.DstPort, len(p.Payload))
			}
		}
		if d.Stats.Reassembled != 1 || d.Stats.Fragments != uint64(len(frames)) {
			t.Errorf("v4=%v stats %+v", v4, d.Stats)
		}
	}
}

func TestFragmentCacheIsBounded(t *testing.T) {
	lim := DefragLimits{MaxDatagrams: 4, MaxBytes: 3000, Timeout: 30e9}
	d := New(lim)
	var p Packet
	// 10 datagrams that never complete: the cache holds at most 4.
	for id := 0; id < 10; id++ {
		f := frag4(t, uint16(id), 0, true, make([]byte, 800))
		d.Decode(f, LinkEthernet, int64(id), uint32(len(f)), &p)
		if n := len(d.defrag.entries); n > lim.MaxDatagrams {
			t.Fatalf("%d datagrams cached, limit %d", n, lim.MaxDatagrams)
		}
		if d.defrag.bytes > lim.MaxBytes {
			t.Fatalf("%d bytes cached, limit %d", d.defrag.bytes, lim.MaxBytes)
		}
	}
	if d.Stats.Defrag.Evicted+d.Stats.Defrag.LimitHits == 0 {
		t.Error("limits hit but not counted")
	}
	// And they time out.
	d.Expire(100e9)
	if len(d.defrag.entries) != 0 || d.defrag.bytes != 0 {
		t.Errorf("after timeout: %d entries, %d bytes", len(d.defrag.entries), d.defrag.bytes)
	}
}

func TestMalformed(t *testing.T) {
	good := serialize(t, append([]gopacket.SerializableLayer{eth(layers.EthernetTypeIPv4)}, tcpLayers(true, "x")...)...)
	cases := []struct {
		name  string
		frame []byte
		link  uint32
		code  int
	}{
		{"short ethernet", good[:10], LinkEthernet, ErrLink},
		{"short ipv4", good[:14+12], LinkEthernet, ErrIPv4},
		{"short tcp", good[:14+20+8], LinkEthernet, ErrTCP},
		{"raw with bad version", []byte{0x50, 0, 0, 0}, LinkRaw, ErrLink},
		{"empty", nil, LinkEthernet, ErrLink},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := New(DefaultDefragLimits)
			var p Packet
			if r := d.Decode(c.frame, c.link, 0, 0, &p); r != Malformed {
				t.Fatalf("result %d, want Malformed", r)
			}
			if d.Stats.Malformed[c.code] != 1 {
				t.Errorf("counters %v, want %s", d.Stats.Malformed, ErrNames[c.code])
			}
		})
	}
}

func TestNotIP(t *testing.T) {
	// An ARP for another hardware type (IEEE 802): valid, not IP, and not
	// the Ethernet/IPv4 ARP the ARP result is for (arp_test.go).
	arp := serialize(t, eth(layers.EthernetTypeARP), &layers.ARP{AddrType: layers.LinkType(6), Protocol: layers.EthernetTypeIPv4,
		HwAddressSize: 6, ProtAddressSize: 4, Operation: 2, SourceHwAddress: macA, SourceProtAddress: ip4a.To4(),
		DstHwAddress: macB, DstProtAddress: ip4b.To4()})
	d := New(DefaultDefragLimits)
	var p Packet
	if r := d.Decode(arp, LinkEthernet, 0, 0, &p); r != NotIP || p.EtherType != 0x0806 {
		t.Fatalf("result %d ethertype %#x", r, p.EtherType)
	}
}

func TestDecodeDoesNotAllocate(t *testing.T) {
	frames := map[string][]byte{
		"ipv4": serialize(t, append([]gopacket.SerializableLayer{eth(layers.EthernetTypeIPv4)}, tcpLayers(true, "payload")...)...),
		"ipv6": serialize(t, append([]gopacket.SerializableLayer{eth(layers.EthernetTypeIPv6)}, tcpLayers(false, "payload")...)...),
		"qinq": serialize(t, append([]gopacket.SerializableLayer{eth(layers.EthernetTypeQinQ), &layers.Dot1Q{VLANIdentifier: 2, Type: layers.EthernetTypeDot1Q}, &layers.Dot1Q{VLANIdentifier: 3, Type: layers.EthernetTypeIPv4}}, tcpLayers(true, "payload")...)...),
		"udp":  udpFrame(t),
	}
	d := New(DefaultDefragLimits)
	var p Packet
	for name, f := range frames {
		d.Decode(f, LinkEthernet, 0, 0, &p) // warm the parser cache
		if n := testing.AllocsPerRun(1000, func() { d.Decode(f, LinkEthernet, 0, 0, &p) }); n != 0 {
			t.Errorf("%s: %.1f allocations per decode, want 0", name, n)
		}
	}
}

func BenchmarkDecodeTCP(b *testing.B) {
	f := serialize(b, append([]gopacket.SerializableLayer{eth(layers.EthernetTypeIPv4)}, tcpLayers(true, string(make([]byte, 1400)))...)...)
	d := New(DefaultDefragLimits)
	var p Packet
	b.SetBytes(int64(len(f)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		d.Decode(f, LinkEthernet, 0, 0, &p)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(serialize(f, append([]gopacket.SerializableLayer{eth(layers.EthernetTypeIPv4)}, tcpLayers(true, "x")...)...), uint8(LinkEthernet))
	f.Add(serialize(f, tcpLayers(false, "x")...), uint8(LinkRaw))
	f.Add(frag4(f, 1, 0, true, make([]byte, 16)), uint8(LinkEthernet))
	f.Add(frag6(f, 1, 8, false, make([]byte, 16)), uint8(LinkEthernet))
	f.Add(serialize(f, eth(layers.EthernetTypeARP), &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
		HwAddressSize: 6, ProtAddressSize: 4, Operation: 2, SourceHwAddress: macA, SourceProtAddress: ip4a.To4(),
		DstHwAddress: macB, DstProtAddress: ip4b.To4()}), uint8(LinkEthernet))
	links := []uint32{LinkEthernet, LinkRaw, LinkLinuxSLL, LinkSLL2, LinkNull, LinkIPv4, LinkIPv6}
	d := New(DefragLimits{MaxDatagrams: 8, MaxBytes: 1 << 16, Timeout: 1e9})
	var ts int64
	f.Fuzz(func(t *testing.T, frame []byte, link uint8) {
		ts++
		var p Packet
		r := d.Decode(frame, links[int(link)%len(links)], ts, uint32(len(frame)), &p)
		if r == OK && !p.Reassembled && len(p.Payload) > 0 {
			// The payload must be a slice of the frame, not a copy.
			if !bytes.Contains(frame, p.Payload) {
				t.Fatalf("payload not inside the frame")
			}
		}
		if d.defrag.bytes > 1<<16 || len(d.defrag.entries) > 8 {
			t.Fatalf("fragment cache over its limits")
		}
	})
}
