// Package decode turns captured frames into the compact packet descriptors
// the flow table works on: link layer (Ethernet with 802.1Q/QinQ tags, Linux
// cooked SLL and SLL2, raw IP, BSD loopback/null), IPv4 and IPv6 with
// extension headers, bounded fragment reassembly, TCP and UDP.
//
// It runs gopacket's DecodingLayerParser over the frame in place: nothing is
// copied and nothing is allocated per packet in steady state. A fragmented
// datagram is the exception: its bytes are gathered in a bounded cache, and
// the descriptor's payload then points into that cache until the next call.
package decode

import (
	"encoding/binary"
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Link types medtap decodes (LINKTYPE_* values from pcap files).
const (
	LinkNull     = 0
	LinkEthernet = 1
	LinkRaw      = 101
	LinkLinuxSLL = 113
	LinkLoop     = 108
	LinkIPv4     = 228
	LinkIPv6     = 229
	LinkSLL2     = 276
	// Some systems write DLT_RAW's own value instead of LINKTYPE_RAW.
	linkRawBSD     = 12
	linkRawOpenBSD = 14
)

// SupportedLinkNames lists the supported link types for error messages.
const SupportedLinkNames = "Ethernet (1), Linux cooked SLL (113) and SLL2 (276), raw IP (101, 228, 229), loopback/null (0, 108)"

// LinkSupported reports whether the decoder handles a link type.
func LinkSupported(link uint32) bool {
	switch link {
	case LinkNull, LinkEthernet, LinkRaw, LinkLinuxSLL, LinkLoop, LinkIPv4, LinkIPv6, LinkSLL2, linkRawBSD, linkRawOpenBSD:
		return true
	}
	return false
}

// LinkName names a link type for messages.
func LinkName(link uint32) string {
	if int(link) < len(layers.LinkTypeMetadata) {
		if md := layers.LinkTypeMetadata[layers.LinkType(link)]; md.Name != "" {
			return md.Name
		}
	}
	return "unknown"
}

// Result says what Decode made of a frame.
type Result uint8

const (
	OK        Result = iota // a TCP, UDP or other IP packet is in the descriptor
	NotIP                   // a valid frame that carries no IP (ARP, LLDP...)
	Fragment                // an IP fragment was cached; no packet yet
	Malformed               // the frame is broken; Decoder.Stats counts why
	ARP                     // an Ethernet/IPv4 ARP packet is in Packet.ARP (counted as NotIP too)
)

// Packet is the decoded form of one frame (or one reassembled datagram).
type Packet struct {
	TS      int64
	WireLen uint32
	Src     [16]byte // IPv4 addresses in the first four bytes
	Dst     [16]byte
	IPv6    bool
	Proto   uint8 // IP protocol number
	SrcPort uint16
	DstPort uint16
	VLAN    uint16 // outer 802.1Q/802.1ad VLAN id
	VLAN2   uint16 // inner VLAN id (QinQ)
	// SrcMAC and DstMAC are the Ethernet addresses, zero for link types
	// without them (raw IP, loopback, Linux cooked captures).
	SrcMAC, DstMAC [6]byte
	TCP            TCPInfo
	Payload        []byte // transport payload (or IP payload for other protocols)
	// Reassembled is set when Payload points into the fragment cache: it
	// is valid only until the next Decode call.
	Reassembled bool
	EtherType   uint16  // for NotIP frames
	ARP         ARPInfo // for ARP results
}

// TCPInfo is the part of a TCP header the flow table needs.
type TCPInfo struct {
	Seq, Ack uint32
	Flags    uint8
	Window   uint16
}

// TCP flag bits as they sit in the header's 14th byte.
const (
	FlagFIN = 0x01
	FlagSYN = 0x02
	FlagRST = 0x04
	FlagPSH = 0x08
	FlagACK = 0x10
	FlagURG = 0x20
)

// Malformation codes, counted in Stats.Malformed. Stable snake_case names.
const (
	ErrLink     = iota // link layer header broken
	ErrIPv4            // IPv4 header broken
	ErrIPv6            // IPv6 header or extension broken
	ErrTCP             // TCP header broken
	ErrUDP             // UDP header broken
	ErrFragment        // fragment inconsistent (bad offset, too large)
	numErrCodes
)

// ErrNames are the stable names of the malformation codes.
var ErrNames = [numErrCodes]string{"bad_link_header", "bad_ipv4_header", "bad_ipv6_header", "bad_tcp_header", "bad_udp_header", "bad_fragment"}

// Stats counts what the decoder saw. It is owned by one goroutine.
type Stats struct {
	Packets     uint64
	IPv4, IPv6  uint64
	TCP, UDP    uint64
	OtherIP     uint64
	NotIP       uint64
	ARP         uint64 // Ethernet/IPv4 ARP packets (among NotIP)
	Malformed   [numErrCodes]uint64
	Fragments   uint64 // fragments seen
	Reassembled uint64 // datagrams completed from fragments
	Defrag      DefragStats
}

// MalformedTotal sums the malformation counters.
func (s *Stats) MalformedTotal() uint64 {
	var n uint64
	for _, v := range s.Malformed {
		n += v
	}
	return n
}

// Add folds o into s.
func (s *Stats) Add(o *Stats) {
	s.Packets += o.Packets
	s.IPv4 += o.IPv4
	s.IPv6 += o.IPv6
	s.TCP += o.TCP
	s.UDP += o.UDP
	s.OtherIP += o.OtherIP
	s.NotIP += o.NotIP
	s.ARP += o.ARP
	for i := range s.Malformed {
		s.Malformed[i] += o.Malformed[i]
	}
	s.Fragments += o.Fragments
	s.Reassembled += o.Reassembled
	s.Defrag.add(&o.Defrag)
}

// Decoder decodes frames. One per goroutine; not safe for concurrent use.
type Decoder struct {
	Stats Stats

	eth     etherLayer
	sll     layers.LinuxSLL
	sll2    layers.LinuxSLL2
	loop    layers.Loopback
	vlan    vlanLayer
	ip4     ipv4Layer
	ip6     layers.IPv6
	ip6ext  layers.IPv6ExtensionSkipper
	ip6frag layers.IPv6Fragment
	tcp     tcpLayer
	udp     layers.UDP
	arp     arpLayer

	parsers map[gopacket.LayerType]*gopacket.DecodingLayerParser
	decoded []gopacket.LayerType

	defrag *defragger
}

// New returns a decoder with its fragment cache bounded by lim.
func New(lim DefragLimits) *Decoder {
	d := &Decoder{parsers: map[gopacket.LayerType]*gopacket.DecodingLayerParser{}, decoded: make([]gopacket.LayerType, 0, 16)}
	d.defrag = newDefragger(lim, &d.Stats.Defrag)
	return d
}

func (d *Decoder) parser(first gopacket.LayerType) *gopacket.DecodingLayerParser {
	if p := d.parsers[first]; p != nil {
		return p
	}
	// The sparse container indexes decoders by layer type in a slice,
	// cheaper per layer than the default map. The skipper claims every IPv6
	// extension type; the fragment layer is put after it so that fragment
	// headers reach the defragmenter.
	var dlc gopacket.DecodingLayerContainer = gopacket.DecodingLayerSparse(nil)
	for _, l := range []gopacket.DecodingLayer{&d.eth, &d.sll, &d.sll2, &d.loop, &d.vlan, &d.ip4, &d.ip6, &d.ip6ext, &d.ip6frag, &d.tcp, &d.udp, &d.arp} {
		dlc = dlc.Put(l)
	}
	p := gopacket.NewDecodingLayerParser(first)
	p.SetDecodingLayerContainer(dlc)
	p.IgnoreUnsupported = true
	p.IgnorePanic = false
	d.parsers[first] = p
	return p
}

func (d *Decoder) firstLayer(link uint32, data []byte) (gopacket.LayerType, bool) {
	switch link {
	case LinkEthernet:
		return layers.LayerTypeEthernet, true
	case LinkLinuxSLL:
		return layers.LayerTypeLinuxSLL, true
	case LinkSLL2:
		return layers.LayerTypeLinuxSLL2, true
	case LinkNull, LinkLoop:
		return layers.LayerTypeLoopback, true
	case LinkIPv4:
		return layers.LayerTypeIPv4, true
	case LinkIPv6:
		return layers.LayerTypeIPv6, true
	case LinkRaw, linkRawBSD, linkRawOpenBSD:
		if len(data) == 0 {
			return 0, false
		}
		switch data[0] >> 4 {
		case 4:
			return layers.LayerTypeIPv4, true
		case 6:
			return layers.LayerTypeIPv6, true
		}
	}
	return 0, false
}

// Decode decodes one frame into out.
func (d *Decoder) Decode(data []byte, link uint32, ts int64, wireLen uint32, out *Packet) Result {
	d.Stats.Packets++
	*out = Packet{TS: ts, WireLen: wireLen}
	first, ok := d.firstLayer(link, data)
	if !ok {
		d.Stats.Malformed[ErrLink]++
		return Malformed
	}
	d.vlan.reset()
	d.arp.ok = false
	p := d.parser(first)
	err := p.DecodeLayers(data, &d.decoded)
	out.VLAN, out.VLAN2 = d.vlan.tags[0], d.vlan.tags[1]
	var sawIP, sawTransport bool
	for _, lt := range d.decoded {
		switch lt {
		case layers.LayerTypeEthernet:
			copy(out.SrcMAC[:], d.eth.src)
			copy(out.DstMAC[:], d.eth.dst)
		case layers.LayerTypeIPv4:
			sawIP = true
			d.Stats.IPv4++
			copy(out.Src[:4], d.ip4.src)
			copy(out.Dst[:4], d.ip4.dst)
			out.Proto = d.ip4.proto
			out.Payload = d.ip4.payload
			if d.ip4.moreFrags || d.ip4.fragOffset != 0 {
				return d.fragment4(out)
			}
		case layers.LayerTypeIPv6:
			sawIP = true
			d.Stats.IPv6++
			out.IPv6 = true
			copy(out.Src[:], d.ip6.SrcIP)
			copy(out.Dst[:], d.ip6.DstIP)
			out.Proto = uint8(d.ip6.NextHeader)
			out.Payload = d.ip6.Payload
		case layers.LayerTypeIPv6HopByHop, layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6Destination:
			out.Proto = uint8(d.ip6ext.NextHeader)
			out.Payload = d.ip6ext.Payload
		case layers.LayerTypeIPv6Fragment:
			return d.fragment6(out)
		case layers.LayerTypeTCP:
			sawTransport = true
			d.fillTCP(out)
		case layers.LayerTypeUDP:
			sawTransport = true
			d.fillUDP(out)
		}
	}
	if err != nil {
		return d.malformed(first, sawIP, out)
	}
	if !sawIP {
		d.Stats.NotIP++
		out.EtherType = d.etherType()
		if d.arp.ok {
			d.Stats.ARP++
			out.ARP = d.arp.info
			return ARP
		}
		return NotIP
	}
	if !sawTransport {
		switch out.Proto {
		case 6:
			d.Stats.Malformed[ErrTCP]++
			return Malformed
		case 17:
			d.Stats.Malformed[ErrUDP]++
			return Malformed
		}
		d.Stats.OtherIP++
	}
	return OK
}

func (d *Decoder) fillTCP(out *Packet) {
	d.Stats.TCP++
	out.Proto = 6
	out.SrcPort, out.DstPort = d.tcp.srcPort, d.tcp.dstPort
	out.TCP = TCPInfo{Seq: d.tcp.seq, Ack: d.tcp.ack, Flags: d.tcp.flags, Window: d.tcp.window}
	out.Payload = d.tcp.payload
}

func (d *Decoder) fillUDP(out *Packet) {
	d.Stats.UDP++
	out.Proto = 17
	out.SrcPort, out.DstPort = uint16(d.udp.SrcPort), uint16(d.udp.DstPort)
	out.Payload = d.udp.Payload
}

// malformed attributes a decoding error to the deepest layer reached.
func (d *Decoder) malformed(first gopacket.LayerType, sawIP bool, out *Packet) Result {
	code := ErrLink
	if sawIP {
		switch out.Proto {
		case 6:
			code = ErrTCP
		case 17:
			code = ErrUDP
		default:
			if out.IPv6 {
				code = ErrIPv6
			} else {
				code = ErrIPv4
			}
		}
	} else if n := len(d.decoded); n > 0 {
		// The link layer decoded; the IP header after it did not.
		switch d.nextAfterLink() {
		case layers.LayerTypeIPv4:
			code = ErrIPv4
		case layers.LayerTypeIPv6:
			code = ErrIPv6
		}
	} else if first == layers.LayerTypeIPv4 {
		code = ErrIPv4
	} else if first == layers.LayerTypeIPv6 {
		code = ErrIPv6
	}
	d.Stats.Malformed[code]++
	return Malformed
}

func (d *Decoder) nextAfterLink() gopacket.LayerType {
	last := d.decoded[len(d.decoded)-1]
	switch last {
	case layers.LayerTypeEthernet:
		return d.eth.NextLayerType()
	case layers.LayerTypeDot1Q:
		return d.vlan.NextLayerType()
	case layers.LayerTypeLinuxSLL:
		return d.sll.NextLayerType()
	case layers.LayerTypeLinuxSLL2:
		return d.sll2.NextLayerType()
	case layers.LayerTypeLoopback:
		return d.loop.NextLayerType()
	}
	return 0
}

func (d *Decoder) etherType() uint16 {
	n := len(d.decoded)
	if n > 0 && d.decoded[n-1] == layers.LayerTypeARP {
		n-- // the link layer before it says 0x0806
	}
	if n == 0 {
		return 0
	}
	switch d.decoded[n-1] {
	case layers.LayerTypeDot1Q:
		return d.vlan.etherType
	case layers.LayerTypeEthernet:
		return d.eth.etherType
	case layers.LayerTypeLinuxSLL:
		return uint16(d.sll.EthernetType)
	case layers.LayerTypeLinuxSLL2:
		return uint16(d.sll2.ProtocolType)
	}
	return 0
}

// transport decodes the TCP or UDP header of a reassembled datagram.
func (d *Decoder) transport(out *Packet, payload []byte) Result {
	out.Payload = payload
	switch out.Proto {
	case 6:
		if err := d.tcp.DecodeFromBytes(payload, gopacket.NilDecodeFeedback); err != nil {
			d.Stats.Malformed[ErrTCP]++
			return Malformed
		}
		d.fillTCP(out)
	case 17:
		if err := d.udp.DecodeFromBytes(payload, gopacket.NilDecodeFeedback); err != nil {
			d.Stats.Malformed[ErrUDP]++
			return Malformed
		}
		d.fillUDP(out)
	default:
		d.Stats.OtherIP++
	}
	return OK
}

func (d *Decoder) fragment4(out *Packet) Result {
	d.Stats.Fragments++
	ip := &d.ip4
	key := fragKey{id: uint32(ip.id), proto: ip.proto}
	copy(key.src[:4], ip.src)
	copy(key.dst[:4], ip.dst)
	whole, res := d.defrag.add(key, out.TS, int(ip.fragOffset)*8, ip.moreFrags, ip.payload)
	if res != defragComplete {
		if res == defragBad {
			d.Stats.Malformed[ErrFragment]++
			return Malformed
		}
		return Fragment
	}
	d.Stats.Reassembled++
	out.Reassembled = true
	return d.transport(out, whole)
}

func (d *Decoder) fragment6(out *Packet) Result {
	d.Stats.Fragments++
	f := &d.ip6frag
	key := fragKey{id: f.Identification, proto: uint8(f.NextHeader), v6: true, src: out.Src, dst: out.Dst}
	out.Proto = uint8(f.NextHeader)
	whole, res := d.defrag.add(key, out.TS, int(f.FragmentOffset)*8, f.MoreFragments, f.Payload)
	if res != defragComplete {
		if res == defragBad {
			d.Stats.Malformed[ErrFragment]++
			return Malformed
		}
		return Fragment
	}
	d.Stats.Reassembled++
	out.Reassembled = true
	return d.transport(out, whole)
}

// Expire drops fragment reassemblies older than the cache's timeout.
func (d *Decoder) Expire(now int64) { d.defrag.expire(now) }

// vlanLayer decodes 802.1Q and 802.1ad tags and keeps the two outermost,
// which gopacket's Dot1Q cannot (a second tag overwrites the first).
type vlanLayer struct {
	tags      [2]uint16
	n         int
	etherType uint16
	payload   []byte
}

func (v *vlanLayer) reset() { v.tags = [2]uint16{}; v.n = 0 }

func (v *vlanLayer) CanDecode() gopacket.LayerClass { return layers.LayerTypeDot1Q }

func (v *vlanLayer) NextLayerType() gopacket.LayerType {
	return layers.EthernetType(v.etherType).LayerType()
}

func (v *vlanLayer) LayerPayload() []byte { return v.payload }

func (v *vlanLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 4 {
		df.SetTruncated()
		return errShortVLAN
	}
	if v.n < len(v.tags) {
		v.tags[v.n] = binary.BigEndian.Uint16(data[0:2]) & 0x0fff
	}
	v.n++
	v.etherType = binary.BigEndian.Uint16(data[2:4])
	v.payload = data[4:]
	return nil
}

var (
	errShortVLAN = fmt.Errorf("802.1Q tag shorter than 4 bytes")
	errShortTCP  = fmt.Errorf("TCP header shorter than 20 bytes")
	errTCPOffset = fmt.Errorf("TCP data offset outside the segment")
)

// tcpLayer decodes the TCP fields medtap uses and skips options, which
// gopacket's TCP layer would parse into a slice that grows (allocates) past
// four options, as on most SYNs.
type tcpLayer struct {
	srcPort, dstPort uint16
	seq, ack         uint32
	flags            uint8
	window           uint16
	payload          []byte
}

func (t *tcpLayer) CanDecode() gopacket.LayerClass    { return layers.LayerTypeTCP }
func (t *tcpLayer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypePayload }
func (t *tcpLayer) LayerPayload() []byte              { return t.payload }

func (t *tcpLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 20 {
		df.SetTruncated()
		return errShortTCP
	}
	off := int(data[12]>>4) * 4
	if off < 20 || off > len(data) {
		return errTCPOffset
	}
	t.srcPort = binary.BigEndian.Uint16(data[0:2])
	t.dstPort = binary.BigEndian.Uint16(data[2:4])
	t.seq = binary.BigEndian.Uint32(data[4:8])
	t.ack = binary.BigEndian.Uint32(data[8:12])
	t.flags = data[13]
	t.window = binary.BigEndian.Uint16(data[14:16])
	t.payload = data[off:]
	return nil
}

var (
	errShortEthernet = fmt.Errorf("ethernet header shorter than 14 bytes")
	errShortIPv4     = fmt.Errorf("IPv4 header shorter than 20 bytes")
	errIPv4Header    = fmt.Errorf("IPv4 header length or total length invalid")
)

// etherLayer decodes the Ethernet header in place. gopacket's Ethernet
// layer does the same and more (LLC length handling, copying nothing either),
// but this one is a third of its cost on the hot path; non-IP frames are
// left to the NotIP path either way.
type etherLayer struct {
	dst, src  []byte
	etherType uint16
	payload   []byte
}

func (e *etherLayer) CanDecode() gopacket.LayerClass { return layers.LayerTypeEthernet }
func (e *etherLayer) LayerPayload() []byte           { return e.payload }

func (e *etherLayer) NextLayerType() gopacket.LayerType {
	if e.etherType < 0x0600 {
		return gopacket.LayerTypeZero // 802.3 length field: LLC, not IP
	}
	return layers.EthernetType(e.etherType).LayerType()
}

func (e *etherLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 14 {
		df.SetTruncated()
		return errShortEthernet
	}
	e.dst, e.src = data[0:6], data[6:12]
	e.etherType = binary.BigEndian.Uint16(data[12:14])
	e.payload = data[14:]
	return nil
}

// ipv4Layer decodes the IPv4 fields medtap uses, in place, and skips
// options instead of parsing them into a slice as gopacket's IPv4 layer does.
type ipv4Layer struct {
	src, dst   []byte
	proto      uint8
	id         uint16
	moreFrags  bool
	fragOffset uint16 // in 8-byte units
	payload    []byte
}

func (ip *ipv4Layer) CanDecode() gopacket.LayerClass { return layers.LayerTypeIPv4 }
func (ip *ipv4Layer) LayerPayload() []byte           { return ip.payload }

func (ip *ipv4Layer) NextLayerType() gopacket.LayerType {
	if ip.moreFrags || ip.fragOffset != 0 {
		return gopacket.LayerTypeFragment
	}
	return layers.IPProtocol(ip.proto).LayerType()
}

func (ip *ipv4Layer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 20 {
		df.SetTruncated()
		return errShortIPv4
	}
	ihl := int(data[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(data[2:4]))
	if total == 0 {
		total = len(data) // segmentation offload leaves the length zero
	}
	if data[0]>>4 != 4 || ihl < 20 || total < ihl || ihl > len(data) {
		return errIPv4Header
	}
	if total < len(data) {
		data = data[:total] // link-layer padding
	} else if total > len(data) {
		df.SetTruncated()
	}
	flags := binary.BigEndian.Uint16(data[6:8])
	ip.moreFrags = flags&0x2000 != 0
	ip.fragOffset = flags & 0x1fff
	ip.id = binary.BigEndian.Uint16(data[4:6])
	ip.proto = data[9]
	ip.src, ip.dst = data[12:16], data[16:20]
	ip.payload = data[ihl:]
	return nil
}
