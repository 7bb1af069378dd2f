package dicom

import (
	"encoding/json"
	"math"
	"math/rand"
	"reflect"
	"testing"

	"github.com/medtap/medtap/parsers/parser/jsontest"
	"github.com/medtap/medtap/sensor/event"
)

var (
	_ event.Appender = (*Association)(nil)
	_ event.Appender = (*DIMSE)(nil)
)

// TestAppendJSONMatchesMarshal checks AppendJSON against encoding/json on
// every event of every capture (the golden inputs).
func TestAppendJSONMatchesMarshal(t *testing.T) {
	n := 0
	for _, name := range captures {
		rec, _ := replayCapture(t, name)
		for _, e := range rec.Events {
			if a, ok := e.Body.(event.Appender); ok {
				jsontest.SameAsMarshal(t, a)
				n++
			}
		}
	}
	if n < 50 {
		t.Errorf("only %d events compared", n)
	}
}

// TestAppendJSONRandom fills every field of the bodies with random values
// (nil and empty ones, strings needing escapes, floats of every magnitude),
// so a field added to the structs but not to AppendJSON fails here.
func TestAppendJSONRandom(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 3000; i++ {
		var a Association
		fill(r, reflect.ValueOf(&a).Elem(), 0)
		jsontest.SameAsMarshal(t, &a)
		var d DIMSE
		fill(r, reflect.ValueOf(&d).Elem(), 0)
		jsontest.SameAsMarshal(t, &d)
	}
}

var randStrings = []string{
	"", "x", "MODALITY1", "1.2.840.10008.1.2.1", "a\"b\\c", "<script>&amp;", "line\nbreak\ttab\r\b\f",
	"\x00\x01\x1f\x7f", "张^三", "Buc^Jérôme", "\u2028\u2029", "bad\xff\xfeutf8", "\xe2\x82", "emoji 😀",
}

func fill(r *rand.Rand, v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(randStrings[r.Intn(len(randStrings))])
	case reflect.Bool:
		v.SetBool(r.Intn(2) == 0)
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		switch r.Intn(3) {
		case 0:
			v.SetUint(0)
		case 1:
			v.SetUint(uint64(r.Intn(300)))
		default:
			v.SetUint(r.Uint64() >> (64 - v.Type().Bits()))
		}
	case reflect.Int, reflect.Int64:
		switch r.Intn(3) {
		case 0:
			v.SetInt(0)
		case 1:
			v.SetInt(int64(r.Intn(2000) - 1000))
		default:
			v.SetInt(r.Int63() - r.Int63())
		}
	case reflect.Float64:
		f := []float64{0, 0.047922, 1e-7, 123456.789, 1e21, 3e-9, -2.5, 1e20, 0.000001, math.SmallestNonzeroFloat64}[r.Intn(10)]
		if r.Intn(3) == 0 {
			f = r.NormFloat64() * math.Pow(10, float64(r.Intn(40)-20))
		}
		v.SetFloat(f)
	case reflect.Pointer:
		if r.Intn(3) == 0 || depth > 3 {
			v.SetZero()
			return
		}
		p := reflect.New(v.Type().Elem())
		fill(r, p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		switch r.Intn(4) {
		case 0:
			v.SetZero()
			return
		case 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
			return
		}
		n := 1 + r.Intn(4)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := 0; i < n; i++ {
			fill(r, s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Map:
		if r.Intn(3) == 0 {
			v.SetZero()
			return
		}
		m := reflect.MakeMap(v.Type())
		for i := r.Intn(5); i > 0; i-- {
			k := reflect.New(v.Type().Key()).Elem()
			fill(r, k, depth+1)
			e := reflect.New(v.Type().Elem()).Elem()
			fill(r, e, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(r, v.Field(i), depth+1)
			}
		}
	}
}

// realEvents gives a typical association and transaction: the C-STORE
// conversation of dicom-store.pcap.
func realEvents(t testing.TB) (*Association, *DIMSE) {
	rec, _ := replayCapture(t, "dicom-store.pcap")
	var a *Association
	var d *DIMSE
	for _, e := range rec.Events {
		switch b := e.Body.(type) {
		case *Association:
			a = b
		case *DIMSE:
			d = b
		}
	}
	if a == nil || d == nil {
		t.Fatal("no events")
	}
	return a, d
}

func TestAppendJSONAllocs(t *testing.T) {
	a, d := realEvents(t)
	buf := make([]byte, 0, 64<<10)
	if n := testing.AllocsPerRun(100, func() { buf = a.AppendJSON(buf[:0]) }); n != 0 {
		t.Errorf("Association.AppendJSON: %v allocations", n)
	}
	if n := testing.AllocsPerRun(100, func() { buf = d.AppendJSON(buf[:0]) }); n != 0 {
		t.Errorf("DIMSE.AppendJSON: %v allocations", n)
	}
}

// BenchmarkEncode compares AppendJSON with encoding/json on the events of
// dicom-store.pcap (an association proposing 128 contexts, a C-STORE).
func BenchmarkEncode(b *testing.B) {
	a, d := realEvents(b)
	for _, c := range []struct {
		name string
		body event.Appender
	}{{"association", a}, {"dimse", d}} {
		buf := make([]byte, 0, 64<<10)
		b.Run(c.name+"/AppendJSON", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				buf = c.body.AppendJSON(buf[:0])
			}
			b.SetBytes(int64(len(buf)))
		})
		b.Run(c.name+"/json.Marshal", func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for i := 0; i < b.N; i++ {
				j, _ := json.Marshal(c.body)
				n = len(j)
			}
			b.SetBytes(int64(n))
		})
	}
}
