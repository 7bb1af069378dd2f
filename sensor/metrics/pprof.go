package metrics

import (
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"time"
)

// pprofWriteTimeout is the metrics server's write timeout when it serves
// pprof: above pprof's default 30 s CPU profile and trace, which
// net/http/pprof refuses to take when the server would cut them off.
const pprofWriteTimeout = 90 * time.Second

// addPprof serves net/http/pprof under /debug/pprof/ on mux. The handlers
// are registered here, not by importing the package for its side effects
// on http.DefaultServeMux, so nothing else ever serves them.
func addPprof(mux *http.ServeMux) {
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
}

// loopbackAddr reports whether a listen address is on loopback only.
// pprof exposes the command line, heap contents' shape and timing: it is
// served on loopback or not at all.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
