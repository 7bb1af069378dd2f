// Package metrics is medtap's Prometheus instrumentation: the metrics of an
// analysis (capture, decode, flows, reassembly, parsers, medical protocols,
// alerts), kept in a private registry and served by Handler.
//
// Two kinds of source feed it:
//
//   - the pipeline's own counters, read (never counted a second time) by a
//     Collector over a func() pipeline.Stats, typically
//     (*pipeline.Pipeline).Snapshot, at each scrape;
//   - the events the pipeline writes, and the alerts detect writes, counted
//     by a Sink that sits next to the other sinks (output.Tee) and is also
//     detect's alert sink.
//
// Names follow medtap_<subsystem>_<name>_<unit>, counters end in _total,
// units are base units. Every label takes its values from a closed set:
// parser names from the parser registry, anomaly codes (snake_case, at
// most MaxCodesPerSource per source), DICOM commands and status classes,
// HL7 message types (three characters [A-Z0-9], at most MaxHL7Types) and
// ACK codes, TLS versions, rule ids from detect.Rules() and severities.
// A value outside its set is counted under "other". No address, AE title,
// host name, file name or patient value ever becomes a label.
package metrics

import (
	"net/http"
	"runtime"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const namespace = "medtap"

// Bounds on label sets that are closed by shape rather than by a list.
const (
	// MaxCodesPerSource bounds the distinct anomaly codes exported per
	// source (parser or "tcp"); later codes are counted under "other".
	MaxCodesPerSource = 64
	// MaxHL7Types bounds the distinct HL7 message types exported; later
	// ones are counted under "other".
	MaxHL7Types = 64
	// maxCodeLen bounds an anomaly code's length.
	maxCodeLen = 48
)

// other is the label value of anything outside a closed set.
const other = "other"

// names records every metric name this package defines, for Names.
var names = map[string]bool{}

func fqName(subsystem, name string) string {
	n := prometheus.BuildFQName(namespace, subsystem, name)
	names[n] = true
	return n
}

func newDesc(subsystem, name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(fqName(subsystem, name), help, labels, nil)
}

// Names lists the names of every medtap_ metric this package can export
// (a histogram by its base name), sorted. The dashboards test checks that
// every name a dashboard or alerting rule uses is among them.
func Names() []string {
	out := make([]string, 0, len(names))
	for n := range names {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

var buildInfoName = fqName("", "build_info")

// NewRegistry returns a private registry holding medtap_build_info and the
// Go runtime and process collectors. The caller registers a Collector and
// a Sink in it.
func NewRegistry(version string) *prometheus.Registry {
	if version == "" {
		version = "unknown"
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        buildInfoName,
			Help:        "A metric with a constant 1 value labelled by the medtap version and the Go version that built it.",
			ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()},
		}, func() float64 { return 1 }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// Handler serves reg's metrics in the Prometheus text or OpenMetrics
// format. It bounds concurrent scrapes and their duration, and counts its
// own scrapes and errors in reg (promhttp_metric_handler_*).
func Handler(reg *prometheus.Registry) http.Handler {
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		Registry:            reg,
		MaxRequestsInFlight: maxScrapesInFlight,
		Timeout:             scrapeTimeout,
		EnableOpenMetrics:   true,
	})
	return promhttp.InstrumentMetricHandler(reg, h)
}

// Limits of the metrics handler.
const (
	maxScrapesInFlight = 4
	scrapeTimeout      = 10 * time.Second
)
