package flow

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/sensor/decode"
	"github.com/medtap/medtap/sensor/event"
)

// streamLog is a parser that writes down what reassembly hands it.
type streamLog struct {
	b      *strings.Builder
	closed *string
}

func (s *streamLog) Feed(dir parser.Direction, data []byte, _ time.Time) {
	fmt.Fprintf(s.b, "%d:%s|", dir, data)
}
func (s *streamLog) Gap(dir parser.Direction, n int, _ time.Time) {
	fmt.Fprintf(s.b, "%d:gap%d|", dir, n)
}
func (s *streamLog) Close(r parser.CloseReason, _ time.Time) { *s.closed = r.String() }

func logFactory(b *strings.Builder, closed *string) parser.Factory {
	return parser.Factory{
		Name:      "log",
		Transport: parser.TCP | parser.UDP,
		Probe:     func(parser.Direction, []byte) parser.Verdict { return parser.Match },
		New: func(*parser.Flow, parser.Emitter, *parser.Env) parser.Stream {
			return &streamLog{b: b, closed: closed}
		},
	}
}

// seg describes one TCP packet of a test conversation: c is the client's
// (1) or the server's (0) side; seq and ack are relative to ISNs.
type seg struct {
	c     bool
	flags uint8
	seq   uint32
	ack   uint32
	data  string
}

const (
	cISN = 1000
	sISN = 0xfffffff0 // wraps during the test
)

func (s seg) packet(ts int64) decode.Packet {
	p := decode.Packet{TS: ts, WireLen: uint32(54 + len(s.data)), Proto: 6, Payload: []byte(s.data)}
	cli, srv := [16]byte{10, 0, 0, 1}, [16]byte{10, 0, 0, 2}
	p.TCP.Flags = s.flags
	if s.c {
		p.Src, p.Dst, p.SrcPort, p.DstPort = cli, srv, 40000, 104
		p.TCP.Seq, p.TCP.Ack = cISN+s.seq, sISN+s.ack
	} else {
		p.Src, p.Dst, p.SrcPort, p.DstPort = srv, cli, 104, 40000
		p.TCP.Seq, p.TCP.Ack = sISN+s.seq, cISN+s.ack
	}
	return p
}

const (
	S  = decode.FlagSYN
	A  = decode.FlagACK
	F  = decode.FlagFIN
	R  = decode.FlagRST
	SA = S | A
	PA = decode.FlagPSH | A
	FA = F | A
)

var handshake = []seg{{true, S, 0, 0, ""}, {false, SA, 0, 1, ""}, {true, A, 1, 1, ""}}

func run(t *testing.T, cfg Config, segs []seg) (log, closed string, tab *Table, evs []*event.Event) {
	t.Helper()
	var b strings.Builder
	cfg.Parsers = []parser.Factory{logFactory(&b, &closed)}
	tab = NewTable(cfg)
	tab.Begin(nil)
	for i, s := range segs {
		p := s.packet(int64(i+1) * 1e6)
		tab.Packet(&p, uint64(i))
		if tab.Buffered() > cfg.MaxBufferedTotal && cfg.MaxBufferedTotal > 0 {
			t.Fatalf("packet %d: %d bytes buffered, over the %d limit", i, tab.Buffered(), cfg.MaxBufferedTotal)
		}
	}
	tab.Flush(uint64(len(segs)))
	return b.String(), closed, tab, tab.End()
}

func TestReassembly(t *testing.T) {
	cases := []struct {
		name   string
		segs   []seg
		want   string
		closed string
	}{
		{"in order", append(handshake[:3:3],
			seg{true, PA, 1, 1, "abc"}, seg{false, PA, 1, 4, "XY"}, seg{true, PA, 4, 3, "def"},
			seg{true, FA, 7, 3, ""}, seg{false, FA, 3, 8, ""}, seg{true, A, 8, 4, ""}),
			"0:abc|1:XY|0:def|", "fin"},
		{"out of order", append(handshake[:3:3],
			seg{true, PA, 4, 1, "def"}, seg{true, PA, 1, 1, "abc"}, seg{true, PA, 7, 1, "g"}),
			"0:abc|0:def|0:g|", "end_of_input"},
		{"retransmission", append(handshake[:3:3],
			seg{true, PA, 1, 1, "abc"}, seg{true, PA, 1, 1, "abc"}, seg{true, PA, 4, 1, "def"}),
			"0:abc|0:def|", "end_of_input"},
		{"overlap", append(handshake[:3:3],
			seg{true, PA, 1, 1, "abc"}, seg{true, PA, 2, 1, "bcdef"}, seg{true, PA, 7, 1, "g"}),
			"0:abc|0:def|0:g|", "end_of_input"},
		{"overlap out of order", append(handshake[:3:3],
			seg{true, PA, 5, 1, "efg"}, seg{true, PA, 3, 1, "cdef"}, seg{true, PA, 1, 1, "ab"}),
			"0:ab|0:cdef|0:g|", "end_of_input"},
		{"loss confirmed by ack", append(handshake[:3:3],
			seg{true, PA, 1, 1, "abc"} /* "def" lost */, seg{true, PA, 7, 1, "ghi"},
			seg{false, A, 1, 10, ""}, seg{true, PA, 10, 1, "jk"}),
			"0:abc|0:gap3|0:ghi|0:jk|", "end_of_input"},
		{"ack before the data after a hole", append(handshake[:3:3],
			seg{true, PA, 1, 1, "abc"}, seg{false, A, 1, 7, ""}, seg{true, PA, 7, 1, "ghi"}),
			"0:abc|0:gap3|0:ghi|", "end_of_input"},
		{"loss at the end before fin", append(handshake[:3:3],
			seg{true, PA, 1, 1, "abc"}, seg{true, FA, 7, 1, ""}, seg{false, FA, 1, 8, ""}),
			"0:abc|0:gap3|", "fin"},
		{"midstream pickup", []seg{
			{true, PA, 500, 77, "mid"}, {false, PA, 77, 503, "resp"}, {true, PA, 503, 81, "more"}},
			"0:mid|1:resp|0:more|", "end_of_input"},
		{"reset", append(handshake[:3:3],
			seg{true, PA, 1, 1, "abc"}, seg{true, PA, 7, 1, "ghi"}, seg{false, R | A, 1, 4, ""}),
			"0:abc|0:gap3|0:ghi|", "rst"},
		{"server data wraps the sequence space", append(handshake[:3:3],
			seg{false, PA, 1, 1, "0123456789abcdef"}, seg{false, PA, 17, 1, "XYZ"}),
			"1:0123456789abcdef|1:XYZ|", "end_of_input"},
		{"syn with fast-open data", []seg{{true, S, 0, 0, "tfo"}, {false, SA, 0, 4, ""}, {true, PA, 4, 1, "x"}},
			"0:tfo|0:x|", "end_of_input"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			log, closed, _, _ := run(t, Config{}, c.segs)
			if log != c.want {
				t.Errorf("streams:\n got %s\nwant %s", log, c.want)
			}
			if closed != c.closed {
				t.Errorf("closed with %q, want %q", closed, c.closed)
			}
		})
	}
}

func TestStreamLimitGivesUpHoleAndStaysBounded(t *testing.T) {
	segs := append([]seg{}, handshake...)
	segs = append(segs, seg{true, PA, 1, 1, "a"})
	// Byte 2 is lost; 200 segments of 10 bytes follow with no ack from the
	// server, more than the 1 KiB per-stream buffer holds.
	var want strings.Builder
	want.WriteString("0:a|")
	for i := 0; i < 200; i++ {
		segs = append(segs, seg{true, PA, uint32(3 + 10*i), 1, fmt.Sprintf("%010d", i)})
	}
	cfg := Config{MaxBufferedPerStream: 1024, MaxBufferedTotal: 4096}
	log, _, tab, evs := run(t, cfg, segs)
	if !strings.Contains(log, "0:gap1|") || !strings.HasSuffix(log, "0:0000000199|") {
		t.Fatalf("want a 1-byte gap and every later segment delivered, got %s", log)
	}
	if tab.Stats.TCP.StreamLimit == 0 {
		t.Error("stream limit not counted")
	}
	if tab.Stats.TCP.BufferedPeak > cfg.MaxBufferedPerStream {
		t.Errorf("buffered peak %d over the per-stream limit %d", tab.Stats.TCP.BufferedPeak, cfg.MaxBufferedPerStream)
	}
	var anomalies int
	for _, e := range evs {
		if a, ok := e.Body.(*parser.Anomaly); ok && a.Code == "stream_buffer_limit" {
			anomalies++
		}
	}
	if anomalies != 1 {
		t.Errorf("want one stream_buffer_limit anomaly event for the flow, got %d", anomalies)
	}
}

func TestPortReuseStartsNewFlow(t *testing.T) {
	segs := append([]seg{}, handshake...)
	segs = append(segs, seg{true, PA, 1, 1, "one"}, seg{true, FA, 4, 1, ""}, seg{false, FA, 1, 5, ""}, seg{true, A, 5, 2, ""})
	// Same ports again, new ISN: a new connection.
	second := []seg{{true, S, 5000, 0, ""}, {false, SA, 9000, 5001, ""}, {true, PA, 5001, 9001, "two"}}
	segs = append(segs, second...)
	_, _, tab, evs := run(t, Config{}, segs)
	if tab.Stats.FlowsCreated != 2 {
		t.Fatalf("flows created %d, want 2", tab.Stats.FlowsCreated)
	}
	var flows int
	for _, e := range evs {
		if _, ok := e.Body.(*Record); ok {
			flows++
		}
	}
	if flows != 2 {
		t.Errorf("flow records %d, want 2", flows)
	}
}

func TestFlowCapEvictsLeastRecentlySeen(t *testing.T) {
	tab := NewTable(Config{MaxFlows: 2})
	tab.Begin(nil)
	for i := 0; i < 3; i++ {
		p := decode.Packet{TS: int64(i+1) * 1e9, Proto: 17, Src: [16]byte{10, 0, 0, byte(i)}, Dst: [16]byte{10, 0, 0, 9}, SrcPort: 5000, DstPort: 53, Payload: []byte("q")}
		tab.Packet(&p, uint64(i))
	}
	evs := tab.End()
	if tab.Len() != 2 || tab.Stats.Evicted != 1 {
		t.Fatalf("len %d evicted %d, want 2 and 1", tab.Len(), tab.Stats.Evicted)
	}
	if len(evs) != 1 || evs[0].Flow.Client.Addr().As4()[3] != 0 {
		t.Fatalf("want the first flow evicted, got %+v", evs)
	}
	if r := evs[0].Body.(*Record); r.CloseReason != "evicted" {
		t.Errorf("close reason %q", r.CloseReason)
	}
}

func TestIdleTimeoutOnTick(t *testing.T) {
	tab := NewTable(Config{UDPTimeout: 30 * time.Second})
	tab.Begin(nil)
	p := decode.Packet{TS: 1e9, Proto: 17, Src: [16]byte{10, 0, 0, 1}, Dst: [16]byte{10, 0, 0, 2}, SrcPort: 5000, DstPort: 514, Payload: []byte("x")}
	tab.Packet(&p, 0)
	tab.Observe(20e9)
	tab.Tick(1)
	if tab.Len() != 1 {
		t.Fatal("flow expired too early")
	}
	tab.Observe(32e9)
	tab.Tick(2)
	if tab.Len() != 0 {
		t.Fatal("flow not expired after its timeout")
	}
	evs := tab.End()
	if len(evs) != 1 || evs[0].Body.(*Record).CloseReason != "timeout" || evs[0].Key.Packet != 2 {
		t.Fatalf("want one timeout record keyed at the tick, got %+v", evs)
	}
}

func TestCommunityID(t *testing.T) {
	// Published Community ID v1 baseline values (the spec's reference
	// implementation output for its sample flows).
	cases := []struct {
		src, dst     []byte
		sport, dport uint16
		proto        uint8
		want         string
	}{
		{[]byte{128, 232, 110, 120}, []byte{66, 35, 250, 204}, 34855, 80, 6, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
		{[]byte{66, 35, 250, 204}, []byte{128, 232, 110, 120}, 80, 34855, 6, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
	}
	for _, c := range cases {
		if got := CommunityID(c.src, c.dst, c.sport, c.dport, c.proto); got != c.want {
			t.Errorf("%v:%d -> %v:%d: got %s want %s", c.src, c.sport, c.dst, c.dport, got, c.want)
		}
	}
}

func TestInOrderPathDoesNotAllocate(t *testing.T) {
	var b strings.Builder
	var closed string
	nop := parser.Factory{Name: "nop", Transport: parser.TCP,
		Probe: func(parser.Direction, []byte) parser.Verdict { return parser.Match },
		New: func(*parser.Flow, parser.Emitter, *parser.Env) parser.Stream {
			return nopStream{}
		}}
	_ = logFactory(&b, &closed)
	tab := NewTable(Config{Parsers: []parser.Factory{nop}, Recover: true})
	tab.Begin(make([]*event.Event, 0, 16))
	for i, s := range handshake {
		p := s.packet(int64(i))
		tab.Packet(&p, uint64(i))
	}
	data := strings.Repeat("x", 1400)
	seq := uint32(1)
	idx := uint64(10)
	pc := seg{true, PA, seq, 1, data}.packet(5)
	ack := seg{false, A, 1, seq, ""}.packet(5)
	allocs := testing.AllocsPerRun(1000, func() {
		pc.TCP.Seq = cISN + seq
		tab.Packet(&pc, idx)
		seq += uint32(len(data))
		ack.TCP.Ack = cISN + seq
		tab.Packet(&ack, idx+1)
		idx += 2
	})
	if allocs != 0 {
		t.Errorf("in-order segment + ack: %.1f allocations per run, want 0", allocs)
	}
}

type nopStream struct{}

func (nopStream) Feed(parser.Direction, []byte, time.Time) {}
func (nopStream) Gap(parser.Direction, int, time.Time)     {}
func (nopStream) Close(parser.CloseReason, time.Time)      {}

func BenchmarkInOrderSegment(b *testing.B) {
	nop := parser.Factory{Name: "nop", Transport: parser.TCP,
		Probe: func(parser.Direction, []byte) parser.Verdict { return parser.Match },
		New:   func(*parser.Flow, parser.Emitter, *parser.Env) parser.Stream { return nopStream{} }}
	tab := NewTable(Config{Parsers: []parser.Factory{nop}, Recover: true})
	tab.Begin(make([]*event.Event, 0, 16))
	for i, s := range handshake {
		p := s.packet(int64(i))
		tab.Packet(&p, uint64(i))
	}
	data := strings.Repeat("x", 1448)
	pc := seg{true, PA, 1, 1, data}.packet(5)
	seq := uint32(1)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		pc.TCP.Seq = cISN + seq
		tab.Packet(&pc, uint64(i))
		seq += uint32(len(data))
	}
}
