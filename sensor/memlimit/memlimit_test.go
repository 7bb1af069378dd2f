package memlimit

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestLimitFor(t *testing.T) {
	for _, c := range []struct{ live, own, want int64 }{
		{0, 0, 0},
		{20 << 20, 4 << 20, 34 << 20},
		{100 << 20, 6 << 20, 156 << 20},
		{10, -5, 15}, // a negative estimate of the runtime's own memory counts as none
	} {
		if got := limitFor(c.live, c.own); got != c.want {
			t.Errorf("limitFor(%d, %d) = %d, want %d", c.live, c.own, got, c.want)
		}
	}
}

// TestBudgetFollowsLiveData: the limit is the budget while the live data
// is small, moves above it when the live data needs more, comes back when
// the data is gone, and Stop restores the limit found.
func TestBudgetFollowsLiveData(t *testing.T) {
	unsetEnv(t)
	before := debug.SetMemoryLimit(-1)
	const budget = 32 << 20
	g := Start(budget)
	collect := func() {
		for range 3 { // the finalizer runs after the cycle, on its own goroutine
			runtime.GC()
			runtime.Gosched()
		}
		waitFinalizers()
	}
	collect()
	if got := g.Limit(); got != budget {
		t.Fatalf("small live data: limit %d, want the budget %d", got, budget)
	}
	big := make([][]byte, 64)
	for i := range big {
		big[i] = make([]byte, 1<<20) // 64 MiB live: twice the budget
	}
	collect()
	if got := g.Limit(); got < 96<<20 || got > 128<<20 {
		t.Errorf("64 MiB live: limit %d MiB, want about 96 plus the runtime's own", got>>20)
	}
	if g.Raised() == 0 {
		t.Error("the limit moved above the budget but Raised is 0")
	}
	if got := debug.SetMemoryLimit(-1); got != g.Limit() {
		t.Errorf("runtime limit %d, governor says %d", got, g.Limit())
	}
	runtime.KeepAlive(big) // and no more: the next collection frees it
	collect()
	if got := g.Limit(); got != budget {
		t.Errorf("live data gone: limit %d, want the budget %d again", got, budget)
	}
	g.Stop()
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("after Stop: limit %d, want %d as before", got, before)
	}
}

func TestEnvironmentWins(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "1GiB")
	before := debug.SetMemoryLimit(-1)
	g := Start(32 << 20)
	defer g.Stop()
	if g.Limit() != 0 || debug.SetMemoryLimit(-1) != before {
		t.Errorf("with GOMEMLIMIT set: governor limit %d, runtime %d; want 0 and %d unchanged", g.Limit(), debug.SetMemoryLimit(-1), before)
	}
}

func TestOff(t *testing.T) {
	unsetEnv(t)
	before := debug.SetMemoryLimit(-1)
	g := Start(0)
	g.Stop()
	if g.Limit() != 0 || debug.SetMemoryLimit(-1) != before {
		t.Error("budget 0 changed the limit")
	}
}
