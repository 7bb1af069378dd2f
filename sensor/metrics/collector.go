package metrics

import (
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/sensor/decode"
	"github.com/medtap/medtap/sensor/pipeline"
)

// The pipeline's counters, read from pipeline.Stats at each scrape.
var (
	descFiles       = newDesc("capture", "files_total", "Capture files opened for analysis.")
	descFilesFailed = newDesc("capture", "files_failed_total", "Capture files that could not be opened or were cut short by a read error.")
	descPackets     = newDesc("capture", "packets_total", "Frames read from the capture.")
	descBytes       = newDesc("capture", "bytes_total", "Bytes of frame data read from the capture (captured length).")
	descLastPacket  = newDesc("capture", "last_packet_timestamp_seconds", "Capture timestamp of the latest frame read, in seconds since the epoch (0 before the first).")

	descDecFrames    = newDesc("decode", "frames_total", "Frames the decoder processed.")
	descDecPackets   = newDesc("decode", "packets_total", "IP packets whose transport header was decoded (reassembled datagrams included), by transport.", "transport")
	descDecNotIP     = newDesc("decode", "not_ip_frames_total", "Valid frames that carry no IP (ARP, LLDP...).")
	descDecMalformed = newDesc("decode", "malformed_frames_total", "Frames the decoder rejected as broken, by malformation code.", "code")
	descDecFrags     = newDesc("decode", "fragments_total", "IP fragments seen.")
	descDecReasm     = newDesc("decode", "reassembled_datagrams_total", "IP datagrams completed from fragments.")
	descDefragLimit  = newDesc("decode", "defrag_limit_hits_total", "Datagrams dropped by the fragment cache's byte or piece limits.")
	descDefragTO     = newDesc("decode", "defrag_timeouts_total", "Incomplete datagrams dropped after the fragment timeout.")
	descDefragEvict  = newDesc("decode", "defrag_evictions_total", "Incomplete datagrams dropped because the fragment cache was full.")

	descFlowsActive  = newDesc("flows", "active", "Flows held in the flow tables now.")
	descFlowsCreated = newDesc("flows", "created_total", "Flows created.")
	descFlowsEnded   = newDesc("flows", "ended_total", "Flows ended, by close reason.", "reason")
	descFlowsEvicted = newDesc("flows", "evicted_total", "Flows evicted because the flow cap was reached.")
	descFlowPackets  = newDesc("flows", "packets_total", "Decoded packets that reached the flow tables.")
	descFlowBytes    = newDesc("flows", "bytes_total", "Wire bytes of the packets that reached the flow tables.")
	descEvents       = newDesc("flows", "events_total", "Events emitted by flows (flow records, parser events, anomalies).")

	descSegments   = newDesc("reassembly", "segments_total", "TCP segments with payload.")
	descOutOfOrder = newDesc("reassembly", "out_of_order_segments_total", "TCP segments buffered because they arrived ahead of a hole.")
	descRetrans    = newDesc("reassembly", "retransmitted_segments_total", "TCP segments wholly seen before.")
	descOverlap    = newDesc("reassembly", "overlapping_segments_total", "TCP segments partly seen before.")
	descGaps       = newDesc("reassembly", "gaps_total", "Holes in TCP streams given up on (capture loss or a limit).")
	descGapBytes   = newDesc("reassembly", "gap_bytes_total", "Bytes lost to TCP stream holes.")
	descLimitHits  = newDesc("reassembly", "limit_hits_total", "Reassembly buffer limits hit, by kind (stream: per-stream limit; total: table-wide limit).", "kind")
	descMidStream  = newDesc("reassembly", "midstream_directions_total", "TCP directions picked up without a SYN.")
	descBuffered   = newDesc("reassembly", "buffered_bytes", "Out-of-order bytes held now.")
	descPeak       = newDesc("reassembly", "buffered_peak_bytes", "Highest out-of-order bytes held at once by any worker.")
	descReasmAnom  = newDesc("reassembly", "anomalies_total", "Stream-level anomalies (source tcp), by code.", "code")

	descParserFlows  = newDesc("parser", "flows_total", "Flows ended, by the parser that identified them (app_proto; \"unknown\" for none).", "parser")
	descParserAnom   = newDesc("parser", "anomalies_total", "Protocol anomalies, by parser and code (counted once per flow and code).", "parser", "code")
	descParserPanics = newDesc("parser", "panics_total", "Parser panics recovered (the flow's parser was dropped), by parser.", "parser")

	descWorkers = newDesc("pipeline", "workers", "Worker goroutines of the analysis.")
)

// Collector exports the pipeline's counters. It reads them from a stats
// function at each scrape, so nothing is counted twice.
type Collector struct {
	stats   func() pipeline.Stats
	parsers map[string]bool
	codes   codeSets
}

// NewCollector returns a Collector over stats, typically
// (*pipeline.Pipeline).Snapshot (safe to call at any time during a run,
// and monotone). factories is the parser registry in use: its names are the
// closed set of the parser label.
func NewCollector(stats func() pipeline.Stats, factories []parser.Factory) *Collector {
	c := &Collector{stats: stats, parsers: map[string]bool{}}
	for _, f := range factories {
		c.parsers[f.Name] = true
	}
	return c
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		descFiles, descFilesFailed, descPackets, descBytes, descLastPacket,
		descDecFrames, descDecPackets, descDecNotIP, descDecMalformed, descDecFrags, descDecReasm, descDefragLimit, descDefragTO, descDefragEvict,
		descFlowsActive, descFlowsCreated, descFlowsEnded, descFlowsEvicted, descFlowPackets, descFlowBytes, descEvents,
		descSegments, descOutOfOrder, descRetrans, descOverlap, descGaps, descGapBytes, descLimitHits, descMidStream, descBuffered, descPeak, descReasmAnom,
		descParserFlows, descParserAnom, descParserPanics, descWorkers,
	} {
		ch <- d
	}
}

// closeReasons are the flow close reasons, indexed by parser.CloseReason.
var closeReasons = func() []string {
	var out []string
	for r := parser.CloseReason(0); r.String() != "unknown"; r++ {
		out = append(out, r.String())
	}
	return out
}()

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	st := c.stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}

	counter(descFiles, uint64(st.Files))
	counter(descFilesFailed, uint64(st.FilesFailed))
	counter(descPackets, st.Frames)
	counter(descBytes, st.CapturedLen)
	gauge(descLastPacket, float64(st.LastTS)/1e9)

	d := &st.Decode
	counter(descDecFrames, d.Packets)
	counter(descDecPackets, d.TCP, "tcp")
	counter(descDecPackets, d.UDP, "udp")
	counter(descDecPackets, d.OtherIP, "other")
	counter(descDecNotIP, d.NotIP)
	for i, name := range decode.ErrNames {
		counter(descDecMalformed, d.Malformed[i], name)
	}
	counter(descDecFrags, d.Fragments)
	counter(descDecReasm, d.Reassembled)
	counter(descDefragLimit, d.Defrag.LimitHits)
	counter(descDefragTO, d.Defrag.Timeouts)
	counter(descDefragEvict, d.Defrag.Evicted)

	f := &st.Flow
	gauge(descFlowsActive, float64(st.ActiveFlows))
	counter(descFlowsCreated, f.FlowsCreated)
	for i, n := range f.FlowsEnded {
		reason := other
		if i < len(closeReasons) {
			reason = closeReasons[i]
		}
		counter(descFlowsEnded, n, reason)
	}
	counter(descFlowsEvicted, f.Evicted)
	counter(descFlowPackets, f.Packets)
	counter(descFlowBytes, f.Bytes)
	counter(descEvents, f.Events)

	t := &f.TCP
	counter(descSegments, t.Segments)
	counter(descOutOfOrder, t.OutOfOrder)
	counter(descRetrans, t.Retransmitted)
	counter(descOverlap, t.Overlaps)
	counter(descGaps, t.Gaps)
	counter(descGapBytes, t.GapBytes)
	counter(descLimitHits, t.StreamLimit, "stream")
	counter(descLimitHits, t.TotalLimit, "total")
	counter(descMidStream, t.MidStream)
	gauge(descBuffered, float64(st.Buffered))
	gauge(descPeak, float64(st.PeakBuffered))
	gauge(descWorkers, float64(st.Workers))

	// Flows by app_proto: every parser, and "unknown", even at zero.
	byParser := map[string]uint64{"unknown": 0}
	for name := range c.parsers {
		byParser[name] = 0
	}
	for name, n := range f.FlowsByProto {
		byParser[c.parserLabel(name)] += n
	}
	for name, n := range byParser {
		counter(descParserFlows, n, name)
	}

	// Anomalies: "source/code". Panics are the parser_panic anomalies.
	panics := map[string]uint64{}
	for name := range c.parsers {
		panics[name] = 0
	}
	parserAnom := map[[2]string]uint64{}
	tcpAnom := map[string]uint64{}
	for key, n := range f.Anomalies {
		source, code, _ := strings.Cut(key, "/")
		if source == "tcp" {
			tcpAnom[c.codes.label(source, code)] += n
			continue
		}
		p := c.parserLabel(source)
		if code == "parser_panic" {
			panics[p] += n
		}
		parserAnom[[2]string{p, c.codes.label(p, code)}] += n
	}
	for k, n := range parserAnom {
		counter(descParserAnom, n, k[0], k[1])
	}
	for code, n := range tcpAnom {
		counter(descReasmAnom, n, code)
	}
	for p, n := range panics {
		counter(descParserPanics, n, p)
	}
}

// parserLabel maps a parser name to itself when it is in the registry.
func (c *Collector) parserLabel(name string) string {
	if c.parsers[name] || name == "unknown" {
		return name
	}
	return other
}

// codeSets admits anomaly codes per source, up to MaxCodesPerSource; once
// admitted a code keeps its own series, so the counters stay monotone.
type codeSets struct {
	mu   sync.Mutex
	sets map[string]map[string]bool
}

func (s *codeSets) label(source, code string) string {
	if !snakeCase(code, maxCodeLen) {
		return other
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sets == nil {
		s.sets = map[string]map[string]bool{}
	}
	set := s.sets[source]
	if set == nil {
		set = map[string]bool{}
		s.sets[source] = set
	}
	if set[code] {
		return code
	}
	if len(set) >= MaxCodesPerSource {
		return other
	}
	set[code] = true
	return code
}

// snakeCase reports whether s is a snake_case code of at most max bytes.
func snakeCase(s string, max int) bool {
	if s == "" || len(s) > max || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}
