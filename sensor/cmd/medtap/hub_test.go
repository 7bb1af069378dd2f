package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medtap/medtap/sensor/natsink/natstest"
)

// hubAPI reads every item of an API list.
func hubAPI(t *testing.T, base, path string) []map[string]any {
	t.Helper()
	var out []map[string]any
	cursor := ""
	for {
		u := base + path + "?limit=1000"
		if cursor != "" {
			u += "&cursor=" + cursor
		}
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Items []map[string]any `json:"items"`
			Next  *string          `json:"next"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Items...)
		if page.Next == nil {
			return out
		}
		cursor = *page.Next
	}
}

// outputIDs reads the asset ids of assets.json and the alert ids and
// counts of alerts.jsonl of an -o directory.
func outputIDs(t *testing.T, dir string, assets, alerts map[string]float64) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "assets.json"))
	if err != nil {
		t.Fatal(err)
	}
	var as []map[string]any
	if err := json.Unmarshal(b, &as); err != nil {
		var wrapped struct {
			Assets []map[string]any `json:"assets"`
		}
		if err := json.Unmarshal(b, &wrapped); err != nil {
			t.Fatalf("assets.json: %v", err)
		}
		as = wrapped.Assets
	}
	for _, a := range as {
		assets[a["id"].(string)] = 1
	}
	b, err = os.ReadFile(filepath.Join(dir, "alerts.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var ev struct {
			Alert struct {
				ID    string  `json:"alert_id"`
				Count float64 `json:"count"`
			} `json:"alert"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatal(err)
		}
		alerts[ev.Alert.ID] = max(alerts[ev.Alert.ID], ev.Alert.Count)
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Two sensors analyze two captures each and publish to a real nats-server;
// `medtap hub` folds both. The server is stopped while sensor B runs (B
// buffers on disk and sends once it is back), the hub is restarted on its
// database, and sensor A publishes its run again: the hub's inventory is
// the union of the sensors' inventories, with every alert once.
func TestHubTwoSensorsThroughOutage(t *testing.T) {
	srv := natstest.Start(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "hub.db")
	key := filepath.Join(dir, "pseudonym.key")
	startHub := func() (base string, stop func()) {
		addr := freeAddr(t)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- runHub(ctx, srv.URL(), db, addr, "", opsFlags{}, io.Discard) }()
		base = "http://" + addr
		deadline := time.Now().Add(10 * time.Second)
		for {
			if resp, err := http.Get(base + "/readyz"); err == nil {
				resp.Body.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("hub did not start")
			}
			time.Sleep(50 * time.Millisecond)
		}
		return base, func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("hub: %v", err)
			}
		}
	}
	analyze := func(sensor string, pcaps ...string) {
		t.Helper()
		args := []string{"analyze", "-q", "--workers", "1", "--sensor", sensor, "--key-file", key,
			"--nats", srv.URL(), "--nats-buffer", filepath.Join(dir, "buf-"+sensor), "-o", filepath.Join(dir, "out-"+sensor)}
		for _, p := range pcaps {
			args = append(args, filepath.Join("..", "..", "..", "pcaps", p))
		}
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != exitOK {
			t.Fatalf("analyze %s: exit %d\n%s", sensor, code, stderr.String())
		}
	}

	base, stopHub := startHub()
	analyze("A", "dicom-store-veth.pcap", "hl7-corpus.pcap")
	srv.Stop()
	restarted := make(chan struct{})
	go func() {
		time.Sleep(1500 * time.Millisecond)
		srv.Start()
		close(restarted)
	}()
	analyze("B", "vlan-qinq.pcap", "dicom-qr.pcap") // waits for the server to take its buffer
	<-restarted
	if ents, _ := filepath.Glob(filepath.Join(dir, "buf-B", "seg-*")); len(ents) != 0 {
		t.Errorf("sensor B's buffer still holds %v", ents)
	}

	wantAssets, wantAlerts := map[string]float64{}, map[string]float64{}
	outputIDs(t, filepath.Join(dir, "out-A"), wantAssets, wantAlerts)
	outputIDs(t, filepath.Join(dir, "out-B"), wantAssets, wantAlerts)
	if len(wantAssets) < 6 || len(wantAlerts) == 0 {
		t.Fatalf("sensors found %d assets, %d alerts: captures changed?", len(wantAssets), len(wantAlerts))
	}
	check := func(when string) []byte {
		t.Helper()
		var assets, alerts []map[string]any
		deadline := time.Now().Add(20 * time.Second)
		for {
			assets, alerts = hubAPI(t, base, "/api/v1/assets"), hubAPI(t, base, "/api/v1/alerts")
			if len(assets) >= len(wantAssets) && len(alerts) >= len(wantAlerts) || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		gotAssets := map[string]float64{}
		for _, a := range assets {
			gotAssets[a["id"].(string)] = 1
		}
		gotAlerts := map[string]float64{}
		for _, a := range alerts {
			if _, dup := gotAlerts[a["alert_id"].(string)]; dup {
				t.Errorf("%s: alert %s listed twice", when, a["alert_id"])
			}
			gotAlerts[a["alert_id"].(string)] = a["count"].(float64)
		}
		if !mapsEqual(gotAssets, wantAssets) {
			t.Errorf("%s: hub assets %v, want the union %v", when, keys(gotAssets), keys(wantAssets))
		}
		if !mapsEqual(gotAlerts, wantAlerts) {
			t.Errorf("%s: hub alerts (id: count) %v, want %v", when, gotAlerts, wantAlerts)
		}
		b, _ := json.Marshal([2]any{assets, alerts})
		return b
	}
	first := check("after both sensors")
	var sensors []string
	for _, a := range hubAPI(t, base, "/api/v1/assets") {
		if a["ip"] == "127.0.0.1" {
			for _, s := range a["sensors"].([]any) {
				sensors = append(sensors, s.(string))
			}
		}
	}
	if !slices.Equal(sensors, []string{"A", "B"}) {
		t.Errorf("the asset both sensors saw lists sensors %v", sensors)
	}
	stopHub()

	// A restarted hub loads its database and resumes its durable consumer;
	// sensor A publishing the same run again changes nothing.
	base, stopHub = startHub()
	defer stopHub()
	if again := check("after the hub restarted"); !bytes.Equal(first, again) {
		t.Errorf("the restarted hub's view differs")
	}
	analyze("A", "dicom-store-veth.pcap", "hl7-corpus.pcap")
	time.Sleep(1500 * time.Millisecond)
	if again := check("after sensor A republished"); !bytes.Equal(first, again) {
		t.Errorf("republishing changed the hub's view:\n%s\n%s", first, again)
	}
}

func mapsEqual(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func keys(m map[string]float64) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
