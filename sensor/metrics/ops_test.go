package metrics

import (
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

func TestOpsCollector(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(&OpsCollector{
		API:  func() uint64 { return 3 },
		NATS: func() NATSStats { return NATSStats{Published: 10, Spooled: 4, SpoolBytes: 512, Connected: true} },
		Hub:  func() HubStats { return HubStats{Messages: map[string]uint64{"alert": 2}, Duplicates: 1} },
	})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil || len(problems) > 0 {
		t.Fatalf("promlint: %v %+v", err, problems)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += "{" + l.GetName() + "=" + l.GetValue() + "}"
			}
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
			got[name] = v
		}
	}
	for name, v := range map[string]float64{
		"medtap_api_unauthorized_requests_total": 3, "medtap_hub_messages_total{kind=alert}": 2,
		"medtap_hub_messages_total{kind=asset}": 0, "medtap_hub_duplicate_messages_total": 1,
		"medtap_nats_published_messages_total": 10, "medtap_nats_buffered_messages_total": 4,
		"medtap_nats_buffer_bytes": 512, "medtap_nats_connected": 1,
	} {
		if g, ok := got[name]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", name, g, ok, v)
		}
	}
	// Every name is known to Names (the dashboards test relies on it).
	for _, mf := range mfs {
		if !slices.Contains(Names(), mf.GetName()) {
			t.Errorf("%s missing from Names", mf.GetName())
		}
	}
	// Nil sources export nothing.
	empty := prometheus.NewRegistry()
	empty.MustRegister(&OpsCollector{})
	if mfs, _ := empty.Gather(); len(mfs) != 0 {
		t.Errorf("an empty collector exported %d families", len(mfs))
	}
}
