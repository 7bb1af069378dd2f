package tls

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medtap/medtap/parsers/parser"
)

func TestProbe(t *testing.T) {
	ch := record(ctHandshake, clientHelloMsg(verTLS12, nil, []uint16{0x002f}, nil))
	sh := record(ctHandshake, serverHelloMsg(verTLS12, nil, nil, 0x002f, nil))
	tests := []struct {
		name string
		in   []byte
		want parser.Verdict
	}{
		{"empty", nil, parser.NeedMore},
		{"client hello", ch, parser.Match},
		{"client hello, first 6 bytes", ch[:6], parser.Match},
		{"client hello, first 5 bytes", ch[:5], parser.NeedMore},
		{"server hello", sh, parser.Match},
		{"sslv3 record", []byte{0x16, 3, 0, 0, 40, 1}, parser.Match},
		{"tls 1.0 record", []byte{0x16, 3, 1, 0, 40, 1}, parser.Match},
		{"http", []byte("GET / HTTP/1.1\r\n"), parser.NoMatch},
		{"one wrong byte", []byte{0x17}, parser.NoMatch},
		{"application data", []byte{0x17, 3, 3, 0, 40, 1}, parser.NoMatch},
		{"major version 2", []byte{0x16, 2, 0, 0, 40, 1}, parser.NoMatch},
		{"minor version 5", []byte{0x16, 3, 5, 0, 40, 1}, parser.NoMatch},
		{"record too long", []byte{0x16, 3, 1, 0x48, 0x01, 1}, parser.NoMatch},
		{"record longest", []byte{0x16, 3, 1, 0x48, 0x00, 1}, parser.Match},
		{"empty record", []byte{0x16, 3, 1, 0, 0, 1}, parser.NoMatch},
		{"certificate first", []byte{0x16, 3, 3, 0, 40, 11}, parser.NoMatch},
		{"sslv2 client hello", []byte{0x80, 0x2e, 0x01, 0x00, 0x02}, parser.NoMatch},
		{"dicom a-associate-rq", []byte{0x01, 0x00, 0x00, 0x00, 0x00, 0xcd}, parser.NoMatch},
	}
	for _, tt := range tests {
		for _, dir := range []parser.Direction{parser.ToServer, parser.ToClient} {
			if got := Factory.Probe(dir, tt.in); got != tt.want {
				t.Errorf("%s %v: got %v, want %v", tt.name, dir, got, tt.want)
			}
		}
	}
}

func TestProbeCaptures(t *testing.T) {
	for _, c := range captures {
		f := loadFlows(t, c.name)[0]
		first := f.segs[0].data
		if got := Factory.Probe(f.segs[0].dir, first[:min(len(first), parser.MaxProbeBytes)]); got != parser.Match {
			t.Errorf("%s: probe %v", c.name, got)
		}
	}
}

func TestProbeAllocs(t *testing.T) {
	b := loadFlows(t, "tls12")[0].segs[0].data
	if n := testing.AllocsPerRun(100, func() { Factory.Probe(parser.ToServer, b) }); n != 0 {
		t.Errorf("Probe allocates %v times", n)
	}
}

// TestJA4Spec checks the worked examples of FoxIO's JA4 specification
// (technical_details/JA4.md).
func TestJA4Spec(t *testing.T) {
	for raw, want := range map[string]string{
		"002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9":                                    "8daaf6152771",
		"0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601": "e5627efa2ab1",
		"0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01":                                         "6d807ffa2a79",
		"": ja4Empty,
	} {
		if got := ja4Hash([]byte(raw)); got != want {
			t.Errorf("hash %q = %s, want %s", raw, got, want)
		}
	}
	// The specification's example ClientHello, in wire order.
	msg := clientHelloMsg(verTLS12, nil,
		[]uint16{0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035},
		[]ext{
			{0x001b, nil}, extSNI("example.com"), {0x0033, nil}, extALPNList("h2", "http/1.1"), {0x4469, nil},
			{0x0017, nil}, {0x002d, nil},
			extList16(extSignatureAlgs, 0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601),
			{0x0005, nil}, {0x0023, nil}, {0x0012, nil}, extVersions(0x0304, 0x0303), {0xff01, nil},
			{0x000b, nil}, {0x000a, nil}, {0x0015, nil},
		})
	c, err := parseClientHello(msg[4:])
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ja4(c), "t13d1516h2_8daaf6152771_e5627efa2ab1"; got != want {
		t.Errorf("ja4 = %s, want %s", got, want)
	}
}

func TestJA4ALPN(t *testing.T) {
	for in, want := range map[string]string{
		"":                 "00",
		"h2":               "h2",
		"http/1.1":         "h1",
		"x":                "xx",
		"\xab":             "ab",
		"\xab\xcd":         "ad",
		"\x30\xab":         "3b",
		"\x30\x31\xab\xcd": "3d",
		"\x30\xab\xcd\x31": "01",
		"\x00":             "00",
		"h\xff":            "6f",
		"dicom":            "dm",
		"Z":                "ZZ",
		"/":                "2f",
	} {
		if got := ja4ALPN(in); got != want {
			t.Errorf("ja4ALPN(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestJA4Counts(t *testing.T) {
	ciphers := make([]uint16, 0, 120)
	for i := range 120 {
		ciphers = append(ciphers, uint16(0x0100+i))
	}
	msg := clientHelloMsg(verTLS10, nil, ciphers, []ext{})
	c, err := parseClientHello(msg[4:])
	if err != nil {
		t.Fatal(err)
	}
	if got := ja4(c); !strings.HasPrefix(got, "t10i990000_") || !strings.HasSuffix(got, "_"+ja4Empty) {
		t.Errorf("ja4 = %s", got)
	}
	c.ciphers = []uint16{0x0a0a, 0xfafa}
	if got := ja4(c); got != "t10i000000_"+ja4Empty+"_"+ja4Empty {
		t.Errorf("GREASE-only ja4 = %s", got)
	}
}

func TestGREASE(t *testing.T) {
	var n int
	for v := range 0x10000 {
		if isGREASE(uint16(v)) {
			n++
			if v&0xff != v>>8 || v&0x0f != 0x0a {
				t.Errorf("%#04x is not GREASE", v)
			}
		}
	}
	if n != 16 {
		t.Errorf("%d GREASE values, want 16", n)
	}
}

func TestJA3Strings(t *testing.T) {
	c, err := parseClientHello(greaseHello()[4:])
	if err != nil {
		t.Fatal(err)
	}
	// Same as tshark's JA3 Fullstring for synthetic_grease.pcap.
	if got, want := ja3String(c), "771,4865-4866-4867-49195-49199-255,0-10-11-16-13-35-43,29-23,0"; got != want {
		t.Errorf("ja3 string %s, want %s", got, want)
	}
	s := &serverHello{version: verTLS12, cipher: 0xc02f, exts: []uint16{0xff01, 0x0000, 0x0a0a, 0x000b}}
	if got, want := ja3sString(s), "771,49199,65281-0-11"; got != want {
		t.Errorf("ja3s string %s, want %s", got, want)
	}
}

// fakeInner is a stand-in for the DICOM or HL7 parser behind a NULL cipher:
// it matches plaintext starting with "GET " or "HTTP" and keeps all it gets.
type fakeInner struct {
	probes int
	got    [2][]byte
	gaps   [2]int
	closed int
}

func (f *fakeInner) env() *parser.Env {
	return &parser.Env{ProbeInner: func(dir parser.Direction, first []byte) (parser.Stream, parser.Verdict) {
		f.probes++
		if len(first) < 4 {
			return nil, parser.NeedMore
		}
		if bytes.HasPrefix(first, []byte("GET ")) || bytes.HasPrefix(first, []byte("HTTP")) {
			return f, parser.Match
		}
		return nil, parser.NoMatch
	}}
}

func (f *fakeInner) Feed(dir parser.Direction, data []byte, _ time.Time) {
	f.got[dir] = append(f.got[dir], data...)
}
func (f *fakeInner) Gap(dir parser.Direction, n int, _ time.Time) { f.gaps[dir] += n }
func (f *fakeInner) Close(parser.CloseReason, time.Time)          { f.closed++ }

// TestNullCipherInner checks that the plaintext inside NULL-SHA256 records,
// MAC stripped, reaches the inner parser exactly, however the bytes are cut.
func TestNullCipherInner(t *testing.T) {
	f := loadFlows(t, "null_sha256")[0]
	for how, segs := range map[string][]segment{"packets": f.segs, "whole": asWhole(f.segs), "bytes": asBytes(f.segs)} {
		in := &fakeInner{}
		rec, st := run(segs, in.env())
		if enc, known := st.Encrypted(); enc || !known {
			t.Errorf("%s: Encrypted() = %v, %v; want false, true", how, enc, known)
		}
		if h := handshakeOf(t, rec); !h.NullCipher || h.Encrypted {
			t.Errorf("%s: event %+v", how, h)
		}
		if got, want := string(in.got[parser.ToServer]), "GET /hello.txt HTTP/1.0\r\n\r\n"; got != want {
			t.Errorf("%s: client plaintext %q, want %q", how, got, want)
		}
		resp := string(in.got[parser.ToClient])
		if !strings.HasPrefix(resp, "HTTP/1.0 200 ok\r\n") || !strings.HasSuffix(resp, "\r\n\r\nhello from medtap\n") {
			t.Errorf("%s: server plaintext %q", how, resp)
		}
		if in.closed != 1 || in.gaps != [2]int{} {
			t.Errorf("%s: closed %d gaps %v", how, in.closed, in.gaps)
		}
	}
}

// TestNullCipherNoMatch: when the inner probe refuses both directions the
// probe buffers are dropped and nothing more is offered.
func TestNullCipherNoMatch(t *testing.T) {
	f := loadFlows(t, "null_sha256")[0]
	probes := 0
	env := &parser.Env{ProbeInner: func(parser.Direction, []byte) (parser.Stream, parser.Verdict) {
		probes++
		return nil, parser.NoMatch
	}}
	_, st := run(asBytes(f.segs), env)
	if probes != 2 || !st.innerOff || st.d[0].probe != nil || st.d[1].probe != nil {
		t.Errorf("probes %d innerOff %v", probes, st.innerOff)
	}
	// NeedMore forever: probing stops at MaxProbeBytes.
	f2 := &fakeInner{}
	env2 := &parser.Env{ProbeInner: func(parser.Direction, []byte) (parser.Stream, parser.Verdict) {
		f2.probes++
		return nil, parser.NeedMore
	}}
	segs := nullFlow(t, 3000)
	_, st = run(segs, env2)
	if !st.d[0].probeNo || st.d[0].probe != nil || f2.probes != 1 {
		t.Errorf("probeNo %v after %d probes", st.d[0].probeNo, f2.probes)
	}
}

// nullFlow builds a TLS 1.2 NULL-SHA (MAC 20) flow whose client sends one
// application_data record of n plaintext bytes plus MAC after the handshake.
func nullFlow(t testing.TB, n int) []segment {
	t.Helper()
	ts := synthTS
	ch := record(ctHandshake, clientHelloMsg(verTLS12, nil, []uint16{0x0002}, []ext{}))
	sh := record(ctHandshake, append(serverHelloMsg(verTLS12, nil, nil, 0x0002, []ext{}), handshakeMsg(hsServerHelloDone, nil)...))
	ccs := record(ctChangeCipherSpec, []byte{1})
	body := append(bytes.Repeat([]byte("x"), n), make([]byte, 20)...)
	return []segment{
		{parser.ToServer, ch, ts},
		{parser.ToClient, sh, ts},
		{parser.ToServer, append(slices.Clone(ccs), record(ctApplicationData, body)...), ts},
		{parser.ToClient, ccs, ts},
	}
}

func TestNullMACStripped(t *testing.T) {
	in := &fakeInner{}
	env := &parser.Env{ProbeInner: func(parser.Direction, []byte) (parser.Stream, parser.Verdict) { return in, parser.Match }}
	rec, _ := run(nullFlow(t, 100), env)
	if got := string(in.got[parser.ToServer]); got != strings.Repeat("x", 100) {
		t.Errorf("plaintext %q", got)
	}
	if h := handshakeOf(t, rec); h.Cipher != "TLS_RSA_WITH_NULL_SHA" || !h.NullCipher || !h.Established {
		t.Errorf("event %+v", h)
	}
}

// anomalyCodes lists the anomaly codes a flow emitted, in order.
func anomalyCodes(rec *recorder) []string {
	var out []string
	for _, e := range rec.events {
		if a, ok := e.body.(*parser.Anomaly); ok {
			out = append(out, a.Code)
		}
	}
	return out
}

func TestAnomalies(t *testing.T) {
	ts := synthTS
	okCH := record(ctHandshake, greaseHello())
	cs := func(dir parser.Direction, b ...[]byte) segment {
		return segment{dir: dir, data: bytes.Join(b, nil), ts: ts}
	}
	longMsg := append([]byte{hsCertificate, 0x01, 0x00, 0x01}, make([]byte, maxHandshakeMsg+1)...)
	var longRecs []byte
	for p := longMsg; len(p) > 0; p = p[min(len(p), 16384):] {
		longRecs = append(longRecs, record(ctHandshake, p[:min(len(p), 16384)])...)
	}
	var helloRequests []byte
	for range maxHandshakeMsgs + 1 {
		helloRequests = append(helloRequests, 0, 0, 0, 0)
	}
	sh := serverHelloMsg(verTLS12, nil, nil, 0xc02f, []ext{})
	badCert := handshakeMsg(hsCertificate, vec24(vec24([]byte{0x30, 0x03, 1, 2, 3})))
	badCertMsg := handshakeMsg(hsCertificate, []byte{0, 0, 9, 1})
	truncatedCH := clientHelloMsg(verTLS12, nil, []uint16{0x002f}, nil)
	truncatedCH = append(handshakeMsg(hsClientHello, truncatedCH[4:20]), nil...)
	badSNI := clientHelloMsg(verTLS12, nil, []uint16{0x002f}, []ext{{extServerName, []byte{0, 9, 0}}})
	tests := []struct {
		name      string
		segs      []segment
		want      []string
		handshake bool // a Handshake event is expected
	}{
		{"http instead of tls", []segment{cs(0, []byte("GET / HTTP/1.1\r\n\r\n"))}, []string{"bad_record_type"}, false},
		{"record version 2", []segment{cs(0, []byte{0x16, 2, 0, 0, 1, 1})}, []string{"bad_record_version"}, false},
		{"record too long", []segment{cs(0, []byte{0x16, 3, 1, 0xff, 0xff, 1})}, []string{"record_too_long"}, false},
		{"garbage after hello", []segment{cs(0, okCH, []byte{0xff, 3, 3, 0, 0})}, []string{"bad_record_type"}, true},
		{"handshake too long, skipped in sync", []segment{cs(0, longRecs, okCH)}, []string{"handshake_too_long"}, true},
		{"too many handshake messages", []segment{cs(0, record(ctHandshake, helloRequests), okCH)}, []string{"too_many_handshake_messages"}, false},
		{"truncated client hello", []segment{cs(0, record(ctHandshake, truncatedCH))}, []string{"bad_client_hello"}, false},
		{"malformed sni", []segment{cs(0, record(ctHandshake, badSNI))}, []string{"bad_extension"}, true},
		{"bad certificate", []segment{cs(0, okCH), cs(1, record(ctHandshake, append(slices.Clone(sh), badCert...)))}, []string{"bad_certificate"}, true},
		{"bad certificate message", []segment{cs(0, okCH), cs(1, record(ctHandshake, append(slices.Clone(sh), badCertMsg...)))}, []string{"bad_certificate_message"}, true},
		{"truncated server hello", []segment{cs(1, record(ctHandshake, handshakeMsg(hsServerHello, []byte{3, 3})))}, []string{"bad_server_hello"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for how, segs := range map[string][]segment{"packets": tt.segs, "bytes": asBytes(tt.segs)} {
				rec, _ := run(segs, nil)
				if got := anomalyCodes(rec); !slices.Equal(got, tt.want) {
					t.Errorf("%s: anomalies %v, want %v", how, got, tt.want)
				}
				has := false
				for _, e := range rec.events {
					if _, ok := e.body.(*Handshake); ok {
						has = true
					}
				}
				if has != tt.handshake {
					t.Errorf("%s: handshake event %v, want %v", how, has, tt.handshake)
				}
			}
		})
	}
}

// TestServerDirectionFirst: a flow picked up with only the server's side.
func TestServerDirectionFirst(t *testing.T) {
	f := loadFlows(t, "tls12")[0]
	var segs []segment
	for _, s := range f.segs {
		if s.dir == parser.ToClient {
			segs = append(segs, s)
		}
	}
	if Factory.Probe(parser.ToClient, segs[0].data) != parser.Match {
		t.Fatal("server side does not probe")
	}
	rec, _ := run(segs, nil)
	h := handshakeOf(t, rec)
	if h.Version != "TLSv1.2" || h.Cert == nil || h.JA3S == "" || h.JA4 != "" || h.Established {
		t.Errorf("event %+v", h)
	}
	if !rec.events[0].ts.Equal(segs[0].ts) {
		t.Errorf("ts %v, want the ServerHello's %v", rec.events[0].ts, segs[0].ts)
	}
}

// TestHelloRetryOnly: a HelloRetryRequest is not taken for the ServerHello.
func TestHelloRetryOnly(t *testing.T) {
	f := loadFlows(t, "tls13_hrr")[0]
	rec, st := run(f.segs[:2], nil) // ClientHello; HelloRetryRequest + CCS
	h := handshakeOf(t, rec)
	if !h.HelloRetry || h.Version != "" || h.Cipher != "" || h.CipherID != nil || h.JA3S != "" {
		t.Errorf("event %+v", h)
	}
	if _, known := st.Encrypted(); known {
		t.Error("encryption known after a HelloRetryRequest only")
	}
}

// TestTLS13ClientAlert: a TLS 1.3 client that answers the server's flight
// with an (encrypted, 19-byte) alert did not establish the session.
func TestTLS13ClientAlert(t *testing.T) {
	f := loadFlows(t, "tls13_curl")[0]
	segs := slices.Clone(f.segs[:2]) // ClientHello; ServerHello + encrypted flight
	ts := segs[1].ts
	segs = append(segs, segment{parser.ToServer, append(record(ctChangeCipherSpec, []byte{1}), record(ctApplicationData, make([]byte, 19))...), ts})
	rec, _ := run(segs, nil)
	if h := handshakeOf(t, rec); h.Established || h.Version != "TLSv1.3" {
		t.Errorf("event %+v", h)
	}
	segs[2].data = append(segs[2].data, record(ctApplicationData, make([]byte, 69))...)
	rec, _ = run(segs, nil)
	if h := handshakeOf(t, rec); !h.Established {
		t.Errorf("event %+v", h)
	}
}

func TestGap(t *testing.T) {
	f := loadFlows(t, "tls12")[0]
	t.Run("in handshake", func(t *testing.T) {
		rec := &recorder{}
		st := Factory.New(&parser.Flow{}, rec, nil).(*stream)
		st.Feed(parser.ToServer, f.segs[0].data[:100], f.segs[0].ts)
		st.Gap(parser.ToServer, 10, f.segs[0].ts)
		st.Gap(parser.ToServer, 10, f.segs[0].ts)
		st.Close(parser.CloseRST, f.segs[0].ts)
		if got := anomalyCodes(rec); !slices.Equal(got, []string{"gap_in_handshake"}) {
			t.Errorf("anomalies %v", got)
		}
		if st.d[0].mode != modeWalk {
			t.Errorf("mode %v: a gap inside a record body keeps record sync", st.d[0].mode)
		}
	})
	t.Run("after handshake, in sync", func(t *testing.T) {
		rec := &recorder{}
		st := Factory.New(&parser.Flow{}, rec, nil).(*stream)
		for _, s := range f.segs {
			st.Feed(s.dir, s.data, s.ts)
		}
		recs := st.Stats().Records[parser.ToClient]
		ad := appData(3, 1000)
		st.Feed(parser.ToClient, ad[:500], synthTS)
		st.Gap(parser.ToClient, 400, synthTS)
		st.Feed(parser.ToClient, ad[900:], synthTS)
		if got := anomalyCodes(rec); len(got) != 0 {
			t.Errorf("anomalies %v after the handshake", got)
		}
		if st.d[1].mode != modeWalk || st.Stats().Records[parser.ToClient] != recs+3 {
			t.Errorf("mode %v records %d, want walk and %d", st.d[1].mode, st.Stats().Records[parser.ToClient], recs+3)
		}
	})
	t.Run("across a record header", func(t *testing.T) {
		rec := &recorder{}
		st := Factory.New(&parser.Flow{}, rec, nil).(*stream)
		for _, s := range f.segs {
			st.Feed(s.dir, s.data, s.ts)
		}
		st.Feed(parser.ToClient, appData(1, 100)[:50], synthTS)
		st.Gap(parser.ToClient, 1000, synthTS)
		st.Feed(parser.ToClient, appData(1, 100), synthTS)
		if st.d[1].mode != modeDead {
			t.Errorf("mode %v, want dead", st.d[1].mode)
		}
	})
}

func TestNullGapForwarded(t *testing.T) {
	in := &fakeInner{}
	env := &parser.Env{ProbeInner: func(parser.Direction, []byte) (parser.Stream, parser.Verdict) { return in, parser.Match }}
	segs := nullFlow(t, 100)
	rec := &recorder{}
	st := Factory.New(&parser.Flow{}, rec, env).(*stream)
	for _, s := range segs {
		st.Feed(s.dir, s.data, s.ts)
	}
	// A 60-byte plaintext record plus 20-byte MAC; lose 50 bytes from
	// offset 30 of its body: 30 plaintext bytes and 20 of the MAC.
	r := record(ctApplicationData, append(bytes.Repeat([]byte("y"), 60), make([]byte, 20)...))
	st.Feed(parser.ToServer, r[:5+30], synthTS)
	st.Gap(parser.ToServer, 50, synthTS)
	st.Feed(parser.ToServer, r[5+80:], synthTS)
	st.Feed(parser.ToServer, record(ctApplicationData, append([]byte("zz"), make([]byte, 20)...)), synthTS)
	if got, want := string(in.got[parser.ToServer]), strings.Repeat("x", 100)+strings.Repeat("y", 30)+"zz"; got != want {
		t.Errorf("plaintext %q, want %q", got, want)
	}
	if in.gaps[parser.ToServer] != 30 {
		t.Errorf("gaps %v, want 30 plaintext bytes", in.gaps)
	}
}

func TestStats(t *testing.T) {
	_, st := run(loadFlows(t, "tls12")[0].segs, nil)
	s := st.Stats()
	// From tshark: client 1 handshake, CCS, Finished, 1 app data, 1 alert;
	// server 1 handshake record, ticket, CCS, Finished, 1 app data, 1 alert.
	if s.AppDataRecords != [2]uint64{1, 1} || s.Records[0] < 5 || s.Records[1] < 5 {
		t.Errorf("stats %+v", s)
	}
}

// steadyStream returns a stream past the TLS 1.2 handshake of tls12.pcap.
func steadyStream(t testing.TB) *stream {
	f := loadFlows(t, "tls12")[0]
	st := Factory.New(&parser.Flow{}, &recorder{}, nil).(*stream)
	for _, s := range f.segs[:len(f.segs)-2] {
		st.Feed(s.dir, s.data, s.ts)
	}
	if !st.emitted || st.d[0].mode != modeWalk || st.d[1].mode != modeWalk {
		t.Fatalf("not in steady state: emitted %v modes %v %v", st.emitted, st.d[0].mode, st.d[1].mode)
	}
	return st
}

// TestSteadyStateAllocs: application data after the handshake costs no
// allocation, whole records or cut anywhere.
func TestSteadyStateAllocs(t *testing.T) {
	st := steadyStream(t)
	buf := appData(4, 16384+24)
	n := testing.AllocsPerRun(200, func() {
		st.Feed(parser.ToClient, buf, synthTS)
		for p := buf; len(p) > 0; p = p[min(len(p), 1448):] {
			st.Feed(parser.ToServer, p[:min(len(p), 1448)], synthTS)
		}
	})
	if n != 0 {
		t.Errorf("%v allocations per steady-state Feed", n)
	}
	if st.d[0].mode != modeWalk || st.d[1].mode != modeWalk {
		t.Error("lost record sync")
	}
}

// BenchmarkFeedAppData measures walking TLS application data after the
// handshake: 4 full-size records per Feed, and the same cut at 1448 bytes
// (one Ethernet MSS per Feed, as the pipeline delivers it).
func BenchmarkFeedAppData(b *testing.B) {
	buf := appData(4, 16384+24)
	b.Run("records", func(b *testing.B) {
		st := steadyStream(b)
		b.ReportAllocs()
		b.SetBytes(int64(len(buf)))
		for b.Loop() {
			st.Feed(parser.ToClient, buf, synthTS)
		}
	})
	b.Run("mss", func(b *testing.B) {
		st := steadyStream(b)
		b.ReportAllocs()
		b.SetBytes(int64(len(buf)))
		for b.Loop() {
			for p := buf; len(p) > 0; p = p[min(len(p), 1448):] {
				st.Feed(parser.ToClient, p[:min(len(p), 1448)], synthTS)
			}
		}
	})
}

// BenchmarkHandshake measures one whole TLS 1.2 flow: hellos, certificate
// (x509 parse and signature check), fingerprints and the event.
func BenchmarkHandshake(b *testing.B) {
	f := loadFlows(b, "tls12")[0]
	var n int64
	for _, s := range f.segs {
		n += int64(len(s.data))
	}
	b.ReportAllocs()
	b.SetBytes(n)
	for b.Loop() {
		run(f.segs, nil)
	}
}
