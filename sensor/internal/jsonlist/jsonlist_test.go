package jsonlist

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

type item struct {
	Name   string            `json:"name"`
	Tags   []string          `json:"tags"`
	Empty  []int             `json:"empty"`
	Obj    map[string]any    `json:"obj,omitempty"`
	None   struct{}          `json:"none"`
	Nested []map[string]bool `json:"nested,omitempty"`
	N      float64           `json:"n"`
	Raw    json.RawMessage   `json:"raw,omitempty"`
}

func sameAsEncodingJSON[T any](t *testing.T, list []T) {
	t.Helper()
	got, err := MarshalIndent(list)
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) == 0 {
		want = []byte("[]") // a nil list too: never null
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("differs from encoding/json:\n got %q\nwant %q", got, want)
	}
}

func TestSameAsEncodingJSON(t *testing.T) {
	tricky := []string{
		`quote " inside`, `back\slash`, `ends with backslash \`, `\"`, `{"not":["json"]}`,
		"tab\tnewline\ncontrol\x01", `<html> & ampersand`, "中文 \u2028 separators", `,:[]{}`, "",
	}
	var items []item
	for i, s := range tricky {
		items = append(items, item{
			Name: s, Tags: []string{s, "b"}, Empty: []int{}, N: float64(i) / 3,
			Obj:    map[string]any{s: []any{1, "x", nil, map[string]any{}}, "k": map[string]any{"deep": []any{[]any{}}}},
			Nested: []map[string]bool{{s: true}, {}},
			Raw:    json.RawMessage(`{"a": [1, 2]}`), // spaces in raw JSON are compacted by encoding/json
		})
	}
	for _, n := range []int{0, 1, 2, 3, 5, len(items)} {
		t.Run(fmt.Sprint(n), func(t *testing.T) { sameAsEncodingJSON(t, items[:n]) })
	}
	t.Run("nil", func(t *testing.T) { sameAsEncodingJSON[item](t, nil) })
	t.Run("scalars", func(t *testing.T) { sameAsEncodingJSON(t, []any{1, "a", nil, true, []int{}, map[string]int{}}) })
	// Enough elements for several parts, cut at every count around a
	// part's size.
	var many []item
	for i := range 5*minPerPart + 3 {
		many = append(many, item{Name: strings.Repeat("x", i%7), Tags: tricky[i%len(tricky):], N: float64(i)})
	}
	for _, n := range []int{minPerPart - 1, minPerPart, minPerPart + 1, 2*minPerPart + 1, len(many)} {
		t.Run(fmt.Sprint("many", n), func(t *testing.T) { sameAsEncodingJSON(t, many[:n]) })
	}
}

// FuzzIndent checks the indentation of any JSON value against json.Indent.
func FuzzIndent(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `{"a":[1,{"b":""}],"c":"\"\\"}`, `"x"`, `[[],[{}],{"k":[]}]`, `{"a\\":"b\"c","d":"\u0001"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var v any
		if json.Unmarshal([]byte(s), &v) != nil {
			return
		}
		compact, err := json.Marshal(v)
		if err != nil {
			return
		}
		var want bytes.Buffer
		if err := json.Indent(&want, compact, "  ", "  "); err != nil {
			t.Fatal(err)
		}
		if got := appendIndented(nil, compact, 1); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("%s:\n got %q\nwant %q", compact, got, want.Bytes())
		}
	})
}

func BenchmarkMarshalIndent(b *testing.B) {
	list := make([]item, 4000)
	for i := range list {
		list[i] = item{Name: fmt.Sprint("asset ", i), Tags: []string{"a", "bb", "ccc"}, Obj: map[string]any{"ip": "10.0.0.1", "ports": []int{104, 2575}}, N: float64(i)}
	}
	want, _ := json.MarshalIndent(list, "", "  ")
	b.SetBytes(int64(len(want)))
	b.Run("jsonlist", func(b *testing.B) {
		b.SetBytes(int64(len(want)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := MarshalIndent(list); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.SetBytes(int64(len(want)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.MarshalIndent(list, "", "  "); err != nil {
				b.Fatal(err)
			}
		}
	})
}
