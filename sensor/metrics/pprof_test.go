package metrics

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

func pprofGet(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestPprof(t *testing.T) {
	reg := NewRegistry("test")
	s, err := ServeWith("127.0.0.1:0", reg, Options{Pprof: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop(context.Background())
	base := "http://" + s.Addr()
	if code, b := pprofGet(t, base+"/debug/pprof/goroutine?debug=1"); code != 200 || !strings.Contains(string(b), "goroutine profile:") {
		t.Errorf("goroutine profile: %d %.80s", code, b)
	}
	if code, b := pprofGet(t, base+"/debug/pprof/profile?seconds=1"); code != 200 || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Errorf("CPU profile: %d, %d bytes", code, len(b))
	}
	if code, _ := pprofGet(t, base+"/metrics"); code != 200 {
		t.Errorf("/metrics next to pprof: %d", code)
	}

	// Off by default.
	s2, err := Serve("127.0.0.1:0", reg)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Stop(context.Background())
	if code, _ := pprofGet(t, "http://"+s2.Addr()+"/debug/pprof/"); code != 404 {
		t.Errorf("pprof served without the option: %d", code)
	}
}

func TestPprofLoopbackOnly(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:0": true, "[::1]:0": true, "localhost:0": true, "0.0.0.0:0": false, ":0": false, "10.1.2.3:9797": false} {
		if got := loopbackAddr(addr); got != ok {
			t.Errorf("loopbackAddr(%q) = %v", addr, got)
		}
	}
	if _, err := ServeWith("0.0.0.0:0", NewRegistry("test"), Options{Pprof: true}); err == nil || !strings.Contains(err.Error(), "loopback only") {
		t.Errorf("pprof off loopback: %v", err)
	}
}
