package detect

import (
	"net/netip"

	"github.com/medtap/medtap/detect/policy"
	"github.com/medtap/medtap/parsers/anydesk"
	"github.com/medtap/medtap/parsers/framing"
	"github.com/medtap/medtap/parsers/ftp"
	"github.com/medtap/medtap/parsers/http"
	"github.com/medtap/medtap/parsers/rdp"
	"github.com/medtap/medtap/parsers/smb"
	"github.com/medtap/medtap/parsers/snmp"
	"github.com/medtap/medtap/parsers/ssh"
	"github.com/medtap/medtap/parsers/syslog"
	"github.com/medtap/medtap/parsers/teamviewer"
	"github.com/medtap/medtap/parsers/telnet"
	"github.com/medtap/medtap/parsers/textscan"
	"github.com/medtap/medtap/parsers/tftp"
	"github.com/medtap/medtap/parsers/vnc"
	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/flow"
)

// remoteEvent handles the events of the remote-access, file-transfer and
// management parsers: it marks the flow's service (the session rules run
// on the flow record, which has duration and bytes) and runs the
// credential and plaintext-PHI rules. It reports whether ev was one.
func (e *Engine) remoteEvent(ev *event.Event) bool {
	switch b := ev.Body.(type) {
	case *ssh.Session:
		e.markRemote(ev, "ssh", "")
	case *rdp.Connection:
		e.markRemote(ev, "rdp", b.User)
	case *vnc.Session:
		e.markRemote(ev, "vnc", "")
	case *teamviewer.Session:
		e.markRemote(ev, "teamviewer", "")
	case *anydesk.Session:
		e.markRemote(ev, "anydesk", "")
	case *telnet.Session:
		fs := e.markRemote(ev, "telnet", b.User)
		if fs == nil {
			return true
		}
		if b.LoginAnswered || b.PasswordAnswered {
			sev, cred := "medium", "telnet_login"
			if b.PasswordAnswered {
				sev, cred = "high", "telnet_password"
			}
			e.credential(ev, fs, "telnet", cred, sev, b.User, dB("login_failed", b.LoginFailed))
		}
		e.scanPHI(ev, fs, RulePHIText, "telnet", b.PHICategories, b.PHIValues)
	case *ftp.Session:
		fs := e.state(ev)
		if fs == nil {
			return true
		}
		fs.service = "ftp"
		if b.PasswordPresent && !b.Anonymous {
			e.credential(ev, fs, "ftp", "ftp_password", "high", b.User, dS("login_result", b.LoginResult))
		}
		e.scanPHI(ev, fs, RulePHIText, "ftp", b.PHICategories, b.PHIValues)
	case *http.Transaction:
		fs := e.state(ev)
		if fs == nil {
			return true
		}
		if b.WinRM {
			e.markRemote(ev, "winrm", "")
		}
		if b.AuthScheme == "basic" {
			e.credential(ev, fs, "http", "http_basic", "high", b.User, dI("status", b.Status))
		}
		if len(b.PHICategories) > 0 {
			// A device posting identifiers to a server outside: a vendor
			// upload, a device-data channel.
			cli, srv := ipOf(ev.Flow.Client), ipOf(ev.Flow.Server)
			if !e.pol.Internal(srv) && (e.pol.ClassOf(cli) != nil || e.pol.OnDeviceNetwork(cli)) {
				e.scanPHI(ev, fs, RulePHIDevice, "vendor_upload", b.PHICategories, b.PHIValues)
			} else {
				e.scanPHI(ev, fs, RulePHIText, "http", b.PHICategories, b.PHIValues)
			}
		}
	case *tftp.Request, *tftp.Reply:
		if fs := e.state(ev); fs != nil {
			fs.service = "tftp"
		}
	case *smb.Negotiate:
		if fs := e.state(ev); fs != nil && b.SMB1 {
			fs.service = "smb1"
		}
	case *snmp.Message:
		fs := e.state(ev)
		if fs == nil {
			return true
		}
		if b.CommunityPresent && (b.Version == "1" || b.Version == "2c") {
			sev := "medium"
			if b.DefaultCommunity {
				sev = "high"
			}
			e.credential(ev, fs, "snmp", "snmp_community", sev, "", dB("default_community", b.DefaultCommunity))
		}
	case *syslog.Message:
		if fs := e.state(ev); fs != nil {
			e.scanPHI(ev, fs, RulePHIDevice, "syslog", b.PHICategories, b.PHIValues)
		}
	case *framing.Frame:
		if fs := e.state(ev); fs != nil && len(b.PHICategories) > 0 {
			e.devicePHI(ev, fs, b)
		}
	default:
		return false
	}
	return true
}

// markRemote notes that a flow is a remote-access session, and the user
// name where the protocol shows one (pseudonymised at once: the name is
// never kept).
func (e *Engine) markRemote(ev *event.Event, service, user string) *flowState {
	fs := e.state(ev)
	if fs == nil {
		return nil
	}
	fs.service, fs.remote = service, true
	if user != "" && fs.userPseud == 0 {
		fs.userPseud = e.ps.mac64(user)
	}
	return fs
}

// credential reports credentials crossing in clear (MT-CRED-001). The
// value is never kept: the user name, when there is one, is pseudonymised.
func (e *Engine) credential(ev *event.Event, fs *flowState, proto, cred, sev, user string, extra detail) {
	cli, srv := ipOf(ev.Flow.Client), ipOf(ev.Flow.Server)
	det := e.dets(dS("credential", cred), extra)
	// The pseudonym is the same for every finding of the alert: made once.
	if user != "" && findPending(fs, ruleIndex[RuleCredClear], cred) == nil {
		det = append(det, dS("user_pseudonym", pseudonymText(e.ps.mac64(user))))
		e.detBuf = det
	}
	e.report(ev, fs, &finding{rule: RuleCredClear, sub: cred, severity: sev, asset: srv, nodes: e.nodes(clientServer(cli, srv)),
		protocol: proto, clear: true, messages: 1, details: det})
}

// scanPHI reports identifiers the textscan detectors found in a plaintext
// stream: MT-PHI-005 for generic channels, MT-PHI-006 for device-data ones.
func (e *Engine) scanPHI(ev *event.Event, fs *flowState, rule, proto string, cats []string, vals []textscan.Value) {
	if len(cats) == 0 {
		return
	}
	ids, masked, fields := e.idBuf[:0], e.maskBuf[:0], e.tagBuf[:0]
	for _, v := range vals {
		if patientIDField(v.Field, v.Category) {
			ids = identifiers(v.Value, ids)
		}
		if !containsStr(fields, v.Field) {
			fields = append(fields, v.Field)
		}
		if e.opts.Evidence == EvidenceMasked {
			masked = append(masked, labelled{v.Field, v.Value})
		}
	}
	sev := phiSeverity(cats)
	if rule == RulePHIDevice {
		sev = raise(sev)
	}
	fs.phi = true
	c, s := ipOf(ev.Flow.Client), ipOf(ev.Flow.Server)
	p := proto
	if p == "vendor_upload" {
		p = "http"
	}
	e.report(ev, fs, &finding{rule: rule, severity: sev, asset: s, protocol: p, clear: true, nodes: e.nodes(clientServer(c, s)),
		fields: fields, cats: cats, ids: ids, masked: masked, messages: 1, details: e.dets(dL1("channels", proto))})
	clear(ids)
	clear(masked)
	clear(fields)
	e.idBuf, e.maskBuf, e.tagBuf = ids[:0], masked[:0], fields[:0]
}

// devicePHI reports personal information in a declared device protocol's
// frame (telemetry): MT-PHI-006.
func (e *Engine) devicePHI(ev *event.Event, fs *flowState, f *framing.Frame) {
	ids, masked := e.idBuf[:0], e.maskBuf[:0]
	for _, v := range f.PHI {
		if patientIDField(v.Field, v.Category) || v.Category == framing.CatID {
			ids = identifiers(v.Value, ids)
		}
		if e.opts.Evidence == EvidenceMasked {
			masked = append(masked, labelled{v.Field, v.Value})
		}
	}
	fs.phi = true
	c, s := ipOf(ev.Flow.Client), ipOf(ev.Flow.Server)
	e.report(ev, fs, &finding{rule: RulePHIDevice, severity: raise(phiSeverity(f.PHICategories)), asset: s, protocol: f.Protocol, clear: true,
		nodes: e.nodes(clientServer(c, s)), fields: f.PHIFields, cats: f.PHICategories, ids: ids, masked: masked, messages: 1,
		details: e.dets(dL1("channels", "device"))})
	clear(ids)
	clear(masked)
	e.idBuf, e.maskBuf = ids[:0], masked[:0]
}

// raise gives the severity one step up (device-data channels must hold no
// personal information at all).
func raise(sev string) string {
	switch sev {
	case "info", "low":
		return "medium"
	case "medium":
		return "high"
	}
	return "critical"
}

// highRiskFingerprint names the high-risk services found by protocol
// fingerprint (on any port) from a flow's app_proto or its events.
func highRiskFingerprint(service, appProto string) string {
	switch service {
	case "telnet", "ftp", "tftp", "vnc", "rdp", "teamviewer", "anydesk", "smb1":
		return service
	}
	switch appProto {
	case "telnet", "ftp", "tftp", "vnc", "rdp", "teamviewer", "anydesk":
		return appProto
	}
	return ""
}

// remoteSession runs the remote-maintenance rules on a session's flow
// record: the session record (direction, peer, country, user pseudonym,
// duration, bytes) is the alerts' evidence.
func (e *Engine) remoteSession(ev *event.Event, fs *flowState, r *flow.Record, cli, srv netip.Addr, name string) {
	// The peer is the external side when there is one (a vendor coming
	// in, or a relay a device reaches out to), else the client.
	peer, local, dir, localRole := cli, srv, "internal", "server"
	switch cliExt, srvExt := !e.pol.Internal(cli), !e.pol.Internal(srv); {
	case cliExt && !srvExt:
		dir = "inbound"
	case srvExt && !cliExt:
		peer, local, dir, localRole = srv, cli, "outbound", "client"
	case cliExt && srvExt:
		dir = "transit"
	}
	external := !e.pol.Internal(peer)
	country := ""
	if external {
		country = e.geo.Country(peer)
	}
	pn := node{ip: peer, role: "peer", cty: country}
	ln := node{ip: local, role: localRole}
	if dc := e.pol.ClassOf(local); dc != nil {
		ln.class = dc.Name
	}
	// session appends the session record to the details.
	session := func(det []detail) []detail {
		det = append(det, dS("service_name", name), dS("direction", dir), dI("duration_ms", int(r.Duration*1000)),
			dI("bytes_to_server", int(r.BytesToServer)), dI("bytes_to_client", int(r.BytesToClient)))
		if country != "" {
			det = append(det, dS("country", country), dS("geo_db", e.geo.Version()))
		}
		if fs.userPseud != 0 {
			det = append(det, dS("user_pseudonym", pseudonymText(fs.userPseud)))
		}
		e.detBuf = det
		return det
	}

	// MT-RMOT-001: not an allowed external peer, a foreign one, or outside
	// the maintenance hours.
	rm := e.pol.RemoteMaintenance
	var reasons []string
	sev := "medium"
	if external && !policy.Contains(rm.AllowedPeers, peer) {
		reasons = append(reasons, "external_peer")
		sev = "high"
		if e.pol.Foreign(country) {
			reasons = append(reasons, "foreign_peer")
			sev = "critical"
		}
	}
	if !rm.InHours(ev.TS) {
		reasons = append(reasons, "outside_hours")
	}
	if len(reasons) > 0 {
		det := session(e.dets(dL("reasons", reasons), dS("local_time", ev.TS.UTC().Add(rm.UTCOffset).Format("15:04")), dS("basis", "fingerprint")))
		e.report(ev, fs, &finding{rule: RuleRemoteAccess, severity: sev, asset: local, nodes: e.nodes(pn, ln), protocol: name, details: det})
	}
	// MT-RMOT-002: a peer never seen in a remote session before.
	if novel(e, e.remotePeers, peer, ev.TS) {
		sev := "medium"
		if external {
			sev = "high"
		}
		e.report(ev, fs, &finding{rule: RuleRemoteNewPeer, sub: name, severity: sev, asset: local, nodes: e.nodes(pn, ln), protocol: name,
			details: session(e.dets())})
	}
	// MT-RMOT-003: the same peer reaching medical data.
	if _, ok := e.maintPeers[peer]; !ok && len(e.maintPeers) < maxBaseline {
		e.maintPeers[peer] = e.in.str(name)
	}
	if mp, ok := e.medicalNodes[peer]; ok {
		e.isolation(ev, fs, peer, "medical_first", name, mp)
	}
}

// medicalNode notes a node of a flow that carried DICOM/HL7/ASTM or
// patient data, and runs MT-RMOT-003 for it.
func (e *Engine) medicalNode(ev *event.Event, fs *flowState, ip netip.Addr, proto string) {
	if _, ok := e.medicalNodes[ip]; !ok && len(e.medicalNodes) < maxBaseline {
		e.medicalNodes[ip] = e.in.str(proto)
	}
	if svc, ok := e.maintPeers[ip]; ok {
		e.isolation(ev, fs, ip, "remote_first", svc, proto)
	}
}

// isolation reports MT-RMOT-003 once per peer.
func (e *Engine) isolation(ev *event.Event, fs *flowState, peer netip.Addr, order, remoteSvc, medical string) {
	if e.isoReported.has(peer) || len(e.isoReported) >= maxBaseline {
		return
	}
	e.isoReported[peer] = struct{}{}
	sev := "high"
	country := ""
	if !e.pol.Internal(peer) {
		sev = "critical"
		country = e.geo.Country(peer)
	}
	e.report(ev, fs, &finding{rule: RuleIsolation, severity: sev, asset: peer, nodes: e.nodes(node{ip: peer, role: "peer", cty: country}),
		protocol: medical, details: e.dets(dS("order", order), dS("remote_service", remoteSvc), dS("medical_protocol", medical))})
}
