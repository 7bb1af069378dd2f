package api

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"

	"github.com/medtap/medtap/sensor/metrics"
)

// Limits of the bearer token file.
const (
	// MinTokenBytes is the shortest token accepted: 16 bytes, which a
	// random hex or base64 token of 128 bits exceeds.
	MinTokenBytes = 16
	// maxTokenFileBytes bounds what is read of the token file.
	maxTokenFileBytes = 4 << 10
)

// Security is how the listener is protected: where it listens, the bearer
// token file and the TLS certificate and key files.
type Security struct {
	Addr      string // host:port of the listener
	TokenFile string // file holding the bearer token (one line)
	CertFile  string // TLS certificate chain (PEM); with KeyFile, serve HTTPS
	KeyFile   string // TLS private key (PEM)
}

// Loopback reports whether addr's host is a loopback address (or
// "localhost"). An empty host, a wildcard or any other name is not:
// those listen where others can reach.
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// Auth counts what the bearer-token check refused.
type Auth struct {
	sum          [sha256.Size]byte // of the token; nil-equivalent when off
	on           bool
	unauthorized atomic.Uint64
}

// Unauthorized is the number of requests refused with 401 so far.
func (a *Auth) Unauthorized() uint64 { return a.unauthorized.Load() }

// Options checks sec and returns what metrics.ServeWith needs to enforce
// it (routes are added by the caller), and the Auth whose counter the
// metrics export. A listener off loopback without a token file is refused;
// a token file is honoured on loopback too. Errors are one line naming the
// flag to fix.
func (sec Security) Options() (metrics.Options, *Auth, error) {
	var opt metrics.Options
	a := &Auth{}
	if sec.TokenFile != "" {
		tok, err := readToken(sec.TokenFile)
		if err != nil {
			return opt, nil, err
		}
		a.sum = sha256.Sum256(tok)
		a.on = true
		opt.Wrap = a.wrap
	} else if !Loopback(sec.Addr) {
		return opt, nil, fmt.Errorf("listening on %s, off loopback, needs a bearer token: pass --api-token-file FILE (a file holding a random token of at least %d bytes), or listen on 127.0.0.1", sec.Addr, MinTokenBytes)
	}
	switch {
	case sec.CertFile != "" && sec.KeyFile != "":
		cert, err := tls.LoadX509KeyPair(sec.CertFile, sec.KeyFile)
		if err != nil {
			return opt, nil, fmt.Errorf("--tls-cert %s, --tls-key %s: %w", sec.CertFile, sec.KeyFile, err)
		}
		opt.TLS = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	case sec.CertFile != "" || sec.KeyFile != "":
		return opt, nil, errors.New("TLS needs both --tls-cert and --tls-key")
	}
	return opt, a, nil
}

// readToken reads a token file: one line, surrounding white space
// trimmed, at least MinTokenBytes.
func readToken(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--api-token-file: %w", err)
	}
	defer f.Close()
	buf := make([]byte, maxTokenFileBytes+1)
	n, err := f.Read(buf)
	if err != nil && n == 0 {
		return nil, fmt.Errorf("--api-token-file %s: cannot read: %w", path, err)
	}
	if n > maxTokenFileBytes {
		return nil, fmt.Errorf("--api-token-file %s: larger than %d bytes; it should hold one token", path, maxTokenFileBytes)
	}
	tok := bytes.TrimSpace(buf[:n])
	if bytes.ContainsAny(tok, "\r\n\t ") {
		return nil, fmt.Errorf("--api-token-file %s: holds more than one line or word; it should hold one token", path)
	}
	if len(tok) < MinTokenBytes {
		return nil, fmt.Errorf("--api-token-file %s: token shorter than %d bytes; use e.g. `openssl rand -hex 32`", path, MinTokenBytes)
	}
	return tok, nil
}

// open are the routes served without a token: liveness and readiness say
// nothing about the network, and probes rarely carry credentials.
var open = map[string]bool{"/healthz": true, "/readyz": true}

// wrap requires "Authorization: Bearer TOKEN" on every other route.
func (a *Auth) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if open[r.URL.Path] || a.check(r.Header.Get("Authorization")) {
			h.ServeHTTP(w, r)
			return
		}
		a.unauthorized.Add(1)
		w.Header().Set("WWW-Authenticate", `Bearer realm="medtap"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	})
}

// check compares the presented token with the configured one in constant
// time: both are hashed first, so neither the content nor the length of
// the token leaks through timing.
func (a *Auth) check(header string) bool {
	if !a.on {
		return true
	}
	const prefix = "Bearer "
	if len(header) < len(prefix) || !strings.EqualFold(header[:len(prefix)], prefix) {
		return false
	}
	got := sha256.Sum256([]byte(header[len(prefix):]))
	return subtle.ConstantTimeCompare(got[:], a.sum[:]) == 1
}
