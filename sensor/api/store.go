package api

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/medtap/medtap/detect/inventory"
)

// Limits of the API's stores and pages.
const (
	// DefaultLimit is a page's size when the request names none.
	DefaultLimit = 100
	// MaxLimit is the largest page a request may ask for.
	MaxLimit = 1000
	// MaxStoredAlerts bounds the alerts MemStore keeps; past it the one
	// seen least recently is dropped (and counted).
	MaxStoredAlerts = 1 << 20
	// MaxStoredAssets bounds the assets MemStore keeps, as the inventory
	// bounds its own.
	MaxStoredAssets = inventory.MaxAssets
)

// AssetQuery selects assets. Empty fields select everything.
type AssetQuery struct {
	Class    string // device class
	IP       string // current or earlier address
	MAC      string
	Sensor   string
	VLAN     uint16
	Internal *bool
	// Severity keeps assets with an open alert at or above it.
	Severity string
	After    string // keyset cursor: IDs after this one
	Limit    int    // page size; the store returns up to Limit+1
}

// AlertQuery selects alerts, ordered by first seen then ID.
type AlertQuery struct {
	Since    time.Time // last seen at or after
	Severity string    // at or above
	Rule     string
	Sensor   string
	AssetID  string
	// After is the keyset cursor: alerts sorting after (first seen, ID).
	AfterTime time.Time
	AfterID   string
	Limit     int // page size; the store returns up to Limit+1
}

// Store is where the API reads assets and alerts: MemStore, or an
// adapter over the inventory's database.
type Store interface {
	Assets(q AssetQuery) ([]inventory.Asset, error)
	Asset(id string) (inventory.Asset, bool, error)
	Alerts(q AlertQuery) ([]inventory.AlertRecord, error)
}

// severityRank orders severities; unknown ones rank lowest.
func severityRank(s string) int {
	switch s {
	case "critical":
		return 5
	case "high":
		return 4
	case "medium":
		return 3
	case "low":
		return 2
	case "info":
		return 1
	}
	return 0
}

// ValidSeverity reports whether s is one of the five severities.
func ValidSeverity(s string) bool { return severityRank(s) > 0 }

// MemStore keeps assets and alerts in memory. It implements Store for the
// API and inventory.Persister (SaveAssets, SaveAlerts), so it can sit next
// to the database as the inventory's store and serve what the inventory
// saves, and it is the hub's working set. Safe for concurrent use.
type MemStore struct {
	mu      sync.RWMutex
	assets  map[string]*inventory.Asset
	alerts  map[string]*inventory.AlertRecord
	dropped uint64
}

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{assets: map[string]*inventory.Asset{}, alerts: map[string]*inventory.AlertRecord{}}
}

// SaveAssets stores (replaces by ID) each asset.
func (m *MemStore) SaveAssets(assets []inventory.Asset) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range assets {
		a := assets[i]
		if _, ok := m.assets[a.ID]; !ok && len(m.assets) >= MaxStoredAssets {
			m.dropped++
			continue
		}
		m.assets[a.ID] = &a
	}
	return nil
}

// SaveAlerts stores (replaces by ID) each alert.
func (m *MemStore) SaveAlerts(alerts []inventory.AlertRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range alerts {
		a := alerts[i]
		if _, ok := m.alerts[a.ID]; !ok && len(m.alerts) >= MaxStoredAlerts {
			m.evictAlert()
		}
		m.alerts[a.ID] = &a
	}
	return nil
}

// evictAlert drops the alert seen least recently.
func (m *MemStore) evictAlert() {
	var old *inventory.AlertRecord
	for _, a := range m.alerts {
		if old == nil || a.LastSeen.Before(old.LastSeen) || (a.LastSeen.Equal(old.LastSeen) && a.ID < old.ID) {
			old = a
		}
	}
	if old != nil {
		delete(m.alerts, old.ID)
		m.dropped++
	}
}

// Dropped counts assets and alerts not kept because a bound was hit.
func (m *MemStore) Dropped() uint64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.dropped
}

// Len is the number of assets and alerts held.
func (m *MemStore) Len() (assets, alerts int) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.assets), len(m.alerts)
}

// Asset implements Store.
func (m *MemStore) Asset(id string) (inventory.Asset, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	a, ok := m.assets[id]
	if !ok {
		return inventory.Asset{}, false, nil
	}
	return *a, true, nil
}

// AllAssets returns every asset, ordered by ID.
func (m *MemStore) AllAssets() []inventory.Asset {
	out, _ := m.Assets(AssetQuery{Limit: MaxStoredAssets})
	return out
}

// AllAlerts returns every alert, ordered by first seen then ID.
func (m *MemStore) AllAlerts() []inventory.AlertRecord {
	out, _ := m.Alerts(AlertQuery{Limit: MaxStoredAlerts})
	return out
}

// Assets implements Store.
func (m *MemStore) Assets(q AssetQuery) ([]inventory.Asset, error) {
	m.mu.RLock()
	var sel []*inventory.Asset
	for _, a := range m.assets {
		if a.ID > q.After && MatchAsset(a, &q) {
			sel = append(sel, a)
		}
	}
	slices.SortFunc(sel, func(a, b *inventory.Asset) int { return strings.Compare(a.ID, b.ID) })
	if len(sel) > q.Limit+1 {
		sel = sel[:q.Limit+1]
	}
	out := make([]inventory.Asset, len(sel))
	for i, a := range sel {
		out[i] = *a
	}
	m.mu.RUnlock()
	return out, nil
}

// MatchAsset reports whether a passes q's filters (not the cursor).
func MatchAsset(a *inventory.Asset, q *AssetQuery) bool {
	if q.Class != "" && a.Class != q.Class {
		return false
	}
	if q.MAC != "" && !strings.EqualFold(a.MAC, q.MAC) {
		return false
	}
	if q.Internal != nil && a.Internal != *q.Internal {
		return false
	}
	if q.IP != "" && a.IP != q.IP && !slices.ContainsFunc(a.IPs, func(s inventory.IPSeen) bool { return s.IP == q.IP }) {
		return false
	}
	if q.Sensor != "" && !slices.Contains(a.Sensors, q.Sensor) {
		return false
	}
	if q.VLAN != 0 && !slices.Contains(a.VLANs, q.VLAN) {
		return false
	}
	if q.Severity != "" {
		r, o := severityRank(q.Severity), a.Risk.OpenAlerts
		if !(o.Critical > 0 && r <= 5 || o.High > 0 && r <= 4 || o.Medium > 0 && r <= 3 || o.Low > 0 && r <= 2 || o.Info > 0 && r <= 1) {
			return false
		}
	}
	return true
}

// Alerts implements Store.
func (m *MemStore) Alerts(q AlertQuery) ([]inventory.AlertRecord, error) {
	m.mu.RLock()
	var sel []*inventory.AlertRecord
	for _, a := range m.alerts {
		if AlertAfter(a, &q) && MatchAlert(a, &q) {
			sel = append(sel, a)
		}
	}
	slices.SortFunc(sel, func(a, b *inventory.AlertRecord) int {
		if c := a.FirstSeen.Compare(b.FirstSeen); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if len(sel) > q.Limit+1 {
		sel = sel[:q.Limit+1]
	}
	out := make([]inventory.AlertRecord, len(sel))
	for i, a := range sel {
		out[i] = *a
	}
	m.mu.RUnlock()
	return out, nil
}

// AlertAfter reports whether a sorts after q's cursor.
func AlertAfter(a *inventory.AlertRecord, q *AlertQuery) bool {
	if q.AfterID == "" && q.AfterTime.IsZero() {
		return true
	}
	if c := a.FirstSeen.Compare(q.AfterTime); c != 0 {
		return c > 0
	}
	return a.ID > q.AfterID
}

// MatchAlert reports whether a passes q's filters (not the cursor).
func MatchAlert(a *inventory.AlertRecord, q *AlertQuery) bool {
	if !q.Since.IsZero() && a.LastSeen.Before(q.Since) {
		return false
	}
	if q.Severity != "" && severityRank(a.Severity) < severityRank(q.Severity) {
		return false
	}
	if q.Rule != "" && a.RuleID != q.Rule {
		return false
	}
	if q.Sensor != "" && a.Sensor != q.Sensor {
		return false
	}
	if q.AssetID != "" && !slices.Contains(a.AssetIDs, q.AssetID) {
		return false
	}
	return true
}

// AlertsByID returns the alert with that id (none or one).
func (m *MemStore) AlertsByID(id string) []inventory.AlertRecord {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if a, ok := m.alerts[id]; ok {
		return []inventory.AlertRecord{*a}
	}
	return nil
}
