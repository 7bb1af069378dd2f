package capture

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// source is a byte stream with look-ahead: the whole file when mapped, a
// bounded window when streamed.
type source interface {
	// peek returns the next n bytes without consuming them. Fewer than n
	// bytes come back with io.ErrUnexpectedEOF (none: io.EOF).
	peek(n int) ([]byte, error)
	skip(n int)
	pos() int64
	stable() bool
	release(off int64)
	size() int64
	consumed() int64
	close() error
}

const (
	// releaseStep is how far behind the reader mapped pages are dropped at
	// a time, so a long file does not stay resident (RSS counts mapped
	// pages).
	releaseStep = 4 << 20
	// populateStep is how far ahead of the reader page tables are filled in
	// one madvise(MADV_POPULATE_READ) call: one system call instead of a
	// page fault every few pages.
	populateStep = 4 << 20
	// touchAhead is how far ahead of the reader every cache line is loaded.
	// Record headers sit about a packet apart, too far for the hardware
	// prefetcher to follow, and each would otherwise be a serial trip to
	// memory; loads that nothing waits on overlap instead.
	touchAhead = 64 << 10
	cacheLine  = 64
	// chunkSize and chunksInFlight size the broadcast of a streamed
	// (compressed) file to several readers.
	chunkSize      = 1 << 20
	chunksInFlight = 8
)

// openSources returns n sources that each read the whole file: views of one
// mapping for a plain file, or readers of one decompression for a
// compressed or unmappable one.
func openSources(f *os.File, size int64, n int) ([]source, error) {
	var magic [2]byte
	k, err := f.ReadAt(magic[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	gz := k == 2 && magic[0] == 0x1f && magic[1] == 0x8b
	if !gz && size > 0 {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
			if err == nil {
				_ = unix.Madvise(data, unix.MADV_SEQUENTIAL)
				f.Close()
				m := &mapping{data: data}
				m.refs.Store(int32(n))
				srcs := make([]source, n)
				for i := range srcs {
					// One view gives pages back; the others may briefly
					// fault them in again, which costs nothing but time.
					srcs[i] = &mmapSource{m: m, data: data, releaser: i == 0}
				}
				return srcs, nil
			}
		}
	}
	counter := &countingReader{r: bufio.NewReaderSize(f, 256<<10)}
	var r io.Reader = counter
	if gz {
		zr, err := gzip.NewReader(counter)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		r = zr
	}
	b := newBroadcast(r, f, n)
	srcs := make([]source, n)
	for i := range srcs {
		srcs[i] = &streamSource{br: bufio.NewReaderSize(b.readers[i], streamBuffer), total: size, counter: counter, done: b.readers[i].close}
	}
	go b.run()
	return srcs, nil
}

type mapping struct {
	data []byte
	refs atomic.Int32
}

func (m *mapping) unref() error {
	if m.refs.Add(-1) == 0 {
		return unix.Munmap(m.data)
	}
	return nil
}

type mmapSource struct {
	m          *mapping
	data       []byte
	off        int64
	released   int64
	populated  int64
	touched    int64
	noPopulate bool // the kernel lacks MADV_POPULATE_READ (before 5.14)
	releaser   bool
	sink       byte
}

func (m *mmapSource) peek(n int) ([]byte, error) {
	if end := m.off + int64(n); end > m.populated && !m.noPopulate {
		m.populate(end)
	}
	rest := m.data[m.off:]
	if len(rest) >= n {
		return rest[:n:n], nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	return rest, io.ErrUnexpectedEOF
}

func (m *mmapSource) populate(end int64) {
	start := m.populated
	stop := min(max(end, start+populateStep), int64(len(m.data)))
	if stop <= start {
		return
	}
	if err := unix.Madvise(m.data[start:stop], unix.MADV_POPULATE_READ); err != nil {
		m.noPopulate = true
		return
	}
	m.populated = stop
}

func (m *mmapSource) skip(n int) {
	m.off += int64(n)
	end := min(m.off+touchAhead, int64(len(m.data)))
	var x byte
	for ; m.touched < end; m.touched += cacheLine {
		x ^= m.data[m.touched]
	}
	m.sink ^= x
}

func (m *mmapSource) pos() int64      { return m.off }
func (m *mmapSource) stable() bool    { return true }
func (m *mmapSource) size() int64     { return int64(len(m.data)) }
func (m *mmapSource) consumed() int64 { return m.off }

func (m *mmapSource) release(off int64) {
	if !m.releaser {
		return
	}
	page := int64(os.Getpagesize())
	off &^= page - 1
	if off > m.off {
		off = m.off &^ (page - 1)
	}
	if off-m.released < releaseStep {
		return
	}
	_ = unix.Madvise(m.data[m.released:off], unix.MADV_DONTNEED)
	m.released = off
}

func (m *mmapSource) close() error {
	if m.data == nil {
		return nil
	}
	m.data = nil
	return m.m.unref()
}

// countingReader counts the bytes read from the file, for progress.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

type streamSource struct {
	br      *bufio.Reader
	off     int64
	total   int64
	counter *countingReader
	done    func()
}

func (s *streamSource) peek(n int) ([]byte, error) {
	b, err := s.br.Peek(n)
	if err == nil {
		return b, nil
	}
	if len(b) == 0 && errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return b, io.ErrUnexpectedEOF
	}
	return b, err
}

func (s *streamSource) skip(n int) {
	d, _ := s.br.Discard(n)
	s.off += int64(d)
}

func (s *streamSource) pos() int64      { return s.off }
func (s *streamSource) stable() bool    { return false }
func (s *streamSource) release(int64)   {}
func (s *streamSource) size() int64     { return s.total }
func (s *streamSource) consumed() int64 { return s.counter.n.Load() }
func (s *streamSource) close() error {
	s.done()
	return nil
}

// broadcast reads a stream once and hands every chunk to each of its
// readers, so several workers can walk one decompression. Chunks are
// recycled when every reader is done with them; at most chunksInFlight
// exist, which bounds memory and lets the slowest reader set the pace.
type broadcast struct {
	src     io.Reader
	file    *os.File
	readers []*chunkReader
	pool    chan *chunk
	stop    chan struct{}
	open    atomic.Int32
	once    sync.Once
}

type chunk struct {
	buf  []byte
	err  error // set on the last chunk: io.EOF or the read error
	refs atomic.Int32
}

func newBroadcast(src io.Reader, f *os.File, n int) *broadcast {
	b := &broadcast{src: src, file: f, pool: make(chan *chunk, chunksInFlight), stop: make(chan struct{})}
	for i := 0; i < chunksInFlight; i++ {
		b.pool <- &chunk{buf: make([]byte, chunkSize)}
	}
	b.open.Store(int32(n))
	for i := 0; i < n; i++ {
		b.readers = append(b.readers, &chunkReader{b: b, ch: make(chan *chunk, chunksInFlight)})
	}
	return b
}

func (b *broadcast) run() {
	defer b.file.Close()
	defer func() {
		for _, r := range b.readers {
			close(r.ch)
		}
	}()
	for {
		var c *chunk
		select {
		case c = <-b.pool:
		case <-b.stop:
			return
		}
		n, err := io.ReadFull(b.src, c.buf[:cap(c.buf)])
		c.buf = c.buf[:n]
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = io.EOF
		}
		c.err = err
		c.refs.Store(int32(len(b.readers)))
		for _, r := range b.readers {
			select {
			case r.ch <- c:
			case <-b.stop:
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (b *broadcast) put(c *chunk) {
	if c.refs.Add(-1) == 0 {
		c.buf = c.buf[:cap(c.buf)]
		c.err = nil
		b.pool <- c
	}
}

// chunkReader is one reader's view of a broadcast.
type chunkReader struct {
	b      *broadcast
	ch     chan *chunk
	cur    *chunk
	pos    int
	closed bool
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for r.cur == nil || r.pos == len(r.cur.buf) {
		if r.cur != nil {
			if err := r.cur.err; err != nil {
				return 0, err
			}
			r.b.put(r.cur)
			r.cur = nil
		}
		c, ok := <-r.ch
		if !ok {
			return 0, io.EOF
		}
		r.cur, r.pos = c, 0
	}
	n := copy(p, r.cur.buf[r.pos:])
	r.pos += n
	return n, nil
}

// close gives up this reader's remaining chunks; the last reader to close
// stops the broadcast.
func (r *chunkReader) close() {
	if r.closed {
		return
	}
	r.closed = true
	if r.cur != nil {
		r.b.put(r.cur)
		r.cur = nil
	}
	if r.b.open.Add(-1) == 0 {
		r.b.once.Do(func() { close(r.b.stop) })
	}
	// Keep releasing chunks already sent so the others are not held up.
	go func() {
		for c := range r.ch {
			r.b.put(c)
		}
	}()
}
