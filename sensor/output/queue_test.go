package output

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medtap/medtap/sensor/event"
)

type qBody struct{ N int }

func (*qBody) EventType() string { return "flow" }

func qEvents(n int) []*event.Event {
	evs := make([]*event.Event, n)
	for i := range evs {
		evs[i] = &event.Event{TS: time.Unix(int64(i), 0), Body: &qBody{N: i}}
	}
	return evs
}

// memWriter records what it is given; block holds WriteRecord until closed.
type memWriter struct {
	mu      sync.Mutex
	recs    []string
	block   chan struct{}
	fail    bool
	flushes int
	closed  bool
}

func (m *memWriter) WriteRecord(ctx context.Context, rec []byte) error {
	if m.block != nil {
		select {
		case <-m.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return fmt.Errorf("broken")
	}
	m.recs = append(m.recs, string(rec))
	return nil
}

func (m *memWriter) Flush() error { m.mu.Lock(); m.flushes++; m.mu.Unlock(); return nil }
func (m *memWriter) Close() error { m.closed = true; return nil }

func TestQueueWritesInOrder(t *testing.T) {
	w := &memWriter{}
	q := NewQueue(SinkFile, 0, JSONLine, w)
	evs := qEvents(1000)
	for i := 0; i < len(evs); i += 100 {
		_ = q.Write(evs[i : i+100])
	}
	if err := q.CloseWithin(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if len(w.recs) != len(evs) || !w.closed || w.flushes == 0 {
		t.Fatalf("%d records, closed %v, %d flushes", len(w.recs), w.closed, w.flushes)
	}
	for i, r := range w.recs {
		want, _ := evs[i].AppendJSON(nil)
		if r != string(want) {
			t.Fatalf("record %d = %s, want %s", i, r, want)
		}
	}
	st := q.Stats()
	if st.Written != 1000 || st.Dropped != 0 || st.Sink != SinkFile || st.Capacity != DefaultQueueEvents {
		t.Errorf("stats %+v", st)
	}
	// Writes after Close are dropped and counted, not written.
	_ = q.Write(evs[:3])
	if st := q.Stats(); st.Dropped != 3 || len(w.recs) != 1000 {
		t.Errorf("after close: %+v", st)
	}
}

// TestQueueFullDrops: a stuck writer never blocks Write; what does not fit
// is dropped and counted, and the rest is written once the writer
// recovers.
func TestQueueFullDrops(t *testing.T) {
	w := &memWriter{block: make(chan struct{})}
	q := NewQueue(SinkSyslog, 10, JSONLine, w)
	evs := qEvents(100)
	done := make(chan struct{})
	go func() { _ = q.Write(evs); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Write blocked on a stuck writer")
	}
	st := q.Stats()
	// 10 slots; the writer may already hold one taken off the queue.
	if st.Dropped < 89 || st.Dropped > 90 {
		t.Errorf("dropped %d, want 89..90", st.Dropped)
	}
	close(w.block)
	if err := q.CloseWithin(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	st = q.Stats()
	if st.Written+st.Dropped != 100 || len(w.recs) != int(st.Written) {
		t.Errorf("stats %+v, %d records", st, len(w.recs))
	}
}

func TestQueueCloseDeadline(t *testing.T) {
	w := &memWriter{block: make(chan struct{})} // never unblocks
	q := NewQueue(SinkSyslog, 10, JSONLine, w)
	_ = q.Write(qEvents(5))
	start := time.Now()
	if err := q.CloseWithin(100 * time.Millisecond); err != ErrDrainTimeout {
		t.Errorf("Close = %v, want ErrDrainTimeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v", d)
	}
	if st := q.Stats(); st.Dropped+st.Failed != 5 || st.Written != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestQueueFailuresCounted(t *testing.T) {
	w := &memWriter{fail: true}
	q := NewQueue(SinkNATS, 0, JSONLine, w)
	_ = q.Write(qEvents(7))
	_ = q.CloseWithin(time.Second)
	if st := q.Stats(); st.Failed != 7 || st.Written != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestQueueSkipsAndLimits(t *testing.T) {
	w := &memWriter{}
	alertsOnly := func(dst []byte, e *event.Event) ([]byte, bool) {
		if e.Body.(*qBody).N%2 == 1 {
			return dst, false
		}
		if e.Body.(*qBody).N == 4 {
			return append(dst, strings.Repeat("x", MaxRecordBytes+1)...), true
		}
		return JSONLine(dst, e)
	}
	q := NewQueue(SinkStdout, 0, alertsOnly, w)
	_ = q.Write(append(qEvents(6), nil, &event.Event{}))
	_ = q.CloseWithin(time.Second)
	if st := q.Stats(); st.Written != 2 || st.TooLarge != 1 || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestQueueWriteAllocs: in steady state, queueing an event allocates
// nothing (record buffers are reused).
func TestQueueWriteAllocs(t *testing.T) {
	discard := writerFunc(func([]byte) {})
	q := NewQueue(SinkFile, 64, JSONLine, discard)
	defer q.CloseWithin(time.Second)
	e := &event.Event{TS: time.Unix(1, 0), Body: &qBody{}, Line: []byte(`{"ts":"x","event_type":"flow"}`)}
	evs := []*event.Event{e}
	for i := 0; i < 100; i++ {
		_ = q.Write(evs)
	}
	time.Sleep(50 * time.Millisecond)
	allocs := testing.AllocsPerRun(1000, func() {
		_ = q.Write(evs)
		for q.Stats().Queued > 32 {
			time.Sleep(time.Millisecond)
		}
	})
	if allocs > 0.01 {
		t.Errorf("Write allocates %.2f per event", allocs)
	}
}

type writerFunc func([]byte)

func (f writerFunc) WriteRecord(_ context.Context, b []byte) error { f(b); return nil }
func (writerFunc) Flush() error                                    { return nil }
func (writerFunc) Close() error                                    { return nil }

func TestRotatingFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.jsonl")
	r, err := OpenRotating(path, MinRotateSize, 3)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Repeat("a", 999) // 1000 bytes with the newline: 4 per file
	for i := 0; i < 22; i++ {
		if err := r.WriteRecord(context.Background(), []byte(fmt.Sprintf("%03d%s", i, line[3:]))); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	// 22 records, 4 per file: current holds 20, 21; .1 16-19; .2 12-15;
	// .3 8-11; older ones removed.
	want := map[string][]string{"": {"020", "021"}, ".1": {"016", "017", "018", "019"}, ".2": {"012", "013", "014", "015"}, ".3": {"008", "009", "010", "011"}}
	for suffix, firsts := range want {
		b, err := os.ReadFile(path + suffix)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if len(lines) != len(firsts) {
			t.Fatalf("%s: %d lines, want %d", suffix, len(lines), len(firsts))
		}
		for i, l := range lines {
			if len(l) != 999 || l[:3] != firsts[i] {
				t.Errorf("%s line %d starts %q, want %q", suffix, i, l[:3], firsts[i])
			}
		}
		if len(b) > MinRotateSize {
			t.Errorf("%s is %d bytes, over the rotation size", suffix, len(b))
		}
	}
	if _, err := os.Stat(path + ".4"); !os.IsNotExist(err) {
		t.Errorf("%s.4 kept: %v", path, err)
	}
	if r.Rotations != 5 {
		t.Errorf("%d rotations, want 5", r.Rotations)
	}

	// Reopening appends and counts the size already there.
	r, err = OpenRotating(path, MinRotateSize, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		_ = r.WriteRecord(context.Background(), []byte(line))
	}
	_ = r.Close()
	if r.Rotations != 1 {
		t.Errorf("after reopening: %d rotations, want 1", r.Rotations)
	}
}

func TestRotatingFileErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		size int64
		keep int
		want string
	}{
		{100, 3, "too small"},
		{MinRotateSize, 0, "out of range"},
		{0, MaxRotateKeep + 1, "out of range"},
	} {
		if _, err := OpenRotating(filepath.Join(dir, "x"), tc.size, tc.keep); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("OpenRotating(%d, %d) = %v, want %q", tc.size, tc.keep, err, tc.want)
		}
	}
	if _, err := OpenRotating(filepath.Join(dir, "missing", "x"), 0, 1); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing directory: %v", err)
	}
}
