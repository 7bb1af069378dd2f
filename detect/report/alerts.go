package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/medtap/medtap/detect"
	"github.com/medtap/medtap/detect/inventory"
	"github.com/medtap/medtap/detect/policy"
	"github.com/medtap/medtap/sensor/event"
)

// maxAlertLine bounds one line of an alerts file.
const maxAlertLine = 4 << 20

// alertLine is an alert event as medtap writes it.
type alertLine struct {
	event.Envelope
	Alert *detect.Alert `json:"alert"`
}

// ReadAlerts reads the alert events of a JSON-lines file (alerts.jsonl,
// or events.jsonl: other event types are skipped).
func ReadAlerts(r io.Reader) ([]inventory.AlertRecord, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxAlertLine)
	var out []inventory.AlertRecord
	n := 0
	for sc.Scan() {
		n++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 || !bytes.Contains(b, []byte(`"alert"`)) {
			continue
		}
		rec, ok, err := AlertFromLine(b)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if ok {
			out = append(out, rec)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("after line %d: %w", n, err)
	}
	return out, nil
}

// AlertFromLine makes the record of one event line; ok is false for an
// event that is not an alert.
func AlertFromLine(b []byte) (inventory.AlertRecord, bool, error) {
	var l alertLine
	if err := json.Unmarshal(b, &l); err != nil {
		return inventory.AlertRecord{}, false, err
	}
	if l.EventType != "alert" || l.Alert == nil {
		return inventory.AlertRecord{}, false, nil
	}
	rec := record(l.Alert)
	rec.SrcIP, rec.SrcPort, rec.DestIP, rec.DestPort = l.SrcIP, l.SrcPort, l.DestIP, l.DestPort
	rec.Proto, rec.VLAN, rec.CommunityID, rec.Sensor = l.Proto, l.VLAN, l.CommunityID, l.Sensor
	rec.Event = append([]byte(nil), b...)
	return rec, true, nil
}

// AlertFromEvent makes the record of an alert event as the engine emits
// it; ok is false for other events.
func AlertFromEvent(ev *event.Event) (inventory.AlertRecord, bool) {
	a, ok := ev.Body.(*detect.Alert)
	if !ok {
		return inventory.AlertRecord{}, false
	}
	rec := record(a)
	if f := ev.Flow; f != nil {
		rec.SrcIP, rec.SrcPort = f.Client.Addr().String(), f.Client.Port()
		rec.DestIP, rec.DestPort = f.Server.Addr().String(), f.Server.Port()
		rec.Proto, rec.VLAN, rec.CommunityID = event.ProtoName(f.Proto), f.VLAN, f.CommunityID
	}
	rec.Sensor = ev.Sensor
	if b, err := ev.AppendJSON(nil); err == nil {
		rec.Event = b
	}
	return rec, true
}

func record(a *detect.Alert) inventory.AlertRecord {
	rec := inventory.AlertRecord{
		ID: a.ID, RuleID: a.RuleID, Title: a.Title, Severity: a.Severity, Category: a.Category,
		Capability: append([]string(nil), a.Capability...), DataCategory: a.DataCategory,
		Protocol: a.Protocol, Count: a.Count,
	}
	rec.FirstSeen, _ = time.Parse(time.RFC3339Nano, a.FirstSeen)
	rec.LastSeen, _ = time.Parse(time.RFC3339Nano, a.LastSeen)
	return rec
}

// alertBody decodes the alert body kept in a record's event line (assets,
// evidence, remediation); nil when the record has none.
func alertBody(rec *inventory.AlertRecord) *detect.Alert {
	if len(rec.Event) == 0 {
		return nil
	}
	var l alertLine
	if json.Unmarshal(rec.Event, &l) != nil {
		return nil
	}
	return l.Alert
}

// AtOrAbove reports whether severity sev is at or above min.
func AtOrAbove(sev, min string) bool {
	return policy.SeverityRank(sev) >= policy.SeverityRank(min)
}

// sortAlerts orders alerts by first seen, then rule and id.
func sortAlerts(as []inventory.AlertRecord) {
	sort.SliceStable(as, func(i, j int) bool {
		a, b := &as[i], &as[j]
		if !a.FirstSeen.Equal(b.FirstSeen) {
			return a.FirstSeen.Before(b.FirstSeen)
		}
		if a.RuleID != b.RuleID {
			return a.RuleID < b.RuleID
		}
		return a.ID < b.ID
	})
}
