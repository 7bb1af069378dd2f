package output

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/pipeline"
)

func TestJSONLAppearsWholeOrNotAtAll(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.jsonl")
	j, err := CreateJSONL(path)
	if err != nil {
		t.Fatal(err)
	}
	ev := &event.Event{TS: time.Unix(1, 0), Body: &parser.Anomaly{Source: "x", Code: "y"}}
	if err := j.Write([]*event.Event{ev, ev}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("file visible before commit")
	}
	if err := j.Commit(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if n := strings.Count(string(data), "\n"); n != 2 || j.N != 2 {
		t.Fatalf("%d lines, N=%d", n, j.N)
	}
	k, _ := CreateJSONL(filepath.Join(dir, "other.jsonl"))
	k.Write([]*event.Event{ev})
	k.Abort()
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("aborted file left %d entries", len(entries))
	}
}

func TestSummary(t *testing.T) {
	st := &pipeline.Stats{Files: 2, FilesFailed: 1, Frames: 1234567, CapturedLen: 3 << 30, Elapsed: 1500 * time.Millisecond, Workers: 2}
	st.Flow.FlowsCreated = 10
	st.Flow.FlowsByProto = map[string]uint64{"dicom": 3, "unknown": 7}
	st.Flow.Anomalies = map[string]uint64{"dicom/pdu_too_long": 2}
	var b bytes.Buffer
	Summary(&b, st, 42, "out/events.jsonl")
	s := b.String()
	for _, w := range []string{"2 files (1 failed)", "1,234,567 packets", "3.00 GiB", "unknown 7, dicom 3", "dicom/pdu_too_long 2", "events: 42 written to out/events.jsonl", "Gbit/s"} {
		if !strings.Contains(s, w) {
			t.Errorf("summary lacks %q:\n%s", w, s)
		}
	}
}
