package inventory

import (
	"net/netip"
	"testing"
	"time"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/flow"
)

// TestSteadyStateAllocs: a flow between two known devices, on a known
// service, costs the merge goroutine no allocation.
func TestSteadyStateAllocs(t *testing.T) {
	inv := New(Options{Changes: &collect{}})
	f := &parser.Flow{Proto: 6, Client: netip.MustParseAddrPort("10.1.0.5:40000"), Server: netip.MustParseAddrPort("10.1.0.9:104"),
		ClientMAC: [6]byte{0, 1, 2, 3, 4, 5}, ServerMAC: [6]byte{0, 1, 2, 3, 4, 6}}
	rec := &flow.Record{AppProto: "dicom", PktsToServer: 10, PktsToClient: 8, BytesToServer: 5000, BytesToClient: 900,
		PayloadToClient: 300, TCPFlagsTC: "SAF", Duration: 1.5}
	ts := time.Unix(1_700_000_000, 0)
	evs := []*event.Event{{TS: ts, Flow: f, Body: rec}}
	if err := inv.Write(evs); err != nil {
		t.Fatal(err)
	}
	n := testing.AllocsPerRun(200, func() {
		evs[0].TS = evs[0].TS.Add(time.Second)
		if err := inv.Write(evs); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Errorf("a known flow costs %.1f allocations", n)
	}
	a, _ := inv.AssetByIP(f.Server.Addr())
	if len(a.Services) != 1 || a.Services[0].Flows != 202 {
		t.Errorf("services %+v", a.Services)
	}
}
