package natsink

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/medtap/medtap/detect/inventory"
	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/metrics"
)

// Limits and timings of the publisher.
const (
	// DefaultQueueLen is the in-memory queue between the pipeline and the
	// publishing goroutine; when it is full, events are dropped and
	// counted rather than stalling capture.
	DefaultQueueLen = 65536
	// batchMax is how many messages are published before waiting for
	// their acknowledgements (and how many are read from the spool at once).
	batchMax = 256
	// ackTimeout bounds the wait for one batch's acknowledgements.
	ackTimeout = 5 * time.Second
	// retryInterval is how often a spool waiting for the server is retried.
	retryInterval = 500 * time.Millisecond
	// reconnectWait is the client's pause between reconnection attempts.
	reconnectWait = 250 * time.Millisecond
	// connectTimeout bounds one connection attempt.
	connectTimeout = 2 * time.Second
	// streamTimeout bounds creating or checking the stream.
	streamTimeout = 5 * time.Second
)

// Config configures a Publisher.
type Config struct {
	URL        string // nats://host:port (comma-separated for a cluster)
	Sensor     string // the sensor's name; reduced to a subject token
	SpoolDir   string // the on-disk buffer's directory (one per sensor)
	SpoolBytes int64  // its size limit (DefaultSpoolBytes when 0)
	QueueLen   int    // the in-memory queue (DefaultQueueLen when 0)
}

// Publisher publishes events to JetStream. Write is safe for concurrent
// use and never blocks on the network.
type Publisher struct {
	sensor string
	nc     *nats.Conn
	js     jetstream.JetStream
	sp     *spool // used by the run goroutine only (and Stats under spMu)

	mu      sync.RWMutex // guards closed against Write sending on queue
	closed  bool
	queue   chan *Msg
	scratch []byte // Write's encoding buffer, under encMu
	encMu   sync.Mutex

	stop      chan struct{} // closed when Close's deadline passes
	done      chan struct{} // closed when run returns
	streamOK  bool
	spMu      sync.Mutex
	spLen     atomic.Int64
	spBytes   atomic.Int64
	queued    atomic.Uint64
	qDropped  atomic.Uint64
	tooLarge  atomic.Uint64
	published atomic.Uint64
	dups      atomic.Uint64
	pubErrs   atomic.Uint64
	spooled   atomic.Uint64
	spDropped atomic.Uint64
	spErrs    atomic.Uint64
}

// Open connects to the server (in the background when it is down: the
// spool takes the messages meanwhile), opens the spool and starts
// publishing, beginning with what an earlier run left in the spool.
func Open(cfg Config) (*Publisher, error) {
	if cfg.SpoolDir == "" {
		return nil, errors.New("NATS publisher needs an on-disk buffer directory (--nats-buffer DIR)")
	}
	if cfg.SpoolBytes == 0 {
		cfg.SpoolBytes = DefaultSpoolBytes
	}
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = DefaultQueueLen
	}
	sp, err := openSpool(cfg.SpoolDir, cfg.SpoolBytes)
	if err != nil {
		return nil, fmt.Errorf("--nats-buffer: %w", err)
	}
	sensor := Token(cfg.Sensor)
	nc, err := nats.Connect(cfg.URL,
		nats.Name("medtap sensor "+sensor),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(reconnectWait),
		nats.Timeout(connectTimeout),
		// No client-side buffering while disconnected: the spool does it,
		// on disk and bounded.
		nats.ReconnectBufSize(-1),
		nats.NoCallbacksAfterClientClose(),
	)
	if err != nil {
		sp.close()
		return nil, fmt.Errorf("--nats %s: %w", cfg.URL, err)
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(ackTimeout), jetstream.WithPublishAsyncMaxPending(batchMax))
	if err != nil {
		nc.Close()
		sp.close()
		return nil, fmt.Errorf("--nats %s: %w", cfg.URL, err)
	}
	p := &Publisher{
		sensor: sensor, nc: nc, js: js, sp: sp,
		queue: make(chan *Msg, cfg.QueueLen),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	p.noteSpool()
	go p.run()
	return p, nil
}

// Sensor is the sensor's subject token.
func (p *Publisher) Sensor() string { return p.sensor }

// Write queues evs for publishing; when the queue is full the rest are
// dropped and counted. It implements pipeline.Sink and detect.Sink and
// never fails.
func (p *Publisher) Write(evs []*event.Event) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return nil
	}
	for _, e := range evs {
		if e == nil || e.Body == nil {
			continue
		}
		m, ok := p.message(e)
		if !ok {
			continue
		}
		select {
		case p.queue <- m:
			p.queued.Add(1)
		default:
			p.qDropped.Add(1)
		}
	}
	return nil
}

// message builds the message of one event.
func (p *Publisher) message(e *event.Event) (*Msg, bool) {
	p.encMu.Lock()
	defer p.encMu.Unlock()
	line := e.Line
	if line == nil {
		var err error
		if line, err = e.AppendJSON(p.scratch[:0]); err != nil {
			return nil, false
		}
		p.scratch = line
	}
	typ := e.Body.EventType()
	// Asset change events are events; the asset subject carries the
	// assets' states (SaveAssets).
	kind := KindEvent
	if typ == KindAlert {
		kind = KindAlert
	}
	m := &Msg{Subject: Subject(p.sensor, kind, typ), typ: typ, key: e.Key}
	if m.size()+msgIDMaxLen(p.sensor, typ) > MaxMessageBytes {
		p.tooLarge.Add(1)
		return nil, false
	}
	m.Data = append([]byte(nil), line...)
	return m, true
}

// SaveAssets queues each asset's whole state for medtap.<sensor>.asset,
// where the hub joins every sensor's view of it. With SaveAlerts it makes
// the publisher an inventory.Persister next to the database: the
// inventory calls it with the assets that changed, in batches. It never
// blocks and never fails (drops are counted).
func (p *Publisher) SaveAssets(assets []inventory.Asset) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return nil
	}
	for i := range assets {
		data, err := json.Marshal(&assets[i])
		if err != nil {
			continue
		}
		sum := sha256.Sum256(data)
		m := &Msg{Subject: Subject(p.sensor, KindAsset, ""), ID: p.sensor + ".asset." + assets[i].ID + "." + hex.EncodeToString(sum[:8]), Data: data}
		if m.size() > MaxMessageBytes {
			p.tooLarge.Add(1)
			continue
		}
		select {
		case p.queue <- m:
			p.queued.Add(1)
		default:
			p.qDropped.Add(1)
		}
	}
	return nil
}

// SaveAlerts does nothing: alerts travel as alert events (Write), on
// medtap.<sensor>.alert.
func (p *Publisher) SaveAlerts([]inventory.AlertRecord) error { return nil }

// MsgID is a message's Nats-Msg-Id: the sensor, the event type, the
// event's key and the first 64 bits of the SHA-256 of its line. The same
// input gives the same ids on every run, and two different events never
// share one.
func MsgID(sensor, typ string, k event.Key, line []byte) string {
	sum := sha256.Sum256(line)
	b := make([]byte, 0, len(sensor)+len(typ)+64)
	b = append(b, sensor...)
	b = append(b, '.')
	b = append(b, typ...)
	b = append(b, '.')
	b = strconv.AppendUint(b, k.Packet, 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, k.Flow, 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, uint64(k.Seq), 10)
	b = append(b, '.')
	b = hex.AppendEncode(b, sum[:8])
	return string(b)
}

// msgIDMaxLen bounds the length of MsgID's result.
func msgIDMaxLen(sensor, typ string) int { return len(sensor) + len(typ) + 3*20 + 4 + 16 }

// Stats are the publisher's counters.
func (p *Publisher) Stats() metrics.NATSStats {
	return metrics.NATSStats{
		Queued: p.queued.Load(), QueueDropped: p.qDropped.Load(), TooLarge: p.tooLarge.Load(),
		Published: p.published.Load(), Duplicates: p.dups.Load(), PublishErrors: p.pubErrs.Load(),
		Spooled: p.spooled.Load(), SpoolDropped: p.spDropped.Load(), SpoolErrors: p.spErrs.Load(),
		QueueLen: len(p.queue), SpoolMessages: int(p.spLen.Load()), SpoolBytes: p.spBytes.Load(),
		Connected: p.nc.IsConnected(),
	}
}

// Close stops taking events and publishes what is queued and spooled,
// waiting for the server until ctx ends. What could not be sent stays in
// the spool for the next start: pending is how many messages.
func (p *Publisher) Close(ctx context.Context) (pending int, err error) {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.queue)
	}
	p.mu.Unlock()
	select {
	case <-p.done:
	case <-ctx.Done():
		close(p.stop)
		<-p.done
	}
	if p.nc.IsConnected() {
		_ = p.nc.FlushTimeout(time.Second)
	}
	p.nc.Close()
	pending = p.sp.Len()
	if err := p.sp.close(); err != nil {
		return pending, fmt.Errorf("--nats-buffer: %w", err)
	}
	return pending, nil
}

// run is the publishing goroutine: it alone touches the spool.
func (p *Publisher) run() {
	defer close(p.done)
	tick := time.NewTicker(retryInterval)
	defer tick.Stop()
	batch := make([]*Msg, 0, batchMax)
	for {
		select {
		case m, ok := <-p.queue:
			if !ok {
				p.drain(tick)
				return
			}
			batch = append(batch[:0], m)
		more:
			for len(batch) < batchMax {
				select {
				case m, ok := <-p.queue:
					if !ok {
						break more
					}
					batch = append(batch, m)
				default:
					break more
				}
			}
			for _, m := range batch {
				if m.ID == "" {
					m.ID = MsgID(p.sensor, m.typ, m.key, m.Data)
				}
			}
			p.handle(batch)
			clear(batch)
		case <-tick.C:
			p.replay()
		}
	}
}

// drain publishes what is left once the queue is closed, until the spool
// is empty or Close's deadline passes.
func (p *Publisher) drain(tick *time.Ticker) {
	for p.sp.Len() > 0 {
		if p.replay() {
			return
		}
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
	}
}

// handle publishes a batch from the queue, after the spool so order is
// kept; whatever is not acknowledged goes to the spool.
func (p *Publisher) handle(batch []*Msg) {
	if p.sp.Len() > 0 {
		p.replay()
	}
	if p.sp.Len() == 0 && p.nc.IsConnected() {
		batch = batch[p.publish(batch):]
	}
	if len(batch) > 0 {
		p.spool(batch)
	}
}

// replay publishes the spool, oldest first, while the server takes it. It
// reports whether the spool is empty.
func (p *Publisher) replay() bool {
	ptrs := make([]*Msg, 0, batchMax)
	for p.sp.Len() > 0 && p.nc.IsConnected() {
		msgs, err := p.sp.Peek(batchMax)
		if err != nil || len(msgs) == 0 {
			// A segment that cannot be read cannot be replayed either;
			// count it as lost rather than retrying it forever.
			p.dropUnreadable()
			continue
		}
		ptrs = ptrs[:0]
		for i := range msgs {
			ptrs = append(ptrs, &msgs[i])
		}
		n := p.publish(ptrs)
		p.spMu.Lock()
		p.sp.Commit(n)
		p.spMu.Unlock()
		p.noteSpool()
		if n < len(msgs) {
			return false
		}
	}
	return p.sp.Len() == 0
}

func (p *Publisher) dropUnreadable() {
	if len(p.sp.segs) == 0 {
		return
	}
	old := p.sp.segs[0]
	lost := old.count - old.read
	p.sp.count -= lost
	p.spDropped.Add(uint64(lost))
	p.sp.removeOldest()
	p.noteSpool()
}

// spool appends msgs to the on-disk buffer.
func (p *Publisher) spool(msgs []*Msg) {
	before := p.sp.dropped
	p.spMu.Lock()
	err := p.sp.Append(msgs)
	p.spMu.Unlock()
	if err != nil {
		p.spErrs.Add(uint64(len(msgs)))
	} else {
		p.spooled.Add(uint64(len(msgs)))
	}
	p.spDropped.Add(p.sp.dropped - before)
	p.noteSpool()
}

func (p *Publisher) noteSpool() {
	p.spLen.Store(int64(p.sp.Len()))
	p.spBytes.Store(p.sp.Bytes())
}

// publish sends msgs asynchronously and waits for their acknowledgements.
// It returns how many, from the start, were acknowledged: the caller keeps
// the rest (duplicates of any acknowledged among them are dropped by the
// stream through their ids).
func (p *Publisher) publish(msgs []*Msg) int {
	if len(msgs) == 0 {
		return 0
	}
	if !p.streamOK {
		ctx, cancel := context.WithTimeout(context.Background(), streamTimeout)
		_, err := p.js.CreateOrUpdateStream(ctx, StreamConfig())
		cancel()
		if err != nil {
			p.pubErrs.Add(1)
			return 0
		}
		p.streamOK = true
	}
	futs := make([]jetstream.PubAckFuture, 0, len(msgs))
	for _, m := range msgs {
		nm := nats.NewMsg(m.Subject)
		nm.Data = m.Data
		nm.Header.Set(jetstream.MsgIDHeader, m.ID)
		f, err := p.js.PublishMsgAsync(nm)
		if err != nil {
			break
		}
		futs = append(futs, f)
	}
	ok := 0
	failed := false
	timeout := time.NewTimer(ackTimeout + time.Second)
	defer timeout.Stop()
	for _, f := range futs {
		select {
		case a := <-f.Ok():
			if !failed {
				ok++
				p.published.Add(1)
				if a.Duplicate {
					p.dups.Add(1)
				}
			}
		case <-f.Err():
			failed = true
		case <-timeout.C:
			failed = true
		}
		if failed {
			break
		}
	}
	if ok < len(msgs) {
		p.pubErrs.Add(1)
		p.streamOK = false // check the stream again before the next try
	}
	return ok
}
