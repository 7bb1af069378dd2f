package detect

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// Alert is the body of an "alert" event. The flow (src_ip, dest_ip, ports,
// community_id) is in the event envelope. Field names are stable
// lower_snake_case: other tools parse them.
//
// An alert never holds a patient value: evidence names fields, tags and
// categories, counts them, and stands a keyed pseudonym in for each patient
// identifier. Masked excerpts appear only with Options.Evidence = "masked".
type Alert struct {
	// ID names the alert across tools (carve, reports, tickets): AlertID
	// of its rule, flow, first time and asset, so the same input gives the
	// same id on every run.
	ID           string      `json:"alert_id"`
	RuleID       string      `json:"rule_id"`
	Title        string      `json:"title"`
	Severity     string      `json:"severity"` // info, low, medium, high, critical
	Category     string      `json:"category"`
	Capability   []string    `json:"capability"`    // NMPA 2022 capability codes
	Threat       string      `json:"threat"`        // read, manipulate, spoof, flood, redirect, ransom
	DataCategory string      `json:"data_category"` // sensitive_medical, non_sensitive_medical, device, unknown
	Protocol     string      `json:"protocol,omitempty"`
	Assets       []Asset     `json:"assets,omitempty"`
	Evidence     Evidence    `json:"evidence"`
	Remediation  Remediation `json:"remediation"`
	Count        int         `json:"count"` // findings folded into this alert
	FirstSeen    string      `json:"first_seen"`
	LastSeen     string      `json:"last_seen"`
	// Suppressed counts earlier alerts of this rule and asset dropped by
	// the rate limit since the last one emitted.
	Suppressed int `json:"suppressed,omitempty"`
	// RateLimited marks the summary emitted at Close for alerts of one
	// rule and asset dropped by the rate limit (Count holds how many).
	RateLimited bool `json:"rate_limited,omitempty"`
}

// EventType implements parser.Body.
func (*Alert) EventType() string { return "alert" }

// Asset is a node an alert is about. Addresses, AE titles and HL7
// application names identify devices, not patients.
type Asset struct {
	IP          string `json:"ip"`
	Role        string `json:"role"` // client, server, sender, peer
	AETitle     string `json:"ae_title,omitempty"`
	Application string `json:"application,omitempty"` // HL7 MSH-3^MSH-4
	DeviceClass string `json:"device_class,omitempty"`
	Country     string `json:"country,omitempty"`
}

// Evidence says what was found, without values.
type Evidence struct {
	Fields        []string `json:"fields,omitempty"`         // HL7/ASTM field paths: PID-5, P-6
	Tags          []string `json:"tags,omitempty"`           // DICOM tags: (0010,0010)
	PHICategories []string `json:"phi_categories,omitempty"` // name, id_number, birth_date...
	Patients      []string `json:"patients,omitempty"`       // pseudonyms of patient identifiers (at most maxPatients)
	PatientCount  int      `json:"patient_count,omitempty"`  // distinct identifiers seen
	Messages      int      `json:"messages,omitempty"`       // messages or datasets with the finding
	Masked        []string `json:"masked,omitempty"`         // only with Evidence "masked": FIELD=excerpt
	// Details holds rule-specific facts (commands, AE titles, versions,
	// countries, counts); keys are stable per rule and documented in
	// RULES.md.
	Details map[string]any `json:"details,omitempty"`
}

// Remediation is advice in Chinese and English.
type Remediation struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// AlertID is the stable id of an alert: the first 16 hex digits of the
// SHA-256 of its rule id, the flow's Community ID and VLAN (empty and 0 for
// alerts without a flow), its first_seen text, its primary asset and the
// rule's sub-key (what tells two alerts of one rule on one flow apart). It
// depends only on the input, never on the run, and holds no patient value.
func AlertID(rule, communityID string, vlan uint16, firstSeen, asset, sub string) string {
	h := sha256.New()
	var buf [8]byte
	for i, s := range [...]string{rule, communityID, string(strconv.AppendUint(buf[:0], uint64(vlan), 10)), firstSeen, asset, sub} {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write([]byte(s))
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:8])
}
