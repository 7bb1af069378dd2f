package framing

// Frame is the event of one message that carried device identity, personal
// information or a settings command. Field names are stable: other tools
// parse them. A field is omitted when the frame did not carry it.
//
// Fields tagged `json:"-"` hold values from the wire for in-memory
// detection; they are never written out.
type Frame struct {
	// Kind is "frame" (a [Session] says "session"): both are written under
	// the event type "device".
	Kind string `json:"kind"`
	// Protocol is the definition's name, the flow's app_proto.
	Protocol string `json:"protocol"`
	// Direction is the side that sent the frame: to_server or to_client.
	Direction string `json:"direction"`
	// Offset is the stream offset of the frame's first byte in its
	// direction; Length its length on the wire.
	Offset int64 `json:"offset"`
	Length int64 `json:"length"`
	// ChecksumError is true when the frame's checksum did not verify; its
	// fields were still decoded.
	ChecksumError bool `json:"checksum_error,omitempty"`
	// Identity holds the identity fields the frame carried (device data,
	// not personal: these values may be written out).
	Identity *Identity `json:"identity,omitempty"`
	// Commands lists the settings-changing commands the frame carried.
	Commands []Command `json:"commands,omitempty"`
	// Values holds the frame's report fields (device data such as a
	// status), by field name.
	Values map[string]string `json:"values,omitempty"`
	// PHICategories are the categories of personal information present
	// (closed set: see the Cat constants), in a fixed order; PHIFields
	// names the definition's fields that held it, in definition order.
	PHICategories []string `json:"phi_categories,omitempty"`
	PHIFields     []string `json:"phi_fields,omitempty"`
	// PHI holds the values, for detection only (each at most MaxValueLen
	// bytes). Never serialised.
	PHI []PHIValue `json:"-"`
	// Auth is the session's authentication state when the frame was seen:
	// "pending" or "authenticated". Omitted when the definition has no
	// handshake.
	Auth string `json:"auth,omitempty"`
	// DataBeforeAuthentication is true for a data frame seen before the
	// session was authenticated.
	DataBeforeAuthentication bool `json:"data_before_authentication,omitempty"`
}

// EventType implements parser.Body.
func (*Frame) EventType() string { return "device" }

// Session is the per-flow summary, emitted when the flow closes.
type Session struct {
	Kind     string `json:"kind"` // "session"
	Protocol string `json:"protocol"`
	// Close is why the flow ended: fin, rst, timeout, evicted,
	// end_of_input, parser.
	Close string `json:"close"`
	// FramesToServer and FramesToClient count complete frames per
	// direction (bad checksums included); BytesToServer and BytesToClient
	// count their bytes.
	FramesToServer int64 `json:"frames_to_server"`
	FramesToClient int64 `json:"frames_to_client"`
	BytesToServer  int64 `json:"bytes_to_server"`
	BytesToClient  int64 `json:"bytes_to_client"`
	// ChecksumErrors counts frames whose checksum did not verify.
	ChecksumErrors int64 `json:"checksum_errors"`
	// OversizedFrames counts frames longer than the definition's
	// max_frame_len, skipped in sync without being buffered.
	OversizedFrames int64 `json:"oversized_frames,omitempty"`
	// TruncatedFrames counts frames cut by a gap, by the end of the flow
	// or by the end of a datagram, or aborted by a new start delimiter.
	TruncatedFrames int64 `json:"truncated_frames,omitempty"`
	// SkippedBytes counts bytes that were in no frame: outside delimited
	// frames, skipped while resynchronising, or after sync was lost.
	// Bytes of oversized frames are not in it.
	SkippedBytes int64 `json:"skipped_bytes,omitempty"`
	// Gaps counts the gaps reported by reassembly; SyncLost is true when a
	// direction stopped being parsed because a gap or a bad length left no
	// way to find the next frame.
	Gaps     int64 `json:"gaps,omitempty"`
	SyncLost bool  `json:"sync_lost,omitempty"`
	// Anomalies counts every anomaly, also those beyond
	// MaxAnomaliesPerCode that were not emitted.
	Anomalies int64 `json:"anomalies,omitempty"`
	// Authenticated says whether the handshake's authentication frame was
	// seen. Omitted when the definition has no handshake.
	Authenticated *bool `json:"authenticated,omitempty"`
	// DataBeforeAuthentication is true when a data frame came before
	// authentication (or when the flow carried data frames and was never
	// authenticated).
	DataBeforeAuthentication bool `json:"data_before_authentication,omitempty"`
	// Commands counts the commands seen by name, in order of first
	// appearance (at most MaxSessionCommands names).
	Commands []CommandCount `json:"commands,omitempty"`
	// Identity merges the identity fields seen on the flow, the latest
	// value of each winning.
	Identity *Identity `json:"identity,omitempty"`
	// PHICategories is the union of the frames' categories.
	PHICategories []string `json:"phi_categories,omitempty"`
}

// EventType implements parser.Body.
func (*Session) EventType() string { return "device" }

// Identity is a device's identity as its frames declare it. These are
// device data for the inventory, not personal data.
type Identity struct {
	Manufacturer    string `json:"manufacturer,omitempty"`
	Model           string `json:"model,omitempty"`
	Serial          string `json:"serial,omitempty"`
	SoftwareVersion string `json:"software_version,omitempty"`
	HardwareVersion string `json:"hardware_version,omitempty"`
	DeviceName      string `json:"device_name,omitempty"`
	UDI             string `json:"udi,omitempty"`
}

// Identity keys: the closed set a field's `identity:` takes its value from.
const (
	IDManufacturer    = "manufacturer"
	IDModel           = "model"
	IDSerial          = "serial"
	IDSoftwareVersion = "software_version"
	IDHardwareVersion = "hardware_version"
	IDDeviceName      = "device_name"
	IDUDI             = "udi"
)

var identityKeys = [...]string{IDManufacturer, IDModel, IDSerial, IDSoftwareVersion, IDHardwareVersion, IDDeviceName, IDUDI}

// slot returns the Identity field a key names.
func (id *Identity) slot(k uint8) *string {
	switch identityKeys[k] {
	case IDManufacturer:
		return &id.Manufacturer
	case IDModel:
		return &id.Model
	case IDSerial:
		return &id.Serial
	case IDSoftwareVersion:
		return &id.SoftwareVersion
	case IDHardwareVersion:
		return &id.HardwareVersion
	case IDDeviceName:
		return &id.DeviceName
	}
	return &id.UDI
}

// merge copies o's non-empty values into id.
func (id *Identity) merge(o *Identity) {
	for k := range identityKeys {
		if v := *o.slot(uint8(k)); v != "" {
			*id.slot(uint8(k)) = v
		}
	}
}

func (id *Identity) empty() bool { return *id == Identity{} }

// PHI categories: the closed set a field's `phi:` and phi_categories take
// their values from. The names are the hl7 package's, plus clinical.
const (
	CatName      = "name"       // a person's name
	CatID        = "id"         // a patient identifier assigned by a facility (MRN, bed, visit)
	CatBirthDate = "birth_date" // date (and time) of birth
	CatSex       = "sex"        // administrative sex
	CatAddress   = "address"    // postal address
	CatPhone     = "phone"      // telephone number
	CatEmail     = "email"      // e-mail address
	CatIDNumber  = "id_number"  // national identity number (PRC resident ID, SSN)
	CatInsurance = "insurance"  // insurance plan or policy data
	CatClinical  = "clinical"   // a measurement or result about a patient (vital signs): sensitive medical data
)

// catOrder is the order phi_categories lists categories in.
var catOrder = [...]string{CatName, CatID, CatBirthDate, CatSex, CatAddress, CatPhone, CatEmail, CatIDNumber, CatInsurance, CatClinical}

// catList turns a category bit set into names in catOrder.
func catList(set uint16) []string {
	if set == 0 {
		return nil
	}
	var out []string
	for i, c := range catOrder {
		if set&(1<<i) != 0 {
			out = append(out, c)
		}
	}
	return out
}

// PHIValue is one piece of personal information a frame carried: the
// definition's field name, its category and its text (decoded to UTF-8,
// at most MaxValueLen bytes).
type PHIValue struct {
	Field    string
	Category string
	Value    string
}

// Command is one settings-changing command a frame carried.
type Command struct {
	// Field is the definition's field that held it.
	Field string `json:"field"`
	// Name is the command's name from the field's `values` map; for a
	// code the map does not list, the code in hex ("0x2a"); for a string
	// field, its text.
	Name string `json:"name"`
}

// CommandCount is how often one command was seen on a flow.
type CommandCount struct {
	Name  string `json:"name"`
	Count int64  `json:"count"`
}
