package syslog

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/medtap/medtap/detect"
	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/sensor/event"
)

// rsyslog is a real rsyslogd run by a test: its own configuration on
// loopback (imudp and imtcp, optionally TLS through the gtls driver), no
// system inputs, every message written to a file with its RFC 5424 fields
// split by rsyslog.
type rsyslog struct {
	t       *testing.T
	dir     string
	conf    string
	out     string
	udpPort int
	tcpPort int
	cmd     *exec.Cmd
	caFile  string
}

// fieldsTemplate prints what rsyslog's RFC 5424 parser made of a message,
// one line each: PRI, TIMESTAMP, HOSTNAME, APP-NAME, PROCID, MSGID,
// STRUCTURED-DATA and MSG, separated by a tab.
const fieldsTemplate = `template(name="fields" type="list") {
 property(name="pri") constant(value="\t") property(name="timereported" dateFormat="rfc3339") constant(value="\t")
 property(name="hostname") constant(value="\t") property(name="app-name") constant(value="\t")
 property(name="procid") constant(value="\t") property(name="msgid") constant(value="\t")
 property(name="structured-data") constant(value="\t") property(name="msg") constant(value="\n")
}
`

func freePort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRsyslog starts rsyslogd, or skips the test when it is not
// installed (Debian package rsyslog; TLS needs rsyslog-gnutls).
func startRsyslog(t *testing.T, useTLS bool) *rsyslog {
	t.Helper()
	if _, err := exec.LookPath("rsyslogd"); err != nil {
		t.Skip("rsyslogd not installed (Debian package rsyslog)")
	}
	if useTLS && !gtlsInstalled() {
		t.Skip("rsyslog's gtls driver not installed (Debian package rsyslog-gnutls)")
	}
	dir := t.TempDir()
	r := &rsyslog{t: t, dir: dir, out: filepath.Join(dir, "out.log"),
		udpPort: freePort(t, "udp"), tcpPort: freePort(t, "tcp")}
	var conf strings.Builder
	fmt.Fprintf(&conf, "global(workDirectory=%q maxMessageSize=\"64k\")\n", dir)
	if useTLS {
		ca, cert, key := makeCerts(t, dir)
		r.caFile = ca
		fmt.Fprintf(&conf, "global(defaultNetstreamDriverCAFile=%q defaultNetstreamDriverCertFile=%q defaultNetstreamDriverKeyFile=%q)\n", ca, cert, key)
		conf.WriteString(`module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")` + "\n")
	} else {
		conf.WriteString("module(load=\"imudp\")\nmodule(load=\"imtcp\")\n")
		fmt.Fprintf(&conf, "input(type=\"imudp\" address=\"127.0.0.1\" port=\"%d\")\n", r.udpPort)
	}
	fmt.Fprintf(&conf, "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"%d\")\n", r.tcpPort)
	conf.WriteString(fieldsTemplate)
	fmt.Fprintf(&conf, "*.* action(type=\"omfile\" file=%q template=\"fields\")\n", r.out)
	r.conf = filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(r.conf, []byte(conf.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func gtlsInstalled() bool {
	for _, d := range []string{"/usr/lib/x86_64-linux-gnu/rsyslog", "/usr/lib/aarch64-linux-gnu/rsyslog", "/usr/lib/rsyslog"} {
		if _, err := os.Stat(filepath.Join(d, "lmnsd_gtls.so")); err == nil {
			return true
		}
	}
	return false
}

func (r *rsyslog) start() {
	r.t.Helper()
	r.cmd = exec.Command("rsyslogd", "-n", "-f", r.conf, "-i", filepath.Join(r.dir, "rsyslogd.pid"))
	r.cmd.Stdout = os.Stderr
	r.cmd.Stderr = os.Stderr
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start rsyslogd: %v", err)
	}
	// Ready once the TCP listener accepts.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(r.tcpPort)))
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			r.stop()
			r.t.Fatalf("rsyslogd did not listen on %d: %v", r.tcpPort, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *rsyslog) stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = r.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = r.cmd.Process.Kill()
		<-done
	}
	r.cmd = nil
}

// received is one message as rsyslog parsed it.
type received struct {
	pri, timestamp, hostname, app, procid, msgid, sd, msg string
}

// wait returns the first n messages rsyslog wrote, waiting up to a few
// seconds for them.
func (r *rsyslog) wait(n int) []received {
	r.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := r.read()
		if len(got) >= n || time.Now().After(deadline) {
			if len(got) < n {
				r.t.Fatalf("rsyslog wrote %d messages, want %d", len(got), n)
			}
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *rsyslog) read() []received {
	f, err := os.Open(r.out)
	if err != nil {
		return nil
	}
	defer f.Close()
	var got []received
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		p := strings.SplitN(sc.Text(), "\t", 8)
		if len(p) != 8 {
			r.t.Fatalf("rsyslog line with %d fields: %q", len(p), sc.Text())
		}
		got = append(got, received{p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]})
	}
	return got
}

// makeCerts writes a CA and a server certificate for 127.0.0.1 signed by
// it, made for the test.
func makeCerts(t *testing.T, dir string) (caFile, certFile, keyFile string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "medtap test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("server.pem", "CERTIFICATE", der), write("server-key.pem", "EC PRIVATE KEY", keyDER)
}

// flowBody is a stand-in event body encoded by reflection.
type flowBody struct {
	AppProto string `json:"app_proto"`
	Bytes    int    `json:"bytes"`
}

func (*flowBody) EventType() string { return "flow" }

// testEvents are n alerts and n flow records, alternating, on distinct
// flows (a client port per event).
func testEvents(n int) []*event.Event {
	var evs []*event.Event
	for i := 0; i < n; i++ {
		fl := testFlow()
		fl.Client = netip.AddrPortFrom(fl.Client.Addr(), uint16(30000+i))
		a := testAlert()
		a.Severity = []string{"info", "low", "medium", "high", "critical"}[i%5]
		evs = append(evs, &event.Event{TS: testTS.Add(time.Duration(i) * time.Millisecond), Flow: fl, Sensor: "icu-1", Body: a})
		evs = append(evs, &event.Event{TS: testTS, Flow: fl, Sensor: "icu-1", Body: &flowBody{AppProto: "dicom", Bytes: i}})
	}
	return evs
}

var severityPRI = map[string]string{ // local0 = 16: 16*8 + syslog severity
	"info": "134", "low": "133", "medium": "132", "high": "131", "critical": "130",
}

// checkReceived checks what rsyslog parsed against the events sent.
func checkReceived(t *testing.T, got []received, evs []*event.Event, format Format) {
	t.Helper()
	var cefs []string
	var want []*event.Event
	for _, e := range evs {
		if _, ok := e.Body.(*detect.Alert); ok || format.Events {
			want = append(want, e)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("rsyslog got %d messages, want %d", len(got), len(want))
	}
	host, _ := os.Hostname()
	for i, e := range want {
		g := got[i]
		a, isAlert := e.Body.(*detect.Alert)
		wantPRI := "134"
		if isAlert {
			wantPRI = severityPRI[a.Severity]
		}
		wantSD := fmt.Sprintf(`[origin software="medtap" swVersion="test"][meta sequenceId="%d"]`, i+1)
		wantTS := e.TS.UTC().Truncate(time.Microsecond).Format("2006-01-02T15:04:05.000000Z")
		if g.pri != wantPRI || g.hostname != host || g.app != "medtap" || g.procid != strconv.Itoa(os.Getpid()) ||
			g.msgid != e.Body.EventType() || g.sd != wantSD || !sameInstant(g.timestamp, wantTS) {
			t.Errorf("message %d header: %+v (want pri %s, sd %s, ts %s)", i, g, wantPRI, wantSD, wantTS)
		}
		switch {
		case isAlert && format.Alerts != FormatJSON:
			if want := string(AppendCEF(nil, "test", e, a)); g.msg != want {
				t.Errorf("message %d body:\n got %s\nwant %s", i, g.msg, want)
			}
			cefs = append(cefs, g.msg)
		default:
			line, _ := e.AppendJSON(nil)
			if g.msg != string(line) {
				t.Errorf("message %d body:\n got %s\nwant %s", i, g.msg, line)
			}
		}
	}
	// What rsyslog delivered reads back as CEF with the independent reader.
	if len(cefs) > 0 {
		for i, p := range parseCEF(t, cefs) {
			if p.SignatureID != "phi_cleartext" || p.Extension["dvchost"] != "icu-1" || p.Extension["cs1"] != testFlow().CommunityID {
				t.Errorf("CEF %d read back as %+v", i, p)
			}
		}
	}
}

// sameInstant compares rsyslog's rendering of a timestamp with ours.
func sameInstant(a, b string) bool {
	ta, err1 := time.Parse(time.RFC3339Nano, a)
	tb, err2 := time.Parse(time.RFC3339Nano, b)
	return err1 == nil && err2 == nil && ta.Equal(tb)
}

func sendAll(t *testing.T, o Options, f Format, evs []*event.Event) *Sink {
	t.Helper()
	s, err := Open(o, f, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(evs); err != nil {
		t.Fatal(err)
	}
	if err := s.CloseWithin(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Dropped+st.Failed+st.TooLarge != 0 {
		t.Fatalf("sink lost records: %+v", st)
	}
	return s
}

func TestRsyslogUDPAndTCP(t *testing.T) {
	r := startRsyslog(t, false)
	evs := testEvents(10)
	for _, tc := range []struct {
		name   string
		url    string
		format Format
	}{
		{"udp cef alerts and json events", fmt.Sprintf("udp://127.0.0.1:%d", r.udpPort), Format{Events: true}},
		{"tcp cef alerts", fmt.Sprintf("tcp://127.0.0.1:%d", r.tcpPort), Format{}},
		{"tcp json alerts and events", fmt.Sprintf("tcp://127.0.0.1:%d", r.tcpPort), Format{Alerts: FormatJSON, Events: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.format.Version = "test"
			sendAll(t, Options{URL: tc.url}, tc.format, evs)
			n := 0
			for _, e := range evs {
				if _, ok := e.Body.(*detect.Alert); ok || tc.format.Events {
					n++
				}
			}
			checkReceived(t, r.wait(n), evs, tc.format)
			r.rotateOut()
		})
	}
}

// rotateOut moves rsyslog's output aside (HUP makes it reopen the file).
func (r *rsyslog) rotateOut() {
	r.t.Helper()
	_ = os.Rename(r.out, r.out+".old")
	_ = r.cmd.Process.Signal(syscall.SIGHUP)
	time.Sleep(200 * time.Millisecond)
}

func TestRsyslogTLS(t *testing.T) {
	r := startRsyslog(t, true)
	evs := testEvents(10)
	f := Format{Version: "test", Events: true}
	url := fmt.Sprintf("tls://127.0.0.1:%d", r.tcpPort)
	sendAll(t, Options{URL: url, CAFile: r.caFile}, f, evs)
	checkReceived(t, r.wait(len(evs)), evs, f)

	// A server certificate from another CA is refused: nothing is sent,
	// and the queue gives up at its deadline.
	other, _, _ := makeCerts(t, t.TempDir())
	s, err := Open(Options{URL: url, CAFile: other}, f, 0)
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Write(evs[:2])
	if err := s.CloseWithin(time.Second); err == nil {
		t.Error("untrusted server: Close reported no error")
	}
	if s.Writer.Connects() != 0 || s.Writer.Failures() == 0 {
		t.Errorf("untrusted server: %d connects, %d failures", s.Writer.Connects(), s.Writer.Failures())
	}
}

// TestRsyslogReconnect stops the server mid-stream and starts it again:
// the TCP writer notices, reconnects with backoff, and every record
// queued meanwhile arrives once.
func TestRsyslogReconnect(t *testing.T) {
	r := startRsyslog(t, false)
	f := Format{Version: "test", Events: true}
	s, err := Open(Options{URL: fmt.Sprintf("tcp://127.0.0.1:%d", r.tcpPort)}, f, 0)
	if err != nil {
		t.Fatal(err)
	}
	evs := testEvents(20)
	_ = s.Write(evs[:10])
	r.wait(10)
	r.stop()
	_ = s.Write(evs[10:30])
	time.Sleep(300 * time.Millisecond) // the writer finds the server gone
	r.start()
	_ = s.Write(evs[30:])
	if err := s.CloseWithin(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Written != uint64(len(evs)) || st.Dropped+st.Failed != 0 {
		t.Errorf("stats after reconnect: %+v", st)
	}
	if s.Writer.Connects() < 2 {
		t.Errorf("%d connections, want a reconnect", s.Writer.Connects())
	}
	got := r.wait(len(evs))
	if len(got) != len(evs) {
		t.Fatalf("%d messages after the restart, want %d (none lost or doubled)", len(got), len(evs))
	}
	checkReceived(t, got, evs, f)
}

// TestDeadServerDoesNotBlock: with nothing listening, Write returns at
// once, and what does not fit the queue is dropped and counted.
func TestDeadServerDoesNotBlock(t *testing.T) {
	port := freePort(t, "tcp")
	s, err := Open(Options{URL: fmt.Sprintf("tcp://127.0.0.1:%d", port)}, Format{Events: true}, 8)
	if err != nil {
		t.Fatal(err)
	}
	evs := testEvents(50)
	start := time.Now()
	for i := 0; i < 10; i++ {
		_ = s.Write(evs)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Write took %v with the server down", d)
	}
	if err := s.CloseWithin(200 * time.Millisecond); err == nil {
		t.Error("Close with records left reported no error")
	}
	st := s.Stats()
	if st.Written != 0 || st.Dropped+st.Failed != uint64(10*len(evs)) || st.Dropped < uint64(10*len(evs)-9) {
		t.Errorf("stats: %+v", st)
	}
	if s.Writer.Failures() == 0 {
		t.Error("no failed connection counted")
	}
}

var _ parser.Body = (*flowBody)(nil)
