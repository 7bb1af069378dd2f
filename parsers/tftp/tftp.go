package tftp

import (
	"bytes"
	"encoding/binary"
	"time"

	"github.com/medtap/medtap/parsers/internal/filename"
	"github.com/medtap/medtap/parsers/parser"
)

// Limits.
const (
	// MaxExtLen bounds a file extension kept.
	MaxExtLen = filename.MaxExtLen
	// MaxOptions bounds the options listed; MaxOptionLen each name.
	MaxOptions   = 8
	MaxOptionLen = 16
	// maxName bounds a file name looked at by the probe (RFC 1350 sets no
	// limit; a request must fit a 512-byte datagram in practice).
	maxName = 255
)

// Opcodes.
const (
	opRRQ   = 1
	opWRQ   = 2
	opDATA  = 3
	opACK   = 4
	opERROR = 5
	opOACK  = 6
)

// Factory is the registry entry of the TFTP parser.
var Factory = parser.Factory{
	Name:      "tftp",
	Transport: parser.UDP,
	Ports:     []uint16{69},
	Probe:     probe,
	New:       newStream,
}

// probe matches an RRQ or WRQ: opcode 1 or 2, a printable NUL-terminated
// file name, and a mode "netascii", "octet" or "mail" (any case) ending in
// NUL.
func probe(dir parser.Direction, b []byte) parser.Verdict {
	if dir != parser.ToServer {
		return parser.NoMatch
	}
	op, _, mode, _, ok := request(b)
	if !ok || (op != opRRQ && op != opWRQ) || modeName(mode) == "other" {
		return parser.NoMatch
	}
	return parser.Match
}

// request splits an RRQ/WRQ into opcode, file name, mode and the options.
func request(b []byte) (uint16, []byte, []byte, []byte, bool) {
	if len(b) < 4 {
		return 0, nil, nil, nil, false
	}
	op := binary.BigEndian.Uint16(b)
	rest := b[2:]
	z := bytes.IndexByte(rest, 0)
	if z <= 0 || z > maxName {
		return 0, nil, nil, nil, false
	}
	name := rest[:z]
	for _, c := range name {
		if c < 0x20 || c > 0x7e {
			return 0, nil, nil, nil, false
		}
	}
	rest = rest[z+1:]
	z = bytes.IndexByte(rest, 0)
	if z <= 0 {
		return 0, nil, nil, nil, false
	}
	return op, name, rest[:z], rest[z+1:], true
}

func modeName(m []byte) string {
	switch string(bytes.ToLower(m)) {
	case "netascii":
		return "netascii"
	case "octet":
		return "octet"
	case "mail":
		return "mail"
	}
	return "other"
}

type stream struct{ em parser.Emitter }

func newStream(_ *parser.Flow, em parser.Emitter, _ *parser.Env) parser.Stream {
	return &stream{em: em}
}

// Feed implements parser.Stream: each call is one datagram.
func (s *stream) Feed(dir parser.Direction, data []byte, ts time.Time) {
	dir &= 1
	if len(data) < 2 {
		s.em.Emit(ts, &parser.Anomaly{Source: "tftp", Code: "short_packet", Direction: dir.String(), Length: int64(len(data))})
		return
	}
	op := binary.BigEndian.Uint16(data)
	switch op {
	case opRRQ, opWRQ:
		_, name, mode, opts, ok := request(data)
		if !ok {
			s.em.Emit(ts, &parser.Anomaly{Source: "tftp", Code: "bad_request", Direction: dir.String(), Length: int64(len(data))})
			return
		}
		r := &Request{Op: "read", Extension: filename.Extension(name), Mode: modeName(mode)}
		if op == opWRQ {
			r.Op = "write"
		}
		for len(opts) > 0 {
			z := bytes.IndexByte(opts, 0)
			if z < 0 {
				break
			}
			if len(r.Options) < MaxOptions {
				o := bytes.ToLower(opts[:min(z, MaxOptionLen)])
				r.Options = append(r.Options, string(bytes.Map(func(c rune) rune {
					if c < 0x21 || c > 0x7e {
						return '?'
					}
					return c
				}, o)))
			}
			opts = opts[z+1:]
			// Skip the value.
			if z = bytes.IndexByte(opts, 0); z < 0 {
				break
			}
			opts = opts[z+1:]
		}
		s.em.Emit(ts, r)
	case opERROR:
		r := &Reply{Op: "error"}
		if len(data) >= 4 {
			r.ErrorCode = int(binary.BigEndian.Uint16(data[2:]))
		}
		s.em.Emit(ts, r)
	case opOACK:
		s.em.Emit(ts, &Reply{Op: "oack"})
	case opDATA, opACK:
		// A transfer on port 69 itself (some embedded servers do this):
		// counted by the flow record only.
	default:
		s.em.Emit(ts, &parser.Anomaly{Source: "tftp", Code: "bad_opcode", Direction: dir.String(), Length: int64(op)})
	}
}

// Gap implements parser.Stream (datagrams have no gaps).
func (s *stream) Gap(parser.Direction, int, time.Time) {}

// Close implements parser.Stream.
func (s *stream) Close(parser.CloseReason, time.Time) {}
