package decode

// Fragment reassembly for IPv4 and IPv6, with a cache bounded in datagrams,
// bytes and time. gopacket's ip4defrag has no global bound and allocates per
// fragment; this one reuses its buffers and counts every limit it hits.

// DefragLimits bound the fragment cache of one decoder.
type DefragLimits struct {
	MaxDatagrams int   // datagrams under reassembly at once
	MaxBytes     int   // bytes buffered across them
	Timeout      int64 // nanoseconds of capture time before a datagram is dropped
}

// Default fragment cache limits. The timeout is Linux's ipfrag_time.
const (
	DefaultMaxFragDatagrams = 1024
	DefaultMaxFragBytes     = 8 << 20
	DefaultFragTimeout      = 30e9
	// MaxDatagramLen bounds a reassembled datagram's payload.
	MaxDatagramLen = 65535
	// MaxFragmentsPerDatagram bounds the pieces of one datagram; more is
	// an evasion attempt or garbage.
	MaxFragmentsPerDatagram = 64
	// maxFreeBuffers bounds the buffers kept for reuse.
	maxFreeBuffers = 16
)

// DefaultDefragLimits are the limits used unless configured.
var DefaultDefragLimits = DefragLimits{MaxDatagrams: DefaultMaxFragDatagrams, MaxBytes: DefaultMaxFragBytes, Timeout: DefaultFragTimeout}

// DefragStats counts the fragment cache's work and limits.
type DefragStats struct {
	Started   uint64 // datagrams that began reassembly
	Timeouts  uint64 // dropped incomplete after the timeout
	Evicted   uint64 // dropped incomplete because the cache was full
	LimitHits uint64 // dropped because of the byte or piece limits
	Overlaps  uint64 // fragments overlapping earlier ones (later bytes win)
}

func (s *DefragStats) add(o *DefragStats) {
	s.Started += o.Started
	s.Timeouts += o.Timeouts
	s.Evicted += o.Evicted
	s.LimitHits += o.LimitHits
	s.Overlaps += o.Overlaps
}

type fragKey struct {
	src, dst [16]byte
	id       uint32
	proto    uint8
	v6       bool
}

type span struct{ start, end int }

type fragEntry struct {
	key        fragKey
	first      int64
	buf        []byte
	total      int // -1 until the last fragment is seen
	spans      []span
	prev, next *fragEntry // oldest first
}

type defragResult uint8

const (
	defragPending defragResult = iota
	defragComplete
	defragBad
)

type defragger struct {
	lim      DefragLimits
	stats    *DefragStats
	entries  map[fragKey]*fragEntry
	head     *fragEntry // oldest
	tail     *fragEntry
	bytes    int
	free     [][]byte
	lastDone []byte // buffer handed out last; recycled on the next call
}

func newDefragger(lim DefragLimits, stats *DefragStats) *defragger {
	if lim.MaxDatagrams <= 0 {
		lim.MaxDatagrams = DefaultMaxFragDatagrams
	}
	if lim.MaxBytes <= 0 {
		lim.MaxBytes = DefaultMaxFragBytes
	}
	if lim.Timeout <= 0 {
		lim.Timeout = DefaultFragTimeout
	}
	return &defragger{lim: lim, stats: stats, entries: map[fragKey]*fragEntry{}}
}

func (d *defragger) add(key fragKey, ts int64, off int, more bool, data []byte) ([]byte, defragResult) {
	if d.lastDone != nil {
		d.recycle(d.lastDone)
		d.lastDone = nil
	}
	end := off + len(data)
	if end > MaxDatagramLen || (more && len(data)%8 != 0) || (more && len(data) == 0) {
		return nil, defragBad
	}
	d.expire(ts)
	e := d.entries[key]
	if e == nil {
		if len(d.entries) >= d.lim.MaxDatagrams {
			d.stats.Evicted++
			d.drop(d.head)
		}
		e = &fragEntry{key: key, first: ts, total: -1, buf: d.alloc()}
		d.entries[key] = e
		d.pushBack(e)
		d.stats.Started++
	}
	if len(e.spans) >= MaxFragmentsPerDatagram || (!more && e.total >= 0 && e.total != end) || (e.total >= 0 && end > e.total) {
		d.stats.LimitHits++
		d.drop(e)
		return nil, defragBad
	}
	if end > len(e.buf) {
		grow := end - len(e.buf)
		if d.bytes+grow > d.lim.MaxBytes {
			d.stats.LimitHits++
			d.drop(e)
			return nil, defragPending
		}
		d.bytes += grow
		if end > cap(e.buf) {
			nb := make([]byte, end, MaxDatagramLen)
			copy(nb, e.buf)
			e.buf = nb
		} else {
			e.buf = e.buf[:end]
		}
	}
	for _, s := range e.spans {
		if off < s.end && s.start < end {
			d.stats.Overlaps++
			break
		}
	}
	copy(e.buf[off:end], data)
	e.spans = append(e.spans, span{off, end})
	if !more {
		e.total = end
	}
	if e.total < 0 || !covered(e.spans, e.total) {
		return nil, defragPending
	}
	whole := e.buf[:e.total]
	d.unlink(e)
	d.lastDone = e.buf
	return whole, defragComplete
}

// covered reports whether the spans cover [0,total). Few spans: a simple
// repeated sweep is enough.
func covered(spans []span, total int) bool {
	reach := 0
	for progress := true; progress && reach < total; {
		progress = false
		for _, s := range spans {
			if s.start <= reach && s.end > reach {
				reach = s.end
				progress = true
			}
		}
	}
	return reach >= total
}

func (d *defragger) alloc() []byte {
	if n := len(d.free); n > 0 {
		b := d.free[n-1]
		d.free = d.free[:n-1]
		return b[:0]
	}
	return nil
}

func (d *defragger) recycle(b []byte) {
	if cap(b) == MaxDatagramLen && len(d.free) < maxFreeBuffers {
		d.free = append(d.free, b[:0])
	}
}

func (d *defragger) expire(now int64) {
	for e := d.head; e != nil && now-e.first > d.lim.Timeout; e = d.head {
		d.stats.Timeouts++
		d.drop(e)
	}
}

func (d *defragger) drop(e *fragEntry) {
	d.unlink(e)
	d.recycle(e.buf)
}

func (d *defragger) unlink(e *fragEntry) {
	delete(d.entries, e.key)
	d.bytes -= len(e.buf)
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		d.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		d.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

func (d *defragger) pushBack(e *fragEntry) {
	e.prev = d.tail
	if d.tail != nil {
		d.tail.next = e
	} else {
		d.head = e
	}
	d.tail = e
}
