// Package geo maps IP addresses to countries for medtap's cross-border rules.
// It reads MaxMind-format (MMDB) databases whose records hold a
// "country_code" (ip-location-db layout) or "country.iso_code" (GeoLite2 /
// GeoIP2 Country layout).
//
// Default opens the embedded database: ip-location-db's
// geo-whois-asn-country (npm @ip-location-db/geo-whois-asn-country-mmdb,
// version in DefaultVersion; see data/README.md for its licence). Open reads
// another file (`medtap analyze --geoip FILE`).
//
// Lookups are cached per address in a bounded map, so repeated lookups of a
// peer cost one map access and allocate nothing. A DB is not safe for
// concurrent use: each detection engine owns one.
package geo

import (
	_ "embed"
	"fmt"
	"net/netip"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"
)

//go:embed data/geo-whois-asn-country.mmdb
var defaultMMDB []byte

// DefaultVersion is the npm package version of the embedded database.
const DefaultVersion = "@ip-location-db/geo-whois-asn-country-mmdb 2.3.2026061719"

// MaxCached bounds the per-address cache; when full it is emptied.
const MaxCached = 1 << 16

// DB is an opened country database with its lookup cache.
type DB struct {
	r       *maxminddb.Reader
	version string
	byAddr  map[netip.Addr]string
	byOff   map[uintptr]string
}

// Default opens the embedded database.
func Default() (*DB, error) {
	r, err := maxminddb.OpenBytes(defaultMMDB)
	if err != nil {
		return nil, fmt.Errorf("open embedded geo database: %w", err)
	}
	return newDB(r, DefaultVersion), nil
}

// Open opens an MMDB file.
func Open(path string) (*DB, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open geo database %s: %w", path, err)
	}
	return newDB(r, ""), nil
}

func newDB(r *maxminddb.Reader, pkg string) *DB {
	m := r.Metadata
	v := m.DatabaseType
	if d := m.Description["en"]; d != "" && d != v {
		v += " (" + d + ")"
	}
	v += ", built " + m.BuildTime().UTC().Format(time.RFC3339)
	if pkg != "" {
		v = pkg + ": " + v
	}
	return &DB{r: r, version: v, byAddr: make(map[netip.Addr]string), byOff: make(map[uintptr]string)}
}

// Version describes the database: package (for the embedded one), type,
// description and build time from its metadata. Cross-border alerts carry
// it so a verdict can be traced to the data that made it.
func (db *DB) Version() string { return db.version }

// Close releases the database.
func (db *DB) Close() error { return db.r.Close() }

// Country returns the ISO 3166-1 alpha-2 code of a, or "" when the database
// has no record (private and reserved ranges, gaps).
func (db *DB) Country(a netip.Addr) string {
	a = a.Unmap()
	if c, ok := db.byAddr[a]; ok {
		return c
	}
	c := db.lookup(a)
	if len(db.byAddr) >= MaxCached {
		clear(db.byAddr)
	}
	db.byAddr[a] = c
	return c
}

func (db *DB) lookup(a netip.Addr) string {
	res := db.r.Lookup(a)
	if res.Err() != nil || !res.Found() {
		return ""
	}
	off := res.Offset()
	if c, ok := db.byOff[off]; ok {
		return c
	}
	var c string
	if err := res.DecodePath(&c, "country_code"); err != nil || c == "" {
		c = ""
		_ = res.DecodePath(&c, "country", "iso_code")
	}
	if len(db.byOff) < MaxCached {
		db.byOff[off] = c
	}
	return c
}
