package flow

import (
	"math"
	"time"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/sensor/decode"
)

// Flow is one bidirectional flow. Direction 0 is client to server.
type Flow struct {
	t          *Table
	key        Key
	info       *parser.Flow // shared with parsers and events; never reused
	id         uint64       // global index of the first packet
	seq        uint32       // events emitted so far
	first      int64        // capture time of the first packet
	last       int64        // capture time of the latest packet
	seen       int64        // the table's clock at the latest packet: orders expiry
	clientAddr [16]byte
	clientPort uint16
	class      int
	prev, next *Flow

	pkts, bytes, payload [2]uint64
	missed               [2]uint64 // bytes lost to gaps
	tcpFlags             [2]uint8  // union of flags seen per direction
	synSeen, synAckSeen  bool
	fin                  [2]bool
	rst                  bool
	tcp                  [2]half
	app                  app
	anomalySent          uint32 // bit per reassembly anomaly already reported
}

func (f *Flow) dirOf(p *decode.Packet) parser.Direction {
	if p.SrcPort == f.clientPort && p.Src == f.clientAddr {
		return parser.ToServer
	}
	return parser.ToClient
}

// isNewConnection reports whether a SYN (without ACK) starts a new
// connection on a flow key already in the table: the old one was closed, or
// the client's initial sequence number differs (port reuse).
func (f *Flow) isNewConnection(p *decode.Packet) bool {
	if f.fin[0] || f.fin[1] || f.rst {
		return true
	}
	dir := f.dirOf(p)
	h := &f.tcp[dir]
	return dir == parser.ToServer && f.synSeen && h.isn != p.TCP.Seq
}

func (f *Flow) closeReasonOr(r parser.CloseReason) parser.CloseReason {
	switch {
	case f.rst:
		return parser.CloseRST
	case f.fin[0] && f.fin[1]:
		return parser.CloseFIN
	}
	return r
}

func (f *Flow) release() {
	for i := range f.tcp {
		f.tcp[i].release(f.t)
	}
	f.app.release()
}

// Emit implements parser.Emitter for the flow's parser.
func (f *Flow) Emit(ts time.Time, b parser.Body) { f.t.emit(f, ts, b) }

// anomaly emits a pipeline anomaly for this flow once per code.
func (f *Flow) anomaly(bit uint32, source, code string, dir parser.Direction, ts time.Time, length, limit int64) {
	f.t.Stats.Anomalies[source+"/"+code]++
	if f.anomalySent&bit != 0 {
		return
	}
	f.anomalySent |= bit
	f.t.Stats.Anomalies[source+"/"+code]--
	f.Emit(ts, &parser.Anomaly{Source: source, Code: code, Direction: dir.String(), Offset: int64(f.tcp[dir].offset), Length: length, Limit: limit})
}

// Record is the end-of-flow event body.
type Record struct {
	AppProto        string  `json:"app_proto"`
	Start           string  `json:"start"`
	End             string  `json:"end"`
	Duration        float64 `json:"duration"`
	PktsToServer    uint64  `json:"pkts_toserver"`
	PktsToClient    uint64  `json:"pkts_toclient"`
	BytesToServer   uint64  `json:"bytes_toserver"`
	BytesToClient   uint64  `json:"bytes_toclient"`
	PayloadToServer uint64  `json:"payload_bytes_toserver"`
	PayloadToClient uint64  `json:"payload_bytes_toclient"`
	MissedToServer  uint64  `json:"missed_bytes_toserver,omitempty"`
	MissedToClient  uint64  `json:"missed_bytes_toclient,omitempty"`
	TCPFlagsTS      string  `json:"tcp_flags_toserver,omitempty"`
	TCPFlagsTC      string  `json:"tcp_flags_toclient,omitempty"`
	State           string  `json:"state"`
	CloseReason     string  `json:"close_reason"`
	// Encrypted is the verdict: from the parser where it can tell (TLS),
	// else a guess from byte entropy (EncryptionBasis says which).
	Encrypted       bool    `json:"encrypted"`
	EncryptionBasis string  `json:"encryption_basis"`
	Entropy         float64 `json:"entropy,omitempty"`
}

// EventType implements parser.Body.
func (*Record) EventType() string { return "flow" }

func (f *Flow) record(reason parser.CloseReason, name string) *Record {
	r := &Record{
		AppProto:        name,
		Start:           time.Unix(0, f.first).UTC().Format(timeLayout),
		End:             time.Unix(0, f.last).UTC().Format(timeLayout),
		Duration:        math.Round(float64(f.last-f.first)/1e3) / 1e6,
		PktsToServer:    f.pkts[0],
		PktsToClient:    f.pkts[1],
		BytesToServer:   f.bytes[0],
		BytesToClient:   f.bytes[1],
		PayloadToServer: f.payload[0],
		PayloadToClient: f.payload[1],
		MissedToServer:  f.missed[0],
		MissedToClient:  f.missed[1],
		State:           f.state(),
		CloseReason:     reason.String(),
	}
	if f.key.Proto == 6 {
		r.TCPFlagsTS = flagString(f.tcpFlags[0])
		r.TCPFlagsTC = flagString(f.tcpFlags[1])
	}
	v := f.app.encryption()
	r.Encrypted, r.EncryptionBasis, r.Entropy = v.encrypted, v.basis, v.entropy
	return r
}

const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

func (f *Flow) state() string {
	if f.key.Proto != 6 {
		if f.pkts[1] > 0 {
			return "bidirectional"
		}
		return "unidirectional"
	}
	switch {
	case f.rst:
		return "reset"
	case f.fin[0] && f.fin[1]:
		return "closed"
	case f.fin[0] || f.fin[1]:
		return "half_closed"
	case f.synSeen && f.synAckSeen:
		return "established"
	case f.synSeen:
		return "syn_only"
	}
	return "midstream"
}

func flagString(fl uint8) string {
	const names = "FSRPAU"
	var b [6]byte
	n := 0
	for i := 0; i < 6; i++ {
		if fl&(1<<i) != 0 {
			b[n] = names[i]
			n++
		}
	}
	return string(b[:n])
}

// udpPacket handles one UDP datagram: each is a message of its own.
func (f *Flow) udpPacket(dir parser.Direction, p *decode.Packet) {
	f.payload[dir] += uint64(len(p.Payload))
	if len(p.Payload) > 0 {
		f.app.deliverDatagram(f, dir, p.Payload, time.Unix(0, p.TS))
	}
}
