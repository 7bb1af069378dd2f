// Package inventory is medtap's passive asset inventory: it folds the
// pipeline's events (flow records, DHCP and name-service answers, DICOM,
// HL7, ASTM, TLS and declared-framing events, alerts) into one Asset per
// device, keeps a device's identity across address changes, classifies
// devices with stated reasons, and reports every change as an "asset"
// event. The types in this file are the data model that the store, the
// reports, the HTTP API and the multi-sensor hub share; their JSON field
// names are stable.
//
// Device identities (MAC addresses, AE titles, HL7 application names,
// manufacturer and model strings, host names) identify machines, not
// patients: the inventory never holds a patient value.
package inventory

import "time"

// Data categories, the closed set alerts and reports use.
const (
	CatSensitiveMedical    = "sensitive_medical"
	CatNonSensitiveMedical = "non_sensitive_medical"
	CatDevice              = "device"
	CatUnknown             = "unknown"
)

// Device classes, the closed set Asset.Class takes.
const (
	ClassImagingModality = "imaging_modality"
	ClassPACS            = "pacs"
	ClassWorkstation     = "workstation"
	ClassLabAnalyzer     = "lab_analyzer"
	ClassPatientMonitor  = "patient_monitor" // monitors and their gateways
	ClassInfusion        = "infusion"
	ClassHIS             = "his_server" // HIS, LIS, RIS and interface engines
	ClassNetworkIT       = "network_it"
	ClassUnknown         = "unknown"
)

// Classes lists the device classes in the order reports show them.
var Classes = []string{ClassImagingModality, ClassPACS, ClassWorkstation, ClassLabAnalyzer,
	ClassPatientMonitor, ClassInfusion, ClassHIS, ClassNetworkIT, ClassUnknown}

// Asset is one device as the inventory knows it. Slices are sorted (by
// their first field, then first seen) so that two snapshots of the same
// state are byte-identical in JSON.
type Asset struct {
	// ID is stable for the life of the device in the inventory: derived
	// from the first identity the device was seen with (its MAC, else its
	// first address) and kept when the device changes address.
	ID string `json:"id"`
	// MAC is the device's Ethernet address ("02:00:00:00:0d:01"), empty
	// when only routed traffic or link types without MACs were seen.
	MAC string `json:"mac,omitempty"`
	// Vendor is the IEEE registry's organisation for the MAC's prefix.
	Vendor string `json:"vendor,omitempty"`
	// IP is the address seen most recently; IPs is the history.
	IP        string    `json:"ip"`
	IPs       []IPSeen  `json:"ips"`
	VLANs     []uint16  `json:"vlans,omitempty"`
	Internal  bool      `json:"internal"`          // inside the policy's internal networks
	Country   string    `json:"country,omitempty"` // ISO 3166-1 alpha-2 for external assets
	Sensors   []string  `json:"sensors,omitempty"` // sensors that saw it (multi-sensor hub)
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`

	Hostnames []Hostname       `json:"hostnames,omitempty"`
	DHCP      *DHCPFingerprint `json:"dhcp,omitempty"`

	Medical  Medical       `json:"medical"`
	Software []Fingerprint `json:"software,omitempty"`

	Services []Service `json:"services,omitempty"` // offered: the device answered on them
	Uses     []Service `json:"uses,omitempty"`     // used: the device connected to them (port is the server's)
	Peers    []Peer    `json:"peers,omitempty"`

	Bytes ByCategory `json:"bytes_by_category"`
	// MedicalBytes counts bytes of medical flows (DICOM, HL7, ASTM,
	// declared device protocols, TLS on medical ports); of those,
	// MedicalEncryptedBytes travelled encrypted. MedicalEncryptedShare is
	// their ratio, nil without medical traffic.
	MedicalBytes          uint64   `json:"medical_bytes"`
	MedicalEncryptedBytes uint64   `json:"medical_encrypted_bytes"`
	MedicalEncryptedShare *float64 `json:"medical_encrypted_share,omitempty"`

	Class        string   `json:"class"`
	ClassReasons []string `json:"class_reasons,omitempty"`

	Risk Risk `json:"risk"`
}

// IPSeen is one address the device used, with when.
type IPSeen struct {
	IP        string    `json:"ip"`
	Source    string    `json:"source"` // traffic, dhcp (a lease), arp
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// Hostname is a name the device is known by, and where it came from.
type Hostname struct {
	Name      string    `json:"name"`
	Source    string    `json:"source"` // dhcp, dns, mdns, llmnr, nbns, dicom_station
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// DHCPFingerprint is what the device's DHCP client says about its stack.
type DHCPFingerprint struct {
	// ParameterRequestList is option 55, comma-separated codes in the
	// client's order ("1,3,6,15,119,252"): it tells operating systems apart.
	ParameterRequestList string    `json:"parameter_request_list,omitempty"`
	VendorClass          string    `json:"vendor_class,omitempty"` // option 60
	ClientID             string    `json:"client_id,omitempty"`    // option 61, hex
	LastMessage          string    `json:"last_message,omitempty"` // discover, request, inform...
	LastSeen             time.Time `json:"last_seen"`
}

// Medical is the device's identity from medical protocols.
type Medical struct {
	AETitles []AETitle `json:"ae_titles,omitempty"`
	// Devices are the identities medical payloads state: DICOM datasets
	// the device sent (Modality, Manufacturer, Model, serial, software
	// versions, station name) and declared framings' identity fields.
	Devices []DeviceIdentity `json:"devices,omitempty"`
	// The most frequently stated identity, for tables.
	Modality           string   `json:"modality,omitempty"`
	Manufacturer       string   `json:"manufacturer,omitempty"`
	Model              string   `json:"model,omitempty"`
	DeviceSerialNumber string   `json:"device_serial_number,omitempty"`
	SoftwareVersions   []string `json:"software_versions,omitempty"`
	StationName        string   `json:"station_name,omitempty"`
	// DICOMImplementations are the implementation class UIDs and version
	// names the device's DICOM stack announced.
	DICOMImplementations []DICOMImplementation `json:"dicom_implementations,omitempty"`
	// SOPClasses are the SOP classes (UIDs) the device used in DIMSE
	// transactions, with its role.
	SOPClasses  []SOPClassUse `json:"sop_classes,omitempty"`
	HL7         []HL7Identity `json:"hl7,omitempty"`
	HL7Software []HL7Software `json:"hl7_software,omitempty"`
	// UDIs are PRT UDI device identifiers, EquipmentIDs OBX-18 values
	// from messages the device sent.
	UDIs         []string `json:"udis,omitempty"`
	EquipmentIDs []string `json:"equipment_ids,omitempty"`
	ASTMSenders  []string `json:"astm_senders,omitempty"` // H-5
	// ASTMResultsSent and ASTMResultsReceived count result (R) records
	// in ASTM messages the device sent and received: analyzers send
	// results, laboratory systems receive them.
	ASTMResultsSent     int `json:"astm_results_sent,omitempty"`
	ASTMResultsReceived int `json:"astm_results_received,omitempty"`
}

// AETitle is a DICOM application entity title the device used, with its
// roles: scu, scp, and the services (storage_scu, storage_scp, query_scu,
// query_scp, retrieve_scu, retrieve_scp, worklist_scu, worklist_scp,
// verification_scu, verification_scp, ...).
type AETitle struct {
	Title     string    `json:"title"`
	Roles     []string  `json:"roles"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// DeviceIdentity is one identity a medical payload stated.
type DeviceIdentity struct {
	Source             string    `json:"source"` // dicom, or the declared framing's protocol name
	Modality           string    `json:"modality,omitempty"`
	Manufacturer       string    `json:"manufacturer,omitempty"`
	Model              string    `json:"model,omitempty"`
	DeviceSerialNumber string    `json:"device_serial_number,omitempty"`
	SoftwareVersions   string    `json:"software_versions,omitempty"`
	HardwareVersion    string    `json:"hardware_version,omitempty"`
	StationName        string    `json:"station_name,omitempty"`
	DeviceName         string    `json:"device_name,omitempty"`
	UDI                string    `json:"udi,omitempty"`
	Count              int       `json:"count"`
	FirstSeen          time.Time `json:"first_seen"`
	LastSeen           time.Time `json:"last_seen"`
}

// DICOMImplementation is a DICOM stack's announced identity.
type DICOMImplementation struct {
	ClassUID    string `json:"class_uid"`
	VersionName string `json:"version_name,omitempty"`
}

// SOPClassUse is a SOP class the device used and how.
type SOPClassUse struct {
	UID     string `json:"uid"`
	Role    string `json:"role"`    // scu or scp
	Command string `json:"command"` // C-STORE, C-FIND, ...
	Count   int    `json:"count"`
}

// HL7Identity is an application and facility the device sent as (MSH-3/4)
// or received as (MSH-5/6), with the message types.
type HL7Identity struct {
	Application  string   `json:"application"`
	Facility     string   `json:"facility,omitempty"`
	Role         string   `json:"role"`                    // sender or receiver
	MessageTypes []string `json:"message_types,omitempty"` // ADT^A01, ORU^R01
	Count        int      `json:"count"`
}

// HL7Software is one SFT segment of messages the device sent.
type HL7Software struct {
	Vendor   string `json:"vendor,omitempty"`
	Product  string `json:"product,omitempty"`
	Version  string `json:"version,omitempty"`
	BinaryID string `json:"binary_id,omitempty"`
}

// Fingerprint kinds.
const (
	FPJA4           = "ja4"
	FPJA3           = "ja3"
	FPJA3S          = "ja3s"
	FPCertSubject   = "cert_subject"
	FPHTTPUserAgent = "http_user_agent"
	FPHTTPServer    = "http_server"
	FPSSHBanner     = "ssh_banner"
	FPSMBDialect    = "smb_dialect"
	FPDICOMVersion  = "dicom_implementation_version"
	FPTLSSNI        = "tls_sni" // names the device asked for as a client
)

// Fingerprint is one software fingerprint of the device.
type Fingerprint struct {
	Kind      string    `json:"kind"`
	Value     string    `json:"value"`
	Port      uint16    `json:"port,omitempty"` // the service port it was seen on
	Count     int       `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// Service is a (transport, port) the device offered or used.
type Service struct {
	Port      uint16    `json:"port"`
	Transport string    `json:"transport"` // tcp, udp
	AppProto  string    `json:"app_proto"` // parser name, unknown
	Encrypted bool      `json:"encrypted"` // every flow seen was encrypted
	Flows     uint64    `json:"flows"`
	Bytes     uint64    `json:"bytes"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// Peer is who the device talked to, per protocol and data category.
type Peer struct {
	IP           string    `json:"ip"`
	AssetID      string    `json:"asset_id,omitempty"`
	Direction    string    `json:"direction"` // out: the device was the client; in: the peer was
	Port         uint16    `json:"port"`      // the server's port
	Transport    string    `json:"transport"`
	AppProto     string    `json:"app_proto"`
	DataCategory string    `json:"data_category"`
	Internal     bool      `json:"internal"`
	Country      string    `json:"country,omitempty"`
	Foreign      bool      `json:"foreign,omitempty"` // outside the policy's home country
	Encrypted    bool      `json:"encrypted"`         // every flow seen was encrypted
	Flows        uint64    `json:"flows"`
	Bytes        uint64    `json:"bytes"`
	FirstSeen    time.Time `json:"first_seen"`
	LastSeen     time.Time `json:"last_seen"`
}

// ByCategory counts bytes per data category.
type ByCategory struct {
	SensitiveMedical    uint64 `json:"sensitive_medical"`
	NonSensitiveMedical uint64 `json:"non_sensitive_medical"`
	Device              uint64 `json:"device"`
	Unknown             uint64 `json:"unknown"`
}

// Add adds n bytes to a category.
func (b *ByCategory) Add(cat string, n uint64) {
	switch cat {
	case CatSensitiveMedical:
		b.SensitiveMedical += n
	case CatNonSensitiveMedical:
		b.NonSensitiveMedical += n
	case CatDevice:
		b.Device += n
	default:
		b.Unknown += n
	}
}

// Risk sums up what detection found about the device.
type Risk struct {
	OpenAlerts BySeverity `json:"open_alerts"`
	// Contradicted are the NMPA capability codes the traffic contradicts
	// (codes of the alerts about the device: TXCF when PHI went in clear).
	Contradicted []string `json:"contradicted,omitempty"`
}

// BySeverity counts alerts per severity.
type BySeverity struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Info     int `json:"info"`
}

// Add counts one alert of a severity.
func (b *BySeverity) Add(sev string) {
	switch sev {
	case "critical":
		b.Critical++
	case "high":
		b.High++
	case "medium":
		b.Medium++
	case "low":
		b.Low++
	default:
		b.Info++
	}
}

// Total is the number of alerts counted.
func (b BySeverity) Total() int { return b.Critical + b.High + b.Medium + b.Low + b.Info }

// Change kinds: what an "asset" event reports.
const (
	ChangeNewAsset    = "new_asset"
	ChangeNewIP       = "new_ip"
	ChangeNewMAC      = "new_mac"
	ChangeNewHostname = "new_hostname"
	ChangeNewService  = "new_service"
	ChangeNewSoftware = "new_software" // a fingerprint, DICOM implementation, SFT or software version not seen before
	ChangeNewIdentity = "new_identity" // an AE title, HL7 application, device identity, ASTM sender
	ChangeNewPeer     = "new_peer"
	ChangeClass       = "class_changed"
	ChangeMerged      = "merged" // two assets found to be one device
)

// Change is the body of an "asset" event: one change of one asset.
type Change struct {
	Change  string `json:"change"`
	AssetID string `json:"asset_id"`
	IP      string `json:"ip,omitempty"`
	MAC     string `json:"mac,omitempty"`
	Class   string `json:"class,omitempty"`
	// Field and Value say what is new ("service", "tcp/104 dicom";
	// "software_versions", "3.6.7"); Previous is the old value where one
	// was replaced (class_changed, merged: the absorbed asset's id).
	Field    string `json:"field,omitempty"`
	Value    string `json:"value,omitempty"`
	Previous string `json:"previous,omitempty"`
}

// EventType implements parser.Body.
func (*Change) EventType() string { return "asset" }

// AlertRecord is an alert as the store keeps it: the fields reports,
// `medtap check`, the API and the hub filter on, plus the alert event's
// full JSON line.
type AlertRecord struct {
	ID           string    `json:"alert_id"`
	RuleID       string    `json:"rule_id"`
	Title        string    `json:"title"`
	Severity     string    `json:"severity"`
	Category     string    `json:"category"`
	Capability   []string  `json:"capability"`
	DataCategory string    `json:"data_category"`
	Protocol     string    `json:"protocol,omitempty"`
	AssetIDs     []string  `json:"asset_ids,omitempty"`
	SrcIP        string    `json:"src_ip,omitempty"`
	SrcPort      uint16    `json:"src_port,omitempty"`
	DestIP       string    `json:"dest_ip,omitempty"`
	DestPort     uint16    `json:"dest_port,omitempty"`
	Proto        string    `json:"proto,omitempty"`
	VLAN         uint16    `json:"vlan,omitempty"`
	CommunityID  string    `json:"community_id,omitempty"`
	Sensor       string    `json:"sensor,omitempty"`
	Count        int       `json:"count"`
	FirstSeen    time.Time `json:"first_seen"`
	LastSeen     time.Time `json:"last_seen"`
	RunID        int64     `json:"run_id,omitempty"`
	// Event is the alert event's JSON line as medtap wrote it.
	Event []byte `json:"-"`
}

// Run is one analysis or live session that fed the inventory: the
// metadata reports print.
type Run struct {
	ID             int64       `json:"id"`
	Command        string      `json:"command"` // analyze, run, check
	Sensor         string      `json:"sensor,omitempty"`
	Started        time.Time   `json:"started"`
	Finished       time.Time   `json:"finished,omitzero"`
	Inputs         []InputFile `json:"inputs,omitempty"`
	FirstPacket    time.Time   `json:"first_packet,omitzero"`
	LastPacket     time.Time   `json:"last_packet,omitzero"`
	MedtapVersion  string      `json:"medtap_version"`
	RuleSetVersion string      `json:"rule_set_version,omitempty"`
	GeoDBVersion   string      `json:"geo_db_version,omitempty"`
	Policy         string      `json:"policy,omitempty"` // policy file, or "default"
	Packets        uint64      `json:"packets"`
	Events         uint64      `json:"events"`
	Alerts         uint64      `json:"alerts"`
}

// InputFile is one capture a run read.
type InputFile struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}
