package main

import "encoding/binary"

// tlsApp is one TLS connection: a TLS 1.2 (full handshake with the server's
// certificate in clear) or TLS 1.3 handshake, request/response exchanges of
// application_data records, and a close_notify.
type tlsApp struct {
	r       *rng // record contents
	sr      *rng // exchange sizes, previewed by newTLSApp
	p       *hostPair
	cert    []byte
	v13     bool
	phase   int
	cls     int   // connection class, see exchangeSizes
	xchg    int   // exchanges left
	up      int64 // client bytes left in this exchange
	down    int64 // server bytes left in this exchange
	planned int64
}

const (
	tlsCH = iota
	tlsServerFlight
	tlsClientFinish
	tlsServerFinish // TLS 1.2 only
	tlsExchange
	tlsClose
	tlsDone
)

const maxRecord = 16384

func newTLSApp(g *generator, p *hostPair, r *rng) (app, int64) {
	t := &tlsApp{r: r, p: p, cert: g.as.certs[p.sni], v13: r.chance(g.mix.tls13)}
	if t.v13 {
		g.st.TLS13++
	} else {
		g.st.TLS12++
	}
	switch x := r.float(); {
	case x < 0.6:
		t.cls, t.xchg = 0, r.between(1, 12)
	case x < 0.92:
		t.cls, t.xchg = 1, r.between(1, 16)
	default:
		t.cls, t.xchg = 2, r.between(1, 4)
	}
	// Plan the whole connection up front so byte accounting is exact: next
	// draws the same sizes from t.sr in the same order.
	t.sr = r.fork()
	t.planned = 2500 + int64(len(t.cert))
	budget := max(g.maxFlow, 4096)
	pr := *t.sr
	for i := 0; i < t.xchg; i++ {
		u, d := exchangeSizes(&pr, t.cls)
		if t.planned+u+d > budget && i > 0 {
			t.xchg = i
			break
		}
		t.planned += u + d + 64
	}
	return t, t.planned
}

// exchangeSizes draws one request/response pair's plaintext sizes for a
// connection of class cls: 0 interactive (small responses), 1 medium, 2 bulk
// (downloads of megabytes). Requests are small, with occasional uploads.
func exchangeSizes(r *rng, cls int) (up, down int64) {
	up = int64(r.between(120, 1500))
	if r.chance(0.05) {
		up = int64(r.between(16<<10, 1<<20))
	}
	switch cls {
	case 0:
		down = int64(r.between(200, 32<<10))
	case 1:
		down = int64(r.between(4<<10, 256<<10))
	default:
		down = int64(r.between(512<<10, 8<<20))
	}
	return up, down
}

func (t *tlsApp) left() int64 {
	if t.phase == tlsExchange {
		return t.up + t.down
	}
	return 0
}

// wind makes the current exchange the last one (a small one if the
// handshake is still under way).
func (t *tlsApp) wind() {
	if t.phase < tlsExchange { // sizes not drawn yet
		t.cls = 0
	}
	t.xchg = 1
}

func recHdr(b []byte, typ byte, n int) []byte {
	return append(b, typ, 3, 3, byte(n>>8), byte(n))
}

// appendRecords appends application_data records carrying up to limit
// plaintext bytes (at most 4 records, so one message stays under 64 KiB) and
// returns how much plaintext was used.
func (t *tlsApp) appendRecords(b []byte, limit int64) ([]byte, int64) {
	var used int64
	for k := 0; k < 4 && used < limit; k++ {
		n := int(min(limit-used, maxRecord))
		ct := n + 24 // TLS 1.2 AES-GCM: explicit nonce + tag
		if t.v13 {
			ct = n + 17 // inner content type + tag
		}
		b = recHdr(b, 23, ct)
		b = t.r.appendRandom(b, ct)
		used += int64(n)
	}
	return b, used
}

func (t *tlsApp) next(b []byte) ([]byte, int, bool) {
	r := t.r
	switch t.phase {
	case tlsCH:
		t.phase++
		return t.clientHello(b), 0, true
	case tlsServerFlight:
		t.phase++
		if t.v13 {
			b = t.serverHello(b)
			b = append(b, 20, 3, 3, 0, 1, 1) // middlebox-compat ChangeCipherSpec
			n := len(t.cert) + 420           // EncryptedExtensions, Certificate, CertificateVerify, Finished
			b = recHdr(b, 23, n)
			return r.appendRandom(b, n), 1, true
		}
		b = t.serverHello(b)
		// Certificate, ServerKeyExchange, ServerHelloDone in one record.
		s := len(b)
		b = recHdr(b, 22, 0)
		cl := len(t.cert)
		b = append(b, 11, byte((cl+6)>>16), byte((cl+6)>>8), byte(cl+6),
			byte((cl+3)>>16), byte((cl+3)>>8), byte(cl+3), byte(cl>>16), byte(cl>>8), byte(cl))
		b = append(b, t.cert...)
		b = append(b, 12, 0, 0, 32+4+4+64, 3, 0x00, 0x1d, 32)
		b = r.appendRandom(b, 32)
		b = append(b, 0x08, 0x07, 0, 64) // ed25519 signature
		b = r.appendRandom(b, 64)
		b = append(b, 14, 0, 0, 0)
		binary.BigEndian.PutUint16(b[s+3:], uint16(len(b)-s-5))
		return b, 1, true
	case tlsClientFinish:
		t.phase++
		if t.v13 {
			b = append(b, 20, 3, 3, 0, 1, 1)
			b = recHdr(b, 23, 53)
			t.phase = tlsExchange
			t.up, t.down = exchangeSizes(t.sr, t.cls)
			return r.appendRandom(b, 53), 0, true
		}
		b = recHdr(b, 22, 37)
		b = append(b, 16, 0, 0, 33, 32)
		b = r.appendRandom(b, 32)
		b = append(b, 20, 3, 3, 0, 1, 1)
		b = recHdr(b, 22, 40)
		return r.appendRandom(b, 40), 0, true
	case tlsServerFinish:
		t.phase++
		t.up, t.down = exchangeSizes(t.sr, t.cls)
		b = append(b, 20, 3, 3, 0, 1, 1)
		b = recHdr(b, 22, 40)
		return r.appendRandom(b, 40), 1, true
	case tlsExchange:
		var used int64
		if t.up > 0 {
			b, used = t.appendRecords(b, t.up)
			t.up -= used
			return b, 0, true
		}
		b, used = t.appendRecords(b, t.down)
		t.down -= used
		if t.down <= 0 {
			if t.xchg--; t.xchg <= 0 {
				t.phase = tlsClose
			} else {
				t.up, t.down = exchangeSizes(t.sr, t.cls)
			}
		}
		return b, 1, true
	case tlsClose:
		t.phase++
		if t.v13 {
			b = recHdr(b, 23, 19)
			return r.appendRandom(b, 19), 0, true
		}
		b = recHdr(b, 21, 26)
		return r.appendRandom(b, 26), 0, true
	}
	return b, 0, false
}

func ext(b []byte, typ uint16, body ...byte) []byte {
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint16(b, uint16(len(body)))
	return append(b, body...)
}

func (t *tlsApp) clientHello(b []byte) []byte {
	r := t.r
	s := len(b)
	b = recHdr(b, 22, 0)
	b = append(b, 1, 0, 0, 0, 3, 3)
	b = r.appendRandom(b, 32)
	b = append(b, 32)
	b = r.appendRandom(b, 32)
	suites := []uint16{0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035}
	b = binary.BigEndian.AppendUint16(b, uint16(2*len(suites)))
	for _, c := range suites {
		b = binary.BigEndian.AppendUint16(b, c)
	}
	b = append(b, 1, 0) // compression: null
	es := len(b)
	b = append(b, 0, 0)
	sni := t.p.sni
	b = binary.BigEndian.AppendUint16(b, 0x0000)
	b = binary.BigEndian.AppendUint16(b, uint16(len(sni)+5))
	b = binary.BigEndian.AppendUint16(b, uint16(len(sni)+3))
	b = append(b, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(len(sni)))
	b = append(b, sni...)
	b = ext(b, 0x0017)                                                                // extended_master_secret
	b = ext(b, 0xff01, 0)                                                             // renegotiation_info
	b = ext(b, 0x000a, 0, 8, 0, 0x1d, 0, 0x17, 0, 0x18, 0, 0x19)                      // supported_groups
	b = ext(b, 0x000b, 1, 0)                                                          // ec_point_formats
	b = ext(b, 0x0023)                                                                // session_ticket
	b = ext(b, 0x0010, 0, 12, 2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1') // ALPN
	b = ext(b, 0x0005, 1, 0, 0, 0, 0)                                                 // status_request
	b = ext(b, 0x000d, 0, 16, 4, 3, 8, 4, 4, 1, 5, 3, 8, 5, 5, 1, 8, 6, 8, 7)         // signature_algorithms
	b = ext(b, 0x002b, 4, 3, 4, 3, 3)                                                 // supported_versions: 1.3, 1.2
	b = ext(b, 0x002d, 1, 1)                                                          // psk_key_exchange_modes
	b = binary.BigEndian.AppendUint16(b, 0x0033)                                      // key_share: x25519
	b = append(b, 0, 38, 0, 36, 0, 0x1d, 0, 32)
	b = r.appendRandom(b, 32)
	binary.BigEndian.PutUint16(b[es:], uint16(len(b)-es-2))
	hl := len(b) - s - 9
	b[s+6], b[s+7], b[s+8] = byte(hl>>16), byte(hl>>8), byte(hl)
	binary.BigEndian.PutUint16(b[s+3:], uint16(len(b)-s-5))
	return b
}

func (t *tlsApp) serverHello(b []byte) []byte {
	r := t.r
	s := len(b)
	b = recHdr(b, 22, 0)
	b = append(b, 2, 0, 0, 0, 3, 3)
	b = r.appendRandom(b, 32)
	b = append(b, 32)
	b = r.appendRandom(b, 32)
	if t.v13 {
		b = append(b, 0x13, 0x01, 0) // TLS_AES_128_GCM_SHA256, null compression
	} else {
		b = append(b, 0xc0, 0x2b, 0) // ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
	}
	es := len(b)
	b = append(b, 0, 0)
	if t.v13 {
		b = ext(b, 0x002b, 3, 4)
		b = binary.BigEndian.AppendUint16(b, 0x0033)
		b = append(b, 0, 36, 0, 0x1d, 0, 32)
		b = r.appendRandom(b, 32)
	} else {
		b = ext(b, 0xff01, 0)
		b = ext(b, 0x0017)
		b = ext(b, 0x000b, 1, 0)
		b = ext(b, 0x0010, 0, 9, 8, 'h', 't', 't', 'p', '/', '1', '.', '1')
	}
	binary.BigEndian.PutUint16(b[es:], uint16(len(b)-es-2))
	hl := len(b) - s - 9
	b[s+6], b[s+7], b[s+8] = byte(hl>>16), byte(hl>>8), byte(hl)
	binary.BigEndian.PutUint16(b[s+3:], uint16(len(b)-s-5))
	return b
}
