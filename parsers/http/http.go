package http

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"sync"
	"time"

	"github.com/medtap/medtap/parsers/internal/lines"
	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/textscan"
)

// Limits.
const (
	// MaxLine is the longest request, status or header line; a longer one
	// is header_line_too_long and the direction is given up.
	MaxLine = 8192
	// MaxHeaders is how many header lines a message may have before
	// too_many_headers gives the direction up.
	MaxHeaders = 128
	// MaxPending is how many requests may wait for their responses
	// (pipelining); past it the oldest is emitted unanswered.
	MaxPending = 16
	// MaxScanBody is how many bytes of each body are kept for the
	// textscan detectors.
	MaxScanBody = 64 << 10
	// MaxPathLen bounds the path kept; MaxFieldLen the Host, User-Agent
	// and Server values kept.
	MaxPathLen  = 256
	MaxFieldLen = 256
	// maxChunkLine bounds a chunk-size line.
	maxChunkLine = 256
)

// Factory is the registry entry of the HTTP parser.
var Factory = parser.Factory{
	Name:      "http",
	Transport: parser.TCP,
	Ports:     []uint16{80, 5985, 8000, 8008, 8080, 8081, 8888},
	Probe:     probe,
	New:       newStream,
}

var methods = [...]string{
	"GET", "POST", "PUT", "HEAD", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE",
	"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "REPORT", "SEARCH",
}

// probe matches a request line "METHOD SP target SP HTTP/1.x" (it waits for
// the line's end, within the probe window) or a status line "HTTP/1.x "
// for flows picked up mid-stream. HL7 (MSH, 0x0B), DICOM and other binary
// protocols fail on the first bytes.
func probe(dir parser.Direction, b []byte) parser.Verdict {
	const st = "HTTP/1."
	if n := min(len(b), len(st)); n > 0 && string(b[:n]) == st[:n] {
		if len(b) < len(st)+2 {
			return parser.NeedMore
		}
		if (b[7] == '0' || b[7] == '1') && b[8] == ' ' {
			return parser.Match
		}
		return parser.NoMatch
	}
	sp := -1
	for i := 0; i < len(b) && i <= 10; i++ {
		if b[i] == ' ' {
			sp = i
			break
		}
		if b[i] < 'A' || b[i] > 'Z' {
			return parser.NoMatch
		}
	}
	if sp < 0 {
		if len(b) > 10 {
			return parser.NoMatch
		}
		return parser.NeedMore
	}
	known := false
	for _, m := range methods {
		if string(b[:sp]) == m {
			known = true
			break
		}
	}
	if !known {
		return parser.NoMatch
	}
	for i := sp + 1; i < len(b); i++ {
		c := b[i]
		if c == '\n' {
			line := bytes.TrimSuffix(b[:i], []byte("\r"))
			if v := len(line) - 8; v > sp && string(line[v:v+7]) == st && line[v-1] == ' ' {
				return parser.Match
			}
			return parser.NoMatch
		}
		if (c < 0x20 && c != '\r') || c == 0x7f {
			return parser.NoMatch
		}
	}
	if len(b) >= parser.MaxProbeBytes {
		return parser.NoMatch
	}
	return parser.NeedMore
}

// Body framing states of one direction.
type bstate uint8

const (
	bHeaders   bstate = iota // reading the start line and headers
	bLength                  // Content-Length body
	bChunkHdr                // chunk-size line
	bChunk                   // chunk data
	bChunkCRLF               // CRLF after chunk data
	bTrailer                 // trailer lines after the last chunk
	bEOF                     // body up to the end of the flow
	bTunnel                  // CONNECT/Upgrade: not HTTP any more
	bDead
)

type msg struct {
	startSeen bool
	headers   int
	clen      int64 // -1 unknown
	chunked   bool
	encoded   bool
	noScan    bool
	ctype     string
	upgrade   string
	interim   bool
}

type dirState struct {
	ln     lines.Buf
	st     bstate
	m      msg
	left   int64 // bytes of body or chunk left
	body   []byte
	bytes  int64 // body bytes seen
	chunkL lines.Buf
	off    int64
}

type stream struct {
	em      parser.Emitter
	d       [2]dirState
	pending []*Transaction // requests awaiting responses, oldest first
	cur     *Transaction   // the request being read
	resp    *Transaction   // the transaction the response being read belongs to
	scan    textscan.Collector
	closed  bool
}

func newStream(_ *parser.Flow, em parser.Emitter, _ *parser.Env) parser.Stream {
	s := &stream{em: em}
	for i := range s.d {
		s.d[i].ln.Max = MaxLine
		s.d[i].chunkL.Max = maxChunkLine
	}
	return s
}

func (s *stream) anomaly(ts time.Time, dir parser.Direction, code string, length, limit int64) {
	s.em.Emit(ts, &parser.Anomaly{Source: "http", Code: code, Direction: dir.String(), Offset: s.d[dir].off, Length: length, Limit: limit})
}

// Feed implements parser.Stream.
func (s *stream) Feed(dir parser.Direction, data []byte, ts time.Time) {
	dir &= 1
	d := &s.d[dir]
	for len(data) > 0 {
		switch d.st {
		case bHeaders, bTrailer:
			n := d.ln.Feed(data, func(line []byte, long bool) bool {
				if long {
					s.anomaly(ts, dir, "header_line_too_long", 0, MaxLine)
					s.kill(dir, ts)
					return false
				}
				return s.headerLine(dir, d, line, ts)
			})
			d.off += int64(n)
			data = data[n:]
		case bLength, bChunk:
			n := int(min(int64(len(data)), d.left))
			s.bodyBytes(d, data[:n])
			d.left -= int64(n)
			d.off += int64(n)
			data = data[n:]
			if d.left == 0 {
				if d.st == bChunk {
					d.st = bChunkCRLF
					d.left = 2
				} else {
					s.endMessage(dir, ts)
				}
			}
		case bChunkCRLF:
			n := int(min(int64(len(data)), d.left))
			d.left -= int64(n)
			d.off += int64(n)
			data = data[n:]
			if d.left == 0 {
				d.st = bChunkHdr
			}
		case bChunkHdr:
			n := d.chunkL.Feed(data, func(line []byte, long bool) bool {
				size, ok := chunkSize(line)
				if long || !ok {
					s.anomaly(ts, dir, "bad_chunk_size", 0, 0)
					s.kill(dir, ts)
					return false
				}
				if size == 0 {
					d.st = bTrailer
				} else {
					d.st, d.left = bChunk, size
				}
				return false
			})
			d.off += int64(n)
			data = data[n:]
		case bEOF:
			s.bodyBytes(d, data)
			d.off += int64(len(data))
			return
		default:
			return
		}
	}
}

// chunkSize parses a chunk-size line (hex, optional extensions).
func chunkSize(line []byte) (int64, bool) {
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	line = bytes.TrimSpace(line)
	if len(line) == 0 || len(line) > 15 {
		return 0, false
	}
	v, err := strconv.ParseInt(string(line), 16, 64)
	return v, err == nil && v >= 0
}

func (s *stream) bodyBytes(d *dirState, p []byte) {
	d.bytes += int64(len(p))
	if d.m.noScan {
		return
	}
	if room := MaxScanBody - len(d.body); room > 0 {
		if d.body == nil {
			d.body = bodyPool.Get().(*[MaxScanBody]byte)[:0]
		}
		d.body = append(d.body, p[:min(room, len(p))]...)
	}
}

// bodyPool holds the body scan buffers: a stream takes one at a body's
// first byte and gives it back when the body ends, so many flows with
// bodies cost no allocation each (the buffer never grows past its
// MaxScanBody capacity).
var bodyPool = sync.Pool{New: func() any { return new([MaxScanBody]byte) }}

// releaseBody gives d's scan buffer back to the pool.
func releaseBody(d *dirState) {
	if cap(d.body) == MaxScanBody {
		bodyPool.Put((*[MaxScanBody]byte)(d.body[:MaxScanBody]))
	}
	d.body = nil
}

func (s *stream) kill(dir parser.Direction, ts time.Time) {
	d := &s.d[dir]
	d.st = bDead
	releaseBody(d)
	if dir == parser.ToServer && s.cur != nil {
		s.cur.Truncated = true
		s.queue(s.cur, ts)
		s.cur = nil
	}
}

// headerLine handles a start line, a header, or the blank line ending
// them. It returns false when the caller must stop feeding lines (a body
// starts).
func (s *stream) headerLine(dir parser.Direction, d *dirState, line []byte, ts time.Time) bool {
	if d.st == bTrailer {
		if len(line) == 0 {
			s.endMessage(dir, ts)
			return false
		}
		return true
	}
	if !d.m.startSeen {
		if len(line) == 0 {
			return true // stray CRLF between messages
		}
		d.m = msg{startSeen: true, clen: -1}
		if dir == parser.ToServer {
			return s.requestLine(d, line, ts)
		}
		return s.statusLine(d, line, ts)
	}
	if len(line) == 0 {
		return s.endHeaders(dir, d, ts)
	}
	d.m.headers++
	if d.m.headers > MaxHeaders {
		s.anomaly(ts, dir, "too_many_headers", int64(d.m.headers), MaxHeaders)
		s.kill(dir, ts)
		return false
	}
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		s.anomaly(ts, dir, "bad_header", 0, 0)
		return true
	}
	name, val := line[:colon], bytes.TrimSpace(line[colon+1:])
	t := s.cur
	if dir == parser.ToClient {
		t = s.resp
	}
	switch {
	case eq(name, "content-length"):
		if v, err := strconv.ParseInt(string(val), 10, 64); err == nil && v >= 0 {
			d.m.clen = v
		} else {
			s.anomaly(ts, dir, "bad_content_length", 0, 0)
		}
	case eq(name, "transfer-encoding"):
		d.m.chunked = bytes.Contains(bytes.ToLower(val), []byte("chunked"))
	case eq(name, "content-encoding"):
		if !eq(val, "identity") {
			d.m.encoded, d.m.noScan = true, true
		}
	case eq(name, "content-type"):
		mt := val
		if i := bytes.IndexByte(mt, ';'); i >= 0 {
			mt = bytes.TrimSpace(mt[:i])
		}
		d.m.ctype = string(bytes.ToLower(clip(mt, MaxFieldLen)))
		if binaryType(d.m.ctype) {
			d.m.noScan = true
		}
	case eq(name, "upgrade"):
		d.m.upgrade = string(bytes.ToLower(clip(val, 32)))
	}
	if t == nil {
		return true
	}
	switch {
	case dir == parser.ToServer && eq(name, "host"):
		t.Host = parser.Printable(clip(val, MaxFieldLen))
	case dir == parser.ToServer && eq(name, "user-agent"):
		t.UserAgent = parser.Printable(clip(val, MaxFieldLen))
	case dir == parser.ToServer && eq(name, "authorization"):
		t.AuthScheme, t.User = authScheme(val)
	case dir == parser.ToClient && eq(name, "server"):
		t.Server = parser.Printable(clip(val, MaxFieldLen))
	case dir == parser.ToClient && eq(name, "www-authenticate") && t.WWWAuthenticate == "":
		t.WWWAuthenticate, _ = authScheme(val)
	}
	return true
}

// binaryType says a media type holds no text worth scanning.
func binaryType(ct string) bool {
	for _, p := range [...]string{"image/", "video/", "audio/", "font/"} {
		if len(ct) >= len(p) && ct[:len(p)] == p {
			return true
		}
	}
	return ct == "application/zip" || ct == "application/gzip" || ct == "application/x-gzip"
}

func eq(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 32
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

func clip(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// authScheme returns an Authorization or WWW-Authenticate header's scheme
// name and, for Basic credentials, the user name.
func authScheme(v []byte) (string, string) {
	sch, cred := v, []byte(nil)
	if i := bytes.IndexByte(v, ' '); i >= 0 {
		sch, cred = v[:i], bytes.TrimSpace(v[i+1:])
	}
	switch {
	case eq(sch, "basic"):
		var buf [256]byte
		if base64.StdEncoding.DecodedLen(len(cred)) <= len(buf) {
			if n, err := base64.StdEncoding.Decode(buf[:], cred); err == nil {
				u := buf[:n]
				if i := bytes.IndexByte(u, ':'); i >= 0 {
					u = u[:i]
				}
				return "basic", string(u)
			}
		}
		return "basic", ""
	case eq(sch, "digest"):
		return "digest", ""
	case eq(sch, "ntlm"):
		return "ntlm", ""
	case eq(sch, "negotiate"):
		return "negotiate", ""
	case eq(sch, "bearer"):
		return "bearer", ""
	}
	return "other", ""
}

// requestLine starts a transaction.
func (s *stream) requestLine(d *dirState, line []byte, ts time.Time) bool {
	f := bytes.Fields(line)
	if len(f) != 3 || !bytes.HasPrefix(f[2], []byte("HTTP/1.")) {
		s.anomaly(ts, parser.ToServer, "bad_request_line", 0, 0)
		s.kill(parser.ToServer, ts)
		return false
	}
	t := &Transaction{Method: parser.Printable(clip(f[0], 16)), Version: parser.Printable(clip(f[2][5:], 3))}
	target := f[1]
	s.addScan(t, "uri", target)
	path := target
	if i := bytes.IndexByte(path, '?'); i >= 0 {
		path, t.QueryPresent = path[:i], true
	}
	// An absolute-form target: keep only the path.
	if bytes.HasPrefix(path, []byte("http://")) || bytes.HasPrefix(path, []byte("https://")) {
		rest := path[bytes.Index(path, []byte("//"))+2:]
		if i := bytes.IndexByte(rest, '/'); i >= 0 {
			path = rest[i:]
		} else {
			path = []byte("/")
		}
	}
	t.Path = maskPath(clip(path, MaxPathLen))
	lp := bytes.ToLower(clip(path, 16))
	t.WinRM = bytes.HasPrefix(lp, []byte("/wsman"))
	s.cur = t
	return true
}

// maskPath returns the path with every identifier textscan finds, and
// every segment holding a digit, replaced by '*'. A segment of letters
// only is kept: route names (/fhir/Patient, /wsman), though a bare name
// in a path would pass.
func maskPath(p []byte) string {
	out := []byte(parser.Printable(p))
	textscan.Scan(out, func(_ textscan.Category, a, b int) {
		for i := a; i < b; i++ {
			out[i] = '*'
		}
	})
	// A segment with a digit in it is data, not a route name: a record
	// number, an accession number, a date (/patients/MT9001/studies).
	for start := 0; start < len(out); {
		end := bytes.IndexByte(out[start:], '/')
		if end < 0 {
			end = len(out)
		} else {
			end += start
		}
		if bytes.ContainsAny(out[start:end], "0123456789") {
			for i := start; i < end; i++ {
				out[i] = '*'
			}
		}
		start = end + 1
	}
	return string(out)
}

// statusLine starts a response.
func (s *stream) statusLine(d *dirState, line []byte, ts time.Time) bool {
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		s.anomaly(ts, parser.ToClient, "bad_status_line", 0, 0)
		s.kill(parser.ToClient, ts)
		return false
	}
	code, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		s.anomaly(ts, parser.ToClient, "bad_status_line", 0, 0)
		s.kill(parser.ToClient, ts)
		return false
	}
	if code >= 100 && code < 200 && code != 101 {
		d.m.interim = true // its headers are skipped; the real response follows
		return true
	}
	if len(s.pending) > 0 {
		s.resp = s.pending[0]
		s.pending = s.pending[1:]
	} else {
		s.resp = &Transaction{}
		s.anomaly(ts, parser.ToClient, "response_without_request", 0, 0)
	}
	s.resp.Status = code
	return true
}

// addScan scans text and adds what it found to t.
func (s *stream) addScan(t *Transaction, field string, text []byte) {
	s.scan.Reset()
	s.scan.Scan(field, text)
	c := s.scan.Counts
	if c.Total() == 0 {
		return
	}
	t.PHI.IDNumber += c.IDNumber
	t.PHI.Phone += c.Phone
	t.PHI.BankCard += c.BankCard
	for _, v := range s.scan.Values {
		if len(t.PHIValues) < textscan.MaxValues {
			t.PHIValues = append(t.PHIValues, v)
		}
	}
}

// endHeaders acts on the blank line after a message's headers: it decides
// how the body is framed. It returns false when a body follows.
func (s *stream) endHeaders(dir parser.Direction, d *dirState, ts time.Time) bool {
	m := &d.m
	d.bytes, d.body = 0, d.body[:0]
	if dir == parser.ToServer {
		t := s.cur
		t.RequestContentType = m.ctype
		if m.clen > 0 {
			t.RequestContentLength = m.clen
		}
		t.Encoded = t.Encoded || m.encoded
		switch {
		case m.chunked:
			d.st = bChunkHdr
			return false
		case m.clen > 0:
			d.st, d.left = bLength, m.clen
			return false
		}
		s.endMessage(dir, ts)
		return true
	}
	if m.interim {
		d.m = msg{}
		return true
	}
	t := s.resp
	t.ResponseContentType = m.ctype
	if m.clen > 0 {
		t.ResponseContentLength = m.clen
	}
	t.Encoded = t.Encoded || m.encoded
	switch {
	case t.Status == 101 || (t.Method == "CONNECT" && t.Status/100 == 2):
		t.Upgrade = m.upgrade
		s.endMessage(dir, ts)
		s.d[0].st, s.d[1].st = bTunnel, bTunnel
		return false
	case t.Method == "HEAD" || t.Status == 204 || t.Status == 304:
	case m.chunked:
		d.st = bChunkHdr
		return false
	case m.clen > 0:
		d.st, d.left = bLength, m.clen
		return false
	case m.clen < 0:
		d.st = bEOF
		return false
	}
	s.endMessage(dir, ts)
	return true
}

// endMessage finishes a request (queued for its response) or a response
// (its transaction is emitted).
func (s *stream) endMessage(dir parser.Direction, ts time.Time) {
	d := &s.d[dir]
	if d.st != bTunnel && d.st != bDead {
		d.st = bHeaders
	}
	if dir == parser.ToServer {
		t := s.cur
		s.cur = nil
		if t == nil {
			return
		}
		t.RequestBodyBytes = d.bytes
		if len(d.body) > 0 {
			s.addScan(t, "request_body", d.body)
		}
		releaseBody(d) // an idle connection holds no scan buffer
		d.m, d.bytes = msg{}, 0
		s.queue(t, ts)
		return
	}
	t := s.resp
	s.resp = nil
	if t == nil {
		return
	}
	t.ResponseBodyBytes = d.bytes
	if len(d.body) > 0 {
		s.addScan(t, "response_body", d.body)
	}
	releaseBody(d)
	d.m, d.bytes = msg{}, 0
	s.emit(t, ts)
}

// queue adds a request to those awaiting responses.
func (s *stream) queue(t *Transaction, ts time.Time) {
	if len(s.pending) >= MaxPending {
		s.anomaly(ts, parser.ToServer, "too_many_pending_requests", int64(len(s.pending)+1), MaxPending)
		s.emit(s.pending[0], ts)
		s.pending = s.pending[1:]
	}
	s.pending = append(s.pending, t)
}

func (s *stream) emit(t *Transaction, ts time.Time) {
	t.PHICategories = t.PHI.Categories()
	if t.Method == "" {
		t.Method = "-"
	}
	s.em.Emit(ts, t)
}

// Gap implements parser.Stream: the message in progress is marked
// truncated and the direction is given up (HTTP has no resynchronisation
// point short of guessing).
func (s *stream) Gap(dir parser.Direction, missing int, ts time.Time) {
	dir &= 1
	d := &s.d[dir]
	switch d.st {
	case bTunnel, bDead:
		return
	case bEOF:
		d.bytes += int64(missing)
		if s.resp != nil {
			s.resp.Truncated = true
		}
		return
	}
	s.anomaly(ts, dir, "gap", int64(missing), 0)
	if dir == parser.ToClient && s.resp != nil {
		s.resp.Truncated = true
		s.emit(s.resp, ts)
		s.resp = nil
	}
	s.kill(dir, ts)
}

// Close implements parser.Stream: a response read to the end of the flow
// ends here; requests left unanswered are emitted without a status.
func (s *stream) Close(_ parser.CloseReason, ts time.Time) {
	if s.closed {
		return
	}
	s.closed = true
	if s.d[parser.ToClient].st == bEOF && s.resp != nil {
		s.endMessage(parser.ToClient, ts)
	}
	if s.resp != nil {
		s.resp.Truncated = true
		s.emit(s.resp, ts)
		s.resp = nil
	}
	if s.cur != nil {
		s.cur.Truncated = true
		s.pending = append(s.pending, s.cur)
		s.cur = nil
	}
	for _, t := range s.pending {
		s.emit(t, ts)
	}
	s.pending = nil
	releaseBody(&s.d[parser.ToServer])
	releaseBody(&s.d[parser.ToClient])
}
