package detect

import (
	"net/netip"
	"strings"
	"time"

	"github.com/medtap/medtap/detect/policy"
	"github.com/medtap/medtap/parsers/dicom"
	"github.com/medtap/medtap/parsers/tls"
	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/flow"
)

// dimseOps runs the manipulation, bulk-read and redirection rules.
func (e *Engine) dimseOps(ev *event.Event, fs *flowState, d *dicom.DIMSE, req, srv netip.Addr, assets []Asset, wild map[uint32]bool) {
	switch d.Command {
	case "N-SET", "N-ACTION", "N-CREATE", "N-DELETE":
		if novel(e, e.writers, req.String()+"|"+d.Command, ev.TS) {
			sev := "medium"
			if d.Command == "N-ACTION" || d.Command == "N-DELETE" {
				sev = "high"
			}
			det := map[string]any{"commands": []string{d.Command}, "sop_classes": []string{d.SOPClassUID}}
			if d.ActionTypeID != nil {
				det["action_type_id"] = int(*d.ActionTypeID)
			}
			e.report(ev, fs, &finding{rule: RuleNewWriter, sub: d.Command, severity: sev, asset: req, assets: assets,
				protocol: "dicom", messages: 1, details: det})
		}
	case "C-FIND", "C-MOVE", "C-GET":
		var reasons, wtags []string
		for t := range wild {
			wtags = append(wtags, tagString(t))
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
		if len(reasons) > 0 {
			sortTags(wtags)
			e.report(ev, fs, &finding{rule: RuleBulkRead, asset: req, assets: assets, protocol: "dicom", tags: wtags, messages: 1,
				details: map[string]any{"commands": []string{d.Command}, "reasons": reasons, "query_level": d.QueryRetrieveLevel,
					"results": n, "limit": lim}})
		}
		if d.Command == "C-MOVE" && d.MoveDestination != "" {
			dest := d.MoveDestination
			flag := false
			basis := "learned"
			if len(e.pol.DICOMAEAllow) > 0 {
				_, ok := e.pol.DICOMAEAllow[dest]
				flag, basis = !ok, "allow_list"
			} else {
				flag = novel(e, e.moveDests, dest, ev.TS)
			}
			if flag {
				e.report(ev, fs, &finding{rule: RuleMoveNewDest, sub: dest, asset: srv, assets: assets, protocol: "dicom", messages: 1,
					details: map[string]any{"move_destination": dest, "basis": basis}})
			}
		}
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
	assets := []Asset{{IP: cli.String(), Role: "client"}, {IP: srv.String(), Role: "server"}}
	base := map[string]any{"tls_version": h.Version, "cipher": h.Cipher, "server_port": int(ev.Flow.Server.Port())}
	if h.SNI != "" {
		base["sni"] = h.SNI
	}
	det := func(extra ...any) map[string]any {
		m := make(map[string]any, len(base)+len(extra)/2)
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i].(string)] = extra[i+1]
		}
		return m
	}
	switch h.Version {
	case "SSLv2", "SSLv3":
		e.report(ev, fs, &finding{rule: RuleTLSVersion, severity: "high", asset: srv, assets: assets, protocol: "tls", details: det()})
	case "TLSv1.0", "TLSv1.1":
		e.report(ev, fs, &finding{rule: RuleTLSVersion, asset: srv, assets: assets, protocol: "tls", details: det()})
	}
	if w, sev := weakCipher(h); w != "" {
		dc := ""
		if h.NullCipher {
			dc = "unknown"
		}
		e.report(ev, fs, &finding{rule: RuleTLSCipher, severity: sev, asset: srv, assets: assets, protocol: "tls", dataCat: dc,
			details: det("weakness", w)})
	}
	if c := h.Cert; c != nil {
		var problems []string
		sev := "medium"
		if c.SelfSigned {
			problems = append(problems, "self_signed")
		}
		if na, err := time.Parse(time.RFC3339, c.NotAfter); err == nil && ev.TS.After(na) {
			problems = append(problems, "expired")
			sev = "high"
		}
		if nb, err := time.Parse(time.RFC3339, c.NotBefore); err == nil && ev.TS.Before(nb) {
			problems = append(problems, "not_yet_valid")
		}
		if len(problems) > 0 {
			e.report(ev, fs, &finding{rule: RuleTLSCert, severity: sev, asset: srv, assets: assets, protocol: "tls",
				details: det("problems", problems, "cert_not_after", c.NotAfter, "cert_sha256", c.SHA256)})
		}
	}
	// DICOM over TLS on this server (for MT-TLS-005).
	if h.Encrypted && e.dicomTLSPort(ev.Flow.Server.Port()) {
		if len(e.dicomTLS) < maxBaseline {
			e.dicomTLS[srv] = struct{}{}
		}
		e.mixedTLS(ev, fs, srv, assets)
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

func (e *Engine) mixedTLS(ev *event.Event, fs *flowState, srv netip.Addr, assets []Asset) {
	if e.dicomPlain.has(srv) && e.dicomTLS.has(srv) && !e.mixedDone.has(srv) {
		e.mixedDone[srv] = struct{}{}
		e.report(ev, fs, &finding{rule: RuleDICOMMixedTLS, asset: srv, assets: assets, protocol: "dicom",
			details: map[string]any{"dicom_tls_ports": portInts(e.pol.DICOMTLSPorts)}})
	}
}

func portInts(ps []uint16) []int {
	out := make([]int, len(ps))
	for i, p := range ps {
		out[i] = int(p)
	}
	return out
}

// remoteAccessPorts are the TCP ports MT-RMOT-001 watches.
var remoteAccessPorts = map[uint16]string{
	22: "ssh", 23: "telnet", 3389: "rdp", 5900: "vnc", 5901: "vnc", 5902: "vnc", 5903: "vnc",
	5938: "teamviewer", 7070: "anydesk", 5985: "winrm", 5986: "winrm",
}

// flowRecord runs the rules that need the whole flow, then ends it.
func (e *Engine) flowRecord(ev *event.Event, r *flow.Record) {
	if ev.Flow == nil {
		return
	}
	fs := e.flows[ev.Flow]
	if fs == nil {
		fs = &flowState{flow: ev.Flow}
	}
	// Findings made here span the flow: from its start (the record's
	// event time) to its end.
	if end, err := time.Parse(event.TimeLayout, r.End); err == nil && end.After(ev.TS) {
		e.recStart = ev.TS
		defer func() { e.recStart = time.Time{} }()
		ev = &event.Event{TS: end, Flow: ev.Flow, Sensor: ev.Sensor, Body: ev.Body, Key: ev.Key}
	}
	fs.lastEv = ev
	f := ev.Flow
	cli, srv := ipOf(f.Client), ipOf(f.Server)
	port := f.Server.Port()
	encrypted := fs.tlsEncrypted || (r.Encrypted && r.EncryptionBasis == "parser")
	assets := []Asset{{IP: cli.String(), Role: "client"}, {IP: srv.String(), Role: "server"}}
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
			e.report(ev, fs, &finding{rule: RuleTLSRequired, severity: sev, asset: srv, assets: assets, protocol: medical,
				details: map[string]any{"basis": why, "server_port": int(port), "phi_seen": fs.phi}})
		}
		if medical == "dicom" {
			if len(e.dicomPlain) < maxBaseline {
				e.dicomPlain[srv] = struct{}{}
			}
			e.mixedTLS(ev, fs, srv, assets)
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
		e.services(ev, fs, r, srv, f.Proto, port, assets)
	}

	// Remote access sessions.
	if name, ok := remoteAccessPorts[port]; ok && f.Proto == 6 && open && r.PayloadToServer > 0 && r.PayloadToClient > 0 {
		e.remoteAccess(ev, fs, cli, srv, name, assets)
	}

	e.crossBorder(ev, fs, r, cli, srv, medical)
	if fs.flow != nil {
		e.finish(fs, r, ev)
	}
}

func (e *Engine) services(ev *event.Event, fs *flowState, r *flow.Record, srv netip.Addr, proto uint8, port uint16, assets []Asset) {
	k := svcKey{srv, proto, port}
	svc := policy.Service{Proto: proto, Port: port, PortEnd: port}.String()
	for _, h := range e.pol.HighRiskServices {
		if h.Contains(proto, port) {
			if !e.hiReported.has(k) && len(e.hiReported) < maxBaseline {
				e.hiReported[k] = struct{}{}
				e.report(ev, fs, &finding{rule: RuleHighRiskSvc, sub: svc, asset: srv, assets: assets,
					details: map[string]any{"service": svc, "service_name": h.Name, "app_proto": r.AppProto}})
			}
			break
		}
	}
	dc := e.pol.ClassOf(srv)
	if dc == nil {
		return
	}
	for _, s := range dc.Services {
		if s.Contains(proto, port) {
			return
		}
	}
	if novel(e, e.svcKnown, k, ev.TS) {
		as := append([]Asset(nil), assets...)
		as[1].DeviceClass = dc.Name
		exp := make([]string, 0, len(dc.Services))
		for _, s := range dc.Services {
			exp = append(exp, s.String())
		}
		e.report(ev, fs, &finding{rule: RuleUnexpectedSvc, sub: svc, asset: srv, assets: as,
			details: map[string]any{"service": svc, "device_class": dc.Name, "expected": exp, "app_proto": r.AppProto}})
	}
}

func (e *Engine) remoteAccess(ev *event.Event, fs *flowState, cli, srv netip.Addr, name string, assets []Asset) {
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
	as := append([]Asset(nil), assets...)
	as[0].Country = country
	det := map[string]any{"service_name": name, "reasons": reasons, "local_time": ev.TS.UTC().Add(rm.UTCOffset).Format("15:04")}
	if country != "" {
		det["country"] = country
		det["geo_db"] = e.geo.Version()
	}
	e.report(ev, fs, &finding{rule: RuleRemoteAccess, severity: sev, asset: srv, assets: as, details: det})
}

func (e *Engine) crossBorder(ev *event.Event, fs *flowState, r *flow.Record, cli, srv netip.Addr, medical string) {
	for i, peer := range [2]netip.Addr{srv, cli} {
		local := cli
		if i == 1 {
			local = srv
		}
		if !peer.IsValid() || e.pol.Internal(peer) || !peer.IsGlobalUnicast() || !e.pol.Internal(local) {
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
		la := Asset{IP: local.String(), Role: "client"}
		pa := Asset{IP: peer.String(), Role: "server", Country: country}
		if i == 1 {
			la.Role, pa.Role = "server", "client"
		}
		if dc != nil {
			la.DeviceClass = dc.Name
		}
		app := r.AppProto
		if medical != "" {
			app = medical
		}
		e.report(ev, fs, &finding{rule: RuleCrossBorder, severity: sev, dataCat: cat, asset: local, protocol: app,
			assets: []Asset{la, pa},
			details: map[string]any{"country": country, "direction": dir, "geo_db": e.geo.Version(),
				"bytes_to_peer": int(sent), "app_proto": r.AppProto, "phi_seen": fs.phi}})
		return
	}
}
