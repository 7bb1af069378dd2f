package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/medtap/medtap/sensor/output"
)

// The output queues' and the syslog connection's counters, read at each
// scrape. The sink label takes its values from output.SinkNames, the
// reason label from dropReasons.
var (
	descOutDropped  = newDesc("output", "dropped_events_total", "Events an output sink dropped, by sink and reason (queue_full: the bounded queue was full or closed, the sink being slower than capture; too_large: over the record size limit; write_failed: the sink's write failed).", "sink", "reason")
	descOutWritten  = newDesc("output", "sink_written_events_total", "Events an output sink wrote, by sink.", "sink")
	descOutQueued   = newDesc("output", "queued_events", "Events waiting in an output sink's queue now, by sink.", "sink")
	descOutCapacity = newDesc("output", "queue_capacity_events", "Events an output sink's queue can hold, by sink (0: not configured).", "sink")

	descSyslogConnects  = newDesc("syslog", "connects_total", "Connections made to the syslog server (a new one after each loss).")
	descSyslogErrors    = newDesc("syslog", "errors_total", "Failed connection attempts and sends to the syslog server.")
	descSyslogConnected = newDesc("syslog", "connected", "1 while a connection to the syslog server is up (UDP: once a socket is open).")
)

// Drop reasons: the closed set of the reason label.
var dropReasons = []string{"queue_full", "too_large", "write_failed"}

// SyslogSource is what the output collector reads from a syslog writer
// (*syslog.Writer).
type SyslogSource interface {
	Connects() uint64
	Failures() uint64
	Connected() bool
}

// Outputs exports the output sinks' counters: a prometheus.Collector to
// register once, to which the session adds each queue and syslog writer
// it opens. Every sink name has its series from the start, so rate() and
// ratios work before the first drop.
type Outputs struct {
	mu     sync.Mutex
	queues []func() output.QueueStats
	syslog []SyslogSource
}

// NewOutputs returns an empty output collector.
func NewOutputs() *Outputs { return &Outputs{} }

// AddQueue adds a sink's queue (*output.Queue, or anything with its Stats).
func (o *Outputs) AddQueue(q interface{ Stats() output.QueueStats }) {
	o.mu.Lock()
	o.queues = append(o.queues, q.Stats)
	o.mu.Unlock()
}

// AddSyslog adds a syslog writer's connection counters.
func (o *Outputs) AddSyslog(s SyslogSource) {
	o.mu.Lock()
	o.syslog = append(o.syslog, s)
	o.mu.Unlock()
}

// Describe implements prometheus.Collector.
func (o *Outputs) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descOutDropped, descOutWritten, descOutQueued, descOutCapacity, descSyslogConnects, descSyslogErrors, descSyslogConnected} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (o *Outputs) Collect(ch chan<- prometheus.Metric) {
	o.mu.Lock()
	queues := append([]func() output.QueueStats(nil), o.queues...)
	syslogs := append([]SyslogSource(nil), o.syslog...)
	o.mu.Unlock()

	type sums struct {
		full, large, failed, written uint64
		queued, capacity             int
	}
	by := map[string]*sums{}
	for _, n := range output.SinkNames {
		by[n] = &sums{}
	}
	for _, q := range queues {
		st := q()
		s := by[st.Sink]
		if s == nil {
			continue // not a sink name: never a label
		}
		s.full += st.Dropped
		s.large += st.TooLarge
		s.failed += st.Failed
		s.written += st.Written
		s.queued += st.Queued
		s.capacity += st.Capacity
	}
	for _, n := range output.SinkNames {
		s := by[n]
		for i, v := range []uint64{s.full, s.large, s.failed} {
			ch <- prometheus.MustNewConstMetric(descOutDropped, prometheus.CounterValue, float64(v), n, dropReasons[i])
		}
		ch <- prometheus.MustNewConstMetric(descOutWritten, prometheus.CounterValue, float64(s.written), n)
		ch <- prometheus.MustNewConstMetric(descOutQueued, prometheus.GaugeValue, float64(s.queued), n)
		ch <- prometheus.MustNewConstMetric(descOutCapacity, prometheus.GaugeValue, float64(s.capacity), n)
	}
	var connects, failures, connected float64
	for _, s := range syslogs {
		connects += float64(s.Connects())
		failures += float64(s.Failures())
		if s.Connected() {
			connected++
		}
	}
	ch <- prometheus.MustNewConstMetric(descSyslogConnects, prometheus.CounterValue, connects)
	ch <- prometheus.MustNewConstMetric(descSyslogErrors, prometheus.CounterValue, failures)
	ch <- prometheus.MustNewConstMetric(descSyslogConnected, prometheus.GaugeValue, connected)
}
