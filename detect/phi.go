package detect

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"

	"github.com/medtap/medtap/detect/policy"
	"github.com/medtap/medtap/parsers/astm"
	"github.com/medtap/medtap/parsers/dicom"
	"github.com/medtap/medtap/parsers/hl7"
	"github.com/medtap/medtap/sensor/event"
)

// phiSeverity grades a set of personal-information categories (the dicom
// and hl7 packages' closed sets, and textscan's), following the NMPA list:
// identity-card, insurance and bank card numbers critical; name, birth date, address, phone high.
func phiSeverity(cats []string) string {
	if r := phiRank(cats); r >= 0 {
		return policy.Severities[r]
	}
	return ""
}

// phiRank is phiSeverity as a rank in policy.Severities (-1: no
// categories).
func phiRank(cats []string) int {
	rank := -1
	for _, c := range cats {
		r := 2 // medium
		switch c {
		case "id_number", "insurance", "bank_card":
			return rankCritical // nothing ranks higher
		case "name", "birth_date", "address", "phone", "email", "other_patient":
			r = 3 // high
		case "staff_name":
			r = 1 // low
		}
		if r > rank {
			rank = r
		}
	}
	return rank
}

// rankCritical is the rank of "critical" in policy.Severities.
const rankCritical = 4

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

// appendTag appends "(GGGG,EEEE)" in upper-case hex.
func appendTag(b []byte, t uint32) []byte {
	const hexd = "0123456789ABCDEF"
	b = append(b, '(')
	for s := 28; s >= 16; s -= 4 {
		b = append(b, hexd[t>>s&0xf])
	}
	b = append(b, ',')
	for s := 12; s >= 0; s -= 4 {
		b = append(b, hexd[t>>s&0xf])
	}
	return append(b, ')')
}

// tagIs reports whether s is the text of tag t.
func tagIs(s string, t uint32) bool {
	var buf [11]byte
	return len(s) == len(buf) && string(appendTag(buf[:0], t)) == s
}

// faceBasis says why an image can show a face, or "": a secondary capture
// (SOP class 1.2.840.10008.5.1.4.1.1.7 and its multi-frame variants
// .7.1-.7.4: screen grabs, scanned photos); a visible-light photograph (SOP
// classes .77.1.4 and .77.1.4.1, or modality XC external camera, OP
// ophthalmic photography, ES endoscopy); or a CT or MR of the head, from
// which a face can be rendered in 3D (BodyPartExamined, CID 4031 terms).
func faceBasis(sopClass, modality, bodyPart string) string {
	const sc = "1.2.840.10008.5.1.4.1.1.7"
	switch {
	case sopClass == sc || strings.HasPrefix(sopClass, sc+"."):
		return "secondary_capture"
	case sopClass == "1.2.840.10008.5.1.4.1.1.77.1.4" || sopClass == "1.2.840.10008.5.1.4.1.1.77.1.4.1":
		return "photograph"
	}
	switch strings.TrimSpace(modality) {
	case "XC", "OP", "ES":
		return "photograph"
	case "CT", "MR":
		if headPart(bodyPart) {
			return "head_ct_mr"
		}
	}
	return ""
}

// headPart reports whether a BodyPartExamined value (CS, upper case) is the
// head or a part of the face.
func headPart(bp string) bool {
	switch strings.ToUpper(strings.TrimSpace(bp)) {
	case "HEAD", "BRAIN", "SKULL", "FACE", "HEADNECK", "HEAD NECK", "ORBIT", "EYE", "NOSE", "SINUS", "JAW", "MANDIBLE", "MAXILLA", "TMJ":
		return true
	}
	return false
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
	cli, srv := ipOf(ev.Flow.Client), ipOf(ev.Flow.Server)
	sop := d.SOPClassUID
	if sop == "" {
		sop = d.AbstractSyntax
	}

	// Patient values, minus query wildcards.
	wild, catBuf, ids, masked := e.wildBuf[:0], e.catBuf[:0], e.idBuf[:0], e.maskBuf[:0]
	for _, v := range d.PHI {
		if wildcardOnly(v.Value) {
			if !v.Response && !slices.Contains(wild, v.Tag) {
				wild = append(wild, v.Tag)
			}
			continue
		}
		if !containsStr(catBuf, v.Category) {
			catBuf = append(catBuf, v.Category)
		}
		if patientIDTag(v.Tag) {
			ids = identifiers(v.Value, ids)
		}
		if e.opts.Evidence == EvidenceMasked {
			var tb [11]byte
			masked = append(masked, labelled{e.in.bytes(appendTag(tb[:0], v.Tag)), v.Value})
		}
	}
	cats := catBuf
	if len(d.PHI) == 0 {
		cats = d.PHICategories
	}
	tags := d.PHITags
	if len(wild) > 0 {
		tags = e.tagBuf[:0]
		for _, t := range d.PHITags {
			keep := true
			for _, w := range wild {
				if tagIs(t, w) {
					keep = false
				}
			}
			if keep {
				tags = append(tags, t)
			}
		}
	}
	c, s := clientServer(cli, srv)
	if len(cats) > 0 {
		fs.phi = true
		e.report(ev, fs, &finding{
			rule: RulePHIDICOM, phiSev: true, asset: srv, nodes: e.nodes(c, s), protocol: "dicom", clear: true,
			tags: tags, cats: cats, ids: ids, masked: masked, messages: 1,
			details: e.dets(dL1("commands", d.Command), dL1("sop_classes", sop)),
		})
	}
	basis := faceBasis(sop, d.Modality, d.BodyPartExamined)
	image := d.DatasetBytes > 0 || d.ResponseDatasetBytes > 0
	if basis == "head_ct_mr" {
		image = d.DatasetBytes > 0 && d.Command == "C-STORE" // not a query match
	}
	if basis != "" && image {
		sev := "high"
		for _, c := range cats {
			if identifying(c) {
				sev = "critical"
			}
		}
		det := e.dets(dL1("sop_classes", sop), dS("modality", d.Modality), dL1("face_basis", basis))
		if d.BodyPartExamined != "" {
			det = append(det, dS("body_part", d.BodyPartExamined))
			e.detBuf = det
		}
		e.report(ev, fs, &finding{
			rule: RuleFaceImage, severity: sev, asset: srv, nodes: e.nodes(c, s), protocol: "dicom", clear: true,
			tags: tags, cats: cats, ids: ids, messages: 1,
			details: det,
		})
	}
	if d.PatientIdentityRemoved {
		var buf [16]string
		idc := buf[:0]
		for _, c := range cats {
			if identifying(c) {
				idc = append(idc, c)
			}
		}
		if len(idc) > 0 {
			e.report(ev, fs, &finding{
				rule: RuleDeidFalse, asset: srv, nodes: e.nodes(c, s), protocol: "dicom",
				tags: tags, cats: idc, ids: ids, messages: 1,
				details: e.dets(dS("claim_tag", "(0012,0062)"), dL1("sop_classes", sop)),
			})
		}
	}
	// Nothing may keep the event's values past this call.
	clear(ids)
	clear(masked)
	clear(catBuf)
	if len(wild) > 0 {
		clear(tags)
		e.tagBuf = tags[:0]
	}
	e.idBuf, e.maskBuf, e.catBuf = ids[:0], masked[:0], catBuf[:0]
	e.dimseOps(ev, fs, d, req, srv, c, s, wild)
	e.wildBuf = wild[:0]
}

// hl7Message checks one HL7 message.
func (e *Engine) hl7Message(ev *event.Event, fs *flowState, m *hl7.Message) {
	if ev.Flow == nil {
		return
	}
	sender, _ := msgEnds(ev, m.Direction)
	if len(m.PHICategories) > 0 {
		ids, masked := e.idBuf[:0], e.maskBuf[:0]
		for _, v := range m.PHI {
			if patientIDField(v.Field, v.Category) {
				ids = identifiers(v.Value, ids)
			}
			if e.opts.Evidence == EvidenceMasked {
				masked = append(masked, labelled{v.Field, v.Value})
			}
		}
		// "ADT^A01": MSH-9.1^MSH-9.2, '^' trimmed when one is missing.
		t := append(append(append(e.typeBuf[:0], m.MessageType...), '^'), m.TriggerEvent...)
		e.typeBuf = t
		mt := detail{key: "message_types", kind: dList, one: true, useB: true, sb: bytes.Trim(t, "^")}
		e.textPHI(ev, fs, RulePHIHL7, "hl7", m.PHICategories, m.PHIFields, ids, masked, e.dets(mt))
		clear(ids)
		clear(masked)
		e.idBuf, e.maskBuf = ids[:0], masked[:0]
	}
	if m.MessageType != "ACK" && m.SendingApplication != "" && !m.UnsolicitedAck {
		e.hl7Sender(ev, fs, m, sender)
	}
}

func (e *Engine) astmMessage(ev *event.Event, fs *flowState, m *astm.Message) {
	if ev.Flow == nil {
		return
	}
	sender, _ := msgEnds(ev, m.Direction)
	if len(m.PHICategories) > 0 {
		ids, masked := e.idBuf[:0], e.maskBuf[:0]
		for _, v := range m.PHI {
			if patientIDField(v.Field, v.Category) {
				ids = identifiers(v.Value, ids)
			}
			if e.opts.Evidence == EvidenceMasked {
				masked = append(masked, labelled{v.Field, v.Value})
			}
		}
		e.textPHI(ev, fs, RulePHIASTM, "astm", m.PHICategories, m.PHIFields, ids, masked, nil)
		clear(ids)
		clear(masked)
		e.idBuf, e.maskBuf = ids[:0], masked[:0]
	}
	if m.PasswordPresent {
		e.report(ev, fs, &finding{
			rule: RuleCredClear, asset: sender, protocol: "astm", clear: true, severity: "high",
			nodes: e.nodes(node{ip: sender, role: "sender"}), fields: astmPasswordField, messages: 1,
			details: e.dets(dS("credential", "astm_access_password")),
		})
	}
}

var astmPasswordField = []string{"H-4"}

// msgEnds gives the sender and receiver of a message by its direction.
func msgEnds(ev *event.Event, dir string) (sender, receiver netip.Addr) {
	c, s := ipOf(ev.Flow.Client), ipOf(ev.Flow.Server)
	if dir == "to_client" {
		return s, c
	}
	return c, s
}

// textPHI reports patient data in an HL7 or ASTM message (cats not empty).
func (e *Engine) textPHI(ev *event.Event, fs *flowState, rule, proto string, cats, fields, ids []string, masked []labelled, details []detail) {
	fs.phi = true
	e.report(ev, fs, &finding{
		rule: rule, phiSev: true, asset: ipOf(ev.Flow.Server), protocol: proto, clear: true, cliSrv: true,
		fields: fields, cats: cats, ids: ids, masked: masked, messages: 1, details: details,
	})
}
