package inventory

import (
	"net/netip"
	"testing"
	"time"

	"github.com/medtap/medtap/parsers/dicom"
	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/sensor/event"
)

// assoc is an accepted association from client to a PACS, as seen without
// MACs (a routed segment or a link type without them).
func assoc(client string, ts time.Time) *event.Event {
	f := &parser.Flow{Proto: 6, Client: netip.MustParseAddrPort(client + ":40000"), Server: netip.MustParseAddrPort("10.2.0.1:104")}
	return &event.Event{TS: ts, Flow: f, Body: &dicom.Association{Type: "association", CallingAE: "CT1", CalledAE: "PACS", Result: "released"}}
}

// TestIdentityMoves: an AE title that reappears from a new address after
// its device went quiet is the same device (merged); from two addresses at
// once it is two devices (left to detection).
func TestIdentityMoves(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	inv := New(Options{})
	inv.Write([]*event.Event{assoc("10.1.0.5", t0)})
	inv.Write([]*event.Event{assoc("10.1.0.6", t0.Add(time.Hour))})
	a, _ := inv.AssetByIP(netip.MustParseAddr("10.1.0.5"))
	b, _ := inv.AssetByIP(netip.MustParseAddr("10.1.0.6"))
	if a.ID != b.ID || len(b.IPs) != 2 || inv.Stats().Merges != 1 {
		t.Errorf("moved device: ids %s %s, %d addresses, %d merges", a.ID, b.ID, len(b.IPs), inv.Stats().Merges)
	}
	if n := len(inv.Assets()); n != 2 {
		t.Errorf("%d assets, want the device and the PACS", n)
	}

	inv = New(Options{})
	inv.Write([]*event.Event{assoc("10.1.0.5", t0), assoc("10.1.0.7", t0.Add(time.Second)), assoc("10.1.0.5", t0.Add(2*time.Second))})
	a, _ = inv.AssetByIP(netip.MustParseAddr("10.1.0.5"))
	c, _ := inv.AssetByIP(netip.MustParseAddr("10.1.0.7"))
	if a.ID == c.ID || inv.Stats().Merges != 0 {
		t.Errorf("one AE title from two live addresses was merged")
	}
}
