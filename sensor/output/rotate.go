package output

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
)

// Rotation defaults and limits of the live sensor's JSON-lines files.
const (
	// DefaultRotateSize is the size at which a file is rotated.
	DefaultRotateSize = 100 << 20
	// DefaultRotateKeep is how many rotated files are kept (name.1 the
	// newest, name.N the oldest).
	DefaultRotateKeep = 10
	// MaxRotateKeep bounds the rotated files kept.
	MaxRotateKeep = 1000
	// MinRotateSize is the smallest rotation size accepted; below it a
	// file would rotate on nearly every record.
	MinRotateSize = 4 << 10
)

// RotatingFile is a JSON-lines file for a long-running sensor: it appends
// to name and, before a record would take it past the rotation size,
// renames name to name.1 (name.1 to name.2, and so on, the oldest past
// the kept count removed) and starts a new name. Records are never split
// across files. It implements RecordWriter.
type RotatingFile struct {
	path    string
	maxSize int64 // 0: never rotate
	keep    int
	f       *os.File
	w       *bufio.Writer
	size    int64
	// Rotations counts the rotations done, RotateErrors those that
	// failed (writing went on in the current file).
	Rotations, RotateErrors uint64
}

// OpenRotating opens (creating, or appending to) path, rotated at maxSize
// bytes (0: never) keeping keep old files.
func OpenRotating(path string, maxSize int64, keep int) (*RotatingFile, error) {
	if maxSize != 0 && maxSize < MinRotateSize {
		return nil, fmt.Errorf("rotation size %d bytes is too small; use at least %d", maxSize, MinRotateSize)
	}
	if keep < 1 || keep > MaxRotateKeep {
		return nil, fmt.Errorf("rotated files to keep %d out of range; use 1..%d", keep, MaxRotateKeep)
	}
	r := &RotatingFile{path: path, maxSize: maxSize, keep: keep}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *RotatingFile) open() error {
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("open %s: %w", r.path, errors.Unwrap(err))
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("open %s: %w", r.path, err)
	}
	r.f, r.size = f, st.Size()
	if r.w == nil {
		r.w = bufio.NewWriterSize(f, writeBuffer)
	} else {
		r.w.Reset(f)
	}
	return nil
}

// WriteRecord implements RecordWriter: rec and a newline.
func (r *RotatingFile) WriteRecord(_ context.Context, rec []byte) error {
	if r.f == nil {
		return errors.New("write to a closed file")
	}
	n := int64(len(rec)) + 1
	if r.maxSize > 0 && r.size > 0 && r.size+n > r.maxSize {
		if err := r.rotate(); err != nil && r.f == nil {
			return err
		}
	}
	if _, err := r.w.Write(rec); err != nil {
		return fmt.Errorf("write %s: %w", r.path, err)
	}
	if err := r.w.WriteByte('\n'); err != nil {
		return fmt.Errorf("write %s: %w", r.path, err)
	}
	r.size += n
	return nil
}

// rotate moves the current file to name.1, shifting older ones up. If a
// rename fails, writing goes on in the file that is open again, and the
// error is returned for counting.
func (r *RotatingFile) rotate() error {
	if err := r.w.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", r.path, err)
	}
	if err := r.f.Close(); err != nil {
		r.f = nil
		return r.reopen(fmt.Errorf("write %s: %w", r.path, err))
	}
	r.f = nil
	old := func(i int) string { return r.path + "." + strconv.Itoa(i) }
	if err := os.Remove(old(r.keep)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return r.reopen(fmt.Errorf("rotate %s: %w", r.path, err))
	}
	for i := r.keep - 1; i >= 1; i-- {
		if err := os.Rename(old(i), old(i+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return r.reopen(fmt.Errorf("rotate %s: %w", r.path, err))
		}
	}
	if err := os.Rename(r.path, old(1)); err != nil {
		return r.reopen(fmt.Errorf("rotate %s: %w", r.path, err))
	}
	r.Rotations++
	return r.open()
}

// reopen opens the file again after a failed rotation and returns cause.
func (r *RotatingFile) reopen(cause error) error {
	r.RotateErrors++
	if err := r.open(); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}

// Flush implements RecordWriter.
func (r *RotatingFile) Flush() error {
	if r.f == nil {
		return nil
	}
	return r.w.Flush()
}

// Close flushes and closes the file.
func (r *RotatingFile) Close() error {
	if r.f == nil {
		return nil
	}
	err := r.w.Flush()
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	r.f = nil
	return err
}

// Path is the file's name.
func (r *RotatingFile) Path() string { return r.path }

// StreamWriter writes records as lines to a stream (stdout); it implements
// RecordWriter and does not close the stream.
type StreamWriter struct {
	w *bufio.Writer
}

// NewStreamWriter writes records as lines to w.
func NewStreamWriter(w io.Writer) *StreamWriter {
	return &StreamWriter{w: bufio.NewWriterSize(w, writeBuffer)}
}

// WriteRecord implements RecordWriter.
func (s *StreamWriter) WriteRecord(_ context.Context, rec []byte) error {
	if _, err := s.w.Write(rec); err != nil {
		return err
	}
	return s.w.WriteByte('\n')
}

// Flush implements RecordWriter.
func (s *StreamWriter) Flush() error { return s.w.Flush() }

// Close implements RecordWriter: it flushes.
func (s *StreamWriter) Close() error { return s.w.Flush() }
