package inventory

import (
	"net/netip"
	"testing"
	"time"
	"unsafe"

	"github.com/medtap/medtap/parsers/hl7"
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

// TestSteadyStateHL7Allocs: a message on an open flow from a known sender
// (identity, message type, software) to a known receiver costs the merge
// goroutine no allocation.
func TestSteadyStateHL7Allocs(t *testing.T) {
	inv := New(Options{Changes: &collect{}})
	f := &parser.Flow{Proto: 6, Client: netip.MustParseAddrPort("10.1.0.5:40000"), Server: netip.MustParseAddrPort("10.1.0.9:2575"),
		ClientMAC: [6]byte{0, 1, 2, 3, 4, 5}, ServerMAC: [6]byte{0, 1, 2, 3, 4, 6}, VLAN: 12}
	m := &hl7.Message{Direction: "to_server", MessageType: "ORU", TriggerEvent: "R01", SendingApplication: "MONITOR", SendingFacility: "ICU",
		ReceivingApplication: "EMR", ReceivingFacility: "HOSP", PHICategories: []string{hl7.CatName},
		Software: []hl7.Software{{Vendor: "Acme", Product: "Vitals", Version: "2.1"}}, EquipmentIDs: []string{"MON-7"}}
	evs := []*event.Event{{TS: time.Unix(1_700_000_000, 0), Flow: f, Body: m}}
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
		t.Errorf("a known message costs %.1f allocations", n)
	}
	a, _ := inv.AssetByIP(f.Client.Addr())
	if len(a.Medical.HL7) != 1 || a.Medical.HL7[0].Count != 202 || len(a.Medical.HL7[0].MessageTypes) != 1 || a.Medical.HL7[0].MessageTypes[0] != "ORU^R01" {
		t.Errorf("hl7 %+v", a.Medical.HL7)
	}
	if !a.LastSeen.Equal(evs[0].TS) || a.IPs[0].LastSeen != a.LastSeen {
		t.Errorf("last seen %v, address last seen %v, want %v", a.LastSeen, a.IPs[0].LastSeen, evs[0].TS)
	}
}

// TestHL7StringsCopied: what the inventory keeps of an HL7 message is its
// own copy, never a view of the event's block, which also holds the
// message's patient values.
func TestHL7StringsCopied(t *testing.T) {
	block := []byte("MONITORICUAcmeVitals2.1BIN-1MON-7UDI-42ZHANG^SAN")
	view := func(from, to int) string { return unsafe.String(&block[from], to-from) }
	m := &hl7.Message{Direction: "to_server", MessageType: "ORU", TriggerEvent: "R01",
		SendingApplication: view(0, 7), SendingFacility: view(7, 10),
		Software:     []hl7.Software{{Vendor: view(10, 14), Product: view(14, 20), Version: view(20, 23), BinaryID: view(23, 28)}},
		EquipmentIDs: []string{view(28, 33)}, UDI: []hl7.Device{{DeviceID: view(33, 39)}},
		PHI: []hl7.PHIValue{{Field: "PID-5", Category: hl7.CatName, Value: view(39, len(block))}}}
	f := &parser.Flow{Proto: 6, Client: netip.MustParseAddrPort("10.1.0.5:40000"), Server: netip.MustParseAddrPort("10.1.0.9:2575")}
	inv := New(Options{})
	if err := inv.Write([]*event.Event{{TS: time.Unix(1_700_000_000, 0), Flow: f, Body: m}}); err != nil {
		t.Fatal(err)
	}
	a, _ := inv.AssetByIP(f.Client.Addr())
	lo, hi := uintptr(unsafe.Pointer(&block[0])), uintptr(unsafe.Pointer(&block[0]))+uintptr(len(block))
	check := func(what, s string) {
		if p := uintptr(unsafe.Pointer(unsafe.StringData(s))); s != "" && p >= lo && p < hi {
			t.Errorf("%s %q is a view of the event's block", what, s)
		}
	}
	if len(a.Medical.HL7) != 1 || len(a.Medical.HL7Software) != 1 || len(a.Medical.EquipmentIDs) != 1 || len(a.Medical.UDIs) != 1 {
		t.Fatalf("medical identity %+v", a.Medical)
	}
	check("application", a.Medical.HL7[0].Application)
	check("facility", a.Medical.HL7[0].Facility)
	sw := a.Medical.HL7Software[0]
	check("vendor", sw.Vendor)
	check("product", sw.Product)
	check("version", sw.Version)
	check("binary id", sw.BinaryID)
	check("equipment id", a.Medical.EquipmentIDs[0])
	check("udi", a.Medical.UDIs[0])
}
