package flow

import (
	"time"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/sensor/decode"
)

// TCP reassembly. In-order payload goes to the parser straight from the
// capture buffer, without a copy. Only segments that arrive ahead of a hole
// are copied, into pooled chunks, bounded per direction and per table.
//
// A hole is given up as lost, and reported to the parser as a gap, as soon
// as the evidence says it will never be filled: the receiver acknowledged
// data past it (the sensor missed bytes the endpoint got), the connection
// closed, or a buffer limit was reached.

// half is one direction's reassembly state.
type half struct {
	started  bool
	closed   bool // FIN delivered
	finSeen  bool
	finSeq   uint32 // sequence number of the FIN
	isn      uint32
	next     uint32 // next sequence number expected
	ackedTo  uint32 // highest ack the peer sent beyond next
	ackValid bool
	ooo      *segment // out-of-order segments, ascending sequence
	oooBytes int
	oooCount int
	offset   uint64 // stream bytes delivered or skipped so far
}

type segment struct {
	seq  uint32
	data []byte
	ts   int64
	next *segment
}

func seqLT(a, b uint32) bool  { return int32(a-b) < 0 }
func seqLEQ(a, b uint32) bool { return int32(a-b) <= 0 }

// reassembly anomaly bits, one report per flow each.
const (
	anomStreamLimit = 1 << iota
	anomTotalLimit
	anomSegmentLimit
)

func (f *Flow) tcpPacket(dir parser.Direction, p *decode.Packet) {
	t := f.t
	fl := p.TCP.Flags
	f.tcpFlags[dir] |= fl & 0x3f
	h := &f.tcp[dir]
	ts := time.Unix(0, p.TS)
	f.payload[dir] += uint64(len(p.Payload))

	if fl&decode.FlagSYN != 0 {
		if fl&decode.FlagACK == 0 {
			f.synSeen = true
		} else {
			f.synAckSeen = true
		}
		if !h.started {
			h.started = true
			h.isn = p.TCP.Seq
			h.next = p.TCP.Seq + 1
		}
	}
	if fl&decode.FlagACK != 0 {
		f.tcp[dir^1].peerAck(f, dir^1, p.TCP.Ack, ts)
	}
	if fl&decode.FlagRST != 0 {
		if !f.rst {
			f.rst = true
			t.setClass(f, classTCPClosed)
			f.tcp[0].flushAll(f, parser.ToServer, ts)
			f.tcp[1].flushAll(f, parser.ToClient, ts)
			f.app.close(f, parser.CloseRST, ts)
		}
		return
	}
	if len(p.Payload) > 0 {
		seq := p.TCP.Seq
		if fl&decode.FlagSYN != 0 {
			seq++ // data on a SYN (TCP Fast Open) follows the SYN's number
		}
		if !h.started {
			h.started = true
			h.isn = seq
			h.next = seq
			t.Stats.TCP.MidStream++
		}
		t.Stats.TCP.Segments++
		h.segment(f, dir, seq, p.Payload, p.TS, ts)
	}
	if fl&decode.FlagFIN != 0 && !h.finSeen && h.started {
		h.finSeen = true
		h.finSeq = p.TCP.Seq + uint32(len(p.Payload))
		if fl&decode.FlagSYN != 0 {
			h.finSeq++
		}
		f.fin[dir] = true
		h.checkFIN()
	}
	if f.class == classTCPNew && (len(p.Payload) > 0 || (f.synAckSeen && fl&(decode.FlagSYN) == 0)) {
		t.setClass(f, f.appClass())
	}
	if f.fin[0] && f.fin[1] && f.class != classTCPClosed {
		// Both sides are done: the parser is closed now and its memory
		// freed; the flow stays for the close delay to count trailing
		// packets.
		f.tcp[0].flushAll(f, parser.ToServer, ts)
		f.tcp[1].flushAll(f, parser.ToClient, ts)
		t.setClass(f, classTCPClosed)
		f.app.close(f, parser.CloseFIN, ts)
	}
}

// segment places one payload-carrying segment.
func (h *half) segment(f *Flow, dir parser.Direction, seq uint32, data []byte, tsn int64, ts time.Time) {
	t := f.t
	if h.closed {
		t.Stats.TCP.Retransmitted++
		return
	}
	end := seq + uint32(len(data))
	if seqLEQ(end, h.next) {
		t.Stats.TCP.Retransmitted++
		return
	}
	if seqLT(seq, h.next) {
		t.Stats.TCP.Overlaps++
		data = data[h.next-seq:]
		seq = h.next
	}
	if seq != h.next {
		// Ahead of a hole. If the peer already acknowledged past this
		// segment's start, the hole's bytes reached the peer but not us:
		// report the gap now instead of buffering.
		if !h.ackValid || seqLT(h.ackedTo, seq) {
			h.buffer(f, dir, seq, data, tsn, ts)
			return
		}
		for h.ooo != nil && seqLEQ(h.ooo.seq, seq) {
			h.skipHole(f, dir, ts)
		}
		if seqLT(h.next, seq) {
			h.gap(f, dir, int(seq-h.next), ts)
		}
		if seqLEQ(end, h.next) || h.closed {
			return
		}
		data = data[h.next-seq:]
	}
	t.Stats.TCP.InOrder++
	h.deliver(f, dir, data, ts)
	h.drain(f, dir)
}

func (h *half) deliver(f *Flow, dir parser.Direction, data []byte, ts time.Time) {
	h.next += uint32(len(data))
	h.offset += uint64(len(data))
	f.app.deliver(f, dir, data, ts)
	h.checkFIN()
}

func (h *half) checkFIN() {
	if h.finSeen && !h.closed && h.next == h.finSeq {
		h.closed = true
		h.next++
	}
}

func (h *half) gap(f *Flow, dir parser.Direction, n int, ts time.Time) {
	if n <= 0 {
		return
	}
	t := f.t
	t.Stats.TCP.Gaps++
	t.Stats.TCP.GapBytes += uint64(n)
	f.missed[dir] += uint64(n)
	h.next += uint32(n)
	h.offset += uint64(n)
	f.app.gap(f, dir, n, ts)
	h.checkFIN()
}

// drain delivers buffered segments that are now in order.
func (h *half) drain(f *Flow, dir parser.Direction) {
	for s := h.ooo; s != nil && seqLEQ(s.seq, h.next); s = h.ooo {
		h.ooo = s.next
		h.oooBytes -= len(s.data)
		h.oooCount--
		f.t.buffered -= len(s.data)
		end := s.seq + uint32(len(s.data))
		if seqLT(h.next, end) && !h.closed {
			if seqLT(s.seq, h.next) {
				f.t.Stats.TCP.Overlaps++
			}
			h.deliver(f, dir, s.data[h.next-s.seq:], time.Unix(0, s.ts))
		}
		f.t.segs.put(s)
	}
}

// buffer copies an out-of-order segment, within the limits.
func (h *half) buffer(f *Flow, dir parser.Direction, seq uint32, data []byte, tsn int64, ts time.Time) {
	t := f.t
	cfg := &t.cfg
	if h.oooBytes+len(data) > cfg.MaxBufferedPerStream || h.oooCount >= cfg.MaxSegmentsPerStream {
		t.Stats.TCP.StreamLimit++
		f.anomaly(anomStreamLimit, "tcp", "stream_buffer_limit", dir, ts, int64(h.oooBytes+len(data)), int64(cfg.MaxBufferedPerStream))
		h.skipHole(f, dir, ts)
		if seq == h.next {
			h.deliver(f, dir, data, ts)
			h.drain(f, dir)
			return
		}
		if seqLT(h.next, seq) && h.ooo == nil {
			h.gap(f, dir, int(seq-h.next), ts)
			h.deliver(f, dir, data, ts)
			return
		}
	}
	if t.buffered+len(data) > cfg.MaxBufferedTotal {
		// The table is full: give up this hole rather than hold more.
		t.Stats.TCP.TotalLimit++
		f.anomaly(anomTotalLimit, "tcp", "total_buffer_limit", dir, ts, int64(t.buffered+len(data)), int64(cfg.MaxBufferedTotal))
		for h.ooo != nil {
			h.skipHole(f, dir, ts)
		}
		if seqLT(h.next, seq) {
			h.gap(f, dir, int(seq-h.next), ts)
		}
		if seq == h.next {
			h.deliver(f, dir, data, ts)
		}
		return
	}
	t.Stats.TCP.OutOfOrder++
	s := t.segs.get(len(data))
	s.seq = seq
	s.data = append(s.data[:0], data...)
	s.ts = tsn
	// Insert in ascending order; a segment with an equal start replaces
	// nothing (drain trims overlaps).
	pp := &h.ooo
	for *pp != nil && seqLEQ((*pp).seq, seq) {
		pp = &(*pp).next
	}
	s.next = *pp
	*pp = s
	h.oooBytes += len(s.data)
	h.oooCount++
	t.buffered += len(s.data)
	if t.buffered > t.Stats.TCP.BufferedPeak {
		t.Stats.TCP.BufferedPeak = t.buffered
	}
}

// skipHole declares the hole before the first buffered segment lost and
// delivers what then follows in order.
func (h *half) skipHole(f *Flow, dir parser.Direction, ts time.Time) {
	if h.ooo == nil {
		return
	}
	if seqLT(h.next, h.ooo.seq) {
		h.gap(f, dir, int(h.ooo.seq-h.next), ts)
	}
	h.drain(f, dir)
}

// peerAck handles an acknowledgement of this direction's data by the peer.
func (h *half) peerAck(f *Flow, dir parser.Direction, ack uint32, ts time.Time) {
	if !h.started || h.closed || seqLEQ(ack, h.next) {
		return
	}
	if h.finSeen && seqLT(h.finSeq, ack) {
		ack = h.finSeq // the FIN's own number is not data
	}
	if !h.ackValid || seqLT(h.ackedTo, ack) {
		h.ackedTo, h.ackValid = ack, true
	}
	// Holes the peer acknowledged past are lost to the capture.
	for h.ooo != nil && seqLEQ(h.ooo.seq, ack) {
		h.skipHole(f, dir, ts)
	}
}

// flushAll gives up every hole: used when the flow closes.
func (h *half) flushAll(f *Flow, dir parser.Direction, ts time.Time) {
	for h.ooo != nil {
		h.skipHole(f, dir, ts)
	}
	if h.started && h.finSeen && !h.closed && seqLT(h.next, h.finSeq) {
		h.gap(f, dir, int(h.finSeq-h.next), ts)
	} else if h.started && h.ackValid && seqLT(h.next, h.ackedTo) {
		h.gap(f, dir, int(h.ackedTo-h.next), ts)
	}
}

func (h *half) release(t *Table) {
	for s := h.ooo; s != nil; {
		n := s.next
		t.buffered -= len(s.data)
		t.segs.put(s)
		s = n
	}
	h.ooo = nil
}

// segPool recycles segments and their data chunks.
type segPool struct {
	free []*segment
}

// segChunk is the data capacity pooled segments keep; larger segments
// (jumbo frames, offloaded captures) get an exact buffer that is dropped.
const segChunk = 2048

// maxFreeSegments bounds the pool itself.
const maxFreeSegments = 4096

func (p *segPool) get(n int) *segment {
	if n <= segChunk {
		if k := len(p.free); k > 0 {
			s := p.free[k-1]
			p.free = p.free[:k-1]
			return s
		}
		return &segment{data: make([]byte, 0, segChunk)}
	}
	return &segment{data: make([]byte, 0, n)}
}

func (p *segPool) put(s *segment) {
	s.next = nil
	if cap(s.data) == segChunk && len(p.free) < maxFreeSegments {
		s.data = s.data[:0]
		p.free = append(p.free, s)
	}
}
