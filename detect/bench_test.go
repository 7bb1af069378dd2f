package detect

import (
	"context"
	"os"
	"runtime"
	"testing"

	"github.com/medtap/medtap/parsers"
	"github.com/medtap/medtap/parsers/hl7"
	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/flow"
	"github.com/medtap/medtap/sensor/pipeline"
)

// pipelineEvents runs the pipeline over captures and returns their events.
func pipelineEvents(b *testing.B, pcaps ...string) []*event.Event {
	b.Helper()
	var evs []*event.Event
	for _, pc := range pcaps {
		c := &collect{}
		p := pipeline.New(pipeline.Config{Workers: 1, Flow: flow.Config{Parsers: parsers.All}})
		p.Run(context.Background(), []string{pc}, c, func(err error) { b.Fatal(err) })
		evs = append(evs, c.evs...)
	}
	return evs
}

// BenchmarkEngine measures the detection cost per event (ns/event and
// allocs/event; op is one Write of the whole batch):
//
//   - repeat-phi: the HL7 messages of pcaps/hl7-mllp.pcap (patient names,
//     IDs, birth dates) over and over on one open flow, 64 times per batch:
//     every message re-confirms the MT-PHI-002 alert pending for the flow,
//     the common case on a busy interface.
//   - mix: the events of dicom-store, hl7-mllp and https-curl (DICOM
//     associations and C-STOREs, HL7, TLS, flow records: flows start, alert
//     and end every round).
//   - capture: with MEDTAP_BENCH_PCAP=FILE, the events of that capture
//     (e.g. one made by `medtap-pcaptool gen`).
func BenchmarkEngine(b *testing.B) {
	b.Run("repeat-phi", func(b *testing.B) {
		var msgs []*event.Event
		for _, ev := range pipelineEvents(b, "../pcaps/hl7-mllp.pcap") {
			if _, ok := ev.Body.(*hl7.Message); ok {
				msgs = append(msgs, ev)
			}
		}
		if len(msgs) == 0 {
			b.Fatal("no HL7 messages")
		}
		f := *msgs[0].Flow
		var evs []*event.Event
		for range 64 {
			for _, m := range msgs {
				c := *m
				c.Flow = &f
				evs = append(evs, &c)
			}
		}
		benchEngine(b, evs)
	})
	// repeat-text: the plaintext channels of detect/testdata/captures (an
	// HTTP POST with identifiers and Basic credentials, a syslog message
	// with identifiers, an SNMP v2c community, a Telnet login), each
	// repeated 64 times on its own open flow: re-confirming MT-PHI-005,
	// MT-PHI-006 and MT-CRED-001.
	b.Run("repeat-text", func(b *testing.B) {
		var evs []*event.Event
		for _, pc := range []string{"http-basic-phi.pcap", "syslog-phi.pcap", "snmp-v2c.pcap", "telnet-login.pcap"} {
			var one []*event.Event
			for _, ev := range pipelineEvents(b, "testdata/captures/"+pc) {
				if _, ok := ev.Body.(*flow.Record); !ok && ev.Flow != nil {
					one = append(one, ev)
				}
			}
			if len(one) == 0 {
				b.Fatalf("%s: no events", pc)
			}
			f := *one[0].Flow
			for range 64 {
				for _, m := range one {
					c := *m
					c.Flow = &f
					evs = append(evs, &c)
				}
			}
		}
		benchEngine(b, evs)
	})
	b.Run("mix", func(b *testing.B) {
		benchEngine(b, pipelineEvents(b, "../pcaps/dicom-store.pcap", "../pcaps/hl7-mllp.pcap", "../pcaps/https-curl.pcap"))
	})
	if pc := os.Getenv("MEDTAP_BENCH_PCAP"); pc != "" {
		b.Run("capture", func(b *testing.B) {
			benchEngine(b, pipelineEvents(b, pc))
		})
	}
}

func benchEngine(b *testing.B, evs []*event.Event) {
	eng, err := New(nil, Options{Key: testKey})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	// One round first: flows, baselines and pending alerts exist, as in a
	// long run.
	if err := eng.Write(evs); err != nil {
		b.Fatal(err)
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := eng.Write(evs); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&m1)
	n := float64(b.N * len(evs))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/event")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/n, "allocs/event")
}
