package natsink

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/medtap/medtap/sensor/event"
)

// Limits of the on-disk spool.
const (
	// DefaultSpoolBytes is the spool's default size limit. Past it the
	// oldest segment is dropped (and its messages counted as lost).
	DefaultSpoolBytes = 256 << 20
	// MinSpoolBytes is the smallest size limit accepted.
	MinSpoolBytes = 64 << 10
	// maxSegmentBytes is the size at which a new segment file is started;
	// a quarter of the limit when that is smaller, so dropping the oldest
	// segment frees at most a quarter of the spool.
	maxSegmentBytes = 4 << 20
	// MaxMessageBytes bounds one message (subject, id and data); larger
	// events are dropped and counted (NATS's default max_payload is 1 MiB).
	MaxMessageBytes = 1 << 20
	// recordHeader is a record's length (4 bytes) and CRC-32C (4 bytes).
	recordHeader = 8
	segPrefix    = "seg-"
	segSuffix    = ".spool"
	lockName     = "lock"
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Msg is one message to publish.
type Msg struct {
	Subject string
	ID      string // Nats-Msg-Id
	Data    []byte

	// The event's type and key, from which the publishing goroutine
	// computes ID (off the pipeline's goroutine: it hashes the line).
	typ string
	key event.Key
}

// size is the message's record payload size.
func (m *Msg) size() int { return 2 + len(m.Subject) + 2 + len(m.ID) + len(m.Data) }

// spool is a FIFO of messages in segment files seg-<n>.spool of one
// directory. Each record is: payload length (uint32 LE), CRC-32C of the
// payload, then subject length (uint16), subject, id length (uint16), id,
// data. A torn or corrupt tail (a crash mid-write) is cut at the first bad
// record when the spool is opened. It is used by one goroutine.
type spool struct {
	dir      string
	max      int64
	segMax   int64
	lock     *os.File
	segs     []*segment // oldest first; the last one is written to
	bytes    int64      // on disk, all segments
	count    int        // messages not yet consumed
	dropped  uint64     // messages lost to the size limit
	appended uint64

	// read state of segs[0]: its unread records, loaded when needed
	rbuf []byte
	roff int64 // file offset of rbuf[0]
}

type segment struct {
	n     uint64
	size  int64
	count int // records in the file
	read  int // records consumed (only segs[0])
	f     *os.File
}

func (s *spool) path(n uint64) string {
	return filepath.Join(s.dir, segPrefix+fmt.Sprintf("%016d", n)+segSuffix)
}

// openSpool opens (creating) the spool in dir, locked against a second
// medtap using it, and recovers the messages a previous run left there.
func openSpool(dir string, max int64) (*spool, error) {
	if max < MinSpoolBytes {
		return nil, fmt.Errorf("spool size limit %d bytes is below the minimum %d", max, MinSpoolBytes)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool directory: %w", err)
	}
	lf, err := os.OpenFile(filepath.Join(dir, lockName), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spool lock: %w", err)
	}
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lf.Close()
		return nil, fmt.Errorf("spool directory %s is in use by another medtap (give each sensor its own --nats-buffer)", dir)
	}
	s := &spool{dir: dir, max: max, segMax: min(maxSegmentBytes, max/4), lock: lf}
	ents, err := os.ReadDir(dir)
	if err != nil {
		s.close()
		return nil, fmt.Errorf("spool directory: %w", err)
	}
	var ns []uint64
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, segPrefix) || !strings.HasSuffix(name, segSuffix) {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(name, segPrefix), segSuffix), 10, 64)
		if err != nil {
			continue
		}
		ns = append(ns, n)
	}
	slices.Sort(ns)
	for _, n := range ns {
		seg, err := s.recover(n)
		if err != nil {
			s.close()
			return nil, err
		}
		if seg.count == 0 {
			os.Remove(s.path(n))
			continue
		}
		s.segs = append(s.segs, seg)
		s.bytes += seg.size
		s.count += seg.count
	}
	return s, nil
}

// recover scans segment n, cutting a torn tail.
func (s *spool) recover(n uint64) (*segment, error) {
	data, err := os.ReadFile(s.path(n))
	if err != nil {
		return nil, fmt.Errorf("spool segment: %w", err)
	}
	seg := &segment{n: n}
	off := 0
	for {
		_, next, ok := parseRecord(data, off)
		if !ok {
			break
		}
		off = next
		seg.count++
	}
	seg.size = int64(off)
	if off != len(data) {
		if err := os.Truncate(s.path(n), int64(off)); err != nil {
			return nil, fmt.Errorf("spool segment: cutting a torn tail: %w", err)
		}
	}
	return seg, nil
}

// parseRecord decodes the record at data[off:]; ok is false at the end or
// at a torn or corrupt record.
func parseRecord(data []byte, off int) (m Msg, next int, ok bool) {
	if len(data)-off < recordHeader {
		return m, off, false
	}
	n := int(binary.LittleEndian.Uint32(data[off:]))
	sum := binary.LittleEndian.Uint32(data[off+4:])
	if n < 4 || n > MaxMessageBytes+4 || len(data)-off-recordHeader < n {
		return m, off, false
	}
	p := data[off+recordHeader : off+recordHeader+n]
	if crc32.Checksum(p, crcTable) != sum {
		return m, off, false
	}
	sl := int(binary.LittleEndian.Uint16(p))
	if 2+sl+2 > len(p) {
		return m, off, false
	}
	m.Subject = string(p[2 : 2+sl])
	p = p[2+sl:]
	il := int(binary.LittleEndian.Uint16(p))
	if 2+il > len(p) {
		return m, off, false
	}
	m.ID = string(p[2 : 2+il])
	m.Data = p[2+il:]
	return m, off + recordHeader + n, true
}

func appendRecord(dst []byte, m *Msg) []byte {
	start := len(dst)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(m.size()))
	dst = binary.LittleEndian.AppendUint32(dst, 0)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(m.Subject)))
	dst = append(dst, m.Subject...)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(m.ID)))
	dst = append(dst, m.ID...)
	dst = append(dst, m.Data...)
	binary.LittleEndian.PutUint32(dst[start+4:], crc32.Checksum(dst[start+recordHeader:], crcTable))
	return dst
}

// Len is the number of messages waiting.
func (s *spool) Len() int { return s.count }

// Bytes is the spool's size on disk.
func (s *spool) Bytes() int64 { return s.bytes }

// Append adds msgs at the end, then drops the oldest segments while the
// spool is over its limit.
func (s *spool) Append(msgs []*Msg) error {
	var buf []byte
	for _, m := range msgs {
		// A segment recovered from an earlier run is not appended to.
		if k := len(s.segs); k == 0 || s.segs[k-1].f == nil || s.segs[k-1].size+int64(len(buf)) >= s.segMax {
			if err := s.flush(buf); err != nil {
				return err
			}
			buf = buf[:0]
			if err := s.rotate(); err != nil {
				return err
			}
		}
		buf = appendRecord(buf, m)
		s.segs[len(s.segs)-1].count++
		s.count++
		s.appended++
	}
	if err := s.flush(buf); err != nil {
		return err
	}
	for s.bytes > s.max && len(s.segs) > 1 {
		old := s.segs[0]
		s.dropped += uint64(old.count - old.read)
		s.count -= old.count - old.read
		s.removeOldest()
	}
	return nil
}

// flush writes buf at the end of the newest segment.
func (s *spool) flush(buf []byte) error {
	if len(buf) == 0 {
		return nil
	}
	seg := s.segs[len(s.segs)-1]
	if _, err := seg.f.Write(buf); err != nil {
		return fmt.Errorf("spool write: %w", err)
	}
	seg.size += int64(len(buf))
	s.bytes += int64(len(buf))
	return nil
}

// rotate starts a new segment.
func (s *spool) rotate() error {
	var n uint64 = 1
	if k := len(s.segs); k > 0 {
		last := s.segs[k-1]
		n = last.n + 1
		if last.f != nil {
			last.f.Close()
			last.f = nil
		}
	}
	f, err := os.OpenFile(s.path(n), os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("spool segment: %w", err)
	}
	s.segs = append(s.segs, &segment{n: n, f: f})
	return nil
}

func (s *spool) removeOldest() {
	old := s.segs[0]
	if old.f != nil {
		old.f.Close()
	}
	os.Remove(s.path(old.n))
	s.bytes -= old.size
	s.segs = s.segs[1:]
	s.rbuf, s.roff = nil, 0
}

// Peek returns up to n of the oldest messages without consuming them.
// Their Data is valid until the next Append, Commit or Peek.
func (s *spool) Peek(n int) ([]Msg, error) {
	if len(s.segs) == 0 || n <= 0 {
		return nil, nil
	}
	seg := s.segs[0]
	if seg.read == seg.count {
		return nil, nil
	}
	if s.rbuf == nil || s.roff+int64(len(s.rbuf)) < seg.size {
		// Load what is unread of the oldest segment (it may have grown
		// since, when it is also the one written to).
		f, err := os.Open(s.path(seg.n))
		if err != nil {
			return nil, fmt.Errorf("spool read: %w", err)
		}
		skip := s.roff
		if s.rbuf == nil {
			skip = 0
		}
		buf := make([]byte, seg.size-skip)
		_, err = f.ReadAt(buf, skip)
		f.Close()
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("spool read: %w", err)
		}
		s.rbuf, s.roff = buf, skip
		if skip == 0 {
			// Skip the records already consumed.
			off := 0
			for i := 0; i < seg.read; i++ {
				_, next, ok := parseRecord(s.rbuf, off)
				if !ok {
					return nil, fmt.Errorf("spool segment %d: corrupt record", seg.n)
				}
				off = next
			}
			s.rbuf, s.roff = s.rbuf[off:], int64(off)
		}
	}
	var out []Msg
	off := 0
	for len(out) < n {
		m, next, ok := parseRecord(s.rbuf, off)
		if !ok {
			break
		}
		out = append(out, m)
		off = next
	}
	return out, nil
}

// Commit consumes the k oldest messages (k at most what Peek returned).
func (s *spool) Commit(k int) {
	if k <= 0 || len(s.segs) == 0 {
		return
	}
	seg := s.segs[0]
	off := 0
	for i := 0; i < k; i++ {
		_, next, ok := parseRecord(s.rbuf, off)
		if !ok {
			break
		}
		off = next
		seg.read++
		s.count--
	}
	s.rbuf, s.roff = s.rbuf[off:], s.roff+int64(off)
	if seg.read == seg.count {
		s.removeOldest()
	}
}

// Sync makes what was appended durable.
func (s *spool) Sync() error {
	if k := len(s.segs); k > 0 && s.segs[k-1].f != nil {
		return s.segs[k-1].f.Sync()
	}
	return nil
}

func (s *spool) close() error {
	err := s.Sync()
	for _, seg := range s.segs {
		if seg.f != nil {
			seg.f.Close()
			seg.f = nil
		}
	}
	if s.lock != nil {
		s.lock.Close() // releases the flock
		s.lock = nil
	}
	return err
}
