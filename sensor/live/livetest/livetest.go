// Package livetest builds throwaway network namespaces joined by a veth
// pair for the live capture's tests and benchmark: names are prefixed
// "mtlive-" and random, and everything is removed when the test ends, even
// on failure.
package livetest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Pair is two namespaces, A and B, joined by veth IfA–IfB, addressed
// AddrA and AddrB (a /24), IPv6 off so no stray neighbour discovery.
type Pair struct {
	A, B         string
	IfA, IfB     string
	AddrA, AddrB string
}

// Require skips the test unless it runs as root with the named tools.
func Require(t testing.TB, tools ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces, AF_PACKET)")
	}
	for _, tool := range append([]string{"ip"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (Debian: %s)", tool, debianPackage(tool))
		}
	}
}

func debianPackage(tool string) string {
	switch tool {
	case "ip":
		return "iproute2"
	case "storescu", "storescp":
		return "dcmtk"
	case "ethtool", "tcpdump", "python3", "curl":
		return tool
	}
	return tool
}

// NewPair creates the namespaces and the veth pair; cleanup is registered
// on t before anything is created.
func NewPair(t testing.TB) *Pair {
	t.Helper()
	var b [3]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	p := &Pair{
		A: "mtlive-" + id + "-a", B: "mtlive-" + id + "-b",
		IfA: "mtl" + id + "a", IfB: "mtl" + id + "b",
		AddrA: "10.213.7.1", AddrB: "10.213.7.2",
	}
	t.Cleanup(func() {
		_ = exec.Command("ip", "netns", "del", p.A).Run()
		_ = exec.Command("ip", "netns", "del", p.B).Run()
		_ = exec.Command("ip", "link", "del", p.IfA).Run()
	})
	steps := [][]string{
		{"netns", "add", p.A},
		{"netns", "add", p.B},
		{"link", "add", p.IfA, "type", "veth", "peer", "name", p.IfB},
		{"link", "set", p.IfA, "netns", p.A},
		{"link", "set", p.IfB, "netns", p.B},
	}
	for _, s := range steps {
		MustRun(t, "ip", s...)
	}
	for _, x := range []struct{ ns, ifc, addr string }{{p.A, p.IfA, p.AddrA}, {p.B, p.IfB, p.AddrB}} {
		MustRun(t, "ip", "netns", "exec", x.ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1")
		MustRun(t, "ip", "netns", "exec", x.ns, "sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1")
		MustRun(t, "ip", "-n", x.ns, "addr", "add", x.addr+"/24", "dev", x.ifc)
		MustRun(t, "ip", "-n", x.ns, "link", "set", "lo", "up")
		MustRun(t, "ip", "-n", x.ns, "link", "set", x.ifc, "up")
	}
	return p
}

// NoOffloads turns segmentation and receive coalescing off on both ends,
// so captures see frames as a physical link carries them. Skipped quietly
// without ethtool.
func (p *Pair) NoOffloads(t testing.TB) {
	if _, err := exec.LookPath("ethtool"); err != nil {
		return
	}
	for _, x := range [][2]string{{p.A, p.IfA}, {p.B, p.IfB}} {
		MustRun(t, "ip", "netns", "exec", x[0], "ethtool", "-K", x[1], "tso", "off", "gso", "off", "gro", "off")
	}
}

// Cmd prepares name args... in namespace ns.
func Cmd(ns, name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns, name}, args...)...)
}

// MustRun runs a command and fails the test with its output on error.
func MustRun(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// In runs fn on a thread switched into namespace ns, so sockets fn opens
// live there (and stay there after the thread switches back).
func In(ns string, fn func() error) error {
	runtime.LockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer self.Close()
	target, err := os.Open("/var/run/netns/" + ns)
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("setns %s: %w", ns, err)
	}
	ferr := fn()
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread stays locked, so the runtime retires it with the
		// goroutine instead of reusing it in the wrong namespace.
		return fmt.Errorf("setns back: %w", err)
	}
	runtime.UnlockOSThread()
	return ferr
}
