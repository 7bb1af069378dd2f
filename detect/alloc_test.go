package detect

import (
	"testing"
	"time"

	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/flow"
)

// TestFlowRecordAllocFree: the record of a flow between known hosts, on a
// known service, that raises nothing costs no allocation.
func TestFlowRecordAllocFree(t *testing.T) {
	e, err := New(nil, Options{Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	f := testFlow(1)
	t0 := time.Unix(1_700_000_000, 0)
	rec := &flow.Record{AppProto: "dicom", PktsToServer: 10, PktsToClient: 8, BytesToServer: 5000, BytesToClient: 900,
		Duration: 1.5, End: formatEventTime(t0.Add(1500 * time.Millisecond))}
	evs := []*event.Event{{TS: t0, Flow: f, Body: rec}}
	for range 2 {
		if err := e.Write(evs); err != nil {
			t.Fatal(err)
		}
	}
	if n := testing.AllocsPerRun(200, func() {
		evs[0].TS = evs[0].TS.Add(time.Second)
		if err := e.Write(evs); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("a known flow's record costs %v allocations", n)
	}
	if s := e.Stats(); s.Events != 203 || len(s.Alerts) != 0 {
		t.Errorf("stats %+v", s)
	}
}

// TestPHIRank: phiRank grades as the NMPA list does, and its ranks are
// policy.Severities indices.
func TestPHIRank(t *testing.T) {
	for _, tc := range []struct {
		cats []string
		want string
	}{
		{nil, ""},
		{[]string{"staff_name"}, "low"},
		{[]string{"sex"}, "medium"},
		{[]string{"staff_name", "sex"}, "medium"},
		{[]string{"sex", "name"}, "high"},
		{[]string{"name", "id_number", "sex"}, "critical"},
		{[]string{"birth_date", "bank_card"}, "critical"},
		{[]string{"insurance"}, "critical"},
	} {
		if got := phiSeverity(tc.cats); got != tc.want {
			t.Errorf("phiSeverity(%q) = %q, want %q", tc.cats, got, tc.want)
		}
	}
}
