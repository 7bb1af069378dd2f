package flow

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
)

// CommunityID computes the Community ID v1 flow hash (seed 0), as Zeek and
// Suricata emit it, so analysts can pivot between tools. Addresses are 4 or
// 16 bytes. For protocols without ports, pass zero ports.
func CommunityID(src, dst []byte, sport, dport uint16, proto uint8) string {
	return communityID(0, src, dst, sport, dport, proto)
}

func communityID(seed uint16, src, dst []byte, sport, dport uint16, proto uint8) string {
	// Order the endpoints so both directions hash alike: smaller address
	// first, or smaller port when the addresses are equal.
	if c := bytes.Compare(src, dst); c > 0 || (c == 0 && sport > dport) {
		src, dst = dst, src
		sport, dport = dport, sport
	}
	var buf [2 + 16 + 16 + 1 + 1 + 2 + 2]byte
	b := buf[:0]
	b = binary.BigEndian.AppendUint16(b, seed)
	b = append(b, src...)
	b = append(b, dst...)
	b = append(b, proto, 0)
	b = binary.BigEndian.AppendUint16(b, sport)
	b = binary.BigEndian.AppendUint16(b, dport)
	sum := sha1.Sum(b)
	return "1:" + base64.StdEncoding.EncodeToString(sum[:])
}
