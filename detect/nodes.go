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
	cn := node{ip: cli, role: "client", ae: a.CallingAE}
	sn := node{ip: srv, role: "server", ae: a.CalledAE}
	// Credentials: user identity types 1 (username) and 2 (username and
	// passcode) travel in clear unless the flow is encrypted.
	if u := a.UserIdentity; u != nil && (u.Type == 1 || u.Type == 2) {
		sev := "medium"
		if u.Type == 2 && u.PasscodePresent {
			sev = "high"
		}
		e.report(ev, fs, &finding{
			rule: RuleCredClear, severity: sev, asset: cli, nodes: e.nodes(cn, sn), protocol: "dicom", clear: true,
			messages: 1, details: e.dets(
				dS("user_identity_type", u.TypeName), dB("passcode_present", u.PasscodePresent), dB("identity_accepted", accepted(a)),
			),
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
			e.report(ev, fs, &finding{rule: RuleUnknownAE, sub: a.CallingAE, asset: srv, nodes: e.nodes(cn, sn), protocol: "dicom",
				details: e.dets(dS("calling_ae", a.CallingAE), dS("called_ae", a.CalledAE), dS("basis", "allow_list"))})
		}
	default:
		if e.novelStr(e.aeKnown, a.CallingAE, ev.TS) {
			e.report(ev, fs, &finding{rule: RuleUnknownAE, sub: a.CallingAE, asset: srv, nodes: e.nodes(cn, sn), protocol: "dicom",
				details: e.dets(dS("calling_ae", a.CallingAE), dS("called_ae", a.CalledAE), dS("basis", "learned"))})
		}
	}
	// Same AE title from another address.
	if listed && len(nets) > 0 {
		if !policy.Contains(nets, cli) {
			var allowed []string
			if findPending(fs, ruleIndex[RuleAENewIP], a.CallingAE) == nil {
				allowed = prefixStrings(nets) // the same for every finding of the alert
			}
			e.report(ev, fs, &finding{rule: RuleAENewIP, sub: a.CallingAE, asset: cli, nodes: e.nodes(cn, sn), protocol: "dicom",
				details: e.dets(dS("calling_ae", a.CallingAE), dS("basis", "allow_list"), dL("allowed", allowed))})
		}
	} else if !listed {
		ips := e.aeIPs[a.CallingAE]
		if ips == nil {
			if len(e.aeIPs) < maxBaseline && e.nested < maxBaseline {
				e.aeIPs[e.in.str(a.CallingAE)] = set[netip.Addr]{cli: {}}
				e.nested++
			}
		} else if !ips.has(cli) {
			known := addrStrings(ips)
			if e.novelNested(ips, cli, ev.TS) {
				e.report(ev, fs, &finding{rule: RuleAENewIP, sub: a.CallingAE, asset: cli, nodes: e.nodes(cn, sn), protocol: "dicom",
					details: e.dets(dS("calling_ae", a.CallingAE), dS("basis", "learned"), dL("known_ips", known))})
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
	if len(called) < 64 && !called.has(a.CalledAE) {
		if e.nested < maxBaseline {
			called[e.in.str(a.CalledAE)] = struct{}{}
			e.nested++
		} else {
			e.stats.BaselineFull++
		}
	}
	if len(called) >= e.pol.Limits.CalledAETitlesPerServer && !e.srvReported.has(sk) {
		e.srvReported[sk] = struct{}{}
		titles := make([]string, 0, len(called))
		for t := range called {
			titles = append(titles, t)
		}
		sort.Strings(titles)
		e.report(ev, fs, &finding{rule: RuleManyCalledAE, asset: srv, nodes: e.nodes(cn, sn), protocol: "dicom",
			details: e.dets(dL("called_ae_titles", titles), dI("server_port", int(sk.Port())))})
	}
}

// knownSender is a learned HL7 sender a flow's messages came from, already
// known from its address: the baselines only grow, so the flow's next
// messages from it need no look-up. A flow keeps two (a query and its
// response go both ways).
type knownSender struct {
	ok       bool
	ip       netip.Addr
	app, fac string // interned
}

// hl7Sender runs the HL7 sender rules. The sender's name
// (MSH-3^MSH-4) is put together in a buffer, so that a known sender costs
// map look-ups only.
func (e *Engine) hl7Sender(ev *event.Event, fs *flowState, m *hl7.Message, sender netip.Addr) {
	for i := range fs.senders {
		if k := &fs.senders[i]; k.ok && k.ip == sender && k.app == m.SendingApplication && k.fac == m.SendingFacility {
			return // known from this address: it stays known
		}
	}
	var nb [96]byte
	key := append(nb[:0], m.SendingApplication...)
	if m.SendingFacility != "" {
		key = append(append(key, '^'), m.SendingFacility...)
	}
	if len(e.pol.HL7SenderAllow) > 0 {
		matched, hasNets, inNets := false, false, false
		for _, s := range e.pol.HL7SenderAllow {
			if s.Application == m.SendingApplication && (s.Facility == "" || s.Facility == m.SendingFacility) {
				matched = true
				if len(s.Networks) > 0 {
					hasNets = true
					inNets = inNets || policy.Contains(s.Networks, sender)
				}
			}
		}
		if !matched {
			name := e.in.bytes(key)
			e.senderFinding(ev, fs, m, sender, RuleUnknownHL7, name, dS("basis", "allow_list"))
		} else if hasNets && !inNets {
			name := e.in.bytes(key)
			var allowed []string
			if findPending(fs, ruleIndex[RuleHL7NewIP], name) == nil {
				// The same for every finding of the alert.
				var nets []netip.Prefix
				for _, s := range e.pol.HL7SenderAllow {
					if s.Application == m.SendingApplication && (s.Facility == "" || s.Facility == m.SendingFacility) {
						nets = append(nets, s.Networks...)
					}
				}
				allowed = prefixStrings(nets)
			}
			e.senderFinding(ev, fs, m, sender, RuleHL7NewIP, name, dS("basis", "allow_list"), dL("allowed", allowed))
		}
		return
	}
	// Learned: one look-up for a known sender.
	ips, known := e.hl7Senders[string(key)]
	if !known {
		if len(e.hl7Senders) >= maxBaseline {
			e.stats.BaselineFull++
			return
		}
		ips = nil
		if e.nested < maxBaseline {
			ips = set[netip.Addr]{sender: {}}
			e.nested++
		}
		e.hl7Senders[string(key)] = ips
		if !e.learning(ev.TS) {
			name := e.in.bytes(key)
			e.senderFinding(ev, fs, m, sender, RuleUnknownHL7, name, dS("basis", "learned"))
		}
		return
	}
	if ips == nil {
		if e.nested < maxBaseline {
			e.hl7Senders[string(key)] = set[netip.Addr]{sender: {}}
			e.nested++
		}
		return
	}
	if ips.has(sender) {
		fs.senders[1] = fs.senders[0]
		fs.senders[0] = knownSender{ok: true, ip: sender, app: e.in.str(m.SendingApplication), fac: e.in.str(m.SendingFacility)}
		return
	}
	knownIPs := addrStrings(ips)
	if e.novelNested(ips, sender, ev.TS) {
		name := e.in.bytes(key)
		e.senderFinding(ev, fs, m, sender, RuleHL7NewIP, name, dS("basis", "learned"), dL("known_ips", knownIPs))
	}
}

// senderFinding reports an HL7 sender rule for the sender named name;
// the finding's parts are made here, so that a known sender costs its
// look-ups only.
func (e *Engine) senderFinding(ev *event.Event, fs *flowState, m *hl7.Message, sender netip.Addr, rule, name string, more ...detail) {
	d := append(e.dets(dS("sending_application", m.SendingApplication), dS("sending_facility", m.SendingFacility)), more...)
	e.detBuf = d
	e.report(ev, fs, &finding{rule: rule, sub: name, asset: sender, nodes: e.nodes(node{ip: sender, role: "sender", app: name}), protocol: "hl7",
		details: d})
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
