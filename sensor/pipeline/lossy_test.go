package pipeline

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/medtap/medtap/parsers"
	"github.com/medtap/medtap/sensor/flow"
	"github.com/medtap/medtap/sensor/internal/gentest"
)

// generate writes a mixed capture with the project's generator, clean and
// with a share of its data segments dropped by the project's own drop
// filter.
func generate(t *testing.T, size string) (clean, lossy string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the capture generator")
	}
	g := gentest.Build(t)
	clean = g.Mixed(size, 7)
	return clean, g.Drop(clean, "0.01", 7)
}

type dicomCount struct {
	associations, dimse, gaps int
}

func countDICOM(t *testing.T, lines []string) dicomCount {
	var c dicomCount
	for _, l := range lines {
		var e struct {
			EventType string `json:"event_type"`
			Dicom     struct {
				Type    string `json:"type"`
				Command string `json:"command"`
				Gap     bool   `json:"gap"`
				Status  string `json:"status"`
			} `json:"dicom"`
		}
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatal(err)
		}
		if e.EventType != "dicom" {
			continue
		}
		switch e.Dicom.Type {
		case "association":
			c.associations++
		case "dimse":
			c.dimse++
			if e.Dicom.Gap {
				c.gaps++
			}
		}
	}
	return c
}

// TestOnePercentLoss: with 1% of data segments missing, reassembly memory
// stays under its cap, every gap is reported, and the DICOM decoder keeps
// finding transactions after the gaps instead of giving up on the stream.
func TestOnePercentLoss(t *testing.T) {
	clean, lossy := generate(t, "24MiB")
	const capBytes = 1 << 20
	run := func(file string) ([]string, Stats) {
		p := New(Config{Workers: 2, Flow: flow.Config{Parsers: parsers.All, MaxBufferedTotal: capBytes, MaxBufferedPerStream: 64 << 10}})
		var c collect
		st := p.Run(context.Background(), []string{file}, &c, func(err error) { t.Fatal(err) })
		return c.lines, st
	}
	cleanLines, cleanSt := run(clean)
	lossyLines, lossySt := run(lossy)

	if cleanSt.Flow.TCP.Gaps != 0 {
		t.Errorf("clean capture has %d gaps", cleanSt.Flow.TCP.Gaps)
	}
	if lossySt.Flow.TCP.Gaps == 0 {
		t.Fatal("lossy capture reported no gaps")
	}
	// The cap is split across the two workers.
	if lossySt.PeakBuffered > capBytes/2 {
		t.Errorf("peak buffered %d bytes, over the per-worker cap %d", lossySt.PeakBuffered, capBytes/2)
	}
	cc, lc := countDICOM(t, cleanLines), countDICOM(t, lossyLines)
	t.Logf("clean: %+v; lossy: %+v; gaps %d (%d bytes), peak buffered %d", cc, lc, lossySt.Flow.TCP.Gaps, lossySt.Flow.TCP.GapBytes, lossySt.PeakBuffered)
	if cc.dimse == 0 || cc.associations == 0 {
		t.Fatal("no DICOM decoded from the clean capture")
	}
	if lc.associations != cc.associations {
		t.Errorf("lossy capture: %d associations, clean %d", lc.associations, cc.associations)
	}
	// A C-STORE spans hundreds of segments, so 1% loss touches most of
	// them; each must still be decoded as a transaction (marked gap) and
	// the ones after it found again.
	if lc.dimse < cc.dimse*9/10 {
		t.Errorf("lossy capture: %d DIMSE transactions, want at least 90%% of the clean %d", lc.dimse, cc.dimse)
	}
	if lc.gaps == 0 {
		t.Error("no transaction marked as crossing a gap")
	}
}
