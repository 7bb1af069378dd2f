package api

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medtap/medtap/sensor/metrics"
)

const testToken = "0123456789abcdef0123456789abcdef"

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// selfSigned writes a certificate for 127.0.0.1 and its key, made here.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "medtap test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile = writeFile(t, "cert.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	keyFile = writeFile(t, "key.pem", string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})))
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestSecurityOptions(t *testing.T) {
	good := writeFile(t, "token", testToken+"\n")
	short := writeFile(t, "short", "abc\n")
	two := writeFile(t, "two", testToken+"\n"+testToken+"\n")
	cert, key, _ := selfSigned(t)
	for _, c := range []struct {
		sec  Security
		err  string // substring; "" for success
		auth bool
		tls  bool
	}{
		{Security{Addr: "127.0.0.1:9797"}, "", false, false},
		{Security{Addr: "[::1]:9797"}, "", false, false},
		{Security{Addr: "localhost:9797"}, "", false, false},
		{Security{Addr: "0.0.0.0:9797"}, "--api-token-file", false, false},
		{Security{Addr: ":9797"}, "--api-token-file", false, false},
		{Security{Addr: "sensor.example:9797"}, "--api-token-file", false, false},
		{Security{Addr: "10.1.2.3:9797", TokenFile: good}, "", true, false},
		{Security{Addr: "10.1.2.3:9797", TokenFile: short}, "shorter than", false, false},
		{Security{Addr: "10.1.2.3:9797", TokenFile: two}, "one token", false, false},
		{Security{Addr: "10.1.2.3:9797", TokenFile: "/nonexistent/token"}, "--api-token-file", false, false},
		{Security{Addr: "10.1.2.3:9797", TokenFile: good, CertFile: cert, KeyFile: key}, "", true, true},
		{Security{Addr: "127.0.0.1:0", CertFile: cert}, "both", false, false},
		{Security{Addr: "127.0.0.1:0", CertFile: key, KeyFile: cert}, "--tls-cert", false, false},
	} {
		opt, _, err := c.sec.Options()
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%+v: error %v, want one line containing %q", c.sec, err, c.err)
			}
			continue
		}
		if err != nil || (opt.Wrap != nil) != c.auth || (opt.TLS != nil) != c.tls {
			t.Errorf("%+v: wrap %v tls %v err %v", c.sec, opt.Wrap != nil, opt.TLS != nil, err)
		}
	}
}

func TestBearerToken(t *testing.T) {
	opt, auth, err := Security{Addr: "10.0.0.1:1", TokenFile: writeFile(t, "t", testToken)}.Options()
	if err != nil {
		t.Fatal(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	h := opt.Wrap(ok)
	for _, c := range []struct {
		path, header string
		code         int
	}{
		{"/api/v1/assets", "", 401},
		{"/api/v1/assets", "Bearer " + testToken, 200},
		{"/api/v1/assets", "bearer " + testToken, 200},
		{"/api/v1/assets", "Bearer " + testToken + "x", 401},
		{"/api/v1/assets", "Bearer " + testToken[:31], 401},
		{"/api/v1/assets", "Basic " + testToken, 401},
		{"/metrics", "", 401},
		{"/healthz", "", 200},
		{"/readyz", "", 200},
	} {
		req := httptest.NewRequest("GET", c.path, nil)
		if c.header != "" {
			req.Header.Set("Authorization", c.header)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.code {
			t.Errorf("%s with %q: %d, want %d", c.path, c.header, rec.Code, c.code)
		}
		if rec.Code == 401 && rec.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("401 without WWW-Authenticate")
		}
	}
	if n := auth.Unauthorized(); n != 5 {
		t.Errorf("unauthorized counted %d, want 5", n)
	}
}

// The API through a real TLS listener on the metrics server, with Go's
// client and curl as an independent one.
func TestServeTLSWithToken(t *testing.T) {
	cert, key, pool := selfSigned(t)
	tokenFile := writeFile(t, "token", testToken)
	// Off loopback in spirit (a token is required), on loopback in fact:
	// the test must not listen on the network.
	sec := Security{Addr: "127.0.0.1:0", TokenFile: tokenFile, CertFile: cert, KeyFile: key}
	opt, auth, err := sec.Options()
	if err != nil {
		t.Fatal(err)
	}
	m, tf := fixture()
	opt.Handlers = New(m, tf).Handlers()
	reg := metrics.NewRegistry("test")
	reg.MustRegister(&metrics.OpsCollector{API: auth.Unauthorized})
	srv, err := metrics.ServeWith(sec.Addr, reg, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(t.Context())
	base := "https://" + srv.Addr()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	do := func(method, path string, token bool, body io.Reader) (int, string) {
		req, _ := http.NewRequest(method, base+path, body)
		if token {
			req.Header.Set("Authorization", "Bearer "+testToken)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := do("GET", "/api/v1/assets", false, nil); code != 401 {
		t.Errorf("no token: %d", code)
	}
	if code, body := do("GET", "/api/v1/assets/a07", true, nil); code != 200 || !strings.Contains(body, `"high":1`) {
		t.Errorf("asset: %d %s", code, body)
	}
	if code, _ := do("POST", "/api/v1/assets", true, strings.NewReader("{}")); code != 405 {
		t.Errorf("POST: %d, want 405", code)
	}
	if code, body := do("GET", "/metrics", true, nil); code != 200 || !strings.Contains(body, "medtap_api_unauthorized_requests_total 1") {
		t.Errorf("metrics: %d, 401s not counted:\n%.2000s", code, body)
	}
	// Plain HTTP to the TLS port is refused.
	if resp, err := http.Get("http://" + srv.Addr() + "/healthz"); err == nil {
		if resp.StatusCode == 200 {
			t.Error("plain HTTP served on the TLS listener")
		}
		resp.Body.Close()
	}

	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed (Debian package curl); skipping the independent client")
	}
	run := func(args ...string) string {
		out, err := exec.Command(curl, append([]string{"-sS", "--cacert", cert, "-o", "/dev/null", "-w", "%{http_code}"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %v: %v %s", args, err, out)
		}
		return string(out)
	}
	if got := run(base + "/api/v1/alerts?severity=high"); got != "401" {
		t.Errorf("curl without token: %s", got)
	}
	if got := run("-H", "Authorization: Bearer "+testToken, base+"/api/v1/alerts?severity=high"); got != "200" {
		t.Errorf("curl with token: %s", got)
	}
	out, err := exec.Command(curl, "-sS", "--cacert", cert, "--oauth2-bearer", testToken, base+"/api/v1/flows/top?limit=2").Output()
	if err != nil || !strings.Contains(string(out), `"bytes":2900`) {
		t.Errorf("curl flows: %v %s", err, out)
	}
	if auth.Unauthorized() != 2 {
		t.Errorf("unauthorized %d, want 2", auth.Unauthorized())
	}
}
