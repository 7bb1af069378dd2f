package detect

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"time"

	"github.com/medtap/medtap/detect/geo"
	"github.com/medtap/medtap/detect/policy"
	"github.com/medtap/medtap/parsers/astm"
	"github.com/medtap/medtap/parsers/dicom"
	"github.com/medtap/medtap/parsers/hl7"
	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/tls"
	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/flow"
)

// Sink receives alert events; sensor/pipeline.Sink and the JSON-lines
// writers have this shape.
type Sink interface {
	Write(evs []*event.Event) error
}

// Evidence modes.
const (
	EvidenceDefault = ""       // no values: fields, tags, categories, counts, pseudonyms
	EvidenceMasked  = "masked" // also masked excerpts (first character of each component)
)

// Limits on the engine's own state.
const (
	// maxPatients bounds the pseudonyms listed in one alert.
	maxPatients = 16
	// maxPatientSet bounds the distinct identifiers counted per alert.
	maxPatientSet = 4096
	// maxMasked bounds the masked excerpts in one alert.
	maxMasked = 16
	// maxBaseline bounds every learned set (AE titles, addresses, senders,
	// services...): past it, new keys are not learned and not reported,
	// and Stats.BaselineFull counts them.
	maxBaseline = 1 << 16
)

// Options configure an Engine.
type Options struct {
	// AlertSink receives the alerts. Nil drops them (Stats still counts).
	AlertSink Sink
	// KeyFile holds the pseudonym key (DefaultKeyFile when empty); it is
	// created, mode 0600, on first use.
	KeyFile string
	// Key, when set, is used instead of KeyFile (tests, or a key from a
	// secret store).
	Key []byte
	// Evidence is EvidenceDefault or EvidenceMasked.
	Evidence string
	// Geo is the country database; nil opens the embedded one.
	Geo *geo.DB
}

// Stats counts what the engine did.
type Stats struct {
	Events       uint64
	Alerts       map[string]int // emitted, by rule id
	RateLimited  map[string]int // dropped by the rate limit, by rule id
	BaselineFull uint64
}

// Engine runs the rules over events. It is a pipeline sink: Write must be
// called from one goroutine, with events in the pipeline's deterministic
// order. Alerts depend only on the events and the policy (event time, never
// the wall clock).
type Engine struct {
	pol    *policy.Policy
	opts   Options
	geo    *geo.DB
	ownGeo bool
	ps     pseudonymizer

	sev      map[string]string // rule id -> severity override
	disabled map[string]bool

	start    time.Time // first event time: learning runs from here
	recStart time.Time // while a flow record is handled: the flow's start
	started  bool
	flows    map[*parser.Flow]*flowState
	open     []*flowState // flows with state, in creation order
	out      []*event.Event
	rate     map[rateKey]*rateState
	rateList []*rateState
	stats    Stats

	// Baselines and novelty sets.
	aeKnown     set[string]                // calling AE titles
	aeIPs       map[string]set[netip.Addr] // calling AE -> addresses
	calledBySrv map[netip.AddrPort]set[string]
	srvReported set[netip.AddrPort]
	hl7Known    set[string]
	hl7IPs      map[string]set[netip.Addr]
	moveDests   set[string]
	writers     set[string] // ip|command
	svcKnown    set[svcKey] // reported or learned services
	hiReported  set[svcKey]
	dicomPlain  set[netip.Addr]
	dicomTLS    set[netip.Addr]
	mixedDone   set[netip.Addr]
}

type set[K comparable] map[K]struct{}

func (s set[K]) has(k K) bool { _, ok := s[k]; return ok }

type svcKey struct {
	ip    netip.Addr
	proto uint8
	port  uint16
}

type rateKey struct {
	rule  string
	asset netip.Addr
}

type rateState struct {
	key         rateKey
	windowStart time.Time
	n           int
	suppressed  int // dropped since the last emitted alert
	last        *pending
}

// New makes an engine for a policy (nil: policy.Default()).
func New(pol *policy.Policy, opts Options) (*Engine, error) {
	if pol == nil {
		pol = policy.Default()
	}
	if err := CheckPolicy(pol); err != nil {
		return nil, err
	}
	switch opts.Evidence {
	case EvidenceDefault, EvidenceMasked:
	default:
		return nil, fmt.Errorf("detect: evidence mode %q: want %q or %q", opts.Evidence, EvidenceDefault, EvidenceMasked)
	}
	key := opts.Key
	if len(key) == 0 {
		k, err := LoadOrCreateKey(opts.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("detect: %w", err)
		}
		key = k
	}
	e := &Engine{
		pol: pol, opts: opts, geo: opts.Geo,
		ps:          pseudonymizer{key: append([]byte(nil), key...)},
		sev:         map[string]string{},
		disabled:    map[string]bool{},
		flows:       map[*parser.Flow]*flowState{},
		rate:        map[rateKey]*rateState{},
		aeKnown:     set[string]{},
		aeIPs:       map[string]set[netip.Addr]{},
		calledBySrv: map[netip.AddrPort]set[string]{},
		srvReported: set[netip.AddrPort]{},
		hl7Known:    set[string]{},
		hl7IPs:      map[string]set[netip.Addr]{},
		moveDests:   set[string]{},
		writers:     set[string]{},
		svcKnown:    set[svcKey]{},
		hiReported:  set[svcKey]{},
		dicomPlain:  set[netip.Addr]{},
		dicomTLS:    set[netip.Addr]{},
		mixedDone:   set[netip.Addr]{},
	}
	e.stats.Alerts = map[string]int{}
	e.stats.RateLimited = map[string]int{}
	if e.geo == nil {
		db, err := geo.Default()
		if err != nil {
			return nil, fmt.Errorf("detect: %w", err)
		}
		e.geo, e.ownGeo = db, true
	}
	for id, r := range pol.Rules {
		if r.Severity != "" {
			e.sev[id] = r.Severity
		}
		if !pol.RuleEnabled(id) {
			e.disabled[id] = true
		}
	}
	return e, nil
}

// CheckPolicy checks a policy against the rule table: every rule id under
// `rules:` must exist. The error is one line, "FILE:LINE: reason".
func CheckPolicy(p *policy.Policy) error {
	ids := make([]string, 0, len(p.Rules))
	for id := range p.Rules {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return p.RuleLines[ids[i]] < p.RuleLines[ids[j]] })
	for _, id := range ids {
		if ruleByID(id) == nil {
			return fmt.Errorf("%s:%d: unknown rule id %q (see `medtap rules`)", p.Source, p.RuleLines[id], id)
		}
	}
	return nil
}

// LoadPolicy reads a policy file and checks it against the rule table
// (`medtap policy check FILE`). Errors are one line: "FILE:LINE: reason".
func LoadPolicy(path string) (*policy.Policy, error) {
	p, err := policy.Load(path)
	if err != nil {
		return nil, err
	}
	if err := CheckPolicy(p); err != nil {
		return nil, err
	}
	return p, nil
}

// Stats returns counters (maps are copies).
func (e *Engine) Stats() Stats {
	s := e.stats
	s.Alerts = copyCounts(e.stats.Alerts)
	s.RateLimited = copyCounts(e.stats.RateLimited)
	return s
}

func copyCounts(m map[string]int) map[string]int {
	o := make(map[string]int, len(m))
	for k, v := range m {
		o[k] = v
	}
	return o
}

// learning reports whether t is inside the learning period.
func (e *Engine) learning(t time.Time) bool {
	return t.Before(e.start.Add(e.pol.LearningPeriod))
}

// Write runs the rules over a batch of events and passes the alerts that
// became final to the alert sink.
func (e *Engine) Write(evs []*event.Event) error {
	for _, ev := range evs {
		e.handle(ev)
	}
	return e.flush()
}

func (e *Engine) flush() error {
	// Drop finished flows from the creation-order list now and then, so
	// it stays proportional to the flows still open.
	if len(e.open) > 1024 && len(e.open) > 2*len(e.flows) {
		live := e.open[:0]
		for _, fs := range e.open {
			if !fs.done {
				live = append(live, fs)
			}
		}
		clear(e.open[len(live):])
		e.open = live
	}
	if len(e.out) == 0 {
		return nil
	}
	out := e.out
	e.out = nil
	if e.opts.AlertSink == nil {
		return nil
	}
	return e.opts.AlertSink.Write(out)
}

// Close emits the alerts of flows still open and the rate-limit summaries,
// and releases the geo database if the engine opened it.
func (e *Engine) Close() error {
	for _, fs := range e.open {
		if !fs.done {
			e.finish(fs, nil, fs.lastEv)
		}
	}
	e.open = nil
	for _, rs := range e.rateList {
		if n := rs.suppressed; n > 0 && rs.last != nil {
			a := rs.last.alert
			a.Evidence = Evidence{Details: map[string]any{"rate_limited_alerts": n}}
			a.Count, a.RateLimited, a.Suppressed = n, true, 0
			ev := &event.Event{TS: rs.last.last, Flow: nil, Sensor: rs.last.sensor, Body: &a, Key: rs.last.evKey}
			rs.suppressed = 0
			e.out = append(e.out, ev)
		}
	}
	err := e.flush()
	if e.ownGeo {
		err = errors.Join(err, e.geo.Close())
		e.ownGeo = false
	}
	return err
}

// flowState is what the engine keeps for a flow that had parser events.
type flowState struct {
	flow   *parser.Flow
	pend   []*pending
	done   bool
	lastEv *event.Event

	tlsSeen      bool
	tlsEncrypted bool
	phi          bool   // patient data seen on the flow
	proto        string // dicom, hl7, astm when seen
}

func (e *Engine) state(ev *event.Event) *flowState {
	if ev.Flow == nil {
		return nil
	}
	fs := e.flows[ev.Flow]
	if fs == nil {
		fs = &flowState{flow: ev.Flow}
		e.flows[ev.Flow] = fs
		e.open = append(e.open, fs)
	}
	fs.lastEv = ev
	return fs
}

func (e *Engine) handle(ev *event.Event) {
	e.stats.Events++
	if !e.started {
		e.start, e.started = ev.TS, true
	}
	switch b := ev.Body.(type) {
	case *dicom.DIMSE:
		fs := e.state(ev)
		fs.proto = "dicom"
		e.dimse(ev, fs, b)
	case *dicom.Association:
		fs := e.state(ev)
		fs.proto = "dicom"
		e.association(ev, fs, b)
	case *hl7.Message:
		fs := e.state(ev)
		fs.proto = "hl7"
		e.hl7Message(ev, fs, b)
	case *astm.Message:
		fs := e.state(ev)
		fs.proto = "astm"
		e.astmMessage(ev, fs, b)
	case *tls.Handshake:
		fs := e.state(ev)
		e.tlsHandshake(ev, fs, b)
	case *flow.Record:
		e.flowRecord(ev, b)
	}
}

// finding is one observation a rule makes; findings of the same rule on the
// same flow (and sub-key) fold into one alert.
type finding struct {
	rule     string
	sub      string // extra aggregation key
	severity string // "" : the rule's default
	asset    netip.Addr
	assets   []Asset
	protocol string
	dataCat  string // "": the rule's default
	clear    bool   // report only if the flow turns out not to be encrypted
	fields   []string
	tags     []string
	cats     []string
	ids      []string // patient identifier values (pseudonymised here)
	masked   []labelled
	messages int
	details  map[string]any
}

type labelled struct{ label, value string }

// pending is an alert being aggregated.
type pending struct {
	alert    Alert
	sub      string
	clear    bool
	sevRank  int
	asset    netip.Addr
	first    time.Time
	last     time.Time
	sensor   string
	evKey    event.Key
	flow     *parser.Flow
	fields   []string
	tags     []string
	cats     []string
	patients set[string]
	masked   []string
}

// report adds a finding for the flow of ev (nil flow: emitted at once).
func (e *Engine) report(ev *event.Event, fs *flowState, f *finding) {
	if e.disabled[f.rule] {
		return
	}
	ri := ruleByID(f.rule)
	if ri == nil {
		panic("detect: rule " + f.rule + " missing from the rule table")
	}
	var p *pending
	if fs != nil {
		for _, x := range fs.pend {
			if x.alert.RuleID == f.rule && x.sub == f.sub {
				p = x
				break
			}
		}
	}
	if p == nil {
		p = &pending{
			alert: Alert{
				RuleID: ri.ID, Title: ri.Title, Severity: ri.Severity, Category: ri.Category,
				Capability: ri.Capability, Threat: ri.Threat, DataCategory: ri.DataCategory,
				Protocol: f.protocol, Assets: f.assets,
				Remediation: Remediation{ZH: ri.RemediationZH, EN: ri.RemediationEN},
			},
			sub: f.sub, clear: f.clear, sevRank: -1, asset: f.asset,
			first: ev.TS, sensor: ev.Sensor, flow: ev.Flow, patients: set[string]{},
		}
		if fs != nil {
			fs.pend = append(fs.pend, p)
		}
	}
	p.last, p.evKey = ev.TS, ev.Key
	if ev.TS.Before(p.first) {
		p.first = ev.TS
	}
	if !e.recStart.IsZero() && e.recStart.Before(p.first) {
		p.first = e.recStart
	}
	p.alert.Count++
	sev := f.severity
	if sev == "" {
		sev = ri.Severity
	}
	if r := policy.SeverityRank(sev); r > p.sevRank {
		p.sevRank, p.alert.Severity = r, sev
	}
	if f.dataCat != "" {
		p.alert.DataCategory = f.dataCat
	}
	p.fields = addAll(p.fields, f.fields)
	p.tags = addAll(p.tags, f.tags)
	p.cats = addAll(p.cats, f.cats)
	ev0 := &p.alert.Evidence
	ev0.Messages += f.messages
	for _, id := range f.ids {
		ps := e.ps.pseudonym(id)
		if !p.patients.has(ps) && len(p.patients) < maxPatientSet {
			p.patients[ps] = struct{}{}
			if len(ev0.Patients) < maxPatients {
				ev0.Patients = append(ev0.Patients, ps)
			}
		}
	}
	if e.opts.Evidence == EvidenceMasked {
		for _, m := range f.masked {
			s := m.label + "=" + mask(m.value)
			if len(p.masked) < maxMasked && !slices.Contains(p.masked, s) {
				p.masked = append(p.masked, s)
			}
		}
	}
	if len(f.details) > 0 {
		if ev0.Details == nil {
			ev0.Details = map[string]any{}
		}
		for k, v := range f.details {
			if old, ok := ev0.Details[k]; ok {
				if on, ok := old.(int); ok {
					if vn, ok := v.(int); ok && vn > on {
						ev0.Details[k] = vn // counters keep their maximum
					}
					continue
				}
				if os, ok := old.([]string); ok {
					if vs, ok := v.([]string); ok {
						ev0.Details[k] = addAll(os, vs)
					}
					continue
				}
				continue // first value wins
			}
			ev0.Details[k] = v
		}
	}
	if fs == nil {
		e.emit(p)
	}
}

// addAll appends the elements of b missing from a, keeping a's order.
func addAll(a, b []string) []string {
	for _, x := range b {
		if !slices.Contains(a, x) {
			a = append(a, x)
		}
	}
	return a
}

// finish ends a flow: drops clear-text-only findings if it was encrypted,
// and emits its alerts in the order they were first found.
func (e *Engine) finish(fs *flowState, rec *flow.Record, ev *event.Event) {
	fs.done = true
	delete(e.flows, fs.flow)
	encrypted := fs.tlsEncrypted
	if rec != nil && rec.Encrypted && rec.EncryptionBasis == "parser" {
		encrypted = true
	}
	for _, p := range fs.pend {
		if p.clear && encrypted {
			continue
		}
		if ev != nil && ev.TS.After(p.last) && rec == nil {
			p.last = ev.TS
		}
		e.emit(p)
	}
	fs.pend = nil
}

// emit finalises an alert and passes it through the rate limit.
func (e *Engine) emit(p *pending) {
	a := &p.alert
	if s, ok := e.sev[a.RuleID]; ok {
		a.Severity = s
	}
	sort.Strings(p.fields)
	sortTags(p.tags)
	sort.Strings(p.cats)
	a.Evidence.Fields, a.Evidence.Tags, a.Evidence.PHICategories = p.fields, p.tags, p.cats
	a.Evidence.PatientCount = len(p.patients)
	a.Evidence.Masked = p.masked
	a.FirstSeen = p.first.UTC().Format(event.TimeLayout)
	a.LastSeen = p.last.UTC().Format(event.TimeLayout)

	rk := rateKey{a.RuleID, p.asset}
	rs := e.rate[rk]
	if rs == nil && len(e.rate) >= maxBaseline {
		e.stats.BaselineFull++
		rs = &rateState{key: rk, windowStart: p.last} // untracked: not limited
	} else if rs == nil {
		rs = &rateState{key: rk, windowStart: p.last}
		e.rate[rk] = rs
		e.rateList = append(e.rateList, rs)
	}
	if p.last.Sub(rs.windowStart) >= time.Hour {
		rs.windowStart, rs.n = p.last, 0
	}
	if rs.n >= e.pol.Limits.AlertsPerAssetPerHour {
		rs.suppressed++
		e.stats.RateLimited[a.RuleID]++
		return
	}
	rs.n++
	a.Suppressed = rs.suppressed
	rs.suppressed = 0
	rs.last = p
	e.stats.Alerts[a.RuleID]++
	e.out = append(e.out, &event.Event{TS: p.last, Flow: p.flow, Sensor: p.sensor, Body: a, Key: p.evKey})
}

// sortTags orders "(gggg,eeee)" tags; they sort as text.
func sortTags(t []string) { sort.Strings(t) }

// novel reports whether k is new for a baseline after the learning period,
// and learns it. During learning it only learns.
func novel[K comparable](e *Engine, s set[K], k K, t time.Time) bool {
	if s.has(k) {
		return false
	}
	if len(s) >= maxBaseline {
		e.stats.BaselineFull++
		return false
	}
	s[k] = struct{}{}
	return !e.learning(t)
}

func ipOf(ap netip.AddrPort) netip.Addr { return ap.Addr().Unmap() }
