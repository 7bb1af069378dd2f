package detect

import (
	"net/netip"

	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/flow"
)

// arp runs the ARP rules. The flow table emits an arp event only when a
// sender binding is new or changed, so this runs at the rate of changes.
func (e *Engine) arp(ev *event.Event, a *flow.ARP) {
	ip, err := netip.ParseAddr(a.SenderIP)
	if err != nil {
		return
	}
	// A reply (or an announcement) moving an address to another MAC: the
	// classic poisoning that puts the sender in the middle.
	if a.Change == "changed" && (a.Op == "reply" || a.Gratuitous) {
		det := e.dets(dS("sender_mac", a.SenderMAC), dS("previous_mac", a.PreviousMAC), dS("op", a.Op), dB("gratuitous", a.Gratuitous))
		if a.VLAN != 0 {
			det = append(det, dI("vlan", int(a.VLAN)))
			e.detBuf = det
		}
		e.report(ev, nil, &finding{rule: RuleARPSpoof, asset: ip, nodes: e.nodes(node{ip: ip, role: "peer"}), protocol: "arp", details: det})
	}
	e.newHost(ev, nil, ip, "arp", a.SenderMAC)
}

// newHost runs MT-NODE-006 for an address seen on the wire (source: arp or
// flow; mac when known).
func (e *Engine) newHost(ev *event.Event, fs *flowState, ip netip.Addr, source, mac string) {
	if !ip.IsValid() || len(e.pol.DeviceNetworks) == 0 || !e.pol.OnDeviceNetwork(ip) {
		return
	}
	if !novel(e, e.hosts, ip, ev.TS) {
		return
	}
	det := e.dets(dS("source", source))
	if mac != "" {
		det = append(det, dS("mac", mac))
		e.detBuf = det
	}
	n := node{ip: ip, role: "peer"}
	if dc := e.pol.ClassOf(ip); dc != nil {
		n.class = dc.Name
	}
	e.report(ev, fs, &finding{rule: RuleNewHost, sub: "host", asset: ip, nodes: e.nodes(n), details: det})
}
