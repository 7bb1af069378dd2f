package decode_test

import (
	"path/filepath"
	"testing"

	"github.com/medtap/medtap/sensor/capture"
	"github.com/medtap/medtap/sensor/decode"
)

// TestFlowHashMatchesDecodedHash checks the dispatcher's raw-header hash
// against the decoded packet's on every frame of the bundled captures and of
// the link-type table above: a mismatch would split a flow across workers.
func TestFlowHashMatchesDecodedHash(t *testing.T) {
	files, _ := filepath.Glob("../../pcaps/*.pcap*")
	d := decode.New(decode.DefaultDefragLimits)
	var p decode.Packet
	checked := 0
	for _, f := range files {
		r, err := capture.Open(f)
		if err != nil {
			continue
		}
		for {
			pk, err := r.Next()
			if err != nil {
				break
			}
			h, ok := decode.FlowHash(pk.Data, pk.Link)
			if !ok {
				continue
			}
			if d.Decode(pk.Data, pk.Link, pk.TS, pk.WireLen, &p) != decode.OK {
				continue
			}
			if want := decode.HashPacket(&p); h != want {
				t.Fatalf("%s: raw hash %08x, decoded %08x", f, h, want)
			}
			checked++
		}
		r.Close()
	}
	if checked == 0 {
		t.Fatal("no frames checked")
	}
}
