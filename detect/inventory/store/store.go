// Package store keeps medtap's inventory, alerts and run records in one
// SQLite file (modernc.org/sqlite: pure Go, and the file opens in the
// sqlite3 command-line shell). The schema is versioned: each migration
// runs once, in a transaction, and is recorded in schema_migrations.
// The database runs in WAL mode and every save is one transaction, so a
// crash (even SIGKILL) loses at most the batch being written and never
// corrupts the file.
//
// Assets are stored as their JSON (the inventory.Asset model) with the
// columns one filters on beside it; query them with sqlite3 and
// json_extract, for example:
//
//	sqlite3 inventory.db "select ip, class, json_extract(data,'$.medical.manufacturer') from assets"
package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/medtap/medtap/detect/inventory"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// BusyTimeout is how long a writer waits for another connection's lock
// (a `medtap assets` reading while a sensor writes) before failing.
const BusyTimeout = 5 * time.Second

// migrations are the schema versions in order; version i+1 is
// migrations[i]. Never edit one that has shipped: add a new one.
var migrations = []string{
	// 1: assets, their address history, alerts and runs.
	`CREATE TABLE assets (
		id         TEXT PRIMARY KEY,
		mac        TEXT NOT NULL DEFAULT '',
		ip         TEXT NOT NULL DEFAULT '',
		vendor     TEXT NOT NULL DEFAULT '',
		class      TEXT NOT NULL DEFAULT 'unknown',
		first_seen TEXT NOT NULL,
		last_seen  TEXT NOT NULL,
		data       TEXT NOT NULL
	);
	CREATE INDEX assets_mac ON assets(mac);
	CREATE INDEX assets_ip ON assets(ip);
	CREATE TABLE asset_ips (
		asset_id   TEXT NOT NULL,
		ip         TEXT NOT NULL,
		first_seen TEXT NOT NULL,
		last_seen  TEXT NOT NULL,
		PRIMARY KEY (asset_id, ip)
	);
	CREATE INDEX asset_ips_ip ON asset_ips(ip);
	CREATE TABLE runs (
		id               INTEGER PRIMARY KEY AUTOINCREMENT,
		command          TEXT NOT NULL,
		sensor           TEXT NOT NULL DEFAULT '',
		started          TEXT NOT NULL,
		finished         TEXT NOT NULL DEFAULT '',
		first_packet     TEXT NOT NULL DEFAULT '',
		last_packet      TEXT NOT NULL DEFAULT '',
		medtap_version   TEXT NOT NULL DEFAULT '',
		rule_set_version TEXT NOT NULL DEFAULT '',
		geo_db_version   TEXT NOT NULL DEFAULT '',
		policy           TEXT NOT NULL DEFAULT '',
		packets          INTEGER NOT NULL DEFAULT 0,
		events           INTEGER NOT NULL DEFAULT 0,
		alerts           INTEGER NOT NULL DEFAULT 0,
		inputs           TEXT NOT NULL DEFAULT '[]'
	);
	CREATE TABLE alerts (
		id            TEXT PRIMARY KEY,
		rule_id       TEXT NOT NULL,
		title         TEXT NOT NULL,
		severity      TEXT NOT NULL,
		category      TEXT NOT NULL,
		capability    TEXT NOT NULL,
		data_category TEXT NOT NULL,
		protocol      TEXT NOT NULL DEFAULT '',
		asset_ids     TEXT NOT NULL DEFAULT '[]',
		src_ip        TEXT NOT NULL DEFAULT '',
		src_port      INTEGER NOT NULL DEFAULT 0,
		dest_ip       TEXT NOT NULL DEFAULT '',
		dest_port     INTEGER NOT NULL DEFAULT 0,
		proto         TEXT NOT NULL DEFAULT '',
		vlan          INTEGER NOT NULL DEFAULT 0,
		community_id  TEXT NOT NULL DEFAULT '',
		sensor        TEXT NOT NULL DEFAULT '',
		count         INTEGER NOT NULL DEFAULT 1,
		first_seen    TEXT NOT NULL,
		last_seen     TEXT NOT NULL,
		run_id        INTEGER NOT NULL DEFAULT 0,
		event         TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX alerts_rule ON alerts(rule_id);
	CREATE INDEX alerts_severity ON alerts(severity);`,
}

// SchemaVersion is the schema version this medtap writes.
var SchemaVersion = len(migrations)

// Store is an open inventory database. Its methods are safe for
// concurrent use (database/sql serialises them on one connection).
type Store struct {
	db    *sql.DB
	path  string
	runID int64
}

// Open opens the database at path, creating it if needed, and brings its
// schema up to date. An existing inventory is continued.
func Open(path string) (*Store, error) {
	return open(path, true)
}

// OpenExisting opens a database that must exist already (the readers:
// `medtap assets`, reports).
func OpenExisting(path string) (*Store, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no inventory database at %s (make one with medtap analyze --db %s CAPTURE)", path, path)
		}
		return nil, fmt.Errorf("inventory database %s: %w", path, err)
	}
	return open(path, false)
}

func open(path string, create bool) (*Store, error) {
	mode := "rw"
	if create {
		mode = "rwc"
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?mode=" + mode +
		fmt.Sprintf("&_pragma=busy_timeout(%d)", BusyTimeout.Milliseconds()) +
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open inventory %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	s := &Store{db: db, path: path}
	if err := s.migrate(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open inventory %s: %w", path, err)
	}
	return s, nil
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

func (s *Store) migrate() error {
	if _, err := s.db.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("not a medtap inventory (or unreadable): %w", err)
	}
	var have int
	if err := s.db.QueryRow(`SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return err
	}
	if have > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this medtap's %d: use a newer medtap", have, len(migrations))
	}
	for v := have + 1; v <= len(migrations); v++ {
		err := s.tx(func(tx *sql.Tx) error {
			if _, err := tx.Exec(migrations[v-1]); err != nil {
				return fmt.Errorf("migration %d: %w", v, err)
			}
			_, err := tx.Exec(`INSERT INTO schema_migrations (version, applied) VALUES (?, ?)`, v, now())
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Version is the database's schema version.
func (s *Store) Version() (int, error) {
	var v int
	err := s.db.QueryRow(`SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

func (s *Store) tx(fn func(tx *sql.Tx) error) error {
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func now() string { return ts(time.Now()) }

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func parseTS(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// Reset empties the inventory, its alerts and runs (analyze --fresh).
func (s *Store) Reset() error {
	return s.tx(func(tx *sql.Tx) error {
		for _, t := range []string{"assets", "asset_ips", "alerts", "runs"} {
			if _, err := tx.Exec(`DELETE FROM ` + t); err != nil {
				return fmt.Errorf("reset inventory: %w", err)
			}
		}
		return nil
	})
}

// SaveAssets writes assets (insert or replace) in one transaction.
func (s *Store) SaveAssets(assets []inventory.Asset) error {
	if len(assets) == 0 {
		return nil
	}
	err := s.tx(func(tx *sql.Tx) error {
		up, err := tx.Prepare(`INSERT INTO assets (id, mac, ip, vendor, class, first_seen, last_seen, data) VALUES (?,?,?,?,?,?,?,?)
			ON CONFLICT(id) DO UPDATE SET mac=excluded.mac, ip=excluded.ip, vendor=excluded.vendor, class=excluded.class,
			first_seen=excluded.first_seen, last_seen=excluded.last_seen, data=excluded.data`)
		if err != nil {
			return err
		}
		defer up.Close()
		ips, err := tx.Prepare(`INSERT INTO asset_ips (asset_id, ip, first_seen, last_seen) VALUES (?,?,?,?)
			ON CONFLICT(asset_id, ip) DO UPDATE SET first_seen=excluded.first_seen, last_seen=excluded.last_seen`)
		if err != nil {
			return err
		}
		defer ips.Close()
		for i := range assets {
			a := &assets[i]
			data, err := json.Marshal(a)
			if err != nil {
				return err
			}
			if _, err := up.Exec(a.ID, a.MAC, a.IP, a.Vendor, a.Class, ts(a.FirstSeen), ts(a.LastSeen), string(data)); err != nil {
				return err
			}
			for _, ip := range a.IPs {
				if _, err := ips.Exec(a.ID, ip.IP, ts(ip.FirstSeen), ts(ip.LastSeen)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save assets to %s: %w", s.path, err)
	}
	return nil
}

// DeleteAsset removes an asset (merged into another).
func (s *Store) DeleteAsset(id string) error {
	return s.tx(func(tx *sql.Tx) error {
		if _, err := tx.Exec(`DELETE FROM assets WHERE id = ?`, id); err != nil {
			return err
		}
		_, err := tx.Exec(`DELETE FROM asset_ips WHERE asset_id = ?`, id)
		return err
	})
}

// LoadAssets reads every asset, ordered by first seen and id.
func (s *Store) LoadAssets() ([]inventory.Asset, error) {
	rows, err := s.db.Query(`SELECT id, data FROM assets ORDER BY first_seen, id`)
	if err != nil {
		return nil, fmt.Errorf("read assets from %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []inventory.Asset
	for rows.Next() {
		var id, data string
		if err := rows.Scan(&id, &data); err != nil {
			return nil, err
		}
		var a inventory.Asset
		if err := json.Unmarshal([]byte(data), &a); err != nil {
			return nil, fmt.Errorf("read assets from %s: asset %s: %w", s.path, id, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// SaveAlerts writes alerts (insert or replace by alert id) in one
// transaction, stamped with the current run.
func (s *Store) SaveAlerts(alerts []inventory.AlertRecord) error {
	if len(alerts) == 0 {
		return nil
	}
	err := s.tx(func(tx *sql.Tx) error {
		st, err := tx.Prepare(`INSERT OR REPLACE INTO alerts (id, rule_id, title, severity, category, capability, data_category,
			protocol, asset_ids, src_ip, src_port, dest_ip, dest_port, proto, vlan, community_id, sensor, count, first_seen,
			last_seen, run_id, event) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for i := range alerts {
			a := &alerts[i]
			capab, _ := json.Marshal(nonNil(a.Capability))
			ids, _ := json.Marshal(nonNil(a.AssetIDs))
			run := a.RunID
			if run == 0 {
				run = s.runID
			}
			if _, err := st.Exec(a.ID, a.RuleID, a.Title, a.Severity, a.Category, string(capab), a.DataCategory, a.Protocol,
				string(ids), a.SrcIP, a.SrcPort, a.DestIP, a.DestPort, a.Proto, a.VLAN, a.CommunityID, a.Sensor, a.Count,
				ts(a.FirstSeen), ts(a.LastSeen), run, string(a.Event)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save alerts to %s: %w", s.path, err)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// AlertFilter selects alerts; zero fields select everything.
type AlertFilter struct {
	RunID   int64
	AssetID string
	RuleID  string
}

// Alerts reads alerts, ordered by first seen and id.
func (s *Store) Alerts(f AlertFilter) ([]inventory.AlertRecord, error) {
	q := `SELECT id, rule_id, title, severity, category, capability, data_category, protocol, asset_ids, src_ip, src_port,
		dest_ip, dest_port, proto, vlan, community_id, sensor, count, first_seen, last_seen, run_id, event FROM alerts`
	var where []string
	var args []any
	if f.RunID != 0 {
		where, args = append(where, "run_id = ?"), append(args, f.RunID)
	}
	if f.RuleID != "" {
		where, args = append(where, "rule_id = ?"), append(args, f.RuleID)
	}
	if f.AssetID != "" {
		where, args = append(where, "EXISTS (SELECT 1 FROM json_each(asset_ids) WHERE value = ?)"), append(args, f.AssetID)
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY first_seen, id"
	rows, err := s.db.Query(q, args...)
	if err != nil {
		return nil, fmt.Errorf("read alerts from %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []inventory.AlertRecord
	for rows.Next() {
		var a inventory.AlertRecord
		var capab, ids, first, last, ev string
		if err := rows.Scan(&a.ID, &a.RuleID, &a.Title, &a.Severity, &a.Category, &capab, &a.DataCategory, &a.Protocol, &ids,
			&a.SrcIP, &a.SrcPort, &a.DestIP, &a.DestPort, &a.Proto, &a.VLAN, &a.CommunityID, &a.Sensor, &a.Count,
			&first, &last, &a.RunID, &ev); err != nil {
			return nil, err
		}
		json.Unmarshal([]byte(capab), &a.Capability)
		json.Unmarshal([]byte(ids), &a.AssetIDs)
		a.FirstSeen, a.LastSeen = parseTS(first), parseTS(last)
		if ev != "" {
			a.Event = []byte(ev)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// StartRun records the start of a run and stamps later alerts with it.
func (s *Store) StartRun(r inventory.Run) (int64, error) {
	inputs, _ := json.Marshal(r.Inputs)
	res, err := s.db.Exec(`INSERT INTO runs (command, sensor, started, medtap_version, rule_set_version, geo_db_version, policy, inputs)
		VALUES (?,?,?,?,?,?,?,?)`, r.Command, r.Sensor, ts(r.Started), r.MedtapVersion, r.RuleSetVersion, r.GeoDBVersion, r.Policy, string(inputs))
	if err != nil {
		return 0, fmt.Errorf("record run in %s: %w", s.path, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	s.runID = id
	return id, nil
}

// FinishRun records a run's end, time window and counts (r.ID names it).
func (s *Store) FinishRun(r inventory.Run) error {
	// Fields left empty keep what StartRun recorded.
	inputs := ""
	if r.Inputs != nil {
		b, _ := json.Marshal(r.Inputs)
		inputs = string(b)
	}
	_, err := s.db.Exec(`UPDATE runs SET finished=?, first_packet=?, last_packet=?, packets=?, events=?, alerts=?,
		inputs=COALESCE(NULLIF(?, ''), inputs), geo_db_version=COALESCE(NULLIF(?, ''), geo_db_version),
		rule_set_version=COALESCE(NULLIF(?, ''), rule_set_version) WHERE id=?`, ts(r.Finished), ts(r.FirstPacket), ts(r.LastPacket),
		r.Packets, r.Events, r.Alerts, inputs, r.GeoDBVersion, r.RuleSetVersion, r.ID)
	if err != nil {
		return fmt.Errorf("record run in %s: %w", s.path, err)
	}
	return nil
}

// Runs reads the run records, oldest first.
func (s *Store) Runs() ([]inventory.Run, error) {
	rows, err := s.db.Query(`SELECT id, command, sensor, started, finished, first_packet, last_packet, medtap_version,
		rule_set_version, geo_db_version, policy, packets, events, alerts, inputs FROM runs ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read runs from %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []inventory.Run
	for rows.Next() {
		var r inventory.Run
		var started, finished, first, last, inputs string
		if err := rows.Scan(&r.ID, &r.Command, &r.Sensor, &started, &finished, &first, &last, &r.MedtapVersion,
			&r.RuleSetVersion, &r.GeoDBVersion, &r.Policy, &r.Packets, &r.Events, &r.Alerts, &inputs); err != nil {
			return nil, err
		}
		r.Started, r.Finished, r.FirstPacket, r.LastPacket = parseTS(started), parseTS(finished), parseTS(first), parseTS(last)
		json.Unmarshal([]byte(inputs), &r.Inputs)
		out = append(out, r)
	}
	return out, rows.Err()
}

// IntegrityCheck runs SQLite's integrity_check and returns its verdict
// ("ok" when the file is sound).
func (s *Store) IntegrityCheck() (string, error) {
	var res string
	err := s.db.QueryRow(`PRAGMA integrity_check`).Scan(&res)
	return res, err
}
