package pipeline

import (
	"context"
	"sync"
	"time"

	"github.com/medtap/medtap/sensor/capture"
	"github.com/medtap/medtap/sensor/decode"
)

// Live mode. The kernel has already sharded the traffic (AF_PACKET fanout
// by a symmetric flow hash), so each worker owns every frame its source
// gives it and sees no other. Workers cannot count rounds in frames, since
// they see different frames: a round ends on a wall-clock boundary shared
// by all workers (LiveRound), and a worker that fell behind catches up
// with empty rounds, so the merger still takes one result per worker per
// round. Frames are numbered by their capture time (kept strictly rising
// per worker), so merging by event key puts the workers' events in time
// order. Flow timeouts run on one-second ticks of the wall clock, which is
// also the clock of the frames' timestamps.

const (
	// LiveRound is how often live workers hand their events to the merger:
	// the latency between a frame and its events reaching the sinks. It
	// also sizes what a round holds (events, their JSON lines) times the
	// rounds in flight: at 100 ms, a worker busy with HL7 held ~8 MB of
	// lines per round, the heap of `medtap run` reached ~90 MB and its
	// first touches cost 65k page faults in the 5 s benchmark; at 20 ms,
	// ~45 MB and 35k.
	LiveRound = 20 * time.Millisecond
	// liveWait bounds how long a worker waits for frames before it looks
	// at its clock (rounds, ticks, cancellation): no longer than a round.
	liveWait = LiveRound
)

// LiveSource is one worker's share of a live capture.
type LiveSource interface {
	// Read hands ready frames to fn (valid only during the call) and
	// returns how many; with none ready it waits up to wait first.
	Read(fn func(*capture.Packet), wait time.Duration) (int, error)
	// Tick is called about every LiveRound between reads, e.g. to read
	// kernel counters.
	Tick(now time.Time)
}

// RunLive analyzes live traffic, one worker per source, until ctx is
// cancelled; then every flow is ended and its events written. A source
// error ends that worker (reported through onError) and the others go on.
func (p *Pipeline) RunLive(ctx context.Context, srcs []LiveSource, sink Sink, onError func(error)) Stats {
	start := time.Now()
	n := len(srcs)
	p.cfg.Workers = n
	p.live = true
	workers := p.newWorkers(n)
	p.running.Store(&workers)
	mergeDone := make(chan error, 1)
	go func() { mergeDone <- merge(workers, sink) }()
	var wg sync.WaitGroup
	var errMu sync.Mutex
	for i, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.runLive(ctx, srcs[i], start); err != nil {
				errMu.Lock()
				onError(err)
				errMu.Unlock()
			}
		}()
	}
	wg.Wait()
	var st Stats
	st.Workers = n
	st.SinkErr = <-mergeDone
	for _, w := range workers {
		st.Frames += w.frames
		st.CapturedLen += w.captured
		if w.firstTS != 0 && (st.FirstTS == 0 || w.firstTS < st.FirstTS) {
			st.FirstTS = w.firstTS
		}
		st.LastTS = max(st.LastTS, w.lastTS)
		st.Decode.Add(&w.dec.Stats)
		st.Flow.Add(&w.table.Stats)
		st.PeakBuffered = max(st.PeakBuffered, w.table.Stats.TCP.BufferedPeak)
	}
	st.Elapsed = time.Since(start)
	return st
}

// runLive is a live worker's loop.
func (w *worker) runLive(ctx context.Context, src LiveSource, start time.Time) (err error) {
	defer close(w.out)
	w.res = <-w.results
	w.table.Begin(w.res.events)
	fn := w.liveFrame
	nextRound := start.Add(LiveRound)
	nextTick := start.Add(time.Second)
	defer func() {
		// Shutdown: end every flow, in one last round.
		w.table.Flush(w.nextIdx(time.Now().UnixNano()))
		w.emit()
	}()
	for ctx.Err() == nil {
		if _, err := src.Read(fn, liveWait); err != nil {
			return err
		}
		now := time.Now()
		if !now.Before(nextTick) {
			ns := now.UnixNano()
			w.table.Observe(ns)
			w.dec.Expire(ns)
			w.table.Tick(w.nextIdx(ns))
			nextTick = nextTick.Add(time.Second)
			if now.After(nextTick) {
				nextTick = now.Add(time.Second)
			}
		}
		if !now.Before(nextRound) {
			src.Tick(now)
			for !now.Before(nextRound) {
				w.emit()
				nextRound = nextRound.Add(LiveRound)
			}
		}
	}
	return nil
}

// nextIdx numbers a frame or tick by its time, strictly rising.
func (w *worker) nextIdx(ts int64) uint64 {
	idx := max(w.idx+1, uint64(max(ts, 0)))
	w.idx = idx
	return idx
}

// liveFrame processes one frame this worker owns.
func (w *worker) liveFrame(pk *capture.Packet) {
	idx := w.nextIdx(pk.TS)
	w.frames++
	w.captured += uint64(len(pk.Data))
	if w.firstTS == 0 {
		w.firstTS = pk.TS
	}
	w.lastTS = max(w.lastTS, pk.TS)
	switch w.dec.Decode(pk.Data, pk.Link, pk.TS, pk.WireLen, &w.pkt) {
	case decode.OK:
		w.table.Packet(&w.pkt, idx)
	case decode.ARP:
		// The kernel's flow hash of an ARP frame has no addresses or
		// ports in it, so every ARP frame reaches the same socket and one
		// table keeps the bindings, as offline.
		w.table.ARP(&w.pkt, idx)
	}
}
