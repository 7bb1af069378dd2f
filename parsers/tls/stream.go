package tls

import (
	"bytes"
	"time"

	"github.com/medtap/medtap/parsers/parser"
)

// Record layer and handshake limits. Every length read from the wire is
// checked against one of these before anything is kept.
const (
	// recordHeaderLen is the TLS record header: type, version, length.
	recordHeaderLen = 5
	// maxRecordLen is the longest record body accepted: a TLSCiphertext
	// fragment may be 2^14+2048 bytes (RFC 5246 §6.2.3). A longer one is
	// garbage: record_too_long, and the direction is given up.
	maxRecordLen = 16384 + 2048
	// maxHandshakeMsg is the longest handshake message buffered (a
	// certificate chain is the largest in practice). A longer one is
	// skipped in sync with a handshake_too_long anomaly.
	maxHandshakeMsg = 64 << 10
	// maxHandshakeMsgs is how many cleartext handshake messages one
	// direction may send before decoding stops (too_many_handshake_messages);
	// a real handshake has fewer than ten per direction.
	maxHandshakeMsgs = 32
	// minFinishedRecord is the smallest encrypted TLS 1.3 record that can
	// carry a Finished message (4-byte header, 32-byte HMAC-SHA256, inner
	// content type, 8-byte CCM_8 tag). An unpadded encrypted alert is at
	// most 19 bytes, so it does not make a handshake look established.
	minFinishedRecord = 4 + 32 + 1 + 8
)

// Record content types (RFC 8446 §5.1).
const (
	ctChangeCipherSpec = 20
	ctAlert            = 21
	ctHandshake        = 22
	ctApplicationData  = 23
	ctHeartbeat        = 24
)

// dirMode is what a direction does with its records.
type dirMode uint8

const (
	modeHandshake dirMode = iota // headers walked, handshake and alert bodies decoded
	modeWalk                     // headers walked, bodies skipped in place
	modeNull                     // as modeWalk, NULL-cipher application data forwarded
	modeDead                     // record sync lost or garbage: nothing more is read
)

// Factory is the registry entry of the TLS parser.
var Factory = parser.Factory{
	Name:      "tls",
	Transport: parser.TCP,
	// HTTPS, SMTPS, LDAPS, IMAPS, POP3S, DICOM TLS, SIPS, AMQPS,
	// Kubernetes API, syslog TLS, MQTT TLS and the usual alternates.
	Ports: []uint16{443, 465, 636, 993, 995, 2762, 4443, 5061, 5671, 6443, 6514, 8443, 8883, 9443},
	Probe: probe,
	New:   newStream,
}

// probeLen is how many bytes probe needs: a record header and the first
// handshake byte.
const probeLen = recordHeaderLen + 1

// probe matches a handshake record whose first message is a ClientHello, or
// a ServerHello for flows where the server's side is seen first. It rejects
// as soon as one byte is wrong and does not allocate.
func probe(_ parser.Direction, b []byte) parser.Verdict {
	if len(b) >= 1 && b[0] != ctHandshake {
		return parser.NoMatch
	}
	if len(b) >= 2 && b[1] != 3 {
		return parser.NoMatch
	}
	if len(b) >= 3 && b[2] > 4 {
		return parser.NoMatch
	}
	if len(b) >= 5 {
		if n := int(b[3])<<8 | int(b[4]); n == 0 || n > maxRecordLen {
			return parser.NoMatch
		}
	}
	if len(b) < probeLen {
		return parser.NeedMore
	}
	if b[5] != hsClientHello && b[5] != hsServerHello {
		return parser.NoMatch
	}
	return parser.Match
}

func newStream(_ *parser.Flow, em parser.Emitter, env *parser.Env) parser.Stream {
	return &stream{em: em, env: env}
}

// stream is one flow's TLS parser; it serves both directions.
type stream struct {
	em  parser.Emitter
	env *parser.Env
	d   [2]dirState

	ch          *clientHello // the first ClientHello
	chTS        time.Time
	sh          *serverHello // the first ServerHello that is not a HelloRetryRequest
	shTS        time.Time
	hrr         *serverHello // the HelloRetryRequest, if any
	cert        *Cert
	certDone    bool // the server's Certificate message was handled
	abbreviated bool // TLS <= 1.2 server sent ChangeCipherSpec without ServerHelloDone
	alerts      int
	lastAlert   [2]uint8 // level, description of the last cleartext alert
	fatal       bool     // a fatal alert was seen in clear
	emitted     bool
	stats       Stats

	// NULL cipher: the inner parser fed with the plaintext.
	inner    parser.Stream
	innerOff bool // both directions' plaintext failed the inner probes
}

// dirState is one direction's record and handshake reassembly.
type dirState struct {
	mode   dirMode
	hdr    [recordHeaderLen]byte
	hdrN   int
	inBody bool
	ctype  uint8
	need   int   // body bytes of the current record still to come
	off    int64 // bytes of this direction consumed so far

	hs     []byte // one handshake message being reassembled: 4-byte header + body
	hsSkip int    // bytes of an over-long handshake message still to discard
	hsMsgs int    // handshake messages decoded
	alert  [2]byte
	alertN int

	enc        bool // this direction's handshake turned encrypted
	ccs        bool // sent ChangeCipherSpec
	appData    bool // sent an application_data record
	bigAppData bool // sent one of at least minFinishedRecord bytes
	client     bool // sent a ClientHello
	server     bool // sent a ServerHello
	helloDone  bool // sent ServerHelloDone
	gapSeen    bool // a gap_in_handshake anomaly was emitted

	mac       int    // NULL cipher MAC length
	plainLeft int    // NULL cipher: plaintext bytes left in this record
	probe     []byte // NULL cipher: first plaintext bytes kept for the inner probe
	probeNo   bool   // the inner probe said NoMatch on this direction
}

// Feed implements parser.Stream.
func (s *stream) Feed(dir parser.Direction, data []byte, ts time.Time) {
	dir &= 1
	d := &s.d[dir]
	for len(data) > 0 && d.mode != modeDead {
		if !d.inBody {
			n := copy(d.hdr[d.hdrN:], data)
			d.hdrN += n
			d.off += int64(n)
			data = data[n:]
			if d.hdrN < recordHeaderLen {
				return
			}
			d.hdrN = 0
			s.recordStart(dir, d, ts)
			continue
		}
		n := min(d.need, len(data))
		if d.mode != modeWalk {
			s.body(dir, d, data[:n], ts)
		}
		d.need -= n
		d.off += int64(n)
		data = data[n:]
		if d.need == 0 {
			d.inBody = false
		}
	}
}

// recordStart checks a complete record header and acts on its type.
func (s *stream) recordStart(dir parser.Direction, d *dirState, ts time.Time) {
	typ, n := d.hdr[0], int(d.hdr[3])<<8|int(d.hdr[4])
	at := d.off - recordHeaderLen
	switch {
	case typ < ctChangeCipherSpec || typ > ctHeartbeat:
		s.anomaly(ts, dir, "bad_record_type", at, 0, 0)
		s.kill(d)
		return
	case d.hdr[1] != 3:
		s.anomaly(ts, dir, "bad_record_version", at, 0, 0)
		s.kill(d)
		return
	case n > maxRecordLen:
		s.anomaly(ts, dir, "record_too_long", at, int64(n), maxRecordLen)
		s.kill(d)
		return
	}
	d.ctype, d.need, d.inBody, d.plainLeft = typ, n, n > 0, 0
	s.stats.Records[dir]++
	switch typ {
	case ctApplicationData:
		s.stats.AppDataRecords[dir]++
		s.stats.AppDataBytes[dir] += uint64(n)
		if !d.appData {
			d.appData = true
			if !d.enc {
				s.encrypted(d)
			}
		}
		if !d.bigAppData && n >= minFinishedRecord {
			d.bigAppData = true
			s.check()
		}
		if d.mode == modeNull {
			if n < d.mac {
				s.anomaly(ts, dir, "null_record_too_short", at, int64(n), int64(d.mac))
			}
			d.plainLeft = max(n-d.mac, 0)
		}
	case ctChangeCipherSpec:
		if !d.enc && !s.ccsIsCompat(d) {
			if d.server && d.mode == modeHandshake && !d.helloDone {
				s.abbreviated = true
			}
			s.encrypted(d)
		}
		if !d.ccs {
			d.ccs = true
			s.check()
		}
	}
}

// body handles the next bytes of the current record's body.
func (s *stream) body(dir parser.Direction, d *dirState, p []byte, ts time.Time) {
	switch d.mode {
	case modeHandshake:
		switch d.ctype {
		case ctHandshake:
			s.handshakeBytes(dir, d, p, ts)
		case ctAlert:
			s.alertBytes(d, p)
		}
	case modeNull:
		if d.ctype == ctApplicationData && d.plainLeft > 0 {
			n := min(d.plainLeft, len(p))
			d.plainLeft -= n
			s.plaintext(dir, p[:n], ts)
		}
	}
}

// handshakeBytes reassembles handshake messages across records and hands
// each complete one to message. The buffer never holds more than one
// message, of at most maxHandshakeMsg bytes.
func (s *stream) handshakeBytes(dir parser.Direction, d *dirState, p []byte, ts time.Time) {
	at := d.off // stream offset of p[0]
	for len(p) > 0 && d.mode == modeHandshake {
		if d.hsSkip > 0 {
			n := min(d.hsSkip, len(p))
			d.hsSkip -= n
			p, at = p[n:], at+int64(n)
			continue
		}
		if len(d.hs) < 4 {
			n := min(4-len(d.hs), len(p))
			d.hs = append(d.hs, p[:n]...)
			p, at = p[n:], at+int64(n)
			if len(d.hs) < 4 {
				return
			}
			mlen := int(d.hs[1])<<16 | int(d.hs[2])<<8 | int(d.hs[3])
			if mlen > maxHandshakeMsg {
				s.anomaly(ts, dir, "handshake_too_long", at-4, int64(mlen), maxHandshakeMsg)
				d.hsSkip = mlen
				d.hs = d.hs[:0]
				continue
			}
			if cap(d.hs) < 4+mlen {
				nb := make([]byte, 4, 4+mlen)
				copy(nb, d.hs)
				d.hs = nb
			}
		}
		mlen := int(d.hs[1])<<16 | int(d.hs[2])<<8 | int(d.hs[3])
		n := min(4+mlen-len(d.hs), len(p))
		d.hs = append(d.hs, p[:n]...)
		p, at = p[n:], at+int64(n)
		if len(d.hs) == 4+mlen {
			s.message(dir, d, d.hs[0], d.hs[4:], at-int64(4+mlen), ts)
			if d.hs != nil {
				d.hs = d.hs[:0]
			}
		}
	}
}

// message acts on one complete cleartext handshake message.
func (s *stream) message(dir parser.Direction, d *dirState, typ uint8, body []byte, at int64, ts time.Time) {
	d.hsMsgs++
	if d.hsMsgs > maxHandshakeMsgs {
		s.anomaly(ts, dir, "too_many_handshake_messages", at, int64(d.hsMsgs), maxHandshakeMsgs)
		s.stopDecoding(d)
		return
	}
	switch typ {
	case hsClientHello:
		c, err := parseClientHello(body)
		if err != nil {
			s.anomaly(ts, dir, "bad_client_hello", at, int64(len(body)), 0)
			s.stopDecoding(d)
			return
		}
		d.client = true
		if c.badExt {
			s.anomaly(ts, dir, "bad_extension", at, 0, 0)
		}
		if s.ch == nil {
			s.ch, s.chTS = c, ts
		}
	case hsServerHello:
		h, err := parseServerHello(body)
		if err != nil {
			s.anomaly(ts, dir, "bad_server_hello", at, int64(len(body)), 0)
			s.stopDecoding(d)
			return
		}
		d.server = true
		if h.badExt {
			s.anomaly(ts, dir, "bad_extension", at, 0, 0)
		}
		if h.hrr {
			if s.hrr == nil {
				s.hrr = h
			}
			return
		}
		if s.sh != nil {
			return
		}
		s.sh, s.shTS = h, ts
		if h.chosen() == verTLS13 {
			// Everything after a TLS 1.3 ServerHello is encrypted.
			s.encrypted(d)
		}
	case hsCertificate:
		if d.client || s.certDone || s.version() == verTLS13 {
			return
		}
		s.certDone = true
		der, err := leafDER(body)
		if err == errNoCertificate {
			return
		}
		if err != nil {
			s.anomaly(ts, dir, "bad_certificate_message", at, int64(len(body)), 0)
			return
		}
		c, err := parseCert(der)
		if err != nil {
			s.anomaly(ts, dir, "bad_certificate", at, int64(len(der)), 0)
			return
		}
		s.cert = c
	case hsServerHelloDone:
		d.helloDone = true
	}
}

// alertBytes counts cleartext alerts (two bytes each, possibly split).
func (s *stream) alertBytes(d *dirState, p []byte) {
	for _, c := range p {
		d.alert[d.alertN] = c
		d.alertN++
		if d.alertN < 2 {
			continue
		}
		d.alertN = 0
		s.alerts++
		s.lastAlert = d.alert
		if d.alert[0] == 2 {
			s.fatal = true
		}
	}
	s.check()
}

// version is the negotiated version as far as known: the ServerHello's,
// else the HelloRetryRequest's, else 0.
func (s *stream) version() uint16 {
	if s.sh != nil {
		return s.sh.chosen()
	}
	if s.hrr != nil {
		return s.hrr.chosen()
	}
	return 0
}

// ccsIsCompat reports whether a ChangeCipherSpec from d is TLS 1.3's
// middlebox-compatibility dummy, which changes nothing.
func (s *stream) ccsIsCompat(d *dirState) bool {
	v := s.version()
	if v == verTLS13 {
		return true
	}
	return v == 0 && d.client && s.ch != nil && s.ch.offers(verTLS13)
}

// encrypted moves d to its encrypted phase: no more handshake decoding;
// NULL-cipher application data is forwarded, everything else skipped.
func (s *stream) encrypted(d *dirState) {
	d.enc = true
	d.hs, d.hsSkip, d.alertN = nil, 0, 0
	if d.mode == modeDead {
		return
	}
	d.mode = modeWalk
	if s.sh != nil {
		if ns, ok := nullSuites[s.sh.cipher]; ok && !ns.tls13 {
			d.mode, d.mac = modeNull, ns.mac
		}
	}
}

// stopDecoding ends handshake decoding on d after an anomaly; records are
// still walked in sync.
func (s *stream) stopDecoding(d *dirState) {
	d.hs, d.hsSkip, d.alertN = nil, 0, 0
	if d.mode == modeHandshake {
		d.mode = modeWalk
	}
}

// kill gives up on d: record sync is lost.
func (s *stream) kill(d *dirState) {
	d.mode = modeDead
	d.hs, d.hsSkip, d.probe = nil, 0, nil
	d.inBody, d.need, d.plainLeft = false, 0, 0
}

// established reports whether the handshake completed (see Handshake).
func (s *stream) established() bool {
	if s.d[0].bigAppData && s.d[1].bigAppData {
		return true
	}
	v := s.version()
	return v != 0 && v < verTLS13 && s.d[0].ccs && s.d[1].ccs
}

// check emits the event once the handshake's outcome is known: established,
// or failed with a fatal alert.
func (s *stream) check() {
	if !s.emitted && (s.fatal || s.established()) {
		s.emit()
	}
}

// emit sends the flow's one Handshake event, if a hello was seen.
func (s *stream) emit() {
	if s.emitted || (s.ch == nil && s.sh == nil) {
		return
	}
	s.emitted = true
	h := &Handshake{
		Cert:        s.cert,
		Resumed:     s.resumed(),
		HelloRetry:  s.hrr != nil,
		Alerts:      s.alerts,
		Established: s.established(),
	}
	ts := s.chTS
	if c := s.ch; c != nil {
		h.SNI = c.sni
		h.ALPN = c.alpn
		if c.hasVersions {
			for _, v := range c.versions {
				if !isGREASE(v) {
					h.ClientVersions = append(h.ClientVersions, versionName(v))
				}
			}
		} else {
			h.ClientVersions = []string{versionName(c.version)}
		}
		h.JA4 = ja4(c)
		h.JA3 = md5Hex(ja3String(c))
	} else {
		ts = s.shTS
	}
	if sh := s.sh; sh != nil {
		id := sh.cipher
		h.Version = versionName(sh.chosen())
		h.Cipher = cipherName(id)
		h.CipherID = &id
		h.ALPNChosen = sh.alpn
		h.JA3S = md5Hex(ja3sString(sh))
		_, h.NullCipher = nullSuites[id]
		h.Encrypted = !h.NullCipher
	}
	if s.alerts > 0 {
		h.LastAlert = &Alert{Level: s.lastAlert[0], Description: s.lastAlert[1], Name: alertName(s.lastAlert[1])}
	}
	s.em.Emit(ts, h)
}

// resumed reports an abbreviated handshake (see Handshake.Resumed).
func (s *stream) resumed() bool {
	sh := s.sh
	if sh == nil {
		return false
	}
	if sh.chosen() == verTLS13 {
		return sh.psk
	}
	return s.abbreviated || s.ch != nil && len(sh.sessionID) > 0 && bytes.Equal(sh.sessionID, s.ch.sessionID)
}

// Gap implements parser.Stream. A gap inside the current record's body is
// skipped in sync; anywhere else the direction's record stream is lost and
// it is given up. Either way handshake decoding stops on that direction, and
// a gap before the event was emitted is a gap_in_handshake anomaly.
func (s *stream) Gap(dir parser.Direction, missing int, ts time.Time) {
	dir &= 1
	d := &s.d[dir]
	if missing <= 0 || d.mode == modeDead {
		return
	}
	if !s.emitted && !d.gapSeen {
		d.gapSeen = true
		s.anomaly(ts, dir, "gap_in_handshake", d.off, int64(missing), 0)
	}
	inSync := d.inBody && missing <= d.need
	if d.mode == modeNull {
		lost := missing
		if inSync && d.ctype == ctApplicationData {
			lost = min(missing, d.plainLeft)
			d.plainLeft -= lost
		}
		if lost > 0 {
			s.plainGap(dir, lost, ts)
		}
	}
	if !inSync {
		s.kill(d)
		return
	}
	d.need -= missing
	d.off += int64(missing)
	if d.need == 0 {
		d.inBody = false
	}
	s.stopDecoding(d)
}

// Close implements parser.Stream: the event is emitted with whatever was
// seen if the handshake's outcome was not known yet.
func (s *stream) Close(reason parser.CloseReason, ts time.Time) {
	s.emit()
	if s.inner != nil {
		s.inner.Close(reason, ts)
		s.inner = nil
	}
	for i := range s.d {
		s.d[i].hs, s.d[i].probe = nil, nil
	}
}

// Encrypted implements parser.EncryptionVerdict: known once the ServerHello
// was seen; a NULL cipher suite is not encryption.
func (s *stream) Encrypted() (encrypted, known bool) {
	if s.sh == nil {
		return false, false
	}
	_, null := nullSuites[s.sh.cipher]
	return !null, true
}

// Stats gives the record counters walked so far.
func (s *stream) Stats() Stats { return s.stats }

func (s *stream) anomaly(ts time.Time, dir parser.Direction, code string, off, length, limit int64) {
	s.em.Emit(ts, &parser.Anomaly{
		Source:    "tls",
		Code:      code,
		Direction: dir.String(),
		Offset:    off,
		Length:    length,
		Limit:     limit,
	})
}
