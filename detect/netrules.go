package detect

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"time"

	"github.com/medtap/medtap/detect/policy"
	"github.com/medtap/medtap/parsers/dicom"
	"github.com/medtap/medtap/parsers/tls"
	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/flow"
)

// writerKey is a node and the N-* command it issued (MT-OP-001).
type writerKey struct {
	ip  netip.Addr
	cmd string
}

// dimseOps runs the manipulation, bulk-read and redirection rules.
func (e *Engine) dimseOps(ev *event.Event, fs *flowState, d *dicom.DIMSE, req, srv netip.Addr, c, s node, wild []uint32) {
	switch d.Command {
	case "N-SET", "N-ACTION", "N-CREATE", "N-DELETE":
		if novel(e, e.writers, writerKey{req, e.in.str(d.Command)}, ev.TS) {
			sev := "medium"
			if d.Command == "N-ACTION" || d.Command == "N-DELETE" {
				sev = "high"
			}
			det := e.dets(dL1("commands", d.Command), dL1("sop_classes", d.SOPClassUID))
			if d.ActionTypeID != nil {
				det = append(det, dI("action_type_id", int(*d.ActionTypeID)))
				e.detBuf = det
			}
			e.report(ev, fs, &finding{rule: RuleNewWriter, sub: d.Command, severity: sev, asset: req, nodes: e.nodes(c, s),
				protocol: "dicom", messages: 1, details: det})
		}
	case "C-STORE":
		e.overwrite(ev, fs, d, req, srv, c, s)
	case "C-FIND", "C-MOVE", "C-GET":
		reasons, wtags := e.reasonBuf[:0], e.tagBuf[:0]
		for _, t := range wild {
			var tb [11]byte
			wtags = append(wtags, e.in.bytes(appendTag(tb[:0], t)))
		}
		if len(wtags) > 0 {
			reasons = append(reasons, "wildcard")
		}
		n := d.PendingResponses
		lim := e.pol.Limits.CFindMaxMatches
		if d.Command != "C-FIND" {
			lim = e.pol.Limits.CMoveMaxSubOperations
			if so := d.SubOperations; so != nil {
				n = int(so.Completed) + int(so.Failed) + int(so.Warning)
				if so.Remaining != nil {
					n += int(*so.Remaining)
				}
			}
		}
		if n > lim {
			reasons = append(reasons, "volume")
		}
		if len(reasons) > 0 { // (tags are sorted when the alert is emitted)
			e.report(ev, fs, &finding{rule: RuleBulkRead, asset: req, nodes: e.nodes(c, s), protocol: "dicom", tags: wtags, messages: 1,
				details: e.dets(dL1("commands", d.Command), dL("reasons", reasons), dS("query_level", d.QueryRetrieveLevel),
					dI("results", n), dI("limit", lim))})
		}
		e.reasonBuf, e.tagBuf = reasons[:0], wtags[:0]
		if d.Command == "C-MOVE" && d.MoveDestination != "" {
			dest := d.MoveDestination
			flag := false
			basis := "learned"
			if len(e.pol.DICOMAEAllow) > 0 {
				_, ok := e.pol.DICOMAEAllow[dest]
				flag, basis = !ok, "allow_list"
			} else {
				flag = e.novelStr(e.moveDests, dest, ev.TS)
			}
			if flag {
				e.report(ev, fs, &finding{rule: RuleMoveNewDest, sub: dest, asset: srv, nodes: e.nodes(c, s), protocol: "dicom", messages: 1,
					details: e.dets(dS("move_destination", dest), dS("basis", basis))})
			}
		}
	}
}

// maxStoredInstances bounds the SOP instances remembered for MT-OP-002
// (as 64-bit keyed hashes with the receiving address); past it the memory
// starts again empty and Stats.BaselineFull counts it.
const maxStoredInstances = 1 << 18

// overwrite runs MT-OP-002: a C-STORE of an instance already stored on the
// same receiver, from a node that never re-sent one before.
func (e *Engine) overwrite(ev *event.Event, fs *flowState, d *dicom.DIMSE, req, srv netip.Addr, c, s node) {
	if d.SOPInstanceUID == "" || d.StatusClass == "failure" {
		return
	}
	h := e.ps.hash(d.SOPInstanceUID)
	a := srv.As16()
	h ^= (binary.LittleEndian.Uint64(a[:8])*0x9e3779b97f4a7c15 + binary.LittleEndian.Uint64(a[8:])) * 0xbf58476d1ce4e5b9
	if _, seen := e.stored[h]; !seen {
		if len(e.stored) >= maxStoredInstances {
			clear(e.stored)
			e.stats.BaselineFull++
		}
		e.stored[h] = struct{}{}
		return
	}
	if novel(e, e.overwriters, req, ev.TS) {
		e.report(ev, fs, &finding{rule: RuleOverwrite, asset: srv, nodes: e.nodes(c, s), protocol: "dicom", messages: 1,
			details: e.dets(dL1("commands", d.Command), dL1("sop_classes", d.SOPClassUID))})
	}
}

// tlsHandshake runs the weak-TLS rules.
func (e *Engine) tlsHandshake(ev *event.Event, fs *flowState, h *tls.Handshake) {
	if ev.Flow == nil {
		return
	}
	fs.tlsSeen = true
	if h.Encrypted && !h.NullCipher {
		fs.tlsEncrypted = true
	}
	cli, srv := ipOf(ev.Flow.Client), ipOf(ev.Flow.Server)
	c, s := clientServer(cli, srv)
	// det gives the common details and extra ones (only when reporting).
	det := func(extra ...detail) []detail {
		d := e.dets(dS("tls_version", h.Version), dS("cipher", h.Cipher), dI("server_port", int(ev.Flow.Server.Port())))
		if h.SNI != "" {
			d = append(d, dS("sni", h.SNI))
		}
		d = append(d, extra...)
		e.detBuf = d
		return d
	}
	switch h.Version {
	case "SSLv2", "SSLv3":
		e.report(ev, fs, &finding{rule: RuleTLSVersion, severity: "high", asset: srv, nodes: e.nodes(c, s), protocol: "tls", details: det()})
	case "TLSv1.0", "TLSv1.1":
		e.report(ev, fs, &finding{rule: RuleTLSVersion, asset: srv, nodes: e.nodes(c, s), protocol: "tls", details: det()})
	}
	if w, sev := weakCipher(h); w != "" {
		dc := ""
		if h.NullCipher {
			dc = "unknown"
		}
		e.report(ev, fs, &finding{rule: RuleTLSCipher, severity: sev, asset: srv, nodes: e.nodes(c, s), protocol: "tls", dataCat: dc,
			details: det(dS("weakness", w))})
	}
	if ct := h.Cert; ct != nil {
		var problems []string
		sev := "medium"
		if ct.SelfSigned {
			problems = append(problems, "self_signed")
		}
		if na, err := time.Parse(time.RFC3339, ct.NotAfter); err == nil && ev.TS.After(na) {
			problems = append(problems, "expired")
			sev = "high"
		}
		if nb, err := time.Parse(time.RFC3339, ct.NotBefore); err == nil && ev.TS.Before(nb) {
			problems = append(problems, "not_yet_valid")
		}
		if len(problems) > 0 {
			e.report(ev, fs, &finding{rule: RuleTLSCert, severity: sev, asset: srv, nodes: e.nodes(c, s), protocol: "tls",
				details: det(dL("problems", problems), dS("cert_not_after", ct.NotAfter), dS("cert_sha256", ct.SHA256))})
		}
	}
	// DICOM over TLS on this server (for MT-TLS-005).
	if h.Encrypted && e.dicomTLSPort(ev.Flow.Server.Port()) {
		if len(e.dicomTLS) < maxBaseline {
			e.dicomTLS[srv] = struct{}{}
		}
		e.mixedTLS(ev, fs, srv, c, s)
	}
}

// weakCipher names a weak suite's weakness and its severity.
func weakCipher(h *tls.Handshake) (string, string) {
	c := strings.ToUpper(h.Cipher)
	switch {
	case h.NullCipher || strings.Contains(c, "_NULL_") || strings.HasSuffix(c, "_NULL"):
		return "null", "high"
	case strings.Contains(c, "EXPORT"):
		return "export", "high"
	case strings.Contains(c, "_ANON_"):
		return "anonymous", "high"
	case strings.Contains(c, "RC4"):
		return "rc4", "high"
	case strings.Contains(c, "3DES") || strings.Contains(c, "DES_EDE"):
		return "3des", "medium"
	case strings.Contains(c, "_DES_") || strings.Contains(c, "DES40") || strings.Contains(c, "_DES40_"):
		return "des", "high"
	}
	return "", ""
}

func (e *Engine) dicomTLSPort(p uint16) bool {
	for _, x := range e.pol.DICOMTLSPorts {
		if x == p {
			return true
		}
	}
	return false
}

func (e *Engine) mixedTLS(ev *event.Event, fs *flowState, srv netip.Addr, c, s node) {
	if e.dicomPlain.has(srv) && e.dicomTLS.has(srv) && !e.mixedDone.has(srv) {
		e.mixedDone[srv] = struct{}{}
		e.report(ev, fs, &finding{rule: RuleDICOMMixedTLS, asset: srv, nodes: e.nodes(c, s), protocol: "dicom",
			details: e.dets(detail{key: "dicom_tls_ports", kind: dInts, ints: portInts(e.pol.DICOMTLSPorts)})})
	}
}

func portInts(ps []uint16) []int {
	out := make([]int, len(ps))
	for i, p := range ps {
		out[i] = int(p)
	}
	return out
}

// remoteAccessPort names the service of a TCP port MT-RMOT-001 watches.
func remoteAccessPort(p uint16) (string, bool) {
	switch p {
	case 22:
		return "ssh", true
	case 23:
		return "telnet", true
	case 3389:
		return "rdp", true
	case 5900, 5901, 5902, 5903:
		return "vnc", true
	case 5938:
		return "teamviewer", true
	case 7070:
		return "anydesk", true
	case 5985, 5986:
		return "winrm", true
	}
	return "", false
}

// flowRecord runs the rules that need the whole flow, then ends it.
func (e *Engine) flowRecord(ev *event.Event, r *flow.Record) {
	if ev.Flow == nil {
		return
	}
	fs := e.flows[ev.Flow]
	if fs == nil {
		// No parser events: a scratch state, as nothing outlives this call.
		fs = &e.noFlow
		*fs = flowState{flow: ev.Flow, pend: fs.pend[:0]}
	}
	// Findings made here span the flow: from its start (the record's
	// event time) to its end.
	if end, ok := parseEventTime(r.End); ok && end.After(ev.TS) {
		e.recStart = ev.TS
		defer func() { e.recStart = time.Time{} }()
		evc := *ev
		evc.TS = end
		ev = &evc
	}
	fs.lastTS = ev.TS
	f := ev.Flow
	cli, srv := ipOf(f.Client), ipOf(f.Server)
	port := f.Server.Port()
	encrypted := fs.tlsEncrypted || (r.Encrypted && r.EncryptionBasis == "parser")
	c, s := clientServer(cli, srv)
	medical := fs.proto
	if medical == "" {
		switch r.AppProto {
		case "dicom", "hl7", "astm":
			medical = r.AppProto
		}
	}

	// Clear-text medical protocol on a TLS-required link / DICOM-TLS port.
	if medical != "" && !encrypted {
		why := ""
		for _, l := range e.pol.TLSRequired {
			if l.Matches(cli, srv, port) {
				why = "tls_required_link"
				break
			}
		}
		if why == "" && medical == "dicom" && e.dicomTLSPort(port) {
			why = "dicom_tls_port"
		}
		if why != "" {
			sev := "high"
			if fs.phi {
				sev = "critical"
			}
			e.report(ev, fs, &finding{rule: RuleTLSRequired, severity: sev, asset: srv, nodes: e.nodes(c, s), protocol: medical,
				details: e.dets(dS("basis", why), dI("server_port", int(port)), dB("phi_seen", fs.phi))})
		}
		if medical == "dicom" {
			if len(e.dicomPlain) < maxBaseline {
				e.dicomPlain[srv] = struct{}{}
			}
			e.mixedTLS(ev, fs, srv, c, s)
		}
	}

	// Open services.
	open := false
	switch f.Proto {
	case 6:
		open = strings.Contains(r.TCPFlagsTC, "S") && strings.Contains(r.TCPFlagsTC, "A")
	case 17:
		open = r.PktsToClient > 0 && r.PktsToServer > 0
	}
	if open {
		e.services(ev, fs, r, srv, f.Proto, port, c, s)
	}

	// Remote access sessions: by protocol fingerprint on any port; by
	// port for flows no parser identified.
	if f.Proto == 6 && open && r.PayloadToServer > 0 && r.PayloadToClient > 0 {
		name := ""
		if fs.remote {
			name = fs.service
		} else {
			switch r.AppProto {
			case "ssh", "rdp", "vnc", "telnet", "teamviewer", "anydesk":
				name = r.AppProto
			}
		}
		if name != "" {
			e.remoteSession(ev, fs, r, cli, srv, name)
		} else if r.AppProto == "unknown" || r.AppProto == "" {
			if name, ok := remoteAccessPort(port); ok {
				e.remoteAccess(ev, fs, cli, srv, name, c, s)
			}
		}
	}
	// Nodes that reach medical data (MT-RMOT-003).
	if medical != "" || fs.phi {
		p := medical
		if p == "" {
			p = r.AppProto
		}
		e.medicalNode(ev, fs, cli, p)
		e.medicalNode(ev, fs, srv, p)
	}

	e.crossBorder(ev, fs, r, cli, srv, medical)
	if len(e.pol.DeviceNetworks) > 0 {
		e.newHost(ev, fs, cli, "flow", "")
		if r.PktsToClient > 0 {
			e.newHost(ev, fs, srv, "flow", "")
		}
	}
	e.finish(fs, r, ev.TS)
	e.noFlow.flow = nil
}

// parseEventTime reads an event time (event.TimeLayout, UTC:
// "2006-01-02T15:04:05.000000000Z") without time.Parse's generality;
// anything else goes to time.Parse.
func parseEventTime(s string) (time.Time, bool) {
	if len(s) == 30 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':' && s[19] == '.' && s[29] == 'Z' {
		num := func(a, b int) (int, bool) {
			n := 0
			for i := a; i < b; i++ {
				c := s[i]
				if c < '0' || c > '9' {
					return 0, false
				}
				n = n*10 + int(c-'0')
			}
			return n, true
		}
		y, ok1 := num(0, 4)
		mo, ok2 := num(5, 7)
		d, ok3 := num(8, 10)
		h, ok4 := num(11, 13)
		mi, ok5 := num(14, 16)
		sec, ok6 := num(17, 19)
		ns, ok7 := num(20, 29)
		if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60 && sec < 60 {
			t := time.Date(y, time.Month(mo), d, h, mi, sec, ns, time.UTC)
			if t.Day() == d { // no normalisation (Feb 30)
				return t, true
			}
		}
	}
	t, err := time.Parse(event.TimeLayout, s)
	return t, err == nil
}

func (e *Engine) services(ev *event.Event, fs *flowState, r *flow.Record, srv netip.Addr, proto uint8, port uint16, c, s node) {
	k := svcKey{srv, proto, port}
	byPort := false
	for _, h := range e.pol.HighRiskServices {
		if h.Contains(proto, port) {
			byPort = true
			if !e.hiReported.has(k) && len(e.hiReported) < maxBaseline {
				e.hiReported[k] = struct{}{}
				svc := policy.Service{Proto: proto, Port: port, PortEnd: port}.String()
				det := e.dets(dS("service", svc), dS("service_name", h.Name), dS("app_proto", r.AppProto), dS("basis", "port"))
				if fp := highRiskFingerprint(fs.service, r.AppProto); fp != "" {
					det[len(det)-1] = dS("basis", "port_and_fingerprint")
				}
				e.report(ev, fs, &finding{rule: RuleHighRiskSvc, sub: svc, asset: srv, nodes: e.nodes(c, s), details: det})
			}
			break
		}
	}
	// The same services found by fingerprint on other ports, on our own
	// hosts (a relay or server outside is not ours to close).
	if fp := highRiskFingerprint(fs.service, r.AppProto); !byPort && fp != "" && e.pol.Internal(srv) {
		if !e.hiReported.has(k) && len(e.hiReported) < maxBaseline {
			e.hiReported[k] = struct{}{}
			svc := policy.Service{Proto: proto, Port: port, PortEnd: port}.String()
			e.report(ev, fs, &finding{rule: RuleHighRiskSvc, sub: svc, asset: srv, nodes: e.nodes(c, s),
				details: e.dets(dS("service", svc), dS("service_name", fp), dS("app_proto", r.AppProto), dS("basis", "fingerprint"))})
		}
	}
	dc := e.pol.ClassOf(srv)
	if dc == nil {
		return
	}
	for _, x := range dc.Services {
		if x.Contains(proto, port) {
			return
		}
	}
	if novel(e, e.svcKnown, k, ev.TS) {
		svc := policy.Service{Proto: proto, Port: port, PortEnd: port}.String()
		s.class = dc.Name
		exp := make([]string, 0, len(dc.Services))
		for _, x := range dc.Services {
			exp = append(exp, x.String())
		}
		e.report(ev, fs, &finding{rule: RuleUnexpectedSvc, sub: svc, asset: srv, nodes: e.nodes(c, s),
			details: e.dets(dS("service", svc), dS("device_class", dc.Name), dL("expected", exp), dS("app_proto", r.AppProto))})
	}
}

func (e *Engine) remoteAccess(ev *event.Event, fs *flowState, cli, srv netip.Addr, name string, c, s node) {
	rm := e.pol.RemoteMaintenance
	allowed := policy.Contains(rm.AllowedPeers, cli)
	external := !e.pol.Internal(cli)
	inHours := rm.InHours(ev.TS)
	var reasons []string
	sev := "medium"
	country := ""
	if external && !allowed {
		reasons = append(reasons, "external_peer")
		sev = "high"
		country = e.geo.Country(cli)
		if e.pol.Foreign(country) {
			reasons = append(reasons, "foreign_peer")
			sev = "critical"
		}
	}
	if !inHours {
		reasons = append(reasons, "outside_hours")
	}
	if len(reasons) == 0 {
		return
	}
	c.cty = country
	det := e.dets(dS("service_name", name), dL("reasons", reasons), dS("local_time", ev.TS.UTC().Add(rm.UTCOffset).Format("15:04")))
	if country != "" {
		det = append(det, dS("country", country), dS("geo_db", e.geo.Version()))
		e.detBuf = det
	}
	e.report(ev, fs, &finding{rule: RuleRemoteAccess, severity: sev, asset: srv, nodes: e.nodes(c, s), details: det})
}

func (e *Engine) crossBorder(ev *event.Event, fs *flowState, r *flow.Record, cli, srv netip.Addr, medical string) {
	for i, peer := range [2]netip.Addr{srv, cli} {
		local := cli
		if i == 1 {
			local = srv
		}
		if !peer.IsValid() || !peer.IsGlobalUnicast() || e.pol.Internal(peer) || !e.pol.Internal(local) {
			continue
		}
		country := e.geo.Country(peer)
		if !e.pol.Foreign(country) {
			continue
		}
		dc := e.pol.ClassOf(local)
		var sev, cat string
		switch {
		case fs.phi:
			sev, cat = "critical", "sensitive_medical"
		case medical != "":
			sev, cat = "high", "non_sensitive_medical"
		case dc != nil && r.PayloadToServer+r.PayloadToClient > 0:
			sev, cat = "medium", "device"
			if r.AppProto == "tls" {
				cat = "unknown"
			}
		default:
			continue
		}
		dir := "outbound"
		if i == 1 {
			dir = "inbound"
		}
		sent := r.PayloadToServer
		if i == 1 {
			sent = r.PayloadToClient
		}
		la := node{ip: local, role: "client"}
		pa := node{ip: peer, role: "server", cty: country}
		if i == 1 {
			la.role, pa.role = "server", "client"
		}
		if dc != nil {
			la.class = dc.Name
		}
		app := r.AppProto
		if medical != "" {
			app = medical
		}
		e.report(ev, fs, &finding{rule: RuleCrossBorder, severity: sev, dataCat: cat, asset: local, protocol: app,
			nodes: e.nodes(la, pa),
			details: e.dets(dS("country", country), dS("direction", dir), dS("geo_db", e.geo.Version()),
				dI("bytes_to_peer", int(sent)), dS("app_proto", r.AppProto), dB("phi_seen", fs.phi))})
		return
	}
}
