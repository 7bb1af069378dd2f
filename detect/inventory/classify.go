package inventory

import (
	"strconv"
	"strings"
)

// classRule is one row of the classification table: a device class and a
// test that says why an asset belongs to it.
type classRule struct {
	class string
	test  func(a *Asset) (reason string, ok bool)
}

// classRules are tried in order; the first class with a matching rule
// wins, and every matching rule of that class gives a reason. Roles come
// before stated identities: a PACS forwarding images carries the
// modality's Manufacturer and Modality in its datasets.
var classRules = []classRule{
	{ClassPACS, func(a *Asset) (string, bool) {
		return "accepts C-STORE and C-FIND as SCP", a.dicomRole("storage", "scp") && a.dicomRole("query", "scp")
	}},
	{ClassPACS, func(a *Asset) (string, bool) {
		return "serves C-MOVE/C-GET retrievals as SCP", a.dicomRole("retrieve", "scp") && a.dicomRole("storage", "scp")
	}},
	{ClassImagingModality, func(a *Asset) (string, bool) {
		if !a.dicomRole("storage", "scu") {
			return "", false
		}
		for _, d := range a.Medical.Devices {
			if d.Source == "dicom" && acquisitionModality(d.Modality) {
				return "sends " + d.Modality + " objects as C-STORE SCU (Modality " + d.Modality + ")", true
			}
		}
		return "", false
	}},
	{ClassImagingModality, func(a *Asset) (string, bool) {
		return "queries the modality worklist (C-FIND worklist SCU)", a.dicomRole("worklist", "scu")
	}},
	{ClassImagingModality, func(a *Asset) (string, bool) {
		return "reports procedure steps (MPPS SCU)", a.dicomRole("mpps", "scu")
	}},
	{ClassPatientMonitor, func(a *Asset) (string, bool) {
		for _, h := range a.Medical.HL7 {
			if h.Role == "sender" && hasType(h.MessageTypes, "ORU") && (len(a.Medical.EquipmentIDs) > 0 || len(a.Medical.UDIs) > 0) {
				return "sends ORU observations with device identifiers (OBX-18/PRT)", true
			}
		}
		return "", false
	}},
	{ClassPatientMonitor, func(a *Asset) (string, bool) {
		return declaredProtocol(a, "vital", "monitor", "ecg", "spo2")
	}},
	{ClassInfusion, func(a *Asset) (string, bool) {
		return declaredProtocol(a, "infus", "pump")
	}},
	{ClassLabAnalyzer, func(a *Asset) (string, bool) {
		if a.Medical.ASTMResultsSent == 0 {
			return "", false
		}
		r := "sends ASTM results (" + strconv.Itoa(a.Medical.ASTMResultsSent) + " R records)"
		if len(a.Medical.ASTMSenders) > 0 {
			r += ", H-record sender " + a.Medical.ASTMSenders[0]
		}
		return r, true
	}},
	{ClassHIS, func(a *Asset) (string, bool) {
		for _, h := range a.Medical.HL7 {
			if h.Role == "sender" {
				for _, t := range h.MessageTypes {
					switch strings.SplitN(t, "^", 2)[0] {
					case "ADT", "ORM", "OMG", "OML", "SIU", "DFT", "MFN", "BAR":
						return "sends HL7 " + t + " as " + h.Application, true
					}
				}
			}
		}
		return "", false
	}},
	{ClassHIS, func(a *Asset) (string, bool) {
		return "receives ASTM results (laboratory system)", a.Medical.ASTMResultsReceived > 0
	}},
	{ClassHIS, func(a *Asset) (string, bool) {
		for _, h := range a.Medical.HL7 {
			if h.Role == "receiver" && hasType(h.MessageTypes, "ORU") {
				return "receives HL7 ORU results as " + h.Application, true
			}
		}
		return "", false
	}},
	{ClassHIS, func(a *Asset) (string, bool) {
		return "serves the modality worklist (C-FIND worklist SCP)", a.dicomRole("worklist", "scp")
	}},
	{ClassWorkstation, func(a *Asset) (string, bool) {
		return "queries or retrieves as DICOM SCU", a.dicomRole("query", "scu") || a.dicomRole("retrieve", "scu")
	}},
	{ClassPACS, func(a *Asset) (string, bool) {
		return "accepts C-STORE as SCP (image archive)", a.dicomRole("storage", "scp")
	}},
	{ClassImagingModality, func(a *Asset) (string, bool) {
		return "sends objects as C-STORE SCU", a.dicomRole("storage", "scu")
	}},
	{ClassNetworkIT, func(a *Asset) (string, bool) {
		for _, s := range a.Services {
			if name, ok := itServices[svcPort{s.Transport, s.Port}]; ok {
				return "answers " + name + " on " + s.Transport + "/" + strconv.Itoa(int(s.Port)), true
			}
		}
		return "", false
	}},
	{ClassNetworkIT, func(a *Asset) (string, bool) {
		v := strings.ToLower(a.Vendor)
		for _, n := range networkVendors {
			if strings.Contains(v, n) {
				return "MAC vendor " + a.Vendor + " makes network equipment", true
			}
		}
		return "", false
	}},
}

type svcPort struct {
	transport string
	port      uint16
}

// itServices are infrastructure services a device answering on is IT.
var itServices = map[svcPort]string{
	{"udp", 53}: "DNS", {"tcp", 53}: "DNS", {"udp", 67}: "DHCP", {"udp", 123}: "NTP", {"udp", 161}: "SNMP",
	{"tcp", 88}: "Kerberos", {"tcp", 389}: "LDAP", {"tcp", 636}: "LDAPS", {"udp", 514}: "syslog", {"tcp", 3268}: "global catalog",
}

// networkVendors are OUI organisations (lower case, substrings) that make
// switches, routers and firewalls rather than medical devices.
var networkVendors = []string{"cisco", "juniper", "arista", "h3c", "ruijie", "aruba", "fortinet", "palo alto", "mikrotik", "ubiquiti", "hangzhou h3c", "extreme networks"}

// acquisitionModality reports whether a Modality value names an
// acquisition device rather than derived objects (reports, presentation
// states, key images, secondary capture).
func acquisitionModality(m string) bool {
	switch m {
	case "", "OT", "SR", "PR", "KO", "DOC", "REG", "SEG", "RWV", "PLAN", "RTPLAN", "RTSTRUCT", "RTDOSE", "RTRECORD", "FID", "AU":
		return false
	}
	return true
}

func hasType(types []string, msg string) bool {
	for _, t := range types {
		if t == msg || strings.HasPrefix(t, msg+"^") {
			return true
		}
	}
	return false
}

func declaredProtocol(a *Asset, words ...string) (string, bool) {
	for _, d := range a.Medical.Devices {
		if d.Source == "dicom" {
			continue
		}
		p := strings.ToLower(d.Source)
		for _, w := range words {
			if strings.Contains(p, w) {
				return "states its identity in the declared device protocol " + d.Source, true
			}
		}
	}
	return "", false
}

// dicomRole reports whether the asset used a DICOM service in a role:
// from its AE titles' negotiated roles, or its DIMSE transactions.
func (a *Asset) dicomRole(service, role string) bool {
	for _, ae := range a.Medical.AETitles {
		for _, r := range ae.Roles {
			if len(r) == len(service)+1+len(role) && strings.HasPrefix(r, service) && r[len(service)] == '_' && strings.HasSuffix(r, role) {
				return true
			}
		}
	}
	for _, s := range a.Medical.SOPClasses {
		if s.Role == role && dimseService(s.Command, s.UID) == service {
			return true
		}
	}
	return false
}

// Classify returns the device class of an asset and the reasons for it.
func Classify(a *Asset) (string, []string) {
	class := ""
	var reasons []string
	for _, r := range classRules {
		if class != "" && r.class != class {
			continue
		}
		if why, ok := r.test(a); ok {
			class = r.class
			reasons = append(reasons, why)
		}
	}
	if class == "" {
		return ClassUnknown, nil
	}
	return class, reasons
}

// reclassify updates an asset's class and reports a change of class.
func (inv *Inventory) reclassify(n *node) {
	if n.gone || !n.reclass {
		return
	}
	n.reclass = false
	class, reasons := Classify(&n.a)
	prev := n.a.Class
	n.a.ClassReasons = reasons
	if class != prev {
		n.a.Class = class
		if prev != "" {
			saved := inv.trigger
			if n.cause.Flow != nil && saved == nil {
				inv.trigger = &n.cause
			}
			inv.change(n, ChangeClass, "class", class, prev)
			inv.trigger = saved
		}
	}
}
