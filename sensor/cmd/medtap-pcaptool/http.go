package main

import (
	"encoding/binary"
	"hash/crc32"
	"net/http"
	"strconv"
)

// httpApp is one keep-alive HTTP/1.1 connection with 1..10 GET exchanges
// whose responses carry Content-Length bodies (text or binary).
type httpApp struct {
	g       *generator
	a       *assets
	r       *rng // request details and binary bodies
	sr      *rng // sizes and content types, previewed by newHTTPApp
	p       *hostPair
	n       int
	req     bool // next message is a request
	inBody  bool // response headers sent, body bytes remain
	ctype   int
	rest    int64 // body bytes still to send
	reqs    int   // requests sent
	textOff int
}

var httpTypes = []struct {
	ctype  string
	binary bool
	paths  []string
}{
	{"text/html; charset=utf-8", false, []string{"/", "/index.html", "/ward/overview", "/schedule/today", "/docs/manual.html"}},
	{"application/json", false, []string{"/api/v1/worklist?date=20240304", "/api/v1/beds", "/api/v2/orders?status=open", "/wado/studies"}},
	{"image/png", true, []string{"/images/logo.png", "/thumbs/series/0042.png", "/static/img/banner.png"}},
	{"application/octet-stream", true, []string{"/updates/firmware-3.2.1.bin", "/downloads/viewer-setup.bin", "/wado/instances/raw"}},
	{"application/javascript", false, []string{"/static/app.js", "/static/vendor.js"}},
}

var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Windows NT 6.1; Win64; x64; rv:115.0) Gecko/20100101 Firefox/115.0",
	"SynthModality-Updater/3.2 (embedded)",
	"curl/7.88.1",
}

func httpSizes(r *rng) (ctype int, size int64) {
	ctype = r.intn(len(httpTypes))
	switch x := r.float(); {
	case x < 0.7:
		size = int64(r.between(200, 16<<10))
	case x < 0.96:
		size = int64(r.between(16<<10, 256<<10))
	default:
		size = int64(r.between(512<<10, 4<<20))
	}
	if ctype == 2 { // PNG thumbnails: whole file in one message
		size = min(size, 48<<10)
	}
	return ctype, size
}

func newHTTPApp(g *generator, p *hostPair, r *rng) (app, int64) {
	h := &httpApp{g: g, a: g.as, r: r, sr: r.fork(), p: p, n: r.between(1, 10), req: true}
	h.textOff = r.intn(len(g.as.text))
	pr := *h.sr
	var planned int64
	for i := 0; i < h.n; i++ {
		_, s := httpSizes(&pr)
		if planned+s > g.maxFlow && i > 0 {
			h.n = i
			break
		}
		planned += s + 600
	}
	return h, planned
}

func (h *httpApp) next(b []byte) ([]byte, int, bool) {
	r := h.r
	if h.inBody {
		b = h.body(b)
		h.inBody = h.rest > 0
		return b, 1, true
	}
	if h.n == 0 {
		return b, 0, false
	}
	if h.req {
		h.req = false
		var size int64
		h.ctype, size = httpSizes(h.sr)
		h.rest = size
		t := httpTypes[h.ctype]
		b = append(b, "GET "...)
		b = append(b, pick(r, t.paths)...)
		b = append(b, " HTTP/1.1\r\nHost: "...)
		b = append(b, h.p.host...)
		b = append(b, "\r\nUser-Agent: "...)
		b = append(b, userAgents[int(h.p.cli.ip[3])%len(userAgents)]...)
		b = append(b, "\r\nAccept: */*\r\nAccept-Encoding: identity\r\nAccept-Language: en-US,zh-CN;q=0.8\r\nConnection: keep-alive\r\n\r\n"...)
		h.g.st.HTTPRequests++
		h.reqs++
		return b, 0, true
	}
	h.req = true
	h.n--
	t := httpTypes[h.ctype]
	b = append(b, "HTTP/1.1 200 OK\r\nDate: "...)
	b = h.a.now().AppendFormat(b, http.TimeFormat)
	b = append(b, "\r\nServer: nginx/1.24.0\r\nContent-Type: "...)
	b = append(b, t.ctype...)
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, h.rest, 10)
	b = append(b, "\r\nCache-Control: no-cache\r\nConnection: keep-alive\r\n\r\n"...)
	b = h.body(b)
	h.inBody = h.rest > 0
	return b, 1, true
}

func (h *httpApp) left() int64 {
	if h.req && !h.inBody { // between exchanges
		return 0
	}
	return h.rest
}

// wind ends the connection after the current response (at least one
// request is always made).
func (h *httpApp) wind() {
	switch {
	case h.req && h.reqs == 0, !h.req && !h.inBody:
		h.n = min(h.n, 1)
	default:
		h.n = 0
	}
}

// body appends up to 64 KiB of the current response body.
func (h *httpApp) body(b []byte) []byte {
	n := int(min(h.rest, 64<<10-int64(len(b))))
	h.rest -= int64(n)
	t := httpTypes[h.ctype]
	if t.binary {
		if h.ctype == 2 && n >= 57 && h.rest == 0 {
			return appendPNG(b, h.r, n)
		}
		return h.r.appendRandom(b, n)
	}
	src := h.a.text
	if h.ctype == 1 {
		src = h.a.json
	}
	for n > 0 {
		if h.textOff >= len(src) {
			h.textOff = 0
		}
		c := min(n, len(src)-h.textOff)
		b = append(b, src[h.textOff:h.textOff+c]...)
		h.textOff += c
		n -= c
	}
	return b
}

// appendPNG appends a structurally valid PNG of exactly n (>= 57) bytes:
// signature, IHDR, one IDAT of pseudo-random bytes, IEND, correct CRCs.
func appendPNG(b []byte, r *rng, n int) []byte {
	chunk := func(b []byte, typ string, data int, fill func([]byte) []byte) []byte {
		b = binary.BigEndian.AppendUint32(b, uint32(data))
		s := len(b)
		b = append(b, typ...)
		b = fill(b)
		return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[s:]))
	}
	b = append(b, "\x89PNG\r\n\x1a\n"...)
	b = chunk(b, "IHDR", 13, func(b []byte) []byte {
		return append(b, 0, 0, 1, 0, 0, 0, 1, 0, 8, 2, 0, 0, 0) // 256x256 RGB 8-bit
	})
	idat := n - 8 - 25 - 12 - 12
	b = chunk(b, "IDAT", idat, func(b []byte) []byte { return r.appendRandom(b, idat) })
	return chunk(b, "IEND", 0, func(b []byte) []byte { return b })
}
