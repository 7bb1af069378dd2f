// Package flow is medtap's per-worker flow table: bidirectional flows keyed
// by 5-tuple and VLAN, with Community ID, counters, idle timeouts per
// protocol, a hard cap with least-recently-seen eviction, TCP reassembly with
// bounded buffers and gap reporting, and content probing that hands each
// flow's byte streams to the parser the registry picks.
//
// A Table is owned by one goroutine. The pipeline shards flows across tables
// by a symmetric flow hash, so no locks are taken on the packet path.
package flow

import (
	"bytes"
	"cmp"
	"net/netip"
	"slices"
	"time"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/sensor/decode"
	"github.com/medtap/medtap/sensor/event"
)

// Default limits and timeouts. Each is configurable through Config.
const (
	DefaultMaxFlows             = 1 << 20          // flows across all workers
	DefaultMaxBufferedPerStream = 256 << 10        // out-of-order bytes held per direction
	DefaultMaxBufferedTotal     = 64 << 20         // out-of-order bytes held across all workers
	DefaultMaxSegmentsPerStream = 1024             // out-of-order segments held per direction
	DefaultTCPNewTimeout        = 30 * time.Second // handshake without data
	DefaultTCPTimeout           = 10 * time.Minute // established TCP idle
	DefaultTCPClosedTimeout     = 5 * time.Second  // after FIN/RST, for trailing packets
	DefaultUDPTimeout           = 60 * time.Second
	DefaultOtherTimeout         = 60 * time.Second
	// EntropySample is how many payload bytes of an unidentified flow are
	// used to guess whether it is encrypted.
	EntropySample = 1024
	// maxUDPProbes is how many datagrams a UDP flow is probed with before
	// it is called unknown.
	maxUDPProbes = 3
)

// Config sets a table's limits. Zero values take the defaults.
type Config struct {
	MaxFlows             int // per table
	MaxBufferedPerStream int
	MaxBufferedTotal     int // per table
	MaxSegmentsPerStream int
	TCPNewTimeout        time.Duration
	TCPTimeout           time.Duration
	TCPClosedTimeout     time.Duration
	UDPTimeout           time.Duration
	OtherTimeout         time.Duration
	// Parsers is the registry to probe with, in order of precedence.
	Parsers []parser.Factory
	// Recover turns a parser panic into a counted parser_panic anomaly and
	// drops that flow's parser. Tests and fuzzing leave it off so bugs show.
	Recover bool
	// Sensor names this sensor in events.
	Sensor string
	// OnKeepWhole, when set, is called when a TCP flow's parser is chosen
	// whose factory is KeepWhole (the live sensor exempts the flow from
	// bulk sampling in the kernel). It runs on the worker that owns the
	// flow, so it must be safe for concurrent use across workers.
	OnKeepWhole func(f *parser.Flow)
}

func (c *Config) setDefaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MaxFlows, DefaultMaxFlows)
	def(&c.MaxBufferedPerStream, DefaultMaxBufferedPerStream)
	def(&c.MaxBufferedTotal, DefaultMaxBufferedTotal)
	def(&c.MaxSegmentsPerStream, DefaultMaxSegmentsPerStream)
	defD(&c.TCPNewTimeout, DefaultTCPNewTimeout)
	defD(&c.TCPTimeout, DefaultTCPTimeout)
	defD(&c.TCPClosedTimeout, DefaultTCPClosedTimeout)
	defD(&c.UDPTimeout, DefaultUDPTimeout)
	defD(&c.OtherTimeout, DefaultOtherTimeout)
}

// Key identifies a flow in both directions: endpoint a is the smaller
// (address, port) pair.
type Key struct {
	A, B   [16]byte
	PA, PB uint16
	VLAN   uint16
	Proto  uint8
	V6     bool
}

// KeyOf builds the canonical key of a decoded packet.
func KeyOf(p *decode.Packet) Key {
	k := Key{VLAN: p.VLAN, Proto: p.Proto, V6: p.IPv6}
	c := bytes.Compare(p.Src[:], p.Dst[:])
	if c < 0 || (c == 0 && p.SrcPort <= p.DstPort) {
		k.A, k.B, k.PA, k.PB = p.Src, p.Dst, p.SrcPort, p.DstPort
	} else {
		k.A, k.B, k.PA, k.PB = p.Dst, p.Src, p.DstPort, p.SrcPort
	}
	return k
}

// timeout classes; the flows of one class share one timeout, so each class
// list is ordered by last activity and expiry pops from its tail.
const (
	classTCPNew = iota
	classTCP
	classTCPClosed
	classUDP
	classOther
	numBaseClasses
)

type lru struct {
	head, tail *Flow // head: most recently seen
	timeout    int64
	n          int
}

func (l *lru) pushFront(f *Flow) {
	f.prev = nil
	f.next = l.head
	if l.head != nil {
		l.head.prev = f
	} else {
		l.tail = f
	}
	l.head = f
	l.n++
}

func (l *lru) remove(f *Flow) {
	if f.prev != nil {
		f.prev.next = f.next
	} else {
		l.head = f.next
	}
	if f.next != nil {
		f.next.prev = f.prev
	} else {
		l.tail = f.prev
	}
	f.prev, f.next = nil, nil
	l.n--
}

// Table is one worker's flows.
type Table struct {
	cfg     Config
	flows   map[Key]*Flow
	classes []lru
	// factoryClass maps a factory index to its timeout class, or -1 for
	// the transport's default.
	factoryClass []int
	free         []*Flow
	segs         segPool
	buffered     int // out-of-order bytes held across the table
	// local is what the parsers keep per worker (parser.Local): a table
	// belongs to one worker.
	local parser.Local

	out []*event.Event
	// recent is the flow of the latest packet, nil once it is finished:
	// segments of one transfer often come in a row (7 packets in 10 of
	// the benchmark capture find their flow here, without the map).
	recent *Flow
	// freeEvents are written events back from the merger (Recycle), the
	// latest last, for emit to reuse: at most maxFreeEvents.
	freeEvents []*event.Event
	flushing   []*Flow // end of input: flows still to finish, by first frame
	trigger    uint64  // index of the packet, tick or end being processed
	// clock is the latest capture time seen, in every frame of the input
	// (Observe), not only this table's: it never goes back, even when the
	// input's time does between files, and it is the same in every table
	// at the same frame. Flows are stamped with it, so each timeout list is
	// ordered by it and expiry from the tail is exact and independent of
	// how flows are spread over tables.
	clock int64

	arp arpTable // ARP bindings (arp.go)

	Stats Stats
}

// Stats counts a table's work. Owned by the table's goroutine; the pipeline
// folds tables together at the end.
type Stats struct {
	FlowsCreated   uint64
	FlowsByProto   map[string]uint64 // by app_proto, counted at flow end
	FlowsEnded     [6]uint64         // by parser.CloseReason
	Evicted        uint64            // flows evicted by the flow cap
	Packets, Bytes uint64
	TCP            TCPStats
	ParserPanics   uint64
	Anomalies      map[string]uint64 // by "source/code"
	Events         uint64
	ARPEvents      uint64 // arp events: new or changed bindings
	ARPEvicted     uint64 // bindings forgotten at MaxARPBindings
}

// TCPStats counts reassembly work and the limits it hit.
type TCPStats struct {
	Segments      uint64 // segments with payload
	InOrder       uint64
	OutOfOrder    uint64 // buffered for later
	Retransmitted uint64 // wholly seen before
	Overlaps      uint64 // partly seen before
	Gaps          uint64
	GapBytes      uint64
	StreamLimit   uint64 // per-stream buffer or segment limit hit
	TotalLimit    uint64 // table-wide buffer limit hit
	MidStream     uint64 // directions picked up without a SYN
	BufferedPeak  int    // highest out-of-order bytes held at once
}

// Add folds o into s.
func (s *Stats) Add(o *Stats) {
	s.FlowsCreated += o.FlowsCreated
	for k, v := range o.FlowsByProto {
		if s.FlowsByProto == nil {
			s.FlowsByProto = map[string]uint64{}
		}
		s.FlowsByProto[k] += v
	}
	for i := range s.FlowsEnded {
		s.FlowsEnded[i] += o.FlowsEnded[i]
	}
	s.Evicted += o.Evicted
	s.Packets += o.Packets
	s.Bytes += o.Bytes
	t, u := &s.TCP, &o.TCP
	t.Segments += u.Segments
	t.InOrder += u.InOrder
	t.OutOfOrder += u.OutOfOrder
	t.Retransmitted += u.Retransmitted
	t.Overlaps += u.Overlaps
	t.Gaps += u.Gaps
	t.GapBytes += u.GapBytes
	t.StreamLimit += u.StreamLimit
	t.TotalLimit += u.TotalLimit
	t.MidStream += u.MidStream
	t.BufferedPeak += u.BufferedPeak
	s.ParserPanics += o.ParserPanics
	for k, v := range o.Anomalies {
		if s.Anomalies == nil {
			s.Anomalies = map[string]uint64{}
		}
		s.Anomalies[k] += v
	}
	s.Events += o.Events
	s.ARPEvents += o.ARPEvents
	s.ARPEvicted += o.ARPEvicted
}

// NewTable makes a table.
func NewTable(cfg Config) *Table {
	cfg.setDefaults()
	t := &Table{cfg: cfg, flows: make(map[Key]*Flow, 1024)}
	t.Stats.FlowsByProto = map[string]uint64{}
	t.Stats.Anomalies = map[string]uint64{}
	t.classes = make([]lru, numBaseClasses, numBaseClasses+len(cfg.Parsers))
	t.classes[classTCPNew].timeout = int64(cfg.TCPNewTimeout)
	t.classes[classTCP].timeout = int64(cfg.TCPTimeout)
	t.classes[classTCPClosed].timeout = int64(cfg.TCPClosedTimeout)
	t.classes[classUDP].timeout = int64(cfg.UDPTimeout)
	t.classes[classOther].timeout = int64(cfg.OtherTimeout)
	for _, f := range cfg.Parsers {
		c := -1
		if f.IdleTimeout > 0 {
			c = len(t.classes)
			t.classes = append(t.classes, lru{timeout: int64(f.IdleTimeout)})
		}
		t.factoryClass = append(t.factoryClass, c)
	}
	return t
}

// Begin starts collecting the events of one batch; End hands them over.
func (t *Table) Begin(out []*event.Event) { t.out = out[:0] }

// End returns the events collected since Begin, in emission order.
func (t *Table) End() []*event.Event { o := t.out; t.out = nil; return o }

// maxFreeEvents bounds the written events a table keeps for reuse: about
// the events of a few merge rounds.
const maxFreeEvents = 4096

// Recycle takes back events this table emitted once every sink has
// written them (so after End, from the table's goroutine): their bodies
// that can be reused are released to their parsers (parser.Reusable), and
// the events are kept for the next ones. evs is cleared. Nothing may use
// the events after.
func (t *Table) Recycle(evs []*event.Event) {
	for i, ev := range evs {
		if ev == nil {
			continue
		}
		evs[i] = nil
		if r, ok := ev.Body.(parser.Reusable); ok {
			r.Release()
		}
		*ev = event.Event{}
		if len(t.freeEvents) < maxFreeEvents {
			t.freeEvents = append(t.freeEvents, ev)
		}
	}
}

// newEvent gives a zero event: a recycled one when there is one.
func (t *Table) newEvent() *event.Event {
	if n := len(t.freeEvents); n > 0 {
		ev := t.freeEvents[n-1]
		t.freeEvents[n-1] = nil
		t.freeEvents = t.freeEvents[:n-1]
		return ev
	}
	return new(event.Event)
}

// Len is the number of flows in the table.
func (t *Table) Len() int { return len(t.flows) }

// Buffered is the out-of-order bytes held now.
func (t *Table) Buffered() int { return t.buffered }

// Packet processes one decoded packet; idx is its global index, which
// orders events.
func (t *Table) Packet(p *decode.Packet, idx uint64) {
	t.trigger = idx
	t.Observe(p.TS)
	t.Stats.Packets++
	t.Stats.Bytes += uint64(p.WireLen)
	k := KeyOf(p)
	f := t.recent
	if f == nil || f.key != k {
		f = t.flows[k]
	}
	if f != nil && p.Proto == 6 && p.TCP.Flags&(decode.FlagSYN|decode.FlagACK) == decode.FlagSYN && f.isNewConnection(p) {
		t.finish(f, f.closeReasonOr(parser.CloseTimeout))
		f = nil
	}
	if f == nil {
		f = t.newFlow(k, p, idx)
	}
	t.recent = f
	dir := f.dirOf(p)
	f.last = max(f.last, p.TS)
	f.seen = t.clock
	f.pkts[dir]++
	f.bytes[dir] += uint64(p.WireLen)
	t.touch(f)
	switch p.Proto {
	case 6:
		f.tcpPacket(dir, p)
	case 17:
		f.udpPacket(dir, p)
	default:
		f.payload[dir] += uint64(len(p.Payload))
	}
}

// Observe advances the table's clock to a frame's capture time. The
// pipeline calls it for every frame of the input, including frames other
// tables own.
func (t *Table) Observe(ts int64) {
	if ts > t.clock {
		t.clock = ts
	}
}

// Tick expires flows idle for longer than their timeout at the table's
// clock; idx orders the events this produces.
func (t *Table) Tick(idx uint64) {
	t.trigger = idx
	for c := range t.classes {
		l := &t.classes[c]
		for f := l.tail; f != nil && t.clock-f.seen > l.timeout; f = l.tail {
			t.finish(f, f.closeReasonOr(parser.CloseTimeout))
		}
	}
}

// Flush ends every flow (end of input); idx orders the events.
func (t *Table) Flush(idx uint64) {
	t.FlushBelow(^uint64(0), idx)
}

// FlushBelow ends, at the end of input, the flows whose first frame index is
// below hi, in first-frame order (not map order, so events are
// deterministic); idx orders the events. Called with rising hi, it lets the
// pipeline hand the end-of-input events over in several rounds instead of
// one that holds every open flow's events at once.
func (t *Table) FlushBelow(hi, idx uint64) {
	t.trigger = idx
	if t.flushing == nil {
		t.flushing = make([]*Flow, 0, len(t.flows))
		for _, f := range t.flows {
			t.flushing = append(t.flushing, f)
		}
		slices.SortFunc(t.flushing, func(a, b *Flow) int { return cmp.Compare(a.id, b.id) })
	}
	for len(t.flushing) > 0 && t.flushing[0].id < hi {
		f := t.flushing[0]
		t.flushing = t.flushing[1:]
		t.finish(f, f.closeReasonOr(parser.CloseEndOfInput))
	}
}

func (t *Table) touch(f *Flow) {
	l := &t.classes[f.class]
	if l.head != f {
		l.remove(f)
		l.pushFront(f)
	}
}

func (t *Table) setClass(f *Flow, c int) {
	if f.class == c {
		return
	}
	t.classes[f.class].remove(f)
	f.class = c
	t.classes[c].pushFront(f)
}

func (t *Table) newFlow(k Key, p *decode.Packet, idx uint64) *Flow {
	if len(t.flows) >= t.cfg.MaxFlows {
		t.evictOldest()
	}
	var f *Flow
	if n := len(t.free); n > 0 {
		f = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		f = &Flow{}
	}
	f.t = t
	f.key = k
	f.id = idx
	f.first, f.last, f.seen = p.TS, p.TS, t.clock
	clientIsSrc := guessClient(p, t.cfg.Parsers)
	info := &parser.Flow{Proto: p.Proto, VLAN: p.VLAN}
	src := addrPort(p.Src, p.IPv6, p.SrcPort)
	dst := addrPort(p.Dst, p.IPv6, p.DstPort)
	if clientIsSrc {
		info.Client, info.Server = src, dst
		info.ClientMAC, info.ServerMAC = p.SrcMAC, p.DstMAC
		f.clientAddr, f.clientPort = p.Src, p.SrcPort
	} else {
		info.Client, info.Server = dst, src
		info.ClientMAC, info.ServerMAC = p.DstMAC, p.SrcMAC
		f.clientAddr, f.clientPort = p.Dst, p.DstPort
	}
	alen := 4
	if p.IPv6 {
		alen = 16
	}
	info.CommunityID = CommunityID(p.Src[:alen], p.Dst[:alen], p.SrcPort, p.DstPort, p.Proto)
	f.info = info
	switch p.Proto {
	case 6:
		f.class = classTCPNew
	case 17:
		f.class = classUDP
	default:
		f.class = classOther
	}
	t.classes[f.class].pushFront(f)
	t.flows[k] = f
	t.Stats.FlowsCreated++
	return f
}

func addrPort(a [16]byte, v6 bool, port uint16) netip.AddrPort {
	if v6 {
		return netip.AddrPortFrom(netip.AddrFrom16(a), port)
	}
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte(a[:4])), port)
}

// guessClient decides whether the packet's source is the flow's client.
// A SYN says so; a SYN-ACK says the opposite. Otherwise the side on a hinted
// or lower port is the server, as clients pick high ephemeral ports.
func guessClient(p *decode.Packet, factories []parser.Factory) bool {
	if p.Proto == 6 {
		switch p.TCP.Flags & (decode.FlagSYN | decode.FlagACK) {
		case decode.FlagSYN:
			return true
		case decode.FlagSYN | decode.FlagACK:
			return false
		}
	}
	sh, dh := hinted(p.SrcPort, factories), hinted(p.DstPort, factories)
	if sh != dh {
		return dh
	}
	if p.SrcPort != p.DstPort {
		return p.DstPort < p.SrcPort
	}
	return true
}

func hinted(port uint16, factories []parser.Factory) bool {
	for i := range factories {
		for _, p := range factories[i].Ports {
			if p == port {
				return true
			}
		}
	}
	return false
}

func (t *Table) evictOldest() {
	var oldest *Flow
	for c := range t.classes {
		if f := t.classes[c].tail; f != nil && (oldest == nil || f.seen < oldest.seen || (f.seen == oldest.seen && f.id < oldest.id)) {
			oldest = f
		}
	}
	if oldest != nil {
		t.Stats.Evicted++
		t.finish(oldest, parser.CloseEvicted)
	}
}

// finish ends a flow: flushes reassembly, closes its parser, emits the flow
// record and recycles the flow.
func (t *Table) finish(f *Flow, reason parser.CloseReason) {
	ts := time.Unix(0, f.last)
	if reason != parser.CloseFIN && reason != parser.CloseRST {
		f.tcp[0].flushAll(f, parser.ToServer, ts)
		f.tcp[1].flushAll(f, parser.ToClient, ts)
	}
	f.app.close(f, reason, ts)
	t.Stats.FlowsEnded[reason]++
	name := f.appName()
	t.Stats.FlowsByProto[name]++
	t.emit(f, time.Unix(0, f.first), f.record(reason, name))
	t.classes[f.class].remove(f)
	delete(t.flows, f.key)
	if t.recent == f {
		t.recent = nil
	}
	f.release()
	*f = Flow{}
	t.free = append(t.free, f)
}

func (t *Table) emit(f *Flow, ts time.Time, b parser.Body) {
	t.Stats.Events++
	if a, ok := b.(*parser.Anomaly); ok {
		t.Stats.Anomalies[a.Source+"/"+a.Code]++
	}
	ev := t.newEvent()
	ev.TS, ev.Flow, ev.Sensor, ev.Body, ev.Key = ts, f.info, t.cfg.Sensor, b, event.Key{Packet: t.trigger, Flow: f.id, Seq: f.seq}
	f.seq++
	t.out = append(t.out, ev)
}
