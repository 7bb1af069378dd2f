package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeTool is a stand-in for medtap, tcpdump and tshark: it checks the
// arguments medtap-bench passes and reads the capture.
const fakeMedtap = `#!/bin/sh
[ "$1" = analyze ] || { echo "usage: medtap analyze" >&2; exit 2; }
shift
while [ $# -gt 0 ]; do
  case "$1" in
    -o) shift; d=$1 ;;
    --workers) shift; w=$1 ;;
    --disable-parsers) shift; dp=" no-$1" ;;
    *) f=$1 ;;
  esac
  shift
done
[ -d "$d" ] || { echo "no output dir" >&2; exit 3; }
[ -n "$w" ] || { echo "no --workers" >&2; exit 4; }
cat "$f" > /dev/null
echo "medtap $w$dp" >> "$(dirname "$0")/order.log"
echo "fake medtap: $w workers, analyzed $f" >&2
`

const fakeReader = `#!/bin/sh
basename "$0" >> "$(dirname "$0")/order.log"
while [ $# -gt 0 ]; do
  [ "$1" = -r ] && { shift; cat "$1" > /dev/null; }
  echo "$1" >> "$0.args"
  shift
done
`

func writeExec(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// tinyPcap returns a classic pcap with n Ethernet frames of size bytes.
func tinyPcap(n, size int) []byte {
	b := make([]byte, 24)
	binary.LittleEndian.PutUint32(b[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(b[4:], 2)
	binary.LittleEndian.PutUint16(b[6:], 4)
	binary.LittleEndian.PutUint32(b[16:], 65535)
	binary.LittleEndian.PutUint32(b[20:], 1)
	for i := range n {
		var h [16]byte
		binary.LittleEndian.PutUint32(h[0:], uint32(1700000000+i))
		binary.LittleEndian.PutUint32(h[8:], uint32(size))
		binary.LittleEndian.PutUint32(h[12:], uint32(size))
		b = append(b, h[:]...)
		b = append(b, make([]byte, size)...)
	}
	return b
}

func TestCountPcapng(t *testing.T) {
	le := binary.LittleEndian
	block := func(typ uint32, body []byte) []byte {
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
		l := uint32(12 + len(body))
		b := le.AppendUint32(nil, typ)
		b = le.AppendUint32(b, l)
		b = append(b, body...)
		return le.AppendUint32(b, l)
	}
	shb := le.AppendUint32(nil, 0x1a2b3c4d)
	shb = append(shb, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	idb := []byte{1, 0, 0, 0, 0xff, 0xff, 0, 0}
	var f []byte
	f = append(f, block(0x0a0d0d0a, shb)...)
	f = append(f, block(1, idb)...)
	for i := range 5 {
		epb := make([]byte, 20)
		le.PutUint32(epb[12:], uint32(60+i))
		le.PutUint32(epb[16:], uint32(60+i))
		epb = append(epb, make([]byte, 60+i)...)
		f = append(f, block(6, epb)...)
	}
	p := filepath.Join(t.TempDir(), "x.pcapng")
	if err := os.WriteFile(p, f, 0o644); err != nil {
		t.Fatal(err)
	}
	cs, err := countCapture(p)
	if err != nil {
		t.Fatal(err)
	}
	if cs.format != "pcapng" || cs.packets != 5 || cs.bytes != 60+61+62+63+64 {
		t.Fatalf("got %+v", cs)
	}
}

func TestBench(t *testing.T) {
	dir := t.TempDir()
	medtap := writeExec(t, dir, "medtap", fakeMedtap)
	tcpdump := writeExec(t, dir, "tcpdump", fakeReader)
	tshark := writeExec(t, dir, "tshark", fakeReader)
	clean, lossy := filepath.Join(dir, "clean.pcap"), filepath.Join(dir, "lossy.pcap")
	os.WriteFile(clean, tinyPcap(1000, 600), 0o644)
	os.WriteFile(lossy, tinyPcap(990, 600), 0o644)
	jsonPath := filepath.Join(dir, "out.json")
	var stderr bytes.Buffer
	cfg, err := parseFlags([]string{"-medtap", medtap, "-tcpdump", tcpdump, "-tshark", tshark, "-workers", "2", "-runs", "2",
		"-tshark-runs", "1", "-label", "unit", "-clean", clean, "-lossy", lossy, "-json", jsonPath, "-dicom-ports", "104,11112"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep, err := run(context.Background(), cfg, &out, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeJSON(cfg.JSON, rep); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	t.Log("\n" + text)
	for _, want := range []string{`medtap-bench "unit"`, "clean " + clean, "lossy " + lossy, "1000 packets", "medtap analyze",
		"tcpdump", "tshark", "analyze vs tshark speed-up", "analyze vs tcpdump speed-up", "ns/packet, 1 worker",
		"peak RSS", "lossy throughput vs clean", "HL7 share (vs --disable-parsers hl7)", "medtap analyze, no hl7"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if exitCode(rep, false) != 0 {
		t.Error("exit code != 0 with all tools working")
	}
	if len(rep.Files) != 2 || len(rep.Targets) != 6 {
		t.Fatalf("%d files, %d targets", len(rep.Files), len(rep.Targets))
	}
	for _, fr := range rep.Files {
		for _, tr := range fr.Tools {
			want := 2
			if tr.Name == "tshark" {
				want = 1
			}
			if tr.Name == "medtap-nohl7" && fr.Role == "lossy" {
				continue // run on the clean capture only
			}
			if tr.Status != "ok" || tr.Runs != want || tr.BestSec <= 0 || tr.NsPerPkt <= 0 || tr.PeakRSS <= 0 {
				t.Errorf("%s on %s: %+v", tr.Name, fr.Path, tr)
			}
		}
	}
	for _, tg := range rep.Targets {
		if tg.Status != "PASS" && tg.Status != "MISS" {
			t.Errorf("target %s: status %s", tg.Name, tg.Status)
		}
	}
	// Rounds: each command once per round, tshark in the first only.
	round := "medtap 2\nmedtap 1\nmedtap 2 no-hl7\ntcpdump\n"
	lossyRound := "medtap 2\nmedtap 1\ntcpdump\n"
	order, _ := os.ReadFile(filepath.Join(dir, "order.log"))
	if want := round + "tshark\n" + round + lossyRound + "tshark\n" + lossyRound; string(order) != want {
		t.Errorf("run order:\n%s\nwant:\n%s", order, want)
	}
	for _, tg := range rep.Targets {
		if strings.Contains(tg.Name, "tcpdump") || strings.Contains(tg.Name, "HL7") {
			if !strings.Contains(tg.Measured, "median of 2 rounds") {
				t.Errorf("target %s: no paired median in %q", tg.Name, tg.Measured)
			}
		}
		if strings.Contains(tg.Name, "tshark") && strings.Contains(tg.Measured, "median") {
			t.Errorf("target %s: paired median from one round: %q", tg.Name, tg.Measured)
		}
	}
	args, _ := os.ReadFile(tshark + ".args")
	for _, want := range []string{"io,stat,0", "tcp.port==104,dicom", "tcp.port==11112,dicom"} {
		if !strings.Contains(string(args), want) {
			t.Errorf("tshark not given %q: %q", want, args)
		}
	}
	var back Report
	b, _ := os.ReadFile(jsonPath)
	if err := json.Unmarshal(b, &back); err != nil || back.Label != "unit" || back.Files[0].Packets != 1000 {
		t.Fatalf("json: %v %+v", err, back)
	}
}

func TestBenchMissingAndFailing(t *testing.T) {
	dir := t.TempDir()
	bad := writeExec(t, dir, "medtap", "#!/bin/sh\necho 'medtap: analyze: boom' >&2\nexit 1\n")
	f := filepath.Join(dir, "a.pcap")
	os.WriteFile(f, tinyPcap(10, 100), 0o644)
	var out, stderr bytes.Buffer
	cfg, err := parseFlags([]string{"-medtap", bad, "-tcpdump", filepath.Join(dir, "nope"), "-tshark", "none", "-runs", "1", f}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := run(context.Background(), cfg, &out, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if !strings.Contains(text, "n/a") || !strings.Contains(text, "boom") {
		t.Errorf("output:\n%s", text)
	}
	for _, tr := range rep.Files[0].Tools {
		switch tr.Name {
		case "medtap", "medtap-1w", "medtap-nohl7":
			if tr.Status != "error" {
				t.Errorf("%s: status %s", tr.Name, tr.Status)
			}
		default:
			if tr.Status != "n/a" {
				t.Errorf("%s: status %s", tr.Name, tr.Status)
			}
		}
	}
	for _, tg := range rep.Targets {
		if tg.Status != "ERROR" {
			t.Errorf("target %s: %s", tg.Name, tg.Status)
		}
	}
	if exitCode(rep, false) != 1 {
		t.Error("medtap failure does not fail the run")
	}
	// Baselines only.
	cfg.Medtap = "none"
	out.Reset()
	if rep, err = run(context.Background(), cfg, &out, &stderr); err != nil || exitCode(rep, true) != 0 {
		t.Fatalf("-medtap none: %v", err)
	}
	cfg.Medtap = filepath.Join(dir, "missing-medtap")
	if _, err := run(context.Background(), cfg, &out, &stderr); err == nil {
		t.Fatal("missing medtap binary accepted")
	}
}

func TestParseFlagsErrors(t *testing.T) {
	var stderr bytes.Buffer
	for _, args := range [][]string{
		{},                      // no capture
		{"-lossy", "x.pcap"},    // lossy without clean
		{"-workers", "0", "x"},  // bad workers
		{"-dicom-ports", "x,1"}, // bad port
	} {
		if _, err := parseFlags(args, &stderr); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

func TestPairedRatio(t *testing.T) {
	for _, c := range []struct {
		a, b []float64
		want float64
		n    int
	}{
		{nil, []float64{1}, 0, 0},
		{[]float64{2}, []float64{1}, 2, 1},
		// A slow phase in round 2 slows both: the best-vs-best ratio
		// would be 1/0.5 = 2, the paired median is 1.5.
		{[]float64{1.5, 3, 1.2}, []float64{1, 2, 0.5}, 1.5, 3},
		{[]float64{1, 2, 9}, []float64{1, 1}, 1.5, 2}, // only the rounds both ran
	} {
		r, n := pairedRatio(&ToolResult{WallSec: c.a}, &ToolResult{WallSec: c.b})
		if r != c.want || n != c.n {
			t.Errorf("pairedRatio(%v, %v) = %v, %d; want %v, %d", c.a, c.b, r, n, c.want, c.n)
		}
	}
}
