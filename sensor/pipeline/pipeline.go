// Package pipeline runs medtap's analysis over capture files: N workers
// each own a share of the flows (by a symmetric flow hash), with their own
// decoder, flow table and parsers and no locks on the packet path; a merger
// puts their events back in one deterministic order.
//
// Every worker walks the whole capture, read once into a ring of chunks
// they share (capture.OpenShared), and keeps the frames whose flow hash it
// owns. The hash comes from the raw headers (decode.FlowHash), so a frame
// that belongs to another worker costs only a header walk, and nothing is
// handed from core to core per packet. Frames the hash cannot place without
// decoding (fragments, IPv6 extension headers, non-IP) are decoded by every
// worker, and kept by the one that owns the result.
//
// Determinism. Frames are numbered in file order. Each worker hands the
// merger one batch of events per round of RoundFrames frames, and every
// event carries an event.Key (triggering frame index, flow's first frame
// index, sequence within the flow) that depends only on the input, so
// merging each round by key gives the same output for any worker count. Idle
// timeouts run on one-second clock ticks taken from the frames every worker
// sees. The one exception is the flow cap: each worker holds MaxFlows/N
// flows, so which flow is evicted under pressure depends on N (evictions
// are counted).
package pipeline

import (
	"context"
	"errors"
	"io"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/medtap/medtap/sensor/capture"
	"github.com/medtap/medtap/sensor/decode"
	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/flow"
)

// Sizes of the pipeline's own machinery.
const (
	// DefaultRoundFrames is how many frames make one round of the merge.
	DefaultRoundFrames = 1024
	// roundsInFlight bounds how far a worker runs ahead of the merger, and
	// so how far workers drift apart in the file.
	roundsInFlight = 4
	// tickInterval is how often (in capture time) idle flows are expired.
	tickInterval = int64(time.Second)
	// cancelCheck is how many frames pass between checks for cancellation.
	cancelCheck = 4096
	// flushRange is the span of first-frame indices whose flows are ended
	// in one round at the end of input.
	flushRange = 1 << 15
)

// Config sets up a pipeline.
type Config struct {
	Workers     int         // 0: one per CPU
	RoundFrames int         // 0: DefaultRoundFrames
	Flow        flow.Config // limits are for the whole pipeline and split across workers
	Defrag      decode.DefragLimits
}

// Sink receives events in deterministic order from one goroutine. It keeps
// nothing of them past Write, neither the events nor any string or slice of
// their bodies: once Write returns, the worker that made them reuses their
// memory (flow.Table.Recycle, parser.Reusable).
type Sink interface {
	Write(evs []*event.Event) error
}

// Stats sums up a run.
type Stats struct {
	Files        int
	FilesFailed  int
	Frames       uint64
	CapturedLen  uint64 // bytes of frame data read
	FirstTS      int64
	LastTS       int64
	Decode       decode.Stats
	Flow         flow.Stats
	Workers      int
	Elapsed      time.Duration
	SinkErr      error
	PeakBuffered int // highest out-of-order bytes held by any worker
	ActiveFlows  int // flows in the tables now (at the end of a run: 0)
	Buffered     int // out-of-order bytes held now
}

// Progress is updated while a run goes on, for a progress display.
type Progress struct {
	FileIndex atomic.Int64
	FileCount atomic.Int64
	FileRead  atomic.Int64
	FileSize  atomic.Int64
	Frames    atomic.Uint64
}

// Pipeline is one configured analysis.
type Pipeline struct {
	cfg      Config
	Progress Progress

	running     atomic.Pointer[[]*worker] // for Snapshot during Run
	live        bool                      // RunLive: each worker sees only its own frames
	files       atomic.Int64
	filesFailed atomic.Int64
}

// snapshot is a copy of one worker's counters, published once per round so
// that Snapshot can read them from another goroutine.
type snapshot struct {
	dec, shared      decode.Stats
	flow             flow.Stats
	frames, captured uint64
	firstTS, lastTS  int64
	active, buffered int
}

// Snapshot sums the counters the workers published at their latest round:
// safe from any goroutine while Run goes on (for metrics), and monotone
// between calls. After Run it equals Run's result but for Elapsed.
func (p *Pipeline) Snapshot() Stats {
	var st Stats
	st.Files, st.FilesFailed = int(p.files.Load()), int(p.filesFailed.Load())
	ws := p.running.Load()
	if ws == nil {
		return st
	}
	st.Workers = len(*ws)
	for i, w := range *ws {
		s := w.snap.Load()
		if s == nil {
			continue
		}
		if i == 0 && !p.live {
			st.Frames, st.CapturedLen, st.FirstTS, st.LastTS = s.frames, s.captured, s.firstTS, s.lastTS
			st.Decode.Add(&s.shared)
		} else if p.live {
			st.Frames += s.frames
			st.CapturedLen += s.captured
			if s.firstTS != 0 && (st.FirstTS == 0 || s.firstTS < st.FirstTS) {
				st.FirstTS = s.firstTS
			}
			st.LastTS = max(st.LastTS, s.lastTS)
		}
		st.Decode.Add(&s.dec)
		st.Flow.Add(&s.flow)
		st.ActiveFlows += s.active
		st.Buffered += s.buffered
		st.PeakBuffered = max(st.PeakBuffered, s.flow.TCP.BufferedPeak)
	}
	return st
}

// New returns a pipeline for cfg.
func New(cfg Config) *Pipeline {
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.NumCPU()
	}
	if cfg.RoundFrames <= 0 {
		cfg.RoundFrames = DefaultRoundFrames
	}
	return &Pipeline{cfg: cfg}
}

// Workers is the worker count in use.
func (p *Pipeline) Workers() int { return p.cfg.Workers }

type result struct {
	events []*event.Event
	json   []byte // the events' JSON lines, back to back (Event.Line)
}

type worker struct {
	id, n   int
	dec     *decode.Decoder // frames this worker owns by their raw hash
	shared  *decode.Decoder // frames every worker decodes; worker 0's stats count
	pkt     decode.Packet
	table   *flow.Table
	files   chan capture.Reader
	done    chan error
	out     chan *result
	results chan *result
	res     *result
	prog    *Progress
	round   uint64
	snap    atomic.Pointer[snapshot]

	idx      uint64 // global index of the next frame
	roundEnd uint64
	lastTick int64

	// Worker 0 counts the frames themselves.
	frames, captured uint64
	firstTS, lastTS  int64
}

// newWorkers makes n workers with the pipeline's limits split between them
// and their result buffers ready; the caller adds what its input needs.
func (p *Pipeline) newWorkers(n int) []*worker {
	fc := p.cfg.Flow
	if fc.MaxFlows <= 0 {
		fc.MaxFlows = flow.DefaultMaxFlows
	}
	if fc.MaxBufferedTotal <= 0 {
		fc.MaxBufferedTotal = flow.DefaultMaxBufferedTotal
	}
	fc.MaxFlows = max(1, fc.MaxFlows/n)
	fc.MaxBufferedTotal = max(1, fc.MaxBufferedTotal/n)
	workers := make([]*worker, n)
	for i := range workers {
		w := &worker{
			id: i, n: n,
			dec:     decode.New(p.cfg.Defrag),
			shared:  decode.New(p.cfg.Defrag),
			table:   flow.NewTable(fc),
			out:     make(chan *result, roundsInFlight),
			results: make(chan *result, roundsInFlight+2),
			prog:    &p.Progress,
		}
		for j := 0; j < roundsInFlight+2; j++ {
			w.results <- &result{}
		}
		workers[i] = w
	}
	return workers
}

// Run analyzes the files in order as one capture. Per-file problems go to
// onError and the run continues with the next file; a sink error stops the
// output but not the run.
func (p *Pipeline) Run(ctx context.Context, files []string, sink Sink, onError func(error)) Stats {
	start := time.Now()
	n := p.cfg.Workers
	workers := p.newWorkers(n)
	var wg sync.WaitGroup
	for _, w := range workers {
		w.files = make(chan capture.Reader)
		w.done = make(chan error)
		w.round = uint64(p.cfg.RoundFrames)
		w.roundEnd = uint64(p.cfg.RoundFrames)
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(ctx)
		}()
	}
	p.running.Store(&workers)
	p.files.Store(0)
	p.filesFailed.Store(0)
	mergeDone := make(chan error, 1)
	go func() { mergeDone <- merge(workers, sink) }()

	var st Stats
	st.Workers = n
	p.Progress.FileCount.Store(int64(len(files)))
	for i, name := range files {
		if ctx.Err() != nil {
			break
		}
		p.Progress.FileIndex.Store(int64(i))
		st.Files++
		p.files.Add(1)
		rs, err := capture.OpenShared(name, n)
		if err != nil {
			st.FilesFailed++
			p.filesFailed.Add(1)
			onError(err)
			continue
		}
		p.Progress.FileSize.Store(rs[0].Size())
		p.Progress.FileRead.Store(0)
		for j, w := range workers {
			w.files <- rs[j]
		}
		// Every worker reads the same frames, so they meet the same error;
		// worker 0's is reported.
		var ferr error
		for j, w := range workers {
			if err := <-w.done; j == 0 {
				ferr = err
			}
		}
		if ferr != nil {
			st.FilesFailed++
			p.filesFailed.Add(1)
			onError(ferr)
		}
	}
	for _, w := range workers {
		close(w.files)
	}
	wg.Wait()
	st.SinkErr = <-mergeDone

	w0 := workers[0]
	st.Frames, st.CapturedLen, st.FirstTS, st.LastTS = w0.frames, w0.captured, w0.firstTS, w0.lastTS
	st.Decode.Add(&w0.shared.Stats)
	for _, w := range workers {
		st.Decode.Add(&w.dec.Stats)
		st.Flow.Add(&w.table.Stats)
		if b := w.table.Stats.TCP.BufferedPeak; b > st.PeakBuffered {
			st.PeakBuffered = b
		}
	}
	st.Elapsed = time.Since(start)
	return st
}

func (w *worker) run(ctx context.Context) {
	defer close(w.out)
	w.res = <-w.results
	w.table.Begin(w.res.events)
	for r := range w.files {
		err := w.scan(ctx, r)
		if cerr := r.Close(); cerr != nil && err == nil {
			err = cerr
		}
		w.done <- err
	}
	// End of input: every worker flushes the same ranges of flow ids, one
	// round each, so rounds stay aligned and the output sorted.
	for hi := uint64(flushRange); ; hi += flushRange {
		w.table.FlushBelow(hi, w.idx)
		w.emit()
		if hi >= w.idx {
			break
		}
	}
}

// scan reads one file, keeping this worker's frames.
func (w *worker) scan(ctx context.Context, r capture.Reader) error {
	for n := 0; ; n++ {
		if n%cancelCheck == 0 {
			if ctx.Err() != nil {
				return nil
			}
			if w.id == 0 {
				w.prog.FileRead.Store(r.Read())
				w.prog.Frames.Store(w.idx)
			}
		}
		pk, err := r.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				if w.id == 0 {
					w.prog.FileRead.Store(r.Size())
				}
				return nil
			}
			return err
		}
		w.frame(&pk)
		if w.idx >= w.roundEnd {
			w.emit()
			w.roundEnd += w.round
		}
	}
}

func (w *worker) frame(pk *capture.Packet) {
	idx := w.idx
	w.idx++
	if w.id == 0 {
		w.frames++
		w.captured += uint64(len(pk.Data))
		if w.firstTS == 0 || (pk.TS < w.firstTS && pk.TS != 0) {
			w.firstTS = pk.TS
		}
		w.lastTS = max(w.lastTS, pk.TS)
	}
	// Every worker sees every frame, so their clocks (the latest time
	// seen) and ticks agree.
	w.table.Observe(pk.TS)
	if pk.TS >= w.lastTick+tickInterval {
		if w.lastTick != 0 {
			w.shared.Expire(pk.TS)
			w.table.Tick(idx)
		}
		w.lastTick = pk.TS - pk.TS%tickInterval
	}
	if w.n == 1 {
		// One worker owns every flow: no hash needed.
		switch w.dec.Decode(pk.Data, pk.Link, pk.TS, pk.WireLen, &w.pkt) {
		case decode.OK:
			w.table.Packet(&w.pkt, idx)
		case decode.ARP:
			w.table.ARP(&w.pkt, idx)
		}
		return
	}
	if h, ok := decode.FlowHash(pk.Data, pk.Link); ok {
		if int(h%uint32(w.n)) == w.id && w.dec.Decode(pk.Data, pk.Link, pk.TS, pk.WireLen, &w.pkt) == decode.OK {
			w.table.Packet(&w.pkt, idx)
		}
		return
	}
	switch w.shared.Decode(pk.Data, pk.Link, pk.TS, pk.WireLen, &w.pkt) {
	case decode.OK:
		if int(decode.HashPacket(&w.pkt)%uint32(w.n)) == w.id {
			w.table.Packet(&w.pkt, idx)
		}
	case decode.ARP:
		if w.id == 0 { // one table keeps the bindings
			w.table.ARP(&w.pkt, idx)
		}
	}
}

// publish copies the worker's counters for Snapshot.
func (w *worker) publish() {
	s := &snapshot{dec: w.dec.Stats, shared: w.shared.Stats, frames: w.frames, captured: w.captured,
		firstTS: w.firstTS, lastTS: w.lastTS, active: w.table.Len(), buffered: w.table.Buffered()}
	s.flow.Add(&w.table.Stats)
	w.snap.Store(s)
}

// emit encodes the round's events and hands them to the merger.
func (w *worker) emit() {
	w.publish()
	w.res.events = w.table.End()
	// The merge needs each list in key order; expiry at a tick emits in
	// least-recently-seen order, which may differ.
	if !slices.IsSortedFunc(w.res.events, cmpKey) {
		slices.SortStableFunc(w.res.events, cmpKey)
	}
	if w.n > 1 {
		// With one worker the merger encodes instead (merge): the worker
		// is then the run's critical path, and the merger's core has room.
		w.res.json = encodeLines(w.res.events, w.res.json[:0])
	}
	w.out <- w.res
	w.res = <-w.results
	// The merger is done with that round's events: they and their
	// bodies are reused.
	w.table.Recycle(w.res.events)
	w.table.Begin(w.res.events)
}

// encodeLines sets each event's Line to its JSON encoding, the lines back
// to back in buf, and returns buf.
func encodeLines(evs []*event.Event, buf []byte) []byte {
	for _, e := range evs {
		start := len(buf)
		var err error
		if buf, err = e.AppendJSON(buf); err != nil {
			buf = buf[:start] // the sink encodes it again and reports the error
			continue
		}
		e.Line = buf[start:len(buf):len(buf)]
	}
	// A later append may have moved the buffer: point the lines at the
	// final one.
	off := 0
	for _, e := range evs {
		if e.Line != nil {
			n := len(e.Line)
			e.Line = buf[off : off+n : off+n]
			off += n
		}
	}
	return buf
}

// merge takes one result per worker per round and writes the round's events
// in key order. Workers stopped by cancellation may end at different rounds;
// the rest of the others' events are still written. After a sink error it
// keeps draining so no worker blocks.
func merge(workers []*worker, sink Sink) error {
	var sinkErr error
	var merged []*event.Event
	res := make([]*result, 0, len(workers))
	from := make([]*worker, 0, len(workers))
	for {
		res, from = res[:0], from[:0]
		for _, w := range workers {
			if r, ok := <-w.out; ok {
				res = append(res, r)
				from = append(from, w)
			}
		}
		if len(res) == 0 {
			return sinkErr
		}
		merged = mergeSorted(merged[:0], res)
		if len(workers) == 1 {
			res[0].json = encodeLines(merged, res[0].json[:0])
		}
		if sinkErr == nil && len(merged) > 0 {
			sinkErr = sink.Write(merged)
		}
		clear(merged)
		for i, r := range res {
			from[i].results <- r // its worker recycles the events
		}
	}
}

func cmpKey(a, b *event.Event) int {
	switch {
	case a.Key.Less(b.Key):
		return -1
	case b.Key.Less(a.Key):
		return 1
	}
	return 0
}

// mergeSorted merges the per-worker event lists, each sorted by key.
func mergeSorted(dst []*event.Event, res []*result) []*event.Event {
	if len(res) == 1 {
		return append(dst, res[0].events...)
	}
	var pos [64]int
	var heads []int
	if len(res) > len(pos) {
		heads = make([]int, len(res))
	} else {
		heads = pos[:len(res)]
	}
	for {
		best := -1
		for i, r := range res {
			if heads[i] < len(r.events) && (best < 0 || r.events[heads[i]].Key.Less(res[best].events[heads[best]].Key)) {
				best = i
			}
		}
		if best < 0 {
			return dst
		}
		dst = append(dst, res[best].events[heads[best]])
		heads[best]++
	}
}
