// Package pipeline runs medtap's analysis: one dispatcher reads and decodes
// packets and hashes each to the worker that owns its flow; each worker owns
// a flow table and its parsers with no locks on the packet path; a merger
// puts the workers' events back in one deterministic order.
//
// Determinism. Work moves in rounds: every round the dispatcher hands each
// worker one batch (perhaps empty), and the merger takes one result per
// worker per round. Each event carries an event.Key (triggering frame index,
// flow's first frame index, sequence within the flow), which depends only on
// the input, so merging a round's results by key gives the same output for
// any worker count. Idle timeouts run on clock ticks that the dispatcher
// sends to every worker at the same frame index. The one exception is the
// flow cap: each worker holds MaxFlows/N flows, so which flow is evicted
// under pressure depends on N (evictions are counted).
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/medtap/medtap/sensor/capture"
	"github.com/medtap/medtap/sensor/decode"
	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/flow"
)

// Defaults for the pipeline's own sizes.
const (
	DefaultBatchSize = 512 // frames per worker batch
	// batchArena holds copied payloads of streamed (compressed) files and
	// reassembled fragments; it takes the largest datagram whole.
	batchArena = 1 << 20
	// batchesPerWorker bounds the batches in flight per worker: memory and
	// how far the dispatcher runs ahead.
	batchesPerWorker = 4
	// tickInterval is how often (in capture time) workers expire idle flows.
	tickInterval = int64(time.Second)
	// releaseLag is how far behind the read position mapped file pages are
	// handed back; batches in flight stay well within it.
	releaseLag = 8 << 20
)

// Config sets up a pipeline.
type Config struct {
	Workers   int         // 0: one per CPU
	BatchSize int         // 0: DefaultBatchSize
	Flow      flow.Config // limits are for the whole pipeline and split across workers
	Defrag    decode.DefragLimits
}

// Sink receives events in deterministic order from one goroutine.
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
}

// Progress is updated while a run goes on, for a progress display.
type Progress struct {
	FileIndex  atomic.Int64
	FileCount  atomic.Int64
	FileRead   atomic.Int64
	FileSize   atomic.Int64
	Frames     atomic.Uint64
	BytesTotal atomic.Int64 // bytes of finished files
}

type itemKind uint8

const (
	itemFrame   itemKind = iota // a raw frame for the worker to decode
	itemDecoded                 // a packet the dispatcher had to decode (fragments, extension headers)
	itemTick
	itemEnd
)

type item struct {
	kind itemKind
	link uint32
	wire uint32
	pre  int32 // index into batch.decoded for itemDecoded
	idx  uint64
	ts   int64
	data []byte
}

type batch struct {
	items   []item
	decoded []decode.Packet
	arena   []byte
}

type result struct {
	events []*event.Event
}

type worker struct {
	dec     *decode.Decoder
	pkt     decode.Packet
	table   *flow.Table
	in      chan *batch
	free    chan *batch
	out     chan *result
	results chan *result
}

// Pipeline is one configured analysis.
type Pipeline struct {
	cfg      Config
	Progress Progress
}

// New returns a pipeline for cfg.
func New(cfg Config) *Pipeline {
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.NumCPU()
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	return &Pipeline{cfg: cfg}
}

// Workers is the worker count in use.
func (p *Pipeline) Workers() int { return p.cfg.Workers }

// Run analyzes the files in order as one capture. Per-file problems go to
// onError and the run continues with the next file; a sink error stops it.
func (p *Pipeline) Run(ctx context.Context, files []string, sink Sink, onError func(error)) Stats {
	start := time.Now()
	n := p.cfg.Workers
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
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{
			dec:     decode.New(p.cfg.Defrag),
			table:   flow.NewTable(fc),
			in:      make(chan *batch, batchesPerWorker),
			free:    make(chan *batch, batchesPerWorker),
			out:     make(chan *result, batchesPerWorker),
			results: make(chan *result, batchesPerWorker+1),
		}
		for j := 0; j < batchesPerWorker; j++ {
			w.free <- &batch{items: make([]item, 0, p.cfg.BatchSize)}
		}
		for j := 0; j < batchesPerWorker+1; j++ {
			w.results <- &result{}
		}
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run()
		}()
	}

	var st Stats
	st.Workers = n
	mergeDone := make(chan error, 1)
	go func() { mergeDone <- merge(workers, sink) }()

	d := &dispatcher{cfg: &p.cfg, workers: workers, prog: &p.Progress, dec: decode.New(p.cfg.Defrag), stats: &st}
	d.cur = make([]*batch, n)
	for i, w := range workers {
		d.cur[i] = <-w.free
	}
	p.Progress.FileCount.Store(int64(len(files)))
	for i, name := range files {
		if ctx.Err() != nil {
			break
		}
		p.Progress.FileIndex.Store(int64(i))
		st.Files++
		if err := d.file(ctx, name); err != nil {
			st.FilesFailed++
			onError(err)
		}
	}
	d.endOfInput()
	for _, w := range workers {
		close(w.in)
	}
	wg.Wait()
	st.SinkErr = <-mergeDone
	st.Decode = d.dec.Stats
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

func (w *worker) run() {
	defer close(w.out)
	for b := range w.in {
		res := <-w.results
		w.table.Begin(res.events)
		for i := range b.items {
			it := &b.items[i]
			switch it.kind {
			case itemFrame:
				if w.dec.Decode(it.data, it.link, it.ts, it.wire, &w.pkt) == decode.OK {
					w.table.Packet(&w.pkt, it.idx)
				}
			case itemDecoded:
				w.table.Packet(&b.decoded[it.pre], it.idx)
			case itemTick:
				w.table.Tick(it.ts, it.idx)
			case itemEnd:
				w.table.Flush(it.idx)
			}
		}
		res.events = w.table.End()
		b.items = b.items[:0]
		b.decoded = b.decoded[:0]
		b.arena = b.arena[:0]
		w.free <- b
		w.out <- res
	}
}

// merge takes one result per worker per round and writes the round's events
// in key order. After a sink error it keeps draining so workers never block.
func merge(workers []*worker, sink Sink) error {
	var sinkErr error
	var merged []*event.Event
	res := make([]*result, len(workers))
	for {
		for i, w := range workers {
			r, ok := <-w.out
			if !ok {
				return sinkErr
			}
			res[i] = r
		}
		merged = mergeSorted(merged[:0], res)
		if sinkErr == nil && len(merged) > 0 {
			sinkErr = sink.Write(merged)
		}
		clear(merged)
		for i, w := range workers {
			clear(res[i].events)
			res[i].events = res[i].events[:0]
			w.results <- res[i]
		}
	}
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

type dispatcher struct {
	cfg      *Config
	workers  []*worker
	cur      []*batch
	prog     *Progress
	dec      *decode.Decoder
	stats    *Stats
	idx      uint64
	lastTick int64
	pkt      decode.Packet
	full     bool // a batch filled up: flush the round after this packet
}

// file reads one capture file through the pipeline.
func (d *dispatcher) file(ctx context.Context, name string) error {
	r, err := capture.Open(name)
	if err != nil {
		return err
	}
	d.prog.FileSize.Store(r.Size())
	d.prog.FileRead.Store(0)
	stable := r.Stable()
	var ferr error
	for n := 0; ; n++ {
		if n&1023 == 0 {
			if ctx.Err() != nil {
				break
			}
			d.prog.FileRead.Store(r.Read())
			d.prog.Frames.Store(d.idx)
		}
		pk, err := r.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				ferr = err
			}
			break
		}
		d.packet(&pk, stable, r)
	}
	// Packet data of a mapped file lives until Close: let the workers
	// finish with it first.
	d.flushRound()
	d.barrier()
	d.prog.BytesTotal.Add(r.Size())
	d.prog.FileRead.Store(r.Size())
	if cerr := r.Close(); cerr != nil && ferr == nil {
		ferr = fmt.Errorf("%s: close: %w", name, cerr)
	}
	return ferr
}

func (d *dispatcher) packet(pk *capture.Packet, stable bool, r capture.Reader) {
	idx := d.idx
	d.idx++
	st := d.stats
	st.Frames++
	st.CapturedLen += uint64(len(pk.Data))
	if st.FirstTS == 0 || (pk.TS < st.FirstTS && pk.TS != 0) {
		st.FirstTS = pk.TS
	}
	if pk.TS > st.LastTS {
		st.LastTS = pk.TS
	}
	if pk.TS >= d.lastTick+tickInterval {
		if d.lastTick != 0 {
			d.tick(pk.TS, idx)
		}
		d.lastTick = pk.TS - pk.TS%tickInterval
	}
	// Most frames are routed by a hash of their raw headers and decoded
	// by the worker; the rest are decoded here (fragments must meet in
	// one cache before their flow is known).
	if h, ok := decode.FlowHash(pk.Data, pk.Link); ok {
		b := d.batchFor(h, len(pk.Data), stable)
		data := pk.Data
		if !stable {
			data = b.carry(data)
		}
		b.items = append(b.items, item{kind: itemFrame, link: pk.Link, wire: pk.WireLen, idx: idx, ts: pk.TS, data: data})
	} else {
		p := &d.pkt
		if d.dec.Decode(pk.Data, pk.Link, pk.TS, pk.WireLen, p) != decode.OK {
			return
		}
		b := d.batchFor(decode.HashPacket(p), len(p.Payload), stable && !p.Reassembled)
		if !stable || p.Reassembled {
			p.Payload = b.carry(p.Payload)
		}
		b.decoded = append(b.decoded, *p)
		b.items = append(b.items, item{kind: itemDecoded, idx: idx, pre: int32(len(b.decoded) - 1)})
	}
	if d.full {
		d.full = false
		d.flushRound()
		if stable {
			r.Release(r.Offset() - releaseLag)
		}
	}
}

// batchFor returns the batch of the worker that owns hash h, flushing the
// round first when that batch cannot take n more bytes of copied data.
func (d *dispatcher) batchFor(h uint32, n int, stable bool) *batch {
	w := 0
	if len(d.workers) > 1 {
		w = int(h % uint32(len(d.workers)))
	}
	b := d.cur[w]
	if !stable && b.arena != nil && len(b.arena)+n > cap(b.arena) {
		d.flushRound()
		b = d.cur[w]
	}
	if len(b.items)+1 >= cap(b.items) {
		d.full = true
	}
	return b
}

// carry copies bytes whose memory the reader (or the fragment cache) will
// reuse into the batch.
func (b *batch) carry(data []byte) []byte {
	if b.arena == nil {
		b.arena = make([]byte, 0, batchArena)
	}
	start := len(b.arena)
	b.arena = append(b.arena, data...)
	return b.arena[start:len(b.arena):len(b.arena)]
}

// tick tells every worker the capture clock moved on.
func (d *dispatcher) tick(now int64, idx uint64) {
	d.dec.Expire(now)
	for i := range d.cur {
		d.add(i, item{kind: itemTick, idx: idx, ts: now})
	}
}

func (d *dispatcher) endOfInput() {
	for i := range d.cur {
		d.add(i, item{kind: itemEnd, idx: d.idx})
	}
	d.flushRound()
}

func (d *dispatcher) add(w int, it item) {
	if len(d.cur[w].items) == cap(d.cur[w].items) {
		d.flushRound()
	}
	d.cur[w].items = append(d.cur[w].items, it)
}

// flushRound hands every worker its batch, empty or not, and takes fresh
// ones.
func (d *dispatcher) flushRound() {
	for i, w := range d.workers {
		w.in <- d.cur[i]
	}
	for i, w := range d.workers {
		d.cur[i] = <-w.free
	}
}

// barrier waits until every worker has finished every batch sent so far.
func (d *dispatcher) barrier() {
	for i, w := range d.workers {
		held := []*batch{d.cur[i]}
		for len(held) < batchesPerWorker {
			held = append(held, <-w.free)
		}
		for _, b := range held[1:] {
			w.free <- b
		}
	}
}
