package dns

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"os/exec"
	"strings"
	"testing"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/parsertest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// lanPcap holds real DNS (dig asking dnsmasq) and mDNS (avahi-daemon
// announcing its host name) between two namespaces
// (pcaps/make/inventory-lan.sh).
const lanPcap = "../../pcaps/inventory-lan.pcap"

func isDNS(c *parsertest.Conversation) bool {
	if c.Flow.Proto != 17 {
		return false
	}
	for _, p := range Factory.Ports {
		if c.Flow.Server.Port() == p {
			return true
		}
	}
	return false
}

func lanEvents(t testing.TB) ([]*parsertest.Conversation, *parsertest.Recorder) {
	t.Helper()
	convs, err := parsertest.Streams(lanPcap)
	if err != nil {
		t.Fatal(err)
	}
	rec := &parsertest.Recorder{}
	var out []*parsertest.Conversation
	for _, c := range convs {
		if !isDNS(c) {
			continue
		}
		out = append(out, c)
		parsertest.Datagrams(rec, Factory, c)
	}
	return out, rec
}

func TestGolden(t *testing.T) {
	_, rec := lanEvents(t)
	if len(rec.Events) == 0 {
		t.Fatal("no DNS events")
	}
	for _, e := range rec.Events {
		if _, ok := e.Body.(*Message); !ok {
			t.Errorf("unexpected %T: %+v", e.Body, e.Body)
		}
	}
	parsertest.Golden(t, "lan", rec.JSON(), *update)
}

// TestAgainstTshark compares the answers' names and addresses with
// tshark's DNS and mDNS dissectors.
func TestAgainstTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed (apt-get install tshark)")
	}
	out, err := exec.Command("tshark", "-r", lanPcap, "-Y", "dns.flags.response == 1", "-T", "fields",
		"-E", "occurrence=a", "-E", "aggregator=,", "-e", "dns.resp.name", "-e", "dns.a").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		names, addrs, _ := strings.Cut(l, "\t")
		// tshark lists every record's name but only A records' addresses;
		// pair the A records: their names are the ones whose answer is an
		// address (the A name comes where its address does in mDNS too).
		ns, as := strings.Split(names, ","), strings.Split(addrs, ",")
		for _, a := range as {
			for _, n := range ns {
				if !strings.Contains(n, "in-addr.arpa") {
					want[n+" "+a]++
					break
				}
			}
		}
	}
	_, rec := lanEvents(t)
	got := map[string]int{}
	for _, e := range rec.Events {
		m := e.Body.(*Message)
		if !m.Response {
			continue
		}
		for _, a := range m.Answers {
			if a.Type == "A" {
				got[a.Name+" "+a.Address]++
			}
		}
	}
	if len(got) == 0 || len(got) != len(want) {
		t.Fatalf("A records: got %v, tshark %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %d, tshark %d", k, got[k], n)
		}
	}
}

func TestProbe(t *testing.T) {
	convs, _ := lanEvents(t)
	for _, c := range convs {
		for _, ch := range c.Chunks {
			if v := probe(ch.Dir, ch.Data); v != parser.Match {
				t.Errorf("probe of a real message: %v", v)
			}
			if n := testing.AllocsPerRun(10, func() { probe(ch.Dir, ch.Data) }); n != 0 {
				t.Errorf("probe allocates %.0f times", n)
			}
		}
	}
	for _, b := range [][]byte{nil, make([]byte, 40), []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")} {
		if probe(parser.ToServer, b) != parser.NoMatch {
			t.Errorf("probe matched %.20q", b)
		}
	}
}

// nbnsRegistration builds a NetBIOS name registration (RFC 1002 4.2.2) as
// Windows and Samba broadcast it: the name in first-level encoding, its
// NB record with the registering address.
func nbnsRegistration(name string, suffix byte, addr [4]byte) []byte {
	var raw [16]byte
	copy(raw[:], strings.Repeat(" ", 15))
	copy(raw[:], name)
	raw[15] = suffix
	enc := []byte{32}
	for _, c := range raw {
		enc = append(enc, 'A'+c>>4, 'A'+c&15)
	}
	enc = append(enc, 0)
	b := []byte{0x12, 0x34, 0x29, 0x10, 0, 1, 0, 0, 0, 0, 0, 1}
	b = append(b, enc...)
	b = append(b, 0, 0x20, 0, 1)
	b = append(b, 0xc0, 12, 0, 0x20, 0, 1, 0, 0, 0x0e, 0x10, 0, 6, 0, 0)
	return append(b, addr[:]...)
}

func TestNBNS(t *testing.T) {
	b := nbnsRegistration("ULTRASOUND-3", 0x00, [4]byte{10, 99, 7, 9})
	if probe(parser.ToServer, b) != parser.Match {
		t.Fatal("probe does not match a NetBIOS registration")
	}
	m, code := Decode("nbns", b)
	if code != "" || m.Opcode != "registration" || len(m.Answers) != 1 {
		t.Fatalf("%q %+v", code, m)
	}
	if a := m.Answers[0]; a.Name != "ULTRASOUND-3" || a.NBSuffix != "00" || a.Address != "10.99.7.9" || a.Type != "NB" {
		t.Errorf("record %+v", a)
	}
}

// TestHostile: compression loops, pointers forward, names past the
// datagram and huge counts end in an anomaly, never a hang or a panic.
func TestHostile(t *testing.T) {
	hdr := func(qd, an uint16) []byte {
		b := make([]byte, 12)
		binary.BigEndian.PutUint16(b[4:], qd)
		binary.BigEndian.PutUint16(b[6:], an)
		b[2] = 0x80
		return b
	}
	cases := []struct {
		name string
		b    []byte
		code string
	}{
		{"pointer to itself", append(hdr(1, 0), 0xc0, 12, 0, 1, 0, 1), "question_truncated"},
		{"pointer forward", append(hdr(1, 0), 0xc0, 20, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0), "question_truncated"},
		{"label past the end", append(hdr(1, 0), 60, 'a'), "question_truncated"},
		{"record past the end", append(hdr(0, 1), 0, 0, 1, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 1), "record_truncated"},
		{"count too large", func() []byte { b := hdr(0, 0); binary.BigEndian.PutUint16(b[6:], MaxCount+1); return b }(), "count_too_large"},
		{"short", []byte{1, 2, 3}, "message_too_short"},
	}
	for _, c := range cases {
		_, code := Decode("dns", c.b)
		if code != c.code {
			t.Errorf("%s: %q, want %q", c.name, code, c.code)
		}
		if probe(parser.ToServer, c.b) == parser.Match {
			t.Errorf("%s: probe matched", c.name)
		}
	}
	// Past MaxRecords, records are counted, not kept.
	b := hdr(0, MaxRecords+5)
	for i := 0; i < MaxRecords+5; i++ {
		b = append(b, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 10, 0, 0, byte(i))
	}
	m, code := Decode("mdns", b)
	if code != "too_many_records" || len(m.Answers) != MaxRecords || m.Dropped != 5 {
		t.Errorf("too many records: %q, %d kept, %d dropped", code, len(m.Answers), m.Dropped)
	}
}

func FuzzDecode(f *testing.F) {
	convs, _ := lanEvents(f)
	for _, c := range convs {
		for _, ch := range c.Chunks {
			f.Add(ch.Data)
		}
	}
	f.Add(nbnsRegistration("PUMP-7", 0x20, [4]byte{10, 0, 0, 7}))
	f.Fuzz(func(t *testing.T, b []byte) {
		probe(parser.ToServer, b)
		for _, proto := range []string{"dns", "nbns"} {
			m, _ := Decode(proto, b)
			if m == nil {
				continue
			}
			if len(m.Questions) > MaxQuestions || len(m.Answers) > MaxRecords {
				t.Fatalf("limits not applied: %d questions, %d records", len(m.Questions), len(m.Answers))
			}
			for _, a := range m.Answers {
				if len(a.Name) > MaxNameLen || len(a.Target) > MaxNameLen {
					t.Fatalf("name longer than %d", MaxNameLen)
				}
			}
			if _, err := json.Marshal(m); err != nil {
				t.Fatal(err)
			}
		}
	})
}
