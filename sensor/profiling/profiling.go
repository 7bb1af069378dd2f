// Package profiling turns on medtap's continuous profiling: CPU, memory
// and goroutine profiles pushed to a Pyroscope server with
// github.com/grafana/pyroscope-go. It is off unless a server URL is
// given (--pyroscope). The on-demand profiles of net/http/pprof are served
// by the metrics listener instead (--pprof, sensor/metrics).
//
// Profiles hold function names, stack traces and sample counts of medtap's
// own code, never packet bytes. The tags sent are the application name
// and the sensor name the operator chose.
package profiling

import (
	"fmt"
	"io"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grafana/pyroscope-go"
)

// DefaultUploadRate is how often profiles are pushed: pyroscope-go's own
// default, 15 s of profile per upload.
const DefaultUploadRate = 15 * time.Second

// errorEvery is how often upload errors are reported after the first:
// once per this many, so an unreachable server does not flood the log.
const errorEvery = 100

// Options configure continuous profiling.
type Options struct {
	URL        string            // Pyroscope server, http:// or https://
	AppName    string            // application name (default "medtap")
	Tags       map[string]string // e.g. {"sensor": "icu-1"}
	UploadRate time.Duration     // DefaultUploadRate when 0
	Log        io.Writer         // where upload errors are reported (nil: nowhere)
}

// Profiler is a running continuous profiler.
type Profiler struct {
	p   *pyroscope.Profiler
	log *logger
}

// Start starts pushing profiles to o.URL. Profiling costs CPU (the Go
// CPU profiler samples at 100 Hz) and an upload per profile type every
// UploadRate; see the README for the overhead measured.
func Start(o Options) (*Profiler, error) {
	u, err := url.Parse(o.URL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("pyroscope URL %q: use http://HOST:PORT or https://HOST:PORT", o.URL)
	}
	if o.AppName == "" {
		o.AppName = "medtap"
	}
	if o.UploadRate == 0 {
		o.UploadRate = DefaultUploadRate
	}
	l := &logger{w: o.Log}
	p, err := pyroscope.Start(pyroscope.Config{
		ApplicationName: o.AppName,
		ServerAddress:   o.URL,
		Tags:            o.Tags,
		UploadRate:      o.UploadRate,
		Logger:          l,
		ProfileTypes: []pyroscope.ProfileType{
			pyroscope.ProfileCPU,
			pyroscope.ProfileAllocObjects, pyroscope.ProfileAllocSpace,
			pyroscope.ProfileInuseObjects, pyroscope.ProfileInuseSpace,
			pyroscope.ProfileGoroutines,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("pyroscope: %w", err)
	}
	return &Profiler{p: p, log: l}, nil
}

// Stop uploads what is left and stops profiling.
func (p *Profiler) Stop() error {
	if p == nil {
		return nil
	}
	return p.p.Stop()
}

// Errors counts the errors pyroscope-go reported (failed uploads).
func (p *Profiler) Errors() uint64 { return p.log.errors.Load() }

// logger is pyroscope-go's logger: it never writes to standard output
// (which may carry events), drops info and debug lines, and reports the
// first error and then one in errorEvery.
type logger struct {
	mu     sync.Mutex
	w      io.Writer
	errors atomic.Uint64
}

func (*logger) Infof(string, ...any)  {}
func (*logger) Debugf(string, ...any) {}

func (l *logger) Errorf(format string, args ...any) {
	n := l.errors.Add(1)
	if l.w == nil || (n-1)%errorEvery != 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintf(l.w, "medtap: pyroscope: %s (error %d; reported every %d)\n", oneLine(msg), n, errorEvery)
}

func oneLine(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '\n' || c == '\r' {
			b[i] = ' '
		}
	}
	return string(b)
}
