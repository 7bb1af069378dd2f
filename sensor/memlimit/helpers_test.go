package memlimit

import (
	"os"
	"runtime"
	"testing"
	"time"
)

// unsetEnv removes GOMEMLIMIT for the test (t.Setenv first, so that it
// is restored after).
func unsetEnv(t *testing.T) {
	t.Helper()
	t.Setenv("GOMEMLIMIT", "")
	os.Unsetenv("GOMEMLIMIT")
}

// waitFinalizers waits for the finalizers queued by the last collection:
// a finalizer of its own runs after them, on the same goroutine.
func waitFinalizers() {
	done := make(chan struct{})
	// With a pointer, the object is not batched with other tiny ones.
	type marker struct{ _ *int }
	runtime.SetFinalizer(new(marker), func(*marker) { close(done) })
	runtime.GC()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}
