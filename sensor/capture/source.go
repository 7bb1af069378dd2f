package capture

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	// klauspost's gzip rather than the standard library's: the same
	// format and API, and it decompresses the benchmark capture 1.35x as
	// fast (600 against 800 ms for 128 MiB), the whole cost of reading a
	// .gz. The module is already in the build (the Prometheus client, nats.go
	// and cilium/ebpf use it), and its zstd decoder reads .zst captures.
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// A capture file is read once, by one goroutine, into a small ring of
// chunks that every reader of the file walks in place: records are handed
// out as slices of a chunk, and only a record that straddles two chunks is
// copied. This costs one kernel copy of the file and keeps memory bounded,
// whatever the file's size.
//
// Memory-mapping was tried and measured slower: mapping and unmapping pages
// (needed to keep the resident size bounded on a large file) cost more than
// the copy, and pages come in cold, while a chunk is read into the cache
// just before the readers walk it.

// source is a byte stream with look-ahead.
type source interface {
	// peek returns the next n bytes without consuming them. Fewer than n
	// bytes come back with io.ErrUnexpectedEOF (none: io.EOF). The slice is
	// valid until the next peek or skip.
	peek(n int) ([]byte, error)
	skip(n int)
	pos() int64
	size() int64
	consumed() int64
	close() error
}

const (
	// chunkSize is one read, and one unit of the ring.
	chunkSize = 256 << 10
	// chunksInFlight bounds the ring: memory, and how far the fastest
	// reader of a file can run ahead of the slowest.
	chunksInFlight = 8
	// carryCap bounds the initial size of a reader's buffer for records
	// that straddle chunks, made when one first does; it grows to at most
	// a block's limit.
	carryCap = 64 << 10
	// MaxZstdWindow is the largest zstd window (the history a decoder
	// keeps) medtap accepts. The decoder allocates a frame's window (or
	// its declared content size, if smaller) when the frame starts,
	// whatever follows: a 9-byte file asking for 128 MiB (the zstd tool's
	// own limit) took medtap's peak RSS to 152 MB. 8 MiB is what every
	// compression level up to 19 uses; files made with --ultra or --long
	// are refused with the way out.
	MaxZstdWindow = 8 << 20
	// streamPeek is the look-ahead kept to tell a stream's format (the
	// longest header looked at is a zstd frame's).
	streamPeek = 64
)

// zstdMagic opens every zstd frame.
var zstdMagic = [4]byte{0x28, 0xb5, 0x2f, 0xfd}

// zstdStart reports whether b (4 bytes) opens a zstd stream: a frame, or a
// skippable frame (magic 0x184D2A50 to 0x184D2A5F, little-endian), which
// pzstd writes before each frame it compresses in parallel.
func zstdStart(b [4]byte) bool {
	return b == zstdMagic || (b[0]&0xf0 == 0x50 && b[1] == 0x2a && b[2] == 0x4d && b[3] == 0x18)
}

// openSources returns n sources that each read the whole file, from one
// read (and decompression) of it. size < 0 means f is a stream (a pipe on
// standard input): it is read once, front to back, and its size is not
// known.
func openSources(f *os.File, size int64, n int) ([]source, error) {
	counter := &countingReader{r: f}
	var r io.Reader = counter
	// head fills p with the stream's first bytes without consuming them.
	var head func(p []byte) (int, error)
	if size >= 0 {
		head = func(p []byte) (int, error) { return f.ReadAt(p, 0) }
	} else {
		br := bufio.NewReaderSize(counter, streamPeek)
		head = func(p []byte) (int, error) {
			b, err := br.Peek(len(p))
			return copy(p, b), err
		}
		r = br
	}
	var magic [4]byte
	k, err := head(magic[:])
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	// A file smaller than a chunk is read into chunks of its own size
	// (and one byte, to see its end in the same read): opening a folder of
	// small captures, or a fuzzer's inputs, need not map the whole ring
	// for each. The decompressed size of a compressed file is not known.
	bufSize := chunkSize
	if size >= 0 && size < chunkSize {
		bufSize = int(size) + 1
	}
	var release func()
	switch {
	case k >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(bufio.NewReaderSize(r, bufSize))
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		r, bufSize = zr, chunkSize
	case k == 4 && zstdStart(magic):
		zr, err := newZstdReader(head, bufio.NewReaderSize(r, bufSize))
		if err != nil {
			return nil, err
		}
		r, bufSize, release = zr, chunkSize, zr.d.Close
	}
	b := newBroadcast(r, f, n, bufSize)
	b.release = release
	srcs := make([]source, n)
	for i := range srcs {
		srcs[i] = &chunkSource{in: b.readers[i], total: size, counter: counter}
	}
	go b.run()
	return srcs, nil
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

// chunkSource is one reader's walk over the broadcast chunks.
type chunkSource struct {
	in      *chunkReader
	cur     *chunk // the chunk being walked; nil before the first and at the end
	at      int    // position in cur
	carry   []byte // a record straddling chunks: its bytes, then cur[pos:] follows
	cpos    int    // position in carry; carry is in use while cpos < len(carry)
	off     int64
	total   int64
	counter *countingReader
	err     error // set once the stream has ended
	warmed  byte  // keeps warmChunk's loads from being optimised away
}

func (s *chunkSource) peek(n int) ([]byte, error) {
	if s.cpos < len(s.carry) {
		if s.cpos+n > len(s.carry) {
			s.fill(s.cpos + n)
		}
		return s.result(s.carry[s.cpos:], n)
	}
	if s.cur == nil || s.at == len(s.cur.buf) {
		s.advance()
	}
	if s.cur != nil && s.at+n <= len(s.cur.buf) {
		return s.cur.buf[s.at : s.at+n : s.at+n], nil
	}
	// The bytes wanted run past this chunk: gather them in carry.
	if s.carry == nil {
		// Often this is only the look for a record past the file's end.
		s.carry = make([]byte, 0, min(carryCap, max(n, 4<<10)))
	}
	s.carry, s.cpos = s.carry[:0], 0
	s.fill(n)
	return s.result(s.carry, n)
}

func (s *chunkSource) result(b []byte, n int) ([]byte, error) {
	if len(b) >= n {
		return b[:n:n], nil
	}
	if len(b) == 0 {
		if s.err != nil && !errors.Is(s.err, io.EOF) {
			return nil, s.err
		}
		return nil, io.EOF
	}
	return b, io.ErrUnexpectedEOF
}

// fill moves bytes from the chunks into carry until it holds want bytes or
// the stream ends.
func (s *chunkSource) fill(want int) {
	for len(s.carry) < want {
		if s.cur == nil || s.at == len(s.cur.buf) {
			if !s.advance() {
				return
			}
			continue
		}
		take := min(want-len(s.carry), len(s.cur.buf)-s.at)
		s.carry = append(s.carry, s.cur.buf[s.at:s.at+take]...)
		s.at += take
	}
}

// advance moves to the next chunk, giving the current one back.
func (s *chunkSource) advance() bool {
	if s.cur != nil {
		s.in.b.put(s.cur)
		s.cur = nil
	}
	if s.err != nil {
		return false
	}
	c, err := s.in.next()
	if err != nil {
		s.err = err
		return false
	}
	s.cur, s.at = c, 0
	s.warmed ^= warmChunk(c.buf)
	return true
}

// cacheLine is the stride of warmChunk.
const cacheLine = 64

// warmChunk loads one byte of every cache line of a chunk about to be
// walked and returns their XOR (kept, so the loads stay). The walk is a
// chain of dependent loads (each record's length gives the next one's
// place), so on a core other than the one that read the chunk every record
// header would wait a full memory latency; a straight pass lets the core
// fetch many lines at once and leaves the chunk in its cache for the
// decoder and parsers as well. Measured on the mixed capture with two
// workers: the record-header loads fell from 7-8% of CPU samples to about
// 1%, for 3-4% spent here. (Tried on the live ring's blocks too, a span at
// a time: no gain there, so not used.)
func warmChunk(b []byte) byte {
	var x byte
	for i := 0; i < len(b); i += cacheLine {
		x ^= b[i]
	}
	return x
}

func (s *chunkSource) skip(n int) {
	s.off += int64(n)
	if s.cpos < len(s.carry) {
		s.cpos += n
		return
	}
	s.at += n
}

func (s *chunkSource) pos() int64      { return s.off }
func (s *chunkSource) size() int64     { return s.total }
func (s *chunkSource) consumed() int64 { return s.counter.n.Load() }

func (s *chunkSource) close() error {
	if s.cur != nil {
		s.in.b.put(s.cur)
		s.cur = nil
	}
	s.in.close()
	return nil
}

// broadcast reads a stream once and hands every chunk to each of its
// readers. A chunk is recycled when every reader is done with it; at most
// chunksInFlight exist, so the slowest reader sets the pace.
type broadcast struct {
	src     io.Reader
	file    *os.File
	readers []*chunkReader
	pool    chan *chunk
	stop    chan struct{}
	open    atomic.Int32
	once    sync.Once
	release func() // frees the decompressor when run ends, if any
}

type chunk struct {
	buf  []byte
	err  error // set on the last chunk: io.EOF or the read error
	refs atomic.Int32
}

func newBroadcast(src io.Reader, f *os.File, n, bufSize int) *broadcast {
	b := &broadcast{src: src, file: f, pool: make(chan *chunk, chunksInFlight), stop: make(chan struct{})}
	for i := 0; i < chunksInFlight; i++ {
		b.pool <- &chunk{buf: make([]byte, bufSize)}
	}
	b.open.Store(int32(n))
	for i := 0; i < n; i++ {
		b.readers = append(b.readers, &chunkReader{b: b, ch: make(chan *chunk, chunksInFlight)})
	}
	return b
}

func (b *broadcast) run() {
	defer b.file.Close()
	if b.release != nil {
		defer b.release()
	}
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
		n, err := fillChunk(b.src, c.buf[:cap(c.buf)])
		c.buf = c.buf[:n]
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

// fillChunk reads until buf is full or the stream ends. Unlike
// io.ReadFull it keeps the source's own error: a compressed stream cut short
// says io.ErrUnexpectedEOF, which must not pass for a clean end.
func fillChunk(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := r.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
		if k == 0 {
			return n, io.ErrNoProgress
		}
	}
	return n, nil
}

func (b *broadcast) put(c *chunk) {
	if c.refs.Add(-1) == 0 {
		c.buf = c.buf[:cap(c.buf)]
		c.err = nil
		b.pool <- c
	}
}

// chunkReader is one reader's queue of a broadcast's chunks.
type chunkReader struct {
	b      *broadcast
	ch     chan *chunk
	last   error
	closed bool
}

// next returns the next chunk with data, or the error that ended the
// stream (io.EOF at a clean end).
func (r *chunkReader) next() (*chunk, error) {
	for {
		if r.last != nil {
			return nil, r.last
		}
		c, ok := <-r.ch
		if !ok {
			return nil, io.EOF
		}
		r.last = c.err
		if len(c.buf) > 0 {
			return c, nil
		}
		r.b.put(c)
	}
}

// close gives up this reader's remaining chunks; the last reader to close
// stops the broadcast.
func (r *chunkReader) close() {
	if r.closed {
		return
	}
	r.closed = true
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

// zstdReader decompresses a .zst capture in the reading goroutine (no
// decoder goroutines of its own), with the window bounded by MaxZstdWindow.
type zstdReader struct{ d *zstd.Decoder }

func newZstdReader(head func([]byte) (int, error), r io.Reader) (*zstdReader, error) {
	// The first frame's header says the window it needs: a file over the
	// limit is refused at once, with the way out, rather than after the
	// decoder has read up to it. (After a skippable frame, the decoder
	// checks the next frame itself.)
	var first [zstd.HeaderMaxSize]byte
	n, _ := head(first[:])
	var h zstd.Header
	if err := h.Decode(first[:n]); err == nil {
		w := h.WindowSize
		if h.SingleSegment {
			w = h.FrameContentSize // the window is the whole content
		}
		if w > MaxZstdWindow {
			return nil, zstdWindowError(w)
		}
	}
	d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(MaxZstdWindow), zstd.WithDecoderLowmem(true))
	if err != nil {
		return nil, fmt.Errorf("zstd: %w", err)
	}
	return &zstdReader{d}, nil
}

func (z *zstdReader) Read(p []byte) (int, error) {
	n, err := z.d.Read(p)
	if errors.Is(err, zstd.ErrWindowSizeExceeded) {
		err = zstdWindowError(0)
	}
	return n, err
}

func zstdWindowError(size uint64) error {
	need := "a window larger than"
	if size > 0 {
		need = fmt.Sprintf("a %d MiB window, more than", size>>20)
	}
	return fmt.Errorf("zstd: a frame needs %s medtap's limit of %d MiB; decompress the file first with zstd -d --memory=SIZE, or recompress it without --long or --ultra", need, MaxZstdWindow>>20)
}
