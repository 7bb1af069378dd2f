// Package natstest runs a real nats-server (Debian's nats-server, with
// JetStream) on a loopback port for tests, and stops and restarts it on the
// same port and store to test outages. Tests skip when it is not installed.
package natstest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// startTimeout bounds how long the server may take to accept connections.
const startTimeout = 10 * time.Second

// stopTimeout bounds a graceful stop before the server is killed.
const stopTimeout = 10 * time.Second

// Server is a nats-server process.
type Server struct {
	t    testing.TB
	bin  string
	Port int
	Dir  string // JetStream store directory (kept across restarts)
	cmd  *exec.Cmd
}

// Start runs nats-server -js on a free loopback port, or skips the test
// when nats-server is not installed. It is stopped when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		t.Skip("nats-server not installed (Debian package nats-server); skipping the JetStream test")
	}
	s := &Server{t: t, bin: bin, Dir: t.TempDir(), Port: freePort(t)}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// URL is the client URL.
func (s *Server) URL() string { return "nats://127.0.0.1:" + strconv.Itoa(s.Port) }

// Start (re)starts the server on its port and store.
func (s *Server) Start() {
	s.t.Helper()
	if s.cmd != nil {
		return
	}
	cmd := exec.Command(s.bin, "-js", "-a", "127.0.0.1", "-p", strconv.Itoa(s.Port), "-sd", s.Dir)
	log, err := os.OpenFile(filepath.Join(s.Dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		s.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		s.t.Fatalf("nats-server: %v", err)
	}
	log.Close()
	s.cmd = cmd
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.Port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.Stop()
	b, _ := os.ReadFile(filepath.Join(s.Dir, "server.log"))
	s.t.Fatalf("nats-server did not start on port %d:\n%s", s.Port, b)
}

// Stop stops the server and waits for it: SIGTERM, as a service manager
// stops it (JetStream flushes what it acknowledged), SIGKILL if it lingers.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(stopTimeout):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
