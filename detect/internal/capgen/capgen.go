// Package capgen builds small classic pcap files for detect's declarative
// test cases: it re-addresses and re-times real captures (so a loopback
// DCMTK capture can play a modality talking to a foreign peer), and writes
// synthetic TCP/UDP conversations whose payloads come from the caller
// (HL7 over MLLP, DICOM associations built by this package). Output is a
// pure function of the input: the same spec gives the same bytes.
package capgen

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"time"
)

// Writer writes a classic pcap (LINKTYPE_ETHERNET, microseconds).
type Writer struct {
	w   io.Writer
	err error
	// Last is the time of the last packet written.
	Last time.Time
}

// NewWriter writes the file header.
func NewWriter(w io.Writer) *Writer {
	h := make([]byte, 24)
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 262144)
	binary.LittleEndian.PutUint32(h[20:], 1)
	wr := &Writer{w: w}
	_, wr.err = w.Write(h)
	return wr
}

// Err is the first write error.
func (w *Writer) Err() error { return w.err }

// Frame writes one Ethernet frame at t.
func (w *Writer) Frame(t time.Time, frame []byte) {
	if w.err != nil {
		return
	}
	h := make([]byte, 16)
	us := t.UnixMicro()
	binary.LittleEndian.PutUint32(h[0:], uint32(us/1e6))
	binary.LittleEndian.PutUint32(h[4:], uint32(us%1e6))
	binary.LittleEndian.PutUint32(h[8:], uint32(len(frame)))
	binary.LittleEndian.PutUint32(h[12:], uint32(len(frame)))
	if _, err := w.w.Write(h); err != nil {
		w.err = err
		return
	}
	_, w.err = w.w.Write(frame)
	if t.After(w.Last) {
		w.Last = t
	}
}

// Packet is one captured frame read from a classic pcap.
type Packet struct {
	T     time.Time
	Frame []byte
}

// ReadPcap reads a classic little- or big-endian pcap with Ethernet
// framing (microsecond or nanosecond timestamps).
func ReadPcap(path string) ([]Packet, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 24 {
		return nil, errors.New("capgen: short pcap")
	}
	var bo binary.ByteOrder = binary.LittleEndian
	nano := false
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4:
	case 0xa1b23c4d:
		nano = true
	default:
		bo = binary.BigEndian
		switch binary.BigEndian.Uint32(b) {
		case 0xa1b2c3d4:
		case 0xa1b23c4d:
			nano = true
		default:
			return nil, fmt.Errorf("capgen: %s is not a classic pcap", path)
		}
	}
	if bo.Uint32(b[20:]) != 1 {
		return nil, fmt.Errorf("capgen: %s: only Ethernet link type supported", path)
	}
	var out []Packet
	for off := 24; off+16 <= len(b); {
		sec, frac := bo.Uint32(b[off:]), bo.Uint32(b[off+4:])
		n := int(bo.Uint32(b[off+8:]))
		off += 16
		if off+n > len(b) {
			break
		}
		ns := int64(frac) * 1000
		if nano {
			ns = int64(frac)
		}
		out = append(out, Packet{T: time.Unix(int64(sec), ns).UTC(), Frame: append([]byte(nil), b[off:off+n]...)})
		off += n
	}
	return out, nil
}

// Rewrite re-addresses an IPv4 TCP/UDP conversation: packets from or to
// ServerPort get Server as the server side and Client as the other; the
// server port can be changed too. MACs are derived from the addresses.
// Checksums are recomputed.
type Rewrite struct {
	ServerPort    uint16
	Client        netip.Addr
	Server        netip.Addr
	NewServerPort uint16 // 0: keep
}

// Apply rewrites one frame in place; frames it does not understand (ARP,
// IPv6) are left unchanged.
func (r Rewrite) Apply(fr []byte) {
	if len(fr) < 14+20 || binary.BigEndian.Uint16(fr[12:]) != 0x0800 {
		return
	}
	ip := fr[14:]
	ihl := int(ip[0]&0x0f) * 4
	if len(ip) < ihl+8 {
		return
	}
	proto := ip[9]
	if proto != 6 && proto != 17 {
		return
	}
	l4 := ip[ihl:]
	sp, dp := binary.BigEndian.Uint16(l4[0:]), binary.BigEndian.Uint16(l4[2:])
	var src, dst netip.Addr
	switch {
	case dp == r.ServerPort:
		src, dst = r.Client, r.Server
		if r.NewServerPort != 0 {
			binary.BigEndian.PutUint16(l4[2:], r.NewServerPort)
		}
	case sp == r.ServerPort:
		src, dst = r.Server, r.Client
		if r.NewServerPort != 0 {
			binary.BigEndian.PutUint16(l4[0:], r.NewServerPort)
		}
	default:
		return
	}
	s4, d4 := src.As4(), dst.As4()
	copy(ip[12:16], s4[:])
	copy(ip[16:20], d4[:])
	sm, dm := MAC(src), MAC(dst)
	copy(fr[0:6], dm[:])
	copy(fr[6:12], sm[:])
	total := int(binary.BigEndian.Uint16(ip[2:]))
	if total > len(ip) || total < ihl {
		total = len(ip)
	}
	fixIPv4(ip[:ihl])
	fixL4(ip[:total], ihl, proto)
}

// MAC derives a locally administered MAC from an IPv4 address.
func MAC(a netip.Addr) [6]byte {
	b := a.As4()
	return [6]byte{0x02, 0x00, b[0], b[1], b[2], b[3]}
}

func csum(b []byte, sum uint32) uint32 {
	for len(b) >= 2 {
		sum += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	return sum
}

func fold(sum uint32) uint16 {
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

func fixIPv4(h []byte) {
	h[10], h[11] = 0, 0
	binary.BigEndian.PutUint16(h[10:], fold(csum(h, 0)))
}

func fixL4(ip []byte, ihl int, proto uint8) {
	seg := ip[ihl:]
	off := 16
	if proto == 17 {
		off = 6
	}
	if len(seg) < off+2 {
		return
	}
	seg[off], seg[off+1] = 0, 0
	var ph [12]byte
	copy(ph[0:8], ip[12:20])
	ph[9] = proto
	binary.BigEndian.PutUint16(ph[10:], uint16(len(seg)))
	c := fold(csum(seg, csum(ph[:], 0)))
	if proto == 17 && c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(seg[off:], c)
}

// TCP flags.
const (
	FIN = 0x01
	SYN = 0x02
	RST = 0x04
	PSH = 0x08
	ACK = 0x10
)

// Conn writes one synthetic TCP connection.
type Conn struct {
	W              *Writer
	Client, Server netip.AddrPort
	T              time.Time     // time of the next packet
	Step           time.Duration // between packets (default 100µs)
	seq            [2]uint32
}

// MSS bounds synthetic segment payloads.
const MSS = 1400

func (c *Conn) step() time.Duration {
	if c.Step == 0 {
		return 100 * time.Microsecond
	}
	return c.Step
}

// Segment writes one TCP segment; dir 0 is client to server.
func (c *Conn) Segment(dir int, flags uint8, payload []byte) {
	src, dst := c.Client, c.Server
	if dir == 1 {
		src, dst = dst, src
	}
	fr := make([]byte, 14+20+20+len(payload))
	sm, dm := MAC(src.Addr()), MAC(dst.Addr())
	copy(fr[0:6], dm[:])
	copy(fr[6:12], sm[:])
	binary.BigEndian.PutUint16(fr[12:], 0x0800)
	ip := fr[14:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+20+len(payload)))
	ip[6] = 0x40
	ip[8] = 64
	ip[9] = 6
	s4, d4 := src.Addr().As4(), dst.Addr().As4()
	copy(ip[12:], s4[:])
	copy(ip[16:], d4[:])
	tcp := ip[20:]
	binary.BigEndian.PutUint16(tcp[0:], src.Port())
	binary.BigEndian.PutUint16(tcp[2:], dst.Port())
	binary.BigEndian.PutUint32(tcp[4:], c.seq[dir])
	if flags&ACK != 0 {
		binary.BigEndian.PutUint32(tcp[8:], c.seq[1-dir])
	}
	tcp[12] = 5 << 4
	tcp[13] = flags
	binary.BigEndian.PutUint16(tcp[14:], 65535)
	copy(tcp[20:], payload)
	fixIPv4(ip[:20])
	fixL4(ip, 20, 6)
	c.W.Frame(c.T, fr)
	c.T = c.T.Add(c.step())
	c.seq[dir] += uint32(len(payload))
	if flags&(SYN|FIN) != 0 {
		c.seq[dir]++
	}
}

// Open writes the three-way handshake.
func (c *Conn) Open() {
	c.seq = [2]uint32{1000, 500000}
	c.Segment(0, SYN, nil)
	c.Segment(1, SYN|ACK, nil)
	c.Segment(0, ACK, nil)
}

// Send writes data in segments of at most MSS, each acknowledged.
func (c *Conn) Send(dir int, data []byte) {
	for len(data) > 0 {
		n := min(len(data), MSS)
		c.Segment(dir, PSH|ACK, data[:n])
		data = data[n:]
		c.Segment(1-dir, ACK, nil)
	}
}

// Close writes a FIN exchange started by the client.
func (c *Conn) Close() {
	c.Segment(0, FIN|ACK, nil)
	c.Segment(1, FIN|ACK, nil)
	c.Segment(0, ACK, nil)
}

// Reset writes a RST from the server (a refused or torn-down connection).
func (c *Conn) Reset(dir int) { c.Segment(dir, RST|ACK, nil) }

// UDP writes one UDP datagram from src to dst at t.
func UDP(w *Writer, t time.Time, src, dst netip.AddrPort, payload []byte) {
	fr := make([]byte, 14+20+8+len(payload))
	sm, dm := MAC(src.Addr()), MAC(dst.Addr())
	copy(fr[0:6], dm[:])
	copy(fr[6:12], sm[:])
	binary.BigEndian.PutUint16(fr[12:], 0x0800)
	ip := fr[14:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+8+len(payload)))
	ip[8] = 64
	ip[9] = 17
	s4, d4 := src.Addr().As4(), dst.Addr().As4()
	copy(ip[12:], s4[:])
	copy(ip[16:], d4[:])
	u := ip[20:]
	binary.BigEndian.PutUint16(u[0:], src.Port())
	binary.BigEndian.PutUint16(u[2:], dst.Port())
	binary.BigEndian.PutUint16(u[4:], uint16(8+len(payload)))
	copy(u[8:], payload)
	fixIPv4(ip[:20])
	fixL4(ip, 20, 17)
	w.Frame(t, fr)
}

// MLLP frames an HL7 message (segments separated by CR).
func MLLP(msg string) []byte {
	b := []byte{0x0b}
	b = append(b, msg...)
	return append(b, 0x1c, 0x0d)
}
