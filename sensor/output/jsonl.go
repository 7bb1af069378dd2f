// Package output writes medtap's records: JSON-lines files that appear
// whole or not at all, and the human summary of a run.
package output

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/medtap/medtap/sensor/event"
)

// writeBuffer is the JSON-lines write buffer.
const writeBuffer = 256 << 10

// JSONL writes events as JSON lines.
type JSONL struct {
	w     *bufio.Writer
	f     *os.File // nil when writing to a stream we do not own
	tmp   string
	final string
	buf   []byte
	N     uint64 // events written
}

// NewJSONLWriter writes to w (stdout, say).
func NewJSONLWriter(w io.Writer) *JSONL {
	return &JSONL{w: bufio.NewWriterSize(w, writeBuffer)}
}

// CreateJSONL writes to path through a temporary file in the same
// directory, renamed into place by Commit, so a failed run leaves no
// half-written file.
func CreateJSONL(path string) (*JSONL, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return &JSONL{w: bufio.NewWriterSize(f, writeBuffer), f: f, tmp: f.Name(), final: path}, nil
}

// Write implements pipeline.Sink.
func (j *JSONL) Write(evs []*event.Event) error {
	for _, e := range evs {
		line := e.Line
		if line == nil {
			var err error
			j.buf, err = e.AppendJSON(j.buf[:0])
			if err != nil {
				return fmt.Errorf("encode %s event: %w", e.Body.EventType(), err)
			}
			line = j.buf
		}
		if _, err := j.w.Write(line); err != nil {
			return fmt.Errorf("write events: %w", err)
		}
		if err := j.w.WriteByte('\n'); err != nil {
			return fmt.Errorf("write events: %w", err)
		}
		j.N++
	}
	return nil
}

// Commit flushes and, for a file, moves it into place.
func (j *JSONL) Commit() error {
	if err := j.w.Flush(); err != nil {
		j.Abort()
		return fmt.Errorf("write events: %w", err)
	}
	if j.f == nil {
		return nil
	}
	if err := j.f.Close(); err != nil {
		os.Remove(j.tmp)
		return fmt.Errorf("write %s: %w", j.final, err)
	}
	if err := os.Rename(j.tmp, j.final); err != nil {
		os.Remove(j.tmp)
		return fmt.Errorf("write %s: %w", j.final, err)
	}
	return nil
}

// Path is where the file will be once committed ("" for a stream).
func (j *JSONL) Path() string { return j.final }

// Abort drops a file that was being written.
func (j *JSONL) Abort() {
	if j.f != nil {
		j.f.Close()
		os.Remove(j.tmp)
	}
}

// Tee sends events to several sinks in turn.
type Tee []interface {
	Write([]*event.Event) error
}

// Write implements pipeline.Sink.
func (t Tee) Write(evs []*event.Event) error {
	for _, s := range t {
		if err := s.Write(evs); err != nil {
			return err
		}
	}
	return nil
}
