package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/medtap/medtap/sensor/output"
)

type fakeQueue output.QueueStats

func (f fakeQueue) Stats() output.QueueStats { return output.QueueStats(f) }

type fakeSyslog struct{ c, f uint64 }

func (s fakeSyslog) Connects() uint64 { return s.c }
func (s fakeSyslog) Failures() uint64 { return s.f }
func (fakeSyslog) Connected() bool    { return true }

func TestOutputsCollector(t *testing.T) {
	o := NewOutputs()
	o.AddQueue(fakeQueue{Sink: output.SinkSyslog, Capacity: 100, Queued: 7, Written: 50, Dropped: 3, Failed: 1})
	o.AddQueue(fakeQueue{Sink: output.SinkFile, Capacity: 10, Written: 5, TooLarge: 2})
	o.AddQueue(fakeQueue{Sink: output.SinkFile, Capacity: 10, Written: 6})
	o.AddQueue(fakeQueue{Sink: "10.0.0.1", Dropped: 99}) // never a label
	o.AddSyslog(fakeSyslog{c: 2, f: 5})
	reg := prometheus.NewRegistry()
	reg.MustRegister(o)

	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	series := map[string]int{}
	for _, mf := range mfs {
		series[mf.GetName()] += len(mf.GetMetric())
		for _, m := range mf.GetMetric() {
			k := mf.GetName()
			for _, l := range m.GetLabel() {
				k += "," + l.GetName() + "=" + l.GetValue()
			}
			got[k] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	for k, v := range map[string]float64{
		"medtap_output_dropped_events_total,reason=queue_full,sink=syslog":   3,
		"medtap_output_dropped_events_total,reason=write_failed,sink=syslog": 1,
		"medtap_output_dropped_events_total,reason=too_large,sink=file":      2,
		"medtap_output_dropped_events_total,reason=queue_full,sink=nats":     0,
		"medtap_output_sink_written_events_total,sink=file":                  11,
		"medtap_output_sink_written_events_total,sink=syslog":                50,
		"medtap_output_queued_events,sink=syslog":                            7,
		"medtap_output_queue_capacity_events,sink=file":                      20,
		"medtap_output_queue_capacity_events,sink=stdout":                    0,
		"medtap_syslog_connects_total":                                       2,
		"medtap_syslog_errors_total":                                         5,
		"medtap_syslog_connected":                                            1,
	} {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	n := len(output.SinkNames)
	if series["medtap_output_dropped_events_total"] != 3*n || series["medtap_output_sink_written_events_total"] != n {
		t.Errorf("series: %v", series)
	}
	for k := range got {
		if strings.Contains(k, "10.0.0.1") {
			t.Errorf("label outside the closed set: %s", k)
		}
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	for _, n := range []string{"medtap_output_dropped_events_total", "medtap_syslog_errors_total", "medtap_output_queued_events"} {
		found := false
		for _, x := range Names() {
			found = found || x == n
		}
		if !found {
			t.Errorf("%s missing from Names()", n)
		}
	}
}
