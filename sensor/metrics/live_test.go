package metrics

import (
	"os"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/medtap/medtap/ebpf/sockfilter"
	"github.com/medtap/medtap/sensor/live"
)

// TestLiveCollector lints the live capture's metrics and checks that
// their labels come from closed sets: the configured interface names,
// worker indices and the eBPF program's fixed slot names.
func TestLiveCollector(t *testing.T) {
	r0, r1 := &live.Ring{Iface: "span0", Worker: 0}, &live.Ring{Iface: "span0", Worker: 1}
	r0.Stats.Packets.Add(10)
	r1.Stats.KernelDrops.Add(3)
	var filter *sockfilter.Filter
	if os.Geteuid() == 0 {
		if f, err := sockfilter.Load(sockfilter.Config{}); err == nil {
			filter = f
			defer f.Close()
		} else {
			t.Logf("eBPF metrics not checked: %v", err)
		}
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewLiveCollector([]*live.Ring{r0, r1}, filter))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint %s: %s", p.Metric, p.Text)
	}
	slotNames := map[string]bool{}
	for _, s := range sockfilter.Slots {
		slotNames[s.Name] = true
	}
	allowed := map[string]func(string) bool{
		"interface": func(v string) bool { return v == "span0" },
		"worker":    func(v string) bool { return v == "0" || v == "1" },
		"ethertype": func(v string) bool { return slotNames[v] },
		"proto":     func(v string) bool { return slotNames[v] },
		"port":      func(v string) bool { return slotNames[v] },
		"verdict":   func(v string) bool { return slotNames[v] },
		"error":     func(v string) bool { return slotNames[v] },
	}
	seen := map[string]bool{}
	for _, mf := range mfs {
		seen[mf.GetName()] = true
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				ok := allowed[lp.GetName()]
				if ok == nil || !ok(lp.GetValue()) {
					t.Errorf("%s: %s=%q outside its closed set", mf.GetName(), lp.GetName(), lp.GetValue())
				}
			}
		}
	}
	for _, want := range []string{"medtap_afpacket_kernel_drops_total", "medtap_afpacket_packets_total"} {
		if !seen[want] {
			t.Errorf("%s not exported", want)
		}
	}
	if filter != nil && !seen["medtap_ebpf_filter_verdicts_total"] {
		t.Error("eBPF verdicts not exported")
	}
	for n := range seen {
		if !strings.HasPrefix(n, "medtap_afpacket_") && !strings.HasPrefix(n, "medtap_ebpf_") {
			t.Errorf("unexpected metric %s", n)
		}
	}
}
