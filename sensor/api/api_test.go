package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/medtap/medtap/detect/inventory"
)

var t0 = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)

func fixture() (*MemStore, *TopFlows) {
	m := NewMemStore()
	var assets []inventory.Asset
	for i := 0; i < 25; i++ {
		a := inventory.Asset{ID: fmt.Sprintf("a%02d", i), IP: fmt.Sprintf("10.0.0.%d", i), Class: inventory.ClassWorkstation,
			Internal: i%5 != 0, Sensors: []string{"A"}, FirstSeen: t0, LastSeen: t0}
		a.IPs = []inventory.IPSeen{{IP: a.IP, Source: "traffic"}, {IP: fmt.Sprintf("10.1.0.%d", i), Source: "dhcp"}}
		if i%3 == 0 {
			a.Class = inventory.ClassImagingModality
			a.Sensors = []string{"A", "B"}
			a.VLANs = []uint16{20}
		}
		if i == 7 {
			a.Risk.OpenAlerts.High = 1
		}
		if i == 8 {
			a.Risk.OpenAlerts.Low = 2
		}
		assets = append(assets, a)
	}
	m.SaveAssets(assets)
	var alerts []inventory.AlertRecord
	sev := []string{"info", "low", "medium", "high", "critical"}
	for i := 0; i < 12; i++ {
		alerts = append(alerts, inventory.AlertRecord{ID: fmt.Sprintf("al%02d", i), RuleID: "phi_cleartext", Severity: sev[i%5],
			Sensor: "A", AssetIDs: []string{"a07"}, FirstSeen: t0.Add(time.Duration(i) * time.Minute),
			LastSeen: t0.Add(time.Duration(i) * time.Hour), Event: []byte(`{"event_type":"alert"}`)})
	}
	m.SaveAlerts(alerts)
	tf := NewTopFlows(10)
	for i := 0; i < 30; i++ {
		tf.Add(Flow{Sensor: "A", CommunityID: fmt.Sprintf("c%d", i), Start: "s", Bytes: uint64(i * 100)})
	}
	return m, tf
}

type answer struct {
	Items []json.RawMessage `json:"items"`
	Next  *string           `json:"next"`
}

func get(t *testing.T, h http.Handler, target string) (int, answer, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
	var a answer
	body := rec.Body.String()
	if rec.Code == 200 && strings.HasPrefix(body, "{\"items\"") {
		if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
			t.Fatalf("%s: %v", target, err)
		}
	}
	return rec.Code, a, body
}

func TestAPIQueries(t *testing.T) {
	m, tf := fixture()
	h := New(m, tf).Handler()
	for _, c := range []struct {
		target string
		code   int
		items  int
		next   bool
		has    string // substring of the body
	}{
		{"/api/v1/assets", 200, 25, false, `"id":"a00"`},
		{"/api/v1/assets?limit=10", 200, 10, true, `"id":"a09"`},
		{"/api/v1/assets?class=imaging_modality", 200, 9, false, `"id":"a24"`},
		{"/api/v1/assets?ip=10.1.0.4", 200, 1, false, `"id":"a04"`},
		{"/api/v1/assets?internal=false", 200, 5, false, `"id":"a20"`},
		{"/api/v1/assets?sensor=B", 200, 9, false, `"sensors":["A","B"]`},
		{"/api/v1/assets?vlan=20", 200, 9, false, ``},
		{"/api/v1/assets?severity=medium", 200, 1, false, `"id":"a07"`},
		{"/api/v1/assets?severity=low", 200, 2, false, `"id":"a08"`},
		{"/api/v1/assets?limit=0", 400, 0, false, `limit`},
		{"/api/v1/assets?limit=1001", 400, 0, false, `limit`},
		{"/api/v1/assets?vlan=5000", 400, 0, false, `vlan`},
		{"/api/v1/assets?internal=maybe", 400, 0, false, `internal`},
		{"/api/v1/assets?severity=urgent", 400, 0, false, `severity`},
		{"/api/v1/assets?cursor=!!", 400, 0, false, `cursor`},
		{"/api/v1/assets/a03", 200, 0, false, `"class":"imaging_modality"`},
		{"/api/v1/assets/nope", 404, 0, false, `no such asset`},
		{"/api/v1/alerts", 200, 12, false, `"event":{"event_type":"alert"}`},
		{"/api/v1/alerts?severity=medium", 200, 6, false, `"severity":"critical"`},
		{"/api/v1/alerts?severity=critical", 200, 2, false, `"alert_id":"al09"`},
		{"/api/v1/alerts?since=" + url.QueryEscape(t0.Add(10*time.Hour).Format(time.RFC3339)), 200, 2, false, `"alert_id":"al11"`},
		{"/api/v1/alerts?asset=a07&rule=phi_cleartext&sensor=A&limit=5", 200, 5, true, ``},
		{"/api/v1/alerts?since=yesterday", 400, 0, false, `since`},
		{"/api/v1/alerts?cursor=bm9wZQ", 400, 0, false, `cursor`},
		{"/api/v1/flows/top", 200, 10, false, `"bytes":2900`},
		{"/api/v1/flows/top?limit=3", 200, 3, false, `"bytes":2700`},
	} {
		code, a, body := get(t, h, c.target)
		if code != c.code || len(a.Items) != c.items || (a.Next != nil) != c.next || !strings.Contains(body, c.has) {
			t.Errorf("%s: %d, %d items, next %v; want %d, %d, %v, containing %q\n%.300s", c.target, code, len(a.Items), a.Next != nil, c.code, c.items, c.next, c.has, body)
		}
	}
}

// Walking the cursors visits every item once, in order.
func TestAPIPagination(t *testing.T) {
	m, tf := fixture()
	h := New(m, tf).Handler()
	for _, c := range []struct {
		path  string
		total int
		key   string
	}{{"/api/v1/assets?limit=7", 25, "id"}, {"/api/v1/alerts?limit=5", 12, "alert_id"}} {
		var got []string
		target := c.path
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("cursor does not end")
			}
			code, a, body := get(t, h, target)
			if code != 200 {
				t.Fatalf("%s: %d %s", target, code, body)
			}
			for _, it := range a.Items {
				var v map[string]any
				json.Unmarshal(it, &v)
				got = append(got, v[c.key].(string))
			}
			if a.Next == nil {
				break
			}
			target = c.path + "&cursor=" + url.QueryEscape(*a.Next)
		}
		if len(got) != c.total {
			t.Fatalf("%s: %d items over all pages, want %d", c.path, len(got), c.total)
		}
		for i := 1; i < len(got); i++ {
			if got[i] <= got[i-1] {
				t.Fatalf("%s: %s after %s", c.path, got[i], got[i-1])
			}
		}
	}
}

func TestTopFlowsBoundedAndDeduplicated(t *testing.T) {
	tf := NewTopFlows(3)
	for i := 0; i < 100; i++ {
		tf.Add(Flow{CommunityID: fmt.Sprint(i), Bytes: uint64(i)})
	}
	// The same flow again (a redelivery) replaces itself.
	tf.Add(Flow{CommunityID: "99", Bytes: 99})
	top := tf.Top(-1)
	if len(top) != 3 || top[0].Bytes != 99 || top[1].Bytes != 98 || top[2].Bytes != 97 {
		t.Fatalf("top: %+v", top)
	}
	if len(tf.byID) != 3 {
		t.Fatalf("index holds %d", len(tf.byID))
	}
}
