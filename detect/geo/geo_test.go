package geo

import (
	"net/netip"
	"strings"
	"testing"
)

func TestDefault(t *testing.T) {
	db, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if !strings.Contains(db.Version(), "2.3.2026061719") || !strings.Contains(db.Version(), "built ") {
		t.Errorf("version %q", db.Version())
	}
	for _, tc := range []struct{ ip, want string }{
		{"10.1.2.3", ""},
		{"127.0.0.1", ""},
		{"8.8.8.8", "US"},
	} {
		if got := db.Country(netip.MustParseAddr(tc.ip)); got != tc.want {
			t.Errorf("%s: got %q want %q", tc.ip, got, tc.want)
		}
	}
}

func TestCountryAllocFree(t *testing.T) {
	db, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddr("8.8.8.8")
	db.Country(a)
	if n := testing.AllocsPerRun(100, func() { db.Country(a) }); n != 0 {
		t.Errorf("cached lookup allocates %v times", n)
	}
}

func BenchmarkCountryCached(b *testing.B) {
	db, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	a := netip.MustParseAddr("8.8.8.8")
	b.ReportAllocs()
	for b.Loop() {
		db.Country(a)
	}
}
