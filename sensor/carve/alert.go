package carve

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"time"

	"github.com/medtap/medtap/sensor/event"
)

// maxLine bounds one JSON line read from an alerts file.
const maxLine = 4 << 20

// ErrAlertNotFound is returned when no alert has the id.
var ErrAlertNotFound = errors.New("no alert with this id")

// alertEvent is the part of an alert event line carve reads.
type alertEvent struct {
	event.Envelope
	Alert *struct {
		ID          string `json:"alert_id"`
		RuleID      string `json:"rule_id"`
		FirstSeen   string `json:"first_seen"`
		LastSeen    string `json:"last_seen"`
		RateLimited bool   `json:"rate_limited"`
	} `json:"alert"`
}

// FindAlert reads JSON lines (alerts.jsonl, or events.jsonl, which holds
// the alerts too) and returns the target flow of the alert with the id.
func FindAlert(r io.Reader, id string) (Target, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		// Cheap filter before decoding: the id must appear on the line.
		if !containsID(b, id) {
			continue
		}
		var ev alertEvent
		if err := json.Unmarshal(b, &ev); err != nil {
			return Target{}, fmt.Errorf("line %d: %w", line, err)
		}
		if ev.EventType != "alert" || ev.Alert == nil || ev.Alert.ID != id {
			continue
		}
		return ev.target()
	}
	if err := sc.Err(); err != nil {
		return Target{}, fmt.Errorf("after line %d: %w", line, err)
	}
	return Target{}, fmt.Errorf("%w: %s", ErrAlertNotFound, id)
}

func containsID(b []byte, id string) bool {
	return len(id) > 0 && bytes.Contains(b, []byte(id))
}

// TargetFromEvent makes the target of one alert event line.
func TargetFromEvent(line []byte) (Target, error) {
	var ev alertEvent
	if err := json.Unmarshal(line, &ev); err != nil {
		return Target{}, err
	}
	if ev.EventType != "alert" || ev.Alert == nil {
		return Target{}, errors.New("not an alert event")
	}
	return ev.target()
}

func (ev *alertEvent) target() (Target, error) {
	a := ev.Alert
	if a.RateLimited {
		return Target{}, fmt.Errorf("alert %s is a rate-limit summary of %s alerts, not tied to one flow; carve one of the alerts it summarises", a.ID, a.RuleID)
	}
	if ev.SrcIP == "" || ev.DestIP == "" {
		return Target{}, fmt.Errorf("alert %s (%s) is not tied to a flow", a.ID, a.RuleID)
	}
	src, err1 := netip.ParseAddr(ev.SrcIP)
	dst, err2 := netip.ParseAddr(ev.DestIP)
	if err := errors.Join(err1, err2); err != nil {
		return Target{}, fmt.Errorf("alert %s: %w", a.ID, err)
	}
	proto, err := protoNumber(ev.Proto)
	if err != nil {
		return Target{}, fmt.Errorf("alert %s: %w", a.ID, err)
	}
	t := Target{
		Proto: proto, VLAN: ev.VLAN,
		Client: netip.AddrPortFrom(src, ev.SrcPort),
		Server: netip.AddrPortFrom(dst, ev.DestPort),
	}
	if t.From, err = time.Parse(time.RFC3339Nano, a.FirstSeen); err != nil {
		return Target{}, fmt.Errorf("alert %s: first_seen: %w", a.ID, err)
	}
	if t.To, err = time.Parse(time.RFC3339Nano, a.LastSeen); err != nil {
		return Target{}, fmt.Errorf("alert %s: last_seen: %w", a.ID, err)
	}
	return t, nil
}

// protoNumber inverts event.ProtoName.
func protoNumber(s string) (uint8, error) {
	switch s {
	case "tcp":
		return 6, nil
	case "udp":
		return 17, nil
	case "icmp":
		return 1, nil
	case "ipv6-icmp":
		return 58, nil
	}
	n, err := strconv.ParseUint(s, 10, 8)
	if err != nil {
		return 0, fmt.Errorf("proto %q: want tcp, udp, icmp, ipv6-icmp or a number", s)
	}
	return uint8(n), nil
}
