package metrics

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/medtap/medtap/detect"
	"github.com/medtap/medtap/detect/policy"
	"github.com/medtap/medtap/parsers"
	"github.com/medtap/medtap/parsers/dicom"
	"github.com/medtap/medtap/parsers/hl7"
	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/flow"
	"github.com/medtap/medtap/sensor/output"
	"github.com/medtap/medtap/sensor/pipeline"
)

// tally counts what the run wrote, independently of the metrics.
type tally struct {
	byType       map[string]int
	associations int
	dimse        int
	flows        int
	medical      map[string]uint64 // "proto/encrypted" -> payload bytes (dicom, hl7, astm only)
	alerts       int
}

func (c *tally) Write(evs []*event.Event) error {
	for _, e := range evs {
		c.byType[e.Body.EventType()]++
		switch b := e.Body.(type) {
		case *dicom.Association:
			c.associations++
		case *dicom.DIMSE:
			c.dimse++
		case *flow.Record:
			c.flows++
			proto := b.AppProto
			if proto == "tls" {
				// TLS on a medical parser's hinted port carries it.
				for _, f := range []parser.Factory{dicom.Factory, hl7.Factory} {
					if slices.Contains(f.Ports, e.Flow.Server.Port()) {
						proto = f.Name
						break
					}
				}
			}
			switch proto {
			case "dicom", "hl7", "astm":
				k := proto + "/false"
				if b.Encrypted {
					k = proto + "/true"
				}
				c.medical[k] += b.PayloadToServer + b.PayloadToClient
			}
		case *detect.Alert:
			c.alerts++
		}
	}
	return nil
}

type analysis struct {
	reg   *prometheus.Registry
	st    pipeline.Stats
	snap  pipeline.Stats
	tally *tally
}

// analyze runs the real pipeline, parsers and detection over the bundled
// captures with the metrics wired as medtap wires them.
func analyze(t *testing.T) *analysis {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("..", "..", "pcaps", "*.pcap"))
	if len(files) == 0 {
		t.Fatal("no captures in pcaps/")
	}
	reg := NewRegistry("test")
	sink := NewSink(parsers.All)
	p := pipeline.New(pipeline.Config{Workers: 2, Flow: flow.Config{Parsers: parsers.All, Recover: true}})
	reg.MustRegister(NewCollector(p.Snapshot, parsers.All), sink)

	events := &tally{byType: map[string]int{}, medical: map[string]uint64{}}
	alerts := &tally{byType: map[string]int{}, medical: map[string]uint64{}}
	eng, err := detect.New(policy.Default(), detect.Options{
		AlertSink: output.Tee{alerts, sink},
		Key:       []byte("0123456789abcdef0123456789abcdef"),
	})
	if err != nil {
		t.Fatal(err)
	}
	// Scrapes go on while the pipeline runs, as a Prometheus server's
	// would (go test -race checks the collector and the sink).
	done, scraped := make(chan struct{}), make(chan int)
	go func() {
		n, last := 0, map[string]float64{}
		for {
			select {
			case <-done:
				scraped <- n
				return
			default:
			}
			mfs, err := reg.Gather()
			if err != nil {
				t.Error(err)
			}
			// Counters never go down between scrapes.
			for _, mf := range mfs {
				for _, m := range mf.GetMetric() {
					if m.Counter == nil {
						continue
					}
					key := mf.GetName()
					for _, lp := range m.GetLabel() {
						key += "," + lp.GetName() + "=" + lp.GetValue()
					}
					if v := m.Counter.GetValue(); v < last[key] {
						t.Errorf("%s went down: %v after %v", key, v, last[key])
					} else {
						last[key] = v
					}
				}
			}
			n++
		}
	}()
	st := p.Run(context.Background(), files, sink.Timed(output.Tee{events, eng}), func(err error) { t.Logf("input: %v", err) })
	close(done)
	t.Logf("%d scrapes during the run", <-scraped)
	if st.SinkErr != nil {
		t.Fatal(st.SinkErr)
	}
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	events.alerts = alerts.byType["alert"]
	return &analysis{reg: reg, st: st, snap: p.Snapshot(), tally: events}
}

func sum(vals map[string]float64, prefix string) float64 {
	var s float64
	for k, v := range vals {
		if k == prefix || strings.HasPrefix(k, prefix+"{") {
			s += v
		}
	}
	return s
}

// TestEndToEnd checks the metrics of a real run against the run's Stats and
// against the events it wrote.
func TestEndToEnd(t *testing.T) {
	a := analyze(t)
	got := values(t, a.reg)
	st, c := &a.st, a.tally
	if st.Flow.FlowsCreated == 0 || c.associations == 0 || c.byType["hl7"] == 0 || c.byType["tls"] == 0 {
		t.Fatalf("captures gave too little to check: %+v", c.byType)
	}
	checks := []struct {
		name string
		got  float64
		want float64
	}{
		{"packets", got["medtap_capture_packets_total"], float64(st.Frames)},
		{"bytes", got["medtap_capture_bytes_total"], float64(st.CapturedLen)},
		{"files", got["medtap_capture_files_total"], float64(st.Files)},
		{"flows created", got["medtap_flows_created_total"], float64(st.Flow.FlowsCreated)},
		{"flows created = flow records", got["medtap_flows_created_total"], float64(c.flows)},
		{"flows ended", sum(got, "medtap_flows_ended_total"), float64(c.flows)},
		{"flows by parser", sum(got, "medtap_parser_flows_total"), float64(c.flows)},
		{"active at end", got["medtap_flows_active"], 0},
		{"decoded frames", got["medtap_decode_frames_total"], float64(st.Decode.Packets)},
		{"malformed", sum(got, "medtap_decode_malformed_frames_total"), float64(st.Decode.MalformedTotal())},
		{"segments", got["medtap_reassembly_segments_total"], float64(st.Flow.TCP.Segments)},
		{"gaps", got["medtap_reassembly_gaps_total"], float64(st.Flow.TCP.Gaps)},
		{"panics", sum(got, "medtap_parser_panics_total"), float64(st.Flow.ParserPanics)},
		{"associations", sum(got, "medtap_dicom_associations_total"), float64(c.associations)},
		{"dimse", sum(got, "medtap_dicom_dimse_total"), float64(c.dimse)},
		{"hl7", sum(got, "medtap_hl7_messages_total"), float64(c.byType["hl7"])},
		{"tls", sum(got, "medtap_tls_handshakes_total"), float64(c.byType["tls"])},
		{"astm", got["medtap_astm_messages_total"], float64(c.byType["astm"])},
		{"events", sum(got, "medtap_output_events_total") - got[`medtap_output_events_total{event_type="alert"}`], float64(st.Flow.Events)},
		{"alerts", sum(got, "medtap_detect_alerts_total"), float64(c.alerts)},
		{"alert events", got[`medtap_output_events_total{event_type="alert"}`], float64(c.alerts)},
		{"anomalies", sum(got, "medtap_parser_anomalies_total") + sum(got, "medtap_reassembly_anomalies_total"), float64(c.byType["anomaly"])},
	}
	for _, k := range []string{"dicom/false", "dicom/true", "hl7/false", "hl7/true"} {
		proto, enc, _ := strings.Cut(k, "/")
		name := `medtap_medical_payload_bytes_total{encrypted="` + enc + `",protocol="` + proto + `"}`
		checks = append(checks, struct {
			name string
			got  float64
			want float64
		}{name, got[name], float64(c.medical[k])})
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s: metric %v, want %v", ck.name, ck.got, ck.want)
		}
	}
	if got["medtap_output_write_duration_seconds_count"] == 0 {
		t.Error("no write latency observed")
	}
	// Snapshot after Run equals Run's result (the collector reads it).
	if a.snap.Frames != st.Frames || a.snap.Flow.FlowsCreated != st.Flow.FlowsCreated || a.snap.Decode.Packets != st.Decode.Packets {
		t.Errorf("Snapshot %+v differs from Run's stats %+v", a.snap, *st)
	}
	t.Logf("flows %d, associations %d, dimse %d, hl7 %d, tls %d, alerts %d, medical %v",
		c.flows, c.associations, c.dimse, c.byType["hl7"], c.byType["tls"], c.alerts, c.medical)
}
