// Package memlimit keeps medtap within a memory budget, without letting a
// budget too small for the data stall it, and drops the pages of its own
// executable that only start-up read.
//
// Go's collector lets the heap grow to twice the live data (GOGC=100)
// before it runs. An analysis holds its flows, their parsers and the
// detection and inventory state: about 22 MB at the worst point of the
// 1 GiB benchmark capture, so the heap peaked near 50 MB and the process
// at about 80 MiB resident. A soft limit (debug.SetMemoryLimit) makes the
// collector run earlier instead, which costs little while the live data
// is well under the limit. A fixed limit, though, turns into a collector
// running all the time once the live data nears it: a big capture, or a
// live sensor with many open connections, would then crawl.
//
// Start therefore keeps the limit at the budget only while the live data
// fits in about two thirds of it. After each collection it sets the limit
// to the larger of the budget and what the live data needs with headroom
// (half of it again, plus the runtime's own memory), so past the budget
// medtap grows, collecting at most about twice as often as without a
// limit.
//
// The budget covers the Go runtime's memory only: the executable's pages
// (TrimStartup) and, for a live capture, the packet rings come on top.
package memlimit

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// DefaultBudget is the budget medtap runs with unless told otherwise:
// with the executable's pages the run reads (about 13 MiB after
// TrimStartup) it keeps the offline benchmark run under 60 MiB resident.
const DefaultBudget = 44 << 20

// headroomDiv sets the headroom over the live data once it is past two
// thirds of the budget: live/headroomDiv more (GOGC=50 in effect).
const headroomDiv = 2

// Governor holds the budget. Stop ends it and restores the limit found.
type Governor struct {
	budget  int64
	before  int64
	stopped atomic.Bool
	limit   atomic.Int64 // the limit in force
	raised  atomic.Int64 // how many times the limit moved above the budget
	samples []metrics.Sample
	mu      sync.Mutex // samples, and the limit against Stop
}

// Start sets a soft memory budget of budget bytes (0: none, nothing is
// done) and keeps it adjusted after every collection until Stop. A
// GOMEMLIMIT set in the environment takes precedence: Start then does
// nothing.
func Start(budget int64) *Governor {
	g := &Governor{budget: budget}
	if budget <= 0 || envLimit() {
		return g
	}
	g.samples = []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
	}
	g.before = debug.SetMemoryLimit(budget)
	g.limit.Store(budget)
	g.arm()
	return g
}

// envLimit reports whether GOMEMLIMIT is set in the environment.
func envLimit() bool {
	_, ok := os.LookupEnv("GOMEMLIMIT")
	return ok
}

// Limit is the soft limit in force (0 when the governor is off).
func (g *Governor) Limit() int64 { return g.limit.Load() }

// Raised is how many times the limit went above the budget because the
// live data needed it.
func (g *Governor) Raised() int64 { return g.raised.Load() }

// Stop ends the adjustments and restores the limit that was in force
// before Start.
func (g *Governor) Stop() {
	if g.limit.Load() == 0 {
		return
	}
	g.mu.Lock() // an adjustment under way finishes first
	defer g.mu.Unlock()
	if g.stopped.Swap(true) {
		return
	}
	debug.SetMemoryLimit(g.before)
}

// sentinel is an object whose finalizer runs after the collection that
// finds it unreachable: a hook at the end of every cycle. It holds a
// pointer so that it is not batched with other tiny objects, whose
// finalizers would wait for all of them.
type sentinel struct{ g *Governor }

func (g *Governor) arm() {
	s := &sentinel{g: g}
	runtime.SetFinalizer(s, func(s *sentinel) {
		if s.g.stopped.Load() {
			return
		}
		s.g.adjust()
		s.g.arm()
	})
}

// adjust sets the limit for the live data the last collection found.
func (g *Governor) adjust() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped.Load() {
		return
	}
	metrics.Read(g.samples)
	v := func(i int) int64 {
		if g.samples[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		u := g.samples[i].Value.Uint64()
		if u > math.MaxInt64 {
			return math.MaxInt64
		}
		return int64(u)
	}
	live := v(0)
	runtimeOwn := v(1) - v(2) - v(3) - v(4) - v(5) // stacks, GC metadata, buffers
	want := max(g.budget, limitFor(live, runtimeOwn))
	if want == g.limit.Load() {
		return
	}
	if want > g.budget && g.limit.Load() == g.budget {
		g.raised.Add(1)
	}
	g.limit.Store(want)
	debug.SetMemoryLimit(want)
}

// limitFor is the limit that leaves live data of that size its headroom.
func limitFor(live, runtimeOwn int64) int64 {
	return live + live/headroomDiv + max(runtimeOwn, 0)
}
