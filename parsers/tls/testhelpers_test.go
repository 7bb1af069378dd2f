package tls

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/medtap/medtap/parsers/parser"
)

// This file reads the small loopback captures in testdata without the rest
// of medtap: classic pcap, Ethernet or raw IP, IPv4/IPv6, TCP, packets in
// order (no retransmissions, no reassembly needed), payloads grouped per flow
// and direction. It also writes synthetic captures for the tshark oracle.

// segment is one TCP payload of a flow.
type segment struct {
	dir  parser.Direction
	data []byte
	ts   time.Time
}

// capFlow is one TCP connection of a capture.
type capFlow struct {
	client, server netip.AddrPort
	segs           []segment
}

const (
	linkEthernet = 1
	linkRaw      = 101
)

// readPcap returns the TCP flows of a classic pcap file, in order of their
// first packet. The client is the side that sent the SYN (else the sender of
// the first packet).
func readPcap(path string) ([]*capFlow, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read pcap: %w", err)
	}
	if len(b) < 24 {
		return nil, fmt.Errorf("pcap %s: short global header", path)
	}
	var bo binary.ByteOrder
	nano := false
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4:
		bo = binary.LittleEndian
	case 0xa1b23c4d:
		bo, nano = binary.LittleEndian, true
	default:
		switch binary.BigEndian.Uint32(b) {
		case 0xa1b2c3d4:
			bo = binary.BigEndian
		case 0xa1b23c4d:
			bo, nano = binary.BigEndian, true
		default:
			return nil, fmt.Errorf("pcap %s: bad magic", path)
		}
	}
	link := bo.Uint32(b[20:])
	b = b[24:]
	type key struct{ a, b netip.AddrPort }
	flows := map[key]*capFlow{}
	var order []*capFlow
	for len(b) >= 16 {
		sec, frac := bo.Uint32(b), bo.Uint32(b[4:])
		incl := int(bo.Uint32(b[8:]))
		if incl > len(b)-16 {
			return nil, fmt.Errorf("pcap %s: truncated record", path)
		}
		pkt := b[16 : 16+incl]
		b = b[16+incl:]
		ns := int64(frac) * 1000
		if nano {
			ns = int64(frac)
		}
		ts := time.Unix(int64(sec), ns).UTC()
		src, dst, flags, payload, ok := decodeTCP(link, pkt)
		if !ok {
			continue
		}
		k := key{src, dst}
		if src.Compare(dst) > 0 {
			k = key{dst, src}
		}
		f := flows[k]
		if f == nil {
			f = &capFlow{client: src, server: dst}
			if flags&0x12 == 0x12 { // SYN-ACK first: the sender is the server
				f.client, f.server = dst, src
			}
			flows[k] = f
			order = append(order, f)
		}
		if len(payload) == 0 {
			continue
		}
		dir := parser.ToServer
		if src == f.server {
			dir = parser.ToClient
		}
		f.segs = append(f.segs, segment{dir: dir, data: append([]byte(nil), payload...), ts: ts})
	}
	return order, nil
}

// decodeTCP finds the TCP segment in one captured frame.
func decodeTCP(link uint32, p []byte) (src, dst netip.AddrPort, flags uint8, payload []byte, ok bool) {
	if link == linkEthernet {
		if len(p) < 14 {
			return
		}
		et := binary.BigEndian.Uint16(p[12:])
		p = p[14:]
		for et == 0x8100 && len(p) >= 4 {
			et = binary.BigEndian.Uint16(p[2:])
			p = p[4:]
		}
		if et != 0x0800 && et != 0x86dd {
			return
		}
	} else if link != linkRaw {
		return
	}
	if len(p) < 1 {
		return
	}
	var sa, da netip.Addr
	switch p[0] >> 4 {
	case 4:
		if len(p) < 20 {
			return
		}
		ihl := int(p[0]&0xf) * 4
		tot := int(binary.BigEndian.Uint16(p[2:]))
		if p[9] != 6 || ihl < 20 || tot < ihl || tot > len(p) {
			return
		}
		sa, da = netip.AddrFrom4([4]byte(p[12:16])), netip.AddrFrom4([4]byte(p[16:20]))
		p = p[ihl:tot]
	case 6:
		if len(p) < 40 {
			return
		}
		pl := int(binary.BigEndian.Uint16(p[4:]))
		if p[6] != 6 || 40+pl > len(p) {
			return
		}
		sa, da = netip.AddrFrom16([16]byte(p[8:24])), netip.AddrFrom16([16]byte(p[24:40]))
		p = p[40 : 40+pl]
	default:
		return
	}
	if len(p) < 20 {
		return
	}
	off := int(p[12]>>4) * 4
	if off < 20 || off > len(p) {
		return
	}
	src = netip.AddrPortFrom(sa, binary.BigEndian.Uint16(p[0:]))
	dst = netip.AddrPortFrom(da, binary.BigEndian.Uint16(p[2:]))
	return src, dst, p[13], p[off:], true
}

// writePcap writes one TCP connection carrying segs as a classic Ethernet
// pcap (handshake, payload packets with consistent sequence numbers, no
// ACK-only packets), so that tshark can dissect synthetic test bytes.
func writePcap(path string, client, server netip.AddrPort, segs []segment) error {
	var out []byte
	out = binary.LittleEndian.AppendUint32(out, 0xa1b2c3d4)
	out = binary.LittleEndian.AppendUint16(out, 2)
	out = binary.LittleEndian.AppendUint16(out, 4)
	out = append(out, make([]byte, 8)...)
	out = binary.LittleEndian.AppendUint32(out, 65535)
	out = binary.LittleEndian.AppendUint32(out, linkEthernet)
	seq := [2]uint32{1000, 5000}
	frame := func(ts time.Time, dir parser.Direction, flags uint8, payload []byte) {
		s, d := client, server
		if dir == parser.ToClient {
			s, d = server, client
		}
		tcp := make([]byte, 20)
		binary.BigEndian.PutUint16(tcp[0:], s.Port())
		binary.BigEndian.PutUint16(tcp[2:], d.Port())
		binary.BigEndian.PutUint32(tcp[4:], seq[dir])
		binary.BigEndian.PutUint32(tcp[8:], seq[dir^1])
		tcp[12] = 5 << 4
		tcp[13] = flags
		binary.BigEndian.PutUint16(tcp[14:], 65535)
		tcp = append(tcp, payload...)
		if flags&0x02 != 0 {
			seq[dir]++
		}
		seq[dir] += uint32(len(payload))
		ip := make([]byte, 20)
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:], uint16(20+len(tcp)))
		ip[8] = 64
		ip[9] = 6
		a4, b4 := s.Addr().As4(), d.Addr().As4()
		copy(ip[12:], a4[:])
		copy(ip[16:], b4[:])
		var sum uint32
		for i := 0; i < 20; i += 2 {
			sum += uint32(binary.BigEndian.Uint16(ip[i:]))
		}
		for sum > 0xffff {
			sum = sum&0xffff + sum>>16
		}
		binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
		eth := make([]byte, 14)
		binary.BigEndian.PutUint16(eth[12:], 0x0800)
		pkt := append(append(eth, ip...), tcp...)
		out = binary.LittleEndian.AppendUint32(out, uint32(ts.Unix()))
		out = binary.LittleEndian.AppendUint32(out, uint32(ts.Nanosecond()/1000))
		out = binary.LittleEndian.AppendUint32(out, uint32(len(pkt)))
		out = binary.LittleEndian.AppendUint32(out, uint32(len(pkt)))
		out = append(out, pkt...)
	}
	t0 := segs[0].ts.Add(-time.Millisecond)
	frame(t0, parser.ToServer, 0x02, nil)
	frame(t0, parser.ToClient, 0x12, nil)
	frame(t0, parser.ToServer, 0x10, nil)
	for _, sg := range segs {
		frame(sg.ts, sg.dir, 0x18, sg.data)
	}
	return os.WriteFile(path, out, 0o644)
}
