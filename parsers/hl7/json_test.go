package hl7

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/parser/jsontest"
	"github.com/medtap/medtap/parsers/parsertest"
	"github.com/medtap/medtap/sensor/event"
)

// The pipeline encodes Messages with AppendJSON, not reflection.
var _ event.Appender = (*Message)(nil)

// checkAppendJSON fails unless every Message event encodes with AppendJSON
// exactly as encoding/json marshals it.
func checkAppendJSON(t testing.TB, rec *parsertest.Recorder) {
	t.Helper()
	for _, e := range rec.Events {
		if m, ok := e.Body.(*Message); ok {
			jsontest.SameAsMarshal(t, m)
		}
	}
}

// jsonStrings are strings encoding/json escapes in its own ways.
var jsonStrings = []string{
	"", "a", "plain ASCII 123", `quote " backslash \ slash /`, "<script>&amp;</script>",
	"\x00\x01\x07\b\t\n\v\f\r\x1b\x1f\x7f", "王小明", "Müller", "\xff\xfe bad \xc3", "\xe2\x80", "line\u2028para\u2029",
	"\U0001F600 emoji", "\ufffd", "tab\tend\n",
}

func randString(r *rand.Rand) string {
	if r.IntN(3) == 0 {
		return jsonStrings[r.IntN(len(jsonStrings))]
	}
	b := make([]byte, r.IntN(12))
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return string(b)
}

func randStrings(r *rand.Rand) []string {
	switch r.IntN(4) {
	case 0:
		return nil
	case 1:
		return []string{}
	}
	l := make([]string, 1+r.IntN(4))
	for i := range l {
		l[i] = randString(r)
	}
	return l
}

// randMessage fills every field of a Message, each empty, zero or nil
// about half of the time.
func randMessage(r *rand.Rand) *Message {
	s := func() string {
		if r.IntN(2) == 0 {
			return ""
		}
		return randString(r)
	}
	b := func() bool { return r.IntN(2) == 0 }
	n := func() int {
		if b() {
			return 0
		}
		return r.IntN(100000) - 1000
	}
	m := &Message{
		Direction: s(), Framing: s(), Batch: b(), MessageType: s(), TriggerEvent: s(), MessageStructure: s(),
		ControlID: s(), ProcessingID: s(), Version: s(), SendingApplication: s(), SendingFacility: s(),
		ReceivingApplication: s(), ReceivingFacility: s(), AcceptAckType: s(), AppAckType: s(), Charset: s(),
		Segments: randStrings(r), SegmentCount: n(), Bytes: int64(n()) << r.IntN(30), Truncated: b(),
		AckCode: s(), CommitAckCode: s(), ErrorSegments: n(), Unanswered: b(), UnsolicitedAck: b(),
		AckedControlID: s(), PHICategories: randStrings(r), PHIFields: randStrings(r), EquipmentIDs: randStrings(r),
		PHI: []PHIValue{{Field: "PID-5", Category: CatName, Value: "SECRET"}},
	}
	if b() {
		floats := []float64{0, 1, -1, 0.5, 1e-7, 1.5e-6, 1e-6, 123456.789, 1e20, 1e21, 3.4e38, 5e-324, math.MaxFloat64, 0.1 + 0.2}
		f := floats[r.IntN(len(floats))]
		if b() {
			f = r.NormFloat64() * math.Pow(10, float64(r.IntN(50)-25))
		}
		m.AckLatency = &f
	}
	for range r.IntN(3) {
		m.Software = append(m.Software, Software{Vendor: s(), Version: s(), Product: s(), BinaryID: s()})
	}
	if b() {
		m.Software = []Software{}
	}
	for range r.IntN(3) {
		m.UDI = append(m.UDI, Device{ID: s(), DeviceID: s(), ManufactureDate: s(), ExpiryDate: s(), Lot: s(), Serial: s(), Donation: s(), Type: s()})
	}
	return m
}

// TestAppendJSONRandom compares AppendJSON with encoding/json on random
// Messages: every field set or not, strings with every byte value.
func TestAppendJSONRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for range 20000 {
		jsontest.SameAsMarshal(t, randMessage(r))
	}
	for c := 0; c < 256; c++ {
		jsontest.SameAsMarshal(t, &Message{Direction: string([]byte{byte(c)}), Framing: "x" + string([]byte{byte(c)}) + "y"})
	}
	for c := rune(0); c < 0x3000; c++ {
		jsontest.SameAsMarshal(t, &Message{Direction: string(c)})
	}
}

// FuzzAppendJSON builds Messages from arbitrary bytes.
func FuzzAppendJSON(f *testing.F) {
	for _, s := range jsonStrings {
		f.Add([]byte(s), uint64(0x5555), 1.5)
	}
	f.Fuzz(func(t *testing.T, data []byte, flags uint64, lat float64) {
		r := rand.New(rand.NewPCG(flags, uint64(len(data))))
		m := randMessage(r)
		str := string(data)
		m.ControlID, m.Segments, m.Software = str, []string{str, str[:len(str)/2]}, []Software{{Product: str}}
		if flags&1 != 0 && !math.IsNaN(lat) && !math.IsInf(lat, 0) {
			m.AckLatency = &lat
		}
		jsontest.SameAsMarshal(t, m)
	})
}

func TestAppendJSONNoAlloc(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	m := randMessage(r)
	buf := make([]byte, 0, 1<<16)
	if n := testing.AllocsPerRun(100, func() { buf = m.AppendJSON(buf[:0]) }); n != 0 {
		t.Errorf("AppendJSON allocates %v times", n)
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	msgs, acks := benchConversation(64)
	var chunks [][]byte
	for i := range msgs {
		chunks = append(chunks, msgs[i], acks[i])
	}
	var events []*Message
	for _, e := range parsertest.Replay(Factory, conv(chunks...), parsertest.Whole, nil).Events {
		events = append(events, e.Body.(*Message))
	}
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 4096)
		for b.Loop() {
			for _, m := range events {
				buf = m.AppendJSON(buf[:0])
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(events)), "ns/event")
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, m := range events {
				if _, err := json.Marshal(m); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(events)), "ns/event")
	})
}

// TestJSONPlain checks the word-at-a-time test for strings written as they
// are against its definition, for every byte at every place of strings up
// to three words long.
func TestJSONPlain(t *testing.T) {
	plain := func(c byte) bool {
		return c >= 0x20 && c < 0x80 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	for n := 1; n <= 24; n++ {
		for at := 0; at < n; at++ {
			for c := 0; c < 256; c++ {
				b := bytes.Repeat([]byte{'a'}, n)
				b[at] = byte(c)
				if got := jsonPlain(string(b)); got != plain(byte(c)) {
					t.Fatalf("jsonPlain(%q) = %v", b, got)
				}
			}
		}
	}
	if !jsonPlain("") {
		t.Error(`jsonPlain("") = false`)
	}
}

// TestAppendQuoted checks appendQuoted against parser.AppendJSONString
// after its key, for every byte at every place of values up to three
// words long and keys of every length, into buffers with and without
// room.
func TestAppendQuoted(t *testing.T) {
	for kn := 1; kn <= 40; kn++ {
		key := strings.Repeat("k", kn-1) + `"`
		for n := 0; n <= 24; n++ {
			for at := 0; at < max(n, 1); at++ {
				for c := 0; c < 256; c += 1 + 6*(kn%3) {
					b := bytes.Repeat([]byte{'a'}, n)
					if n > 0 {
						b[at] = byte(c)
					}
					v := string(b)
					for _, dst := range [][]byte{nil, make([]byte, 3, 64)} {
						want := parser.AppendJSONString(append(slices.Clone(dst), key[:kn-1]...), v)
						if got := appendQuoted(slices.Clone(dst), key, v); !bytes.Equal(got, want) {
							t.Fatalf("appendQuoted(%q, %q) = %q, want %q", key, v, got, want)
						}
					}
				}
			}
		}
	}
}

// TestSharedListJSON checks that AppendJSON writes a Message's lists, not
// the encodings of the shared lists it was built with, once they are
// replaced.
func TestSharedListJSON(t *testing.T) {
	msgs, acks := benchConversation(8)
	var chunks [][]byte
	for i := range msgs {
		chunks = append(chunks, msgs[i], acks[i])
	}
	for _, e := range parsertest.Replay(Factory, conv(chunks...), parsertest.Whole, nil).Events {
		m := e.Body.(*Message)
		if m.segmentsJSON == nil || m.phiFieldsJSON == nil || m.phiCategoriesJSON == nil {
			t.Fatalf("event %s without shared list encodings", m.ControlID)
		}
		m.Segments = append([]string{"ZZ<"}, m.Segments[1:]...)
		m.PHIFields = m.PHIFields[:len(m.PHIFields)-1]
		m.PHICategories = slices.Clone(m.PHICategories)
		m.PHICategories[0] = "other"
		jsontest.SameAsMarshal(t, m)
	}
}
