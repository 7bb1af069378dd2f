package inventory

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/medtap/medtap/detect"
	"github.com/medtap/medtap/parsers/astm"
	"github.com/medtap/medtap/parsers/dhcp"
	"github.com/medtap/medtap/parsers/dicom"
	"github.com/medtap/medtap/parsers/dns"
	"github.com/medtap/medtap/parsers/framing"
	"github.com/medtap/medtap/parsers/hl7"
	"github.com/medtap/medtap/parsers/http"
	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/smb"
	"github.com/medtap/medtap/parsers/ssh"
	"github.com/medtap/medtap/parsers/tls"
	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/flow"
)

// fold applies one event.
func (inv *Inventory) fold(ev *event.Event) {
	switch b := ev.Body.(type) {
	case *flow.Record:
		inv.flowRecord(ev, b)
	case *dicom.Association:
		inv.association(ev, b)
	case *dicom.DIMSE:
		inv.dimse(ev, b)
	case *hl7.Message:
		inv.hl7Message(ev, b)
	case *astm.Message:
		inv.astmMessage(ev, b)
	case *framing.Frame:
		inv.frame(ev, b)
	case *tls.Handshake:
		inv.tlsHandshake(ev, b)
	case *http.Transaction:
		inv.software(ev, FPHTTPUserAgent, b.UserAgent, FPHTTPServer, b.Server)
	case *ssh.Session:
		inv.software(ev, FPSSHBanner, strings.TrimSpace(b.ClientSoftware+" "+b.ClientComments),
			FPSSHBanner, strings.TrimSpace(b.ServerSoftware+" "+b.ServerComments))
	case *smb.Negotiate:
		inv.software(ev, "", "", FPSMBDialect, b.Dialect)
	case *dhcp.Message:
		inv.dhcpMessage(ev, b)
	case *dns.Message:
		inv.dnsMessage(ev, b)
	case *detect.Alert:
		inv.alert(ev, b)
	}
}

// note returns the flow's note, made on first use.
func (inv *Inventory) note(f *parser.Flow) *flowNote {
	if f == nil {
		return nil
	}
	if n := inv.flows[f]; n != nil {
		return n
	}
	if len(inv.flows) >= MaxOpenFlows {
		inv.drop("open_flows")
		return &flowNote{}
	}
	n := &flowNote{}
	inv.flows[f] = n
	return n
}

// ends resolves the flow's client and server. With the flow's note (nil:
// none), ends already resolved while nothing moved (the note's gen is
// current) are taken from it: what resolve would find, without its
// look-ups.
func (inv *Inventory) ends(ev *event.Event, ts time.Time, note *flowNote) (client, server *node) {
	f := ev.Flow
	if f == nil {
		return nil, nil
	}
	if note == nil || inv.noFlowCache {
		client = inv.resolve(f.Client.Addr(), f.ClientMAC, f.VLAN, ts, "traffic")
		server = inv.resolve(f.Server.Addr(), f.ServerMAC, f.VLAN, ts, "traffic")
		return client, server
	}
	g := inv.gen
	client = inv.end(note, &note.cli, f.Client.Addr(), f.ClientMAC, f.VLAN, ts)
	server = inv.end(note, &note.srv, f.Server.Addr(), f.ServerMAC, f.VLAN, ts)
	if inv.gen == g {
		note.gen = g
	} else {
		note.gen = 0 // an end moved something: resolve both next time
	}
	return client, server
}

// end is resolve for one end of a flow with a note: when the note is
// current, the asset byIP and byMAC still give, updated as resolve
// updates it.
func (inv *Inventory) end(note *flowNote, c *endCache, a netip.Addr, mac [6]byte, vlan uint16, ts time.Time) *node {
	if n := c.n; n != nil && note.gen == inv.gen {
		if c.ip >= 0 {
			n.seenIP(c.ip, ts, "traffic")
		}
		if vlan != 0 {
			n.addVLAN(vlan)
		}
		n.touch(ts)
		inv.markDirty(n)
		return n
	}
	n := inv.resolve(a, mac, vlan, ts, "traffic")
	c.n, c.ip = n, -1
	if n != nil {
		if i, ok := n.ips[a.Unmap()]; ok {
			c.ip = i
		}
	}
	return n
}

// sender picks the side a direction string names as sender.
func sender(dir string, client, server *node) (from, to *node) {
	if dir == "to_client" {
		return server, client
	}
	return client, server
}

// medicalProto reports whether an application protocol carries medical
// data: the coded medical parsers and every declared device framing.
func medicalProto(app string) bool {
	switch app {
	case "dicom", "hl7", "astm":
		return true
	case "tls", "unknown", "dhcp", "dns", "http", "ssh", "smb", "":
		return false
	}
	return true // a declared framing
}

func (inv *Inventory) flowRecord(ev *event.Event, r *flow.Record) {
	f := ev.Flow
	if f == nil {
		return
	}
	note := inv.flows[f]
	delete(inv.flows, f)
	start := ev.TS
	end := start.Add(time.Duration(r.Duration * float64(time.Second)))
	client, server := inv.ends(ev, start, note)
	if client != nil {
		client.touch(end)
	}
	if server != nil {
		server.touch(end)
	}
	tcp := f.Proto == 6
	if f.Proto != 6 && f.Proto != 17 {
		return
	}
	port := f.Server.Port()
	app := r.AppProto
	medical := medicalProto(app) || (note != nil && note.medical)
	if app == "tls" && (port == medicalTLSPortDICOM || port == medicalTLSPortHL7MLLP) {
		medical = true
	}
	cat := CatUnknown
	switch {
	case note != nil && note.phi:
		cat = CatSensitiveMedical
	case app == "dicom" || app == "hl7" || app == "astm" || (medical && app == "tls"):
		cat = CatNonSensitiveMedical
	case medical:
		cat = CatDevice
	}
	bytes := r.BytesToServer + r.BytesToClient
	answered := r.PktsToClient > 0
	if tcp {
		answered = strings.Contains(r.TCPFlagsTC, "S") && strings.Contains(r.TCPFlagsTC, "A") || r.PayloadToClient > 0
	}
	for side, n := range [2]*node{client, server} {
		if n == nil {
			continue
		}
		n.a.Bytes.Add(cat, bytes)
		if medical {
			n.a.MedicalBytes += bytes
			if r.Encrypted {
				n.a.MedicalEncryptedBytes += bytes
			}
		}
		var other *node
		var otherAddr netip.Addr
		out := side == 0
		if out {
			other, otherAddr = server, f.Server.Addr().Unmap()
			if isNew, ok := n.service(true, port, tcp, app, r.Encrypted, bytes, start, end); !ok {
				inv.drop("services")
			} else if isNew {
				inv.markDirty(n)
			}
		} else {
			other, otherAddr = client, f.Client.Addr().Unmap()
			if answered {
				if isNew, ok := n.service(false, port, tcp, app, r.Encrypted, bytes, start, end); !ok {
					inv.drop("services")
				} else if isNew {
					inv.change(n, ChangeNewService, "service", serviceName(tcp, port, app), "")
				}
			}
		}
		if !usableAddr(otherAddr) {
			continue
		}
		id, internal, country := "", true, ""
		if other != nil {
			id, internal, country = other.a.ID, other.a.Internal, other.a.Country
		}
		k := peerKey{ip: otherAddr, out: out, port: port, tcp: tcp, proto: app, cat: cat}
		isNew, ok := n.peer(k, id, internal, country, inv.pol.Foreign(country), r.Encrypted, bytes, start, end)
		if !ok {
			inv.drop("peers")
		} else if isNew && (medical || !internal) {
			inv.change(n, ChangeNewPeer, "peer", otherAddr.String()+" "+serviceName(tcp, port, app), "")
		}
	}
}

// dicomService names the DICOM service an abstract syntax belongs to.
func dicomService(uid string) string {
	switch {
	case uid == "1.2.840.10008.1.1":
		return "verification"
	case strings.HasPrefix(uid, "1.2.840.10008.5.1.4.1.1."):
		return "storage"
	case strings.HasPrefix(uid, "1.2.840.10008.5.1.4.1.2."):
		if strings.HasSuffix(uid, ".1") {
			return "query"
		}
		return "retrieve"
	case strings.HasPrefix(uid, "1.2.840.10008.5.1.4.31"):
		return "worklist"
	case strings.HasPrefix(uid, "1.2.840.10008.3.1.2.3."):
		return "mpps"
	case strings.HasPrefix(uid, "1.2.840.10008.5.1.1."):
		return "print"
	case strings.HasPrefix(uid, "1.2.840.10008.1.20"):
		return "commitment"
	}
	return ""
}

// serviceRoles are the AE roles of each dicomService: "storage_scu",
// "storage_scp"...
var serviceRoles = func() map[string][2]string {
	m := map[string][2]string{}
	for _, s := range []string{"verification", "storage", "query", "retrieve", "worklist", "mpps", "print", "commitment"} {
		m[s] = [2]string{s + "_scu", s + "_scp"}
	}
	return m
}()

// dimseService names the service of a DIMSE command, finer than the
// abstract syntax: a C-MOVE on a query/retrieve model is retrieval.
func dimseService(cmd, uid string) string {
	switch cmd {
	case "C-STORE":
		return "storage"
	case "C-FIND":
		if dicomService(uid) == "worklist" {
			return "worklist"
		}
		return "query"
	case "C-MOVE", "C-GET":
		return "retrieve"
	case "C-ECHO":
		return "verification"
	}
	return dicomService(uid)
}

func (inv *Inventory) association(ev *event.Event, a *dicom.Association) {
	note := inv.note(ev.Flow)
	client, server := inv.ends(ev, ev.TS, note)
	if n := note; n != nil {
		n.medical = true
	}
	accepted := a.Result == "accepted" || a.Result == "released"
	if client != nil {
		inv.keyBuf = append(append(inv.keyBuf[:0], "ae:"...), clip(a.CallingAE)...)
		client = inv.bindIdentity(client, inv.keyBuf)
		inv.ae(client, a.CallingAE, "scu", ev.TS)
		inv.impl(client, a.ImplementationClassUID, a.ImplementationVersionName, ev.TS)
	}
	if server != nil {
		inv.keyBuf = append(append(inv.keyBuf[:0], "ae:"...), clip(a.CalledAE)...)
		server = inv.bindIdentity(server, inv.keyBuf)
		if accepted {
			inv.ae(server, a.CalledAE, "scp", ev.TS)
		} else {
			inv.ae(server, a.CalledAE, "", ev.TS)
		}
		inv.impl(server, a.AcceptorImplementationClassUID, a.AcceptorImplementationVersionName, ev.TS)
	}
	if !accepted {
		return
	}
	for _, pc := range a.PresentationContexts {
		if pc.Result != "accepted" {
			continue
		}
		s := dicomService(pc.AbstractSyntax)
		if s == "" {
			continue
		}
		r := serviceRoles[s]
		if client != nil {
			inv.ae(client, a.CallingAE, r[0], ev.TS)
		}
		if server != nil {
			inv.ae(server, a.CalledAE, r[1], ev.TS)
		}
	}
}

func (inv *Inventory) ae(n *node, title, role string, ts time.Time) {
	isNew, ok := n.aeRole(title, role, ts)
	if !ok {
		inv.drop("identity_items")
	} else if isNew {
		inv.change(n, ChangeNewIdentity, "ae_title", clip(title)+" "+role, "")
	}
}

func (inv *Inventory) impl(n *node, uid, version string, ts time.Time) {
	isNew, ok := n.implementation(uid, version)
	if !ok {
		inv.drop("identity_items")
	} else if isNew {
		inv.change(n, ChangeNewSoftware, "dicom_implementation", clip(uid)+" "+clip(version), "")
	}
	if version != "" {
		n.fingerprint(FPDICOMVersion, version, 0, ts)
	}
}

func (inv *Inventory) dimse(ev *event.Event, d *dicom.DIMSE) {
	note := inv.note(ev.Flow)
	client, server := inv.ends(ev, ev.TS, note)
	if n := note; n != nil {
		n.medical = true
		if len(d.PHICategories) > 0 && !d.PatientIdentityRemoved {
			n.phi = true
		}
	}
	req, resp := sender(d.RequestDirection, client, server)
	uid := d.SOPClassUID
	if uid == "" {
		uid = d.AbstractSyntax
	}
	svc := dimseService(d.Command, uid)
	for _, side := range [2]struct {
		n    *node
		role string
	}{{req, "scu"}, {resp, "scp"}} {
		if side.n == nil {
			continue
		}
		if d.StatusClass == "failure" || svc == "" {
			continue
		}
		if _, ok := side.n.sopClass(uid, side.role, d.Command); !ok {
			inv.drop("identity_items")
		}
	}
	// A C-STORE request's dataset describes the device that made the
	// object; it is the sender's identity (a PACS forwarding images
	// shows the modality's: the class rules weigh roles first).
	if d.Command == "C-STORE" && req != nil && (d.Manufacturer != "" || d.Model != "" || d.Modality != "" || d.SoftwareVersions != "" || d.StationName != "") {
		id := DeviceIdentity{Source: "dicom", Modality: clip(d.Modality), Manufacturer: clip(d.Manufacturer), Model: clip(d.Model),
			DeviceSerialNumber: clip(d.DeviceSerialNumber), SoftwareVersions: clip(d.SoftwareVersions), StationName: clip(d.StationName)}
		inv.deviceIdentity(req, id, ev.TS)
		if d.StationName != "" {
			if isNew, _ := req.addHostname(d.StationName, "dicom_station", ev.TS); isNew {
				inv.change(req, ChangeNewHostname, "hostname", clip(d.StationName), "")
			}
		}
	}
}

func (inv *Inventory) deviceIdentity(n *node, id DeviceIdentity, ts time.Time) {
	isNew, ok := n.device(id, ts)
	if !ok {
		inv.drop("identity_items")
		return
	}
	if !isNew {
		return
	}
	// device appended the new identity: the ones before it are what was
	// known.
	devs := n.a.Medical.Devices
	if id.SoftwareVersions != "" && !knownVersion(devs[:len(devs)-1], id.SoftwareVersions) {
		inv.change(n, ChangeNewSoftware, "software_versions", id.SoftwareVersions, "")
		return
	}
	inv.change(n, ChangeNewIdentity, "device", strings.TrimSpace(id.Manufacturer+" "+id.Model+" "+id.Modality), "")
}

// knownVersion reports whether one of devs states software version v.
func knownVersion(devs []DeviceIdentity, v string) bool {
	for i := range devs {
		if devs[i].SoftwareVersions == v {
			return true
		}
	}
	return false
}

func (inv *Inventory) hl7Message(ev *event.Event, m *hl7.Message) {
	note := inv.note(ev.Flow)
	client, server := inv.ends(ev, ev.TS, note)
	if n := note; n != nil {
		n.medical = true
		if len(m.PHICategories) > 0 {
			n.phi = true
		}
	}
	from, to := sender(m.Direction, client, server)
	// "ADT^A01", put together in a buffer: a known type costs no string.
	typ := append(inv.typBuf[:0], m.MessageType...)
	if m.TriggerEvent != "" {
		typ = append(append(typ, '^'), m.TriggerEvent...)
	}
	inv.typBuf = typ
	if from != nil && (m.SendingApplication != "" || m.SendingFacility != "") {
		app, fac := clip(m.SendingApplication), clip(m.SendingFacility)
		k := append(append(inv.keyBuf[:0], "hl7:"...), app...)
		inv.keyBuf = append(append(k, '^'), fac...)
		from = inv.bindIdentity(from, inv.keyBuf)
		if isNew, ok := from.hl7Clipped(app, fac, "sender", typ); !ok {
			inv.drop("identity_items")
		} else if isNew {
			inv.change(from, ChangeNewIdentity, "hl7_sender", app+"^"+fac, "")
		}
	}
	if from != nil {
		for _, s := range m.Software {
			if isNew, ok := from.hl7Software(HL7Software{Vendor: s.Vendor, Product: s.Product, Version: s.Version, BinaryID: s.BinaryID}); !ok {
				inv.drop("identity_items")
			} else if isNew {
				inv.change(from, ChangeNewSoftware, "hl7_software", strings.TrimSpace(clip(s.Product)+" "+clip(s.Version)), "")
			}
		}
		for _, u := range m.UDI {
			v := u.DeviceID
			if v == "" {
				v = u.ID
			}
			if isNew, ok := addString(&from.a.Medical.UDIs, v); !ok {
				inv.drop("identity_items")
			} else if isNew {
				inv.change(from, ChangeNewIdentity, "udi", clip(v), "")
			}
		}
		for _, e := range m.EquipmentIDs {
			if isNew, ok := addString(&from.a.Medical.EquipmentIDs, e); !ok {
				inv.drop("identity_items")
			} else if isNew {
				inv.change(from, ChangeNewIdentity, "equipment_id", clip(e), "")
			}
		}
	}
	if to != nil && (m.ReceivingApplication != "" || m.ReceivingFacility != "") {
		if _, ok := to.hl7(m.ReceivingApplication, m.ReceivingFacility, "receiver", typ); !ok {
			inv.drop("identity_items")
		}
	}
}

func (inv *Inventory) astmMessage(ev *event.Event, m *astm.Message) {
	note := inv.note(ev.Flow)
	client, server := inv.ends(ev, ev.TS, note)
	if n := note; n != nil {
		n.medical = true
		if len(m.PHICategories) > 0 {
			n.phi = true
		}
	}
	from, to := sender(m.Direction, client, server)
	if from != nil && m.Sender != "" {
		if isNew, ok := addString(&from.a.Medical.ASTMSenders, m.Sender); !ok {
			inv.drop("identity_items")
		} else if isNew {
			inv.change(from, ChangeNewIdentity, "astm_sender", clip(m.Sender), "")
		}
	}
	if m.Records.R > 0 {
		if from != nil {
			from.a.Medical.ASTMResultsSent += m.Records.R
			from.reclass = true
		}
		if to != nil {
			to.a.Medical.ASTMResultsReceived += m.Records.R
			to.reclass = true
		}
	}
}

func (inv *Inventory) frame(ev *event.Event, f *framing.Frame) {
	note := inv.note(ev.Flow)
	client, server := inv.ends(ev, ev.TS, note)
	if n := note; n != nil {
		n.medical = true
		if len(f.PHICategories) > 0 {
			n.phi = true
		}
	}
	from, _ := sender(f.Direction, client, server)
	if from == nil || f.Identity == nil {
		return
	}
	id := f.Identity
	inv.deviceIdentity(from, DeviceIdentity{Source: clip(f.Protocol), Manufacturer: clip(id.Manufacturer), Model: clip(id.Model),
		DeviceSerialNumber: clip(id.Serial), SoftwareVersions: clip(id.SoftwareVersion), HardwareVersion: clip(id.HardwareVersion),
		DeviceName: clip(id.DeviceName), UDI: clip(id.UDI)}, ev.TS)
	if id.DeviceName != "" {
		if isNew, _ := from.addHostname(id.DeviceName, clip(f.Protocol), ev.TS); isNew {
			inv.change(from, ChangeNewHostname, "hostname", clip(id.DeviceName), "")
		}
	}
}

func (inv *Inventory) tlsHandshake(ev *event.Event, h *tls.Handshake) {
	client, server := inv.ends(ev, ev.TS, nil)
	port := ev.Flow.Server.Port()
	fp := func(n *node, kind, v string, port uint16) {
		if n == nil || v == "" {
			return
		}
		isNew, ok := n.fingerprint(kind, v, port, ev.TS)
		if !ok {
			inv.drop("fingerprints")
		} else if isNew && kind != FPTLSSNI {
			inv.change(n, ChangeNewSoftware, kind, clip(v), "")
		}
	}
	fp(client, FPJA4, h.JA4, 0)
	fp(client, FPJA3, h.JA3, 0)
	fp(client, FPTLSSNI, h.SNI, 0)
	fp(server, FPJA3S, h.JA3S, port)
	if h.Cert != nil {
		fp(server, FPCertSubject, h.Cert.Subject, port)
	}
}

// software records a client's and a server's software fingerprints of a
// flow (the server's on its port).
func (inv *Inventory) software(ev *event.Event, clientKind, clientValue, serverKind, serverValue string) {
	client, server := inv.ends(ev, ev.TS, nil)
	for _, x := range [2]struct {
		n           *node
		kind, value string
		port        uint16
	}{{client, clientKind, clientValue, 0}, {server, serverKind, serverValue, ev.Flow.Server.Port()}} {
		if x.n == nil || x.value == "" {
			continue
		}
		isNew, ok := x.n.fingerprint(x.kind, x.value, x.port, ev.TS)
		if !ok {
			inv.drop("fingerprints")
		} else if isNew {
			inv.change(x.n, ChangeNewSoftware, x.kind, clip(x.value), "")
		}
	}
}

func (inv *Inventory) dhcpMessage(ev *event.Event, m *dhcp.Message) {
	if m.ClientMAC == "" {
		return
	}
	mac, ok := parseMAC(m.ClientMAC)
	if !ok || !inv.usableMAC(mac) {
		return
	}
	// The client's address: the one it was given (ACK), asked for, or
	// already holds.
	var addr netip.Addr
	source := "dhcp"
	for _, s := range []string{m.YourIP, m.ClientIP, m.RequestedIP} {
		if s == "" {
			continue // absent: not parsed, whose error would allocate
		}
		if a, err := netip.ParseAddr(s); err == nil && usableAddr(a) {
			addr = a
			break
		}
	}
	if m.MessageType == "ack" && m.YourIP != "" {
		addr, _ = netip.ParseAddr(m.YourIP)
	} else if m.Direction == "to_client" {
		// An offer is not a lease yet.
		return
	}
	var n *node
	if addr.IsValid() {
		n = inv.resolve(addr, mac, vlanOf(ev), ev.TS, source)
	} else if n = inv.byMAC[mac]; n == nil {
		return
	}
	if n == nil {
		return
	}
	n.touch(ev.TS)
	if m.Hostname != "" {
		if isNew, _ := n.addHostname(m.Hostname, "dhcp", ev.TS); isNew {
			inv.change(n, ChangeNewHostname, "hostname", clip(m.Hostname), "")
		}
	}
	if m.Direction == "to_server" && (m.ParameterRequestList != "" || m.VendorClass != "") {
		d := n.a.DHCP
		if d == nil {
			d = &DHCPFingerprint{}
			n.a.DHCP = d
		}
		if d.ParameterRequestList != clip(m.ParameterRequestList) || d.VendorClass != clip(m.VendorClass) {
			if d.ParameterRequestList != "" || d.VendorClass != "" {
				inv.change(n, ChangeNewSoftware, "dhcp_fingerprint", clip(m.ParameterRequestList)+" "+clip(m.VendorClass), "")
			}
			d.ParameterRequestList, d.VendorClass = clip(m.ParameterRequestList), clip(m.VendorClass)
		}
		d.ClientID = clip(m.ClientID)
		d.LastMessage = m.MessageType
		d.LastSeen = ev.TS
		inv.markDirty(n)
	}
}

func vlanOf(ev *event.Event) uint16 {
	if ev.Flow != nil {
		return ev.Flow.VLAN
	}
	return 0
}

func (inv *Inventory) dnsMessage(ev *event.Event, m *dns.Message) {
	// Answers name hosts; a NetBIOS registration names its sender.
	registers := m.Protocol == "nbns" && (m.Opcode == "registration" || m.Opcode == "refresh" || m.Opcode == "multihomed_registration")
	if !m.Response && !registers {
		return
	}
	source := m.Protocol // dns, mdns, llmnr, nbns
	for _, a := range m.Answers {
		addr, err := netip.ParseAddr(a.Address)
		if err != nil || a.Name == "" {
			continue
		}
		if m.Protocol == "nbns" && a.NBSuffix != "00" && a.NBSuffix != "20" {
			continue // group and service names (domains, browsers), not the host's
		}
		addr = addr.Unmap()
		n := inv.byIP[addr]
		if n == nil {
			// A name for an address no traffic showed yet: only
			// link-local name services announce the sender itself.
			if source == "dns" || !usableAddr(addr) {
				continue
			}
			var mac [6]byte
			if ev.Flow != nil && ev.Flow.Client.Addr().Unmap() == addr {
				mac = ev.Flow.ClientMAC
			}
			if n = inv.resolve(addr, mac, vlanOf(ev), ev.TS, "traffic"); n == nil {
				continue
			}
		}
		if isNew, ok := n.addHostname(a.Name, source, ev.TS); !ok {
			inv.drop("hostnames")
		} else if isNew {
			inv.change(n, ChangeNewHostname, "hostname", clip(a.Name), "")
		}
	}
}

func (inv *Inventory) alert(ev *event.Event, a *detect.Alert) {
	if a.ID != "" && inv.alertSeen[a.ID] {
		return
	}
	inv.alertSeen[a.ID] = true
	rec := AlertRecord{ID: a.ID, RuleID: a.RuleID, Title: a.Title, Severity: a.Severity, Category: a.Category,
		Capability: slices.Clone(a.Capability), DataCategory: a.DataCategory, Protocol: a.Protocol, Sensor: ev.Sensor, Count: a.Count}
	rec.FirstSeen, _ = time.Parse(time.RFC3339Nano, a.FirstSeen)
	rec.LastSeen, _ = time.Parse(time.RFC3339Nano, a.LastSeen)
	if f := ev.Flow; f != nil {
		rec.SrcIP, rec.SrcPort = f.Client.Addr().String(), f.Client.Port()
		rec.DestIP, rec.DestPort = f.Server.Addr().String(), f.Server.Port()
		rec.Proto, rec.VLAN, rec.CommunityID = event.ProtoName(f.Proto), f.VLAN, f.CommunityID
	}
	if line, err := ev.AppendJSON(nil); err == nil {
		rec.Event = line
	}
	for _, as := range a.Assets {
		addr, err := netip.ParseAddr(as.IP)
		if err != nil {
			continue
		}
		n := inv.byIP[addr.Unmap()]
		if n == nil {
			continue
		}
		if !slices.Contains(rec.AssetIDs, n.a.ID) {
			rec.AssetIDs = append(rec.AssetIDs, n.a.ID)
			if !a.RateLimited {
				n.a.Risk.OpenAlerts.Add(a.Severity)
			}
			for _, c := range a.Capability {
				if !slices.Contains(n.a.Risk.Contradicted, c) {
					n.a.Risk.Contradicted = append(n.a.Risk.Contradicted, c)
				}
			}
			inv.markDirty(n)
		}
	}
	inv.alerts = append(inv.alerts, rec)
}
