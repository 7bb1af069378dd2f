// Package oui names the organisation an Ethernet address was assigned to,
// from the IEEE registries (MA-L, MA-M, MA-S and IAB) embedded in the
// binary. The table is generated from Debian's ieee-data package (see
// README.md for provenance, date and licence); `go generate` rebuilds it.
package oui

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/hex"
	"strings"
	"sync"
)

//go:generate go run ./gen -o oui.tsv.gz -version VERSION

//go:embed oui.tsv.gz
var table []byte

//go:embed VERSION
var version string

// Version is the registry's date, for report metadata ("ieee-data 2022-08-27...").
func Version() string { return strings.TrimSpace(version) }

// The three prefix lengths the registries assign.
type tables struct {
	l map[uint32]string // 24 bits
	m map[uint32]string // 28 bits
	s map[uint64]string // 36 bits
}

var (
	once sync.Once
	t    tables
)

func load() {
	t = tables{l: map[uint32]string{}, m: map[uint32]string{}, s: map[uint64]string{}}
	zr, err := gzip.NewReader(bytes.NewReader(table))
	if err != nil {
		panic("oui: embedded table: " + err.Error()) // a build defect, caught by the tests
	}
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		bits, rest, _ := strings.Cut(sc.Text(), "\t")
		prefix, org, _ := strings.Cut(rest, "\t")
		if len(prefix)%2 == 1 {
			prefix += "0"
		}
		b, err := hex.DecodeString(prefix)
		if err != nil {
			continue
		}
		var v uint64
		for _, x := range b {
			v = v<<8 | uint64(x)
		}
		switch bits {
		case "24":
			t.l[uint32(v)] = org
		case "28":
			t.m[uint32(v>>4)] = org
		case "36":
			t.s[v>>4] = org
		}
	}
}

// Lookup returns the organisation of a MAC address, most specific
// assignment first; "" for unassigned, private and locally administered
// addresses.
func Lookup(mac [6]byte) string {
	if mac[0]&0x02 != 0 {
		return "" // locally administered: no registry entry applies
	}
	once.Do(load)
	v := uint64(mac[0])<<40 | uint64(mac[1])<<32 | uint64(mac[2])<<24 | uint64(mac[3])<<16 | uint64(mac[4])<<8 | uint64(mac[5])
	if org, ok := t.s[v>>12]; ok {
		return org
	}
	if org, ok := t.m[uint32(v>>20)]; ok {
		return org
	}
	return t.l[uint32(v>>24)]
}

// Len is the number of prefixes in the table.
func Len() int {
	once.Do(load)
	return len(t.l) + len(t.m) + len(t.s)
}
