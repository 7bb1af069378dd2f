package metrics

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultAddr is where medtap serves its metrics unless told otherwise:
// loopback only, so nothing is exposed on the monitored network by default.
const DefaultAddr = "127.0.0.1:9797"

// Limits of the metrics server.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 30 * time.Second // above scrapeTimeout
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 8 << 10
	maxBodyBytes      = 1 << 10 // requests are GETs: no body worth reading
)

// Server serves /metrics, /healthz and /readyz.
type Server struct {
	srv   *http.Server
	ln    net.Listener
	ready atomic.Bool
	done  chan error
}

// Serve listens on addr (host:port; port 0 picks a free one) and serves
// reg's metrics on /metrics, "ok" on /healthz, and "ok" on /readyz once
// serving. It returns once the listener is bound.
func Serve(addr string, reg *prometheus.Registry) (*Server, error) {
	return ServeWith(addr, reg, Options{})
}

// Options adds to what ServeWith serves on the metrics listener.
type Options struct {
	// Handlers are extra routes (http.ServeMux patterns, such as the HTTP
	// API's "/api/v1/"), served next to /metrics, /healthz and /readyz.
	Handlers map[string]http.Handler
	// Wrap, when set, wraps every route (authentication).
	Wrap func(http.Handler) http.Handler
	// TLS, when set, serves HTTPS only.
	TLS *tls.Config
	// Pprof serves net/http/pprof under /debug/pprof/; the address must
	// then be on loopback.
	Pprof bool
}

// ServeWith is Serve with extra routes, a wrapper and TLS.
func ServeWith(addr string, reg *prometheus.Registry, opt Options) (*Server, error) {
	if opt.Pprof && !loopbackAddr(addr) {
		return nil, fmt.Errorf("pprof is served on loopback only, and %s is not: listen on 127.0.0.1 or drop --pprof", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listener: %w", err)
	}
	if opt.TLS != nil {
		ln = tls.NewListener(ln, opt.TLS)
	}
	s := &Server{ln: ln, done: make(chan error, 1)}
	mux := http.NewServeMux()
	for pattern, h := range opt.Handlers {
		mux.Handle(pattern, h)
	}
	mux.Handle("/metrics", Handler(reg))
	wt := writeTimeout
	if opt.Pprof {
		addPprof(mux)
		wt = pprofWriteTimeout
	}
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { ok(w) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		ok(w)
	})
	var h http.Handler = mux
	if opt.Wrap != nil {
		h = opt.Wrap(h)
	}
	s.srv = &http.Server{
		Handler:           limit(h),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      wt,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
	go func() {
		s.ready.Store(true)
		err := s.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Stop stops accepting scrapes and waits, until ctx ends, for those under
// way to finish.
func (s *Server) Stop(ctx context.Context) error {
	s.ready.Store(false)
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.srv.Close()
		return fmt.Errorf("metrics server shutdown: %w", err)
	}
	if err := <-s.done; err != nil {
		return fmt.Errorf("metrics server: %w", err)
	}
	return nil
}

func ok(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// limit allows GET and HEAD only, with a bounded body.
func limit(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		h.ServeHTTP(w, r)
	})
}
