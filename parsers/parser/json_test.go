package parser

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uote\back`, "<a href='x'>&amp;</a>", "tab\tnl\ncr\r\x00\x1f\x7f",
		"张三^李四", "bad \xff\xfe utf8", "line\u2028para\u2029", "emoji 😀", "\b\f"} {
		want, _ := json.Marshal(s)
		if got := AppendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("%q: got %s want %s", s, got, want)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	f.Add("<&>\u2028\xff")
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendJSONString(nil, s); string(got) != string(want) {
			t.Fatalf("%q: got %s want %s", s, got, want)
		}
	})
}

func TestLocalValue(t *testing.T) {
	made := 0
	mk := func() any { made++; return new(int) }
	var none *Local
	if none.Value("x", mk) == none.Value("x", mk) {
		t.Error("a nil Local gave the same value twice")
	}
	l := &Local{}
	a, b, c := l.Value("x", mk), l.Value("x", mk), l.Value("y", mk)
	if a != b || a == c {
		t.Errorf("Local.Value: same name gave %p and %p, another name %p", a, b, c)
	}
	if made != 4 {
		t.Errorf("made %d values, want 4", made)
	}
}

// TestAppendJSONFloat checks the microsecond fast path of AppendJSONFloat
// against strconv's shortest formatting, on latencies as the parser
// computes them (time differences in seconds) and on doubles near them.
func TestAppendJSONFloat(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	check := func(f float64) {
		want, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendJSONFloat(nil, f); !bytes.Equal(got, want) {
			t.Fatalf("AppendJSONFloat(%v) = %s, want %s", f, got, want)
		}
	}
	for range 300000 {
		us := r.Int64N(1 << r.IntN(50))
		d := time.Duration(us) * time.Microsecond
		if r.IntN(4) == 0 {
			d += time.Duration(r.IntN(1000)) // nanoseconds too
		}
		f := d.Seconds()
		check(f)
		check(math.Nextafter(f, 0))
		check(math.Nextafter(f, 2e9))
		check(float64(us) / 1e6)
	}
	for _, f := range []float64{1e-6, 1e-7, 0.1, 1, 999999999.999999, 1e9, 1e9 - 1e-6, 123456.7, 5e-324} {
		check(f)
	}
}
