package detect

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/medtap/medtap/parsers/astm"
	"github.com/medtap/medtap/parsers/dicom"
	"github.com/medtap/medtap/parsers/hl7"
	"github.com/medtap/medtap/sensor/event"
)

// phiSeverity grades a set of personal-information categories (the dicom
// and hl7 packages' closed sets), following the NMPA list: identity-card
// and insurance numbers critical; name, birth date, address, phone high.
func phiSeverity(cats []string) string {
	best := ""
	rank := -1
	for _, c := range cats {
		s, r := "medium", 2
		switch c {
		case "id_number", "insurance":
			s, r = "critical", 4
		case "name", "birth_date", "address", "phone", "email", "other_patient":
			s, r = "high", 3
		case "staff_name":
			s, r = "low", 1
		}
		if r > rank {
			best, rank = s, r
		}
	}
	return best
}

// identifying reports whether a category identifies a patient (for the
// de-identification check).
func identifying(c string) bool {
	switch c {
	case "name", "id", "id_number", "birth_date", "address", "phone", "email", "other_patient", "insurance":
		return true
	}
	return false
}

// patientIDTag reports whether a DICOM tag holds a patient identifier to
// pseudonymise: PatientID and OtherPatientIDs (AccessionNumber and
// AdmissionID are "id" too, but identify an order or a stay).
func patientIDTag(t uint32) bool { return t == 0x00100020 || t == 0x00101000 }

// patientIDField reports whether an HL7 or ASTM field (or a category found
// by the value scan) holds a patient identifier to pseudonymise: PID-2/3/4,
// ASTM P-3/4/5, and national identity numbers anywhere.
func patientIDField(field, cat string) bool {
	if cat == "id_number" {
		return true
	}
	switch field {
	case "PID-2", "PID-3", "PID-4", "P-3", "P-4", "P-5":
		return true
	}
	return false
}

func tagString(t uint32) string { return fmt.Sprintf("(%04X,%04X)", t>>16, t&0xffff) }

// Face-capable SOP classes: secondary capture (1.2.840.10008.5.1.4.1.1.7
// and its multi-frame variants .7.1-.7.4) and visible-light photography
// (.77.1.4, .77.1.4.1 video photographic).
func faceCapable(sopClass string) bool {
	const sc = "1.2.840.10008.5.1.4.1.1.7"
	if sopClass == sc || strings.HasPrefix(sopClass, sc+".") {
		return true
	}
	return sopClass == "1.2.840.10008.5.1.4.1.1.77.1.4" || sopClass == "1.2.840.10008.5.1.4.1.1.77.1.4.1"
}

// dicomEnds gives the sender of a request's dataset and the other side.
func dicomEnds(ev *event.Event, d *dicom.DIMSE) (req, other netip.Addr) {
	c, s := ipOf(ev.Flow.Client), ipOf(ev.Flow.Server)
	if d.RequestDirection == "to_client" {
		return s, c
	}
	return c, s
}

func (e *Engine) dimse(ev *event.Event, fs *flowState, d *dicom.DIMSE) {
	if ev.Flow == nil {
		return
	}
	req, _ := dicomEnds(ev, d)
	srv := ipOf(ev.Flow.Server)
	sop := d.SOPClassUID
	if sop == "" {
		sop = d.AbstractSyntax
	}

	// Patient values, minus query wildcards.
	wild := map[uint32]bool{}
	var cats, ids []string
	var masked []labelled
	for _, v := range d.PHI {
		if wildcardOnly(v.Value) {
			if !v.Response {
				wild[v.Tag] = true
			}
			continue
		}
		cats = addAll(cats, []string{v.Category})
		if patientIDTag(v.Tag) {
			ids = identifiers(v.Value, ids)
		}
		masked = append(masked, labelled{tagString(v.Tag), v.Value})
	}
	if len(d.PHI) == 0 {
		cats = d.PHICategories
	}
	var tags []string
	for _, t := range d.PHITags {
		keep := true
		for w := range wild {
			if t == tagString(w) {
				keep = false
			}
		}
		if keep {
			tags = append(tags, t)
		}
	}
	assets := []Asset{{IP: ipOf(ev.Flow.Client).String(), Role: "client"}, {IP: srv.String(), Role: "server"}}
	if len(cats) > 0 {
		fs.phi = true
		e.report(ev, fs, &finding{
			rule: RulePHIDICOM, severity: phiSeverity(cats), asset: srv, assets: assets, protocol: "dicom", clear: true,
			tags: tags, cats: cats, ids: ids, masked: masked, messages: 1,
			details: map[string]any{"commands": []string{d.Command}, "sop_classes": []string{sop}},
		})
	}
	if faceCapable(sop) && (d.DatasetBytes > 0 || d.ResponseDatasetBytes > 0) {
		sev := "high"
		for _, c := range cats {
			if identifying(c) {
				sev = "critical"
			}
		}
		e.report(ev, fs, &finding{
			rule: RuleFaceImage, severity: sev, asset: srv, assets: assets, protocol: "dicom", clear: true,
			tags: tags, cats: cats, ids: ids, messages: 1,
			details: map[string]any{"sop_classes": []string{sop}, "modality": d.Modality},
		})
	}
	if d.PatientIdentityRemoved {
		var idc []string
		for _, c := range cats {
			if identifying(c) {
				idc = append(idc, c)
			}
		}
		if len(idc) > 0 {
			e.report(ev, fs, &finding{
				rule: RuleDeidFalse, asset: srv, assets: assets, protocol: "dicom",
				tags: tags, cats: idc, ids: ids, messages: 1,
				details: map[string]any{"claim_tag": "(0012,0062)", "sop_classes": []string{sop}},
			})
		}
	}
	e.dimseOps(ev, fs, d, req, srv, assets, wild)
}

// hl7Message checks one HL7 message.
func (e *Engine) hl7Message(ev *event.Event, fs *flowState, m *hl7.Message) {
	if ev.Flow == nil {
		return
	}
	sender, _ := msgEnds(ev, m.Direction)
	vals := make([]phiVal, 0, len(m.PHI))
	for _, v := range m.PHI {
		vals = append(vals, phiVal{v.Field, v.Category, v.Value})
	}
	e.textPHI(ev, fs, RulePHIHL7, "hl7", m.PHICategories, m.PHIFields, vals, map[string]any{
		"message_types": []string{strings.Trim(m.MessageType+"^"+m.TriggerEvent, "^")},
	})
	if m.MessageType != "ACK" && m.SendingApplication != "" && !m.UnsolicitedAck {
		e.hl7Sender(ev, fs, m, sender)
	}
}

func (e *Engine) astmMessage(ev *event.Event, fs *flowState, m *astm.Message) {
	if ev.Flow == nil {
		return
	}
	sender, _ := msgEnds(ev, m.Direction)
	vals := make([]phiVal, 0, len(m.PHI))
	for _, v := range m.PHI {
		vals = append(vals, phiVal{v.Field, v.Category, v.Value})
	}
	e.textPHI(ev, fs, RulePHIASTM, "astm", m.PHICategories, m.PHIFields, vals, nil)
	if m.PasswordPresent {
		e.report(ev, fs, &finding{
			rule: RuleCredClear, asset: sender, protocol: "astm", clear: true, severity: "high",
			assets: []Asset{{IP: sender.String(), Role: "sender"}}, fields: []string{"H-4"}, messages: 1,
			details: map[string]any{"credential": "astm_access_password"},
		})
	}
}

type phiVal struct{ field, category, value string }

// msgEnds gives the sender and receiver of a message by its direction.
func msgEnds(ev *event.Event, dir string) (sender, receiver netip.Addr) {
	c, s := ipOf(ev.Flow.Client), ipOf(ev.Flow.Server)
	if dir == "to_client" {
		return s, c
	}
	return c, s
}

func (e *Engine) textPHI(ev *event.Event, fs *flowState, rule, proto string, cats, fields []string, vals []phiVal, details map[string]any) {
	if len(cats) == 0 {
		return
	}
	fs.phi = true
	var ids []string
	var masked []labelled
	for _, v := range vals {
		if patientIDField(v.field, v.category) {
			ids = identifiers(v.value, ids)
		}
		masked = append(masked, labelled{v.field, v.value})
	}
	c, s := ipOf(ev.Flow.Client), ipOf(ev.Flow.Server)
	e.report(ev, fs, &finding{
		rule: rule, severity: phiSeverity(cats), asset: s, protocol: proto, clear: true,
		assets: []Asset{{IP: c.String(), Role: "client"}, {IP: s.String(), Role: "server"}},
		fields: fields, cats: cats, ids: ids, masked: masked, messages: 1, details: details,
	})
}
