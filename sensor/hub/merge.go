package hub

import (
	"cmp"
	"slices"
	"time"

	"github.com/medtap/medtap/detect/inventory"
)

// JoinAsset folds a sensor's snapshot s of an asset into the hub's merged
// view m (same ID) and returns the result. The join is idempotent,
// commutative and associative (sets are unions, times widen, counters take
// the larger value), so a redelivered or republished snapshot changes
// nothing, and arrival order does not matter. Counters are the largest
// single sensor's view: two sensors on overlapping mirror ports see the
// same packets, and summing would count them twice.
func JoinAsset(m, s inventory.Asset, sensor string) inventory.Asset {
	if m.ID == "" {
		m.ID = s.ID
	}
	newer := s.LastSeen.After(m.LastSeen) || (s.LastSeen.Equal(m.LastSeen) && s.IP > m.IP)
	if m.MAC == "" || (newer && s.MAC != "") {
		m.MAC, m.Vendor = pick(m.MAC, s.MAC, newer), pick(m.Vendor, s.Vendor, newer)
	}
	m.IP = pick(m.IP, s.IP, newer)
	m.IPs = union(m.IPs, s.IPs, func(x inventory.IPSeen) string { return x.IP }, func(x, y inventory.IPSeen) inventory.IPSeen {
		x.FirstSeen, x.LastSeen = minTime(x.FirstSeen, y.FirstSeen), maxTime(x.LastSeen, y.LastSeen)
		x.Source = min(x.Source, y.Source)
		return x
	}, inventory.MaxIPsPerAsset)
	m.VLANs = union(m.VLANs, s.VLANs, func(v uint16) uint16 { return v }, keep[uint16], inventory.MaxIPsPerAsset)
	m.Internal = m.Internal || s.Internal
	m.Country = pick(m.Country, s.Country, newer)
	sensors := append(slices.Clone(s.Sensors), sensor)
	m.Sensors = union(m.Sensors, sensors, func(v string) string { return v }, keep[string], inventory.MaxIdentityItems)
	if m.FirstSeen.IsZero() || (!s.FirstSeen.IsZero() && s.FirstSeen.Before(m.FirstSeen)) {
		m.FirstSeen = s.FirstSeen
	}
	m.LastSeen = maxTime(m.LastSeen, s.LastSeen)
	m.Hostnames = union(m.Hostnames, s.Hostnames, func(h inventory.Hostname) [2]string { return [2]string{h.Name, h.Source} },
		func(x, y inventory.Hostname) inventory.Hostname {
			x.FirstSeen, x.LastSeen = minTime(x.FirstSeen, y.FirstSeen), maxTime(x.LastSeen, y.LastSeen)
			return x
		}, inventory.MaxHostnamesPerAsset)
	if s.DHCP != nil && (m.DHCP == nil || s.DHCP.LastSeen.After(m.DHCP.LastSeen) ||
		(s.DHCP.LastSeen.Equal(m.DHCP.LastSeen) && s.DHCP.ParameterRequestList > m.DHCP.ParameterRequestList)) {
		d := *s.DHCP
		m.DHCP = &d
	}
	m.Medical = joinMedical(m.Medical, s.Medical, newer)
	m.Software = union(m.Software, s.Software, func(f inventory.Fingerprint) fpKey { return fpKey{f.Kind, f.Value, f.Port} },
		func(x, y inventory.Fingerprint) inventory.Fingerprint {
			x.Count = max(x.Count, y.Count)
			x.FirstSeen, x.LastSeen = minTime(x.FirstSeen, y.FirstSeen), maxTime(x.LastSeen, y.LastSeen)
			return x
		}, inventory.MaxFingerprints)
	m.Services = union(m.Services, s.Services, svcKey, joinService, inventory.MaxServicesPerAsset)
	m.Uses = union(m.Uses, s.Uses, svcKey, joinService, inventory.MaxServicesPerAsset)
	m.Peers = union(m.Peers, s.Peers, func(p inventory.Peer) peerKey {
		return peerKey{p.IP, p.Direction, p.Port, p.Transport, p.AppProto, p.DataCategory}
	}, func(x, y inventory.Peer) inventory.Peer {
		x.Flows, x.Bytes = max(x.Flows, y.Flows), max(x.Bytes, y.Bytes)
		x.Encrypted = x.Encrypted && y.Encrypted
		x.AssetID = max(x.AssetID, y.AssetID)
		x.FirstSeen, x.LastSeen = minTime(x.FirstSeen, y.FirstSeen), maxTime(x.LastSeen, y.LastSeen)
		return x
	}, inventory.MaxPeersPerAsset)
	m.Bytes = inventory.ByCategory{
		SensitiveMedical:    max(m.Bytes.SensitiveMedical, s.Bytes.SensitiveMedical),
		NonSensitiveMedical: max(m.Bytes.NonSensitiveMedical, s.Bytes.NonSensitiveMedical),
		Device:              max(m.Bytes.Device, s.Bytes.Device),
		Unknown:             max(m.Bytes.Unknown, s.Bytes.Unknown),
	}
	if s.MedicalBytes > m.MedicalBytes || (s.MedicalBytes == m.MedicalBytes && s.MedicalEncryptedBytes > m.MedicalEncryptedBytes) {
		m.MedicalBytes, m.MedicalEncryptedBytes = s.MedicalBytes, s.MedicalEncryptedBytes
	}
	m.MedicalEncryptedShare = nil
	if m.MedicalBytes > 0 {
		share := float64(m.MedicalEncryptedBytes) / float64(m.MedicalBytes)
		m.MedicalEncryptedShare = &share
	}
	// A known class beats unknown; between two known ones, the newer view.
	if s.Class != "" && s.Class != inventory.ClassUnknown && (m.Class == "" || m.Class == inventory.ClassUnknown || (newer && s.Class != m.Class)) {
		m.Class, m.ClassReasons = s.Class, slices.Clone(s.ClassReasons)
	} else if m.Class == "" {
		m.Class, m.ClassReasons = s.Class, slices.Clone(s.ClassReasons)
	}
	o, so := &m.Risk.OpenAlerts, s.Risk.OpenAlerts
	o.Critical, o.High, o.Medium, o.Low, o.Info = max(o.Critical, so.Critical), max(o.High, so.High), max(o.Medium, so.Medium), max(o.Low, so.Low), max(o.Info, so.Info)
	m.Risk.Contradicted = union(m.Risk.Contradicted, s.Risk.Contradicted, func(v string) string { return v }, keep[string], inventory.MaxIdentityItems)
	return m
}

func joinMedical(m, s inventory.Medical, newer bool) inventory.Medical {
	str := func(v string) string { return v }
	m.AETitles = union(m.AETitles, s.AETitles, func(a inventory.AETitle) string { return a.Title }, func(x, y inventory.AETitle) inventory.AETitle {
		x.Roles = union(x.Roles, y.Roles, str, keep[string], inventory.MaxIdentityItems)
		x.FirstSeen, x.LastSeen = minTime(x.FirstSeen, y.FirstSeen), maxTime(x.LastSeen, y.LastSeen)
		return x
	}, inventory.MaxIdentityItems)
	m.Devices = union(m.Devices, s.Devices, func(d inventory.DeviceIdentity) devKey {
		return devKey{d.Source, d.Modality, d.Manufacturer, d.Model, d.DeviceSerialNumber, d.SoftwareVersions, d.HardwareVersion, d.StationName, d.DeviceName, d.UDI}
	}, func(x, y inventory.DeviceIdentity) inventory.DeviceIdentity {
		x.Count = max(x.Count, y.Count)
		x.FirstSeen, x.LastSeen = minTime(x.FirstSeen, y.FirstSeen), maxTime(x.LastSeen, y.LastSeen)
		return x
	}, inventory.MaxIdentityItems)
	m.Modality = pick(m.Modality, s.Modality, newer)
	m.Manufacturer = pick(m.Manufacturer, s.Manufacturer, newer)
	m.Model = pick(m.Model, s.Model, newer)
	m.DeviceSerialNumber = pick(m.DeviceSerialNumber, s.DeviceSerialNumber, newer)
	m.StationName = pick(m.StationName, s.StationName, newer)
	m.SoftwareVersions = union(m.SoftwareVersions, s.SoftwareVersions, str, keep[string], inventory.MaxIdentityItems)
	m.DICOMImplementations = union(m.DICOMImplementations, s.DICOMImplementations,
		func(d inventory.DICOMImplementation) inventory.DICOMImplementation { return d }, keep[inventory.DICOMImplementation], inventory.MaxIdentityItems)
	m.SOPClasses = union(m.SOPClasses, s.SOPClasses, func(u inventory.SOPClassUse) [3]string { return [3]string{u.UID, u.Role, u.Command} },
		func(x, y inventory.SOPClassUse) inventory.SOPClassUse { x.Count = max(x.Count, y.Count); return x }, inventory.MaxIdentityItems)
	m.HL7 = union(m.HL7, s.HL7, func(h inventory.HL7Identity) [3]string { return [3]string{h.Application, h.Facility, h.Role} },
		func(x, y inventory.HL7Identity) inventory.HL7Identity {
			x.Count = max(x.Count, y.Count)
			x.MessageTypes = union(x.MessageTypes, y.MessageTypes, str, keep[string], inventory.MaxIdentityItems)
			return x
		}, inventory.MaxIdentityItems)
	m.HL7Software = union(m.HL7Software, s.HL7Software, func(h inventory.HL7Software) inventory.HL7Software { return h }, keep[inventory.HL7Software], inventory.MaxIdentityItems)
	m.UDIs = union(m.UDIs, s.UDIs, str, keep[string], inventory.MaxIdentityItems)
	m.EquipmentIDs = union(m.EquipmentIDs, s.EquipmentIDs, str, keep[string], inventory.MaxIdentityItems)
	m.ASTMSenders = union(m.ASTMSenders, s.ASTMSenders, str, keep[string], inventory.MaxIdentityItems)
	return m
}

type fpKey struct {
	kind, value string
	port        uint16
}

type peerKey struct {
	ip, dir   string
	port      uint16
	transport string
	app, cat  string
}

type devKey [10]string

type serviceKey struct {
	transport string
	port      uint16
	app       string
}

func svcKey(s inventory.Service) serviceKey { return serviceKey{s.Transport, s.Port, s.AppProto} }

func joinService(x, y inventory.Service) inventory.Service {
	x.Flows, x.Bytes = max(x.Flows, y.Flows), max(x.Bytes, y.Bytes)
	x.Encrypted = x.Encrypted && y.Encrypted
	x.FirstSeen, x.LastSeen = minTime(x.FirstSeen, y.FirstSeen), maxTime(x.LastSeen, y.LastSeen)
	return x
}

// union joins two lists keyed by key, merging items with equal keys, and
// keeps the result sorted by key (so it does not depend on which list came
// first) and at most limit long (the lowest keys: deterministic).
func union[T any, K comparable](a, b []T, key func(T) K, merge func(x, y T) T, limit int) []T {
	if len(b) == 0 {
		return a
	}
	idx := make(map[K]int, len(a)+len(b))
	out := make([]T, 0, len(a)+len(b))
	for _, list := range [2][]T{a, b} {
		for _, v := range list {
			k := key(v)
			if i, ok := idx[k]; ok {
				out[i] = merge(out[i], v)
				continue
			}
			idx[k] = len(out)
			out = append(out, v)
		}
	}
	// Sorted by the keys' printed form, which is total for every key
	// type used here; printed once per item.
	type keyed struct {
		k string
		v T
	}
	ks := make([]keyed, len(out))
	for i, v := range out {
		ks[i] = keyed{keyString(key(v)), v}
	}
	slices.SortStableFunc(ks, func(x, y keyed) int { return cmp.Compare(x.k, y.k) })
	if len(ks) > limit {
		ks = ks[:limit]
	}
	out = out[:len(ks)]
	for i := range ks {
		out[i] = ks[i].v
	}
	return out
}

func keep[T any](x, _ T) T { return x }

// pick keeps cur unless it is empty, or next is non-empty and newer.
func pick(cur, next string, newer bool) string {
	if cur == "" || (newer && next != "") {
		return next
	}
	return cur
}

func minTime(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// JoinAlert folds an alert record r into the stored one m (same ID):
// counts and times widen, asset ids unite, the rest comes from the record
// seen last.
func JoinAlert(m, r inventory.AlertRecord) inventory.AlertRecord {
	if m.ID == "" {
		return r
	}
	out := m
	if r.LastSeen.After(m.LastSeen) || (r.LastSeen.Equal(m.LastSeen) && r.Count > m.Count) {
		out = r
	}
	out.Count = max(m.Count, r.Count)
	out.FirstSeen = minTime(m.FirstSeen, r.FirstSeen)
	out.LastSeen = maxTime(m.LastSeen, r.LastSeen)
	out.AssetIDs = union(slices.Clone(m.AssetIDs), r.AssetIDs, func(v string) string { return v }, keep[string], inventory.MaxIdentityItems)
	return out
}
