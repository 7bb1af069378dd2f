package dhcp

import (
	"encoding/json"
	"flag"
	"os/exec"
	"strings"
	"testing"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/parsertest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// lanPcap is a real exchange: busybox udhcpc with dnsmasq in two network
// namespaces (pcaps/make/inventory-lan.sh).
const lanPcap = "../../pcaps/inventory-lan.pcap"

func lanMessages(t *testing.T) ([]*parsertest.Conversation, *parsertest.Recorder) {
	t.Helper()
	convs, err := parsertest.Streams(lanPcap)
	if err != nil {
		t.Fatal(err)
	}
	rec := &parsertest.Recorder{}
	var dhcp []*parsertest.Conversation
	for _, c := range convs {
		if c.Flow.Proto != 17 || (c.Flow.Server.Port() != 67 && c.Flow.Server.Port() != 68) {
			continue
		}
		dhcp = append(dhcp, c)
		parsertest.Datagrams(rec, Factory, c)
	}
	return dhcp, rec
}

func TestGolden(t *testing.T) {
	_, rec := lanMessages(t)
	if len(rec.Events) == 0 {
		t.Fatal("no DHCP events")
	}
	parsertest.Golden(t, "lan", rec.JSON(), *update)
}

// TestAgainstTshark compares each message with tshark's DHCP dissector.
func TestAgainstTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed (apt-get install tshark)")
	}
	out, err := exec.Command("tshark", "-r", lanPcap, "-Y", "dhcp", "-T", "fields", "-E", "separator=|",
		"-e", "dhcp.option.dhcp", "-e", "dhcp.hw.mac_addr", "-e", "dhcp.ip.your", "-e", "dhcp.option.hostname",
		"-e", "dhcp.option.vendor_class_id", "-e", "dhcp.option.request_list_item", "-e", "dhcp.option.requested_ip_address").Output()
	if err != nil {
		t.Fatal(err)
	}
	_, rec := lanMessages(t)
	// tshark lists frames in capture order; the flows' events come per
	// flow. Compare as sets of lines.
	want := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(l, "|")
		types := map[string]string{"1": "discover", "2": "offer", "3": "request", "5": "ack"}
		f[0] = types[f[0]]
		f[1], _, _ = strings.Cut(f[1], ",") // chaddr, then option 61's MAC
		if f[2] == "0.0.0.0" {
			f[2] = ""
		}
		want[strings.Join(f, "|")]++
	}
	for _, e := range rec.Events {
		m, ok := e.Body.(*Message)
		if !ok {
			t.Fatalf("unexpected event %T", e.Body)
		}
		k := strings.Join([]string{m.MessageType, m.ClientMAC, m.YourIP, m.Hostname, m.VendorClass, m.ParameterRequestList, m.RequestedIP}, "|")
		if want[k] == 0 {
			t.Errorf("message not seen by tshark: %s\ntshark: %v", k, want)
		}
		want[k]--
	}
	for k, n := range want {
		if n != 0 {
			t.Errorf("tshark saw %d more of %s", n, k)
		}
	}
}

func TestProbe(t *testing.T) {
	convs, _ := lanMessages(t)
	for _, c := range convs {
		for _, ch := range c.Chunks {
			if v := probe(ch.Dir, ch.Data); v != parser.Match {
				t.Errorf("probe of a real DHCP message: %v", v)
			}
			if n := testing.AllocsPerRun(10, func() { probe(ch.Dir, ch.Data) }); n != 0 {
				t.Errorf("probe allocates %.0f times", n)
			}
		}
	}
	for _, b := range [][]byte{nil, make([]byte, 300), []byte(strings.Repeat("GET / HTTP/1.1\r\n", 30))} {
		if probe(parser.ToServer, b) != parser.NoMatch {
			t.Errorf("probe matched %.20q", b)
		}
	}
}

// TestBrokenOptions: hostile option areas end the walk with an anomaly,
// never a panic or a read past the datagram.
func TestBrokenOptions(t *testing.T) {
	convs, _ := lanMessages(t)
	base := convs[0].Chunks[0].Data
	cases := []struct {
		name string
		opts []byte
		code string
	}{
		{"length past the end", []byte{12, 200, 'a'}, "option_truncated"},
		{"code without length", []byte{12}, "option_truncated"},
		{"too many options", []byte(strings.Repeat("\x0c\x00", MaxOptions+1)), "too_many_options"},
		{"pads then end", []byte{0, 0, 0, 255}, ""},
	}
	for _, c := range cases {
		msg := append(append([]byte{}, base[:MinMessageLen]...), c.opts...)
		m, code := Decode(msg)
		if code != c.code || m == nil {
			t.Errorf("%s: code %q (message %v), want %q", c.name, code, m != nil, c.code)
		}
	}
	if m, code := Decode(base[:MinMessageLen-1]); m != nil || code != "message_too_short" {
		t.Errorf("short datagram: %v %q", m, code)
	}
}

func FuzzDecode(f *testing.F) {
	convs, err := parsertest.Streams(lanPcap)
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range convs {
		if c.Flow.Proto == 17 && (c.Flow.Server.Port() == 67 || c.Flow.Server.Port() == 68) {
			for _, ch := range c.Chunks {
				f.Add(ch.Data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		probe(parser.ToServer, b)
		m, _ := Decode(b)
		if m == nil {
			return
		}
		if _, err := json.Marshal(m); err != nil {
			t.Fatal(err)
		}
		if len(m.ParameterRequestList) > 4*MaxParameterRequest || len(m.ClientID) > 2*MaxClientIDLen {
			t.Fatalf("limits not applied: %d %d", len(m.ParameterRequestList), len(m.ClientID))
		}
	})
}
