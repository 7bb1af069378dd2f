package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// dropper decides, for each eligible segment in file order, whether to drop
// it. gen -lossy and drop use the same dropper with the same seed and the same
// eligibility rule, so "gen -lossy R" equals "gen | drop -rate R" byte for
// byte.
type dropper struct {
	r         *rng
	threshold uint64
	all       bool
}

func newDropper(rate float64, seed uint64) *dropper {
	d := &dropper{r: newRNG(seed ^ 0xd1b54a32d192ed03)}
	switch {
	case rate >= 1:
		d.all = true
	case rate > 0:
		d.threshold = uint64(rate * math.Exp2(64))
	}
	return d
}

func (d *dropper) drop() bool {
	v := d.r.u64() // always draw, so the sequence depends only on the segment index
	return d.all || v < d.threshold
}

// dropStats reports what a drop run did.
type dropStats struct {
	packets  uint64 // records read
	tcp      uint64 // TCP segments recognised
	eligible uint64 // TCP segments with payload and without SYN
	dropped  uint64
}

// dropPcap copies the classic pcap in to out, dropping a pseudo-random
// fraction rate of the TCP segments that carry payload. SYN segments (and
// every pure ACK, FIN without data, RST without data) are always kept, so a
// flow-tracker still sees every connection from its handshake on and the loss
// lands only where reassembly has to cope with it: holes in the byte stream.
func dropPcap(in io.Reader, out io.Writer, rate float64, seed uint64) (dropStats, error) {
	var st dropStats
	br := bufio.NewReaderSize(in, 4<<20)
	bw := bufio.NewWriterSize(out, 4<<20)
	var gh [24]byte
	if _, err := io.ReadFull(br, gh[:]); err != nil {
		return st, fmt.Errorf("reading pcap header: %w", err)
	}
	var bo binary.ByteOrder
	switch m := binary.LittleEndian.Uint32(gh[:]); m {
	case pcapMagicMicro, pcapMagicNano:
		bo = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		bo = binary.BigEndian
	case 0x0a0d0d0a:
		return st, errors.New("input is pcapng; only classic pcap is supported (convert with: editcap -F pcap IN OUT)")
	default:
		return st, fmt.Errorf("not a pcap file (magic %#08x)", m)
	}
	link := bo.Uint32(gh[20:]) & 0x0fffffff // upper bits: FCS info
	if _, err := bw.Write(gh[:]); err != nil {
		return st, err
	}
	d := newDropper(rate, seed)
	var rh [16]byte
	buf := make([]byte, 65536)
	for {
		if _, err := io.ReadFull(br, rh[:]); err != nil {
			if err == io.EOF {
				break
			}
			return st, fmt.Errorf("record %d header: %w", st.packets+1, err)
		}
		n := bo.Uint32(rh[8:])
		if n > 256<<20 {
			return st, fmt.Errorf("record %d: implausible length %d", st.packets+1, n)
		}
		if int(n) > cap(buf) {
			buf = make([]byte, n)
		}
		b := buf[:n]
		if _, err := io.ReadFull(br, b); err != nil {
			return st, fmt.Errorf("record %d data: %w", st.packets+1, err)
		}
		st.packets++
		if payload, syn, ok := tcpInfo(link, b); ok {
			st.tcp++
			if payload > 0 && !syn {
				st.eligible++
				if d.drop() {
					st.dropped++
					continue
				}
			}
		}
		bw.Write(rh[:])
		if _, err := bw.Write(b); err != nil {
			return st, err
		}
	}
	return st, bw.Flush()
}

// tcpInfo finds a TCP header in a frame of the given link type and returns
// the segment's payload length (from the IP length fields, so truncated
// captures still count) and whether SYN is set. ok is false if the frame is
// not a first-fragment TCP segment over IPv4/IPv6 that it understands.
func tcpInfo(link uint32, b []byte) (payload int, syn, ok bool) {
	var et uint16
	switch link {
	case 1: // Ethernet
		if len(b) < 14 {
			return
		}
		et = binary.BigEndian.Uint16(b[12:])
		b = b[14:]
		for et == 0x8100 || et == 0x88a8 || et == 0x9100 {
			if len(b) < 4 {
				return
			}
			et = binary.BigEndian.Uint16(b[2:])
			b = b[4:]
		}
	case 113: // Linux cooked v1
		if len(b) < 16 {
			return
		}
		et, b = binary.BigEndian.Uint16(b[14:]), b[16:]
	case 276: // Linux cooked v2
		if len(b) < 20 {
			return
		}
		et, b = binary.BigEndian.Uint16(b[0:]), b[20:]
	case 0, 109: // BSD loopback: 4-byte address family, either byte order
		if len(b) < 4 {
			return
		}
		af := binary.LittleEndian.Uint32(b)
		if af > 0xffff {
			af = binary.BigEndian.Uint32(b)
		}
		b = b[4:]
		switch af {
		case 2:
			et = 0x0800
		case 10, 24, 28, 30:
			et = 0x86dd
		default:
			return
		}
	case 101, 12, 14: // raw IP
		if len(b) < 1 {
			return
		}
		switch b[0] >> 4 {
		case 4:
			et = 0x0800
		case 6:
			et = 0x86dd
		default:
			return
		}
	case 228:
		et = 0x0800
	case 229:
		et = 0x86dd
	default:
		return
	}
	var l4len int
	switch et {
	case 0x0800:
		if len(b) < 20 || b[0]>>4 != 4 || b[9] != 6 {
			return
		}
		if binary.BigEndian.Uint16(b[6:])&0x1fff != 0 {
			return // not the first fragment
		}
		ihl := int(b[0]&0x0f) * 4
		tot := int(binary.BigEndian.Uint16(b[2:]))
		if tot == 0 { // TSO capture: length unknown, use what was captured
			tot = len(b)
		}
		if ihl < 20 || len(b) < ihl {
			return
		}
		l4len = tot - ihl
		b = b[ihl:]
	case 0x86dd:
		if len(b) < 40 || b[0]>>4 != 6 {
			return
		}
		l4len = int(binary.BigEndian.Uint16(b[4:]))
		nh := b[6]
		b = b[40:]
		for nh != 6 {
			switch nh {
			case 0, 43, 60: // hop-by-hop, routing, destination options
				if len(b) < 8 {
					return
				}
				hl := (int(b[1]) + 1) * 8
				nh = b[0]
				if len(b) < hl {
					return
				}
				b, l4len = b[hl:], l4len-hl
			case 51: // AH
				if len(b) < 8 {
					return
				}
				hl := (int(b[1]) + 2) * 4
				nh = b[0]
				if len(b) < hl {
					return
				}
				b, l4len = b[hl:], l4len-hl
			case 44: // fragment
				if len(b) < 8 || binary.BigEndian.Uint16(b[2:])&0xfff8 != 0 {
					return
				}
				nh = b[0]
				b, l4len = b[8:], l4len-8
			default:
				return
			}
		}
	default:
		return
	}
	if len(b) < 20 {
		return
	}
	doff := int(b[12]>>4) * 4
	payload = l4len - doff
	if payload < 0 {
		payload = 0
	}
	return payload, b[13]&tcpSYN != 0, true
}
