// Package ptest is the test kit shared by the remote-access and IT protocol
// parsers (ssh, rdp, vnc, telnet, ftp, http, smb, snmp, syslog, tftp,
// teamviewer, anydesk): golden files from a capture with chunking
// invariance, a check that no synthetic secret or patient value reaches
// the JSON, the tshark oracle reader, and the fuzz input encoding.
package ptest

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/parsertest"
)

// Secrets are the synthetic values the capture scripts put on the wire
// (pcaps/make/remote/common.sh): none may appear in a parser's JSON.
var Secrets = []string{
	"ZHAO^WEI", "ZHAO_WEI", "MT9001", "11010519491231002X", "13912345678",
	"6222021234567890128", "medtap-op", "medtap-secret", "medtap-community",
}

// Capture replays every flow of a capture into the factory and returns the
// events of all flows, one per line. TCP flows are checked for chunking
// invariance; UDP flows are fed datagram by datagram.
func Capture(t *testing.T, f parser.Factory, path string) string {
	t.Helper()
	convs, err := parsertest.Streams(path)
	if err != nil {
		t.Skipf("capture %s: %v (make it with pcaps/make)", path, err)
	}
	var b strings.Builder
	for _, c := range convs {
		var rec *parsertest.Recorder
		if c.Flow.Proto == 17 {
			rec = &parsertest.Recorder{}
			parsertest.Datagrams(rec, f, c)
		} else {
			rec = parsertest.CheckChunking(t, f, c)
		}
		b.WriteString(rec.JSON())
	}
	out := b.String()
	NoSecrets(t, out)
	return out
}

// NoSecrets fails t when out holds a synthetic secret or patient value.
func NoSecrets(t testing.TB, out string) {
	t.Helper()
	for _, s := range Secrets {
		if strings.Contains(out, s) {
			t.Errorf("output holds the synthetic value %q", s)
		}
	}
}

// Oracle reads pcaps/NAME.tshark.tsv and returns its rows of one kind,
// each as its fields (without the kind).
func Oracle(t *testing.T, path, kind string) [][]string {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Skipf("oracle %s: %v (run pcaps/make/remote-oracles.sh)", path, err)
	}
	defer fh.Close()
	var rows [][]string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if f[0] == kind {
			rows = append(rows, f[1:])
		}
	}
	return rows
}

// Column gathers the non-empty values of column i of the rows.
func Column(rows [][]string, i int) []string {
	var out []string
	for _, r := range rows {
		if i < len(r) && r[i] != "" {
			out = append(out, r[i])
		}
	}
	return out
}

// Frames encodes conversations as fuzz input: per chunk, a control byte
// (bit 0 direction, bit 1 gap), a big-endian uint16 length, then the bytes
// (none for a gap).
func Frames(convs []*parsertest.Conversation) [][]byte {
	var out [][]byte
	for _, c := range convs {
		var b []byte
		for _, ch := range c.Chunks {
			d := ch.Data
			if d == nil {
				b = append(b, byte(ch.Dir)|2)
				b = binary.BigEndian.AppendUint16(b, uint16(min(ch.Gap, 0xffff)))
				continue
			}
			for len(d) > 0 {
				n := min(len(d), 0xffff)
				b = append(b, byte(ch.Dir))
				b = binary.BigEndian.AppendUint16(b, uint16(n))
				b = append(b, d[:n]...)
				d = d[n:]
			}
		}
		out = append(out, b)
	}
	return out
}

// Seeds adds the flows of the captures as fuzz seeds.
func Seeds(f *testing.F, paths ...string) {
	for _, p := range paths {
		convs, err := parsertest.Streams(p)
		if err != nil {
			continue
		}
		for _, b := range Frames(convs) {
			f.Add(b)
		}
	}
}

// Fuzz runs one fuzz input through a new stream of the factory and checks
// that every event marshals and that anomalies come from this parser with
// a known code.
func Fuzz(t *testing.T, fac parser.Factory, proto uint8, codes map[string]bool, in []byte) {
	rec := &parsertest.Recorder{}
	s := fac.New(&parser.Flow{Proto: proto}, rec, &parser.Env{ProbeInner: func(parser.Direction, []byte) (parser.Stream, parser.Verdict) { return nil, parser.NoMatch }})
	ts := time.Unix(1700000000, 0)
	for len(in) >= 3 {
		ctl, n := in[0], int(binary.BigEndian.Uint16(in[1:]))
		in = in[3:]
		dir := parser.Direction(ctl & 1)
		if ctl&2 != 0 {
			s.Gap(dir, n, ts)
		} else {
			n = min(n, len(in))
			s.Feed(dir, in[:n], ts)
			in = in[n:]
		}
		ts = ts.Add(time.Millisecond)
	}
	s.Close(parser.CloseFIN, ts)
	for _, e := range rec.Events {
		if a, ok := e.Body.(*parser.Anomaly); ok && (a.Source != fac.Name || !codes[a.Code]) {
			if codes[a.Source+"/"+a.Code] {
				continue
			}
			t.Fatalf("unexpected anomaly %+v", a)
		}
		if _, err := json.Marshal(e.Body); err != nil {
			t.Fatal(err)
		}
	}
}
