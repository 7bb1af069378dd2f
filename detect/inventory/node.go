package inventory

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/medtap/medtap/sensor/event"
)

// node is one asset being learned: the exported record plus indexes into
// its lists, so that the per-flow updates are map lookups.
type node struct {
	a        Asset
	services map[svcKey]int // index into a.Services
	uses     map[svcKey]int
	peers    map[peerKey]int
	fps      map[fpKey]int
	ips      map[netip.Addr]int // index into a.IPs
	dirty    bool
	// reclass says something the class rules read changed since the
	// asset was last classified.
	reclass bool
	gone    bool // merged into another asset
	// cause is the latest event that changed the asset: a change found
	// after the batch (a new class) is reported with its flow and time.
	cause event.Event
}

type svcKey struct {
	port  uint16
	tcp   bool
	proto string
}

type peerKey struct {
	ip    netip.Addr
	out   bool
	port  uint16
	tcp   bool
	proto string
	cat   string
}

type fpKey struct {
	kind, value string
	port        uint16
}

func newNode(a Asset) *node {
	n := &node{a: a, services: map[svcKey]int{}, uses: map[svcKey]int{}, peers: map[peerKey]int{}, fps: map[fpKey]int{}, ips: map[netip.Addr]int{}}
	for i, ip := range a.IPs {
		if x, err := netip.ParseAddr(ip.IP); err == nil {
			n.ips[x] = i
		}
	}
	for i, s := range a.Services {
		n.services[svcKey{s.Port, s.Transport == "tcp", s.AppProto}] = i
	}
	for i, s := range a.Uses {
		n.uses[svcKey{s.Port, s.Transport == "tcp", s.AppProto}] = i
	}
	for i, p := range a.Peers {
		ip, _ := netip.ParseAddr(p.IP)
		n.peers[peerKey{ip, p.Direction == "out", p.Port, p.Transport == "tcp", p.AppProto, p.DataCategory}] = i
	}
	for i, f := range a.Software {
		n.fps[fpKey{f.Kind, f.Value, f.Port}] = i
	}
	if n.a.Class == "" {
		n.a.Class = ClassUnknown
	}
	return n
}

func (n *node) touch(ts time.Time) {
	if ts.After(n.a.LastSeen) {
		n.a.LastSeen = ts
	}
	if n.a.FirstSeen.IsZero() || ts.Before(n.a.FirstSeen) {
		n.a.FirstSeen = ts
	}
}

// young reports whether n first appeared at least MinMoveGap after m was
// last seen: the device m moved to n's address, rather than two devices
// at once.
func (n *node) young(m *node) bool { return n.a.FirstSeen.Sub(m.a.LastSeen) >= MinMoveGap }

func (n *node) setMAC(mac [6]byte, vendor string) {
	n.a.MAC = formatMAC(mac)
	n.a.Vendor = vendor
}

// seeIP records an address; it reports whether the address is new.
func (n *node) seeIP(a netip.Addr, ts time.Time, source string) bool {
	if i, ok := n.ips[a]; ok {
		n.seenIP(i, ts, source)
		return false
	}
	if len(n.a.IPs) >= MaxIPsPerAsset {
		return false
	}
	s := a.String()
	n.ips[a] = len(n.a.IPs)
	n.a.IPs = append(n.a.IPs, IPSeen{IP: s, Source: source, FirstSeen: ts, LastSeen: ts})
	n.a.IP = s
	return true
}

// seenIP records a known address again (i: its index in IPs).
func (n *node) seenIP(i int, ts time.Time, source string) {
	ip := &n.a.IPs[i]
	if ts.After(ip.LastSeen) {
		ip.LastSeen = ts
	}
	if ts.Before(ip.FirstSeen) {
		ip.FirstSeen = ts
	}
	if source == "dhcp" {
		ip.Source = source
	}
	if len(n.a.IPs) > 1 {
		for _, o := range n.a.IPs {
			if o.LastSeen.After(ip.LastSeen) {
				return // another address is the latest
			}
		}
	}
	if n.a.IP != ip.IP {
		n.a.IP = ip.IP
	}
}

func (n *node) addVLAN(v uint16) {
	if !slices.Contains(n.a.VLANs, v) && len(n.a.VLANs) < MaxIdentityItems {
		n.a.VLANs = append(n.a.VLANs, v)
		slices.Sort(n.a.VLANs)
	}
}

// addHostname records a name; it reports whether it is new.
func (n *node) addHostname(name, source string, ts time.Time) (bool, bool) {
	name = clip(name)
	if name == "" {
		return false, true
	}
	for i := range n.a.Hostnames {
		h := &n.a.Hostnames[i]
		if h.Name == name && h.Source == source {
			h.LastSeen = later(h.LastSeen, ts)
			return false, true
		}
	}
	if len(n.a.Hostnames) >= MaxHostnamesPerAsset {
		return false, false
	}
	n.a.Hostnames = append(n.a.Hostnames, Hostname{Name: name, Source: source, FirstSeen: ts, LastSeen: ts})
	return true, true
}

// service adds a flow to an offered or used service; it reports whether
// the service is new, and false for ok when a limit dropped it.
func (n *node) service(used bool, port uint16, tcp bool, proto string, encrypted bool, bytes uint64, ts, end time.Time) (isNew, ok bool) {
	idx, list := n.services, &n.a.Services
	if used {
		idx, list = n.uses, &n.a.Uses
	}
	k := svcKey{port, tcp, proto}
	if i, found := idx[k]; found {
		s := &(*list)[i]
		s.Flows++
		s.Bytes += bytes
		s.Encrypted = s.Encrypted && encrypted
		s.LastSeen = later(s.LastSeen, end)
		return false, true
	}
	if len(*list) >= MaxServicesPerAsset {
		return false, false
	}
	idx[k] = len(*list)
	*list = append(*list, Service{Port: port, Transport: transport(tcp), AppProto: proto, Encrypted: encrypted, Flows: 1, Bytes: bytes, FirstSeen: ts, LastSeen: end})
	return true, true
}

// peer adds a flow to a peer entry.
func (n *node) peer(k peerKey, id string, internal bool, country string, foreign, encrypted bool, bytes uint64, ts, end time.Time) (isNew, ok bool) {
	if i, found := n.peers[k]; found {
		p := &n.a.Peers[i]
		p.Flows++
		p.Bytes += bytes
		p.Encrypted = p.Encrypted && encrypted
		p.LastSeen = later(p.LastSeen, end)
		if id != "" {
			p.AssetID = id
		}
		return false, true
	}
	if len(n.a.Peers) >= MaxPeersPerAsset {
		return false, false
	}
	dir := "in"
	if k.out {
		dir = "out"
	}
	n.peers[k] = len(n.a.Peers)
	n.a.Peers = append(n.a.Peers, Peer{IP: k.ip.String(), AssetID: id, Direction: dir, Port: k.port, Transport: transport(k.tcp),
		AppProto: k.proto, DataCategory: k.cat, Internal: internal, Country: country, Foreign: foreign, Encrypted: encrypted,
		Flows: 1, Bytes: bytes, FirstSeen: ts, LastSeen: end})
	return true, true
}

// fingerprint records a software fingerprint.
func (n *node) fingerprint(kind, value string, port uint16, ts time.Time) (isNew, ok bool) {
	value = clip(value)
	if value == "" {
		return false, true
	}
	k := fpKey{kind, value, port}
	if i, found := n.fps[k]; found {
		f := &n.a.Software[i]
		f.Count++
		f.LastSeen = later(f.LastSeen, ts)
		return false, true
	}
	if len(n.a.Software) >= MaxFingerprints {
		return false, false
	}
	n.fps[k] = len(n.a.Software)
	n.a.Software = append(n.a.Software, Fingerprint{Kind: kind, Value: value, Port: port, Count: 1, FirstSeen: ts, LastSeen: ts})
	return true, true
}

// aeRole adds an AE title with a role; it reports whether the title or
// the role is new.
func (n *node) aeRole(title, role string, ts time.Time) (isNew, ok bool) {
	title = clip(title)
	if title == "" {
		return false, true
	}
	for i := range n.a.Medical.AETitles {
		ae := &n.a.Medical.AETitles[i]
		if ae.Title == title {
			ae.LastSeen = later(ae.LastSeen, ts)
			if role != "" && !slices.Contains(ae.Roles, role) && len(ae.Roles) < MaxIdentityItems {
				ae.Roles = append(ae.Roles, role)
				slices.Sort(ae.Roles)
				return true, true
			}
			return false, true
		}
	}
	if len(n.a.Medical.AETitles) >= MaxIdentityItems {
		return false, false
	}
	var roles []string
	if role != "" {
		roles = []string{role}
	}
	n.a.Medical.AETitles = append(n.a.Medical.AETitles, AETitle{Title: title, Roles: roles, FirstSeen: ts, LastSeen: ts})
	return true, true
}

// device adds a stated device identity.
func (n *node) device(d DeviceIdentity, ts time.Time) (isNew, ok bool) {
	for i := range n.a.Medical.Devices {
		x := &n.a.Medical.Devices[i]
		if x.Source == d.Source && x.Modality == d.Modality && x.Manufacturer == d.Manufacturer && x.Model == d.Model &&
			x.DeviceSerialNumber == d.DeviceSerialNumber && x.SoftwareVersions == d.SoftwareVersions &&
			x.HardwareVersion == d.HardwareVersion && x.StationName == d.StationName && x.DeviceName == d.DeviceName && x.UDI == d.UDI {
			x.Count++
			x.LastSeen = later(x.LastSeen, ts)
			return false, true
		}
	}
	if len(n.a.Medical.Devices) >= MaxIdentityItems {
		return false, false
	}
	d.Count, d.FirstSeen, d.LastSeen = 1, ts, ts
	n.a.Medical.Devices = append(n.a.Medical.Devices, d)
	return true, true
}

func (n *node) implementation(uid, version string) (isNew, ok bool) {
	uid, version = clip(uid), clip(version)
	if uid == "" && version == "" {
		return false, true
	}
	im := DICOMImplementation{ClassUID: uid, VersionName: version}
	if slices.Contains(n.a.Medical.DICOMImplementations, im) {
		return false, true
	}
	if len(n.a.Medical.DICOMImplementations) >= MaxIdentityItems {
		return false, false
	}
	n.a.Medical.DICOMImplementations = append(n.a.Medical.DICOMImplementations, im)
	return true, true
}

func (n *node) sopClass(uid, role, command string) (isNew, ok bool) {
	if uid == "" {
		return false, true
	}
	for i := range n.a.Medical.SOPClasses {
		s := &n.a.Medical.SOPClasses[i]
		if s.UID == uid && s.Role == role && s.Command == command {
			s.Count++
			return false, true
		}
	}
	if len(n.a.Medical.SOPClasses) >= MaxIdentityItems {
		return false, false
	}
	n.reclass = true
	n.a.Medical.SOPClasses = append(n.a.Medical.SOPClasses, SOPClassUse{UID: clip(uid), Role: role, Command: command, Count: 1})
	return true, true
}

func (n *node) hl7(app, fac, role string, msgType []byte) (isNew, ok bool) {
	return n.hl7Clipped(clip(app), clip(fac), role, msgType)
}

// hl7Clipped is hl7 for a clipped application and facility. msgType is
// copied only when it is new.
func (n *node) hl7Clipped(app, fac, role string, msgType []byte) (isNew, ok bool) {
	if app == "" && fac == "" {
		return false, true
	}
	for i := range n.a.Medical.HL7 {
		h := &n.a.Medical.HL7[i]
		if h.Application == app && h.Facility == fac && h.Role == role {
			h.Count++
			if len(msgType) > 0 && !containsBytes(h.MessageTypes, msgType) && len(h.MessageTypes) < MaxIdentityItems {
				h.MessageTypes = append(h.MessageTypes, string(msgType))
				slices.Sort(h.MessageTypes)
			}
			return false, true
		}
	}
	if len(n.a.Medical.HL7) >= MaxIdentityItems {
		return false, false
	}
	var types []string
	if len(msgType) > 0 {
		types = []string{string(msgType)}
	}
	n.a.Medical.HL7 = append(n.a.Medical.HL7, HL7Identity{Application: keep(app), Facility: keep(fac), Role: role, MessageTypes: types, Count: 1})
	return true, true
}

func (n *node) hl7Software(s HL7Software) (isNew, ok bool) {
	s = HL7Software{Vendor: clip(s.Vendor), Product: clip(s.Product), Version: clip(s.Version), BinaryID: clip(s.BinaryID)}
	if s == (HL7Software{}) || slices.Contains(n.a.Medical.HL7Software, s) {
		return false, true
	}
	if len(n.a.Medical.HL7Software) >= MaxIdentityItems {
		return false, false
	}
	n.a.Medical.HL7Software = append(n.a.Medical.HL7Software, HL7Software{Vendor: keep(s.Vendor), Product: keep(s.Product), Version: keep(s.Version), BinaryID: keep(s.BinaryID)})
	return true, true
}

func containsBytes(l []string, b []byte) bool {
	for _, s := range l {
		if s == string(b) {
			return true
		}
	}
	return false
}

// addString adds a value to a small set.
func addString(list *[]string, v string) (isNew, ok bool) {
	v = clip(v)
	if v == "" || slices.Contains(*list, v) {
		return false, true
	}
	if len(*list) >= MaxIdentityItems {
		return false, false
	}
	*list = append(*list, keep(v))
	return true, true
}

// keep copies a string from an event that the inventory stores. An HL7
// event's strings are views of one block that also holds the message's
// patient values (parsers/hl7): storing a view would keep those in memory
// as long as the asset, and the whole block with them.
func keep(s string) string { return strings.Clone(s) }

// identityKeys are the medical identities that keep a device's identity
// across address changes.
func (n *node) identityKeys() []string {
	var keys []string
	for _, ae := range n.a.Medical.AETitles {
		keys = append(keys, "ae:"+ae.Title)
	}
	for _, h := range n.a.Medical.HL7 {
		if h.Role == "sender" {
			keys = append(keys, "hl7:"+h.Application+"^"+h.Facility)
		}
	}
	return keys
}

// absorb folds b (the same device, seen before its identity was known)
// into n.
func (n *node) absorb(b *node) {
	a := &b.a
	for _, ip := range a.IPs {
		if x, err := netip.ParseAddr(ip.IP); err == nil {
			n.seeIP(x, ip.FirstSeen, ip.Source)
			n.seeIP(x, ip.LastSeen, ip.Source)
		}
	}
	for _, v := range a.VLANs {
		n.addVLAN(v)
	}
	n.touch(a.FirstSeen)
	n.touch(a.LastSeen)
	for _, h := range a.Hostnames {
		n.addHostname(h.Name, h.Source, h.LastSeen)
	}
	if n.a.DHCP == nil {
		n.a.DHCP = a.DHCP
	}
	for _, s := range a.Services {
		for i := uint64(0); i < s.Flows; i++ {
			n.service(false, s.Port, s.Transport == "tcp", s.AppProto, s.Encrypted, 0, s.FirstSeen, s.LastSeen)
		}
		n.a.Services[n.services[svcKey{s.Port, s.Transport == "tcp", s.AppProto}]].Bytes += s.Bytes
	}
	for _, s := range a.Uses {
		for i := uint64(0); i < s.Flows; i++ {
			n.service(true, s.Port, s.Transport == "tcp", s.AppProto, s.Encrypted, 0, s.FirstSeen, s.LastSeen)
		}
		n.a.Uses[n.uses[svcKey{s.Port, s.Transport == "tcp", s.AppProto}]].Bytes += s.Bytes
	}
	for k, i := range b.peers {
		p := a.Peers[i]
		if j, found := n.peers[k]; found {
			q := &n.a.Peers[j]
			q.Flows += p.Flows
			q.Bytes += p.Bytes
			q.Encrypted = q.Encrypted && p.Encrypted
			q.LastSeen = later(q.LastSeen, p.LastSeen)
		} else if len(n.a.Peers) < MaxPeersPerAsset {
			n.peers[k] = len(n.a.Peers)
			n.a.Peers = append(n.a.Peers, p)
		}
	}
	for _, f := range a.Software {
		n.fingerprint(f.Kind, f.Value, f.Port, f.LastSeen)
	}
	m := &a.Medical
	for _, ae := range m.AETitles {
		for _, r := range ae.Roles {
			n.aeRole(ae.Title, r, ae.LastSeen)
		}
	}
	for _, d := range m.Devices {
		n.device(d, d.LastSeen)
	}
	for _, im := range m.DICOMImplementations {
		n.implementation(im.ClassUID, im.VersionName)
	}
	for _, s := range m.SOPClasses {
		n.sopClass(s.UID, s.Role, s.Command)
	}
	for _, h := range m.HL7 {
		for _, t := range h.MessageTypes {
			n.hl7(h.Application, h.Facility, h.Role, []byte(t))
		}
	}
	for _, s := range m.HL7Software {
		n.hl7Software(s)
	}
	for _, v := range m.UDIs {
		addString(&n.a.Medical.UDIs, v)
	}
	for _, v := range m.EquipmentIDs {
		addString(&n.a.Medical.EquipmentIDs, v)
	}
	for _, v := range m.ASTMSenders {
		addString(&n.a.Medical.ASTMSenders, v)
	}
	n.a.Medical.ASTMResultsSent += m.ASTMResultsSent
	n.a.Medical.ASTMResultsReceived += m.ASTMResultsReceived
	n.a.Bytes.SensitiveMedical += a.Bytes.SensitiveMedical
	n.a.Bytes.NonSensitiveMedical += a.Bytes.NonSensitiveMedical
	n.a.Bytes.Device += a.Bytes.Device
	n.a.Bytes.Unknown += a.Bytes.Unknown
	n.a.MedicalBytes += a.MedicalBytes
	n.a.MedicalEncryptedBytes += a.MedicalEncryptedBytes
	r := &n.a.Risk.OpenAlerts
	o := a.Risk.OpenAlerts
	r.Critical += o.Critical
	r.High += o.High
	r.Medium += o.Medium
	r.Low += o.Low
	r.Info += o.Info
	for _, c := range a.Risk.Contradicted {
		if !slices.Contains(n.a.Risk.Contradicted, c) {
			n.a.Risk.Contradicted = append(n.a.Risk.Contradicted, c)
		}
	}
}

// snapshot copies the asset with its lists sorted and its summary fields
// filled.
func (n *node) snapshot() Asset {
	a := n.a
	a.IPs = slices.Clone(a.IPs)
	slices.SortFunc(a.IPs, func(x, y IPSeen) int {
		return cmp.Or(x.FirstSeen.Compare(y.FirstSeen), strings.Compare(x.IP, y.IP))
	})
	a.VLANs = slices.Clone(a.VLANs)
	a.Sensors = slices.Clone(a.Sensors)
	a.Hostnames = slices.Clone(a.Hostnames)
	slices.SortFunc(a.Hostnames, func(x, y Hostname) int {
		return cmp.Or(strings.Compare(x.Name, y.Name), strings.Compare(x.Source, y.Source))
	})
	if a.DHCP != nil {
		d := *a.DHCP
		a.DHCP = &d
	}
	a.Software = slices.Clone(a.Software)
	slices.SortFunc(a.Software, func(x, y Fingerprint) int {
		return cmp.Or(strings.Compare(x.Kind, y.Kind), strings.Compare(x.Value, y.Value), cmp.Compare(x.Port, y.Port))
	})
	svcCmp := func(x, y Service) int {
		return cmp.Or(strings.Compare(x.Transport, y.Transport), cmp.Compare(x.Port, y.Port), strings.Compare(x.AppProto, y.AppProto))
	}
	a.Services = slices.Clone(a.Services)
	slices.SortFunc(a.Services, svcCmp)
	a.Uses = slices.Clone(a.Uses)
	slices.SortFunc(a.Uses, svcCmp)
	a.Peers = slices.Clone(a.Peers)
	slices.SortFunc(a.Peers, func(x, y Peer) int {
		return cmp.Or(strings.Compare(x.IP, y.IP), strings.Compare(x.Direction, y.Direction), cmp.Compare(x.Port, y.Port),
			strings.Compare(x.Transport, y.Transport), strings.Compare(x.AppProto, y.AppProto), strings.Compare(x.DataCategory, y.DataCategory))
	})
	m := a.Medical
	m.AETitles = slices.Clone(m.AETitles)
	for i := range m.AETitles {
		m.AETitles[i].Roles = slices.Clone(m.AETitles[i].Roles)
	}
	slices.SortFunc(m.AETitles, func(x, y AETitle) int { return strings.Compare(x.Title, y.Title) })
	m.Devices = slices.Clone(m.Devices)
	slices.SortStableFunc(m.Devices, func(x, y DeviceIdentity) int {
		return cmp.Or(cmp.Compare(y.Count, x.Count), x.FirstSeen.Compare(y.FirstSeen))
	})
	m.DICOMImplementations = slices.Clone(m.DICOMImplementations)
	slices.SortFunc(m.DICOMImplementations, func(x, y DICOMImplementation) int {
		return cmp.Or(strings.Compare(x.ClassUID, y.ClassUID), strings.Compare(x.VersionName, y.VersionName))
	})
	m.SOPClasses = slices.Clone(m.SOPClasses)
	slices.SortFunc(m.SOPClasses, func(x, y SOPClassUse) int {
		return cmp.Or(strings.Compare(x.UID, y.UID), strings.Compare(x.Role, y.Role), strings.Compare(x.Command, y.Command))
	})
	m.HL7 = slices.Clone(m.HL7)
	for i := range m.HL7 {
		m.HL7[i].MessageTypes = slices.Clone(m.HL7[i].MessageTypes)
	}
	slices.SortFunc(m.HL7, func(x, y HL7Identity) int {
		return cmp.Or(strings.Compare(x.Role, y.Role), strings.Compare(x.Application, y.Application), strings.Compare(x.Facility, y.Facility))
	})
	m.HL7Software = slices.Clone(m.HL7Software)
	m.UDIs = sortedClone(m.UDIs)
	m.EquipmentIDs = sortedClone(m.EquipmentIDs)
	m.ASTMSenders = sortedClone(m.ASTMSenders)
	// Summary: the most often stated identity, per field.
	m.Modality, m.Manufacturer, m.Model, m.DeviceSerialNumber, m.StationName = "", "", "", "", ""
	var versions []string
	for _, d := range m.Devices {
		m.Modality = cmp.Or(m.Modality, d.Modality)
		m.Manufacturer = cmp.Or(m.Manufacturer, d.Manufacturer)
		m.Model = cmp.Or(m.Model, d.Model)
		m.DeviceSerialNumber = cmp.Or(m.DeviceSerialNumber, d.DeviceSerialNumber)
		m.StationName = cmp.Or(m.StationName, d.StationName)
		if d.SoftwareVersions != "" && !slices.Contains(versions, d.SoftwareVersions) {
			versions = append(versions, d.SoftwareVersions)
		}
	}
	slices.Sort(versions)
	m.SoftwareVersions = versions
	a.Medical = m
	a.Risk.Contradicted = sortedClone(a.Risk.Contradicted)
	a.ClassReasons = slices.Clone(a.ClassReasons)
	if a.MedicalBytes > 0 {
		s := float64(a.MedicalEncryptedBytes) / float64(a.MedicalBytes)
		s = float64(int64(s*10000+0.5)) / 10000
		a.MedicalEncryptedShare = &s
	} else {
		a.MedicalEncryptedShare = nil
	}
	return a
}

func sortedClone(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func sortAssets(as []Asset) {
	slices.SortFunc(as, func(x, y Asset) int {
		return cmp.Or(x.FirstSeen.Compare(y.FirstSeen), strings.Compare(x.ID, y.ID))
	})
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func transport(tcp bool) string {
	if tcp {
		return "tcp"
	}
	return "udp"
}

// clip bounds a value from the wire and drops control characters, so a
// hostile string cannot bloat the store or break a terminal table.
func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > MaxValueLen {
		s = strings.ToValidUTF8(s[:MaxValueLen], "")
	}
	clean := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

func serviceName(tcp bool, port uint16, proto string) string {
	return transport(tcp) + "/" + strconv.Itoa(int(port)) + " " + proto
}
