package carve

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medtap/medtap/sensor/capture"
)

const pcaps = "../../pcaps"

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// tsharkFrames lists "epoch len" of the frames of file that match filter,
// plus the fragments tshark reassembled into them (ip.fragment and
// ipv6.fragment name those frames). tshark is the independent decoder.
func tsharkFrames(t *testing.T, file, filter string) []string {
	t.Helper()
	sel := map[int]bool{}
	if filter != "" {
		out := runTshark(t, "-r", file, "-Y", filter, "-T", "fields", "-E", "separator=/t",
			"-e", "frame.number", "-e", "ip.fragment", "-e", "ipv6.fragment")
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			for _, f := range strings.FieldsFunc(line, func(r rune) bool { return r == '\t' || r == ',' }) {
				n, err := strconv.Atoi(f)
				if err != nil {
					t.Fatalf("tshark field %q: %v", f, err)
				}
				sel[n] = true
			}
		}
	}
	out := runTshark(t, "-r", file, "-T", "fields", "-E", "separator=/t",
		"-e", "frame.number", "-e", "frame.time_epoch", "-e", "frame.len")
	var frames []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(line, "\t")
		n, _ := strconv.Atoi(f[0])
		if filter == "" || sel[n] {
			frames = append(frames, f[1]+" "+f[2])
		}
	}
	return frames
}

func runTshark(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("tshark", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %v: %v: %s", args, err, stderr.String())
	}
	return string(out)
}

func linkOf(t *testing.T, file string) uint32 {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil || len(b) < 24 {
		t.Fatalf("read %s: %v", file, err)
	}
	return binary.LittleEndian.Uint32(b[20:24])
}

// TestCarveAgainstTshark carves flows from the committed captures and
// checks, with tshark, that the carved file holds exactly the frames a
// display filter for the flow selects in the original (with the fragments
// of its datagrams), with the same timestamps and lengths.
func TestCarveAgainstTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed (Debian package tshark): the independent check needs it")
	}
	cases := []struct {
		name   string
		file   string
		target Target
		filter string
		link   uint32
		frags  int
	}{
		{"ipv4 fragments", "ip-fragments.pcap", Target{Proto: 17, Client: ap("10.99.1.1:48963"), Server: ap("10.99.1.2:5005")},
			"udp.port==48963 && udp.port==5005 && ip", 1, 10},
		{"ipv6 fragments", "ip-fragments.pcap", Target{Proto: 17, Client: ap("[fd99::1]:45954"), Server: ap("[fd99::2]:5006")},
			"udp.port==45954 && udp.port==5006 && ipv6", 1, 10},
		{"one of four flows", "dicom-corpus.pcap", Target{Proto: 6, Client: ap("127.0.0.1:54800"), Server: ap("127.0.0.1:4242")},
			"tcp.port==54800 && tcp.port==4242", 1, 0},
		{"reversed ends", "dicom-corpus.pcap", Target{Proto: 6, Client: ap("127.0.0.1:4242"), Server: ap("127.0.0.1:54786")},
			"tcp.port==54786 && tcp.port==4242", 1, 0},
		{"802.1Q", "vlan-qinq.pcap", Target{Proto: 6, VLAN: 100, Client: ap("10.99.100.1:52714"), Server: ap("10.99.100.2:7000")},
			"tcp.port==7000", 1, 0},
		{"QinQ outer tag", "vlan-qinq.pcap", Target{Proto: 6, VLAN: 200, Client: ap("10.99.200.1:38866"), Server: ap("10.99.200.2:7001")},
			"tcp.port==7001", 1, 0},
		{"raw IPv6", "raw-ip.pcap", Target{Proto: 6, Client: ap("[::1]:40352"), Server: ap("[::1]:11112")},
			"tcp.port==40352", 101, 0},
		{"SLL2", "sll2-any.pcap", Target{Proto: 6, Client: ap("127.0.0.1:46604"), Server: ap("127.0.0.1:7000")},
			"tcp.port==7000", 276, 0},
		{"pcapng", "dicom-store.pcapng", Target{Proto: 6, Client: ap("127.0.0.1:45518"), Server: ap("127.0.0.1:4242")},
			"tcp", 1, 0},
		{"gzip", "dicom-store.pcap.gz", Target{Proto: 6, Client: ap("127.0.0.1:45518"), Server: ap("127.0.0.1:4242")},
			"tcp", 1, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := filepath.Join(pcaps, c.file)
			out := filepath.Join(t.TempDir(), "out.pcap")
			f, err := os.Create(out)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Carve([]string{in}, c.target, f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tsharkFrames(t, in, c.filter)
			got := tsharkFrames(t, out, "")
			if len(want) == 0 {
				t.Fatal("tshark selected no frame: bad test filter")
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("carved frames differ from tshark's selection:\ngot  %q\nwant %q", got, want)
			}
			if res.Packets != len(want) || res.Fragments != c.frags {
				t.Errorf("result: %d packets, %d fragments; want %d, %d", res.Packets, res.Fragments, len(want), c.frags)
			}
			if l := linkOf(t, out); l != c.link || res.Link != c.link {
				t.Errorf("link type %d (result %d), want %d", l, res.Link, c.link)
			}
		})
	}
}

func TestCarveNoPackets(t *testing.T) {
	out := &bytes.Buffer{}
	_, err := Carve([]string{filepath.Join(pcaps, "dicom-echo.pcap")},
		Target{Proto: 6, Client: ap("10.1.1.1:1"), Server: ap("10.1.1.2:2")}, out)
	if !errors.Is(err, ErrNoPackets) {
		t.Fatalf("err %v, want ErrNoPackets", err)
	}
	if out.Len() != 0 {
		t.Errorf("%d bytes written for no packet", out.Len())
	}
}

func TestSelectRun(t *testing.T) {
	base := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	at := func(d time.Duration) int64 { return base.Add(d).UnixNano() }
	// Two TCP runs of one key, 20 minutes apart.
	hits := []hit{{0, at(0)}, {1, at(time.Second)}, {5, at(20 * time.Minute)}, {6, at(21 * time.Minute)}}
	idx := func(h []hit) []uint64 {
		var out []uint64
		for _, x := range h {
			out = append(out, x.idx)
		}
		return out
	}
	for _, c := range []struct {
		from, to time.Duration
		want     []uint64
	}{
		{0, time.Second, []uint64{0, 1}},
		{20*time.Minute + 30*time.Second, 20*time.Minute + 30*time.Second, []uint64{5, 6}},
		{0, 21 * time.Minute, []uint64{0, 1, 5, 6}},
		{10 * time.Minute, 11 * time.Minute, nil},
	} {
		got := idx(selectRun(hits, Target{Proto: 6, From: base.Add(c.from), To: base.Add(c.to)}))
		if !slicesEqual(got, c.want) {
			t.Errorf("window %v..%v: got %v, want %v", c.from, c.to, got, c.want)
		}
	}
	// UDP runs split after a minute.
	got := idx(selectRun(hits[:2], Target{Proto: 17, From: base, To: base}))
	if !slicesEqual(got, []uint64{0, 1}) {
		t.Errorf("udp: got %v", got)
	}
}

func slicesEqual(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFindAlert(t *testing.T) {
	lines := strings.Join([]string{
		`{"ts":"2026-11-23T10:00:01.000000000Z","event_type":"flow","src_ip":"10.0.0.1","src_port":1,"dest_ip":"10.0.0.2","dest_port":104,"proto":"tcp","flow":{}}`,
		`{"ts":"2026-11-23T10:00:01.000000000Z","event_type":"alert","src_ip":"10.0.0.1","src_port":40000,"dest_ip":"10.0.0.2","dest_port":104,"proto":"tcp","vlan":7,"community_id":"1:x","alert":{"alert_id":"00112233aabbccdd","rule_id":"MT-PHI-001","first_seen":"2026-11-23T10:00:00.000000000Z","last_seen":"2026-11-23T10:00:01.000000000Z"}}`,
		`{"ts":"2026-11-23T10:00:02.000000000Z","event_type":"alert","alert":{"alert_id":"ffeeddccbbaa0011","rule_id":"MT-PHI-001","rate_limited":true,"first_seen":"2026-11-23T10:00:00.000000000Z","last_seen":"2026-11-23T10:00:01.000000000Z"}}`,
	}, "\n")
	tg, err := FindAlert(strings.NewReader(lines), "00112233aabbccdd")
	if err != nil {
		t.Fatal(err)
	}
	want := Target{Proto: 6, VLAN: 7, Client: ap("10.0.0.1:40000"), Server: ap("10.0.0.2:104"),
		From: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 23, 10, 0, 1, 0, time.UTC)}
	if tg != want {
		t.Errorf("target %+v, want %+v", tg, want)
	}
	if _, err := FindAlert(strings.NewReader(lines), "ffeeddccbbaa0011"); err == nil || !strings.Contains(err.Error(), "rate-limit summary") {
		t.Errorf("rate-limit summary: err %v", err)
	}
	if _, err := FindAlert(strings.NewReader(lines), "0000000000000000"); !errors.Is(err, ErrAlertNotFound) {
		t.Errorf("missing id: err %v", err)
	}
}

func TestFragmentKeyBounds(t *testing.T) {
	// Every prefix of real fragment frames parses or is refused, never
	// panics; the full frames parse.
	for _, l := range []uint32{1, 101, 113, 276, 0, 108, 228, 229} {
		for n := 0; n < 80; n++ {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(i * 37)
			}
			fragmentKey(b, l)
		}
	}
	// An Ethernet IPv4 fragment built by hand: MF set, id 0x1234, UDP.
	eth := make([]byte, 14+20)
	binary.BigEndian.PutUint16(eth[12:], 0x0800)
	ip := eth[14:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[4:], 0x1234)
	binary.BigEndian.PutUint16(ip[6:], 0x2000)
	ip[9] = 17
	copy(ip[12:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
	k, ok := fragmentKey(eth, 1)
	if !ok || k.id != 0x1234 || k.proto != 17 || k.v6 {
		t.Errorf("key %+v ok %v", k, ok)
	}
	binary.BigEndian.PutUint16(ip[6:], 0x4000) // DF only: not a fragment
	if _, ok := fragmentKey(eth, 1); ok {
		t.Error("unfragmented datagram taken for a fragment")
	}
}

// FuzzFragmentKey: hostile frames never panic, and a key is only found in
// a frame long enough to hold it. Seeds: the frames of ip-fragments.pcap.
func FuzzFragmentKey(f *testing.F) {
	r, err := capture.Open(filepath.Join(pcaps, "ip-fragments.pcap"))
	if err != nil {
		f.Fatal(err)
	}
	for {
		p, err := r.Next()
		if err != nil {
			break
		}
		f.Add(append([]byte(nil), p.Data...), p.Link)
	}
	r.Close()
	f.Fuzz(func(t *testing.T, data []byte, link uint32) {
		if _, ok := fragmentKey(data, link); ok && len(data) < 20 {
			t.Fatalf("key from %d bytes", len(data))
		}
	})
}
