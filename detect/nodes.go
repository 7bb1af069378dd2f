package detect

import (
	"net/netip"
	"sort"

	"github.com/medtap/medtap/detect/policy"
	"github.com/medtap/medtap/parsers/dicom"
	"github.com/medtap/medtap/parsers/hl7"
	"github.com/medtap/medtap/sensor/event"
)

// accepted reports whether the acceptor said yes (A-ASSOCIATE-AC seen).
func accepted(a *dicom.Association) bool {
	switch a.Result {
	case "accepted", "released":
		return true
	case "aborted":
		return a.AcceptorMaxPDULength > 0
	}
	return false
}

func (e *Engine) association(ev *event.Event, fs *flowState, a *dicom.Association) {
	if ev.Flow == nil {
		return
	}
	cli, srv := ipOf(ev.Flow.Client), ipOf(ev.Flow.Server)
	assets := []Asset{
		{IP: cli.String(), Role: "client", AETitle: a.CallingAE},
		{IP: srv.String(), Role: "server", AETitle: a.CalledAE},
	}
	// Credentials: user identity types 1 (username) and 2 (username and
	// passcode) travel in clear unless the flow is encrypted.
	if u := a.UserIdentity; u != nil && (u.Type == 1 || u.Type == 2) {
		sev := "medium"
		if u.Type == 2 && u.PasscodePresent {
			sev = "high"
		}
		e.report(ev, fs, &finding{
			rule: RuleCredClear, severity: sev, asset: cli, assets: assets, protocol: "dicom", clear: true,
			messages: 1, details: map[string]any{
				"user_identity_type": u.TypeName, "passcode_present": u.PasscodePresent, "identity_accepted": accepted(a),
			},
		})
	}
	if !accepted(a) || a.CallingAE == "" {
		return
	}
	allow := e.pol.DICOMAEAllow
	nets, listed := allow[a.CallingAE]
	// Unknown calling AE.
	switch {
	case len(allow) > 0:
		if !listed {
			e.report(ev, fs, &finding{rule: RuleUnknownAE, sub: a.CallingAE, asset: srv, assets: assets, protocol: "dicom",
				details: map[string]any{"calling_ae": a.CallingAE, "called_ae": a.CalledAE, "basis": "allow_list"}})
		}
	default:
		if novel(e, e.aeKnown, a.CallingAE, ev.TS) {
			e.report(ev, fs, &finding{rule: RuleUnknownAE, sub: a.CallingAE, asset: srv, assets: assets, protocol: "dicom",
				details: map[string]any{"calling_ae": a.CallingAE, "called_ae": a.CalledAE, "basis": "learned"}})
		}
	}
	// Same AE title from another address.
	if listed && len(nets) > 0 {
		if !policy.Contains(nets, cli) {
			e.report(ev, fs, &finding{rule: RuleAENewIP, sub: a.CallingAE, asset: cli, assets: assets, protocol: "dicom",
				details: map[string]any{"calling_ae": a.CallingAE, "basis": "allow_list", "allowed": prefixStrings(nets)}})
		}
	} else if !listed {
		ips := e.aeIPs[a.CallingAE]
		if ips == nil {
			if len(e.aeIPs) < maxBaseline {
				e.aeIPs[a.CallingAE] = set[netip.Addr]{cli: {}}
			}
		} else if !ips.has(cli) {
			known := addrStrings(ips)
			if novel(e, ips, cli, ev.TS) {
				e.report(ev, fs, &finding{rule: RuleAENewIP, sub: a.CallingAE, asset: cli, assets: assets, protocol: "dicom",
					details: map[string]any{"calling_ae": a.CallingAE, "basis": "learned", "known_ips": known}})
			}
		}
	}
	// A server accepting many called AE titles.
	sk := netip.AddrPortFrom(srv, ev.Flow.Server.Port())
	called := e.calledBySrv[sk]
	if called == nil {
		if len(e.calledBySrv) >= maxBaseline {
			e.stats.BaselineFull++
			return
		}
		called = set[string]{}
		e.calledBySrv[sk] = called
	}
	if len(called) < 64 {
		called[a.CalledAE] = struct{}{}
	}
	if len(called) >= e.pol.Limits.CalledAETitlesPerServer && !e.srvReported.has(sk) {
		e.srvReported[sk] = struct{}{}
		titles := make([]string, 0, len(called))
		for t := range called {
			titles = append(titles, t)
		}
		sort.Strings(titles)
		e.report(ev, fs, &finding{rule: RuleManyCalledAE, asset: srv, assets: assets, protocol: "dicom",
			details: map[string]any{"called_ae_titles": titles, "server_port": int(sk.Port())}})
	}
}

func (e *Engine) hl7Sender(ev *event.Event, fs *flowState, m *hl7.Message, sender netip.Addr) {
	name := m.SendingApplication
	if m.SendingFacility != "" {
		name += "^" + m.SendingFacility
	}
	assets := []Asset{{IP: sender.String(), Role: "sender", Application: name}}
	det := map[string]any{"sending_application": m.SendingApplication, "sending_facility": m.SendingFacility}
	if len(e.pol.HL7SenderAllow) > 0 {
		var nets []netip.Prefix
		matched := false
		for _, s := range e.pol.HL7SenderAllow {
			if s.Application == m.SendingApplication && (s.Facility == "" || s.Facility == m.SendingFacility) {
				matched = true
				nets = append(nets, s.Networks...)
			}
		}
		if !matched {
			det["basis"] = "allow_list"
			e.report(ev, fs, &finding{rule: RuleUnknownHL7, sub: name, asset: sender, assets: assets, protocol: "hl7", details: det})
		} else if len(nets) > 0 && !policy.Contains(nets, sender) {
			det["basis"] = "allow_list"
			det["allowed"] = prefixStrings(nets)
			e.report(ev, fs, &finding{rule: RuleHL7NewIP, sub: name, asset: sender, assets: assets, protocol: "hl7", details: det})
		}
		return
	}
	if novel(e, e.hl7Known, name, ev.TS) {
		det["basis"] = "learned"
		e.report(ev, fs, &finding{rule: RuleUnknownHL7, sub: name, asset: sender, assets: assets, protocol: "hl7", details: det})
	}
	ips := e.hl7IPs[name]
	if ips == nil {
		if len(e.hl7IPs) < maxBaseline {
			e.hl7IPs[name] = set[netip.Addr]{sender: {}}
		}
		return
	}
	if !ips.has(sender) {
		known := addrStrings(ips)
		if novel(e, ips, sender, ev.TS) {
			det["basis"] = "learned"
			det["known_ips"] = known
			e.report(ev, fs, &finding{rule: RuleHL7NewIP, sub: name, asset: sender, assets: assets, protocol: "hl7", details: det})
		}
	}
}

func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		if p.IsSingleIP() {
			out = append(out, p.Addr().String())
		} else {
			out = append(out, p.String())
		}
	}
	return out
}

func addrStrings(s set[netip.Addr]) []string {
	as := make([]netip.Addr, 0, len(s))
	for a := range s {
		as = append(as, a)
	}
	sort.Slice(as, func(i, j int) bool { return as[i].Less(as[j]) })
	out := make([]string, 0, len(as))
	for i, a := range as {
		if i == 8 {
			break
		}
		out = append(out, a.String())
	}
	return out
}
