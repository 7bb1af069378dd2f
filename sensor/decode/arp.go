package decode

import (
	"encoding/binary"
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// ARP operations (RFC 826).
const (
	ARPRequest = 1
	ARPReply   = 2
)

// ARPInfo is an Ethernet/IPv4 ARP packet (hardware type 1, protocol type
// 0x0800, address lengths 6 and 4): the only kind medtap reads. Other ARP
// variants (and RARP) stay NotIP.
type ARPInfo struct {
	Op        uint16
	SenderMAC [6]byte
	SenderIP  [4]byte
	TargetMAC [6]byte
	TargetIP  [4]byte
}

// arpLayer decodes an Ethernet/IPv4 ARP packet in place. gopacket's ARP
// layer copies nothing either but keeps slices; this one copies the 20
// address bytes into fixed arrays, so the descriptor holds no pointer into
// the frame.
type arpLayer struct {
	info ARPInfo
	ok   bool // an Ethernet/IPv4 ARP packet was decoded
}

// arpLen is the length of an Ethernet/IPv4 ARP packet.
const arpLen = 28

var errShortARP = fmt.Errorf("ARP packet shorter than 8 bytes")

func (a *arpLayer) CanDecode() gopacket.LayerClass    { return layers.LayerTypeARP }
func (a *arpLayer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }
func (a *arpLayer) LayerPayload() []byte              { return nil }

func (a *arpLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	a.ok = false
	if len(data) < 8 {
		df.SetTruncated()
		return errShortARP
	}
	htype, ptype := binary.BigEndian.Uint16(data[0:2]), binary.BigEndian.Uint16(data[2:4])
	if htype != 1 || ptype != 0x0800 || data[4] != 6 || data[5] != 4 || len(data) < arpLen {
		return nil // another kind of ARP: valid, not read
	}
	a.info.Op = binary.BigEndian.Uint16(data[6:8])
	copy(a.info.SenderMAC[:], data[8:14])
	copy(a.info.SenderIP[:], data[14:18])
	copy(a.info.TargetMAC[:], data[18:24])
	copy(a.info.TargetIP[:], data[24:28])
	a.ok = true
	return nil
}
