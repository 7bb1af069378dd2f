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
	b    []byte
	open []bool // per open object or array, innermost last: whether it has a member yet
	err  error
}

func (w *jsonWriter) newline() {
	w.b = append(w.b, '\n')
	for range w.open {
		w.b = append(w.b, ' ', ' ')
	}
}

func (w *jsonWriter) beginObject() { w.begin('{') }
func (w *jsonWriter) beginArray()  { w.begin('[') }

func (w *jsonWriter) begin(c byte) {
	w.b = append(w.b, c)
	w.open = append(w.open, false)
}

// end closes the innermost object ('}') or array (']').
func (w *jsonWriter) end(c byte) {
	had := w.open[len(w.open)-1]
	w.open = w.open[:len(w.open)-1]
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

func (w *jsonWriter) stringField(name, v string) {
	w.key(name)
	w.b = parser.AppendJSONString(w.b, v)
}

func (w *jsonWriter) optStringField(name, v string) {
	if v != "" {
		w.stringField(name, v)
	}
}

func (w *jsonWriter) uintField(name string, v uint64) {
	w.key(name)
	w.b = strconv.AppendUint(w.b, v, 10)
}

func (w *jsonWriter) intField(name string, v int) {
	w.key(name)
	w.b = strconv.AppendInt(w.b, int64(v), 10)
}

func (w *jsonWriter) optIntField(name string, v int) {
	if v != 0 {
		w.intField(name, v)
	}
}

func (w *jsonWriter) boolField(name string, v bool) {
	w.key(name)
	w.b = strconv.AppendBool(w.b, v)
}

func (w *jsonWriter) optBoolField(name string, v bool) {
	if v {
		w.boolField(name, v)
	}
}

// errJSONTime is what time.Time.MarshalJSON refuses: a year outside
// 0..9999, or a zone offset of a day or more.
var errJSONTime = errors.New("inventory: a time outside the years 0-9999, or with a zone offset of 24 hours or more, has no JSON form")

// timeField writes t as time.Time.MarshalJSON does: RFC 3339 with as many
// fraction digits as it needs, in t's own zone.
func (w *jsonWriter) timeField(name string, t time.Time) {
	w.key(name)
	_, off := t.Zone()
	if y := t.Year(); (y < 0 || y > 9999 || off <= -24*3600 || off >= 24*3600) && w.err == nil {
		w.err = errJSONTime
	}
	w.b = append(w.b, '"')
	w.b = t.AppendFormat(w.b, time.RFC3339Nano)
	w.b = append(w.b, '"')
}

// stringsField writes a list of strings; nil is null, as encoding/json has it.
func (w *jsonWriter) stringsField(name string, l []string) {
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

func (w *jsonWriter) optStringsField(name string, l []string) {
	if len(l) > 0 {
		w.stringsField(name, l)
	}
}

// objectList writes a list of objects, each by one; nil is null.
func objectList[T any](w *jsonWriter, name string, l []T, one func(*jsonWriter, *T)) {
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

func optObjectList[T any](w *jsonWriter, name string, l []T, one func(*jsonWriter, *T)) {
	if len(l) > 0 {
		objectList(w, name, l, one)
	}
}

// The members of each type, in its field order, with its tags' names
// and omitempty.

func (w *jsonWriter) asset(a *Asset) {
	w.beginObject()
	w.stringField("id", a.ID)
	w.optStringField("mac", a.MAC)
	w.optStringField("vendor", a.Vendor)
	w.stringField("ip", a.IP)
	objectList(w, "ips", a.IPs, (*jsonWriter).ipSeen)
	if len(a.VLANs) > 0 {
		w.key("vlans")
		w.beginArray()
		for _, v := range a.VLANs {
			w.elem()
			w.b = strconv.AppendUint(w.b, uint64(v), 10)
		}
		w.end(']')
	}
	w.boolField("internal", a.Internal)
	w.optStringField("country", a.Country)
	w.optStringsField("sensors", a.Sensors)
	w.timeField("first_seen", a.FirstSeen)
	w.timeField("last_seen", a.LastSeen)
	optObjectList(w, "hostnames", a.Hostnames, (*jsonWriter).hostname)
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
	optObjectList(w, "software", a.Software, (*jsonWriter).fingerprint)
	optObjectList(w, "services", a.Services, (*jsonWriter).service)
	optObjectList(w, "uses", a.Uses, (*jsonWriter).service)
	optObjectList(w, "peers", a.Peers, (*jsonWriter).peer)
	w.key("bytes_by_category")
	w.beginObject()
	w.uintField("sensitive_medical", a.Bytes.SensitiveMedical)
	w.uintField("non_sensitive_medical", a.Bytes.NonSensitiveMedical)
	w.uintField("device", a.Bytes.Device)
	w.uintField("unknown", a.Bytes.Unknown)
	w.end('}')
	w.uintField("medical_bytes", a.MedicalBytes)
	w.uintField("medical_encrypted_bytes", a.MedicalEncryptedBytes)
	if a.MedicalEncryptedShare != nil {
		w.key("medical_encrypted_share")
		w.b = parser.AppendJSONFloat(w.b, *a.MedicalEncryptedShare)
	}
	w.stringField("class", a.Class)
	w.optStringsField("class_reasons", a.ClassReasons)
	w.key("risk")
	w.beginObject()
	w.key("open_alerts")
	w.beginObject()
	s := &a.Risk.OpenAlerts
	w.intField("critical", s.Critical)
	w.intField("high", s.High)
	w.intField("medium", s.Medium)
	w.intField("low", s.Low)
	w.intField("info", s.Info)
	w.end('}')
	w.optStringsField("contradicted", a.Risk.Contradicted)
	w.end('}')
	w.end('}')
}

func (w *jsonWriter) ipSeen(v *IPSeen) {
	w.stringField("ip", v.IP)
	w.stringField("source", v.Source)
	w.timeField("first_seen", v.FirstSeen)
	w.timeField("last_seen", v.LastSeen)
}

func (w *jsonWriter) hostname(v *Hostname) {
	w.stringField("name", v.Name)
	w.stringField("source", v.Source)
	w.timeField("first_seen", v.FirstSeen)
	w.timeField("last_seen", v.LastSeen)
}

func (w *jsonWriter) dhcp(v *DHCPFingerprint) {
	w.optStringField("parameter_request_list", v.ParameterRequestList)
	w.optStringField("vendor_class", v.VendorClass)
	w.optStringField("client_id", v.ClientID)
	w.optStringField("last_message", v.LastMessage)
	w.timeField("last_seen", v.LastSeen)
}

func (w *jsonWriter) medical(m *Medical) {
	optObjectList(w, "ae_titles", m.AETitles, (*jsonWriter).aeTitle)
	optObjectList(w, "devices", m.Devices, (*jsonWriter).deviceIdentity)
	w.optStringField("modality", m.Modality)
	w.optStringField("manufacturer", m.Manufacturer)
	w.optStringField("model", m.Model)
	w.optStringField("device_serial_number", m.DeviceSerialNumber)
	w.optStringsField("software_versions", m.SoftwareVersions)
	w.optStringField("station_name", m.StationName)
	optObjectList(w, "dicom_implementations", m.DICOMImplementations, (*jsonWriter).dicomImplementation)
	optObjectList(w, "sop_classes", m.SOPClasses, (*jsonWriter).sopClass)
	optObjectList(w, "hl7", m.HL7, (*jsonWriter).hl7Identity)
	optObjectList(w, "hl7_software", m.HL7Software, (*jsonWriter).hl7Software)
	w.optStringsField("udis", m.UDIs)
	w.optStringsField("equipment_ids", m.EquipmentIDs)
	w.optStringsField("astm_senders", m.ASTMSenders)
	w.optIntField("astm_results_sent", m.ASTMResultsSent)
	w.optIntField("astm_results_received", m.ASTMResultsReceived)
}

func (w *jsonWriter) aeTitle(v *AETitle) {
	w.stringField("title", v.Title)
	w.stringsField("roles", v.Roles)
	w.timeField("first_seen", v.FirstSeen)
	w.timeField("last_seen", v.LastSeen)
}

func (w *jsonWriter) deviceIdentity(v *DeviceIdentity) {
	w.stringField("source", v.Source)
	w.optStringField("modality", v.Modality)
	w.optStringField("manufacturer", v.Manufacturer)
	w.optStringField("model", v.Model)
	w.optStringField("device_serial_number", v.DeviceSerialNumber)
	w.optStringField("software_versions", v.SoftwareVersions)
	w.optStringField("hardware_version", v.HardwareVersion)
	w.optStringField("station_name", v.StationName)
	w.optStringField("device_name", v.DeviceName)
	w.optStringField("udi", v.UDI)
	w.intField("count", v.Count)
	w.timeField("first_seen", v.FirstSeen)
	w.timeField("last_seen", v.LastSeen)
}

func (w *jsonWriter) dicomImplementation(v *DICOMImplementation) {
	w.stringField("class_uid", v.ClassUID)
	w.optStringField("version_name", v.VersionName)
}

func (w *jsonWriter) sopClass(v *SOPClassUse) {
	w.stringField("uid", v.UID)
	w.stringField("role", v.Role)
	w.stringField("command", v.Command)
	w.intField("count", v.Count)
}

func (w *jsonWriter) hl7Identity(v *HL7Identity) {
	w.stringField("application", v.Application)
	w.optStringField("facility", v.Facility)
	w.stringField("role", v.Role)
	w.optStringsField("message_types", v.MessageTypes)
	w.intField("count", v.Count)
}

func (w *jsonWriter) hl7Software(v *HL7Software) {
	w.optStringField("vendor", v.Vendor)
	w.optStringField("product", v.Product)
	w.optStringField("version", v.Version)
	w.optStringField("binary_id", v.BinaryID)
}

func (w *jsonWriter) fingerprint(v *Fingerprint) {
	w.stringField("kind", v.Kind)
	w.stringField("value", v.Value)
	if v.Port != 0 {
		w.uintField("port", uint64(v.Port))
	}
	w.intField("count", v.Count)
	w.timeField("first_seen", v.FirstSeen)
	w.timeField("last_seen", v.LastSeen)
}

func (w *jsonWriter) service(v *Service) {
	w.uintField("port", uint64(v.Port))
	w.stringField("transport", v.Transport)
	w.stringField("app_proto", v.AppProto)
	w.boolField("encrypted", v.Encrypted)
	w.uintField("flows", v.Flows)
	w.uintField("bytes", v.Bytes)
	w.timeField("first_seen", v.FirstSeen)
	w.timeField("last_seen", v.LastSeen)
}

func (w *jsonWriter) peer(v *Peer) {
	w.stringField("ip", v.IP)
	w.optStringField("asset_id", v.AssetID)
	w.stringField("direction", v.Direction)
	w.uintField("port", uint64(v.Port))
	w.stringField("transport", v.Transport)
	w.stringField("app_proto", v.AppProto)
	w.stringField("data_category", v.DataCategory)
	w.boolField("internal", v.Internal)
	w.optStringField("country", v.Country)
	w.optBoolField("foreign", v.Foreign)
	w.boolField("encrypted", v.Encrypted)
	w.uintField("flows", v.Flows)
	w.uintField("bytes", v.Bytes)
	w.timeField("first_seen", v.FirstSeen)
	w.timeField("last_seen", v.LastSeen)
}
