package metrics

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Real Prometheus tools, installed by .ci/run (Debian package prometheus).
const (
	prometheusBin = "/usr/bin/prometheus"
	promtoolBin   = "/usr/bin/promtool"
)

func needBinary(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s not installed (apt-get install prometheus)", path)
	}
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return resp.StatusCode, string(b)
}

func serve(t *testing.T, a *analysis) *Server {
	t.Helper()
	s, err := Serve("127.0.0.1:0", a.reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
	return s
}

// TestServer checks the endpoints and the request limits.
func TestServer(t *testing.T) {
	a := analyze(t)
	s := serve(t, a)
	base := "http://" + s.Addr()
	for path, want := range map[string]string{"/healthz": "ok\n", "/readyz": "ok\n"} {
		if code, body := get(t, base+path); code != 200 || body != want {
			t.Errorf("GET %s: %d %q", path, code, body)
		}
	}
	code, body := get(t, base+"/metrics")
	want := fmt.Sprintf("medtap_flows_created_total %d\n", a.st.Flow.FlowsCreated)
	if code != 200 || !strings.Contains(body, want) {
		t.Errorf("GET /metrics: %d, no %q", code, want)
	}
	resp, err := http.Post(base+"/metrics", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", base+"/healthz", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 2*maxHeaderBytes))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("oversized header: %d", resp.StatusCode)
	}

	// promtool lints the exposition as Prometheus itself reads it.
	if _, err := os.Stat(promtoolBin); err == nil {
		cmd := exec.Command(promtoolBin, "check", "metrics")
		cmd.Stdin = strings.NewReader(body)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestPrometheusScrapes has a real Prometheus server scrape medtap's
// metrics after an analysis, and reads the flow count back through PromQL.
func TestPrometheusScrapes(t *testing.T) {
	needBinary(t, prometheusBin)
	if testing.Short() {
		t.Skip("starts a Prometheus server")
	}
	a := analyze(t)
	s := serve(t, a)

	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	conf := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: medtap
    static_configs:
      - targets: [%q]
`, s.Addr())
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	promAddr := freePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, prometheusBin,
		"--config.file="+cfg,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+promAddr,
		"--log.level=warn")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus log:\n%s", logs.String())
		}
	}()

	want := strconv.FormatUint(a.st.Flow.FlowsCreated, 10)
	query := func(q string) (string, bool) {
		c := &http.Client{Timeout: 2 * time.Second}
		resp, err := c.Get("http://" + promAddr + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			return err.Error(), false
		}
		defer resp.Body.Close()
		var r struct {
			Status string `json:"status"`
			Data   struct {
				Result []struct {
					Value [2]any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Status != "success" || len(r.Data.Result) != 1 {
			return fmt.Sprintf("status %q, %d results, %v", r.Status, len(r.Data.Result), err), false
		}
		v, _ := r.Data.Result[0].Value[1].(string)
		return v, true
	}
	deadline := time.Now().Add(60 * time.Second)
	var last string
	for {
		v, ok := query(`medtap_flows_created_total{job="medtap"}`)
		if ok && v == want {
			break
		}
		last = v
		if time.Now().After(deadline) {
			t.Fatalf("medtap_flows_created_total never read %s through Prometheus (last: %s)", want, last)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if v, ok := query(`up{job="medtap"}`); !ok || v != "1" {
		t.Errorf("up = %s", v)
	}
	if v, ok := query(`sum(medtap_dicom_associations_total)`); !ok || v != strconv.Itoa(a.tally.associations) {
		t.Errorf("sum(medtap_dicom_associations_total) = %s, want %d", v, a.tally.associations)
	}
}
