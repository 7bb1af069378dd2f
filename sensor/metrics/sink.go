package metrics

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/medtap/medtap/detect"
	"github.com/medtap/medtap/detect/policy"
	"github.com/medtap/medtap/parsers"
	"github.com/medtap/medtap/parsers/astm"
	"github.com/medtap/medtap/parsers/dicom"
	"github.com/medtap/medtap/parsers/framing"
	"github.com/medtap/medtap/parsers/hl7"
	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/tls"
	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/flow"
)

// Closed label sets of the event metrics.
var (
	eventTypes    = set("flow", "tls", "dicom", "hl7", "astm", "device", "anomaly", "alert")
	dicomResults  = set("requested", "accepted", "rejected", "released", "aborted", "unknown")
	dimseCommands = set("C-STORE", "C-GET", "C-FIND", "C-MOVE", "C-ECHO", "C-CANCEL", "N-EVENT-REPORT", "N-GET", "N-SET", "N-ACTION", "N-CREATE", "N-DELETE", "unknown")
	dimseStatus   = set("success", "pending", "warning", "failure", "cancel", "none")
	hl7AckCodes   = set("AA", "AE", "AR", "CA", "CE", "CR", "none")
	tlsVersions   = set("SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3", "unknown")
	severities    = set(policy.Severities...)
	ruleIDs       = func() map[string]string {
		m := map[string]string{}
		for _, r := range detect.Rules() {
			m[r.ID] = r.ID
		}
		return m
	}()
	codedMedical = set("dicom", "hl7", "astm")
)

// set maps each of vals to itself.
func set(vals ...string) map[string]string {
	m := make(map[string]string, len(vals))
	for _, v := range vals {
		m[v] = v
	}
	return m
}

// pick gives the label of v: the set's own copy of it, or other. A label
// is kept as long as its series, so it must never be v itself, which may
// lie in an event's memory (parser.Reusable).
func pick(m map[string]string, v string) string {
	if l, ok := m[v]; ok {
		return l
	}
	return other
}

// Options of the event metrics for the sink.
var (
	optEvents      = counterOpts("output", "events_total", "Events written, by event_type.")
	optWrite       = histogramOpts("output", "write_duration_seconds", "Time the output sinks (and detection) took to take one round of merged events, in seconds.")
	optAssoc       = counterOpts("dicom", "associations_total", "DICOM associations ended, by result.")
	optDIMSE       = counterOpts("dicom", "dimse_total", "DICOM DIMSE transactions, by command and status class.")
	optHL7         = counterOpts("hl7", "messages_total", "HL7 v2 messages, by message type (MSH-9.1) and the ACK code that answered them.")
	optASTM        = counterOpts("astm", "messages_total", "ASTM E1394 messages.")
	optTLS         = counterOpts("tls", "handshakes_total", "TLS handshakes, by negotiated version and whether the payload is encrypted.")
	optDevFrames   = counterOpts("device", "frames_total", "Frames of declared device framings, by protocol (counted at the end of each session).")
	optDevChecksum = counterOpts("device", "checksum_errors_total", "Device framing frames whose checksum did not verify, by protocol.")
	optAlerts      = counterOpts("detect", "alerts_total", "Alerts emitted, by rule and severity.")
	optMedical     = counterOpts("medical", "payload_bytes_total", "Transport payload bytes of ended flows carrying a medical protocol (DICOM, HL7, ASTM, device framings; TLS on a medical protocol's port), by protocol and whether encrypted.")
)

func counterOpts(subsystem, name, help string) prometheus.CounterOpts {
	return prometheus.CounterOpts{Name: fqName(subsystem, name), Help: help}
}

func histogramOpts(subsystem, name, help string) prometheus.HistogramOpts {
	return prometheus.HistogramOpts{Name: fqName(subsystem, name), Help: help,
		Buckets: prometheus.ExponentialBuckets(1e-5, 4, 12)} // 10 µs to 42 s
}

// Sink counts events: it implements pipeline.Sink and detect.Sink, and is a
// prometheus.Collector to register. Write is safe for concurrent use (the
// pipeline's merger and detect's Close may both call it).
type Sink struct {
	events     *prometheus.CounterVec
	write      prometheus.Histogram
	assoc      *prometheus.CounterVec
	dimse      *prometheus.CounterVec
	hl7        *prometheus.CounterVec
	astm       prometheus.Counter
	tls        *prometheus.CounterVec
	devFrames  *prometheus.CounterVec
	devCheck   *prometheus.CounterVec
	alerts     *prometheus.CounterVec
	medical    *prometheus.CounterVec
	collectors []prometheus.Collector

	parsers      map[string]string // the registry's parser names (set)
	medicalProto map[string]string // parsers whose payload is medical (set)
	medicalPorts map[uint16]string // a medical parser's hinted ports, for TLS flows

	mu       sync.Mutex
	hl7Types map[string]string // set
}

// NewSink returns a Sink for the parser registry in use (factories: its
// names are the closed sets of the protocol labels; the coded dicom, hl7
// and astm parsers and every declared framing count as medical).
func NewSink(factories []parser.Factory) *Sink {
	s := &Sink{
		events:    prometheus.NewCounterVec(optEvents, []string{"event_type"}),
		write:     prometheus.NewHistogram(optWrite),
		assoc:     prometheus.NewCounterVec(optAssoc, []string{"result"}),
		dimse:     prometheus.NewCounterVec(optDIMSE, []string{"command", "status_class"}),
		hl7:       prometheus.NewCounterVec(optHL7, []string{"message_type", "ack_code"}),
		astm:      prometheus.NewCounter(optASTM),
		tls:       prometheus.NewCounterVec(optTLS, []string{"version", "encrypted"}),
		devFrames: prometheus.NewCounterVec(optDevFrames, []string{"protocol"}),
		devCheck:  prometheus.NewCounterVec(optDevChecksum, []string{"protocol"}),
		alerts:    prometheus.NewCounterVec(optAlerts, []string{"rule", "severity"}),
		medical:   prometheus.NewCounterVec(optMedical, []string{"protocol", "encrypted"}),

		parsers:      map[string]string{},
		medicalProto: map[string]string{},
		medicalPorts: map[uint16]string{},
		hl7Types:     map[string]string{},
	}
	s.collectors = []prometheus.Collector{s.events, s.write, s.assoc, s.dimse, s.hl7, s.astm, s.tls, s.devFrames, s.devCheck, s.alerts, s.medical}
	coded := map[string]bool{}
	for _, f := range parsers.Coded {
		coded[f.Name] = true
	}
	for _, f := range factories {
		s.parsers[f.Name] = f.Name
		if _, ok := codedMedical[f.Name]; ok || !coded[f.Name] {
			s.medicalProto[f.Name] = f.Name
			for _, p := range f.Ports {
				if _, ok := s.medicalPorts[p]; !ok {
					s.medicalPorts[p] = f.Name
				}
			}
			// Series that dashboards divide by exist from the start.
			s.medical.WithLabelValues(f.Name, "true")
			s.medical.WithLabelValues(f.Name, "false")
		}
	}
	// Every rule at every severity exists from the start, so that
	// increase() sees a rule's first alert (policy may set any severity).
	for _, r := range detect.Rules() {
		for _, sev := range policy.Severities {
			s.alerts.WithLabelValues(r.ID, sev)
		}
	}
	for t := range eventTypes {
		s.events.WithLabelValues(t)
	}
	return s
}

// Describe implements prometheus.Collector.
func (s *Sink) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range s.collectors {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (s *Sink) Collect(ch chan<- prometheus.Metric) {
	for _, c := range s.collectors {
		c.Collect(ch)
	}
}

// Write counts evs. It never fails.
func (s *Sink) Write(evs []*event.Event) error {
	for _, e := range evs {
		if e == nil || e.Body == nil {
			continue
		}
		s.events.WithLabelValues(pick(eventTypes, e.Body.EventType())).Inc()
		switch b := e.Body.(type) {
		case *flow.Record:
			s.flow(e, b)
		case *dicom.Association:
			s.assoc.WithLabelValues(pick(dicomResults, b.Result)).Inc()
		case *dicom.DIMSE:
			s.dimse.WithLabelValues(pick(dimseCommands, b.Command), pick(dimseStatus, b.StatusClass)).Inc()
		case *hl7.Message:
			s.hl7.WithLabelValues(s.hl7Type(b.MessageType), hl7Ack(b.AckCode)).Inc()
		case *astm.Message:
			s.astm.Inc()
		case *tls.Handshake:
			v := b.Version
			if v == "" {
				v = "unknown"
			}
			s.tls.WithLabelValues(pick(tlsVersions, v), strconv.FormatBool(b.Encrypted)).Inc()
		case *framing.Session:
			p := pick(s.parsers, b.Protocol)
			s.devFrames.WithLabelValues(p).Add(float64(b.FramesToServer + b.FramesToClient))
			if b.ChecksumErrors > 0 {
				s.devCheck.WithLabelValues(p).Add(float64(b.ChecksumErrors))
			} else {
				s.devCheck.WithLabelValues(p)
			}
		case *detect.Alert:
			s.alerts.WithLabelValues(pick(ruleIDs, b.RuleID), pick(severities, b.Severity)).Inc()
		}
	}
	return nil
}

// flow counts a flow record's payload when it carries a medical protocol.
func (s *Sink) flow(e *event.Event, r *flow.Record) {
	proto, ok := s.medicalProto[r.AppProto]
	if !ok {
		if r.AppProto != "tls" || e.Flow == nil {
			return
		}
		// TLS on a medical protocol's port (DICOM TLS on 2762, HL7 over
		// TLS on 2575...): the payload is medical, and its parser cannot
		// see inside.
		if proto, ok = s.medicalPorts[e.Flow.Server.Port()]; !ok {
			return
		}
	}
	n := r.PayloadToServer + r.PayloadToClient
	s.medical.WithLabelValues(proto, strconv.FormatBool(r.Encrypted)).Add(float64(n))
}

// hl7Type gives the label of an HL7 message type: three characters
// [A-Z0-9], among the first MaxHL7Types seen; else "other".
func (s *Sink) hl7Type(t string) string {
	if len(t) != 3 {
		return other
	}
	for i := 0; i < 3; i++ {
		if c := t[i]; (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return other
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.hl7Types[t]; ok {
		return l
	}
	if len(s.hl7Types) >= MaxHL7Types {
		return other
	}
	l := strings.Clone(t) // t lies in the event's memory
	s.hl7Types[l] = l
	return l
}

func hl7Ack(code string) string {
	if code == "" {
		return "none"
	}
	return pick(hl7AckCodes, code)
}

// Timed returns a sink that passes each round to next, recording how long
// next took in medtap_output_write_duration_seconds, then counts the
// round's events. Use it around the pipeline's other sinks:
// p.Run(ctx, files, ms.Timed(output.Tee{...}), onError).
func (s *Sink) Timed(next interface{ Write([]*event.Event) error }) interface{ Write([]*event.Event) error } {
	return timed{s, next}
}

type timed struct {
	s    *Sink
	next interface{ Write([]*event.Event) error }
}

func (t timed) Write(evs []*event.Event) error {
	start := time.Now()
	err := t.next.Write(evs)
	t.s.write.Observe(time.Since(start).Seconds())
	_ = t.s.Write(evs) // never fails
	return err
}
