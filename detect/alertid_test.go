package detect

import (
	"path/filepath"
	"regexp"
	"testing"
)

func TestAlertIDFormat(t *testing.T) {
	a := AlertID("MT-PHI-001", "1:abc=", 0, "2026-11-23T10:00:00.000000000Z", "10.0.0.1", "")
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(a) {
		t.Fatalf("id %q: want 16 hex digits", a)
	}
	if b := AlertID("MT-PHI-001", "1:abc=", 0, "2026-11-23T10:00:00.000000000Z", "10.0.0.1", ""); a != b {
		t.Fatalf("same input, ids %q and %q", a, b)
	}
	// Each part changes the id, and parts do not run into each other.
	for _, c := range [][6]string{
		{"MT-PHI-002", "1:abc=", "0", "2026-11-23T10:00:00.000000000Z", "10.0.0.1", ""},
		{"MT-PHI-001", "1:abd=", "0", "2026-11-23T10:00:00.000000000Z", "10.0.0.1", ""},
		{"MT-PHI-001", "1:abc=", "7", "2026-11-23T10:00:00.000000000Z", "10.0.0.1", ""},
		{"MT-PHI-001", "1:abc=", "0", "2026-11-23T10:00:00.000000001Z", "10.0.0.1", ""},
		{"MT-PHI-001", "1:abc=", "0", "2026-11-23T10:00:00.000000000Z", "10.0.0.2", ""},
		{"MT-PHI-001", "1:abc=", "0", "2026-11-23T10:00:00.000000000Z", "10.0.0.1", "x"},
		{"MT-PHI-001", "1:abc=", "0", "2026-11-23T10:00:00.000000000Z", "10.0.0.", "1"},
	} {
		vlan := uint16(0)
		if c[2] == "7" {
			vlan = 7
		}
		if b := AlertID(c[0], c[1], vlan, c[3], c[4], c[5]); b == a {
			t.Errorf("%v: same id as the base case", c)
		}
	}
}

// Every alert of every detection case has an id, unique in its run and the
// same on a second run.
func TestAlertIDsInCases(t *testing.T) {
	idRE := regexp.MustCompile(`^[0-9a-f]{16}$`)
	for _, dir := range caseDirs(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			ids := func() []string {
				_, res := runCase(t, dir, nil)
				var out []string
				for _, a := range res.alerts {
					id, _ := a["alert"].(map[string]any)["alert_id"].(string)
					out = append(out, id)
				}
				return out
			}
			first, second := ids(), ids()
			seen := map[string]bool{}
			for i, id := range first {
				if !idRE.MatchString(id) {
					t.Errorf("alert %d: id %q", i, id)
				}
				if seen[id] {
					t.Errorf("alert %d: id %s used twice", i, id)
				}
				seen[id] = true
				if i >= len(second) || second[i] != id {
					t.Errorf("alert %d: id changed between runs", i)
				}
			}
		})
	}
}
