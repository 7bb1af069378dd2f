// Package report turns what medtap saw (the inventory's assets, the alerts
// and the runs that fed them) into evidence for the three kinds of user:
//
//   - device makers' regulatory submissions: the data-flow diagram per
//     capture or scenario (DOT, Mermaid, SVG), the electronic-interface
//     table per device (电子接口情况), the NMPA 2022 capability evidence
//     matrix;
//   - incident responders: findings grouped by device and rule, and a
//     timeline;
//   - CI: `medtap check`'s findings table and JUnit XML.
//
// Every artefact carries the capture metadata (input SHA-256s, time
// window, medtap, rule-set and geo database versions). Reports are built
// from values (Build takes []inventory.Asset, alerts and runs), so they
// are tested without a database; rendering is deterministic for a given
// input. Nothing here holds a patient value: alerts carry field names,
// categories and pseudonyms only, and reports print names and counts.
package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/medtap/medtap/detect"
)

// RuleSetVersion names the detection rule set: "rules-" and the first 12
// hex digits of the SHA-256 of the rule table (ids, severities, NMPA codes,
// threats, data categories). It changes whenever a rule is added, removed
// or remapped, so a report says which rules judged the capture.
func RuleSetVersion() string {
	type key struct {
		ID, Severity, Threat, DataCategory string
		Capability                         []string
	}
	var ks []key
	for _, r := range detect.Rules() {
		ks = append(ks, key{r.ID, r.Severity, r.Threat, r.DataCategory, r.Capability})
	}
	b, _ := json.Marshal(ks)
	sum := sha256.Sum256(b)
	return "rules-" + hex.EncodeToString(sum[:6])
}
