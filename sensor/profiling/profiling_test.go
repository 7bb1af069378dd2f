package profiling

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestPushesToServer runs the profiler against a local HTTP server that
// takes Pyroscope's ingest requests, and checks CPU and memory profiles
// arrive under the application name with the sensor tag.
func TestPushesToServer(t *testing.T) {
	var mu sync.Mutex
	names := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ingest" {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		names[r.URL.Query().Get("name")]++
		mu.Unlock()
	}))
	defer srv.Close()
	p, err := Start(Options{URL: srv.URL, Tags: map[string]string{"sensor": "icu-1"}, UploadRate: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// Some work to sample.
	deadline := time.Now().Add(10 * time.Second)
	for {
		x := 0
		for i := 0; i < 1e6; i++ {
			x += i * i
		}
		_ = x
		mu.Lock()
		cpu, alloc := scopes(names)
		mu.Unlock()
		if cpu > 0 && alloc > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if cpu, alloc := scopes(names); cpu == 0 || alloc == 0 {
		t.Errorf("ingested profiles: %v", names)
	}
	if p.Errors() != 0 {
		t.Errorf("%d upload errors", p.Errors())
	}
}

// scopes counts uploads of the sensor's CPU profiles (pyroscope-go's own
// scope) and of its memory profiles (the godeltaprof scope).
func scopes(names map[string]int) (cpu, mem int) {
	for n, c := range names {
		if !strings.HasPrefix(n, "medtap{") || !strings.Contains(n, "sensor=icu-1") {
			continue
		}
		switch {
		case strings.Contains(n, "otel.scope.name=com.grafana.pyroscope/go,"):
			cpu += c
		case strings.Contains(n, "otel.scope.name=com.grafana.pyroscope/godeltaprof,"):
			mem += c
		}
	}
	return cpu, mem
}

func TestUnreachableServerReported(t *testing.T) {
	var log bytes.Buffer
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	p, err := Start(Options{URL: url, UploadRate: time.Second, Log: &syncWriter{w: &log}})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for p.Errors() == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	_ = p.Stop()
	if p.Errors() == 0 {
		t.Fatal("no upload error counted")
	}
	if s := log.String(); !strings.HasPrefix(s, "medtap: pyroscope: ") || strings.Count(s, "\n") < 1 {
		t.Errorf("log: %q", s)
	}
}

func TestBadURL(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:4040", "ftp://h/"} {
		if _, err := Start(Options{URL: u}); err == nil {
			t.Errorf("Start(%q) accepted", u)
		}
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}
