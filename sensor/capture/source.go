package capture

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"

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

// releaseStep is how far behind the reader mapped pages are dropped at a
// time, so a long file does not stay resident (RSS counts mapped pages).
const releaseStep = 4 << 20

// populateStep is how far ahead of the reader page tables are filled in one
// madvise(MADV_POPULATE_READ) call: one system call instead of a page fault
// every few pages, which otherwise costs more than decoding the packets.
const populateStep = 4 << 20

func newSource(f *os.File, size int64) (source, error) {
	var magic [2]byte
	n, err := f.ReadAt(magic[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if n == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		return newGzipSource(f, size)
	}
	if size > 0 {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
			if err == nil {
				_ = unix.Madvise(data, unix.MADV_SEQUENTIAL)
				f.Close()
				return &mmapSource{data: data}, nil
			}
		}
	}
	return &streamSource{f: f, br: bufio.NewReaderSize(f, streamBuffer), total: size}, nil
}

type mmapSource struct {
	data       []byte
	off        int64
	released   int64
	populated  int64
	noPopulate bool // the kernel lacks MADV_POPULATE_READ (before 5.14)
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

func (m *mmapSource) skip(n int)      { m.off += int64(n) }
func (m *mmapSource) pos() int64      { return m.off }
func (m *mmapSource) stable() bool    { return true }
func (m *mmapSource) size() int64     { return int64(len(m.data)) }
func (m *mmapSource) consumed() int64 { return m.off }

func (m *mmapSource) release(off int64) {
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
	err := unix.Munmap(m.data)
	m.data = nil
	return err
}

// countingReader counts the compressed bytes read, for progress.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type streamSource struct {
	f       *os.File
	br      *bufio.Reader
	off     int64
	total   int64
	counter *countingReader
}

func newGzipSource(f *os.File, size int64) (source, error) {
	cr := &countingReader{r: bufio.NewReaderSize(f, 256<<10)}
	zr, err := gzip.NewReader(cr)
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return &streamSource{f: f, br: bufio.NewReaderSize(zr, streamBuffer), total: size, counter: cr}, nil
}

func (s *streamSource) peek(n int) ([]byte, error) {
	b, err := s.br.Peek(n)
	if err == nil {
		return b, nil
	}
	if len(b) == 0 && (errors.Is(err, io.EOF)) {
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

func (s *streamSource) pos() int64    { return s.off }
func (s *streamSource) stable() bool  { return false }
func (s *streamSource) release(int64) {}
func (s *streamSource) size() int64   { return s.total }
func (s *streamSource) close() error  { return s.f.Close() }
func (s *streamSource) consumed() int64 {
	if s.counter != nil {
		return s.counter.n
	}
	return s.off
}
