package lines

import (
	"fmt"
	"strings"
	"testing"
)

// TestSplitInvariance: every way of cutting the input gives the same lines.
func TestSplitInvariance(t *testing.T) {
	in := "a\r\nbb\n\r\n" + strings.Repeat("x", 20) + "\r\nccc\r\ntail"
	run := func(cuts []int) string {
		b := Buf{Max: 8}
		var out strings.Builder
		prev := 0
		for _, c := range append(cuts, len(in)) {
			b.Feed([]byte(in[prev:c]), func(l []byte, long bool) bool {
				fmt.Fprintf(&out, "%q/%v ", l, long)
				return true
			})
			prev = c
		}
		return out.String() + "|" + string(b.Pending())
	}
	want := run(nil)
	if want != `"a"/false "bb"/false ""/false "xxxxxxxx"/true "ccc"/false |tail` {
		t.Fatalf("whole: %s", want)
	}
	for i := 1; i < len(in); i++ {
		for j := i; j < len(in); j++ {
			if got := run([]int{i, j}); got != want {
				t.Fatalf("cut at %d,%d: %s", i, j, got)
			}
		}
	}
}

// TestStop: Feed returns the bytes consumed up to the line that stopped it.
func TestStop(t *testing.T) {
	b := Buf{Max: 64}
	n := b.Feed([]byte("one\r\ntwo\r\nbody"), func(l []byte, _ bool) bool { return string(l) != "two" })
	if n != 10 {
		t.Fatalf("consumed %d", n)
	}
}
