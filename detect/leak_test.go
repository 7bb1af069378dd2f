package detect

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/medtap/medtap/detect/leaktest"
)

// patientMarkers lists the synthetic patient values known to be in the
// test captures (detect/leaktest).
func patientMarkers(t *testing.T) []string {
	t.Helper()
	m, err := leaktest.Markers("..")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestNoPatientDataInOutput runs every case and fails if any synthetic
// patient value appears in the events, the alerts or the log: in default
// mode, and (masking whole values) in masked mode too.
func TestNoPatientDataInOutput(t *testing.T) {
	markers := patientMarkers(t)
	for _, mode := range []string{EvidenceDefault, EvidenceMasked} {
		for _, dir := range caseDirs(t) {
			_, res := runCase(t, dir, &mode)
			for _, out := range []struct{ name, text string }{{"events", res.events}, {"alerts", res.alertJ}, {"log", res.log}} {
				for _, m := range markers {
					if strings.Contains(out.text, m) {
						t.Errorf("%s (evidence %q): %s contain patient value %q", filepath.Base(dir), mode, out.name, m)
					}
				}
			}
			if mode == EvidenceDefault && strings.Contains(res.alertJ, `"masked"`) {
				t.Errorf("%s: masked excerpts in default mode", filepath.Base(dir))
			}
		}
	}
}
