package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/medtap/medtap/detect"
	"github.com/medtap/medtap/detect/inventory"
	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/natsink"
	"github.com/medtap/medtap/sensor/natsink/natstest"
)

var t0 = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)

func asset(id, ip string, port uint16, bytes uint64, at time.Duration) inventory.Asset {
	ts := t0.Add(at)
	return inventory.Asset{ID: id, IP: ip, IPs: []inventory.IPSeen{{IP: ip, Source: "traffic", FirstSeen: ts, LastSeen: ts}},
		FirstSeen: ts, LastSeen: ts, Class: inventory.ClassUnknown,
		Services: []inventory.Service{{Port: port, Transport: "tcp", AppProto: "dicom", Flows: 1, Bytes: bytes, FirstSeen: ts, LastSeen: ts}},
		Bytes:    inventory.ByCategory{SensitiveMedical: bytes}}
}

func TestJoinAssetLaws(t *testing.T) {
	a := asset("x", "10.0.0.1", 104, 100, 0)
	a.Medical.AETitles = []inventory.AETitle{{Title: "CT1", Roles: []string{"scu"}}}
	b := asset("x", "10.0.0.1", 11112, 50, time.Hour)
	b.Class = inventory.ClassImagingModality
	b.Medical.AETitles = []inventory.AETitle{{Title: "CT1", Roles: []string{"storage_scu"}}, {Title: "CT2"}}
	b.Risk.OpenAlerts.High = 2
	c := asset("x", "10.0.0.9", 104, 300, 2*time.Hour)

	ab := JoinAsset(JoinAsset(inventory.Asset{}, a, "A"), b, "B")
	ba := JoinAsset(JoinAsset(inventory.Asset{}, b, "B"), a, "A")
	if !reflect.DeepEqual(ab, ba) {
		t.Errorf("not commutative:\n%+v\n%+v", ab, ba)
	}
	if again := JoinAsset(ab, b, "B"); !reflect.DeepEqual(again, ab) {
		t.Errorf("not idempotent:\n%+v\n%+v", again, ab)
	}
	abc1 := JoinAsset(ab, c, "C")
	abc2 := JoinAsset(JoinAsset(JoinAsset(inventory.Asset{}, c, "C"), a, "A"), b, "B")
	if !reflect.DeepEqual(abc1, abc2) {
		t.Errorf("not associative:\n%+v\n%+v", abc1, abc2)
	}
	j := abc1
	if j.IP != "10.0.0.9" || len(j.IPs) != 2 || len(j.Services) != 2 || j.Class != inventory.ClassImagingModality ||
		j.Bytes.SensitiveMedical != 300 || j.Risk.OpenAlerts.High != 2 || !reflect.DeepEqual(j.Sensors, []string{"A", "B", "C"}) ||
		len(j.Medical.AETitles) != 2 || len(j.Medical.AETitles[0].Roles) != 2 || !j.FirstSeen.Equal(t0) || !j.LastSeen.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("joined: %+v", j)
	}
	for _, s := range j.Services {
		if s.Port == 104 && s.Bytes != 300 {
			t.Errorf("service 104 bytes %d, want the larger view 300", s.Bytes)
		}
	}
}

type fakeMsg struct {
	subj string
	data []byte
	hdr  nats.Header
}

func (m fakeMsg) Subject() string      { return m.subj }
func (m fakeMsg) Data() []byte         { return m.data }
func (m fakeMsg) Headers() nats.Header { return m.hdr }

func assetMsg(sensor string, a inventory.Asset) fakeMsg {
	b, _ := json.Marshal(a)
	return fakeMsg{subj: natsink.Subject(sensor, natsink.KindAsset, ""), data: b,
		hdr: nats.Header{jetstream.MsgIDHeader: []string{sensor + ".asset." + a.ID + "." + fmt.Sprint(len(b), a.LastSeen.Unix())}}}
}

func alertMsg(sensor, id, ip, sev string, count int) fakeMsg {
	a := &detect.Alert{ID: id, RuleID: "phi_cleartext", Severity: sev, Count: count, FirstSeen: t0.Format(time.RFC3339Nano),
		LastSeen: t0.Add(time.Duration(count) * time.Minute).Format(time.RFC3339Nano), Assets: []detect.Asset{{IP: ip, Role: "client"}}}
	ev := &event.Event{TS: t0, Sensor: sensor, Body: a}
	line, _ := ev.AppendJSON(nil)
	return fakeMsg{subj: natsink.Subject(sensor, natsink.KindAlert, ""), data: line,
		hdr: nats.Header{jetstream.MsgIDHeader: []string{natsink.MsgID(sensor, "alert", ev.Key, line)}}}
}

func testHub(t *testing.T) *Hub {
	h, err := Open(Config{URL: "nats://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

func TestFoldIdempotent(t *testing.T) {
	h := testHub(t)
	batch := []fakeMsg{
		alertMsg("A", "al1", "10.0.0.1", "high", 1), // before its asset: resolved later
		assetMsg("A", asset("x", "10.0.0.1", 104, 100, 0)),
		assetMsg("B", asset("x", "10.0.0.1", 2762, 10, time.Hour)),
		assetMsg("B", asset("y", "10.0.0.2", 104, 10, 0)),
		alertMsg("B", "al2", "10.0.0.2", "low", 3),
		{subj: "medtap.A.bogus", data: []byte("{}")},
		{subj: "medtap.A.asset", data: []byte("not json")},
	}
	if err := Fold(h, batch); err != nil {
		t.Fatal(err)
	}
	snap := func() ([]inventory.Asset, []inventory.AlertRecord) {
		return h.Store().AllAssets(), h.Store().AllAlerts()
	}
	as1, al1 := snap()
	if len(as1) != 2 || len(al1) != 2 || len(as1[0].Services) != 2 || len(as1[0].Sensors) != 2 {
		t.Fatalf("assets %+v\nalerts %+v", as1, al1)
	}
	if !reflect.DeepEqual(al1[0].AssetIDs, []string{"x"}) || !reflect.DeepEqual(al1[1].AssetIDs, []string{"y"}) {
		t.Errorf("alert asset ids: %v %v", al1[0].AssetIDs, al1[1].AssetIDs)
	}
	if st := h.Stats(); st.Invalid != 2 || st.Messages["asset"] != 3 || st.Messages["alert"] != 2 {
		t.Errorf("stats %+v", st)
	}
	// Redelivered: skipped by id.
	if err := Fold(h, batch); err != nil {
		t.Fatal(err)
	}
	if st := h.Stats(); st.Duplicates != 5 {
		t.Errorf("duplicates %d, want 5", st.Duplicates)
	}
	// Republished past the id memory (fresh hub state for ids, same
	// store): the joins change nothing.
	h.recent = map[string]struct{}{}
	clear(h.recentList)
	if err := Fold(h, batch); err != nil {
		t.Fatal(err)
	}
	as2, al2 := snap()
	if !reflect.DeepEqual(as1, as2) || !reflect.DeepEqual(al1, al2) {
		t.Errorf("refolding changed the store")
	}
	// An alert's later state raises its count, once.
	Fold(h, []fakeMsg{alertMsg("B", "al2", "10.0.0.2", "low", 5)})
	if _, al := snap(); al[1].Count != 5 {
		t.Errorf("count %d, want 5", al[1].Count)
	}
}

// sensorRun publishes a sensor's view through a real Publisher: flows,
// alerts and asset states.
func sensorRun(t *testing.T, url, sensor, dir string, assets []inventory.Asset, alerts int, during func(i int)) {
	t.Helper()
	p, err := natsink.Open(natsink.Config{URL: url, Sensor: sensor, SpoolDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < alerts; i++ {
		a := &detect.Alert{ID: fmt.Sprintf("%s-al%d", sensor, i), RuleID: "phi_cleartext", Severity: "high", Count: 1,
			FirstSeen: t0.Format(time.RFC3339Nano), LastSeen: t0.Format(time.RFC3339Nano), Assets: []detect.Asset{{IP: assets[i%len(assets)].IP}}}
		p.Write([]*event.Event{{TS: t0, Sensor: sensor, Body: a, Key: event.Key{Packet: uint64(i)}}})
		p.Write([]*event.Event{{TS: t0, Sensor: sensor, Flow: &parser.Flow{Proto: 6, CommunityID: fmt.Sprintf("1:%s%d", sensor, i)},
			Body: &flowBody{Bytes: uint64(i)}, Key: event.Key{Packet: uint64(i), Seq: 1}}})
		if i%10 == 0 {
			p.SaveAssets(assets)
		}
		if during != nil {
			during(i)
		}
		time.Sleep(time.Millisecond)
	}
	p.SaveAssets(assets)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if pending, err := p.Close(ctx); pending != 0 || err != nil {
		t.Fatalf("sensor %s: %d pending, %v", sensor, pending, err)
	}
}

type flowBody struct {
	Bytes uint64 `json:"bytes_toserver"`
}

func (*flowBody) EventType() string { return "flow" }

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Two sensors and a hub through a real nats-server that is stopped and
// restarted mid-stream, and a hub that is restarted too: the hub's store
// is the union, nothing lost, nothing counted twice.
func TestHubThroughOutage(t *testing.T) {
	srv := natstest.Start(t)
	assetsA := []inventory.Asset{asset("a1", "10.0.0.1", 104, 100, 0), asset("shared", "10.0.0.5", 104, 500, 0)}
	assetsB := []inventory.Asset{asset("b1", "10.0.1.1", 2575, 70, 0), asset("shared", "10.0.0.5", 2762, 300, time.Hour)}

	h, err := Open(Config{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()

	sensorRun(t, srv.URL(), "A", t.TempDir(), assetsA, 60, nil)
	sensorRun(t, srv.URL(), "B", t.TempDir(), assetsB, 60, func(i int) {
		switch i {
		case 20:
			srv.Stop()
		case 40:
			srv.Start()
		}
	})
	// A message the hub had fetched when the server stopped comes back
	// only after ackWait, maybe after every alert is in: wait for both.
	waitFor(t, "120 alerts and 120 flows at the hub", func() bool {
		_, n := h.Store().Len()
		return n == 120 && len(h.TopFlows().Top(-1)) == 120
	})
	if top := h.TopFlows().Top(-1); len(top) != 120 || top[0].Bytes != 59 {
		t.Errorf("top flows: %d, first %+v", len(top), top)
	}
	// The hub restarts: a new process on the same durable consumer and
	// store resumes without refolding what it acknowledged.
	cancel()
	<-done
	h.Close()
	h2, err := Open(Config{URL: srv.URL(), Assets: h.Store().AllAssets(), Alerts: h.Store().AllAlerts()})
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close()
	ctx2, cancel2 := context.WithCancel(context.Background())
	done2 := make(chan struct{})
	go func() { h2.Run(ctx2); close(done2) }()
	defer func() { cancel2(); <-done2 }()
	// Sensor A runs again on the same input: every message is a duplicate.
	sensorRun(t, srv.URL(), "A", t.TempDir(), assetsA, 60, nil)
	// The stream drops those republished messages (duplicate window);
	// give the hub time to see anything it would.
	waitFor(t, "the second hub's consumer", h2.Ready)
	time.Sleep(2 * time.Second)

	assets := h2.Store().AllAssets()
	alerts := h2.Store().AllAlerts()
	if len(assets) != 3 || len(alerts) != 120 {
		t.Fatalf("hub holds %d assets and %d alerts, want 3 and 120", len(assets), len(alerts))
	}
	for _, a := range assets {
		if a.ID == "shared" && (len(a.Sensors) != 2 || len(a.Services) != 2 || a.Bytes.SensitiveMedical != 500) {
			t.Errorf("shared asset: %+v", a)
		}
	}
	for _, al := range alerts {
		if al.Count != 1 || len(al.AssetIDs) != 1 {
			t.Errorf("alert %s: count %d, assets %v", al.ID, al.Count, al.AssetIDs)
		}
	}
	if st := h2.Stats(); st.Messages["alert"] != 0 {
		t.Errorf("the restarted hub refolded %d alerts", st.Messages["alert"])
	}
	t.Logf("first hub %+v; second hub %+v", h.Stats(), h2.Stats())
}
