package decode

import (
	"net"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

func arpFrame(t *testing.T, op uint16, hw layers.LinkType) []byte {
	t.Helper()
	return serialize(t, eth(layers.EthernetTypeARP), &layers.ARP{AddrType: hw, Protocol: layers.EthernetTypeIPv4,
		HwAddressSize: 6, ProtAddressSize: 4, Operation: op, SourceHwAddress: macA, SourceProtAddress: ip4a.To4(),
		DstHwAddress: macB, DstProtAddress: ip4b.To4()})
}

func TestARP(t *testing.T) {
	d := New(DefaultDefragLimits)
	var p Packet
	f := arpFrame(t, ARPReply, layers.LinkTypeEthernet)
	if r := d.Decode(f, LinkEthernet, 0, 0, &p); r != ARP {
		t.Fatalf("result %d, want ARP", r)
	}
	a := p.ARP
	if a.Op != ARPReply || net.HardwareAddr(a.SenderMAC[:]).String() != net.HardwareAddr(macA).String() ||
		net.IP(a.SenderIP[:]).String() != ip4a.String() || net.IP(a.TargetIP[:]).String() != ip4b.String() ||
		net.HardwareAddr(a.TargetMAC[:]).String() != net.HardwareAddr(macB).String() {
		t.Errorf("decoded %+v", a)
	}
	if d.Stats.ARP != 1 || d.Stats.NotIP != 1 || p.EtherType != 0x0806 {
		t.Errorf("stats ARP %d NotIP %d, ethertype %#x", d.Stats.ARP, d.Stats.NotIP, p.EtherType)
	}
	// Truncated: malformed link; other hardware types: NotIP.
	if r := d.Decode(f[:14+6], LinkEthernet, 0, 0, &p); r != Malformed {
		t.Errorf("truncated ARP: result %d, want Malformed", r)
	}
	if r := d.Decode(f[:14+20], LinkEthernet, 0, 0, &p); r != NotIP {
		t.Errorf("short Ethernet/IPv4 ARP: result %d, want NotIP", r)
	}
	if n := testing.AllocsPerRun(1000, func() { d.Decode(f, LinkEthernet, 0, 0, &p) }); n != 0 {
		t.Errorf("%.1f allocations per ARP decode, want 0", n)
	}
}
