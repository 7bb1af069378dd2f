package tls

import "errors"

// Handshake message types (RFC 8446 §4, RFC 5246 §7.4).
const (
	hsClientHello     = 1
	hsServerHello     = 2
	hsCertificate     = 11
	hsServerHelloDone = 14
)

// Extension types used here (IANA TLS ExtensionType Values).
const (
	extServerName        = 0x0000
	extSupportedGroups   = 0x000a
	extECPointFormats    = 0x000b
	extSignatureAlgs     = 0x000d
	extALPN              = 0x0010
	extSessionTicket     = 0x0023
	extPreSharedKey      = 0x0029
	extSupportedVersions = 0x002b
)

// Limits on what a hello may make us keep.
const (
	// maxALPN is how many ALPN protocol names of the client's list are
	// kept for the event (the fingerprint only needs the first).
	maxALPN = 16
	// maxSNILen is the longest server name kept: a DNS name has at most
	// 253 characters. Longer names are dropped with a bad_extension anomaly.
	maxSNILen = 255
)

// hrrRandom is the ServerHello.random that marks a HelloRetryRequest:
// SHA-256("HelloRetryRequest") (RFC 8446 §4.1.3).
var hrrRandom = [32]byte{
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
}

var errMalformed = errors.New("malformed message")

// clientHello is what a ClientHello says, in wire order, GREASE included.
type clientHello struct {
	version     uint16   // legacy_version
	sessionID   []byte   // legacy_session_id, at most 32 bytes
	ciphers     []uint16 // cipher_suites
	exts        []uint16 // extension types in wire order
	groups      []uint16 // supported_groups
	points      []uint8  // ec_point_formats
	sigAlgs     []uint16 // signature_algorithms
	versions    []uint16 // supported_versions (offered), nil if absent
	hasVersions bool     // the supported_versions extension is present
	hasSNI      bool     // the server_name extension is present
	sni         string   // first host_name, if any and valid
	alpn        []string // ALPN protocol names, at most maxALPN
	alpnFirst   string   // first ALPN protocol name, raw bytes
	badExt      bool     // an extension's content was malformed (its type still counts)
}

// offers reports whether the client lists v in supported_versions.
func (c *clientHello) offers(v uint16) bool {
	for _, x := range c.versions {
		if x == v {
			return true
		}
	}
	return false
}

// parseClientHello decodes a ClientHello body (after the 4-byte handshake
// header). Framing errors fail the whole message; malformed extension
// contents only set badExt.
func parseClientHello(b []byte) (*clientHello, error) {
	r := reader{b: b}
	c := &clientHello{version: r.u16()}
	r.skip(32) // random
	sid := r.vec8()
	if len(sid) > 32 {
		return nil, errMalformed
	}
	c.sessionID = append([]byte(nil), sid...)
	cs := r.vec16()
	if len(cs)%2 != 0 {
		return nil, errMalformed
	}
	c.ciphers = make([]uint16, 0, len(cs)/2)
	for i := 0; i+1 < len(cs); i += 2 {
		c.ciphers = append(c.ciphers, uint16(cs[i])<<8|uint16(cs[i+1]))
	}
	if comp := r.vec8(); len(comp) == 0 {
		return nil, errMalformed
	}
	if r.bad {
		return nil, errMalformed
	}
	if len(r.b) == 0 { // SSL 3.0 style: no extensions block
		return c, nil
	}
	exts := r.vec16()
	if r.bad || len(r.b) != 0 {
		return nil, errMalformed
	}
	er := reader{b: exts}
	for len(er.b) > 0 {
		typ := er.u16()
		data := er.vec16()
		if er.bad {
			return nil, errMalformed
		}
		c.exts = append(c.exts, typ)
		if !c.extension(typ, data) {
			c.badExt = true
		}
	}
	return c, nil
}

// extension decodes one ClientHello extension's content; false if malformed.
func (c *clientHello) extension(typ uint16, data []byte) bool {
	r := reader{b: data}
	switch typ {
	case extServerName:
		c.hasSNI = true
		if len(data) == 0 { // allowed in a ServerHello, tolerated here
			return true
		}
		list := r.vec16()
		lr := reader{b: list}
		for len(lr.b) > 0 && !lr.bad {
			nameType := lr.u8()
			name := lr.vec16()
			if lr.bad {
				break
			}
			if nameType == 0 && c.sni == "" {
				if len(name) == 0 || len(name) > maxSNILen {
					return false
				}
				c.sni = string(name)
			}
		}
		return !r.bad && !lr.bad && len(r.b) == 0
	case extALPN:
		list := r.vec16()
		lr := reader{b: list}
		first := true
		for len(lr.b) > 0 {
			p := lr.vec8()
			if lr.bad {
				return false
			}
			if first {
				c.alpnFirst = string(p)
				first = false
			}
			if len(c.alpn) < maxALPN {
				c.alpn = append(c.alpn, string(p))
			}
		}
		return !r.bad && len(r.b) == 0
	case extSupportedGroups:
		c.groups = r.u16list(r.vec16())
		return !r.bad && len(r.b) == 0
	case extSignatureAlgs:
		c.sigAlgs = r.u16list(r.vec16())
		return !r.bad && len(r.b) == 0
	case extECPointFormats:
		p := r.vec8()
		c.points = append([]uint8(nil), p...)
		return !r.bad && len(r.b) == 0
	case extSupportedVersions:
		c.hasVersions = true
		p := r.vec8()
		c.versions = r.u16list(p)
		return !r.bad && len(r.b) == 0
	}
	return true
}

// serverHello is what a ServerHello (or HelloRetryRequest) says.
type serverHello struct {
	version   uint16 // legacy_version
	selected  uint16 // supported_versions selection, 0 if absent
	hrr       bool   // random is the HelloRetryRequest value
	sessionID []byte // legacy_session_id_echo
	cipher    uint16
	exts      []uint16 // extension types in wire order
	alpn      string   // chosen protocol, if any
	psk       bool     // pre_shared_key present: TLS 1.3 resumption
	badExt    bool
}

// chosen gives the negotiated version: supported_versions, else legacy.
func (s *serverHello) chosen() uint16 {
	if s.selected != 0 {
		return s.selected
	}
	return s.version
}

// parseServerHello decodes a ServerHello body (after the handshake header).
func parseServerHello(b []byte) (*serverHello, error) {
	r := reader{b: b}
	s := &serverHello{version: r.u16()}
	var rnd [32]byte
	copy(rnd[:], r.take(32))
	s.hrr = rnd == hrrRandom
	sid := r.vec8()
	if len(sid) > 32 {
		return nil, errMalformed
	}
	s.sessionID = append([]byte(nil), sid...)
	s.cipher = r.u16()
	r.u8() // compression method
	if r.bad {
		return nil, errMalformed
	}
	if len(r.b) == 0 {
		return s, nil
	}
	exts := r.vec16()
	if r.bad || len(r.b) != 0 {
		return nil, errMalformed
	}
	er := reader{b: exts}
	for len(er.b) > 0 {
		typ := er.u16()
		data := er.vec16()
		if er.bad {
			return nil, errMalformed
		}
		s.exts = append(s.exts, typ)
		xr := reader{b: data}
		switch typ {
		case extSupportedVersions:
			s.selected = xr.u16()
		case extALPN:
			lr := reader{b: xr.vec16()}
			s.alpn = string(lr.vec8())
			if lr.bad || len(lr.b) != 0 {
				s.badExt = true
			}
		case extPreSharedKey:
			s.psk = true
			xr.u16() // selected_identity
		default:
			xr.b = nil
		}
		if xr.bad || len(xr.b) != 0 {
			s.badExt = true
		}
	}
	return s, nil
}

// reader reads big-endian TLS fields with bounds checks. Once a read runs
// past the end, bad is set and every later read gives zero values.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) take(n int) []byte {
	if r.bad || n < 0 || n > len(r.b) {
		r.bad = true
		r.b = nil
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) skip(n int) { r.take(n) }

func (r *reader) u8() uint8 {
	p := r.take(1)
	if p == nil {
		return 0
	}
	return p[0]
}

func (r *reader) u16() uint16 {
	p := r.take(2)
	if p == nil {
		return 0
	}
	return uint16(p[0])<<8 | uint16(p[1])
}

func (r *reader) u24() int {
	p := r.take(3)
	if p == nil {
		return 0
	}
	return int(p[0])<<16 | int(p[1])<<8 | int(p[2])
}

// vec8, vec16 and vec24 read a vector with a 1-, 2- or 3-byte length.
func (r *reader) vec8() []byte  { return r.take(int(r.u8())) }
func (r *reader) vec16() []byte { return r.take(int(r.u16())) }
func (r *reader) vec24() []byte { return r.take(r.u24()) }

// u16list decodes p as big-endian uint16 values; an odd length sets bad.
func (r *reader) u16list(p []byte) []uint16 {
	if len(p)%2 != 0 {
		r.bad = true
		return nil
	}
	out := make([]uint16, 0, len(p)/2)
	for i := 0; i+1 < len(p); i += 2 {
		out = append(out, uint16(p[i])<<8|uint16(p[i+1]))
	}
	return out
}
