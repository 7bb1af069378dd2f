package ssh

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"time"

	"github.com/medtap/medtap/parsers/parser"
)

// Limits.
const (
	// MaxBannerLen is the longest identification line accepted: RFC 4253
	// §4.2 allows 255 bytes including CR LF.
	MaxBannerLen = 255
	// MaxPreBannerLines is how many other lines a server may send before
	// its identification string (RFC 4253 §4.2 allows them) before the
	// direction is given up (too_many_pre_banner_lines).
	MaxPreBannerLines = 32
	// MaxKexInit is the longest first binary packet buffered: a KEXINIT
	// with every algorithm a modern implementation offers is under 2 KB.
	// A longer one is kexinit_too_long and the direction is given up.
	MaxKexInit = 16 << 10
	// MaxListLen bounds each algorithm list copied into the event.
	MaxListLen = 2048
)

const msgKexInit = 20

// Factory is the registry entry of the SSH parser.
var Factory = parser.Factory{
	Name:      "ssh",
	Transport: parser.TCP,
	Ports:     []uint16{22, 2222},
	Probe:     probe,
	New:       newStream,
}

// probe matches an identification string: "SSH-" and a protocol version
// digit, from either side.
func probe(_ parser.Direction, b []byte) parser.Verdict {
	const magic = "SSH-"
	n := min(len(b), len(magic))
	if string(b[:n]) != magic[:n] {
		return parser.NoMatch
	}
	if len(b) < len(magic)+1 {
		return parser.NeedMore
	}
	if b[4] != '1' && b[4] != '2' {
		return parser.NoMatch
	}
	return parser.Match
}

type phase uint8

const (
	phBanner phase = iota
	phKex
	phDone
	phDead
)

type dirState struct {
	ph       phase
	line     []byte // banner line being gathered
	lineSkip bool
	lines    int
	off      int64
	pkt      []byte // first binary packet being gathered
	need     int    // total bytes of the first packet incl. length field, 0 unknown
	proto    string
	software string
	comments string
	kex      [10]string // KEXINIT name-lists
	kexOK    bool
}

type stream struct {
	em      parser.Emitter
	d       [2]dirState
	emitted bool
}

func newStream(_ *parser.Flow, em parser.Emitter, _ *parser.Env) parser.Stream {
	return &stream{em: em}
}

func (s *stream) anomaly(ts time.Time, dir parser.Direction, code string, off, length, limit int64) {
	s.em.Emit(ts, &parser.Anomaly{Source: "ssh", Code: code, Direction: dir.String(), Offset: off, Length: length, Limit: limit})
}

// Feed implements parser.Stream.
func (s *stream) Feed(dir parser.Direction, data []byte, ts time.Time) {
	dir &= 1
	d := &s.d[dir]
	for len(data) > 0 {
		switch d.ph {
		case phBanner:
			i := bytes.IndexByte(data, '\n')
			chunk := data
			if i >= 0 {
				chunk = data[:i]
			}
			if !d.lineSkip {
				room := MaxBannerLen - len(d.line)
				if len(chunk) > room {
					d.line = append(d.line, chunk[:room]...)
					d.lineSkip = true
				} else {
					d.line = append(d.line, chunk...)
				}
			}
			if i < 0 {
				d.off += int64(len(data))
				return
			}
			d.off += int64(i + 1)
			data = data[i+1:]
			s.bannerLine(dir, d, ts)
		case phKex:
			if d.need == 0 {
				n := min(4-len(d.pkt), len(data))
				d.pkt = append(d.pkt, data[:n]...)
				d.off += int64(n)
				data = data[n:]
				if len(d.pkt) < 4 {
					return
				}
				l := int(binary.BigEndian.Uint32(d.pkt))
				if l < 5 || l > MaxKexInit {
					s.anomaly(ts, dir, "kexinit_too_long", d.off-4, int64(l), MaxKexInit)
					s.kill(d)
					return
				}
				d.need = 4 + l
				continue
			}
			n := min(d.need-len(d.pkt), len(data))
			d.pkt = append(d.pkt, data[:n]...)
			d.off += int64(n)
			data = data[n:]
			if len(d.pkt) < d.need {
				return
			}
			s.kexInit(dir, d, ts)
			d.ph = phDone
			d.pkt = nil
			s.maybeEmit(ts, false)
		default:
			return
		}
	}
}

func (s *stream) kill(d *dirState) {
	d.ph = phDead
	d.pkt, d.line = nil, nil
}

// bannerLine handles one complete line before the binary protocol.
func (s *stream) bannerLine(dir parser.Direction, d *dirState, ts time.Time) {
	line := d.line
	long := d.lineSkip
	d.line, d.lineSkip = d.line[:0], false
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if !bytes.HasPrefix(line, []byte("SSH-")) {
		d.lines++
		if d.lines > MaxPreBannerLines {
			s.anomaly(ts, dir, "too_many_pre_banner_lines", d.off, int64(d.lines), MaxPreBannerLines)
			s.kill(d)
		}
		return
	}
	if long {
		s.anomaly(ts, dir, "banner_too_long", d.off, 0, MaxBannerLen)
	}
	rest := line[4:]
	dash := bytes.IndexByte(rest, '-')
	if dash < 0 {
		s.anomaly(ts, dir, "bad_banner", d.off, 0, 0)
		s.kill(d)
		return
	}
	d.proto = parser.Printable(rest[:dash])
	rest = rest[dash+1:]
	if sp := bytes.IndexByte(rest, ' '); sp >= 0 {
		d.software, d.comments = parser.Printable(rest[:sp]), parser.Printable(rest[sp+1:])
	} else {
		d.software = parser.Printable(rest)
	}
	d.line = nil
	d.ph = phKex
}

// kexInit decodes the first binary packet (unencrypted, no MAC yet):
// length, padding length, payload (message number 20, 16-byte cookie, ten
// name-lists, first_kex_packet_follows, reserved), padding.
func (s *stream) kexInit(dir parser.Direction, d *dirState, ts time.Time) {
	p := d.pkt[4:]
	pad := int(p[0])
	if pad+1 > len(p) {
		s.anomaly(ts, dir, "bad_kexinit", d.off-int64(len(d.pkt)), 0, 0)
		return
	}
	payload := p[1 : len(p)-pad]
	if len(payload) < 17 || payload[0] != msgKexInit {
		s.anomaly(ts, dir, "first_packet_not_kexinit", d.off-int64(len(d.pkt)), 0, 0)
		return
	}
	b := payload[17:]
	for i := range d.kex {
		if len(b) < 4 {
			s.anomaly(ts, dir, "bad_kexinit", d.off-int64(len(d.pkt)), 0, 0)
			return
		}
		n := int(binary.BigEndian.Uint32(b))
		if n > len(b)-4 {
			s.anomaly(ts, dir, "bad_kexinit", d.off-int64(len(d.pkt)), int64(n), int64(len(b)-4))
			return
		}
		l := b[4 : 4+n]
		if len(l) > MaxListLen {
			l = l[:MaxListLen]
		}
		d.kex[i] = parser.Printable(l)
		b = b[4+n:]
	}
	d.kexOK = true
}

// Name-list indexes in KEXINIT.
const (
	kexAlgs = iota
	hostKeyAlgs
	encC2S
	encS2C
	macC2S
	macS2C
	compC2S
	compS2C
)

// hassh returns the fingerprint string and its MD5 (RFC-free convention:
// kex;enc;mac;cmp joined by ';').
func hassh(k *[10]string, enc, mac, cmp int) (string, string) {
	str := k[kexAlgs] + ";" + k[enc] + ";" + k[mac] + ";" + k[cmp]
	sum := md5.Sum([]byte(str))
	return str, hex.EncodeToString(sum[:])
}

func (s *stream) maybeEmit(ts time.Time, closing bool) {
	if s.emitted {
		return
	}
	c, sv := &s.d[parser.ToServer], &s.d[parser.ToClient]
	done := c.ph == phDone && sv.ph == phDone
	if !done && !closing {
		return
	}
	if !closing && !(c.kexOK || sv.kexOK) && c.proto == "" && sv.proto == "" {
		return
	}
	s.emitted = true
	if c.proto == "" && sv.proto == "" {
		return
	}
	ev := &Session{
		ClientProto: c.proto, ClientSoftware: c.software, ClientComments: c.comments,
		ServerProto: sv.proto, ServerSoftware: sv.software, ServerComments: sv.comments,
		Truncated: !done,
	}
	if c.kexOK {
		ev.HASSHAlgorithms, ev.HASSH = hassh(&c.kex, encC2S, macC2S, compC2S)
	}
	if sv.kexOK {
		ev.HASSHServerAlgorithms, ev.HASSHServer = hassh(&sv.kex, encS2C, macS2C, compS2C)
		ev.ServerHostKeyAlgorithms = sv.kex[hostKeyAlgs]
	}
	s.em.Emit(ts, ev)
}

// Gap implements parser.Stream: bytes lost before the key exchange was
// read leave that side undecoded.
func (s *stream) Gap(dir parser.Direction, missing int, ts time.Time) {
	d := &s.d[dir&1]
	if d.ph == phBanner || d.ph == phKex {
		s.anomaly(ts, dir&1, "gap_in_handshake", d.off, int64(missing), 0)
		s.kill(d)
	}
	d.off += int64(missing)
}

// Close implements parser.Stream.
func (s *stream) Close(_ parser.CloseReason, ts time.Time) {
	s.maybeEmit(ts, true)
	s.d = [2]dirState{}
}
