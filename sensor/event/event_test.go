package event

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/medtap/medtap/parsers/parser"
)

func TestEnvelope(t *testing.T) {
	fl := &parser.Flow{Proto: 6, Client: netip.MustParseAddrPort("[2001:db8::1]:40000"), Server: netip.MustParseAddrPort("[2001:db8::2]:104"), VLAN: 12, CommunityID: "1:abc="}
	e := &Event{TS: time.Unix(1700000000, 5), Flow: fl, Sensor: "ward-3", Body: &parser.Anomaly{Source: "tcp", Code: "stream_buffer_limit", Limit: 9}}
	b, err := e.AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"ts":"2023-11-14T22:13:20.000000005Z","event_type":"anomaly","src_ip":"2001:db8::1","src_port":40000,"dest_ip":"2001:db8::2","dest_port":104,"proto":"tcp","vlan":12,"community_id":"1:abc=","sensor":"ward-3","anomaly":{"source":"tcp","code":"stream_buffer_limit","limit":9}}`
	if string(b) != want {
		t.Fatalf("got\n%s\nwant\n%s", b, want)
	}
	var env Envelope
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatal(err)
	}
	wantEnv := Envelope{TS: "2023-11-14T22:13:20.000000005Z", EventType: "anomaly", SrcIP: "2001:db8::1", SrcPort: 40000,
		DestIP: "2001:db8::2", DestPort: 104, Proto: "tcp", VLAN: 12, CommunityID: "1:abc=", Sensor: "ward-3"}
	if env != wantEnv {
		t.Errorf("Envelope reads back %+v, want %+v", env, wantEnv)
	}
	// Untagged flows and events without a flow leave those fields out.
	fl.VLAN = 0
	e2 := &Event{TS: time.Unix(0, 0), Body: &parser.Anomaly{Source: "decode", Code: "x"}}
	b2, _ := e2.AppendJSON(nil)
	if strings.Contains(string(b2), "src_ip") || strings.Contains(string(b2), "sensor") {
		t.Errorf("flowless event: %s", b2)
	}
	b3, _ := e.AppendJSON(nil)
	if strings.Contains(string(b3), "vlan") {
		t.Errorf("untagged flow has vlan: %s", b3)
	}
}

func TestKeyOrder(t *testing.T) {
	ks := []Key{{1, 0, 0}, {1, 0, 1}, {1, 2, 0}, {2, 0, 0}}
	for i := 1; i < len(ks); i++ {
		if !ks[i-1].Less(ks[i]) || ks[i].Less(ks[i-1]) {
			t.Errorf("%v should sort before %v", ks[i-1], ks[i])
		}
	}
}

func TestAppendTime(t *testing.T) {
	for _, tc := range []time.Time{
		time.Date(2024, 3, 4, 8, 0, 0, 22000, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("x", 8*3600)),
		time.Unix(0, 0),
		time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC),
		{},
	} {
		if got, want := string(AppendTime([]byte("x"), tc)), "x"+tc.UTC().Format(TimeLayout); got != want {
			t.Errorf("AppendTime(%v) = %s, want %s", tc, got, want)
		}
	}
}
