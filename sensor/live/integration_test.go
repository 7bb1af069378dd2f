package live_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/medtap/medtap/ebpf/sockfilter"
	"github.com/medtap/medtap/sensor/capture"
	"github.com/medtap/medtap/sensor/decode"
	"github.com/medtap/medtap/sensor/live"
	"github.com/medtap/medtap/sensor/live/livetest"
)

// repoRoot is the module root, from this package's directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(wd, "..", "..")
}

// buildMedtap builds the medtap command without cgo (so it can drop its
// capabilities on every thread).
func buildMedtap(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "medtap")
	cmd := exec.Command("go", "build", "-o", bin, "./sensor/cmd/medtap")
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building medtap: %v\n%s", err, out)
	}
	return bin
}

// waitLine reads r until a line matches, or fails after timeout; the rest
// of r is drained into buf.
func waitLine(t *testing.T, r io.Reader, want string, buf *syncBuf, timeout time.Duration) {
	t.Helper()
	found := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(r)
		sent := false
		for sc.Scan() {
			buf.write(sc.Text() + "\n")
			if !sent && strings.Contains(sc.Text(), want) {
				close(found)
				sent = true
			}
		}
	}()
	select {
	case <-found:
	case <-time.After(timeout):
		t.Fatalf("no %q line after %v; got:\n%s", want, timeout, buf.String())
	}
}

type syncBuf struct {
	b atomic.Pointer[string]
}

func (s *syncBuf) write(line string) {
	for {
		old := s.b.Load()
		var cur string
		if old != nil {
			cur = *old
		}
		n := cur + line
		if s.b.CompareAndSwap(old, &n) {
			return
		}
	}
}

func (s *syncBuf) String() string {
	if p := s.b.Load(); p != nil {
		return *p
	}
	return ""
}

// TestLiveMatchesAnalyze runs real DCMTK storescu → storescp and an MLLP
// exchange (python3-hl7's mllp_send) across two namespaces, captures the
// traffic with `medtap run` and with tcpdump on the same veth end, and
// checks that medtap run wrote the same events as `medtap analyze` on
// tcpdump's file, with no kernel drops; an eBPF filter loaded by the test
// on its own socket counts the same SYN and SYN-ACK per service as the
// capture holds.
func TestLiveMatchesAnalyze(t *testing.T) {
	livetest.Require(t, "storescu", "storescp", "tcpdump", "mllp_send", "python3", "curl")
	root := repoRoot(t)
	medtap := buildMedtap(t)
	p := livetest.NewPair(t)
	p.NoOffloads(t)
	dir := t.TempDir()
	pcap := filepath.Join(dir, "tcpdump.pcap")

	// The test's own eBPF filter and socket, on the same interface.
	var filter *sockfilter.Filter
	var tc *live.Capture
	if err := sockfilter.Probe(); err != nil {
		t.Logf("eBPF unavailable, SYN map check skipped: %v", err)
	} else {
		var err error
		if filter, err = sockfilter.Load(sockfilter.Config{}); err != nil {
			t.Fatal(err)
		}
		defer filter.Close()
		if err := livetest.In(p.B, func() error {
			tc, err = live.Open(live.Config{Interfaces: []string{p.IfB}, Workers: 1, FilterFD: filter.FD(), BlockCount: 4})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		defer tc.Close()
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			src := tc.Sources()[0]
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := src.Read(func(*capture.Packet) {}, 20*time.Millisecond); err != nil {
					return
				}
			}
		}()
		defer func() { close(stop); <-done }()
	}

	// tcpdump, nanosecond timestamps, like the ring's.
	td := startTcpdump(t, p, pcap)

	out := filepath.Join(dir, "live")
	mr, mrOut, mrLog := startRun(t, p, medtap, "--listen", "127.0.0.1:9797", "-o", out)

	exchange(t, p, root, dir)
	time.Sleep(500 * time.Millisecond) // the last frames reach both captures

	metrics, err := livetest.Cmd(p.B, "curl", "-sf", "http://127.0.0.1:9797/metrics").Output()
	if err != nil {
		t.Fatalf("scraping medtap run: %v", err)
	}
	if !bytes.Contains(metrics, []byte("medtap_afpacket_kernel_drops_total")) {
		t.Errorf("no kernel drop counter in the metrics")
	}

	summary := stopRun(t, mr, mrOut, mrLog, td)
	m := regexp.MustCompile(`(\d+) kernel drops, (\d+) queue freezes`).FindStringSubmatch(summary)
	if m == nil {
		t.Fatalf("no capture line in the summary")
	}
	if m[1] != "0" {
		t.Errorf("kernel drops: %s, want 0", m[1])
	}

	an := filepath.Join(dir, "analyze")
	if out, err := exec.Command(medtap, "analyze", "--workers", "2", "-o", an, pcap).CombinedOutput(); err != nil {
		t.Fatalf("medtap analyze: %v\n%s", err, out)
	}
	got := normalized(t, filepath.Join(out, "events.jsonl"))
	want := normalized(t, filepath.Join(an, "events.jsonl"))
	if len(want) == 0 {
		t.Fatal("medtap analyze found no events in the tcpdump capture")
	}
	if d := setDiff(got, want); d != "" {
		t.Errorf("medtap run events differ from medtap analyze on the tcpdump capture:\n%s", d)
	}
	for _, typ := range []string{`"event_type":"dicom"`, `"event_type":"hl7"`} {
		if !strings.Contains(strings.Join(got, "\n"), typ) {
			t.Errorf("no %s event from medtap run", typ)
		}
	}
	gotA, wantA := normalized(t, filepath.Join(out, "alerts.jsonl")), normalized(t, filepath.Join(an, "alerts.jsonl"))
	if d := setDiff(gotA, wantA); d != "" {
		t.Errorf("alerts differ:\n%s", d)
	}

	if filter != nil {
		syns, err := filter.SYNs()
		if err != nil {
			t.Fatal(err)
		}
		gotSYN := map[netip.AddrPort][2]uint64{}
		for _, s := range syns {
			gotSYN[s.Server] = [2]uint64{s.SYN, s.SYNACK}
		}
		wantSYN := synCounts(t, pcap)
		if fmt.Sprint(gotSYN) != fmt.Sprint(wantSYN) {
			t.Errorf("eBPF SYN/SYN-ACK per service %v, capture has %v", gotSYN, wantSYN)
		}
		if len(wantSYN) < 2 {
			t.Errorf("capture has SYNs for %d services, want DICOM and HL7", len(wantSYN))
		}
	}
}

// TestSamplingKeepsMessages runs the same exchange with bulk sampling cut
// down to 512 bytes: the DICOM association is cut to headers in the
// kernel, but the HL7 connection (three messages and their ACKs, past
// 512 bytes) is marked keep-whole as soon as it is recognised, so medtap
// run gives the same HL7 events as medtap analyze on tcpdump's capture.
func TestSamplingKeepsMessages(t *testing.T) {
	livetest.Require(t, "storescu", "storescp", "tcpdump", "mllp_send", "python3")
	if err := sockfilter.Probe(); err != nil {
		t.Skipf("eBPF unavailable: %v", err)
	}
	root := repoRoot(t)
	medtap := buildMedtap(t)
	p := livetest.NewPair(t)
	p.NoOffloads(t)
	dir := t.TempDir()
	pcap := filepath.Join(dir, "tcpdump.pcap")
	td := startTcpdump(t, p, pcap)

	out := filepath.Join(dir, "live")
	mr, mrOut, mrLog := startRun(t, p, medtap, "--ebpf", "on", "--sample-after", "512", "--listen", "", "-o", out)
	exchange(t, p, root, dir)
	time.Sleep(500 * time.Millisecond)
	summary := stopRun(t, mr, mrOut, mrLog, td)
	if m := regexp.MustCompile(`truncate (\d+)`).FindStringSubmatch(summary); m == nil || m[1] == "0" {
		t.Errorf("no frame cut by bulk sampling")
	}
	if !regexp.MustCompile(`[1-9]\d* message-protocol flows kept whole, 0 marks refused`).MatchString(summary) {
		t.Errorf("no flow kept whole")
	}

	an := filepath.Join(dir, "analyze")
	if out, err := exec.Command(medtap, "analyze", "--workers", "2", "-o", an, pcap).CombinedOutput(); err != nil {
		t.Fatalf("medtap analyze: %v\n%s", err, out)
	}
	hl7 := func(lines []string) []string {
		return slices.DeleteFunc(lines, func(l string) bool { return !strings.Contains(l, `"event_type":"hl7"`) })
	}
	got := hl7(normalized(t, filepath.Join(out, "events.jsonl")))
	want := hl7(normalized(t, filepath.Join(an, "events.jsonl")))
	if len(want) != 3 {
		t.Fatalf("medtap analyze found %d HL7 messages in the capture, want 3", len(want))
	}
	if d := setDiff(got, want); d != "" {
		t.Errorf("HL7 events under bulk sampling differ from medtap analyze on the tcpdump capture:\n%s", d)
	}
}

// startTcpdump captures on p's B end into pcap (nanosecond timestamps,
// like the ring's) until it is interrupted, or the test ends.
func startTcpdump(t *testing.T, p *livetest.Pair, pcap string) *exec.Cmd {
	t.Helper()
	td := livetest.Cmd(p.B, "tcpdump", "-i", p.IfB, "-w", pcap, "-U", "--immediate-mode", "-s", "0", "--time-stamp-precision", "nano")
	tdErr, _ := td.StderrPipe()
	if err := td.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = td.Process.Kill(); _ = td.Wait() })
	var tdLog syncBuf
	waitLine(t, tdErr, "listening on", &tdLog, 10*time.Second)
	return td
}

// startRun starts `medtap run` on p's B end with 2 workers and the extra
// flags, and waits until it captures; its stdout and stderr are returned.
func startRun(t *testing.T, p *livetest.Pair, medtap string, flags ...string) (*exec.Cmd, *bytes.Buffer, *syncBuf) {
	t.Helper()
	mr := livetest.Cmd(p.B, medtap, append([]string{"run", "--interface", p.IfB, "--workers", "2"}, flags...)...)
	mrErr, _ := mr.StderrPipe()
	mrOut := &bytes.Buffer{}
	mr.Stdout = mrOut
	if err := mr.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mr.Process.Kill(); _ = mr.Wait() })
	mrLog := &syncBuf{}
	waitLine(t, mrErr, "capturing on", mrLog, 20*time.Second)
	return mr, mrOut, mrLog
}

// stopRun interrupts medtap run, then tcpdump, and returns medtap run's
// summary (its stdout); it fails the test if medtap run exits badly.
func stopRun(t *testing.T, mr *exec.Cmd, mrOut *bytes.Buffer, mrLog *syncBuf, td *exec.Cmd) string {
	t.Helper()
	_ = mr.Process.Signal(syscall.SIGINT)
	if err := mr.Wait(); err != nil {
		t.Fatalf("medtap run: %v\n%s", err, mrLog.String())
	}
	_ = td.Process.Signal(syscall.SIGINT)
	_ = td.Wait()
	summary := mrOut.String()
	t.Logf("medtap run:\n%s%s", mrLog.String(), summary)
	return summary
}

// exchange runs real DCMTK storescu → storescp (two objects) and an MLLP
// exchange (python3-hl7's mllp_send, three messages, to the repository's
// ACK server) from namespace A to B.
func exchange(t *testing.T, p *livetest.Pair, root, dir string) {
	t.Helper()
	// DICOM: storescp in B, storescu from A with two objects.
	scpDir := filepath.Join(dir, "scp")
	if err := os.Mkdir(scpDir, 0o755); err != nil {
		t.Fatal(err)
	}
	scp := livetest.Cmd(p.B, "storescp", "-od", scpDir, "11112")
	if err := scp.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = scp.Process.Kill(); _ = scp.Wait() }()
	// HL7: the repository's MLLP ACK server in B, mllp_send from A.
	srv := livetest.Cmd(p.B, "python3", filepath.Join(root, "pcaps/make/mllp_ack_server.py"), "--host", p.AddrB, "--port", "2575", "--connections", "1", "--timeout", "30")
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	waitListen(t, p.B, "11112")
	waitListen(t, p.B, "2575")

	dcms, _ := filepath.Glob(filepath.Join(root, "parsers/dicom/testdata/charset/*.dcm"))
	if len(dcms) < 2 {
		t.Fatalf("DICOM test files missing under parsers/dicom/testdata/charset")
	}
	if out, err := livetest.Cmd(p.A, "storescu", append([]string{p.AddrB, "11112"}, dcms[:2]...)...).CombinedOutput(); err != nil {
		t.Fatalf("storescu: %v\n%s", err, out)
	}
	if out, err := livetest.Cmd(p.A, "timeout", "20", "mllp_send", "--loose", "-f", filepath.Join(root, "pcaps/make/hl7-chinese.hl7"), "-p", "2575", p.AddrB).CombinedOutput(); err != nil {
		t.Fatalf("mllp_send: %v\n%s", err, out)
	}
	_ = srv.Wait()
}

func waitListen(t *testing.T, ns, port string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		out, _ := livetest.Cmd(ns, "ss", "-ltnH").Output()
		if strings.Contains(string(out), ":"+port+" ") {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nothing listens on port %s in %s", port, ns)
}

// normalized reads a JSON-lines file into sorted lines without the fields
// that depend on the capturing host rather than the traffic (timeFields).
func normalized(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		t.Fatal(err)
	}
	var out []string
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		stripTimes(m)
		if a, ok := m["asset"].(map[string]any); ok {
			// The inventory reports an asset's changes once per batch of
			// events it is handed: live runs hand it a batch per round,
			// analyze one for this whole small capture, so intermediate
			// classes differ. What was learnt must not.
			if a["change"] == "class_changed" {
				continue
			}
			out = append(out, fmt.Sprintf("asset %v %v %v %v", a["ip"], a["change"], a["field"], a["value"]))
			continue
		}
		n, _ := json.Marshal(m)
		out = append(out, string(n))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// timeFields depend on when each capture socket stamped a frame: tcpdump's
// socket and medtap's get their own stamps, a microsecond or so apart.
var timeFields = []string{"ts", "start", "end", "duration", "latency", "ack_latency", "first_seen", "last_seen", "alert_id", "sensor"}

func stripTimes(m map[string]any) {
	for _, k := range timeFields {
		delete(m, k)
	}
	for _, v := range m {
		switch x := v.(type) {
		case map[string]any:
			stripTimes(x)
		case []any:
			for _, e := range x {
				if em, ok := e.(map[string]any); ok {
					stripTimes(em)
				}
			}
		}
	}
}

// synCounts counts SYN (by destination) and SYN-ACK (by source) per
// service in a capture, the way the eBPF program keys them.
func synCounts(t *testing.T, path string) map[netip.AddrPort][2]uint64 {
	t.Helper()
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	d := decode.New(decode.DefragLimits{})
	var pk decode.Packet
	out := map[netip.AddrPort][2]uint64{}
	for {
		f, err := r.Next()
		if err != nil {
			break
		}
		if d.Decode(f.Data, f.Link, f.TS, f.WireLen, &pk) != decode.OK || pk.Proto != 6 || pk.TCP.Flags&decode.FlagSYN == 0 {
			continue
		}
		addr := func(a [16]byte) netip.Addr {
			if pk.IPv6 {
				return netip.AddrFrom16(a)
			}
			return netip.AddrFrom4([4]byte(a[:4]))
		}
		if pk.TCP.Flags&decode.FlagACK != 0 {
			k := netip.AddrPortFrom(addr(pk.Src), pk.SrcPort)
			c := out[k]
			c[1]++
			out[k] = c
		} else {
			k := netip.AddrPortFrom(addr(pk.Dst), pk.DstPort)
			c := out[k]
			c[0]++
			out[k] = c
		}
	}
	return out
}

// setDiff lists the lines only one side has, shortened.
func setDiff(run, analyze []string) string {
	var b strings.Builder
	short := func(s string) string {
		if len(s) > 400 {
			return s[:400] + "..."
		}
		return s
	}
	for _, l := range run {
		if !slices.Contains(analyze, l) {
			b.WriteString("only in run:     " + short(l) + "\n")
		}
	}
	for _, l := range analyze {
		if !slices.Contains(run, l) {
			b.WriteString("only in analyze: " + short(l) + "\n")
		}
	}
	if b.Len() == 0 && len(run) != len(analyze) {
		fmt.Fprintf(&b, "%d lines in run, %d in analyze (duplicates)\n", len(run), len(analyze))
	}
	return b.String()
}
