package store

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/medtap/medtap/detect/inventory"
	"github.com/medtap/medtap/detect/inventory/oui"
	"github.com/medtap/medtap/parsers"
	"github.com/medtap/medtap/sensor/flow"
	"github.com/medtap/medtap/sensor/pipeline"
)

// learn runs a capture into an inventory that continues what db holds.
func learn(t *testing.T, db *Store, pcap string) *inventory.Inventory {
	t.Helper()
	loaded, err := db.LoadAssets()
	if err != nil {
		t.Fatal(err)
	}
	inv := inventory.New(inventory.Options{Store: db, Vendor: oui.Lookup, BatchChanges: 4})
	inv.Load(loaded)
	p := pipeline.New(pipeline.Config{Workers: 1, Flow: flow.Config{Parsers: parsers.All}})
	st := p.Run(context.Background(), []string{pcap}, inv, func(err error) { t.Fatal(err) })
	if st.SinkErr != nil {
		t.Fatal(st.SinkErr)
	}
	if err := inv.Flush(); err != nil {
		t.Fatal(err)
	}
	return inv
}

// TestContinue: a restarted sensor (a new inventory loaded from the
// database) keeps the same assets and adds to them.
func TestContinue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inv.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	pcap := "../../../pcaps/inventory-lan.pcap"
	first := learn(t, db, pcap).Assets()
	if st, _ := db.LoadAssets(); len(st) != len(first) {
		t.Fatalf("%d assets stored, %d learned", len(st), len(first))
	}
	db.Close()

	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	again := learn(t, db, pcap).Assets()
	if len(again) != len(first) {
		t.Fatalf("after a restart: %d assets, want %d", len(again), len(first))
	}
	for i := range first {
		a, b := first[i], again[i]
		if a.ID != b.ID || a.MAC != b.MAC || a.Class != b.Class || len(a.IPs) != len(b.IPs) || len(a.Hostnames) != len(b.Hostnames) {
			t.Errorf("asset %d changed identity across the restart:\n%+v\n%+v", i, a, b)
		}
		for j := range a.Services {
			if b.Services[j].Flows != 2*a.Services[j].Flows {
				t.Errorf("%s service %d: %d flows after two runs, %d after one", a.ID, a.Services[j].Port, b.Services[j].Flows, a.Services[j].Flows)
			}
		}
	}
	stored, err := db.LoadAssets()
	if err != nil || len(stored) != len(first) {
		t.Fatalf("stored %d assets, %v", len(stored), err)
	}
}
