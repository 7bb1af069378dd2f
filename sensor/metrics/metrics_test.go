package metrics

import (
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"

	"github.com/medtap/medtap/detect"
	"github.com/medtap/medtap/detect/inventory"
	"github.com/medtap/medtap/parsers"
	"github.com/medtap/medtap/parsers/astm"
	"github.com/medtap/medtap/parsers/dicom"
	"github.com/medtap/medtap/parsers/framing"
	"github.com/medtap/medtap/parsers/hl7"
	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/tls"
	"github.com/medtap/medtap/sensor/decode"
	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/flow"
	"github.com/medtap/medtap/sensor/output"
	"github.com/medtap/medtap/sensor/pipeline"
)

// fakeStats has every counter non-zero, and hostile map keys.
func fakeStats() pipeline.Stats {
	var st pipeline.Stats
	st.Files, st.FilesFailed, st.Frames, st.CapturedLen = 3, 1, 1000, 123456
	st.LastTS = 1_700_000_000_000_000_000
	st.Workers, st.ActiveFlows, st.Buffered, st.PeakBuffered = 2, 5, 100, 4096
	st.Decode.Packets, st.Decode.TCP, st.Decode.UDP, st.Decode.OtherIP, st.Decode.NotIP = 1000, 800, 150, 10, 30
	for i := range st.Decode.Malformed {
		st.Decode.Malformed[i] = uint64(i + 1)
	}
	st.Decode.Fragments, st.Decode.Reassembled = 20, 9
	st.Decode.Defrag.LimitHits, st.Decode.Defrag.Timeouts, st.Decode.Defrag.Evicted = 1, 2, 3
	f := &st.Flow
	f.FlowsCreated, f.Evicted, f.Packets, f.Bytes, f.Events, f.ParserPanics = 40, 2, 950, 120000, 99, 1
	for i := range f.FlowsEnded {
		f.FlowsEnded[i] = uint64(i)
	}
	f.FlowsByProto = map[string]uint64{"dicom": 10, "hl7": 5, "unknown": 20, "10.0.0.1": 1, "STORESCU": 2}
	f.Anomalies = map[string]uint64{
		"dicom/pdu_too_long": 3, "dicom/parser_panic": 1, "tcp/stream_buffer_limit": 2,
		"hl7/Patient^Name": 1, "10.1.2.3/bad": 1, "tls/" + strings.Repeat("a", 100): 1,
	}
	t := &f.TCP
	t.Segments, t.InOrder, t.OutOfOrder, t.Retransmitted, t.Overlaps = 700, 650, 30, 15, 5
	t.Gaps, t.GapBytes, t.StreamLimit, t.TotalLimit, t.MidStream = 2, 3000, 1, 1, 4
	return st
}

func flowOf(client, server string) *parser.Flow {
	return &parser.Flow{Client: netip.MustParseAddrPort(client), Server: netip.MustParseAddrPort(server), Proto: 6}
}

// hostileEvents touch every event metric, with hostile values where a
// label could leak.
func hostileEvents() []*event.Event {
	fl := flowOf("10.0.0.7:40000", "10.0.0.9:104")
	tlsFl := flowOf("10.0.0.7:40001", "10.0.0.9:2762")
	bodies := []parser.Body{
		&flow.Record{AppProto: "dicom", PayloadToServer: 1000, PayloadToClient: 10},
		&flow.Record{AppProto: "tls", PayloadToServer: 500, PayloadToClient: 50, Encrypted: true},
		&flow.Record{AppProto: "STORESCU@10.0.0.7", PayloadToServer: 7},
		&dicom.Association{Result: "accepted", CallingAE: "STORESCU", CalledAE: "PACS"},
		&dicom.Association{Result: "STORESCU", CallingAE: "10.0.0.1"},
		&dicom.DIMSE{Command: "C-STORE", StatusClass: "success"},
		&dicom.DIMSE{Command: "PACS_MAIN", StatusClass: "Doe^John"},
		&hl7.Message{MessageType: "ADT", AckCode: "AA"},
		&hl7.Message{MessageType: "adt"},
		&hl7.Message{MessageType: "A D", AckCode: "Doe^John"},
		&hl7.Message{MessageType: "ORU^R01", AckCode: "AE"},
		&astm.Message{},
		&tls.Handshake{Version: "TLSv1.3", Encrypted: true},
		&tls.Handshake{Version: "0x7f1c"},
		&tls.Handshake{},
		&framing.Session{Protocol: "vitals-udp", FramesToServer: 3, FramesToClient: 1, ChecksumErrors: 1},
		&framing.Session{Protocol: "host.example.org", FramesToServer: 1},
		&parser.Anomaly{Source: "dicom", Code: "pdu_too_long"},
		&detect.Alert{RuleID: detect.Rules()[0].ID, Severity: "critical"},
		&detect.Alert{RuleID: "MT-EVIL-999 10.0.0.1", Severity: "Doe^John"},
	}
	var evs []*event.Event
	for i, b := range bodies {
		e := &event.Event{Body: b, Flow: fl}
		if i == 1 {
			e.Flow = tlsFl
		}
		evs = append(evs, e)
	}
	// Many distinct well-formed HL7 types: past MaxHL7Types they are "other".
	for i := 0; i < MaxHL7Types+10; i++ {
		t := string([]byte{'Z', byte('A' + i/26%26), byte('A' + i%26)})
		evs = append(evs, &event.Event{Body: &hl7.Message{MessageType: t}})
	}
	return evs
}

// fullRegistry has every medtap metric with at least one series.
func fullRegistry(t *testing.T) *prometheus.Registry {
	t.Helper()
	reg := NewRegistry("test")
	sink := NewSink(parsers.All)
	reg.MustRegister(NewCollector(fakeStats, parsers.All), sink)
	reg.MustRegister(NewOutputs()) // output sinks and syslog: every series exists unconfigured
	reg.MustRegister(NewInventoryCollector(func() []int64 { return []int64{3, 1} }))
	// HTTP API, NATS publisher, hub.
	reg.MustRegister(&OpsCollector{
		API:  func() uint64 { return 0 },
		NATS: func() NATSStats { return NATSStats{} },
		Hub:  func() HubStats { return HubStats{} },
	})
	w := sink.Timed(nopSink{})
	if err := w.Write(hostileEvents()); err != nil {
		t.Fatal(err)
	}
	return reg
}

type nopSink struct{}

func (nopSink) Write([]*event.Event) error { return nil }

// TestLint runs promlint over every registered metric, Go runtime and
// process metrics included, and checks every medtap metric is gathered
// (so none escapes the lint).
func TestLint(t *testing.T) {
	reg := fullRegistry(t)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	var gathered []string
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "medtap_") {
			gathered = append(gathered, mf.GetName())
		}
	}
	// The afpacket and ebpf series need capture sockets and a loaded
	// program: TestLiveCollector gathers and lints them.
	want := slices.DeleteFunc(Names(), func(n string) bool {
		return strings.HasPrefix(n, "medtap_afpacket_") || strings.HasPrefix(n, "medtap_ebpf_")
	})
	if !slices.Equal(gathered, want) {
		t.Errorf("gathered medtap metrics\n%v\nwant Names()\n%v", gathered, want)
	}
	nameRE := regexp.MustCompile(`^medtap_[a-z0-9]+(_[a-z0-9]+)+$`)
	for _, mf := range mfs {
		n := mf.GetName()
		if !strings.HasPrefix(n, "medtap_") {
			continue
		}
		if !nameRE.MatchString(n) {
			t.Errorf("%s: not medtap_<subsystem>_<name>", n)
		}
		if mf.GetType() == dto.MetricType_COUNTER != strings.HasSuffix(n, "_total") {
			t.Errorf("%s: a counter ends in _total and only a counter does (type %v)", n, mf.GetType())
		}
	}
}

// TestLabelsClosed feeds hostile values and checks that every label value
// that appears is from its closed set.
func TestLabelsClosed(t *testing.T) {
	reg := fullRegistry(t)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	parserNames := map[string]bool{"unknown": true, other: true}
	for _, f := range parsers.All {
		parserNames[f.Name] = true
	}
	rules := map[string]bool{other: true}
	for _, r := range detect.Rules() {
		rules[r.ID] = true
	}
	orOther := func(m map[string]string) map[string]bool {
		n := map[string]bool{other: true}
		for k := range m {
			n[k] = true
		}
		return n
	}
	malformed := map[string]bool{}
	for _, n := range decode.ErrNames {
		malformed[n] = true
	}
	code := regexp.MustCompile(`^[a-z][a-z0-9_]{0,47}$`)
	hl7Type := regexp.MustCompile(`^([A-Z0-9]{3}|other)$`)
	allowed := map[string]func(string) bool{
		"event_type":   func(v string) bool { return orOther(eventTypes)[v] },
		"result":       func(v string) bool { return orOther(dicomResults)[v] },
		"command":      func(v string) bool { return orOther(dimseCommands)[v] },
		"status_class": func(v string) bool { return orOther(dimseStatus)[v] },
		"ack_code":     func(v string) bool { return orOther(hl7AckCodes)[v] },
		"message_type": hl7Type.MatchString,
		"version":      func(v string) bool { return orOther(tlsVersions)[v] || v == "test" },
		"encrypted":    func(v string) bool { return v == "true" || v == "false" },
		"protocol":     func(v string) bool { return parserNames[v] },
		"parser":       func(v string) bool { return parserNames[v] },
		"rule":         func(v string) bool { return rules[v] },
		"severity":     func(v string) bool { return orOther(severities)[v] },
		"code":         func(v string) bool { return code.MatchString(v) || malformed[v] },
		"reason": func(v string) bool {
			return slices.Contains(closeReasons, v) || slices.Contains(dropReasons, v) || v == other
		},
		"sink":      func(v string) bool { return slices.Contains(output.SinkNames, v) },
		"transport": func(v string) bool { return v == "tcp" || v == "udp" || v == other },
		"kind":      func(v string) bool { return v == "stream" || v == "total" || slices.Contains(hubKinds, v) },
		"goversion": func(v string) bool { return strings.HasPrefix(v, "go") },
		"class":     func(v string) bool { return slices.Contains(inventory.Classes, v) },
	}
	hl7Types := map[string]bool{}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "medtap_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				ok, known := allowed[lp.GetName()]
				if !known {
					t.Errorf("%s: label %q has no closed set in this test", mf.GetName(), lp.GetName())
					continue
				}
				if !ok(lp.GetValue()) {
					t.Errorf("%s: %s=%q is outside its closed set", mf.GetName(), lp.GetName(), lp.GetValue())
				}
				if lp.GetName() == "message_type" {
					hl7Types[lp.GetValue()] = true
				}
			}
		}
	}
	if len(hl7Types) > MaxHL7Types+1 {
		t.Errorf("%d HL7 message types exported, want at most %d and other", len(hl7Types), MaxHL7Types)
	}
	// The hostile values themselves never appear anywhere.
	text := gatherText(t, reg)
	for _, leak := range []string{"10.0.0", "STORESCU", "PACS", "Doe", "John", "host.example", "EVIL", "0x7f1c", "Patient"} {
		if strings.Contains(text, leak) {
			t.Errorf("exposition holds %q", leak)
		}
	}
}

func gatherText(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, mf := range mfs {
		b.WriteString(mf.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// TestCollectorValues checks the collector reads the stats as they are.
func TestCollectorValues(t *testing.T) {
	st := fakeStats()
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(func() pipeline.Stats { return st }, parsers.All))
	got := values(t, reg)
	for name, want := range map[string]float64{
		`medtap_capture_packets_total`:                                  1000,
		`medtap_capture_files_failed_total`:                             1,
		`medtap_flows_created_total`:                                    40,
		`medtap_flows_active`:                                           5,
		`medtap_flows_ended_total{reason="evicted"}`:                    3,
		`medtap_decode_malformed_frames_total{code="bad_fragment"}`:     6,
		`medtap_reassembly_limit_hits_total{kind="total"}`:              1,
		`medtap_reassembly_anomalies_total{code="stream_buffer_limit"}`: 2,
		`medtap_parser_flows_total{parser="dicom"}`:                     10,
		`medtap_parser_flows_total{parser="other"}`:                     3,
		`medtap_parser_panics_total{parser="dicom"}`:                    1,
		`medtap_parser_anomalies_total{code="other",parser="hl7"}`:      1,
		`medtap_parser_anomalies_total{code="bad",parser="other"}`:      1,
		`medtap_reassembly_buffered_peak_bytes`:                         4096,
	} {
		if got[name] != want {
			t.Errorf("%s = %v, want %v", name, got[name], want)
		}
	}
}

// values flattens a registry into "name{l="v",...}" -> value.
func values(t *testing.T, reg prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, lp := range m.GetLabel() {
				ls = append(ls, lp.GetName()+`="`+lp.GetValue()+`"`)
			}
			key := mf.GetName()
			if len(ls) > 0 {
				key += "{" + strings.Join(ls, ",") + "}"
			}
			switch {
			case m.Counter != nil:
				out[key] = m.Counter.GetValue()
			case m.Gauge != nil:
				out[key] = m.Gauge.GetValue()
			case m.Histogram != nil:
				out[key+"_count"] = float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return out
}

// TestLabelsOwnTheirText: a series keeps its label values as long as it
// lives, and events' strings may lie in memory their parser reuses once
// the event is written (parser.Reusable). The labels must be the sink's
// own strings: after the event's text is overwritten, the series are
// still named as they were.
func TestLabelsOwnTheirText(t *testing.T) {
	reg := prometheus.NewRegistry()
	sink := NewSink(parsers.All)
	reg.MustRegister(sink)
	text := []byte("ORUAE")
	view := func(i, n int) string { return unsafe.String(&text[i], n) }
	evs := []*event.Event{
		{Body: &hl7.Message{MessageType: view(0, 3), AckCode: view(3, 2)}},
		{Body: &dicom.Association{Result: view(0, 3)}},
	}
	if err := sink.Write(evs); err != nil {
		t.Fatal(err)
	}
	copy(text, "XXXXX")
	got := values(t, reg)
	if got[`medtap_hl7_messages_total{ack_code="AE",message_type="ORU"}`] != 1 {
		t.Errorf("hl7 series renamed with the event's text: %v", got)
	}
}
