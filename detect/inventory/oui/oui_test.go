package oui

import (
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	for _, c := range []struct {
		mac  [6]byte
		want string
	}{
		{[6]byte{0x00, 0x00, 0x0c, 1, 2, 3}, "Cisco"},               // MA-L 00000C
		{[6]byte{0x08, 0x00, 0x27, 1, 2, 3}, "PCS"},                 // MA-L 080027, VirtualBox's
		{[6]byte{0x02, 0x00, 0x00, 0, 0x0d, 1}, ""},                 // locally administered
		{[6]byte{0x70, 0xb3, 0xd5, 0xf2, 0xf0, 1}, "TELEPLATFORMS"}, // MA-S 70B3D5F2F
	} {
		if got := Lookup(c.mac); !strings.Contains(got, c.want) || (c.want == "" && got != "") {
			t.Errorf("Lookup(% x) = %q, want %q", c.mac, got, c.want)
		}
	}
	if Len() < 30000 {
		t.Errorf("table holds %d prefixes", Len())
	}
	if !strings.HasPrefix(Version(), "IEEE registries of 20") {
		t.Errorf("Version() = %q", Version())
	}
}

func TestLookupAllocs(t *testing.T) {
	Lookup([6]byte{})
	mac := [6]byte{0x00, 0x00, 0x0c, 1, 2, 3}
	if n := testing.AllocsPerRun(100, func() { Lookup(mac) }); n != 0 {
		t.Errorf("Lookup allocates %.0f times", n)
	}
}
