// Package natsink publishes a sensor's events, alerts and asset changes to
// NATS JetStream, for multi-sensor sites where one hub (`medtap hub`)
// merges every sensor's stream into one inventory and alert store.
//
// Subjects are named by sensor: medtap.<sensor>.event.<type> for events
// (asset change events included, as medtap.<sensor>.event.asset),
// medtap.<sensor>.alert for alerts, and medtap.<sensor>.asset for the
// whole state of each asset that changed (inventory.Asset JSON, from the
// inventory's store hook, SaveAssets), which the hub joins across sensors.
// The sensor name is reduced to one subject token (Token). Every subject
// lands in one stream, StreamName, over "medtap.>".
//
// Delivery is at least once: every message carries a Nats-Msg-Id stable
// for its content (sensor, event type, event key and a hash of the line),
// so a message published twice (a lost acknowledgement, a replay after a
// restart) is stored once within the stream's duplicate window, and the
// hub folds idempotently beyond it. Publishing never blocks capture: Write
// only queues (a bounded queue; drops counted). While the server is
// unreachable, messages go to a bounded on-disk spool of segment files
// (the oldest segment dropped, and counted, when full) that is replayed in
// order once the server is back, also across restarts of the sensor.
package natsink

import (
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Stream layout shared by sensors and the hub.
const (
	// StreamName is the JetStream stream every sensor publishes to.
	StreamName = "MEDTAP"
	// SubjectPrefix starts every subject.
	SubjectPrefix = "medtap"
	// DuplicateWindow is how long the stream remembers message ids to
	// drop duplicates: above the spool's replay time after a typical
	// outage (the hub is idempotent beyond it anyway).
	DuplicateWindow = 10 * time.Minute
	// StreamMaxAge bounds how long the stream keeps messages a hub has
	// not yet consumed (a hub down for a long weekend still catches up).
	StreamMaxAge = 7 * 24 * time.Hour
	// StreamMaxBytes bounds the stream's storage on the server.
	StreamMaxBytes = 8 << 30
	// MaxTokenLen bounds a sensor name's subject token.
	MaxTokenLen = 64
)

// Message kinds, the third subject token.
const (
	KindEvent = "event"
	KindAlert = "alert"
	KindAsset = "asset"
)

// StreamConfig is the stream's configuration: file storage, every medtap
// subject, the duplicate window and the limits above.
func StreamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        StreamName,
		Description: "medtap sensors' events, alerts and asset changes",
		Subjects:    []string{SubjectPrefix + ".>"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      StreamMaxAge,
		MaxBytes:    StreamMaxBytes,
		Duplicates:  DuplicateWindow,
	}
}

// Token reduces a sensor name to one subject token: letters, digits, '-'
// and '_' are kept, anything else (dots, wildcards, spaces, non-ASCII)
// becomes '_', at most MaxTokenLen bytes; an empty name is "default".
func Token(name string) string {
	if name == "" {
		return "default"
	}
	var b strings.Builder
	for i := 0; i < len(name) && b.Len() < MaxTokenLen; i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
			b.WriteByte(c)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// Subject is the subject of a message of kind from sensor (a Token);
// typ is the event type for KindEvent.
func Subject(sensor, kind, typ string) string {
	if kind == KindEvent {
		return SubjectPrefix + "." + sensor + "." + KindEvent + "." + Token(typ)
	}
	return SubjectPrefix + "." + sensor + "." + kind
}

// ParseSubject splits a subject into its sensor token, kind and event
// type; ok is false for a subject not of medtap's shape.
func ParseSubject(subj string) (sensor, kind, typ string, ok bool) {
	parts := strings.Split(subj, ".")
	if len(parts) < 3 || parts[0] != SubjectPrefix || parts[1] == "" {
		return "", "", "", false
	}
	switch {
	case parts[2] == KindEvent && len(parts) == 4 && parts[3] != "":
		return parts[1], KindEvent, parts[3], true
	case (parts[2] == KindAlert || parts[2] == KindAsset) && len(parts) == 3:
		return parts[1], parts[2], "", true
	}
	return "", "", "", false
}
