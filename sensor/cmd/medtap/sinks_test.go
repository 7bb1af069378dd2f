package main

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medtap/medtap/sensor/config"
)

func TestConfigCheck(t *testing.T) {
	code, stdout, stderr := medtap("config", "check", "../../config/medtap.example.yaml")
	if code != exitOK || stdout != "valid\n" || stderr != "" {
		t.Errorf("example: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("sensor: a\nsyslog:\n  url: udp://127.0.0.1:514\n  colour: red\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = medtap("config", "check", bad)
	want := bad + ":4: unknown key syslog.colour (known in syslog: ca, cert, events, facility, format, key, url)\n"
	if code != exitFailure || stdout != "" || stderr != want {
		t.Errorf("bad file: exit %d, stdout %q, stderr %q, want %q", code, stdout, stderr, want)
	}
	code, _, stderr = medtap("config", "check", filepath.Join(t.TempDir(), "missing.yaml"))
	if code != exitFailure || !strings.Contains(stderr, "missing.yaml: read configuration: no such file or directory") {
		t.Errorf("missing file: exit %d, %q", code, stderr)
	}
	if code, _, _ := medtap("config"); code != exitUsage {
		t.Errorf("no subcommand: exit %d", code)
	}
	// A bad file given to analyze is a usage error naming file and line.
	code, _, stderr = medtap("analyze", "--config", bad, sample)
	if code != exitUsage || !strings.Contains(stderr, "bad.yaml:4: unknown key syslog.colour") {
		t.Errorf("analyze --config bad: exit %d, %q", code, stderr)
	}
}

// udpCollector receives syslog datagrams on loopback.
type udpCollector struct {
	conn *net.UDPConn
	mu   sync.Mutex
	msgs []string
	done chan struct{}
}

func newUDPCollector(t *testing.T) *udpCollector {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	u := &udpCollector{conn: c, done: make(chan struct{})}
	go func() {
		defer close(u.done)
		buf := make([]byte, 1<<16)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			u.mu.Lock()
			u.msgs = append(u.msgs, string(buf[:n]))
			u.mu.Unlock()
		}
	}()
	t.Cleanup(func() { c.Close(); <-u.done })
	return u
}

func (u *udpCollector) wait(pred func([]string) bool) []string {
	deadline := time.Now().Add(5 * time.Second)
	for {
		u.mu.Lock()
		m := append([]string(nil), u.msgs...)
		u.mu.Unlock()
		if pred(m) || time.Now().After(deadline) {
			return m
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAnalyzeConfigSinks runs analyze with a configuration file that sends
// alerts (CEF) and events (JSON) to syslog and writes a rotated events
// file, with a flag overriding the file's sensor name.
func TestAnalyzeConfigSinks(t *testing.T) {
	udp := newUDPCollector(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "medtap.yaml")
	y := "sensor: from-config\nworkers: 1\nkey_file: pseudonym.key\n" +
		"syslog:\n  url: udp://" + udp.conn.LocalAddr().String() + "\n  format: cef\n  events: true\n" +
		"output:\n  file: live/events.jsonl\n  rotate_size: 4KiB\n  rotate_keep: 2\n"
	if err := os.WriteFile(cfg, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "live"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	code, _, stderr := medtap("analyze", "--config", cfg, "--sensor", "from-flag", "-o", out, "--progress", "never", sample)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// The key file named relative to the configuration is there.
	if _, err := os.Stat(filepath.Join(dir, "pseudonym.key")); err != nil {
		t.Errorf("key file from the configuration: %v", err)
	}
	events, err := os.ReadFile(filepath.Join(out, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	// Asset changes go from the inventory to the events output only
	// (assets.go), not through the event sinks.
	nEvents := strings.Count(string(events), "\n") // asset changes included: they reach every sink
	if !strings.Contains(string(events), `"sensor":"from-flag"`) || strings.Contains(string(events), "from-config") {
		t.Errorf("the --sensor flag did not override the file")
	}
	alerts, _ := os.ReadFile(filepath.Join(out, "alerts.jsonl"))
	nAlerts := strings.Count(string(alerts), "\n")
	if nAlerts == 0 {
		t.Fatal("no alerts to check the syslog sink with")
	}

	msgs := udp.wait(func(m []string) bool { return len(m) >= nEvents+nAlerts })
	var cef, jsonMsgs int
	for _, m := range msgs {
		switch {
		case strings.Contains(m, " alert [origin ") && strings.Contains(m, "] CEF:0|medtap|medtap|"):
			cef++
			if !strings.Contains(m, "|MT-PHI-001|") && !strings.Contains(m, "dvchost=from-flag") {
				t.Errorf("CEF alert without rule or sensor: %s", m)
			}
		case strings.Contains(m, `] {"ts":`):
			jsonMsgs++
		default:
			t.Errorf("unexpected syslog message: %.200s", m)
		}
		for _, v := range []string{"TEST^PATIENT", "TEST0001", "PATIENT^TEST"} {
			if strings.Contains(m, v) {
				t.Errorf("syslog message holds the patient value %q", v)
			}
		}
	}
	if cef != nAlerts || jsonMsgs != nEvents {
		t.Errorf("syslog got %d CEF alerts and %d JSON events, want %d and %d", cef, jsonMsgs, nAlerts, nEvents)
	}

	// The live file holds events and alerts, rotated at 4 KiB, two kept.
	var lines int
	for _, name := range []string{"events.jsonl", "events.jsonl.1", "events.jsonl.2"} {
		f, err := os.Open(filepath.Join(dir, "live", name))
		if err != nil {
			t.Fatalf("rotated file: %v", err)
		}
		st, _ := f.Stat()
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		n := 0
		for sc.Scan() {
			if !strings.HasPrefix(sc.Text(), `{"ts":"`) {
				t.Errorf("%s: not a JSON line: %.80s", name, sc.Text())
			}
			n++
		}
		// Records are never split: only a file of one record may be
		// larger than the rotation size.
		if st.Size() > 4096 && n > 1 {
			t.Errorf("%s is %d bytes in %d lines, over the rotation size", name, st.Size(), n)
		}
		lines += n
		f.Close()
	}
	if _, err := os.Stat(filepath.Join(dir, "live", "events.jsonl.3")); !os.IsNotExist(err) {
		t.Errorf("a third rotated file was kept: %v", err)
	}
	if lines == 0 || lines > nEvents+nAlerts {
		t.Errorf("%d lines in the live files, for %d events and alerts", lines, nEvents+nAlerts)
	}
}

func TestSinkFlagErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--syslog", "smtp://h"}, `--syslog: syslog URL "smtp://h": scheme must be udp, tcp or tls`},
		{[]string{"--syslog-format", "xml"}, `--syslog-format "xml": use cef or json`},
		{[]string{"--rotate-size", "1KiB"}, "--rotate-size 1024 is too small"},
		{[]string{"--rotate-size", "lots"}, `invalid value "lots" for flag -rotate-size`},
		{[]string{"--pyroscope", "localhost:4040"}, `--pyroscope "localhost:4040": use http://HOST:PORT`},
	} {
		code, _, stderr := medtap(append(append([]string{"analyze"}, c.args...), sample)...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, stderr, c.want)
		}
	}
	token := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(token, []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := medtap("analyze", "--pprof", "--listen", "0.0.0.0:0", "--api-token-file", token, "-q", sample)
	if code != exitFailure || !strings.Contains(stderr, "pprof is served on loopback only") {
		t.Errorf("--pprof off loopback: exit %d, %q", code, stderr)
	}
}

// TestConfigKeysHaveFlags: every flag a configuration key stands for is a
// flag of medtap run, so no key is silently ignored by the live sensor.
func TestConfigKeysHaveFlags(t *testing.T) {
	code, _, usage := medtap("run", "-h")
	if code != exitOK {
		t.Fatalf("run -h: exit %d", code)
	}
	for _, f := range config.Flags() {
		if !strings.Contains(usage, "\n  -"+f+" ") && !strings.Contains(usage, "\n  -"+f+"\n") {
			t.Errorf("configuration flag -%s is not a flag of medtap run", f)
		}
	}
}
