// Package hub is `medtap hub`: a durable JetStream consumer over every
// sensor's subjects (sensor/natsink) that folds them into one inventory
// and alert store, served by the same HTTP API and metrics as a sensor.
//
// Sensors publish three kinds of message: events (the top flows come from
// their flow records), alerts (alert events, stored by alert id) and asset
// snapshots (an asset's whole state each time it changed). The hub joins
// the snapshots of one asset id from every sensor (JoinAsset) and the
// alerts of one alert id (JoinAlert). Both joins are idempotent, so a
// message delivered twice (a redelivery after a lost ack, a sensor's
// replay past the stream's duplicate window) changes nothing; messages are
// acknowledged only after the store has saved their effect.
package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/medtap/medtap/detect"
	"github.com/medtap/medtap/detect/inventory"
	"github.com/medtap/medtap/sensor/api"
	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/metrics"
	"github.com/medtap/medtap/sensor/natsink"
)

// Limits and timings of the hub.
const (
	// DefaultDurable is the durable consumer's name: a restarted hub
	// resumes where it stopped.
	DefaultDurable = "medtap-hub"
	// fetchBatch is how many messages are folded and saved together.
	fetchBatch = 256
	// fetchWait bounds one fetch's wait for messages.
	fetchWait = time.Second
	// ackWait is how long the server waits for an ack before redelivering.
	// Short, because acks sent while the server restarts are lost and
	// those messages wait this long; folding is idempotent, so an early
	// redelivery costs only the work.
	ackWait = 10 * time.Second
	// maxAckPending bounds messages delivered and not yet acknowledged.
	maxAckPending = 4 * fetchBatch
	// retryWait is the pause after a failure (server down, store error).
	retryWait = time.Second
	// recentIDs is how many message ids are remembered to count (and
	// skip) duplicates quickly; the joins make older ones harmless anyway.
	recentIDs = 1 << 16
	// maxUnresolved bounds the alerts waiting for their assets' snapshots.
	maxUnresolved = 1 << 16
)

// Config configures a Hub.
type Config struct {
	URL     string
	Durable string // DefaultDurable when empty
	// Store persists the merged assets and alerts (the inventory's
	// database); nil keeps them in memory only.
	Store inventory.Persister
	// Assets and Alerts, when set, are loaded at start (what Store saved
	// in an earlier run).
	Assets []inventory.Asset
	Alerts []inventory.AlertRecord
}

// Hub consumes every sensor's stream.
type Hub struct {
	cfg  Config
	nc   *nats.Conn
	js   jetstream.JetStream
	mem  *api.MemStore
	top  *api.TopFlows
	byIP map[netip.Addr]string // an address's asset id, from the snapshots

	recent     map[string]struct{}
	recentList []string
	recentNext int
	unresolved map[string]bool // alert ids without asset ids yet

	ready    atomic.Bool
	mu       sync.Mutex // guards the counters map
	messages map[string]uint64
	dups     atomic.Uint64
	invalid  atomic.Uint64
	errs     atomic.Uint64
}

// Open connects to the server (retrying in the background while it is
// down) and loads what the store saved earlier.
func Open(cfg Config) (*Hub, error) {
	if cfg.Durable == "" {
		cfg.Durable = DefaultDurable
	}
	nc, err := nats.Connect(cfg.URL,
		nats.Name("medtap hub"),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.NoCallbacksAfterClientClose(),
	)
	if err != nil {
		return nil, fmt.Errorf("--nats %s: %w", cfg.URL, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("--nats %s: %w", cfg.URL, err)
	}
	h := &Hub{
		cfg: cfg, nc: nc, js: js,
		mem: api.NewMemStore(), top: api.NewTopFlows(api.MaxTopFlows),
		byIP: map[netip.Addr]string{}, recent: map[string]struct{}{}, recentList: make([]string, recentIDs),
		unresolved: map[string]bool{}, messages: map[string]uint64{},
	}
	h.mem.SaveAssets(cfg.Assets)
	h.mem.SaveAlerts(cfg.Alerts)
	for _, a := range cfg.Assets {
		h.index(&a)
	}
	return h, nil
}

// Store is the merged inventory and alerts, for the API.
func (h *Hub) Store() *api.MemStore { return h.mem }

// TopFlows are the largest flows of every sensor, for the API.
func (h *Hub) TopFlows() *api.TopFlows { return h.top }

// Ready reports whether the consumer is set up on the server.
func (h *Hub) Ready() bool { return h.ready.Load() }

// Stats are the hub's counters.
func (h *Hub) Stats() metrics.HubStats {
	h.mu.Lock()
	m := make(map[string]uint64, len(h.messages))
	for k, v := range h.messages {
		m[k] = v
	}
	h.mu.Unlock()
	return metrics.HubStats{Messages: m, Duplicates: h.dups.Load(), Invalid: h.invalid.Load(), Errors: h.errs.Load()}
}

// Close disconnects.
func (h *Hub) Close() { h.nc.Close() }

// Run consumes until ctx ends. Server outages and store failures are
// retried; it returns nil when ctx ends.
func (h *Hub) Run(ctx context.Context) error {
	var cons jetstream.Consumer
	for ctx.Err() == nil {
		if cons == nil {
			c, err := h.consumer(ctx)
			if err != nil {
				h.ready.Store(false)
				sleep(ctx, retryWait)
				continue
			}
			cons = c
			h.ready.Store(true)
		}
		batch, err := cons.Fetch(fetchBatch, jetstream.FetchMaxWait(fetchWait))
		if err != nil {
			cons = nil // set up again: the server may have restarted
			sleep(ctx, retryWait)
			continue
		}
		var msgs []jetstream.Msg
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		if len(msgs) == 0 {
			if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
				cons = nil
				sleep(ctx, retryWait)
			}
			continue
		}
		if err := h.Fold(msgs); err != nil {
			// Not acknowledged: the server redelivers after ackWait.
			h.errs.Add(1)
			for _, m := range msgs {
				_ = m.Nak()
			}
			sleep(ctx, retryWait)
			continue
		}
		for _, m := range msgs {
			_ = m.Ack()
		}
	}
	return nil
}

// consumer makes sure the stream and the durable consumer exist.
func (h *Hub) consumer(ctx context.Context) (jetstream.Consumer, error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := h.js.CreateOrUpdateStream(cctx, natsink.StreamConfig()); err != nil {
		return nil, err
	}
	return h.js.CreateOrUpdateConsumer(cctx, natsink.StreamName, jetstream.ConsumerConfig{
		Durable:       h.cfg.Durable,
		Description:   "medtap hub: every sensor's events, alerts and assets",
		FilterSubject: natsink.SubjectPrefix + ".>",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		MaxAckPending: maxAckPending,
	})
}

// Message is what Fold needs of a JetStream message.
type Message interface {
	Subject() string
	Data() []byte
	Headers() nats.Header
}

// Fold folds a batch of messages into the store and saves what changed.
// It is idempotent: folding the same messages again changes nothing.
func Fold[M Message](h *Hub, msgs []M) error {
	var assets map[string]inventory.Asset
	var alerts map[string]inventory.AlertRecord
	ids := make(map[string]struct{}, len(msgs))
	for _, m := range msgs {
		sensor, kind, typ, ok := natsink.ParseSubject(m.Subject())
		if !ok {
			h.invalid.Add(1)
			continue
		}
		if id := m.Headers().Get(jetstream.MsgIDHeader); id != "" {
			_, inBatch := ids[id]
			if _, ok := h.recent[id]; ok || inBatch {
				h.dups.Add(1)
				continue
			}
			ids[id] = struct{}{}
		}
		var err error
		switch kind {
		case natsink.KindAsset:
			if assets == nil {
				assets = map[string]inventory.Asset{}
			}
			err = h.foldAsset(m.Data(), sensor, assets)
		case natsink.KindAlert:
			if alerts == nil {
				alerts = map[string]inventory.AlertRecord{}
			}
			err = h.foldAlert(m.Data(), sensor, alerts)
		case natsink.KindEvent:
			if typ == "flow" {
				err = h.foldFlow(m.Data())
			}
		}
		if err != nil {
			h.invalid.Add(1)
			continue
		}
		h.mu.Lock()
		h.messages[kind]++
		h.mu.Unlock()
	}
	if len(assets) > 0 {
		// Alerts folded before their assets' snapshots get their ids now.
		if alerts == nil {
			alerts = map[string]inventory.AlertRecord{}
		}
		h.resolvePending(alerts)
	}
	if err := h.save(assets, alerts); err != nil {
		return err
	}
	// Remembered only once saved: a batch that failed is redelivered and
	// must be folded then.
	for id := range ids {
		h.remember(id)
	}
	return nil
}

// Fold is the method form of the generic Fold over JetStream messages.
func (h *Hub) Fold(msgs []jetstream.Msg) error { return Fold(h, msgs) }

// remember adds id to the recent ids, forgetting the oldest.
func (h *Hub) remember(id string) {
	if old := h.recentList[h.recentNext]; old != "" {
		delete(h.recent, old)
	}
	h.recentList[h.recentNext] = id
	h.recentNext = (h.recentNext + 1) % len(h.recentList)
	h.recent[id] = struct{}{}
}

func (h *Hub) foldAsset(data []byte, sensor string, batch map[string]inventory.Asset) error {
	var s inventory.Asset
	if err := json.Unmarshal(data, &s); err != nil || s.ID == "" {
		return errors.New("not an asset")
	}
	cur, ok := batch[s.ID]
	if !ok {
		cur, _, _ = h.mem.Asset(s.ID)
	}
	j := JoinAsset(cur, s, sensor)
	batch[s.ID] = j
	h.index(&j)
	return nil
}

func (h *Hub) index(a *inventory.Asset) {
	for _, ip := range a.IPs {
		if addr, err := netip.ParseAddr(ip.IP); err == nil {
			h.byIP[addr.Unmap()] = a.ID
		}
	}
	if addr, err := netip.ParseAddr(a.IP); err == nil {
		h.byIP[addr.Unmap()] = a.ID
	}
}

// alertEvent is the part of an alert event the store keeps.
type alertEvent struct {
	event.Envelope
	Alert detect.Alert `json:"alert"`
}

func (h *Hub) foldAlert(data []byte, sensor string, batch map[string]inventory.AlertRecord) error {
	var ev alertEvent
	if err := json.Unmarshal(data, &ev); err != nil || ev.Alert.ID == "" || ev.Alert.RuleID == "" {
		return errors.New("not an alert")
	}
	a := &ev.Alert
	rec := inventory.AlertRecord{ID: a.ID, RuleID: a.RuleID, Title: a.Title, Severity: a.Severity, Category: a.Category,
		Capability: a.Capability, DataCategory: a.DataCategory, Protocol: a.Protocol,
		SrcIP: ev.SrcIP, SrcPort: ev.SrcPort, DestIP: ev.DestIP, DestPort: ev.DestPort, Proto: ev.Proto, VLAN: ev.VLAN,
		CommunityID: ev.CommunityID, Sensor: ev.Sensor, Count: a.Count, Event: append([]byte(nil), data...)}
	if rec.Sensor == "" {
		rec.Sensor = sensor
	}
	rec.FirstSeen, _ = time.Parse(time.RFC3339Nano, a.FirstSeen)
	rec.LastSeen, _ = time.Parse(time.RFC3339Nano, a.LastSeen)
	h.resolve(&rec, a.Assets)
	cur, ok := batch[rec.ID]
	if !ok {
		cur, ok = h.storedAlert(rec.ID)
	}
	if ok {
		rec = JoinAlert(cur, rec)
	}
	batch[rec.ID] = rec
	return nil
}

func (h *Hub) storedAlert(id string) (inventory.AlertRecord, bool) {
	// The store answers by query; the id is the key of the page.
	for _, r := range h.mem.AlertsByID(id) {
		return r, true
	}
	return inventory.AlertRecord{}, false
}

// resolve fills an alert's asset ids from the assets' addresses.
func (h *Hub) resolve(rec *inventory.AlertRecord, assets []detect.Asset) {
	for _, as := range assets {
		addr, err := netip.ParseAddr(as.IP)
		if err != nil {
			continue
		}
		if id, ok := h.byIP[addr.Unmap()]; ok && !containsStr(rec.AssetIDs, id) {
			rec.AssetIDs = append(rec.AssetIDs, id)
		}
	}
	if len(rec.AssetIDs) == 0 && len(assets) > 0 && len(h.unresolved) < maxUnresolved {
		h.unresolved[rec.ID] = true
	}
}

// resolvePending gives asset ids to alerts that arrived before their
// assets' snapshots.
func (h *Hub) resolvePending(batch map[string]inventory.AlertRecord) {
	for id := range h.unresolved {
		rec, ok := batch[id]
		if !ok {
			if rec, ok = h.storedAlert(id); !ok {
				delete(h.unresolved, id)
				continue
			}
		}
		var ev alertEvent
		if json.Unmarshal(rec.Event, &ev) != nil {
			delete(h.unresolved, id)
			continue
		}
		delete(h.unresolved, id)
		h.resolve(&rec, ev.Alert.Assets)
		if len(rec.AssetIDs) > 0 {
			batch[id] = rec
		}
	}
}

func containsStr(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// flowEvent is the part of a flow event the top-flows list keeps.
type flowEvent struct {
	event.Envelope
	Flow struct {
		AppProto      string `json:"app_proto"`
		Start         string `json:"start"`
		End           string `json:"end"`
		PktsToServer  uint64 `json:"pkts_toserver"`
		PktsToClient  uint64 `json:"pkts_toclient"`
		BytesToServer uint64 `json:"bytes_toserver"`
		BytesToClient uint64 `json:"bytes_toclient"`
		Encrypted     bool   `json:"encrypted"`
	} `json:"flow"`
}

func (h *Hub) foldFlow(data []byte) error {
	var ev flowEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return err
	}
	f := &ev.Flow
	h.top.Add(api.Flow{Sensor: ev.Sensor, SrcIP: ev.SrcIP, SrcPort: ev.SrcPort, DestIP: ev.DestIP, DestPort: ev.DestPort,
		Proto: ev.Proto, VLAN: ev.VLAN, CommunityID: ev.CommunityID, AppProto: f.AppProto, Start: f.Start, End: f.End,
		Bytes: f.BytesToServer + f.BytesToClient, BytesToServer: f.BytesToServer, BytesToClient: f.BytesToClient,
		PktsToServer: f.PktsToServer, PktsToClient: f.PktsToClient, Encrypted: f.Encrypted})
	return nil
}

// save writes what a batch changed: to the database first (an error
// leaves the batch unacknowledged and the memory untouched), then to the
// in-memory store the API reads.
func (h *Hub) save(assets map[string]inventory.Asset, alerts map[string]inventory.AlertRecord) error {
	as := make([]inventory.Asset, 0, len(assets))
	for _, a := range assets {
		as = append(as, a)
	}
	al := make([]inventory.AlertRecord, 0, len(alerts))
	for _, a := range alerts {
		al = append(al, a)
	}
	if st := h.cfg.Store; st != nil {
		if len(as) > 0 {
			if err := st.SaveAssets(as); err != nil {
				return fmt.Errorf("save assets: %w", err)
			}
		}
		if len(al) > 0 {
			if err := st.SaveAlerts(al); err != nil {
				return fmt.Errorf("save alerts: %w", err)
			}
		}
	}
	h.mem.SaveAssets(as)
	h.mem.SaveAlerts(al)
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
