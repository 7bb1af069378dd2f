package inventory

import (
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/medtap/medtap/parsers/parser"
)

// assetsWriteBuffer is how much WriteAssetsJSON gathers before a write.
const assetsWriteBuffer = 64 << 10

// WriteAssetsJSON writes list, and a newline, as encoding/json's
// MarshalIndent(list, "", "  ") writes it, byte for byte, but for a nil
// list, which is "[]" here.
//
// assets.json is written when an analysis ends, after the pipeline has
// stopped, so all of its time is added to the run's. With encoding/json
// it took 20 to 60 ms for the benchmark capture's 768 assets (2.9 MB):
// reflection, a validating pass over every time's MarshalJSON output, an
// indentation pass, and 15 MB of buffers. The buffers cost the most: the
// heap is at the memory budget when a run ends, so megabytes allocated
// then set off a collection whose marking the allocating goroutine has to
// help with. This writes the indented text in one pass through a 64 KiB
// buffer. TestAssetsJSONSameAsEncodingJSON fills every field of every type
// here by reflection and compares, so a field added to Asset and not here
// fails it.
func WriteAssetsJSON(out io.Writer, list []Asset) error {
	w := jsonWriter{b: make([]byte, 0, assetsWriteBuffer+assetsWriteBuffer/4)}
	flush := func() error {
		if w.err != nil {
			return w.err
		}
		_, err := out.Write(w.b)
		w.b = w.b[:0]
		return err
	}
	w.beginArray()
	for i := range list {
		w.elem()
		w.asset(&list[i])
		if len(w.b) >= assetsWriteBuffer {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	w.end(']')
	w.b = append(w.b, '\n')
	return flush()
}

// jsonWriter appends indented JSON as json.MarshalIndent lays it out: a
// value that opens an object or array puts each member on its own line,
// two spaces deeper, and an empty one stays "{}" or "[]".
type jsonWriter struct {
	b     []byte
	open  []bool // per open object or array: whether it has a member yet
	err   error
	depth int
}

func (w *jsonWriter) newline() {
	w.b = append(w.b, '\n')
	for range w.depth {
		w.b = append(w.b, ' ', ' ')
	}
}

func (w *jsonWriter) beginObject() { w.begin('{') }
func (w *jsonWriter) beginArray()  { w.begin('[') }

func (w *jsonWriter) begin(c byte) {
	w.b = append(w.b, c)
	w.open = append(w.open, false)
	w.depth++
}

// end closes the innermost object ('}') or array (']').
func (w *jsonWriter) end(c byte) {
	had := w.open[len(w.open)-1]
	w.open = w.open[:len(w.open)-1]
	w.depth--
	if had {
		w.newline()
	}
	w.b = append(w.b, c)
}

// elem starts the next member of the innermost array or object.
func (w *jsonWriter) elem() {
	if top := &w.open[len(w.open)-1]; *top {
		w.b = append(w.b, ',')
	} else {
		*top = true
	}
	w.newline()
}

// key starts an object member: `"name": `.
func (w *jsonWriter) key(name string) {
	w.elem()
	w.b = append(w.b, '"')
	w.b = append(w.b, name...)
	w.b = append(w.b, '"', ':', ' ')
}

func (w *jsonWriter) str(name, v string) {
	w.key(name)
	w.b = parser.AppendJSONString(w.b, v)
}

func (w *jsonWriter) optStr(name, v string) {
	if v != "" {
		w.str(name, v)
	}
}

func (w *jsonWriter) uint(name string, v uint64) {
	w.key(name)
	w.b = strconv.AppendUint(w.b, v, 10)
}

func (w *jsonWriter) int(name string, v int) {
	w.key(name)
	w.b = strconv.AppendInt(w.b, int64(v), 10)
}

func (w *jsonWriter) optInt(name string, v int) {
	if v != 0 {
		w.int(name, v)
	}
}

func (w *jsonWriter) bool(name string, v bool) {
	w.key(name)
	w.b = strconv.AppendBool(w.b, v)
}

func (w *jsonWriter) optBool(name string, v bool) {
	if v {
		w.bool(name, v)
	}
}

// errJSONTime is what time.Time.MarshalJSON refuses: a year outside
// 0..9999 (or an offset it cannot write).
var errJSONTime = errors.New("inventory: a time outside the years 0-9999 has no JSON form")

// time writes t as time.Time.MarshalJSON does: RFC 3339 with as many
// fraction digits as it needs, in t's own zone.
func (w *jsonWriter) time(name string, t time.Time) {
	w.key(name)
	if y := t.Year(); y < 0 || y > 9999 {
		if w.err == nil {
			w.err = errJSONTime
		}
	}
	w.b = append(w.b, '"')
	w.b = t.AppendFormat(w.b, time.RFC3339Nano)
	w.b = append(w.b, '"')
}

// strings writes a list of strings; nil is null, as encoding/json has it.
func (w *jsonWriter) strings(name string, l []string) {
	w.key(name)
	if l == nil {
		w.b = append(w.b, "null"...)
		return
	}
	w.beginArray()
	for _, s := range l {
		w.elem()
		w.b = parser.AppendJSONString(w.b, s)
	}
	w.end(']')
}

func (w *jsonWriter) optStrings(name string, l []string) {
	if len(l) > 0 {
		w.strings(name, l)
	}
}

// list writes a list of objects, each by one; nil is null.
func list[T any](w *jsonWriter, name string, l []T, one func(*jsonWriter, *T)) {
	w.key(name)
	if l == nil {
		w.b = append(w.b, "null"...)
		return
	}
	w.beginArray()
	for i := range l {
		w.elem()
		w.beginObject()
		one(w, &l[i])
		w.end('}')
	}
	w.end(']')
}

func optList[T any](w *jsonWriter, name string, l []T, one func(*jsonWriter, *T)) {
	if len(l) > 0 {
		list(w, name, l, one)
	}
}

// The members of each type, in its field order, with its tags' names
// and omitempty.

func (w *jsonWriter) asset(a *Asset) {
	w.beginObject()
	w.str("id", a.ID)
	w.optStr("mac", a.MAC)
	w.optStr("vendor", a.Vendor)
	w.str("ip", a.IP)
	list(w, "ips", a.IPs, (*jsonWriter).ipSeen)
	if len(a.VLANs) > 0 {
		w.key("vlans")
		w.beginArray()
		for _, v := range a.VLANs {
			w.elem()
			w.b = strconv.AppendUint(w.b, uint64(v), 10)
		}
		w.end(']')
	}
	w.bool("internal", a.Internal)
	w.optStr("country", a.Country)
	w.optStrings("sensors", a.Sensors)
	w.time("first_seen", a.FirstSeen)
	w.time("last_seen", a.LastSeen)
	optList(w, "hostnames", a.Hostnames, (*jsonWriter).hostname)
	if a.DHCP != nil {
		w.key("dhcp")
		w.beginObject()
		w.dhcp(a.DHCP)
		w.end('}')
	}
	w.key("medical")
	w.beginObject()
	w.medical(&a.Medical)
	w.end('}')
	optList(w, "software", a.Software, (*jsonWriter).fingerprint)
	optList(w, "services", a.Services, (*jsonWriter).service)
	optList(w, "uses", a.Uses, (*jsonWriter).service)
	optList(w, "peers", a.Peers, (*jsonWriter).peer)
	w.key("bytes_by_category")
	w.beginObject()
	w.uint("sensitive_medical", a.Bytes.SensitiveMedical)
	w.uint("non_sensitive_medical", a.Bytes.NonSensitiveMedical)
	w.uint("device", a.Bytes.Device)
	w.uint("unknown", a.Bytes.Unknown)
	w.end('}')
	w.uint("medical_bytes", a.MedicalBytes)
	w.uint("medical_encrypted_bytes", a.MedicalEncryptedBytes)
	if a.MedicalEncryptedShare != nil {
		w.key("medical_encrypted_share")
		w.b = parser.AppendJSONFloat(w.b, *a.MedicalEncryptedShare)
	}
	w.str("class", a.Class)
	w.optStrings("class_reasons", a.ClassReasons)
	w.key("risk")
	w.beginObject()
	w.key("open_alerts")
	w.beginObject()
	s := &a.Risk.OpenAlerts
	w.int("critical", s.Critical)
	w.int("high", s.High)
	w.int("medium", s.Medium)
	w.int("low", s.Low)
	w.int("info", s.Info)
	w.end('}')
	w.optStrings("contradicted", a.Risk.Contradicted)
	w.end('}')
	w.end('}')
}

func (w *jsonWriter) ipSeen(v *IPSeen) {
	w.str("ip", v.IP)
	w.str("source", v.Source)
	w.time("first_seen", v.FirstSeen)
	w.time("last_seen", v.LastSeen)
}

func (w *jsonWriter) hostname(v *Hostname) {
	w.str("name", v.Name)
	w.str("source", v.Source)
	w.time("first_seen", v.FirstSeen)
	w.time("last_seen", v.LastSeen)
}

func (w *jsonWriter) dhcp(v *DHCPFingerprint) {
	w.optStr("parameter_request_list", v.ParameterRequestList)
	w.optStr("vendor_class", v.VendorClass)
	w.optStr("client_id", v.ClientID)
	w.optStr("last_message", v.LastMessage)
	w.time("last_seen", v.LastSeen)
}

func (w *jsonWriter) medical(m *Medical) {
	optList(w, "ae_titles", m.AETitles, (*jsonWriter).aeTitle)
	optList(w, "devices", m.Devices, (*jsonWriter).deviceIdentity)
	w.optStr("modality", m.Modality)
	w.optStr("manufacturer", m.Manufacturer)
	w.optStr("model", m.Model)
	w.optStr("device_serial_number", m.DeviceSerialNumber)
	w.optStrings("software_versions", m.SoftwareVersions)
	w.optStr("station_name", m.StationName)
	optList(w, "dicom_implementations", m.DICOMImplementations, (*jsonWriter).dicomImplementation)
	optList(w, "sop_classes", m.SOPClasses, (*jsonWriter).sopClass)
	optList(w, "hl7", m.HL7, (*jsonWriter).hl7Identity)
	optList(w, "hl7_software", m.HL7Software, (*jsonWriter).hl7Software)
	w.optStrings("udis", m.UDIs)
	w.optStrings("equipment_ids", m.EquipmentIDs)
	w.optStrings("astm_senders", m.ASTMSenders)
	w.optInt("astm_results_sent", m.ASTMResultsSent)
	w.optInt("astm_results_received", m.ASTMResultsReceived)
}

func (w *jsonWriter) aeTitle(v *AETitle) {
	w.str("title", v.Title)
	w.strings("roles", v.Roles)
	w.time("first_seen", v.FirstSeen)
	w.time("last_seen", v.LastSeen)
}

func (w *jsonWriter) deviceIdentity(v *DeviceIdentity) {
	w.str("source", v.Source)
	w.optStr("modality", v.Modality)
	w.optStr("manufacturer", v.Manufacturer)
	w.optStr("model", v.Model)
	w.optStr("device_serial_number", v.DeviceSerialNumber)
	w.optStr("software_versions", v.SoftwareVersions)
	w.optStr("hardware_version", v.HardwareVersion)
	w.optStr("station_name", v.StationName)
	w.optStr("device_name", v.DeviceName)
	w.optStr("udi", v.UDI)
	w.int("count", v.Count)
	w.time("first_seen", v.FirstSeen)
	w.time("last_seen", v.LastSeen)
}

func (w *jsonWriter) dicomImplementation(v *DICOMImplementation) {
	w.str("class_uid", v.ClassUID)
	w.optStr("version_name", v.VersionName)
}

func (w *jsonWriter) sopClass(v *SOPClassUse) {
	w.str("uid", v.UID)
	w.str("role", v.Role)
	w.str("command", v.Command)
	w.int("count", v.Count)
}

func (w *jsonWriter) hl7Identity(v *HL7Identity) {
	w.str("application", v.Application)
	w.optStr("facility", v.Facility)
	w.str("role", v.Role)
	w.optStrings("message_types", v.MessageTypes)
	w.int("count", v.Count)
}

func (w *jsonWriter) hl7Software(v *HL7Software) {
	w.optStr("vendor", v.Vendor)
	w.optStr("product", v.Product)
	w.optStr("version", v.Version)
	w.optStr("binary_id", v.BinaryID)
}

func (w *jsonWriter) fingerprint(v *Fingerprint) {
	w.str("kind", v.Kind)
	w.str("value", v.Value)
	if v.Port != 0 {
		w.uint("port", uint64(v.Port))
	}
	w.int("count", v.Count)
	w.time("first_seen", v.FirstSeen)
	w.time("last_seen", v.LastSeen)
}

func (w *jsonWriter) service(v *Service) {
	w.uint("port", uint64(v.Port))
	w.str("transport", v.Transport)
	w.str("app_proto", v.AppProto)
	w.bool("encrypted", v.Encrypted)
	w.uint("flows", v.Flows)
	w.uint("bytes", v.Bytes)
	w.time("first_seen", v.FirstSeen)
	w.time("last_seen", v.LastSeen)
}

func (w *jsonWriter) peer(v *Peer) {
	w.str("ip", v.IP)
	w.optStr("asset_id", v.AssetID)
	w.str("direction", v.Direction)
	w.uint("port", uint64(v.Port))
	w.str("transport", v.Transport)
	w.str("app_proto", v.AppProto)
	w.str("data_category", v.DataCategory)
	w.bool("internal", v.Internal)
	w.optStr("country", v.Country)
	w.optBool("foreign", v.Foreign)
	w.bool("encrypted", v.Encrypted)
	w.uint("flows", v.Flows)
	w.uint("bytes", v.Bytes)
	w.time("first_seen", v.FirstSeen)
	w.time("last_seen", v.LastSeen)
}
