package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/sensor/internal/gentest"
)

// TestWrittenEventsNotKept: once every sink has written an event, the
// pipeline reuses it and the memory of its body (parser.Reusable). A sink
// (detection, inventory, outputs) that kept any string of an event would
// then show another message's text, or patient values. The test analyzes
// the bundled captures and a generated mixed one twice, the second time
// with released text overwritten, and wants every output byte-identical.
func TestWrittenEventsNotKept(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the capture generator")
	}
	dir := t.TempDir()
	mixed := gentest.Build(t).Mixed("12MiB", 3)
	inputs := []string{"../../../pcaps/hl7-corpus.pcap", "../../../pcaps/hl7-chinese.pcap", "../../../pcaps/hl7-nak.pcap",
		"../../../pcaps/inventory-lan.pcap", "../../../pcaps/dicom-store.pcap", mixed}
	analyzeTo := func(out string, poison bool) {
		parser.PoisonReleased.Store(poison)
		defer parser.PoisonReleased.Store(false)
		args := append([]string{"analyze", "-q", "--workers", "2", "-o", out}, inputs...)
		if code, _, stderr := medtap(args...); code != exitOK {
			t.Fatalf("analyze (poison %v): exit %d: %s", poison, code, stderr)
		}
	}
	plain, poisoned := filepath.Join(dir, "plain"), filepath.Join(dir, "poisoned")
	analyzeTo(plain, false)
	analyzeTo(poisoned, true)
	for _, name := range []string{"events.jsonl", "alerts.jsonl", "assets.json"} {
		a, errA := os.ReadFile(filepath.Join(plain, name))
		b, errB := os.ReadFile(filepath.Join(poisoned, name))
		if errA != nil || errB != nil {
			t.Fatalf("%s: %v, %v", name, errA, errB)
		}
		if len(a) == 0 {
			t.Errorf("%s: empty", name)
		}
		if !bytes.Equal(a, b) {
			i := 0
			for i < len(a) && i < len(b) && a[i] == b[i] {
				i++
			}
			t.Errorf("%s differs once released text is overwritten, at byte %d:\nplain:    %.200q\npoisoned: %.200q", name, i, a[max(0, i-80):], b[max(0, i-80):])
		}
	}
	if b, _ := os.ReadFile(filepath.Join(plain, "events.jsonl")); bytes.Count(b, []byte(`"event_type":"hl7"`)) < 1000 {
		t.Errorf("only %d hl7 events: too few to reuse blocks", bytes.Count(b, []byte(`"event_type":"hl7"`)))
	}
}
