package report

import (
	"fmt"
	"sort"
	"time"

	"github.com/medtap/medtap/detect/inventory"
)

// Capability evidence statuses.
const (
	StatusSupported     = "supported"
	StatusContradicted  = "contradicted"
	StatusNotObserved   = "not observed"
	StatusNotObservable = "not observable"
)

// Observability of a capability by a passive network monitor (REGULATORY.md).
const (
	ObsStrong  = "strong"
	ObsPartial = "partial"
	ObsNone    = "none"
)

// Capability is one of the 22 NMPA 2022 cybersecurity capabilities.
type Capability struct {
	Code       string
	NameZH     string
	NameEN     string
	Observable string
}

// Capabilities are the 22 codes of the 2022 guideline (医疗器械网络安全注册
// 审查指导原则 2022年修订版), with how far a network monitor can evidence
// each (REGULATORY.md: strongly NAUT, CONN, SAHD, TXCF, TXIG, RMOT, DIDT;
// not PLOK, SGUD, EMRG; partly the rest).
var Capabilities = []Capability{
	{"ALOF", "自动注销", "Automatic logoff", ObsPartial},
	{"AUDT", "审核", "Audit controls", ObsPartial},
	{"AUTH", "授权", "Authorization", ObsPartial},
	{"NAUT", "节点鉴别", "Node authentication", ObsStrong},
	{"PAUT", "人员鉴别", "Person authentication", ObsPartial},
	{"CONN", "连通性", "Connectivity", ObsStrong},
	{"PLOK", "物理防护", "Physical locks", ObsNone},
	{"SAHD", "系统加固", "System and application hardening", ObsStrong},
	{"DIDT", "数据去标识化与匿名化", "De-identification and anonymization", ObsStrong},
	{"IGAU", "数据完整性与真实性", "Data integrity and authenticity", ObsPartial},
	{"DTBK", "数据备份与灾难恢复", "Data backup and disaster recovery", ObsPartial},
	{"STCF", "数据存储保密性与完整性", "Storage confidentiality and integrity", ObsPartial},
	{"TXCF", "数据传输保密性", "Transmission confidentiality", ObsStrong},
	{"TXIG", "数据传输完整性", "Transmission integrity", ObsStrong},
	{"CSUP", "网络安全补丁升级", "Cybersecurity product upgrades", ObsPartial},
	{"SBOM", "现成软件清单", "Software bill of materials", ObsPartial},
	{"RDMP", "现成软件维护", "Third-party software maintenance", ObsPartial},
	{"SGUD", "网络安全使用指导", "Security guides", ObsNone},
	{"CNFS", "网络安全特征配置", "Configuration of security features", ObsPartial},
	{"EMRG", "紧急访问", "Emergency access", ObsNone},
	{"RMOT", "远程访问与控制", "Remote access and control (incl. remote maintenance and upgrade)", ObsStrong},
	{"MLDP", "恶意软件探测与防护", "Malware detection and protection", ObsPartial},
}

// CapabilityRow is one line of the capability evidence matrix.
type CapabilityRow struct {
	Code       string   `json:"code"`
	NameZH     string   `json:"name_zh"`
	NameEN     string   `json:"name_en"`
	Observable string   `json:"observable"`
	Status     string   `json:"status"`
	Rules      []string `json:"rules,omitempty"`     // rule ids with alerts that contradict it
	AlertIDs   []string `json:"alert_ids,omitempty"` // up to maxIDsPerFinding of them
	Alerts     int      `json:"alerts"`
	// Evidence says, in both languages, what the capture shows.
	EvidenceEN string `json:"evidence_en"`
	EvidenceZH string `json:"evidence_zh"`
}

// remoteProtocols are app protocols of remote access and control.
var remoteProtocols = map[string]bool{"ssh": true, "telnet": true, "rdp": true, "vnc": true, "teamviewer": true, "anydesk": true}

// remotePorts are the remote-access ports MT-RMOT-001 watches.
var remotePorts = map[uint16]bool{22: true, 23: true, 3389: true, 5900: true, 5901: true, 5902: true, 5903: true, 5938: true, 7070: true, 5985: true, 5986: true}

// medicalProtocols carry medical data.
var medicalProtocols = map[string]bool{"dicom": true, "hl7": true, "astm": true}

func buildMatrix(as []inventory.Asset, alerts []inventory.AlertRecord) []CapabilityRow {
	// Facts from the inventory, for positive evidence.
	var (
		medBytes, medEnc           uint64
		medServices, encMedService int
		services, peers, external  int
		remote, remoteEnc          int
		software, dicomImpl        int
		syslog                     int
	)
	for i := range as {
		a := &as[i]
		medBytes += a.MedicalBytes
		medEnc += a.MedicalEncryptedBytes
		peers += len(a.Peers)
		for _, p := range a.Peers {
			if !p.Internal {
				external++
			}
		}
		for _, s := range a.Services {
			services++
			if medicalProtocols[s.AppProto] || (s.AppProto == "tls" && (s.Port == 2762 || s.Port == 2575 || s.Port == 104)) {
				medServices++
				if s.Encrypted {
					encMedService++
				}
			}
			if remoteProtocols[s.AppProto] || remotePorts[s.Port] {
				remote++
				if s.Encrypted || s.AppProto == "ssh" {
					remoteEnc++
				}
			}
			if s.AppProto == "syslog" {
				syslog++
			}
		}
		for _, s := range a.Uses {
			if s.AppProto == "syslog" || s.Port == 514 || s.Port == 6514 {
				syslog++
			}
		}
		software += len(a.Software) + len(a.Medical.HL7Software)
		dicomImpl += len(a.Medical.DICOMImplementations)
	}
	type hits struct {
		n     int
		rules map[string]bool
		ids   []string
	}
	by := map[string]*hits{}
	for _, a := range alerts {
		for _, c := range a.Capability {
			h := by[c]
			if h == nil {
				h = &hits{rules: map[string]bool{}}
				by[c] = h
			}
			h.n++
			h.rules[a.RuleID] = true
			if len(h.ids) < maxIDsPerFinding && a.ID != "" {
				h.ids = append(h.ids, a.ID)
			}
		}
	}
	share := func() string {
		if medBytes == 0 {
			return "-"
		}
		return fmt.Sprintf("%.0f%%", 100*float64(medEnc)/float64(medBytes))
	}
	var rows []CapabilityRow
	for _, c := range Capabilities {
		r := CapabilityRow{Code: c.Code, NameZH: c.NameZH, NameEN: c.NameEN, Observable: c.Observable, Status: StatusNotObserved}
		if h := by[c.Code]; h != nil {
			r.Status, r.Alerts, r.AlertIDs = StatusContradicted, h.n, h.ids
			r.Rules = sortedKeys(h.rules)
			r.EvidenceEN = fmt.Sprintf("%d alert(s) of %d rule(s) contradict it.", h.n, len(h.rules))
			r.EvidenceZH = fmt.Sprintf("%d 条告警（%d 条规则）与该能力相矛盾。", h.n, len(h.rules))
			rows = append(rows, r)
			continue
		}
		if c.Observable == ObsNone {
			r.Status = StatusNotObservable
			r.EvidenceEN = "Not observable on the network; evidence must come from the device's documentation or tests."
			r.EvidenceZH = "无法通过网络观察；需由产品文档或测试提供证据。"
			rows = append(rows, r)
			continue
		}
		switch c.Code {
		case "TXCF", "TXIG":
			if medBytes > 0 && medEnc == medBytes {
				r.Status = StatusSupported
			}
			if medBytes > 0 {
				r.EvidenceEN = fmt.Sprintf("%s of %s of medical traffic encrypted; no clear-text finding.", share(), humanBytes(medBytes))
				r.EvidenceZH = fmt.Sprintf("医疗流量 %s 中 %s 已加密；未发现明文传输问题。", humanBytes(medBytes), share())
			}
		case "NAUT":
			if medServices > 0 && encMedService == medServices {
				r.Status = StatusSupported
				r.EvidenceEN = fmt.Sprintf("All %d medical services ran over TLS and no unknown or spoofed node was found (mutual authentication is visible only up to TLS 1.2).", medServices)
				r.EvidenceZH = fmt.Sprintf("全部 %d 个医疗服务均使用 TLS，未发现未知或仿冒节点（双向认证仅在 TLS 1.2 及以下可见）。", medServices)
			} else if medServices > 0 {
				r.EvidenceEN = fmt.Sprintf("%d of %d medical services in clear; no node-authentication finding.", medServices-encMedService, medServices)
				r.EvidenceZH = fmt.Sprintf("%d 个医疗服务中有 %d 个为明文；未发现节点鉴别问题。", medServices, medServices-encMedService)
			}
		case "CONN", "SAHD":
			if services > 0 {
				r.Status = StatusSupported
				r.EvidenceEN = fmt.Sprintf("Connectivity profile: %d services offered, %d peer relations (%d external); none outside policy.", services, peers, external)
				r.EvidenceZH = fmt.Sprintf("连通性画像：提供服务 %d 个，对端关系 %d 个（外部 %d 个）；均符合策略。", services, peers, external)
			}
		case "RMOT":
			if remote > 0 {
				r.Status = StatusSupported
				r.EvidenceEN = fmt.Sprintf("%d remote-access service(s) seen (%d encrypted), all within the remote-maintenance policy.", remote, remoteEnc)
				r.EvidenceZH = fmt.Sprintf("观察到 %d 个远程访问服务（%d 个加密），均符合远程维护策略。", remote, remoteEnc)
			} else {
				r.EvidenceEN = "No remote-access session seen."
				r.EvidenceZH = "未观察到远程访问会话。"
			}
		case "DIDT":
			r.EvidenceEN = "No dataset claiming de-identification while holding identifiers."
			r.EvidenceZH = "未发现声明已去标识化但仍含标识信息的数据集。"
		case "SBOM", "CSUP", "RDMP":
			if software+dicomImpl > 0 {
				if c.Code == "SBOM" {
					r.Status = StatusSupported
				}
				r.EvidenceEN = fmt.Sprintf("%d software fingerprints and %d DICOM implementations observed (see the inventory), to compare with the declared list.", software, dicomImpl)
				r.EvidenceZH = fmt.Sprintf("观察到 %d 个软件指纹和 %d 个 DICOM 实现（见资产清单），可与申报清单比对。", software, dicomImpl)
			}
		case "AUDT":
			if syslog > 0 {
				r.Status = StatusSupported
				r.EvidenceEN = fmt.Sprintf("%d log export(s) (syslog) seen.", syslog)
				r.EvidenceZH = fmt.Sprintf("观察到 %d 处日志外发（syslog）。", syslog)
			}
		}
		if r.EvidenceEN == "" {
			r.EvidenceEN = "Nothing in the capture bears on it."
			r.EvidenceZH = "采集数据中没有相关证据。"
		}
		rows = append(rows, r)
	}
	return rows
}

// Finding is the alerts of one rule about one device.
type Finding struct {
	AssetID    string   `json:"asset_id"`
	Device     string   `json:"device"`
	RuleID     string   `json:"rule_id"`
	Title      string   `json:"title"`
	Severity   string   `json:"severity"` // the highest
	Alerts     int      `json:"alerts"`
	Count      int      `json:"count"` // findings folded into them
	FirstSeen  string   `json:"first_seen"`
	LastSeen   string   `json:"last_seen"`
	AlertIDs   []string `json:"alert_ids"`
	Capability []string `json:"capability,omitempty"`
}

func buildFindings(alerts []inventory.AlertRecord, ix *index) []Finding {
	at := map[[2]string]int{}
	var out []Finding
	for i := range alerts {
		a := &alerts[i]
		for _, id := range alertAssets(a, ix) {
			k := [2]string{id, a.RuleID}
			j, ok := at[k]
			if !ok {
				j = len(out)
				at[k] = j
				out = append(out, Finding{AssetID: id, Device: ix.assetName(id), RuleID: a.RuleID, Title: a.Title,
					Severity: a.Severity, FirstSeen: stamp(a.FirstSeen), LastSeen: stamp(a.LastSeen), Capability: a.Capability})
			}
			f := &out[j]
			f.Alerts++
			f.Count += a.Count
			if sevRank(a.Severity) > sevRank(f.Severity) {
				f.Severity = a.Severity
			}
			if s := stamp(a.FirstSeen); s < f.FirstSeen {
				f.FirstSeen = s
			}
			if s := stamp(a.LastSeen); s > f.LastSeen {
				f.LastSeen = s
			}
			if len(f.AlertIDs) < maxIDsPerFinding {
				f.AlertIDs = append(f.AlertIDs, a.ID)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if a.Device != b.Device {
			return a.Device < b.Device
		}
		if sa, sb := sevRank(a.Severity), sevRank(b.Severity); sa != sb {
			return sa > sb
		}
		return a.RuleID < b.RuleID
	})
	return out
}

// TimelineEntry is one alert in time order, for incident responders.
type TimelineEntry struct {
	Time     string   `json:"time"`
	End      string   `json:"end"`
	Severity string   `json:"severity"`
	RuleID   string   `json:"rule_id"`
	Title    string   `json:"title"`
	Devices  []string `json:"devices"`
	Flow     string   `json:"flow,omitempty"`
	AlertID  string   `json:"alert_id"`
	Count    int      `json:"count"`
}

func buildTimeline(alerts []inventory.AlertRecord, ix *index) []TimelineEntry {
	sel := alerts
	if len(sel) > MaxTimeline {
		sel = append([]inventory.AlertRecord(nil), alerts...)
		sort.SliceStable(sel, func(i, j int) bool { return sevRank(sel[i].Severity) > sevRank(sel[j].Severity) })
		sel = sel[:MaxTimeline]
		sortAlerts(sel)
	}
	out := make([]TimelineEntry, 0, len(sel))
	for i := range sel {
		a := &sel[i]
		e := TimelineEntry{Time: stamp(a.FirstSeen), End: stamp(a.LastSeen), Severity: a.Severity, RuleID: a.RuleID,
			Title: a.Title, AlertID: a.ID, Count: a.Count}
		for _, id := range alertAssets(a, ix) {
			e.Devices = append(e.Devices, ix.assetName(id))
		}
		if a.SrcIP != "" {
			e.Flow = fmt.Sprintf("%s %s:%d → %s:%d", a.Proto, a.SrcIP, a.SrcPort, a.DestIP, a.DestPort)
			if a.VLAN != 0 {
				e.Flow += fmt.Sprintf(" vlan %d", a.VLAN)
			}
		}
		out = append(out, e)
	}
	return out
}

// stamp is a UTC time to the millisecond, sortable as text.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
