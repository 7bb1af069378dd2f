package report

import (
	"fmt"
	"time"

	"github.com/medtap/medtap/detect/inventory"
)

var synthStart = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)

// synthHospital is a deterministic inventory of n internal devices in a
// hospital layout (modalities to PACS, workstations querying PACS, lab
// analyzers and monitors to HIS/LIS, vendor remote maintenance from abroad,
// cloud services), with alerts on some of them. It stands in for a real
// site to check that reports stay readable at 50 devices.
func synthHospital(n int) ([]inventory.Asset, []inventory.AlertRecord, []inventory.Run) {
	at := func(min int) time.Time { return synthStart.Add(time.Duration(min) * time.Minute) }
	type role struct {
		class  string
		subnet int
	}
	layout := []role{
		{inventory.ClassPACS, 10}, {inventory.ClassHIS, 20}, {inventory.ClassNetworkIT, 1},
	}
	rest := []role{
		{inventory.ClassImagingModality, 11}, {inventory.ClassWorkstation, 12}, {inventory.ClassLabAnalyzer, 30},
		{inventory.ClassPatientMonitor, 40}, {inventory.ClassImagingModality, 11}, {inventory.ClassInfusion, 41},
		{inventory.ClassWorkstation, 12}, {inventory.ClassLabAnalyzer, 30}, {inventory.ClassPatientMonitor, 40},
		{inventory.ClassUnknown, 50},
	}
	for len(layout) < n {
		layout = append(layout, rest[(len(layout)-3)%len(rest)])
	}
	layout = layout[:n]
	as := make([]inventory.Asset, n)
	host := map[int]int{}
	for i, r := range layout {
		host[r.subnet]++
		ip := fmt.Sprintf("10.20.%d.%d", r.subnet, 10+host[r.subnet])
		a := inventory.Asset{ID: fmt.Sprintf("a%03d", i), IP: ip, MAC: fmt.Sprintf("02:00:00:00:%02x:%02x", r.subnet, i),
			Internal: true, Class: r.class, FirstSeen: at(0), LastSeen: at(120),
			IPs: []inventory.IPSeen{{IP: ip, Source: "traffic", FirstSeen: at(0), LastSeen: at(120)}}}
		switch r.class {
		case inventory.ClassImagingModality:
			a.Medical.AETitles = []inventory.AETitle{{Title: fmt.Sprintf("CT%02d", i), Roles: []string{"scu", "storage_scu"}}}
			a.Medical.Manufacturer, a.Medical.Model, a.Medical.Modality = "ACME", "Scan 64", "CT"
			a.Medical.DICOMImplementations = []inventory.DICOMImplementation{{ClassUID: "1.2.276.0.7230010.3.0.3.6.7", VersionName: "OFFIS_DCMTK_367"}}
		case inventory.ClassPACS:
			a.Medical.AETitles = []inventory.AETitle{{Title: "PACS", Roles: []string{"scp", "storage_scp", "query_scp"}}}
		case inventory.ClassHIS:
			a.Medical.HL7 = []inventory.HL7Identity{{Application: "HIS", Facility: "HOSP", Role: "receiver"}}
		case inventory.ClassLabAnalyzer:
			a.Medical.HL7 = []inventory.HL7Identity{{Application: fmt.Sprintf("LAB%02d", i), Role: "sender"}}
		case inventory.ClassNetworkIT:
			a.Hostnames = []inventory.Hostname{{Name: "syslog.hosp.local", Source: "dns"}}
		}
		as[i] = a
	}
	// link adds a flow relation between two assets (client i, server j).
	link := func(i, j int, port uint16, proto, cat string, enc bool, bytes uint64) {
		c, s := &as[i], &as[j]
		svc := inventory.Service{Port: port, Transport: "tcp", AppProto: proto, Encrypted: enc, Flows: 3, Bytes: bytes, FirstSeen: at(5), LastSeen: at(100)}
		c.Uses = appendService(c.Uses, svc)
		s.Services = appendService(s.Services, svc)
		p := inventory.Peer{Port: port, Transport: "tcp", AppProto: proto, DataCategory: cat, Internal: true, Encrypted: enc,
			Flows: 3, Bytes: bytes, FirstSeen: at(5), LastSeen: at(100)}
		pc, ps := p, p
		pc.IP, pc.AssetID, pc.Direction = s.IP, s.ID, "out"
		ps.IP, ps.AssetID, ps.Direction = c.IP, c.ID, "in"
		c.Peers = append(c.Peers, pc)
		s.Peers = append(s.Peers, ps)
		if proto == "dicom" || proto == "hl7" || proto == "astm" {
			c.MedicalBytes += bytes
			s.MedicalBytes += bytes
			if enc {
				c.MedicalEncryptedBytes += bytes
				s.MedicalEncryptedBytes += bytes
			}
		}
	}
	external := func(i int, ip, cty string, port uint16, proto, cat string, enc bool, dir string) {
		a := &as[i]
		a.Peers = append(a.Peers, inventory.Peer{IP: ip, Direction: dir, Port: port, Transport: "tcp", AppProto: proto,
			DataCategory: cat, Country: cty, Foreign: cty != "CN", Encrypted: enc, Flows: 2, Bytes: 40000, FirstSeen: at(30), LastSeen: at(50)})
		svc := inventory.Service{Port: port, Transport: "tcp", AppProto: proto, Encrypted: enc, Flows: 2, Bytes: 40000, FirstSeen: at(30), LastSeen: at(50)}
		if dir == "in" {
			a.Services = appendService(a.Services, svc)
		} else {
			a.Uses = appendService(a.Uses, svc)
		}
	}
	var alerts []inventory.AlertRecord
	alert := func(rule, title, sev string, caps []string, i, j int, port uint16, min int) {
		id := fmt.Sprintf("%016x", 0xa1e700+len(alerts))
		alerts = append(alerts, inventory.AlertRecord{ID: id, RuleID: rule, Title: title, Severity: sev, Capability: caps,
			SrcIP: as[i].IP, SrcPort: 40000 + uint16(len(alerts)), DestIP: as[j].IP, DestPort: port, Proto: "tcp",
			AssetIDs: []string{as[i].ID, as[j].ID}, Count: 1 + len(alerts)%4, FirstSeen: at(min), LastSeen: at(min + 3)})
	}
	for i, r := range layout {
		switch r.class {
		case inventory.ClassImagingModality:
			link(i, 0, 104, "dicom", inventory.CatSensitiveMedical, i%3 == 0, 50_000_000)
			if i%3 != 0 {
				alert("MT-PHI-001", "Patient data in clear over DICOM", "high", []string{"TXCF"}, i, 0, 104, 10+i)
			}
		case inventory.ClassWorkstation:
			link(i, 0, 104, "dicom", inventory.CatSensitiveMedical, false, 20_000_000)
			link(i, 0, 2762, "tls", inventory.CatUnknown, true, 5_000_000)
		case inventory.ClassLabAnalyzer:
			link(i, 1, 2575, "hl7", inventory.CatSensitiveMedical, false, 200_000)
			alert("MT-PHI-002", "Patient data in clear over HL7", "critical", []string{"TXCF"}, i, 1, 2575, 20+i)
		case inventory.ClassPatientMonitor:
			link(i, 1, 2575, "hl7", inventory.CatNonSensitiveMedical, false, 80_000)
		case inventory.ClassInfusion:
			link(i, 1, 7001, "unknown", inventory.CatDevice, false, 9_000)
		}
		if r.class != inventory.ClassNetworkIT && i%4 == 1 {
			link(i, 2, 514, "syslog", inventory.CatDevice, false, 3_000)
		}
	}
	// Vendor remote maintenance from abroad and cloud services.
	for k, i := range []int{3, 5, 8, 13, 21, 34} {
		if i >= n {
			break
		}
		external(i, fmt.Sprintf("203.0.113.%d", 10+k), "US", 22, "ssh", inventory.CatDevice, true, "in")
		if k%2 == 0 {
			alert("MT-RMOT-001", "Remote access session outside policy", "high", []string{"RMOT"}, i, i, 22, 40+k)
		}
	}
	for k := 0; k < 16 && k < n; k++ {
		cty := []string{"CN", "DE", "US", "JP"}[k%4]
		external(k%n, fmt.Sprintf("198.51.100.%d", 20+k), cty, 443, "tls", inventory.CatUnknown, true, "out")
	}
	runs := []inventory.Run{{ID: 1, Command: "analyze", Started: at(130), Finished: at(131), FirstPacket: at(0), LastPacket: at(120),
		MedtapVersion: "v0.9.0", GeoDBVersion: "geo-whois-asn-country 2026-11-01", Policy: "default",
		Inputs: []inventory.InputFile{{Path: "ward-a.pcap", Size: 123456, SHA256: "4f2a9c0e6b1d3f5a7c9e0b2d4f6a8c0e1b3d5f7a9c0e2b4d6f8a0c2e4b6d8f0a"}}}}
	return as, alerts, runs
}

func appendService(l []inventory.Service, s inventory.Service) []inventory.Service {
	for i := range l {
		if l[i].Port == s.Port && l[i].Transport == s.Transport {
			l[i].Flows += s.Flows
			l[i].Bytes += s.Bytes
			l[i].Encrypted = l[i].Encrypted && s.Encrypted
			return l
		}
	}
	return append(l, s)
}
