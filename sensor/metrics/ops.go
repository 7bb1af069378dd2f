package metrics

import "github.com/prometheus/client_golang/prometheus"

// NATSStats are the NATS JetStream publisher's counters (sensor/natsink).
type NATSStats struct {
	Queued        uint64 // messages taken from the pipeline
	QueueDropped  uint64 // dropped because the in-memory queue was full
	TooLarge      uint64 // dropped because larger than the message limit
	Published     uint64 // acknowledged by the stream
	Duplicates    uint64 // acknowledged as duplicates (already stored)
	PublishErrors uint64 // publish attempts that failed (then spooled or retried)
	Spooled       uint64 // messages written to the on-disk buffer
	SpoolDropped  uint64 // lost: the on-disk buffer was full
	SpoolErrors   uint64 // on-disk buffer write failures (messages lost)
	QueueLen      int    // messages in the in-memory queue now
	SpoolMessages int    // messages in the on-disk buffer now
	SpoolBytes    int64  // size of the on-disk buffer now
	Connected     bool
}

// HubStats are `medtap hub`'s counters.
type HubStats struct {
	Messages   map[string]uint64 // folded, by kind: event, alert, asset
	Duplicates uint64            // redelivered or republished messages skipped
	Invalid    uint64            // messages that were not medtap's (bad subject or JSON)
	Errors     uint64            // store failures (the message is redelivered)
}

// Kinds of hub messages (the closed set of the kind label).
var hubKinds = []string{"event", "alert", "asset"}

var (
	descAPIUnauthorized = newDesc("api", "unauthorized_requests_total", "HTTP requests refused with 401 (no or wrong bearer token).")

	descNATSQueued    = newDesc("nats", "queued_messages_total", "Messages the NATS publisher took from the pipeline.")
	descNATSQDropped  = newDesc("nats", "queue_dropped_messages_total", "Messages dropped because the NATS publisher's in-memory queue was full.")
	descNATSTooLarge  = newDesc("nats", "too_large_messages_total", "Messages dropped because larger than the NATS message limit.")
	descNATSPublished = newDesc("nats", "published_messages_total", "Messages acknowledged by the JetStream stream.")
	descNATSDups      = newDesc("nats", "duplicate_messages_total", "Messages the stream acknowledged as duplicates of ones already stored.")
	descNATSErrors    = newDesc("nats", "publish_errors_total", "Publish attempts that failed (the messages were buffered on disk or retried).")
	descNATSSpooled   = newDesc("nats", "buffered_messages_total", "Messages written to the on-disk buffer while the server was unreachable.")
	descNATSSDropped  = newDesc("nats", "buffer_dropped_messages_total", "Messages lost because the on-disk buffer was full (oldest dropped).")
	descNATSSErrors   = newDesc("nats", "buffer_write_errors_total", "Failed writes to the on-disk buffer (the messages were lost).")
	descNATSQueue     = newDesc("nats", "queue_messages", "Messages in the NATS publisher's in-memory queue.")
	descNATSSpoolMsgs = newDesc("nats", "buffer_messages", "Messages waiting in the on-disk buffer.")
	descNATSSpoolSize = newDesc("nats", "buffer_bytes", "Size of the on-disk buffer.")
	descNATSUp        = newDesc("nats", "connected", "1 when connected to the NATS server.")

	descHubMessages = newDesc("hub", "messages_total", "Messages the hub folded into its store, by kind.", "kind")
	descHubDups     = newDesc("hub", "duplicate_messages_total", "Messages the hub skipped as already folded (redeliveries, republished messages).")
	descHubInvalid  = newDesc("hub", "invalid_messages_total", "Messages the hub could not read (subject or JSON not medtap's).")
	descHubErrors   = newDesc("hub", "store_errors_total", "Store failures while folding a message (it is redelivered).")
)

// OpsCollector exports the counters of the HTTP API, the NATS publisher
// and the hub, each read from a function at scrape time; a nil function
// leaves its metrics out.
type OpsCollector struct {
	API  func() (unauthorized uint64)
	NATS func() NATSStats
	Hub  func() HubStats
}

// Describe implements prometheus.Collector.
func (c *OpsCollector) Describe(ch chan<- *prometheus.Desc) {
	if c.API != nil {
		ch <- descAPIUnauthorized
	}
	if c.NATS != nil {
		for _, d := range []*prometheus.Desc{descNATSQueued, descNATSQDropped, descNATSTooLarge, descNATSPublished, descNATSDups,
			descNATSErrors, descNATSSpooled, descNATSSDropped, descNATSSErrors, descNATSQueue, descNATSSpoolMsgs, descNATSSpoolSize, descNATSUp} {
			ch <- d
		}
	}
	if c.Hub != nil {
		ch <- descHubMessages
		ch <- descHubDups
		ch <- descHubInvalid
		ch <- descHubErrors
	}
}

// Collect implements prometheus.Collector.
func (c *OpsCollector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	if c.API != nil {
		counter(descAPIUnauthorized, c.API())
	}
	if c.NATS != nil {
		s := c.NATS()
		counter(descNATSQueued, s.Queued)
		counter(descNATSQDropped, s.QueueDropped)
		counter(descNATSTooLarge, s.TooLarge)
		counter(descNATSPublished, s.Published)
		counter(descNATSDups, s.Duplicates)
		counter(descNATSErrors, s.PublishErrors)
		counter(descNATSSpooled, s.Spooled)
		counter(descNATSSDropped, s.SpoolDropped)
		counter(descNATSSErrors, s.SpoolErrors)
		gauge(descNATSQueue, float64(s.QueueLen))
		gauge(descNATSSpoolMsgs, float64(s.SpoolMessages))
		gauge(descNATSSpoolSize, float64(s.SpoolBytes))
		up := 0.0
		if s.Connected {
			up = 1
		}
		gauge(descNATSUp, up)
	}
	if c.Hub != nil {
		s := c.Hub()
		for _, k := range hubKinds {
			counter(descHubMessages, s.Messages[k], k)
		}
		counter(descHubDups, s.Duplicates)
		counter(descHubInvalid, s.Invalid)
		counter(descHubErrors, s.Errors)
	}
}
