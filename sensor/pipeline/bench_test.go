package pipeline

import (
	"context"
	"os"
	"runtime"
	"testing"

	"github.com/medtap/medtap/parsers"
	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/flow"
	"github.com/medtap/medtap/sensor/internal/gentest"
)

type discard struct{ n int }

func (d *discard) Write(evs []*event.Event) error {
	for _, e := range evs {
		d.n += len(e.Line)
	}
	return nil
}

// benchCapture is a mixed capture made by the project's generator (or the
// file named by MEDTAP_BENCH_FILE, e.g. make bench's 1 GiB one).
func benchCapture(b *testing.B) string {
	if f := os.Getenv("MEDTAP_BENCH_FILE"); f != "" {
		return f
	}
	return gentest.Build(b).Mixed("64MiB", 1)
}

// BenchmarkAnalyze runs the whole pipeline (read, decode, flows,
// reassembly, every parser, JSON encoding) over a mixed capture and reports
// per-packet time and allocations; allocations come from events (flows,
// transactions, messages), not from packets.
func BenchmarkAnalyze(b *testing.B) {
	path := benchCapture(b)
	st0, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	for _, workers := range []int{1, runtime.NumCPU()} {
		b.Run("workers="+string(rune('0'+workers)), func(b *testing.B) {
			var frames, events uint64
			var m0, m1 runtime.MemStats
			b.SetBytes(st0.Size())
			b.ReportAllocs()
			runtime.ReadMemStats(&m0)
			for i := 0; i < b.N; i++ {
				p := New(Config{Workers: workers, Flow: flow.Config{Parsers: parsers.All, Recover: true}})
				st := p.Run(context.Background(), []string{path}, &discard{}, func(err error) { b.Fatal(err) })
				frames, events = st.Frames, st.Flow.Events
			}
			runtime.ReadMemStats(&m1)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(frames), "ns/packet")
			b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(b.N)/float64(frames), "allocs/packet")
			b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(b.N)/float64(max(events, 1)), "allocs/event")
		})
	}
}
