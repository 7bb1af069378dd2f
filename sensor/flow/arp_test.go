package flow

import (
	"testing"

	"github.com/medtap/medtap/sensor/decode"
)

func arpPkt(op uint16, ip byte, mac byte, ts int64) *decode.Packet {
	return &decode.Packet{TS: ts, ARP: decode.ARPInfo{Op: op, SenderIP: [4]byte{10, 0, 0, ip}, SenderMAC: [6]byte{2, 0, 0, 0, 0, mac},
		TargetIP: [4]byte{10, 0, 0, 1}}}
}

func TestARPEmitsOnChangeOnly(t *testing.T) {
	tab := NewTable(Config{})
	tab.Begin(nil)
	tab.ARP(arpPkt(decode.ARPRequest, 2, 0xa, 1e9), 0) // new
	tab.ARP(arpPkt(decode.ARPReply, 2, 0xa, 2e9), 1)   // repeat: nothing
	tab.ARP(arpPkt(decode.ARPReply, 2, 0xb, 3e9), 2)   // changed
	probe := arpPkt(decode.ARPRequest, 0, 0xc, 4e9)
	probe.ARP.SenderIP = [4]byte{}
	tab.ARP(probe, 3)                                  // probe (sender 0.0.0.0): nothing
	tab.ARP(arpPkt(decode.ARPRequest, 1, 0xd, 5e9), 4) // gratuitous (sender = target), new
	evs := tab.End()
	if len(evs) != 3 {
		t.Fatalf("got %d events, want 3", len(evs))
	}
	a0, a1, a2 := evs[0].Body.(*ARP), evs[1].Body.(*ARP), evs[2].Body.(*ARP)
	if a0.Change != "new" || a0.Op != "request" || a0.SenderIP != "10.0.0.2" || a0.SenderMAC != "02:00:00:00:00:0a" || a0.TargetMAC != "" {
		t.Errorf("first: %+v", a0)
	}
	if a1.Change != "changed" || a1.Op != "reply" || a1.PreviousMAC != "02:00:00:00:00:0a" || a1.SenderMAC != "02:00:00:00:00:0b" {
		t.Errorf("second: %+v", a1)
	}
	if !a2.Gratuitous || a2.Change != "new" {
		t.Errorf("third: %+v", a2)
	}
	if evs[1].Key.Packet != 2 || evs[1].Flow != nil || evs[1].Body.EventType() != "arp" {
		t.Errorf("envelope: key %+v flow %v", evs[1].Key, evs[1].Flow)
	}
	if tab.Stats.ARPEvents != 3 {
		t.Errorf("ARPEvents %d, want 3", tab.Stats.ARPEvents)
	}
}

func TestARPBindingsBounded(t *testing.T) {
	tab := NewTable(Config{})
	tab.Begin(nil)
	n := MaxARPBindings + 10
	for i := range n {
		p := arpPkt(decode.ARPReply, 0, 1, int64(i+1))
		p.ARP.SenderIP = [4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}
		tab.ARP(p, uint64(i))
	}
	if len(tab.arp.m) != MaxARPBindings || tab.Stats.ARPEvicted != 10 {
		t.Fatalf("bindings %d evicted %d", len(tab.arp.m), tab.Stats.ARPEvicted)
	}
	// The oldest binding was forgotten: seen again, it is new.
	tab.End()
	tab.Begin(nil)
	p := arpPkt(decode.ARPReply, 0, 1, int64(n+1))
	p.ARP.SenderIP = [4]byte{10, 0, 0, 0}
	tab.ARP(p, uint64(n))
	if evs := tab.End(); len(evs) != 1 || evs[0].Body.(*ARP).Change != "new" {
		t.Fatalf("re-seen oldest binding: %d events", len(evs))
	}
	// A known binding costs no allocation.
	tab.Begin(nil)
	if a := testing.AllocsPerRun(1000, func() { tab.ARP(p, uint64(n+1)) }); a != 0 {
		t.Errorf("%.1f allocations per repeated ARP, want 0", a)
	}
}
