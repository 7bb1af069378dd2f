package inventory

import (
	"encoding/json"
	"flag"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/medtap/medtap/detect/inventory/oui"
	"github.com/medtap/medtap/parsers/parsertest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func init() { testVendor = oui.Lookup }

// goldenCases are inventories of real-peer captures (pcaps/README.md says
// how each was made).
var goldenCases = []struct {
	name  string
	pcaps []string
}{
	// dnsmasq DHCP/DNS, busybox udhcpc, DCMTK storescu/storescp, dig,
	// avahi-daemon between two namespaces; the device is renumbered.
	{"lan", []string{"inventory-lan.pcap"}},
	// DCMTK storescu -> storescp, python3-hl7 mllp_send, curl -> openssl
	// s_server: all on one host's loopback, so one asset.
	{"loopback", []string{"dicom-store.pcap", "hl7-mllp.pcap", "hl7-corpus.pcap", "https-curl.pcap"}},
}

func pcapPaths(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "../../pcaps/" + n
	}
	return out
}

func TestGoldenInventory(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			inv, changes := analyze(t, nil, pcapPaths(c.pcaps)...)
			b, err := json.MarshalIndent(inv.Assets(), "", " ")
			if err != nil {
				t.Fatal(err)
			}
			parsertest.Golden(t, c.name+".assets", string(b)+"\n", *update)
			parsertest.Golden(t, c.name+".changes", strings.Join(changes.lines, "\n")+"\n", *update)
		})
	}
}

// TestLANInventory checks what the inventory must find in the LAN capture,
// independently of the golden file.
func TestLANInventory(t *testing.T) {
	inv, changes := analyze(t, nil, pcapPaths([]string{"inventory-lan.pcap"})...)
	assets := inv.Assets()
	if len(assets) != 2 {
		t.Fatalf("%d assets, want the device and the server", len(assets))
	}
	dev, ok := inv.AssetByIP(netip.MustParseAddr("10.99.7.60"))
	if !ok {
		t.Fatal("no asset for the device's second address")
	}
	if old, _ := inv.AssetByIP(netip.MustParseAddr("10.99.7.53")); old.ID != dev.ID {
		t.Errorf("the renumbered device became two assets: %s and %s", old.ID, dev.ID)
	}
	if dev.MAC != "00:00:0c:07:00:02" || !strings.Contains(dev.Vendor, "Cisco") {
		t.Errorf("device MAC %q vendor %q", dev.MAC, dev.Vendor)
	}
	if dev.Class != ClassImagingModality || dev.Medical.Modality != "CT" || dev.Medical.Manufacturer != "MEDTAP SYNTHETIC" {
		t.Errorf("device class %q modality %q manufacturer %q", dev.Class, dev.Medical.Modality, dev.Medical.Manufacturer)
	}
	if dev.DHCP == nil || dev.DHCP.VendorClass != "MEDTAP-CT" || dev.DHCP.ParameterRequestList == "" {
		t.Errorf("device DHCP fingerprint %+v", dev.DHCP)
	}
	for _, want := range []Hostname{{Name: "ct-scanner-01", Source: "dhcp"}, {Name: "ct-scanner-01.hospital.lan", Source: "dns"},
		{Name: "ct-scanner-01.local", Source: "mdns"}, {Name: "CTSTATION01", Source: "dicom_station"}} {
		if !slices.ContainsFunc(dev.Hostnames, func(h Hostname) bool { return h.Name == want.Name && h.Source == want.Source }) {
			t.Errorf("device lacks host name %s from %s", want.Name, want.Source)
		}
	}
	if len(dev.Medical.AETitles) != 1 || dev.Medical.AETitles[0].Title != "CT01" || !slices.Contains(dev.Medical.AETitles[0].Roles, "storage_scu") {
		t.Errorf("device AE titles %+v", dev.Medical.AETitles)
	}
	if len(dev.Medical.DICOMImplementations) != 1 || !strings.HasPrefix(dev.Medical.DICOMImplementations[0].VersionName, "OFFIS_DCMTK_") {
		t.Errorf("device DICOM implementation %+v", dev.Medical.DICOMImplementations)
	}
	srv, _ := inv.AssetByIP(netip.MustParseAddr("10.99.7.1"))
	if srv.Class != ClassPACS || !slices.ContainsFunc(srv.Hostnames, func(h Hostname) bool { return h.Name == "pacs.hospital.lan" }) {
		t.Errorf("server class %q host names %+v", srv.Class, srv.Hostnames)
	}
	var svcs []string
	for _, s := range srv.Services {
		svcs = append(svcs, serviceName(s.Transport == "tcp", s.Port, s.AppProto))
	}
	for _, want := range []string{"tcp/104 dicom", "udp/53 dns", "udp/67 dhcp"} {
		if !slices.Contains(svcs, want) {
			t.Errorf("server services %v lack %s", svcs, want)
		}
	}
	if srv.Risk.OpenAlerts.Critical == 0 || !slices.Contains(srv.Risk.Contradicted, "TXCF") {
		t.Errorf("server risk %+v: images went in clear", srv.Risk)
	}
	if dev.MedicalEncryptedShare == nil || *dev.MedicalEncryptedShare != 0 || dev.Bytes.SensitiveMedical == 0 {
		t.Errorf("device medical share %v, sensitive bytes %d", dev.MedicalEncryptedShare, dev.Bytes.SensitiveMedical)
	}
	var kinds []string
	for _, l := range changes.lines {
		var m struct {
			Asset Change `json:"asset"`
		}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, m.Asset.Change)
	}
	for _, want := range []string{ChangeNewAsset, ChangeNewIP, ChangeNewHostname, ChangeNewService, ChangeNewSoftware, ChangeNewIdentity, ChangeClass} {
		if !slices.Contains(kinds, want) {
			t.Errorf("no %s asset event", want)
		}
	}
}

// TestLoopbackIdentities checks the identities the issue names, from the
// real-peer loopback captures: DCMTK's implementation version and the
// objects' Manufacturer/Model/SoftwareVersions, HL7 MSH-3/4 and SFT, and
// curl's JA4.
func TestLoopbackIdentities(t *testing.T) {
	inv, _ := analyze(t, nil, pcapPaths(goldenCases[1].pcaps)...)
	a, ok := inv.AssetByIP(netip.MustParseAddr("127.0.0.1"))
	if !ok {
		t.Fatal("no loopback asset")
	}
	m := a.Medical
	if !slices.ContainsFunc(m.DICOMImplementations, func(d DICOMImplementation) bool { return strings.HasPrefix(d.VersionName, "OFFIS_DCMTK_") }) {
		t.Errorf("DICOM implementations %+v", m.DICOMImplementations)
	}
	if m.Manufacturer != "MEDTAP SYNTHETIC" || m.Model == "" || !slices.Contains(m.SoftwareVersions, "1.0.0") {
		t.Errorf("manufacturer %q model %q versions %v", m.Manufacturer, m.Model, m.SoftwareVersions)
	}
	if !slices.ContainsFunc(m.HL7, func(h HL7Identity) bool {
		return h.Role == "sender" && h.Application == "MESA_OP" && h.Facility == "XYZ_HOSPITAL"
	}) {
		t.Errorf("HL7 identities lack MESA_OP^XYZ_HOSPITAL: %+v", m.HL7)
	}
	if !slices.ContainsFunc(m.HL7Software, func(s HL7Software) bool { return s.Product == "A-1 Lab System" && s.Version == "3.6.23" }) {
		t.Errorf("SFT software %+v", m.HL7Software)
	}
	if !slices.ContainsFunc(a.Software, func(f Fingerprint) bool { return f.Kind == FPJA4 && strings.HasPrefix(f.Value, "t13") }) {
		t.Errorf("no TLS 1.3 JA4 among %+v", a.Software)
	}
	if !slices.ContainsFunc(a.Software, func(f Fingerprint) bool { return f.Kind == FPCertSubject }) {
		t.Errorf("no certificate subject among %+v", a.Software)
	}
}

// TestSoftwareFingerprints: SSH banners, SMB dialects and HTTP headers from
// the other parsers' real-peer captures end up on the right side.
func TestSoftwareFingerprints(t *testing.T) {
	for _, c := range []struct{ pcap, kind string }{
		{"remote-ssh.pcap", FPSSHBanner}, {"remote-smb.pcap", FPSMBDialect}, {"http-plain.pcap", FPHTTPServer},
	} {
		inv, _ := analyze(t, nil, pcapPaths([]string{c.pcap})...)
		found := false
		for _, a := range inv.Assets() {
			for _, f := range a.Software {
				found = found || (f.Kind == c.kind && f.Value != "")
			}
		}
		if !found {
			t.Errorf("%s: no %s fingerprint", c.pcap, c.kind)
		}
	}
}
