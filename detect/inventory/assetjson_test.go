package inventory

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"testing"
	"time"

	"github.com/medtap/medtap/parsers/parser/jsontest"
)

// fillValue sets every field reachable from v to a value that is not zero
// (k varies them): strings that need escaping, times with and without
// fractions and in other zones, two-element lists, non-nil pointers. A
// field missing from AppendAssetsJSON then shows up as a difference.
func fillValue(v reflect.Value, k *int) {
	*k++
	n := *k
	switch v.Kind() {
	case reflect.String:
		strs := []string{"plain", `quote " and \ backslash`, "<tag> & amp", "line\nbreak\ttab\x01\x1f", "中文 名字", "bad \xff utf-8", "sep \u2028 \u2029", "CT^HEAD"}
		v.SetString(strs[n%len(strs)])
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(n * 7))
	case reflect.Uint16, reflect.Uint64:
		v.SetUint(uint64(n * 13))
	case reflect.Float64:
		v.SetFloat(float64(n) / 8)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fillValue(p.Elem(), k)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fillValue(s.Index(i), k)
		}
		v.Set(s)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			zones := []*time.Location{time.UTC, time.FixedZone("CST", 8*3600), time.FixedZone("", -5*3600-30*60)}
			t := time.Date(2020+n%5, time.Month(1+n%12), 1+n%28, n%24, n%60, n%60, []int{0, 5e8, 123456789, 1000}[n%4], zones[n%len(zones)])
			v.Set(reflect.ValueOf(t))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillValue(v.Field(i), k)
			}
		}
	default:
		panic("fillValue: no case for " + v.Type().String())
	}
}

func TestAssetsJSONSameAsEncodingJSON(t *testing.T) {
	k := 0
	full := make([]Asset, 3)
	for i := range full {
		fillValue(reflect.ValueOf(&full[i]).Elem(), &k)
	}
	// Empty lists that are not nil: omitted where omitempty, "[]" where not.
	sparse := Asset{ID: "a", IPs: []IPSeen{}, VLANs: []uint16{}, Peers: []Peer{}, Risk: Risk{Contradicted: []string{}}}
	sparse.Medical.AETitles = []AETitle{{Title: "T", Roles: []string{}}}
	cases := map[string][]Asset{
		"filled":      full,
		"zero":        {{}},
		"empty lists": {sparse},
		"one of each": {full[0], {}, sparse, full[1]},
		"over a buffer": func() []Asset {
			l := make([]Asset, 100) // some 400 KB, past assetsWriteBuffer
			for i := range l {
				fillValue(reflect.ValueOf(&l[i]).Elem(), &k)
			}
			return l
		}(),
		"empty":        {},
		"nil elements": {{IPs: []IPSeen{{}}, Medical: Medical{AETitles: []AETitle{{}}}}},
	}
	for name, list := range cases {
		want, err := json.MarshalIndent(list, "", "  ")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want = append(want, '\n')
		var out bytes.Buffer
		if err := WriteAssetsJSON(&out, list); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		jsontest.SameBytes(t, name, out.Bytes(), want)
	}
	var out bytes.Buffer
	if err := WriteAssetsJSON(&out, nil); err != nil || out.String() != "[]\n" {
		t.Errorf("nil list: %q, %v; want []", out.String(), err)
	}
}

func TestAssetsJSONTimeOutOfRange(t *testing.T) {
	for name, ts := range map[string]time.Time{
		"year 10000":     time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		"year -1":        time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		"offset 25h":     time.Date(2024, 1, 1, 0, 0, 0, 0, time.FixedZone("", 25*3600)),
		"offset -24h":    time.Date(2024, 1, 1, 0, 0, 0, 0, time.FixedZone("", -24*3600)),
		"in a peer list": {},
	} {
		list := []Asset{{FirstSeen: ts}}
		if name == "in a peer list" {
			list = []Asset{{Peers: []Peer{{LastSeen: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}}}
		}
		if _, err := json.Marshal(list); err == nil {
			t.Fatalf("%s: encoding/json accepts it; the test's premise is wrong", name)
		}
		if err := WriteAssetsJSON(io.Discard, list); err == nil {
			t.Errorf("%s: no error, want one as encoding/json gives", name)
		}
	}
}

func BenchmarkAssetsJSON(b *testing.B) {
	k := 0
	list := make([]Asset, 200)
	for i := range list {
		fillValue(reflect.ValueOf(&list[i]).Elem(), &k)
	}
	ref, _ := json.MarshalIndent(list, "", "  ")
	b.SetBytes(int64(len(ref)))
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteAssetsJSON(io.Discard, list); err != nil {
			b.Fatal(err)
		}
	}
}
