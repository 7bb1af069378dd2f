package astm

import (
	"math/rand/v2"
	"testing"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/parser/jsontest"
	"github.com/medtap/medtap/parsers/parsertest"
	"github.com/medtap/medtap/sensor/event"
)

// The pipeline encodes Messages with AppendJSON, not reflection.
var _ event.Appender = (*Message)(nil)

// compareJSON fails unless AppendJSON gives exactly encoding/json's bytes.
func compareJSON(t testing.TB, body parser.Body) {
	t.Helper()
	m, ok := body.(*Message)
	if !ok {
		return
	}
	jsontest.SameAsMarshal(t, m)
}

// TestAppendJSONCases checks AppendJSON on every event of the golden cases.
func TestAppendJSONCases(t *testing.T) {
	n := 0
	for _, tc := range cases() {
		for _, e := range parsertest.Replay(Factory, tc.c, parsertest.Whole, nil).Events {
			compareJSON(t, e.Body)
			n++
		}
	}
	if n == 0 {
		t.Fatal("no events")
	}
}

// TestAppendJSONRandom compares AppendJSON with encoding/json on random
// Messages: every field set or not, strings with every byte value.
func TestAppendJSONRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	str := func() string {
		if r.IntN(2) == 0 {
			return ""
		}
		if r.IntN(3) == 0 {
			return []string{"<&>", "\x00\x1f\u2028", "\xff", "李四", `"\`}[r.IntN(5)]
		}
		b := make([]byte, r.IntN(10))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return string(b)
	}
	num := func() int {
		if r.IntN(2) == 0 {
			return 0
		}
		return r.IntN(1 << 20)
	}
	strs := func() []string {
		switch r.IntN(3) {
		case 0:
			return nil
		case 1:
			return []string{}
		}
		return []string{str(), str()}
	}
	for range 20000 {
		m := &Message{
			Direction: str(), Framing: str(), Sender: str(), Receiver: str(), ProcessingID: str(), Version: str(),
			PasswordPresent: r.IntN(2) == 0,
			Records:         RecordCounts{H: num(), P: num(), O: num(), R: num(), C: num(), Q: num(), L: num(), M: num(), S: num(), Other: num()},
			TerminationCode: str(), Frames: num(), ChecksumErrors: num(), Retransmissions: num(), NAKs: num(),
			Bytes: int64(num()), Truncated: r.IntN(2) == 0, PHICategories: strs(), PHIFields: strs(),
			PHI: []PHIValue{{Field: "P-6", Category: "name", Value: "SECRET"}},
		}
		compareJSON(t, m)
	}
}
