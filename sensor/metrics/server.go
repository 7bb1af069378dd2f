package metrics

import (
	"context"
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
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listener: %w", err)
	}
	s := &Server{ln: ln, done: make(chan error, 1)}
	mux := http.NewServeMux()
	mux.Handle("/metrics", Handler(reg))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { ok(w) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		ok(w)
	})
	s.srv = &http.Server{
		Handler:           limit(mux),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
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
