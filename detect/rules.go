package detect

// RuleInfo describes one detection rule. The table below is the one registry
// of rules: `medtap rules` prints it, policy files are checked against it,
// and RULES.md documents it (a test checks that every id is there).
type RuleInfo struct {
	ID           string   `json:"id"`            // stable: MT-AREA-NNN
	Title        string   `json:"title"`         // English, short
	Severity     string   `json:"severity"`      // default; findings may raise or lower it, policy may override it
	Category     string   `json:"category"`      // snake_case family
	Capability   []string `json:"capability"`    // NMPA 2022 capability codes evidenced
	Threat       string   `json:"threat"`        // read, manipulate, spoof, flood, redirect, ransom
	DataCategory string   `json:"data_category"` // default data category
	Seed         string   `json:"seed"`          // the seeds-digest §3.8 rule it implements
	Description  string   `json:"description"`
	// DetailKeys are the keys the rule writes under evidence.details.
	DetailKeys    []string `json:"detail_keys"`
	RemediationEN string   `json:"remediation_en"`
	RemediationZH string   `json:"remediation_zh"`
}

// Rule ids.
const (
	RulePHIDICOM      = "MT-PHI-001"
	RulePHIHL7        = "MT-PHI-002"
	RulePHIASTM       = "MT-PHI-003"
	RuleFaceImage     = "MT-PHI-004"
	RuleDeidFalse     = "MT-DEID-001"
	RuleCredClear     = "MT-CRED-001"
	RuleUnknownAE     = "MT-NODE-001"
	RuleAENewIP       = "MT-NODE-002"
	RuleManyCalledAE  = "MT-NODE-003"
	RuleUnknownHL7    = "MT-NODE-004"
	RuleHL7NewIP      = "MT-NODE-005"
	RuleTLSVersion    = "MT-TLS-001"
	RuleTLSCipher     = "MT-TLS-002"
	RuleTLSCert       = "MT-TLS-003"
	RuleTLSRequired   = "MT-TLS-004"
	RuleDICOMMixedTLS = "MT-TLS-005"
	RuleCrossBorder   = "MT-XB-001"
	RuleHighRiskSvc   = "MT-SVC-001"
	RuleUnexpectedSvc = "MT-SVC-002"
	RuleRemoteAccess  = "MT-RMOT-001"
	RuleNewWriter     = "MT-OP-001"
	RuleBulkRead      = "MT-READ-001"
	RuleMoveNewDest   = "MT-RED-001"
	RuleARPSpoof      = "MT-ARP-001"
	RuleNewHost       = "MT-NODE-006"
	RuleOverwrite     = "MT-OP-002"
	RulePHIText       = "MT-PHI-005"
	RulePHIDevice     = "MT-PHI-006"
	RuleRemoteNewPeer = "MT-RMOT-002"
	RuleIsolation     = "MT-RMOT-003"
)

var ruleTable = []RuleInfo{
	{
		ID: RulePHIDICOM, Title: "Patient data in clear over DICOM", Severity: "high",
		Category: "phi_cleartext", Capability: []string{"TXCF"}, Threat: "read", DataCategory: "sensitive_medical", Seed: "MED-PI-001",
		Description:   "A DICOM dataset (C-STORE object, C-FIND query or match, any DIMSE dataset) carried patient attributes on a flow that is not encrypted (no TLS, or NULL-cipher TLS). Severity follows the most sensitive category: national ID or insurance number critical; name, birth date, address, phone high; other patient attributes medium; staff names only low.",
		DetailKeys:    []string{"commands", "sop_classes"},
		RemediationEN: "Enable DICOM TLS (port 2762) between these nodes, or carry the link inside an encrypted tunnel; restrict which nodes may reach the DICOM port.",
		RemediationZH: "在这些节点之间启用 DICOM TLS（端口 2762），或通过加密隧道传输；限制可访问 DICOM 端口的节点。",
	},
	{
		ID: RulePHIHL7, Title: "Patient data in clear over HL7", Severity: "high",
		Category: "phi_cleartext", Capability: []string{"TXCF"}, Threat: "read", DataCategory: "sensitive_medical", Seed: "MED-PI-001",
		Description:   "An HL7 v2 message (MLLP or bare) carried personal information (PID, NK1, IN1, GT1 fields, or numbers found by the value scan) on a flow that is not encrypted. Severity by category as for MT-PHI-001.",
		DetailKeys:    []string{"message_types"},
		RemediationEN: "Run MLLP over TLS (or a VPN) between the interface engine and this system; limit who can connect to the HL7 port.",
		RemediationZH: "在接口引擎与该系统之间使用 TLS（或 VPN）承载 MLLP；限制可连接 HL7 端口的节点。",
	},
	{
		ID: RulePHIASTM, Title: "Patient data in clear over ASTM", Severity: "high",
		Category: "phi_cleartext", Capability: []string{"TXCF"}, Threat: "read", DataCategory: "sensitive_medical", Seed: "MED-PI-001",
		Description:   "An ASTM E1394 message from or to a laboratory analyzer carried patient record fields (P records) on a flow that is not encrypted. Severity by category as for MT-PHI-001.",
		DetailKeys:    []string{},
		RemediationEN: "Keep analyzer-to-LIS links on an isolated segment or inside an encrypted tunnel; send only the identifiers the analyzer needs.",
		RemediationZH: "将分析仪与 LIS 之间的链路置于隔离网段或加密隧道中；仅传输分析仪所需的标识信息。",
	},
	{
		ID: RuleFaceImage, Title: "Face-capable image in clear", Severity: "high",
		Category: "phi_cleartext", Capability: []string{"TXCF"}, Threat: "read", DataCategory: "sensitive_medical", Seed: "MED-PI-001",
		Description:   "An image that can show a face (biometric information under the NMPA list) crossed a flow that is not encrypted: a secondary capture, a visible-light photograph (photographic SOP classes, or modality XC, OP, ES), or a CT or MR of the head (BodyPartExamined HEAD, BRAIN, SKULL, FACE, HEADNECK and face parts), from which a face can be rendered. Critical when the dataset also identifies the patient.",
		DetailKeys:    []string{"sop_classes", "modality", "face_basis", "body_part"},
		RemediationEN: "Encrypt the link (DICOM TLS); de-identify photographs and screen captures before they leave the modality.",
		RemediationZH: "对链路加密（DICOM TLS）；照片与屏幕截图在离开设备前应去标识化。",
	},
	{
		ID: RuleDeidFalse, Title: "De-identification claim is false", Severity: "high",
		Category: "deidentification", Capability: []string{"DIDT"}, Threat: "read", DataCategory: "sensitive_medical", Seed: "MED-DEID-001",
		Description:   "A DICOM dataset says PatientIdentityRemoved (0012,0062) = YES but still holds identifying patient attributes (name, ID, birth date, address, phone, other IDs).",
		DetailKeys:    []string{"claim_tag", "sop_classes"},
		RemediationEN: "Fix the de-identification profile of the sending system; do not release these objects to research or external parties until re-processed.",
		RemediationZH: "修正发送系统的去标识化配置；在重新处理前不得将这些影像提供给科研或外部机构。",
	},
	{
		ID: RuleCredClear, Title: "Credentials in clear", Severity: "high",
		Category: "credentials", Capability: []string{"PAUT", "TXCF"}, Threat: "spoof", DataCategory: "device", Seed: "MED-PAUT-001",
		Description:   "Credentials crossed a flow that is not encrypted: DICOM user identity of type 1 (username) or 2 (username and passcode), an ASTM header access password (H-4), a Telnet login (password typed: high; user name only: medium), FTP USER/PASS (not anonymous), HTTP Basic authorization, or an SNMP v1/v2c community (high when it is public/private). Anyone on the path can reuse them. Values are never written out: evidence names the credential kind and gives a keyed pseudonym of the user name where there is one.",
		DetailKeys:    []string{"user_identity_type", "passcode_present", "identity_accepted", "credential", "user_pseudonym", "login_failed", "login_result", "default_community", "status"},
		RemediationEN: "Use DICOM TLS when user identity is negotiated (or Kerberos/SAML/JWT identity types); change the exposed password.",
		RemediationZH: "协商用户身份时启用 DICOM TLS（或改用 Kerberos/SAML/JWT 身份类型）；更换已暴露的口令。",
	},
	{
		ID: RuleUnknownAE, Title: "DICOM association from unknown AE title accepted", Severity: "high",
		Category: "unauthenticated_node", Capability: []string{"NAUT", "AUTH"}, Threat: "spoof", DataCategory: "non_sensitive_medical", Seed: "MED-AUTH-001",
		Description:   "A DICOM server accepted an association from a calling AE title that is not on the policy's dicom_ae_allow list (when the list is non-empty), or, without a list, that was not seen during the learning period.",
		DetailKeys:    []string{"calling_ae", "called_ae", "basis"},
		RemediationEN: "Configure the server to accept only known calling AE titles from known addresses; add the AE to the allow-list if it is legitimate.",
		RemediationZH: "配置服务器仅接受已知地址上的已知调用 AE 标题；若该 AE 合法，请加入白名单。",
	},
	{
		ID: RuleAENewIP, Title: "DICOM AE title used from a new address", Severity: "high",
		Category: "spoofing", Capability: []string{"NAUT"}, Threat: "spoof", DataCategory: "non_sensitive_medical", Seed: "MED-SPF-001",
		Description:   "A calling AE title was used from an address outside its allow-list entry, or (without an entry) from an address other than those it used before; after the learning period. AE titles are not authentication: this is how an impostor reads or writes as a modality.",
		DetailKeys:    []string{"calling_ae", "basis", "allowed", "known_ips"},
		RemediationEN: "Check whether the device moved; if not, treat as spoofing. Bind AE titles to addresses on the server, or use TLS client certificates.",
		RemediationZH: "确认设备是否更换了地址；若没有，按仿冒处理。在服务器上将 AE 标题与地址绑定，或使用 TLS 客户端证书。",
	},
	{
		ID: RuleManyCalledAE, Title: "DICOM server accepts any called AE title", Severity: "medium",
		Category: "unauthenticated_node", Capability: []string{"NAUT", "AUTH"}, Threat: "spoof", DataCategory: "non_sensitive_medical", Seed: "MED-NAUT-001",
		Description:   "One DICOM server (address and port) accepted associations addressed to several different called AE titles (limits.called_ae_titles_per_server): it does not check the called AE title, a common default that makes spoofing and misrouting easy.",
		DetailKeys:    []string{"called_ae_titles", "server_port"},
		RemediationEN: "Configure the server to accept only its own AE title(s).",
		RemediationZH: "将服务器配置为仅接受其自身的 AE 标题。",
	},
	{
		ID: RuleUnknownHL7, Title: "HL7 sender not on the allow-list", Severity: "high",
		Category: "unauthenticated_node", Capability: []string{"NAUT"}, Threat: "spoof", DataCategory: "non_sensitive_medical", Seed: "MED-NAUT-001",
		Description:   "An HL7 message came from a sending application/facility (MSH-3/MSH-4) that is not on hl7_sender_allow (when non-empty), or, without a list, that was not seen during the learning period.",
		DetailKeys:    []string{"sending_application", "sending_facility", "basis"},
		RemediationEN: "Restrict the interface to known senders (source address filtering on the HL7 port); add the sender to the allow-list if legitimate.",
		RemediationZH: "限制接口仅接受已知发送方（在 HL7 端口做源地址过滤）；若发送方合法，请加入白名单。",
	},
	{
		ID: RuleHL7NewIP, Title: "HL7 sender from a new address", Severity: "high",
		Category: "spoofing", Capability: []string{"NAUT"}, Threat: "spoof", DataCategory: "non_sensitive_medical", Seed: "MED-SPF-001",
		Description:   "A known HL7 sender (MSH-3/MSH-4) sent from an address outside its allow-list entry, or, without an entry, from an address it did not use before; after the learning period.",
		DetailKeys:    []string{"sending_application", "sending_facility", "basis", "allowed", "known_ips"},
		RemediationEN: "Verify the sending system's address; if unexpected, treat as spoofing and block it at the interface engine.",
		RemediationZH: "核实发送系统的地址；若异常，按仿冒处理并在接口引擎处阻断。",
	},
	{
		ID: RuleTLSVersion, Title: "Obsolete TLS/SSL version", Severity: "medium",
		Category: "weak_tls", Capability: []string{"TXCF", "TXIG"}, Threat: "read", DataCategory: "unknown", Seed: "MED-TX-001",
		Description:   "A TLS handshake negotiated a version below TLS 1.2 (SSLv2/SSLv3 high, TLS 1.0/1.1 medium).",
		DetailKeys:    []string{"tls_version", "cipher", "server_port", "sni"},
		RemediationEN: "Require TLS 1.2 or later on both ends; update the device software if it cannot.",
		RemediationZH: "两端强制使用 TLS 1.2 及以上版本；若设备不支持，请升级软件。",
	},
	{
		ID: RuleTLSCipher, Title: "Weak TLS cipher suite", Severity: "high",
		Category: "weak_tls", Capability: []string{"TXCF", "TXIG"}, Threat: "read", DataCategory: "unknown", Seed: "MED-TX-001",
		Description:   "A TLS handshake chose a NULL (no encryption), EXPORT, anonymous, RC4, DES or 3DES cipher suite.",
		DetailKeys:    []string{"tls_version", "cipher", "server_port", "sni", "weakness"},
		RemediationEN: "Disable these suites on the server; allow only AEAD suites (AES-GCM, ChaCha20-Poly1305).",
		RemediationZH: "在服务器上禁用这些密码套件；仅允许 AEAD 套件（AES-GCM、ChaCha20-Poly1305）。",
	},
	{
		ID: RuleTLSCert, Title: "Invalid TLS certificate", Severity: "medium",
		Category: "weak_tls", Capability: []string{"TXCF", "AUTH"}, Threat: "spoof", DataCategory: "unknown", Seed: "MED-TX-001",
		Description:   "The server's certificate (visible in TLS 1.2 and below) is self-signed, expired or not yet valid at the time of the handshake.",
		DetailKeys:    []string{"tls_version", "cipher", "server_port", "sni", "problems", "cert_not_after", "cert_sha256"},
		RemediationEN: "Issue the server a certificate from the hospital CA and renew it before expiry; configure clients to verify it.",
		RemediationZH: "为服务器签发医院 CA 证书并在到期前续期；配置客户端校验证书。",
	},
	{
		ID: RuleTLSRequired, Title: "Clear-text medical protocol on a TLS-required link", Severity: "high",
		Category: "weak_tls", Capability: []string{"TXCF"}, Threat: "read", DataCategory: "non_sensitive_medical", Seed: "MED-TX-001",
		Description:   "DICOM, HL7 or ASTM ran in clear on a link the policy lists under tls_required, or DICOM ran in clear on a DICOM-TLS port (dicom_tls_ports, 2762 by default).",
		DetailKeys:    []string{"basis", "server_port", "phi_seen"},
		RemediationEN: "Turn TLS on for this link as the policy requires.",
		RemediationZH: "按策略要求在该链路上启用 TLS。",
	},
	{
		ID: RuleDICOMMixedTLS, Title: "DICOM server offers clear text beside TLS", Severity: "medium",
		Category: "weak_tls", Capability: []string{"TXCF"}, Threat: "read", DataCategory: "non_sensitive_medical", Seed: "MED-TX-001",
		Description:   "A server spoke DICOM in clear and also accepted TLS on a DICOM-TLS port: clients can be downgraded, and the clear port defeats the TLS one.",
		DetailKeys:    []string{"dicom_tls_ports"},
		RemediationEN: "Close the clear DICOM port once all clients use TLS.",
		RemediationZH: "所有客户端改用 TLS 后关闭明文 DICOM 端口。",
	},
	{
		ID: RuleCrossBorder, Title: "Cross-border flow", Severity: "high",
		Category: "cross_border", Capability: []string{"TXCF", "RMOT"}, Threat: "read", DataCategory: "unknown", Seed: "MED-XB-001",
		Description:   "A flow reached a peer whose country (from the geo database) is foreign under the policy (home_country, hk_mo_tw_foreign). Critical when patient data crossed, high for DICOM/HL7/ASTM, medium for other traffic of a device in a policy device class. Other hosts' traffic is not reported. The database version is in evidence.",
		DetailKeys:    []string{"country", "direction", "geo_db", "bytes_to_peer", "app_proto", "phi_seen"},
		RemediationEN: "Stop the transfer unless a data-export security assessment covers it; route vendor services through an in-country endpoint.",
		RemediationZH: "除非已通过数据出境安全评估，否则停止该传输；将厂商服务改经境内节点。",
	},
	{
		ID: RuleHighRiskSvc, Title: "High-risk service exposed", Severity: "high",
		Category: "exposed_service", Capability: []string{"SAHD", "CONN"}, Threat: "manipulate", DataCategory: "device", Seed: "MED-SAHD-001",
		Description:   "A host answered a connection on a high-risk service: on a port of the policy's high_risk_services (Telnet, FTP, TFTP, SMB, RDP, VNC, TeamViewer, AnyDesk, VxWorks WDB, debug ports), or, for an internal host, on any port where the protocol fingerprint is Telnet, FTP, TFTP, VNC, RDP, TeamViewer, AnyDesk or SMBv1 (basis says which). TCP: the server sent SYN-ACK (a RST is closed, not reported); UDP: the server answered. Reported once per host and service.",
		DetailKeys:    []string{"service", "service_name", "app_proto", "basis"},
		RemediationEN: "Disable the service on the device or filter it at the network; reserved debug ports must be closed in production.",
		RemediationZH: "在设备上关闭该服务或在网络侧过滤；生产环境中必须关闭预留调试端口。",
	},
	{
		ID: RuleUnexpectedSvc, Title: "Service not declared for the device class", Severity: "medium",
		Category: "exposed_service", Capability: []string{"SAHD"}, Threat: "manipulate", DataCategory: "device", Seed: "MED-SAHD-001",
		Description:   "A host in a policy device class answered on a service not in the class's services list and not seen during the learning period. Reported once per host and service.",
		DetailKeys:    []string{"service", "device_class", "expected", "app_proto"},
		RemediationEN: "Close the service, or add it to the device class if it is part of the declared electronic interfaces.",
		RemediationZH: "关闭该服务；若属于已声明的电子接口，请加入设备类别的服务清单。",
	},
	{
		ID: RuleRemoteAccess, Title: "Remote access session outside policy", Severity: "high",
		Category: "remote_maintenance", Capability: []string{"RMOT"}, Threat: "manipulate", DataCategory: "device", Seed: "MED-RMOT-001",
		Description:   "A remote-access session with payload both ways (SSH, RDP, VNC, Telnet, TeamViewer, AnyDesk, WinRM: found by protocol fingerprint on any port; flows no parser identified by port: 22, 23, 3389, 5900-5903, 5938, 7070, 5985/5986) had an external peer not in remote_maintenance.allowed_peers (high; critical when foreign), or ran outside remote_maintenance.hours (medium). The peer is the session's external side (a vendor coming in, or a relay a device reaches out to). Evidence is the session record: service, direction, country, user pseudonym (RDP cookie, Telnet login), duration and bytes.",
		DetailKeys:    []string{"service_name", "reasons", "local_time", "country", "geo_db", "basis", "direction", "duration_ms", "bytes_to_server", "bytes_to_client", "user_pseudonym"},
		RemediationEN: "Allow vendor remote maintenance only through the hospital's audited jump host, within agreed hours.",
		RemediationZH: "厂商远程维护仅允许经医院审计的跳板机、在约定时段内进行。",
	},
	{
		ID: RuleNewWriter, Title: "DICOM write/control operation from a new node", Severity: "medium",
		Category: "manipulation", Capability: []string{"AUTH", "TXIG"}, Threat: "manipulate", DataCategory: "non_sensitive_medical", Seed: "MED-OP-001",
		Description:   "A node issued N-SET, N-ACTION, N-CREATE or N-DELETE for the first time after the learning period (N-ACTION and N-DELETE high).",
		DetailKeys:    []string{"commands", "sop_classes", "action_type_id"},
		RemediationEN: "Confirm the node is meant to change objects on this server; restrict these services to known AE titles.",
		RemediationZH: "确认该节点是否应修改此服务器上的对象；将这些服务限制为已知 AE。",
	},
	{
		ID: RuleBulkRead, Title: "DICOM bulk query or retrieve", Severity: "high",
		Category: "bulk_read", Capability: []string{"AUTH", "AUDT"}, Threat: "read", DataCategory: "sensitive_medical", Seed: "MED-READ-001",
		Description:   "A C-FIND, C-MOVE or C-GET used a wildcard-only patient name or ID, or matched more than limits.cfind_max_matches results, or moved more than limits.cmove_max_suboperations objects.",
		DetailKeys:    []string{"commands", "reasons", "query_level", "results", "limit"},
		RemediationEN: "Check who ran the query and why; limit query/retrieve rights and result counts on the archive.",
		RemediationZH: "核查查询的发起者与目的；在影像归档上限制查询/获取权限与结果数量。",
	},
	{
		ID: RuleMoveNewDest, Title: "C-MOVE to a new destination", Severity: "high",
		Category: "redirection", Capability: []string{"AUTH"}, Threat: "redirect", DataCategory: "sensitive_medical", Seed: "MED-RED-001",
		Description:   "A C-MOVE asked the archive to send images to a destination AE title not on dicom_ae_allow (when non-empty), or not seen during the learning period.",
		DetailKeys:    []string{"move_destination", "basis"},
		RemediationEN: "Confirm the destination is a known workstation; configure the archive with a fixed list of move destinations.",
		RemediationZH: "确认目标为已知工作站；在影像归档上配置固定的 C-MOVE 目标列表。",
	},
	{
		ID: RuleARPSpoof, Title: "ARP reply claims an address bound to another MAC", Severity: "high",
		Category: "spoofing", Capability: []string{"NAUT", "CONN"}, Threat: "redirect", DataCategory: "device", Seed: "MED-SPF-001",
		Description:   "An ARP reply (or a gratuitous announcement) bound an IPv4 address to a MAC other than the one it was bound to before on the segment: the usual way to put a host in the middle of a device's traffic (ARP poisoning). The asset is the address claimed; evidence gives the new and previous MAC. Requests that change a binding (a host that really moved) are not reported.",
		DetailKeys:    []string{"sender_mac", "previous_mac", "op", "gratuitous", "vlan"},
		RemediationEN: "Find the port of the claiming MAC on the switch; enable dynamic ARP inspection / DHCP snooping on device VLANs, or static ARP entries for critical devices.",
		RemediationZH: "在交换机上定位该 MAC 所在端口；在设备 VLAN 上启用动态 ARP 检测/DHCP 监听，或为关键设备配置静态 ARP 表项。",
	},
	{
		ID: RuleNewHost, Title: "New host on a device network", Severity: "medium",
		Category: "unauthenticated_node", Capability: []string{"NAUT", "CONN"}, Threat: "spoof", DataCategory: "device", Seed: "MED-INV-001",
		Description:   "An address inside the policy's device_networks was seen for the first time (as an ARP sender, a flow's client, or a server that answered) after the learning period. Once per address.",
		DetailKeys:    []string{"source", "mac"},
		RemediationEN: "Identify the new host and add it to the asset inventory; if unknown, disconnect it and check the switch port.",
		RemediationZH: "识别新主机并登记到资产清单；若来源不明，请断开并检查其交换机端口。",
	},
	{
		ID: RuleOverwrite, Title: "DICOM object overwritten from a new node", Severity: "medium",
		Category: "manipulation", Capability: []string{"AUTH", "TXIG"}, Threat: "manipulate", DataCategory: "sensitive_medical", Seed: "MED-OP-001",
		Description:   "A node sent a C-STORE of a SOP instance that had already been stored on the wire, and had not re-sent an existing instance before (after the learning period). Re-sending an instance replaces the stored object on most archives: a way to alter images or reports. Instances are remembered by keyed hash, at most maxStoredInstances.",
		DetailKeys:    []string{"commands", "sop_classes"},
		RemediationEN: "Confirm the node is meant to correct or resend objects; configure the archive to reject or version duplicate SOP instances from other sources.",
		RemediationZH: "确认该节点是否应更正或重发对象；将影像归档配置为拒绝其他来源的重复 SOP 实例或对其进行版本管理。",
	},
	{
		ID: RulePHIText, Title: "Patient identifiers in a plaintext stream", Severity: "high",
		Category: "phi_cleartext", Capability: []string{"TXCF"}, Threat: "read", DataCategory: "sensitive_medical", Seed: "MED-PI-001",
		Description:   "The textscan detectors (PRC resident ID numbers with a valid check digit, phone numbers, Luhn-valid bank card numbers) found identifiers in a generic plaintext stream: an HTTP request or response (target, headers, bodies), an FTP control session, a Telnet session. Severity by category: ID number and bank card critical, phone high. Evidence names the fields (uri, body, header...), never the values; ID numbers are pseudonymised.",
		DetailKeys:    []string{"channels"},
		RemediationEN: "Move this exchange to HTTPS/FTPS/SSH, or stop sending personal identifiers over it.",
		RemediationZH: "将该交互改为 HTTPS/FTPS/SSH 等加密方式，或停止在其中传输个人身份信息。",
	},
	{
		ID: RulePHIDevice, Title: "Patient identifiers in a device-data channel", Severity: "critical",
		Category: "phi_cleartext", Capability: []string{"TXCF", "DIDT"}, Threat: "read", DataCategory: "sensitive_medical", Seed: "MED-PI-002",
		Description:   "Personal information appeared in a channel meant for device data only: syslog messages (textscan detectors), the fields of a declared device protocol (framing definitions' phi fields), or an upload from a device (policy device class or device network) to an external HTTP server. Device data must hold none: one step above the MT-PHI-005 severity for the same categories.",
		DetailKeys:    []string{"channels"},
		RemediationEN: "Stop the device from logging or uploading patient identifiers (vendor configuration or update); treat the log or telemetry store as holding personal information until it is purged.",
		RemediationZH: "停止设备在日志或上传数据中记录患者身份信息（厂商配置或升级）；在清理前，将相关日志或遥测存储视为含有个人信息。",
	},
	{
		ID: RuleRemoteNewPeer, Title: "Remote access from a new peer", Severity: "medium",
		Category: "remote_maintenance", Capability: []string{"RMOT", "NAUT"}, Threat: "manipulate", DataCategory: "device", Seed: "MED-RMOT-001",
		Description:   "A remote-access session (SSH, RDP, VNC, Telnet, TeamViewer, AnyDesk or WinRM, found by protocol fingerprint on any port) involved a peer that had no remote session before, after the learning period (high when the peer is external). The peer is the external side of the session, else its client. Evidence is the session record: service, direction, country, user pseudonym (RDP cookie, Telnet login), duration and bytes.",
		DetailKeys:    []string{"service_name", "direction", "duration_ms", "bytes_to_server", "bytes_to_client", "country", "geo_db", "user_pseudonym"},
		RemediationEN: "Confirm the session was planned and who ran it; register the maintenance peer, or block it.",
		RemediationZH: "确认该会话是否经过计划及其操作人员；登记该维护方地址，或予以阻断。",
	},
	{
		ID: RuleIsolation, Title: "Maintenance peer reaches medical data", Severity: "high",
		Category: "isolation", Capability: []string{"RMOT", "TXCF"}, Threat: "read", DataCategory: "sensitive_medical", Seed: "MED-ISO-001",
		Description:   "A peer of a remote-access session also took part in a DICOM, HL7 or ASTM session, or in a flow that carried patient data (before or after): device maintenance and medical data are not isolated. Critical when the peer is external. Once per peer.",
		DetailKeys:    []string{"order", "remote_service", "medical_protocol"},
		RemediationEN: "Separate the maintenance path from clinical systems (jump host without access to PACS/HIS, VLAN and firewall rules); review what data the peer reached.",
		RemediationZH: "将维护通道与临床系统隔离（跳板机不可访问 PACS/HIS，划分 VLAN 并设置防火墙规则）；核查该维护方接触过的数据。",
	},
}

// Rules returns the rule table, in a stable order.
func Rules() []RuleInfo {
	out := make([]RuleInfo, len(ruleTable))
	copy(out, ruleTable)
	for i := range out {
		out[i].Capability = append([]string(nil), out[i].Capability...)
		out[i].DetailKeys = append([]string(nil), out[i].DetailKeys...)
	}
	return out
}

func ruleByID(id string) *RuleInfo {
	if i, ok := ruleIndex[id]; ok {
		return &ruleTable[i]
	}
	return nil
}

// ruleIndex maps rule ids to their place in ruleTable.
var ruleIndex = func() map[string]int {
	m := make(map[string]int, len(ruleTable))
	for i := range ruleTable {
		m[ruleTable[i].ID] = i
	}
	return m
}()
