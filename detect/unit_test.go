package detect

import (
	"net/netip"
	"testing"
	"time"

	"github.com/medtap/medtap/parsers/dicom"
	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/tls"
	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/flow"
)

var t0 = time.Date(2026, 1, 5, 2, 0, 0, 0, time.UTC)

func testFlow(i int) *parser.Flow {
	return &parser.Flow{Proto: 6,
		Client:      netip.AddrPortFrom(netip.MustParseAddr("10.1.0.5"), uint16(40000+i%20000)),
		Server:      netip.AddrPortFrom(netip.MustParseAddr("10.2.0.9"), 104),
		CommunityID: "1:test"}
}

// TestEncryptedFlowDropsClearTextFindings: patient data seen on a flow whose
// record says the parser found it encrypted gives no alert; the same
// events on a clear flow do.
func TestEncryptedFlowDropsClearTextFindings(t *testing.T) {
	for _, enc := range []bool{false, true} {
		c := &collect{}
		e, err := New(nil, Options{AlertSink: c, Key: testKey})
		if err != nil {
			t.Fatal(err)
		}
		f := testFlow(1)
		d := &dicom.DIMSE{Command: "C-STORE", RequestDirection: "to_server", PHICategories: []string{"name"}, PHITags: []string{"(0010,0010)"},
			PHI: []dicom.PHIValue{{Tag: 0x00100010, Category: "name", Value: "SYNTH^ONE"}}}
		e.Write([]*event.Event{
			{TS: t0, Flow: f, Body: d},
			{TS: t0, Flow: f, Body: &flow.Record{AppProto: "tls", Encrypted: enc, EncryptionBasis: "parser"}},
		})
		e.Close()
		if want := map[bool]int{false: 1, true: 0}[enc]; len(c.evs) != want {
			t.Errorf("encrypted=%v: %d alerts, want %d", enc, len(c.evs), want)
		}
	}
}

// TestOpenFlowsFlushedAtCloseAndListCompacted: alerts of flows without an
// end record come out at Close; finished flows leave the bookkeeping.
func TestOpenFlowsFlushedAtCloseAndListCompacted(t *testing.T) {
	c := &collect{}
	e, err := New(nil, Options{AlertSink: c, Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5000; i++ {
		f := testFlow(i)
		evs := []*event.Event{{TS: t0.Add(time.Duration(i) * time.Millisecond), Flow: f, Body: &tls.Handshake{Version: "TLSv1.2", Encrypted: true}}}
		if i < 4999 {
			evs = append(evs, &event.Event{TS: t0, Flow: f, Body: &flow.Record{AppProto: "tls", Encrypted: true, EncryptionBasis: "parser"}})
		}
		if err := e.Write(evs); err != nil {
			t.Fatal(err)
		}
	}
	if len(e.open) > 2100 || len(e.flows) != 1 {
		t.Errorf("open list %d, flows %d", len(e.open), len(e.flows))
	}
	f := testFlow(9999)
	e.Write([]*event.Event{{TS: t0, Flow: f, Body: &tls.Handshake{Version: "TLSv1.0", Encrypted: true}}})
	n := len(c.evs)
	e.Close()
	if len(c.evs) != n+1 {
		t.Errorf("Close emitted %d alerts, want 1", len(c.evs)-n)
	}
}
