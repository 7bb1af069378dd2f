// Package parser is the contract between medtap's pipeline and its protocol
// parsers: the streaming interface a parser implements, the factory the
// registry lists, and the typed events a parser may emit.
//
// A parser sees only reassembled bytes of one flow, per direction. It never
// alerts, logs or touches the inventory: it turns bytes into events. Policy
// lives in detect/.
package parser

import (
	"net/netip"
	"sync/atomic"
	"time"
)

// Direction says which side of a flow sent the bytes.
type Direction uint8

const (
	// ToServer is client to server (the side that sent the SYN, or the
	// pipeline's best guess for flows picked up mid-stream).
	ToServer Direction = 0
	// ToClient is server to client.
	ToClient Direction = 1
)

// String gives the direction's stable name used in events.
func (d Direction) String() string {
	if d == ToClient {
		return "to_client"
	}
	return "to_server"
}

// Reverse returns the opposite direction.
func (d Direction) Reverse() Direction { return d ^ 1 }

// CloseReason says why a flow ended.
type CloseReason uint8

const (
	CloseFIN        CloseReason = iota // both sides sent FIN
	CloseRST                           // a RST was seen
	CloseTimeout                       // idle timeout
	CloseEvicted                       // flow table full, least recently seen flow evicted
	CloseEndOfInput                    // the capture ended with the flow open
	CloseParser                        // the pipeline dropped the parser (panic or hard limit)
)

var closeReasonNames = [...]string{"fin", "rst", "timeout", "evicted", "end_of_input", "parser"}

// String gives the close reason's stable name used in events.
func (r CloseReason) String() string {
	if int(r) < len(closeReasonNames) {
		return closeReasonNames[r]
	}
	return "unknown"
}

// Verdict is a probe's answer on the first bytes of one direction.
type Verdict uint8

const (
	NoMatch  Verdict = iota // these bytes are not this protocol
	NeedMore                // too few bytes to say; ask again with more
	Match                   // this protocol
)

// Transport says which transports a factory handles.
type Transport uint8

const (
	TCP Transport = 1 << iota
	UDP
)

// Flow is what a parser may know about the flow it serves. It is owned by the
// pipeline and stays valid and unchanged for the parser's lifetime.
type Flow struct {
	Proto       uint8          // IP protocol number: 6 TCP, 17 UDP
	Client      netip.AddrPort // the originator
	Server      netip.AddrPort // the responder
	VLAN        uint16         // outermost 802.1Q VLAN id, 0 if untagged
	CommunityID string         // Community ID v1 of the flow
	// ClientMAC and ServerMAC are the Ethernet addresses of the flow's
	// first frame (the inventory's device identity; a routed peer shows
	// its router's), zero when the link type has none.
	ClientMAC, ServerMAC [6]byte
}

// Body is the typed payload of one event. Its EventType names the JSON object
// the body is written under and the event_type field; it is one lower-case
// word ("tls", "dicom", "hl7", "flow", "anomaly").
type Body interface {
	EventType() string
}

// Reusable is a Body whose memory its parser reuses once the event is
// written: the pipeline calls Release when every sink's Write has returned,
// from the goroutine of the flow table that emitted it (the parser's own).
// Sinks therefore keep nothing of an event past Write: no body, no string
// of it (copy what must stay). A released body is never read again.
type Reusable interface {
	Body
	Release()
}

// PoisonReleased makes reusable bodies overwrite their text when released,
// so that anything that kept a string of a written event reads garbage:
// tests turn it on to prove no sink does. Off in production.
var PoisonReleased atomic.Bool

// Emitter receives a parser's events. The pipeline stamps each with the flow
// and the ordering key, so a parser passes only the time and the body. A body
// must not be changed after it is emitted.
type Emitter interface {
	Emit(ts time.Time, b Body)
}

// Anomaly is a protocol violation or a limit hit, seen on the wire. It never
// carries payload bytes, only a stable snake_case code and numbers.
type Anomaly struct {
	Source    string `json:"source"`              // the parser or pipeline stage: "tls", "tcp", "decode"
	Code      string `json:"code"`                // snake_case, stable: "record_too_long"
	Direction string `json:"direction,omitempty"` // to_server / to_client where it applies
	Offset    int64  `json:"offset,omitempty"`    // stream offset in that direction, where known
	Length    int64  `json:"length,omitempty"`    // the offending length, where one applies
	Limit     int64  `json:"limit,omitempty"`     // the limit that was hit, where one applies
}

// EventType implements Body.
func (*Anomaly) EventType() string { return "anomaly" }

// Stream is one parser instance, owned by one flow and called from one
// goroutine only. It serves both directions.
type Stream interface {
	// Feed passes the next in-order bytes of one direction. data is valid
	// only during the call: a parser copies what it keeps.
	Feed(dir Direction, data []byte, ts time.Time)
	// Gap says missing bytes were lost in one direction (capture loss or a
	// limit): the parser resynchronises on the next plausible message or gives
	// up on that direction cleanly.
	Gap(dir Direction, missing int, ts time.Time)
	// Close ends the stream; a parser flushes pending transactions as events.
	Close(reason CloseReason, ts time.Time)
}

// EncryptionVerdict is implemented by streams that can tell whether their
// flow's payload is encrypted (TLS can; a NULL cipher is not encryption).
// known is false while the parser cannot tell yet.
type EncryptionVerdict interface {
	Encrypted() (encrypted, known bool)
}

// Env is what the pipeline offers a parser beyond its flow and emitter.
type Env struct {
	// ProbeInner finds a parser for bytes carried inside this one (plain
	// DICOM inside NULL-cipher TLS records). It returns the new stream on
	// Match, or nil with NeedMore or NoMatch. The inner stream emits through
	// the same emitter as its carrier.
	ProbeInner func(dir Direction, first []byte) (Stream, Verdict)
	// Local is the state the parsers keep per worker, shared by all the
	// streams that worker runs. Nil outside a pipeline.
	Local *Local
}

// Local holds what a parser keeps per worker rather than per stream:
// caches that each new, short-lived stream would otherwise start cold and
// fill again. One worker goroutine owns a Local, so its values need no
// locks; whatever a parser hands out of them in events must never change
// afterwards, since events are read on other goroutines.
type Local struct {
	vals map[string]any
}

// Value gives the value kept under name (a parser's Name), made by mk on
// first use. A nil Local gives a new value on each call.
func (l *Local) Value(name string, mk func() any) any {
	if l == nil {
		return mk()
	}
	if v, ok := l.vals[name]; ok {
		return v
	}
	if l.vals == nil {
		l.vals = make(map[string]any)
	}
	v := mk()
	l.vals[name] = v
	return v
}

// Factory describes one parser in the registry.
type Factory struct {
	// Name is the one lower-case word used everywhere: app_proto in
	// events, config keys, metric labels, the package name.
	Name string
	// Transport says which transports the parser handles.
	Transport Transport
	// Ports are hints only: probing by content decides. A hinted port
	// makes the pipeline probe this factory first, and helps tell client
	// from server on flows picked up mid-stream.
	Ports []uint16
	// Probe looks at the first bytes of one direction. It must not keep
	// first, must not allocate, and must answer NoMatch or Match once it has
	// seen MaxProbeBytes.
	Probe func(dir Direction, first []byte) Verdict
	// IdleTimeout overrides the transport's idle timeout for flows of this
	// protocol (HL7 links idle for long between messages); 0 keeps it.
	IdleTimeout time.Duration
	// KeepWhole marks a message protocol where every message matters
	// (patient data may come in any of them, late in a long-lived
	// connection): the live sensor's bulk sampling never cuts its flows.
	KeepWhole bool
	// New makes the stream for a matched flow.
	New func(f *Flow, em Emitter, env *Env) Stream
}

// MaxProbeBytes bounds how many first bytes of a direction the pipeline keeps
// while probes answer NeedMore. A probe still undecided at this size counts
// as NoMatch.
const MaxProbeBytes = 512
