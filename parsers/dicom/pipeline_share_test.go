//go:build unix

package dicom_test

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/medtap/medtap/parsers"
	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/flow"
	"github.com/medtap/medtap/sensor/output"
	"github.com/medtap/medtap/sensor/pipeline"
)

// TestPipelineShare measures what the DICOM parser adds to a whole run of
// the pipeline (one worker, JSON lines written to io.Discard, as
// `medtap analyze --workers 1 FILE > /dev/null`): the registry as shipped
// against the registry without dicom. It runs only when
// MEDTAP_BENCH_PCAP names a capture, for example one made with
//
//	go run ./sensor/cmd/medtap-pcaptool gen -o /tmp/d.pcap -size 256MiB -mix dicom
func TestPipelineShare(t *testing.T) {
	file := os.Getenv("MEDTAP_BENCH_PCAP")
	if file == "" {
		t.Skip("set MEDTAP_BENCH_PCAP to a capture")
	}
	var without []parser.Factory
	for _, f := range parsers.All {
		if f.Name != "dicom" {
			without = append(without, f)
		}
	}
	// Best of five runs each, wall clock and CPU time of this process (the
	// CPU time is less disturbed by other work on a shared machine).
	measure := func(fs []parser.Factory) (wall, cpu time.Duration, events int) {
		wall, cpu = time.Duration(1<<62), time.Duration(1<<62)
		for i := 0; i < 5; i++ {
			p := pipeline.New(pipeline.Config{Workers: 1, Flow: flow.Config{Parsers: fs, Recover: true}})
			sink := &counting{w: output.NewJSONLWriter(discard{})}
			c0, start := cpuTime(), time.Now()
			st := p.Run(context.Background(), []string{file}, sink, func(err error) { t.Error(err) })
			wall, cpu = min(wall, time.Since(start)), min(cpu, cpuTime()-c0)
			if st.SinkErr != nil {
				t.Fatal(st.SinkErr)
			}
			events = sink.n
		}
		return wall, cpu, events
	}
	w1, c1, n1 := measure(parsers.All)
	w0, c0, n0 := measure(without)
	t.Logf("with dicom: %v wall, %v CPU, %d events; without: %v wall, %v CPU, %d events; DICOM adds %+.0f%% wall, %+.0f%% CPU",
		w1, c1, n1, w0, c0, n0, 100*(w1.Seconds()/w0.Seconds()-1), 100*(c1.Seconds()/c0.Seconds()-1))
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

type counting struct {
	w *output.JSONL
	n int
}

func (c *counting) Write(evs []*event.Event) error {
	c.n += len(evs)
	return c.w.Write(evs)
}
