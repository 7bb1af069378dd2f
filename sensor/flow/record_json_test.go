package flow

import (
	"math"
	"testing"

	"github.com/medtap/medtap/parsers/parser/jsontest"
	"github.com/medtap/medtap/sensor/event"
)

var _ event.Appender = (*Record)(nil)

func TestRecordJSON(t *testing.T) {
	for _, r := range []Record{
		{},
		{AppProto: "hl7", Start: "2024-03-04T08:00:00.000012000Z", End: "2024-03-04T08:00:01.5Z", Duration: 1.499988,
			PktsToServer: 12, PktsToClient: 10, BytesToServer: 9000, BytesToClient: 800, PayloadToServer: 8200, PayloadToClient: 120,
			TCPFlagsTS: "SAPF", TCPFlagsTC: "SAPF", State: "closed", CloseReason: "fin", EncryptionBasis: "protocol"},
		{AppProto: "unknown", Duration: 0.000001, MissedToServer: 1448, MissedToClient: math.MaxUint64, State: "established",
			CloseReason: "timeout", Encrypted: true, EncryptionBasis: "entropy", Entropy: 7.998123456789},
		{AppProto: `<"odd"\&>`, Start: "\x00\xff\u2028", Duration: 1e21, Entropy: 1e-7, State: "x"},
		{Duration: 123456.789, Entropy: 0.1 + 0.2},
	} {
		jsontest.SameAsMarshal(t, &r)
	}
}

// FuzzRecordJSON compares AppendJSON with encoding/json on any values.
func FuzzRecordJSON(f *testing.F) {
	f.Add("tls", "2024-03-04T08:00:00.000012000Z", "S", 1.5, 7.9, uint64(3), uint64(0), true)
	f.Add("", "<&>\xff", "", 0.0, 0.0, uint64(0), uint64(math.MaxUint64), false)
	f.Fuzz(func(t *testing.T, proto, ts, flags string, dur, entropy float64, n, missed uint64, enc bool) {
		if math.IsNaN(dur) || math.IsInf(dur, 0) || math.IsNaN(entropy) || math.IsInf(entropy, 0) {
			return // encoding/json refuses them; records never hold them
		}
		r := Record{AppProto: proto, Start: ts, End: ts, Duration: dur, PktsToServer: n, PktsToClient: n >> 3,
			BytesToServer: n * 7, BytesToClient: missed, PayloadToServer: n, PayloadToClient: missed >> 1,
			MissedToServer: missed, MissedToClient: n & 1, TCPFlagsTS: flags, TCPFlagsTC: proto,
			State: flags, CloseReason: ts, Encrypted: enc, EncryptionBasis: proto, Entropy: entropy}
		jsontest.SameAsMarshal(t, &r)
	})
}
