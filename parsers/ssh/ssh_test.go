package ssh

import (
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/medtap/medtap/parsers/internal/ptest"
	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/parsertest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// OpenSSH 9.2p1 ssh -> sshd on loopback (pcaps/make/remote-ssh.sh).
const capture = "../../pcaps/remote-ssh.pcap"

func TestCaptureGolden(t *testing.T) {
	out := ptest.Capture(t, Factory, capture)
	parsertest.Golden(t, "remote-ssh", out, *update)
	// tshark computes HASSH too: both fingerprints must agree.
	rows := ptest.Oracle(t, capture+".tshark-app.tsv", "ssh")
	for _, h := range append(ptest.Column(rows, 1), ptest.Column(rows, 2)...) {
		if !strings.Contains(out, `"`+h+`"`) {
			t.Errorf("tshark's HASSH %s not in the events:\n%s", h, out)
		}
	}
	if !strings.Contains(out, `"server_software":"OpenSSH_9.2p1"`) {
		t.Errorf("server software missing:\n%s", out)
	}
}

func TestProbe(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want parser.Verdict
	}{
		{"SSH-2.0-OpenSSH_9.2p1\r\n", parser.Match},
		{"SSH-1.99-x\r\n", parser.Match},
		{"SSH", parser.NeedMore},
		{"SSH-", parser.NeedMore},
		{"SSH-x", parser.NoMatch},
		{"GET / HTTP/1.1\r\n", parser.NoMatch},
		{"", parser.NeedMore},
	} {
		if got := probe(parser.ToClient, []byte(tc.in)); got != tc.want {
			t.Errorf("probe(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// kexPacket builds an unencrypted binary packet holding a KEXINIT with the
// given name-lists.
func kexPacket(lists [10]string) []byte {
	p := []byte{msgKexInit}
	p = append(p, make([]byte, 16)...)
	for _, l := range lists {
		p = append(p, byte(len(l)>>24), byte(len(l)>>16), byte(len(l)>>8), byte(len(l)))
		p = append(p, l...)
	}
	p = append(p, 0, 0, 0, 0, 0)
	pad := 8 - (len(p)+5)%8
	if pad < 4 {
		pad += 8
	}
	n := len(p) + pad + 1
	b := []byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n), byte(pad)}
	b = append(b, p...)
	return append(b, make([]byte, pad)...)
}

func TestTable(t *testing.T) {
	lists := [10]string{"curve25519-sha256", "ssh-ed25519", "aes128-ctr", "aes256-ctr", "hmac-sha2-256", "hmac-sha2-512", "none", "zlib", "", ""}
	t0 := time.Unix(1700000000, 0)
	for _, tc := range []struct {
		name  string
		feeds [][2]string // dir ("c"/"s"), bytes
		want  string      // substring of the JSON
		code  string      // an anomaly code expected
	}{
		{"pre-banner lines", [][2]string{{"s", "hello\r\nworld\r\nSSH-2.0-dropbear_2022.83\r\n"}, {"c", "SSH-2.0-PuTTY_Release_0.78\r\n"}, {"c", string(kexPacket(lists))}, {"s", string(kexPacket(lists))}},
			`"client_software":"PuTTY_Release_0.78","server_software":"dropbear_2022.83"`, ""},
		{"hassh lists", [][2]string{{"c", "SSH-2.0-x\r\n" + string(kexPacket(lists))}, {"s", "SSH-2.0-y\r\n" + string(kexPacket(lists))}},
			`"hassh_algorithms":"curve25519-sha256;aes128-ctr;hmac-sha2-256;none","hassh_server":`, ""},
		{"huge packet", [][2]string{{"c", "SSH-2.0-x\r\n\x00\x10\x00\x00"}}, `"truncated":true`, "kexinit_too_long"},
		{"not kexinit", [][2]string{{"c", "SSH-2.0-x\r\n\x00\x00\x00\x0c\x0a\x15" + strings.Repeat("\x00", 10)}}, `"truncated":true`, "first_packet_not_kexinit"},
		{"banner only", [][2]string{{"s", "SSH-2.0-OpenSSH_8.0\r\n"}}, `"server_software":"OpenSSH_8.0","truncated":true`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &parsertest.Recorder{}
			s := newStream(&parser.Flow{Proto: 6}, rec, nil)
			for _, f := range tc.feeds {
				dir := parser.ToServer
				if f[0] == "s" {
					dir = parser.ToClient
				}
				s.Feed(dir, []byte(f[1]), t0)
			}
			s.Close(parser.CloseFIN, t0)
			out := rec.JSON()
			if !strings.Contains(out, tc.want) {
				t.Errorf("want %s in\n%s", tc.want, out)
			}
			if tc.code != "" && !strings.Contains(out, `"code":"`+tc.code+`"`) {
				t.Errorf("want anomaly %s in\n%s", tc.code, out)
			}
		})
	}
}

var codes = map[string]bool{"too_many_pre_banner_lines": true, "banner_too_long": true, "bad_banner": true,
	"kexinit_too_long": true, "bad_kexinit": true, "first_packet_not_kexinit": true, "gap_in_handshake": true}

func FuzzStream(f *testing.F) {
	ptest.Seeds(f, capture)
	f.Fuzz(func(t *testing.T, in []byte) {
		ptest.Fuzz(t, Factory, 6, codes, in)
	})
}
