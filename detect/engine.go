package detect

import (
	"errors"
	"fmt"
	"hash/maphash"
	"net/netip"
	"slices"
	"sort"
	"time"

	"github.com/medtap/medtap/detect/geo"
	"github.com/medtap/medtap/detect/policy"
	"github.com/medtap/medtap/parsers/anydesk"
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
	// services...), and all the per-key address and title sets together:
	// past it, new keys are not learned and not reported, and
	// Stats.BaselineFull counts them.
	maxBaseline = 1 << 16
	// maxFlowPending bounds the alerts held for one flow (distinct rule and
	// sub-key pairs); past it, a finding that would open another is
	// emitted at once as an alert of its own.
	maxFlowPending = 32
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

	sev      []string // by rule index: severity override or ""
	disabled []bool   // by rule index

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
	aeKnown      set[string]                // calling AE titles
	aeIPs        map[string]set[netip.Addr] // calling AE -> addresses
	calledBySrv  map[netip.AddrPort]set[string]
	srvReported  set[netip.AddrPort]
	hl7Senders   map[string]set[netip.Addr] // known senders -> their addresses (nil: none kept)
	moveDests    set[string]
	writers      set[writerKey] // node and N-* command
	svcKnown     set[svcKey]    // reported or learned services
	hiReported   set[svcKey]
	dicomPlain   set[netip.Addr]
	dicomTLS     set[netip.Addr]
	mixedDone    set[netip.Addr]
	hosts        set[netip.Addr]       // hosts seen on device networks (MT-NODE-006)
	stored       set[uint64]           // stored SOP instances by receiver (MT-OP-002)
	overwriters  set[netip.Addr]       // nodes that re-sent a stored instance
	remotePeers  set[netip.Addr]       // peers of remote-access sessions (MT-RMOT-002)
	maintPeers   map[netip.Addr]string // remote peers -> first service, for MT-RMOT-003
	medicalNodes map[netip.Addr]string // nodes of flows with medical protocols or PHI -> first protocol
	isoReported  set[netip.Addr]
	nested       int // entries in the per-key sets (aeIPs, hl7Senders, calledBySrv)

	in       interner            // strings kept by pending alerts and baselines
	lists    map[uint64][]string // shared lists of pending alerts, by hash
	listHash maphash.Hash
	listBuf  []string
	ipStr    map[netip.Addr]string // address text for assets (bounded)

	// Scratch buffers for building findings: a finding points into them
	// (and into its event), never the other way round. Buffers that held
	// patient values are cleared after each use.
	idBuf     []string
	maskBuf   []labelled
	catBuf    []string
	tagBuf    []string
	wildBuf   []uint32
	nodeBuf   []node
	detBuf    []detail
	reasonBuf []string
	noFlow    flowState // state of a flow record's flow that had no events
	lastRule  int       // index of the rule last reported
	warmed    int       // what warm counted, kept so that its reads stay
	typeBuf   []byte    // an HL7 message type being put together
	maskText  []byte    // a masked excerpt being made
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
	// The last emitted alert (evidence dropped), for the summary at Close.
	hasLast    bool
	last       Alert
	lastTS     time.Time
	lastSensor string
	lastKey    event.Key
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
		ps:           newPseudonymizer(key),
		sev:          make([]string, len(ruleTable)),
		disabled:     make([]bool, len(ruleTable)),
		flows:        map[*parser.Flow]*flowState{},
		rate:         map[rateKey]*rateState{},
		aeKnown:      set[string]{},
		aeIPs:        map[string]set[netip.Addr]{},
		calledBySrv:  map[netip.AddrPort]set[string]{},
		srvReported:  set[netip.AddrPort]{},
		hl7Senders:   map[string]set[netip.Addr]{},
		moveDests:    set[string]{},
		writers:      set[writerKey]{},
		svcKnown:     set[svcKey]{},
		hiReported:   set[svcKey]{},
		dicomPlain:   set[netip.Addr]{},
		dicomTLS:     set[netip.Addr]{},
		mixedDone:    set[netip.Addr]{},
		hosts:        set[netip.Addr]{},
		stored:       set[uint64]{},
		overwriters:  set[netip.Addr]{},
		remotePeers:  set[netip.Addr]{},
		maintPeers:   map[netip.Addr]string{},
		medicalNodes: map[netip.Addr]string{},
		isoReported:  set[netip.Addr]{},
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
		i, ok := ruleIndex[id]
		if !ok {
			continue // CheckPolicy refused it already
		}
		if r.Severity != "" {
			e.sev[i] = r.Severity
		}
		if !pol.RuleEnabled(id) {
			e.disabled[i] = true
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
	for len(evs) > 0 {
		n := min(len(evs), warmEvents)
		e.warm(evs[:n])
		for _, ev := range evs[:n] {
			e.handle(ev)
		}
		evs = evs[n:]
	}
	return e.flush()
}

// warmEvents is how many events warm reads ahead.
const warmEvents = 16

// warm reads what the rules read of a few events, before handling them.
// The events were built on other cores a round earlier and are mostly
// out of this core's caches: read event by event, each message's cache
// misses stall one after the other; read here, in a short loop with no
// dependence between events, they overlap.
func (e *Engine) warm(evs []*event.Event) {
	x := 0
	for _, ev := range evs {
		if m, ok := ev.Body.(*hl7.Message); ok {
			x += len(m.Direction)
			if t := m.MessageType; len(t) > 0 {
				x += int(t[0])
			}
			if a := m.SendingApplication; len(a) > 0 {
				x += int(a[0])
			}
			if c := m.PHICategories; len(c) > 0 {
				x += len(c[0]) + len(c[len(c)-1])
			}
			for _, f := range m.PHIFields {
				if len(f) > 0 {
					x += int(f[0])
				}
			}
			for i := range m.PHI {
				// Compared, not summed: nothing derived from a patient
				// value is kept (x counts NUL bytes, that is nothing).
				v := &m.PHI[i]
				if len(v.Field) > 0 && len(v.Value) > 0 && v.Field[0]|v.Value[0] == 0 {
					x++
				}
			}
		}
	}
	e.warmed += x
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
			e.finish(fs, nil, fs.lastTS)
		}
	}
	e.open = nil
	for _, rs := range e.rateList {
		if n := rs.suppressed; n > 0 && rs.hasLast {
			a := rs.last
			a.Evidence = Evidence{Details: map[string]any{"rate_limited_alerts": n}}
			a.Count, a.RateLimited, a.Suppressed = n, true, 0
			a.ID = alertIDOf(a.RuleID, nil, a.FirstSeen, e.assetText(rs.key.asset), "rate_limited")
			ev := &event.Event{TS: rs.lastTS, Flow: nil, Sensor: rs.lastSensor, Body: &a, Key: rs.lastKey}
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
	lastTS time.Time // of the flow's last event (never the event: it holds patient values)

	service      string // remote-access or high-risk service found by fingerprint
	remote       bool   // service is a remote-access session
	userPseud    uint64 // pseudonym of the session's user name, 0 if none
	tlsSeen      bool
	tlsEncrypted bool
	phi          bool           // patient data seen on the flow
	proto        string         // dicom, hl7, astm when seen
	senders      [2]knownSender // the last two found known, latest first
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
	fs.lastTS = ev.TS
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
		// AnyDesk speaks TLS from the first byte, so the tls parser takes
		// its flows; its certificate names it.
		if anydesk.Certificate(b.Cert) {
			e.markRemote(ev, "anydesk", "")
		}
	case *flow.Record:
		e.flowRecord(ev, b)
	case *flow.ARP:
		e.arp(ev, b)
	default:
		e.remoteEvent(ev)
	}
	e.scrub()
}

// finding is one observation a rule makes; findings of the same rule on the
// same flow (and sub-key) fold into one alert. A finding points into its
// event and the engine's scratch buffers: report copies what it keeps.
type finding struct {
	rule     string
	sub      string // extra aggregation key
	severity string // "" : the rule's default
	// phiSev: the severity is phiSeverity(cats) (severity unset), graded
	// only when it could raise the pending alert's.
	phiSev bool
	asset  netip.Addr
	nodes  []node // the alert's assets
	// cliSrv, when set and nodes is not, makes the assets the flow's
	// client and server (clientServer), put together only for a new alert.
	cliSrv   bool
	protocol string
	dataCat  string // "": the rule's default
	clear    bool   // report only if the flow turns out not to be encrypted
	fields   []string
	tags     []string
	cats     []string
	ids      []string // patient identifier values (pseudonymised here)
	masked   []labelled
	messages int
	details  []detail
}

type labelled struct{ label, value string }

// pending is an alert being aggregated; the Alert is made when it is
// emitted. It holds no patient value: 64-bit hashes of the identifiers seen
// (to count them) and the HMACs of those it lists. It is kept small: there
// is one per flow with a finding until the flow ends.
type pending struct {
	rule     int16 // index in ruleTable
	sevRank  int8  // -1: the rule's severity
	catsRank int8  // phiRank(cats)
	nnodes   uint8 // the first nnodes of nodes are the assets
	npseud   uint8 // pseudonyms listed in pseud
	clear    bool
	count    int
	messages int
	sub      string
	dataCat  string // "": the rule's
	protocol string
	asset    netip.Addr
	nodes    [2]pnode
	first    time.Time
	last     time.Time
	sensor   string
	evKey    event.Key
	flow     *parser.Flow
	fields   []string
	tags     []string
	cats     []string
	patients patientSet
	pseud    [maxPatients]uint64 // pseudonyms (HMAC prefixes) listed, first seen first
	masked   []string
	details  []detail
}

// pnode is an asset as a pending alert keeps it.
type pnode struct {
	ip   netip.Addr
	role string
	x    *nodeExtra // nil when none of it is set
}

type nodeExtra struct{ ae, app, class, cty string }

// nodes returns ns in the engine's node buffer (valid until the next call).
func (e *Engine) nodes(ns ...node) []node {
	clear(e.nodeBuf)
	e.nodeBuf = append(e.nodeBuf[:0], ns...)
	return e.nodeBuf
}

// dets returns ds in the engine's detail buffer (valid until the next call).
func (e *Engine) dets(ds ...detail) []detail {
	clear(e.detBuf)
	e.detBuf = append(e.detBuf[:0], ds...)
	return e.detBuf
}

// scrub empties the scratch buffers that may hold an event's strings, so
// that the engine keeps nothing of an event (whose strings may share memory
// with its patient values) once it is handled.
func (e *Engine) scrub() {
	clear(e.nodeBuf)
	clear(e.detBuf)
	e.nodeBuf, e.detBuf = e.nodeBuf[:0], e.detBuf[:0]
}

// clientServer gives the usual two assets of a flow.
func clientServer(cli, srv netip.Addr) (node, node) {
	return node{ip: cli, role: "client"}, node{ip: srv, role: "server"}
}

// findPending returns the alert pending for a rule and sub-key on a flow.
func findPending(fs *flowState, rule int, sub string) *pending {
	if fs == nil {
		return nil
	}
	for _, x := range fs.pend {
		if int(x.rule) == rule && x.sub == sub {
			return x
		}
	}
	return nil
}

// report adds a finding for the flow of ev (nil flow: emitted at once).
// Confirming an alert already pending for the flow allocates nothing
// unless the finding brings new fields, categories, details or patients.
func (e *Engine) report(ev *event.Event, fs *flowState, f *finding) {
	idx := e.lastRule
	if f.rule != ruleTable[idx].ID {
		i, ok := ruleIndex[f.rule]
		if !ok {
			panic("detect: rule " + f.rule + " missing from the rule table")
		}
		idx, e.lastRule = i, i
	}
	if e.disabled[idx] {
		return
	}
	p := findPending(fs, idx, f.sub)
	if p == nil {
		p = &pending{
			rule: int16(idx), sevRank: -1, catsRank: -1, clear: f.clear, sub: e.in.str(f.sub), protocol: e.in.str(f.protocol), asset: f.asset,
			first: ev.TS, sensor: ev.Sensor, flow: ev.Flow,
		}
		nodes := f.nodes
		if f.cliSrv && nodes == nil && ev.Flow != nil {
			nodes = e.nodes(clientServer(ipOf(ev.Flow.Client), ipOf(ev.Flow.Server)))
		}
		for i, n := range nodes {
			if i == len(p.nodes) {
				panic("detect: a finding with more than two assets")
			}
			p.nodes[i] = pnode{ip: n.ip, role: n.role}
			if n.ae != "" || n.app != "" || n.class != "" || n.cty != "" {
				p.nodes[i].x = &nodeExtra{ae: e.in.str(n.ae), app: e.in.str(n.app), class: e.in.str(n.class), cty: e.in.str(n.cty)}
			}
			p.nnodes++
		}
		if fs != nil {
			if len(fs.pend) < maxFlowPending {
				fs.pend = append(fs.pend, p)
			} else {
				fs = nil // emitted below, on its own
			}
		}
	}
	p.last, p.evKey = ev.TS, ev.Key
	if ev.TS.Before(p.first) {
		p.first = ev.TS
	}
	if !e.recStart.IsZero() && e.recStart.Before(p.first) {
		p.first = e.recStart
	}
	p.count++
	ncats := len(p.cats)
	p.cats = e.mergeStrings(p.cats, f.cats)
	if len(p.cats) != ncats {
		p.catsRank = int8(phiRank(p.cats))
	}
	if f.phiSev && len(f.cats) > 0 {
		// f.cats are among p.cats: their grade is at most catsRank, so
		// when the alert already has that, grading them changes nothing.
		if len(p.cats) != ncats || p.sevRank < p.catsRank {
			if r := phiRank(f.cats); r > int(p.sevRank) {
				p.sevRank = int8(r)
			}
		}
	} else {
		sev := f.severity
		if sev == "" {
			sev = ruleTable[idx].Severity
		}
		if r := policy.SeverityRank(sev); r > int(p.sevRank) {
			p.sevRank = int8(r)
		}
	}
	if f.dataCat != "" && f.dataCat != p.dataCat {
		p.dataCat = e.in.str(f.dataCat)
	}
	p.fields = e.mergeStrings(p.fields, f.fields)
	p.tags = e.mergeStrings(p.tags, f.tags)
	p.messages += f.messages
	// Patients: distinct identifiers are counted by a 64-bit hash; only
	// the first maxPatients get a pseudonym (an HMAC).
	if p.patients.n < maxPatientSet {
		for _, id := range f.ids {
			if p.patients.add(e.ps.hash(id)) && p.npseud < maxPatients {
				p.pseud[p.npseud] = e.ps.mac64(id)
				p.npseud++
			}
		}
	}
	if e.opts.Evidence == EvidenceMasked {
		for _, m := range f.masked {
			if len(p.masked) >= maxMasked {
				break
			}
			b := appendMask(append(append(e.maskText[:0], m.label...), '='), m.value)
			e.maskText = b
			if !slices.ContainsFunc(p.masked, func(x string) bool { return x == string(b) }) {
				p.masked = append(p.masked, string(b))
			}
		}
		clear(e.maskText)
	}
	if len(f.details) > 0 {
		p.details = e.mergeDetails(p.details, f.details)
	}
	if fs == nil {
		e.emit(p)
	}
}

// assets makes the alert's assets (address text, interned names).
func (e *Engine) assets(p *pending) []Asset {
	if p.nnodes == 0 {
		return nil
	}
	as := make([]Asset, p.nnodes)
	for i, n := range p.nodes[:p.nnodes] {
		as[i] = Asset{IP: e.ipText(n.ip), Role: n.role}
		if x := n.x; x != nil {
			as[i].AETitle, as[i].Application, as[i].DeviceClass, as[i].Country = x.ae, x.app, x.class, x.cty
		}
	}
	return as
}

// formatEventTime is t.UTC().Format(event.TimeLayout), without the
// layout interpreter.
func formatEventTime(t time.Time) string {
	var b [32]byte
	return string(event.AppendTime(b[:0], t))
}

// ipText gives an address as text, from a bounded cache.
func (e *Engine) ipText(a netip.Addr) string {
	if s, ok := e.ipStr[a]; ok {
		return s
	}
	s := a.String()
	if e.ipStr == nil {
		e.ipStr = map[netip.Addr]string{}
	}
	if len(e.ipStr) < maxInterned {
		e.ipStr[a] = s
	}
	return s
}

// finish ends a flow: drops clear-text-only findings if it was encrypted,
// and emits its alerts in the order they were first found. end (when no
// flow record ends the flow) is the time of its last event.
func (e *Engine) finish(fs *flowState, rec *flow.Record, end time.Time) {
	fs.done = true
	delete(e.flows, fs.flow)
	encrypted := fs.tlsEncrypted
	if rec != nil && rec.Encrypted && rec.EncryptionBasis == "parser" {
		encrypted = true
	}
	for i, p := range fs.pend {
		fs.pend[i] = nil
		if p.clear && encrypted {
			continue
		}
		if rec == nil && end.After(p.last) {
			p.last = end
		}
		e.emit(p)
	}
	fs.pend = fs.pend[:0]
}

// emit passes a pending alert through the rate limit and makes the Alert
// of one that passes.
func (e *Engine) emit(p *pending) {
	ri := &ruleTable[p.rule]
	rk := rateKey{ri.ID, p.asset}
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
		e.stats.RateLimited[ri.ID]++
		return
	}
	rs.n++

	a := &Alert{
		RuleID: ri.ID, Title: ri.Title, Severity: ri.Severity, Category: ri.Category,
		Capability: ri.Capability, Threat: ri.Threat, DataCategory: ri.DataCategory,
		Protocol: p.protocol, Assets: e.assets(p),
		Remediation: Remediation{ZH: ri.RemediationZH, EN: ri.RemediationEN},
		Count:       p.count,
		Suppressed:  rs.suppressed,
	}
	if p.sevRank >= 0 {
		a.Severity = policy.Severities[p.sevRank]
	}
	if s := e.sev[p.rule]; s != "" {
		a.Severity = s
	}
	if p.dataCat != "" {
		a.DataCategory = p.dataCat
	}
	ev0 := &a.Evidence
	// Shared lists: sorted copies.
	ev0.Fields, ev0.Tags, ev0.PHICategories = slices.Clone(p.fields), slices.Clone(p.tags), slices.Clone(p.cats)
	sort.Strings(ev0.Fields)
	sortTags(ev0.Tags)
	sort.Strings(ev0.PHICategories)
	if p.npseud > 0 {
		ev0.Patients = make([]string, p.npseud)
		for i, h := range p.pseud[:p.npseud] {
			ev0.Patients[i] = pseudonymText(h)
		}
	}
	ev0.PatientCount = p.patients.n
	ev0.Messages = p.messages
	ev0.Masked = p.masked
	if len(p.details) > 0 {
		m := make(map[string]any, len(p.details))
		for i := range p.details {
			m[p.details[i].key] = p.details[i].value()
		}
		ev0.Details = m
	}
	a.FirstSeen = formatEventTime(p.first)
	a.LastSeen = a.FirstSeen
	if !p.last.Equal(p.first) {
		a.LastSeen = formatEventTime(p.last)
	}
	a.ID = alertIDOf(ri.ID, p.flow, a.FirstSeen, e.assetText(p.asset), p.sub)

	rs.suppressed = 0
	rs.hasLast, rs.last, rs.lastTS, rs.lastSensor, rs.lastKey = true, *a, p.last, p.sensor, p.evKey
	rs.last.Evidence = Evidence{}
	e.stats.Alerts[ri.ID]++
	e.out = append(e.out, &event.Event{TS: p.last, Flow: p.flow, Sensor: p.sensor, Body: a, Key: p.evKey})
}

// alertIDOf is AlertID for an alert on flow f (nil: none).
func alertIDOf(rule string, f *parser.Flow, firstSeen, asset, sub string) string {
	if f == nil {
		return AlertID(rule, "", 0, firstSeen, asset, sub)
	}
	return AlertID(rule, f.CommunityID, f.VLAN, firstSeen, asset, sub)
}

// assetText is a pending alert's primary asset as text ("" when unset).
func (e *Engine) assetText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return e.ipText(a)
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

// novelStr is novel for a string from an event: the baseline keeps an
// interned copy.
func (e *Engine) novelStr(s set[string], k string, t time.Time) bool {
	if s.has(k) {
		return false
	}
	return novel(e, s, e.in.str(k), t)
}

// novelNested is novel for the per-key address sets, which share one
// budget of maxBaseline entries.
func (e *Engine) novelNested(s set[netip.Addr], k netip.Addr, t time.Time) bool {
	if s.has(k) {
		return false
	}
	if e.nested >= maxBaseline {
		e.stats.BaselineFull++
		return false
	}
	if novel(e, s, k, t) {
		e.nested++
		return true
	}
	if s.has(k) {
		e.nested++ // learned
	}
	return false
}

func ipOf(ap netip.AddrPort) netip.Addr { return ap.Addr().Unmap() }
