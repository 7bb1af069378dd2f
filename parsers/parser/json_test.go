package parser

import (
	"encoding/json"
	"testing"
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
