package output

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/medtap/medtap/sensor/event"
)

// Sink names: the closed set of the sink label of the output metrics. A
// sink is named by what it writes to, once, everywhere (config, metrics,
// docs).
const (
	SinkFile   = "file"   // a JSON-lines file with rotation
	SinkStdout = "stdout" // JSON lines on standard output
	SinkSyslog = "syslog" // RFC 5424 syslog (JSON or CEF)
	SinkNATS   = "nats"   // NATS JetStream
)

// SinkNames lists every sink name.
var SinkNames = []string{SinkFile, SinkStdout, SinkSyslog, SinkNATS}

// Limits of a queue.
const (
	// DefaultQueueEvents is the number of records a queue holds by default:
	// about a minute of a busy hospital sensor's alerts and flow records.
	DefaultQueueEvents = 16384
	// MaxQueueBytes bounds the bytes a queue holds whatever its length.
	MaxQueueBytes = 32 << 20
	// MaxRecordBytes bounds one encoded record; a larger one is dropped and
	// counted (an event that big is a bug, not traffic).
	MaxRecordBytes = 256 << 10
	// keepBuffer is the largest record buffer kept for reuse; larger ones
	// are left to the garbage collector so one big record does not pin
	// memory for good.
	keepBuffer = 16 << 10
)

// Encoder turns an event into one record for a sink, appending to dst. It
// returns false to skip the event (a sink that takes alerts only, say).
// It runs on the caller's goroutine, while the event is valid.
type Encoder func(dst []byte, e *event.Event) ([]byte, bool)

// RecordWriter is a sink's slow side: a file, a socket. It is used by
// one goroutine at a time.
type RecordWriter interface {
	// WriteRecord writes one record; rec is valid only during the call. An
	// error means the record is lost (the writer retries what it can
	// itself) and is counted.
	WriteRecord(ctx context.Context, rec []byte) error
	// Flush pushes buffered records out; the queue calls it whenever it
	// runs empty.
	Flush() error
	// Close releases the writer.
	Close() error
}

// JSONLine encodes every event as its JSON line (no newline).
func JSONLine(dst []byte, e *event.Event) ([]byte, bool) {
	if e.Line != nil {
		return append(dst, e.Line...), true
	}
	b, err := e.AppendJSON(dst)
	if err != nil {
		return dst, false
	}
	return b, true
}

// QueueStats are a queue's counters.
type QueueStats struct {
	Sink     string // one of SinkNames
	Capacity int    // records the queue can hold
	Queued   int    // records waiting now
	Written  uint64 // records written
	Dropped  uint64 // records dropped because the queue was full (or closed)
	TooLarge uint64 // records dropped for exceeding MaxRecordBytes
	Failed   uint64 // records the writer failed to write
}

// Queue puts a sink behind a bounded queue: Write encodes the events and
// hands them to a goroutine that writes them, and never waits. When the
// queue is full, records are dropped and counted, so a slow or dead
// syslog server or disk never stalls capture.
//
// Write is safe for concurrent use. Records are written in the order
// Write received them.
type Queue struct {
	name string
	enc  Encoder
	w    RecordWriter

	mu     sync.Mutex // serialises Write with Close
	closed bool
	full   chan *[]byte
	free   chan *[]byte
	bufs   int // buffers allocated and not discarded (under mu)
	bytes  atomic.Int64
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	written, dropped, tooLarge, failed atomic.Uint64
}

// NewQueue starts a queue of capacity records (DefaultQueueEvents when
// not positive) in front of w, encoding events with enc. name is the
// sink's name, one of SinkNames.
func NewQueue(name string, capacity int, enc Encoder, w RecordWriter) *Queue {
	if capacity <= 0 {
		capacity = DefaultQueueEvents
	}
	ctx, cancel := context.WithCancel(context.Background())
	q := &Queue{
		name:   name,
		enc:    enc,
		w:      w,
		full:   make(chan *[]byte, capacity),
		free:   make(chan *[]byte, capacity),
		ctx:    ctx,
		cancel: cancel,
		done:   make(chan struct{}),
	}
	go q.loop()
	return q
}

// Write implements pipeline.Sink and detect.Sink. It never blocks on the
// writer and never fails.
func (q *Queue) Write(evs []*event.Event) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, e := range evs {
		if e == nil || e.Body == nil {
			continue
		}
		if q.closed {
			q.dropped.Add(1)
			continue
		}
		b := q.buffer()
		if b == nil {
			q.dropped.Add(1)
			continue
		}
		rec, ok := q.enc((*b)[:0], e)
		if !ok {
			q.release(b)
			continue
		}
		*b = rec
		if len(rec) > MaxRecordBytes {
			q.tooLarge.Add(1)
			q.release(b)
			continue
		}
		if q.bytes.Load()+int64(len(rec)) > MaxQueueBytes {
			q.dropped.Add(1)
			q.release(b)
			continue
		}
		q.bytes.Add(int64(len(rec)))
		q.full <- b // never blocks: there are no more buffers than slots
	}
	return nil
}

// buffer returns a free record buffer, or nil when every one is queued.
// Called with mu held.
func (q *Queue) buffer() *[]byte {
	select {
	case b := <-q.free:
		return b
	default:
	}
	if q.bufs >= cap(q.full) {
		return nil
	}
	q.bufs++
	b := make([]byte, 0, 512)
	return &b
}

// release returns a buffer to the free list, or forgets an oversized one.
// Called with mu held.
func (q *Queue) release(b *[]byte) {
	if cap(*b) > keepBuffer {
		q.bufs--
		return
	}
	q.free <- b // never blocks: capacity equals the buffer count bound
}

func (q *Queue) loop() {
	defer close(q.done)
	for b := range q.full {
		if q.ctx.Err() != nil {
			q.dropped.Add(1) // Close gave up waiting
		} else if err := q.w.WriteRecord(q.ctx, *b); err != nil {
			q.failed.Add(1)
		} else {
			q.written.Add(1)
		}
		q.bytes.Add(-int64(len(*b)))
		q.mu.Lock()
		q.release(b)
		q.mu.Unlock()
		if len(q.full) == 0 {
			_ = q.w.Flush() // a flush error shows as the next record's
		}
	}
	_ = q.w.Flush()
}

// ErrDrainTimeout is returned by Close when records were still queued at
// its deadline; they are counted as dropped.
var ErrDrainTimeout = errors.New("output queue not drained in time")

// Close stops taking records, writes what is queued until ctx ends, then
// closes the writer. Records still queued at the deadline are dropped and
// counted, and Close returns ErrDrainTimeout.
func (q *Queue) Close(ctx context.Context) error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		<-q.done
		return nil
	}
	q.closed = true
	close(q.full)
	q.mu.Unlock()
	var err error
	select {
	case <-q.done:
	case <-ctx.Done():
		// The writer may be stuck reconnecting: make it give up, and
		// count what is left.
		left := uint64(len(q.full))
		q.cancel()
		<-q.done
		if left > 0 {
			err = ErrDrainTimeout
		}
	}
	q.cancel()
	if cerr := q.w.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// CloseWithin is Close with a timeout.
func (q *Queue) CloseWithin(d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return q.Close(ctx)
}

// Stats returns the queue's counters; safe at any time.
func (q *Queue) Stats() QueueStats {
	return QueueStats{
		Sink:     q.name,
		Capacity: cap(q.full),
		Queued:   len(q.full),
		Written:  q.written.Load(),
		Dropped:  q.dropped.Load(),
		TooLarge: q.tooLarge.Load(),
		Failed:   q.failed.Load(),
	}
}
