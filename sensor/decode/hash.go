package decode

import "encoding/binary"

// HashPacket is a symmetric hash of a decoded packet's flow (addresses,
// ports, protocol, outer VLAN): the same in both directions. It picks the
// worker that owns the flow.
func HashPacket(p *Packet) uint32 {
	return flowHash(&p.Src, &p.Dst, p.SrcPort, p.DstPort, p.Proto, p.VLAN)
}

func flowHash(src, dst *[16]byte, sport, dport uint16, proto uint8, vlan uint16) uint32 {
	// Combining the endpoints with xor and sum keeps both directions equal
	// without ordering them; a multiply-xorshift finaliser mixes the rest.
	a := binary.LittleEndian.Uint64(src[0:8]) ^ binary.LittleEndian.Uint64(dst[0:8])
	b := binary.LittleEndian.Uint64(src[8:16]) ^ binary.LittleEndian.Uint64(dst[8:16])
	c := uint64(sport^dport)<<32 | uint64(uint32(sport)+uint32(dport))<<8 | uint64(proto)
	h := mix64(a ^ mix64(b^uint64(vlan)<<48) ^ mix64(c))
	return uint32(h ^ h>>32)
}

// mix64 is the finaliser of the SplitMix64 generator.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// FlowHash computes HashPacket's value straight from a frame's headers for
// the common case (Ethernet with VLAN tags, Linux cooked, raw IP or
// loopback; IPv4 without fragmentation or IPv6 without extension headers),
// so a dispatcher can route frames without decoding them. ok is false for
// anything else: the caller then decodes the frame fully. It never reads
// past data.
func FlowHash(data []byte, link uint32) (h uint32, ok bool) {
	var etype uint16
	var vlan uint16
	off := 0
	switch link {
	case LinkEthernet:
		if len(data) < 14 {
			return 0, false
		}
		etype = binary.BigEndian.Uint16(data[12:14])
		off = 14
		tags := 0
		for etype == 0x8100 || etype == 0x88a8 {
			if len(data) < off+4 {
				return 0, false
			}
			if tags == 0 {
				vlan = binary.BigEndian.Uint16(data[off:off+2]) & 0x0fff
			}
			tags++
			etype = binary.BigEndian.Uint16(data[off+2 : off+4])
			off += 4
		}
		if tags > 2 {
			return 0, false // the decoder keeps two tags; leave odd stacks to it
		}
	case LinkLinuxSLL:
		if len(data) < 16 {
			return 0, false
		}
		etype, off = binary.BigEndian.Uint16(data[14:16]), 16
	case LinkSLL2:
		if len(data) < 20 {
			return 0, false
		}
		etype, off = binary.BigEndian.Uint16(data[0:2]), 20
	case LinkNull, LinkLoop:
		if len(data) < 4 {
			return 0, false
		}
		fam := binary.LittleEndian.Uint32(data[0:4])
		if data[0] == 0 && data[1] == 0 {
			fam = binary.BigEndian.Uint32(data[0:4])
		}
		switch fam {
		case 2:
			etype = 0x0800
		case 10, 24, 28, 30:
			etype = 0x86dd
		default:
			return 0, false
		}
		off = 4
	case LinkRaw, linkRawBSD, linkRawOpenBSD, LinkIPv4, LinkIPv6:
		if len(data) == 0 {
			return 0, false
		}
		switch data[0] >> 4 {
		case 4:
			etype = 0x0800
		case 6:
			etype = 0x86dd
		default:
			return 0, false
		}
	default:
		return 0, false
	}
	ip := data[off:]
	var src, dst [16]byte
	var proto uint8
	var l4 []byte
	switch etype {
	case 0x0800:
		if len(ip) < 20 || ip[0]>>4 != 4 {
			return 0, false
		}
		ihl := int(ip[0]&0x0f) * 4
		if ihl < 20 || len(ip) < ihl {
			return 0, false
		}
		if binary.BigEndian.Uint16(ip[6:8])&0x3fff != 0 {
			return 0, false // a fragment: the decoder reassembles it
		}
		copy(src[:4], ip[12:16])
		copy(dst[:4], ip[16:20])
		proto = ip[9]
		l4 = ip[ihl:]
	case 0x86dd:
		if len(ip) < 40 || ip[0]>>4 != 6 {
			return 0, false
		}
		proto = ip[6]
		if proto != 6 && proto != 17 {
			return 0, false // extension headers and the rest: full decode
		}
		copy(src[:], ip[8:24])
		copy(dst[:], ip[24:40])
		l4 = ip[40:]
	default:
		return 0, false
	}
	var sport, dport uint16
	if proto == 6 || proto == 17 {
		if len(l4) < 4 {
			return 0, false
		}
		sport = binary.BigEndian.Uint16(l4[0:2])
		dport = binary.BigEndian.Uint16(l4[2:4])
	}
	return flowHash(&src, &dst, sport, dport, proto, vlan), true
}
