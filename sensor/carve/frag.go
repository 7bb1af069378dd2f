package carve

import (
	"encoding/binary"

	"github.com/medtap/medtap/sensor/decode"
)

// maxIPv6Ext bounds the IPv6 extension headers walked to find a fragment
// header (the decoder accepts no more).
const maxIPv6Ext = 8

// fragmentKey reads the reassembly key (addresses, protocol, identification)
// of an IP fragment frame. The decoder reassembles fragments without telling
// which datagram a fragment belongs to, so carve reads the few header bytes
// it needs itself. Every read is bounds-checked: ok is false for anything
// that is not a well-formed fragment.
func fragmentKey(data []byte, link uint32) (k fragKey, ok bool) {
	ip, ok := ipHeader(data, link)
	if !ok || len(ip) < 1 {
		return k, false
	}
	switch ip[0] >> 4 {
	case 4:
		if len(ip) < 20 {
			return k, false
		}
		flags := binary.BigEndian.Uint16(ip[6:8])
		if flags&0x2000 == 0 && flags&0x1fff == 0 {
			return k, false // not a fragment
		}
		k.id = uint32(binary.BigEndian.Uint16(ip[4:6]))
		k.proto = ip[9]
		copy(k.src[:4], ip[12:16])
		copy(k.dst[:4], ip[16:20])
		return k, true
	case 6:
		if len(ip) < 40 {
			return k, false
		}
		k.v6 = true
		copy(k.src[:], ip[8:24])
		copy(k.dst[:], ip[24:40])
		next, off := ip[6], 40
		for range maxIPv6Ext {
			switch next {
			case 0, 43, 60: // hop-by-hop, routing, destination options
				if len(ip) < off+2 {
					return k, false
				}
				next, off = ip[off], off+(int(ip[off+1])+1)*8
			case 44: // fragment
				if len(ip) < off+8 {
					return k, false
				}
				k.proto = ip[off]
				k.id = binary.BigEndian.Uint32(ip[off+4 : off+8])
				return k, true
			default:
				return k, false
			}
		}
	}
	return k, false
}

// ipHeader skips the link layer of the link types the decoder reads.
func ipHeader(data []byte, link uint32) ([]byte, bool) {
	switch link {
	case decode.LinkEthernet:
		if len(data) < 14 {
			return nil, false
		}
		et, off := binary.BigEndian.Uint16(data[12:14]), 14
		for range 2 {
			if et != 0x8100 && et != 0x88a8 && et != 0x9100 {
				break
			}
			if len(data) < off+4 {
				return nil, false
			}
			et, off = binary.BigEndian.Uint16(data[off+2:off+4]), off+4
		}
		if et != 0x0800 && et != 0x86dd {
			return nil, false
		}
		return data[off:], true
	case decode.LinkLinuxSLL:
		if len(data) < 16 {
			return nil, false
		}
		return data[16:], true
	case decode.LinkSLL2:
		if len(data) < 20 {
			return nil, false
		}
		return data[20:], true
	case decode.LinkRaw, decode.LinkIPv4, decode.LinkIPv6:
		return data, true
	case decode.LinkNull, decode.LinkLoop:
		if len(data) < 4 {
			return nil, false
		}
		return data[4:], true
	}
	return nil, false
}
