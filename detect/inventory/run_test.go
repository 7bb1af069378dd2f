package inventory

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/medtap/medtap/detect"
	"github.com/medtap/medtap/detect/policy"
	"github.com/medtap/medtap/parsers"
	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/flow"
	"github.com/medtap/medtap/sensor/pipeline"
)

// collect keeps events (and their JSON lines) a sink receives.
type collect struct {
	evs   []*event.Event
	lines []string
}

func (c *collect) Write(evs []*event.Event) error {
	for _, e := range evs {
		c.evs = append(c.evs, e)
		b, err := e.AppendJSON(nil)
		if err != nil {
			return err
		}
		c.lines = append(c.lines, string(b))
	}
	return nil
}

// both feeds the inventory and then detection, as medtap's sinks do: the
// alerts detection writes (to the inventory) name assets the inventory
// has already learned.
type both struct {
	eng *detect.Engine
	inv *Inventory
}

func (b *both) Write(evs []*event.Event) error {
	if err := b.inv.Write(evs); err != nil {
		return err
	}
	return b.eng.Write(evs)
}

// analyze runs captures through the pipeline, detection and an inventory
// (with the given store, may be nil) and returns the inventory and the
// asset events.
func analyze(t testing.TB, store Persister, pcaps ...string) (*Inventory, *collect) {
	t.Helper()
	changes := &collect{}
	pol := policy.Default()
	inv := New(Options{Policy: pol, Changes: changes, Store: store, Vendor: testVendor})
	eng, err := detect.New(pol, detect.Options{AlertSink: inv, Key: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	p := pipeline.New(pipeline.Config{Workers: 1, Flow: flow.Config{Parsers: parsers.All}})
	var errs strings.Builder
	st := p.Run(context.Background(), pcaps, &both{eng, inv}, func(err error) { fmt.Fprintln(&errs, err) })
	if st.SinkErr != nil {
		t.Fatal(st.SinkErr)
	}
	if errs.Len() > 0 {
		t.Fatal(errs.String())
	}
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	if err := inv.Flush(); err != nil {
		t.Fatal(err)
	}
	return inv, changes
}

var testVendor func(mac [6]byte) string
