package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/medtap/medtap/detect/inventory"
)

var descInventoryAssets = newDesc("inventory", "assets", "Assets in the inventory, by device class.", "class")

// InventoryCollector exports the inventory's assets per class (the closed
// set inventory.Classes). counts is read at scrape time and must be safe
// to call from any goroutine (inventory.Inventory.ClassCounts is).
type InventoryCollector struct {
	counts func() []int64
}

// NewInventoryCollector returns a collector over counts, in the order of
// inventory.Classes.
func NewInventoryCollector(counts func() []int64) *InventoryCollector {
	return &InventoryCollector{counts: counts}
}

// Describe implements prometheus.Collector.
func (c *InventoryCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descInventoryAssets }

// Collect implements prometheus.Collector.
func (c *InventoryCollector) Collect(ch chan<- prometheus.Metric) {
	counts := c.counts()
	for i, class := range inventory.Classes {
		var v int64
		if i < len(counts) {
			v = counts[i]
		}
		ch <- prometheus.MustNewConstMetric(descInventoryAssets, prometheus.GaugeValue, float64(v), class)
	}
}
