package flow

import (
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/medtap/medtap/sensor/decode"
	"github.com/medtap/medtap/sensor/event"
)

// MaxARPBindings bounds the IPv4-to-MAC bindings a table remembers to tell
// a new or changed binding from a repeated one. Past it the oldest binding
// is forgotten (Stats.ARPEvicted); seen again, it is reported as new.
const MaxARPBindings = 1 << 16

// ARP is the body of an "arp" event: an Ethernet/IPv4 ARP packet whose
// sender binding (IP to MAC) is new to the table or differs from the one it
// remembers. Repeats of a known binding emit nothing, so the event rate
// follows changes on the segment, not its ARP traffic.
type ARP struct {
	Op          string `json:"op"` // request, reply, or the number
	SenderMAC   string `json:"sender_mac"`
	SenderIP    string `json:"sender_ip"`
	TargetMAC   string `json:"target_mac,omitempty"` // omitted when all zero (requests)
	TargetIP    string `json:"target_ip"`
	VLAN        uint16 `json:"vlan,omitempty"`
	Gratuitous  bool   `json:"gratuitous,omitempty"` // sender IP = target IP: an announcement
	Change      string `json:"change"`               // new, changed
	PreviousMAC string `json:"previous_mac,omitempty"`
}

// EventType implements parser.Body.
func (*ARP) EventType() string { return "arp" }

type arpKey struct {
	ip   [4]byte
	vlan uint16
}

// arpTable is the bounded binding memory; ring holds the keys in insertion
// order so that eviction (oldest first) is deterministic.
type arpTable struct {
	m    map[arpKey][6]byte
	ring []arpKey
	head int
}

// ARP processes a decoded ARP packet (decode.ARP result); idx is its global
// index, which orders the event. The pipeline hands every ARP frame to one
// table only.
func (t *Table) ARP(p *decode.Packet, idx uint64) {
	t.Observe(p.TS)
	a := &p.ARP
	if a.SenderIP == ([4]byte{}) {
		return // an address probe (RFC 5227) binds nothing
	}
	k := arpKey{a.SenderIP, p.VLAN}
	at := &t.arp
	if at.m == nil {
		at.m = make(map[arpKey][6]byte, 256)
	}
	prev, known := at.m[k]
	if known && prev == a.SenderMAC {
		return
	}
	if !known {
		if len(at.m) >= MaxARPBindings {
			delete(at.m, at.ring[at.head])
			at.ring[at.head] = k
			at.head = (at.head + 1) % len(at.ring)
			t.Stats.ARPEvicted++
		} else {
			at.ring = append(at.ring, k)
		}
	}
	at.m[k] = a.SenderMAC
	b := &ARP{
		SenderMAC:  net.HardwareAddr(a.SenderMAC[:]).String(),
		SenderIP:   netip.AddrFrom4(a.SenderIP).String(),
		TargetIP:   netip.AddrFrom4(a.TargetIP).String(),
		VLAN:       p.VLAN,
		Gratuitous: a.SenderIP == a.TargetIP,
		Change:     "new",
	}
	switch a.Op {
	case decode.ARPRequest:
		b.Op = "request"
	case decode.ARPReply:
		b.Op = "reply"
	default:
		b.Op = strconv.Itoa(int(a.Op))
	}
	if a.TargetMAC != ([6]byte{}) {
		b.TargetMAC = net.HardwareAddr(a.TargetMAC[:]).String()
	}
	if known {
		b.Change, b.PreviousMAC = "changed", net.HardwareAddr(prev[:]).String()
	}
	t.Stats.ARPEvents++
	t.Stats.Events++
	ev := t.newEvent()
	ev.TS, ev.Sensor, ev.Body, ev.Key = time.Unix(0, p.TS), t.cfg.Sensor, b, event.Key{Packet: idx, Flow: idx}
	t.out = append(t.out, ev)
}
