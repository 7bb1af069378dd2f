package tls

import "encoding/binary"

// Builders for synthetic handshake bytes used by the unit tests, the
// synthetic oracle captures and the fuzz seeds.

type ext struct {
	typ  uint16
	data []byte
}

func u16s(vs ...uint16) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.BigEndian.AppendUint16(b, v)
	}
	return b
}

func vec8(p []byte) []byte  { return append([]byte{byte(len(p))}, p...) }
func vec16(p []byte) []byte { return append(binary.BigEndian.AppendUint16(nil, uint16(len(p))), p...) }
func vec24(p []byte) []byte {
	return append([]byte{byte(len(p) >> 16), byte(len(p) >> 8), byte(len(p))}, p...)
}

func extSNI(name string) ext {
	return ext{extServerName, vec16(append([]byte{0}, vec16([]byte(name))...))}
}

func extALPNList(protos ...string) ext {
	var l []byte
	for _, p := range protos {
		l = append(l, vec8([]byte(p))...)
	}
	return ext{extALPN, vec16(l)}
}

func extList16(typ uint16, vs ...uint16) ext { return ext{typ, vec16(u16s(vs...))} }

func extVersions(vs ...uint16) ext { return ext{extSupportedVersions, vec8(u16s(vs...))} }

func extPoints(ps ...byte) ext { return ext{extECPointFormats, vec8(ps)} }

// handshakeMsg frames a handshake message body.
func handshakeMsg(typ byte, body []byte) []byte {
	return append([]byte{typ}, vec24(body)...)
}

// clientHelloMsg builds a ClientHello handshake message.
func clientHelloMsg(version uint16, sid []byte, ciphers []uint16, exts []ext) []byte {
	b := binary.BigEndian.AppendUint16(nil, version)
	b = append(b, make([]byte, 32)...)
	b = append(b, vec8(sid)...)
	b = append(b, vec16(u16s(ciphers...))...)
	b = append(b, 1, 0) // compression: null
	if exts != nil {
		var e []byte
		for _, x := range exts {
			e = binary.BigEndian.AppendUint16(e, x.typ)
			e = append(e, vec16(x.data)...)
		}
		b = append(b, vec16(e)...)
	}
	return handshakeMsg(hsClientHello, b)
}

// serverHelloMsg builds a ServerHello handshake message.
func serverHelloMsg(version uint16, random []byte, sid []byte, cipher uint16, exts []ext) []byte {
	b := binary.BigEndian.AppendUint16(nil, version)
	rnd := make([]byte, 32)
	copy(rnd, random)
	b = append(b, rnd...)
	b = append(b, vec8(sid)...)
	b = binary.BigEndian.AppendUint16(b, cipher)
	b = append(b, 0)
	if exts != nil {
		var e []byte
		for _, x := range exts {
			e = binary.BigEndian.AppendUint16(e, x.typ)
			e = append(e, vec16(x.data)...)
		}
		b = append(b, vec16(e)...)
	}
	return handshakeMsg(hsServerHello, b)
}

// record frames a TLS record.
func record(ct byte, body []byte) []byte {
	b := []byte{ct, 3, 3}
	return append(append(b, byte(len(body)>>8), byte(len(body))), body...)
}

// appData returns n application_data records of size bytes each.
func appData(n, size int) []byte {
	var b []byte
	for range n {
		b = append(b, record(ctApplicationData, make([]byte, size))...)
	}
	return b
}

// greaseHello is a synthetic ClientHello full of GREASE values (RFC 8701)
// in every list JA3/JA4 read, with SNI, ALPN h2 and a session ticket.
func greaseHello() []byte {
	return clientHelloMsg(verTLS12, make([]byte, 32),
		[]uint16{0x1a1a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0x00ff},
		[]ext{
			{0x0a0a, nil},
			extSNI("grease.medtap.test"),
			extList16(extSupportedGroups, 0x3a3a, 0x001d, 0x0017),
			extPoints(0),
			extALPNList("h2", "http/1.1"),
			extList16(extSignatureAlgs, 0x4a4a, 0x0403, 0x0804, 0x0401),
			{extSessionTicket, nil},
			extVersions(0x2a2a, verTLS13, verTLS12),
			{0xfafa, []byte{0}},
		})
}

// edgeHello is a synthetic ClientHello with no SNI, a non-alphanumeric
// first ALPN value, only SNI-less ALPN and GREASE extensions (so the sorted
// extension list is empty) and no signature algorithms.
func edgeHello() []byte {
	return clientHelloMsg(verTLS11, nil,
		[]uint16{0x002f, 0x0035, 0x000a},
		[]ext{
			extALPNList("\x30\xab", "x"),
			{0x6a6a, nil},
		})
}
