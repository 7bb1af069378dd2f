package main

import (
	"bufio"
	"encoding/binary"
	"io"
	"math/bits"
)

const (
	pcapMagicMicro = 0xa1b2c3d4
	pcapMagicNano  = 0xa1b23c4d
	linkEthernet   = 1
	genSnaplen     = 262144
	mss            = 1460

	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpPSH = 0x08
	tcpACK = 0x10
)

// pcapHeader returns a classic pcap global header (little endian).
func pcapHeader(magic uint32, snaplen, linktype uint32) []byte {
	h := make([]byte, 24)
	binary.LittleEndian.PutUint32(h[0:], magic)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], snaplen)
	binary.LittleEndian.PutUint32(h[20:], linktype)
	return h
}

// endpoint is one side of a conversation as it appears on the wire.
type endpoint struct {
	mac  [6]byte
	ip   [4]byte
	port uint16
}

// pktWriter builds Ethernet/IPv4/TCP|UDP frames into one reused buffer and
// writes them as pcap records. Nothing on the per-packet path allocates.
type pktWriter struct {
	w        *bufio.Writer
	buf      []byte // 16-byte record header followed by the frame
	usec     uint64 // capture clock, microseconds since the epoch
	csum     bool   // compute TCP/UDP checksums
	drop     *dropper
	packets  uint64
	bytes    uint64 // file bytes, including the global header
	wire     uint64 // frame bytes
	dropped  uint64
	eligible uint64
	// vbytes and vwire count dropped frames too: generation decisions use
	// them, so that -lossy changes nothing but the dropped frames.
	vbytes, vwire uint64
}

func newPktWriter(w io.Writer, startUsec uint64, csum bool, drop *dropper) *pktWriter {
	pw := &pktWriter{
		w:    bufio.NewWriterSize(w, 8<<20),
		buf:  make([]byte, 16+18+60+60+65536),
		usec: startUsec,
		csum: csum,
		drop: drop,
	}
	h := pcapHeader(pcapMagicMicro, genSnaplen, linkEthernet)
	pw.w.Write(h)
	pw.bytes = uint64(len(h))
	pw.vbytes = pw.bytes
	return pw
}

func (pw *pktWriter) flush() error { return pw.w.Flush() }

// l2 writes the Ethernet (and optional 802.1Q) header at off and returns the
// offset of the IP header.
func (pw *pktWriter) l2(src, dst *endpoint, vlan uint16) int {
	b := pw.buf[16:]
	copy(b[0:6], dst.mac[:])
	copy(b[6:12], src.mac[:])
	if vlan != 0 {
		binary.BigEndian.PutUint16(b[12:], 0x8100)
		binary.BigEndian.PutUint16(b[14:], vlan&0x0fff)
		binary.BigEndian.PutUint16(b[16:], 0x0800)
		return 18
	}
	binary.BigEndian.PutUint16(b[12:], 0x0800)
	return 14
}

func (pw *pktWriter) ipv4(off int, src, dst *endpoint, proto byte, l4len int, id uint16, ttl byte) {
	ip := pw.buf[16+off : 16+off+20]
	ip[0] = 0x45
	ip[1] = 0
	binary.BigEndian.PutUint16(ip[2:], uint16(20+l4len))
	binary.BigEndian.PutUint16(ip[4:], id)
	binary.BigEndian.PutUint16(ip[6:], 0x4000) // DF
	ip[8] = ttl
	ip[9] = proto
	ip[10], ip[11] = 0, 0
	copy(ip[12:16], src.ip[:])
	copy(ip[16:20], dst.ip[:])
	binary.BigEndian.PutUint16(ip[10:], ^fold(sum(0, ip)))
}

// pseudo returns the partial checksum of the IPv4 pseudo header.
func pseudo(src, dst *endpoint, proto byte, l4len int) uint64 {
	s := uint64(binary.BigEndian.Uint32(src.ip[:])) + uint64(binary.BigEndian.Uint32(dst.ip[:]))
	return s + uint64(proto) + uint64(l4len)
}

// tcp emits one TCP segment from src to dst. Returns false if the lossy
// filter dropped it.
func (pw *pktWriter) tcp(src, dst *endpoint, vlan uint16, id uint16, ttl byte, seq, ack uint32, flags byte, win uint16, opts, payload []byte) bool {
	thl := 20 + len(opts)
	l4 := thl + len(payload)
	if len(payload) > 0 && flags&tcpSYN == 0 && pw.drop != nil {
		pw.eligible++
		if pw.drop.drop() {
			pw.dropped++
			// The clock runs on as if the frame had been written, so the
			// other packets keep the timestamps of the lossless capture.
			n := 14 + 20 + l4
			if vlan != 0 {
				n += 4
			}
			pw.usec += 1 + uint64(n)>>8
			pw.vwire += uint64(n)
			pw.vbytes += uint64(16 + n)
			return false
		}
	}
	off := pw.l2(src, dst, vlan)
	pw.ipv4(off, src, dst, 6, l4, id, ttl)
	t := pw.buf[16+off+20 : 16+off+20+l4]
	binary.BigEndian.PutUint16(t[0:], src.port)
	binary.BigEndian.PutUint16(t[2:], dst.port)
	binary.BigEndian.PutUint32(t[4:], seq)
	binary.BigEndian.PutUint32(t[8:], ack)
	t[12] = byte(thl/4) << 4
	t[13] = flags
	binary.BigEndian.PutUint16(t[14:], win)
	t[16], t[17], t[18], t[19] = 0, 0, 0, 0
	copy(t[20:], opts)
	copy(t[thl:], payload)
	if pw.csum {
		binary.BigEndian.PutUint16(t[16:], ^fold(sum(pseudo(src, dst, 6, l4), t)))
	}
	pw.record(off + 20 + l4)
	return true
}

// udp emits one UDP datagram.
func (pw *pktWriter) udp(src, dst *endpoint, vlan uint16, id uint16, ttl byte, payload []byte) {
	off := pw.l2(src, dst, vlan)
	l4 := 8 + len(payload)
	pw.ipv4(off, src, dst, 17, l4, id, ttl)
	u := pw.buf[16+off+20 : 16+off+20+l4]
	binary.BigEndian.PutUint16(u[0:], src.port)
	binary.BigEndian.PutUint16(u[2:], dst.port)
	binary.BigEndian.PutUint16(u[4:], uint16(l4))
	u[6], u[7] = 0, 0
	copy(u[8:], payload)
	if pw.csum {
		c := ^fold(sum(pseudo(src, dst, 17, l4), u))
		if c == 0 {
			c = 0xffff
		}
		binary.BigEndian.PutUint16(u[6:], c)
	}
	pw.record(off + 20 + l4)
}

// record writes the pcap record header for a frame of n bytes already in
// buf[16:] and advances the clock: at least 1 µs per packet, plus the time
// the frame takes on a ~2 Gbit/s link, so timestamps strictly increase.
func (pw *pktWriter) record(n int) {
	pw.usec += 1 + uint64(n)>>8
	h := pw.buf[:16]
	binary.LittleEndian.PutUint32(h[0:], uint32(pw.usec/1e6))
	binary.LittleEndian.PutUint32(h[4:], uint32(pw.usec%1e6))
	binary.LittleEndian.PutUint32(h[8:], uint32(n))
	binary.LittleEndian.PutUint32(h[12:], uint32(n))
	pw.w.Write(pw.buf[:16+n])
	pw.packets++
	pw.wire += uint64(n)
	pw.bytes += uint64(16 + n)
	pw.vwire += uint64(n)
	pw.vbytes += uint64(16 + n)
}

// sum adds b to the running one's-complement sum s (not yet folded), eight
// bytes at a time.
func sum(s uint64, b []byte) uint64 {
	var c uint64
	for len(b) >= 32 {
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b[0:]), c)
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b[8:]), c)
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b[16:]), c)
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b[24:]), c)
		b = b[32:]
	}
	for len(b) >= 8 {
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b), c)
		b = b[8:]
	}
	s, c = bits.Add64(s, 0, c)
	s += c // cannot overflow again
	var tail uint64
	switch {
	case len(b) >= 4:
		tail = uint64(binary.BigEndian.Uint32(b)) << 32
		b = b[4:]
		var t2 uint64
		for i, v := range b {
			t2 |= uint64(v) << (24 - 8*i)
		}
		tail |= t2
	default:
		for i, v := range b {
			tail |= uint64(v) << (56 - 8*i)
		}
	}
	s, c = bits.Add64(s, tail, 0)
	return s + c
}

// fold reduces a 64-bit one's-complement sum to 16 bits.
func fold(s uint64) uint16 {
	s = (s >> 32) + (s & 0xffffffff)
	s = (s >> 32) + (s & 0xffffffff)
	s = (s >> 16) + (s & 0xffff)
	s = (s >> 16) + (s & 0xffff)
	s = (s >> 16) + (s & 0xffff)
	return uint16(s)
}
