package inventory

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/medtap/medtap/parsers/dhcp"
	"github.com/medtap/medtap/parsers/hl7"
	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/flow"
)

// TestFlowCacheSameResult: the ends a flow's note remembers give the same
// inventory and the same asset events as resolving both ends of every
// event, while addresses move between MACs (DHCP), MACs turn out to be
// routers' and assets merge (an HL7 identity seen from a new address).
func TestFlowCacheSameResult(t *testing.T) {
	var merges, moved uint64
	for seed := range uint64(20) {
		evs := randomEvents(seed)
		var outs [2]string
		for i, noCache := range []bool{false, true} {
			c := &collect{}
			inv := New(Options{Changes: c})
			inv.noFlowCache = noCache
			for j := 0; j < len(evs); j += 7 {
				if err := inv.Write(evs[j:min(j+7, len(evs))]); err != nil {
					t.Fatal(err)
				}
			}
			if err := inv.Flush(); err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(inv.Assets())
			if err != nil {
				t.Fatal(err)
			}
			outs[i] = fmt.Sprint(c.lines) + "\n" + string(b)
			if !noCache {
				merges += inv.Stats().Merges
				moved += inv.gen - 1
			}
		}
		if outs[0] != outs[1] {
			t.Fatalf("seed %d: the flow cache changes the inventory:\n%s\nwithout it:\n%s", seed, outs[0], outs[1])
		}
	}
	if merges == 0 || moved <= merges {
		t.Errorf("the events merged %d assets and moved %d times: the test misses what invalidates notes", merges, moved)
	}
}

// randomEvents makes HL7 traffic between a few addresses and MACs, with
// DHCP leases moving addresses and long silences (for merges).
func randomEvents(seed uint64) []*event.Event {
	r := rand.New(rand.NewPCG(seed, 7))
	addrs := []string{"10.1.0.1", "10.1.0.2", "10.1.0.3", "10.1.0.4", "10.1.0.5", "8.8.4.4", "203.0.113.9"}
	macs := [][6]byte{{}, {0, 1, 2, 3, 4, 1}, {0, 1, 2, 3, 4, 2}, {0, 1, 2, 3, 4, 3}, {0, 1, 2, 3, 4, 4}, {0, 1, 2, 3, 4, 5}}
	apps := []string{"MONITOR", "LIS", "EMR"}
	ts := time.Unix(1_700_000_000, 0)
	var evs []*event.Event
	var open []*parser.Flow
	for range 400 {
		ts = ts.Add(time.Duration(r.IntN(40)) * time.Second)
		switch k := r.IntN(10); {
		case k < 2 || len(open) == 0:
			f := &parser.Flow{Proto: 6, VLAN: uint16(r.IntN(2)),
				Client:    netip.AddrPortFrom(netip.MustParseAddr(addrs[r.IntN(len(addrs))]), uint16(40000+r.IntN(1000))),
				Server:    netip.AddrPortFrom(netip.MustParseAddr(addrs[r.IntN(len(addrs))]), 2575),
				ClientMAC: macs[r.IntN(len(macs))], ServerMAC: macs[r.IntN(len(macs))]}
			open = append(open, f)
		case k < 7:
			f := open[r.IntN(len(open))]
			dir := "to_server"
			if r.IntN(4) == 0 {
				dir = "to_client"
			}
			evs = append(evs, &event.Event{TS: ts, Flow: f, Body: &hl7.Message{Direction: dir, MessageType: "ORU", TriggerEvent: "R01",
				SendingApplication: apps[r.IntN(len(apps))], SendingFacility: "ICU", ReceivingApplication: apps[r.IntN(len(apps))]}})
		case k < 8:
			i := r.IntN(len(open))
			f := open[i]
			open = append(open[:i], open[i+1:]...)
			evs = append(evs, &event.Event{TS: ts, Flow: f, Body: &flow.Record{AppProto: "hl7", PktsToServer: 4, PktsToClient: 3,
				BytesToServer: 900, BytesToClient: 200, PayloadToClient: 50, TCPFlagsTC: "SA", Duration: 2}})
		default:
			m := macs[1+r.IntN(len(macs)-1)]
			evs = append(evs, &event.Event{TS: ts, Body: &dhcp.Message{Direction: "to_client", MessageType: "ack",
				ClientMAC: formatMAC(m), YourIP: addrs[r.IntN(5)]}})
		}
	}
	return evs
}
