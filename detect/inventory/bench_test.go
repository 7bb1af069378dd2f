package inventory

import (
	"context"
	"os"
	"runtime"
	"testing"

	"github.com/medtap/medtap/parsers"
	"github.com/medtap/medtap/parsers/hl7"
	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/flow"
	"github.com/medtap/medtap/sensor/pipeline"
)

// gather keeps a pipeline's events.
type gather struct{ evs []*event.Event }

func (g *gather) Write(evs []*event.Event) error {
	g.evs = append(g.evs, evs...)
	return nil
}

// discard takes asset events and drops them.
type discard struct{}

func (discard) Write([]*event.Event) error { return nil }

// pipelineEvents runs the pipeline over captures and returns their events.
func pipelineEvents(b *testing.B, pcaps ...string) []*event.Event {
	b.Helper()
	var evs []*event.Event
	for _, pc := range pcaps {
		g := &gather{}
		p := pipeline.New(pipeline.Config{Workers: 1, Flow: flow.Config{Parsers: parsers.All}})
		p.Run(context.Background(), []string{pc}, g, func(err error) { b.Fatal(err) })
		evs = append(evs, g.evs...)
	}
	return evs
}

// BenchmarkInventory measures the inventory's cost per event on the merge
// goroutine (ns/event and allocs/event; op is one Write of the whole
// batch), asset events built and dropped:
//
//   - repeat-hl7: the HL7 messages of pcaps/hl7-mllp.pcap over and over on
//     one open flow, 64 times per batch: known sender, receiver and message
//     types, the common case on a busy interface.
//   - mix: the events of dicom-store, hl7-mllp, https-curl and
//     inventory-lan, flow records included.
//   - capture: with MEDTAP_BENCH_PCAP=FILE, the events of that capture
//     (e.g. one made by `medtap-pcaptool gen`).
func BenchmarkInventory(b *testing.B) {
	b.Run("repeat-hl7", func(b *testing.B) {
		var msgs []*event.Event
		for _, ev := range pipelineEvents(b, "../../pcaps/hl7-mllp.pcap") {
			if _, ok := ev.Body.(*hl7.Message); ok {
				msgs = append(msgs, ev)
			}
		}
		if len(msgs) == 0 {
			b.Fatal("no HL7 messages")
		}
		f := *msgs[0].Flow
		var evs []*event.Event
		for range 64 {
			for _, m := range msgs {
				c := *m
				c.Flow = &f
				evs = append(evs, &c)
			}
		}
		benchInventory(b, evs)
	})
	b.Run("mix", func(b *testing.B) {
		benchInventory(b, pipelineEvents(b, "../../pcaps/dicom-store.pcap", "../../pcaps/hl7-mllp.pcap",
			"../../pcaps/https-curl.pcap", "../../pcaps/inventory-lan.pcap"))
	})
	if pc := os.Getenv("MEDTAP_BENCH_PCAP"); pc != "" {
		b.Run("capture", func(b *testing.B) {
			benchInventory(b, pipelineEvents(b, pc))
		})
	}
}

func benchInventory(b *testing.B, evs []*event.Event) {
	inv := New(Options{Changes: discard{}})
	// One round first: the assets, their services and identities exist,
	// as in a long run.
	if err := inv.Write(evs); err != nil {
		b.Fatal(err)
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := inv.Write(evs); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&m1)
	n := float64(b.N * len(evs))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/event")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/n, "allocs/event")
}
