package syslog

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/medtap/medtap/detect"
	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/sensor/event"
)

// testFlow is a DICOM flow between two hospital addresses.
func testFlow() *parser.Flow {
	return &parser.Flow{
		Proto:       6,
		Client:      netip.MustParseAddrPort("10.20.1.15:40412"),
		Server:      netip.MustParseAddrPort("10.20.9.2:104"),
		CommunityID: "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0=",
	}
}

var testTS = time.Date(2026, 11, 23, 9, 30, 15, 123456789, time.UTC)

// testAlert has header and extension text with every character CEF
// escapes.
func testAlert() *detect.Alert {
	return &detect.Alert{
		ID:           "5f1c0e9a2b3d4c6e",
		RuleID:       "phi_cleartext",
		Title:        "Patient data in clear | a\\b = c\nnext line",
		Severity:     "high",
		Category:     "confidentiality",
		Capability:   []string{"TXCF", "NAUT"},
		Threat:       "read",
		DataCategory: "sensitive_medical",
		Protocol:     "dicom",
		Evidence: detect.Evidence{
			Tags:          []string{"(0010,0010)", "(0010,0020)"},
			PHICategories: []string{"name", "id_number"},
			PatientCount:  2,
		},
		Count:     3,
		FirstSeen: "2026-11-23T09:30:14.000000000Z",
		LastSeen:  "2026-11-23T09:30:15.123456789Z",
	}
}

func alertEvent(a *detect.Alert, fl *parser.Flow) *event.Event {
	return &event.Event{TS: testTS, Flow: fl, Sensor: "ward=3\\icu", Body: a}
}

func TestCEFEscaping(t *testing.T) {
	for _, tc := range []struct{ in, header, ext string }{
		{"plain", "plain", "plain"},
		{"a|b", `a\|b`, "a|b"},
		{`a\b`, `a\\b`, `a\\b`},
		{"a=b", "a=b", `a\=b`},
		{"a\nb\rc", "a b c", `a\nb\rc`},
		{"", "", ""},
	} {
		if got := string(appendHeader(nil, tc.in)); got != tc.header {
			t.Errorf("header %q: got %q, want %q", tc.in, got, tc.header)
		}
		if got := string(appendExtValue(nil, tc.in)); got != tc.ext {
			t.Errorf("extension %q: got %q, want %q", tc.in, got, tc.ext)
		}
	}
}

func TestCEFRecord(t *testing.T) {
	got := string(AppendCEF(nil, "1.2|3", alertEvent(testAlert(), testFlow()), testAlert()))
	want := `CEF:0|medtap|medtap|1.2\|3|phi_cleartext|Patient data in clear \| a\\b = c next line|8|` +
		`rt=1795426215123 src=10.20.1.15 dst=10.20.9.2 spt=40412 dpt=104 proto=TCP app=dicom cat=confidentiality cnt=3 ` +
		`start=1795426214000 end=1795426215123 externalId=5f1c0e9a2b3d4c6e dvchost=ward\=3\\icu ` +
		`cs1Label=communityId cs1=1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0\= cs2Label=nmpaCapability cs2=TXCF,NAUT ` +
		`cs3Label=dataCategory cs3=sensitive_medical cs4Label=threat cs4=read cs5Label=phiCategories cs5=name,id_number ` +
		`cs6Label=evidenceFields cs6=(0010,0010),(0010,0020) cn1Label=patientCount cn1=2`
	if got != want {
		t.Errorf("CEF record:\n got %s\nwant %s", got, want)
	}
}

// cefParsed is what testdata/cefparse.py prints per record.
type cefParsed struct {
	Version       string            `json:"version"`
	Vendor        string            `json:"vendor"`
	Product       string            `json:"product"`
	DeviceVersion string            `json:"device_version"`
	SignatureID   string            `json:"signature_id"`
	Name          string            `json:"name"`
	Severity      int               `json:"severity"`
	Extension     map[string]string `json:"extension"`
}

// parseCEF runs the independent Python reader over records.
func parseCEF(t *testing.T, records []string) []cefParsed {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed (Debian package python3): cannot run the independent CEF reader")
	}
	cmd := exec.Command(py, "testdata/cefparse.py")
	cmd.Stdin = strings.NewReader(strings.Join(records, "\n") + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cefparse.py: %v: %s", err, stderr.String())
	}
	var res []cefParsed
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p cefParsed
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		res = append(res, p)
	}
	if len(res) != len(records) {
		t.Fatalf("cefparse.py read %d records, want %d", len(res), len(records))
	}
	return res
}

// TestCEFIndependentReader checks medtap's CEF with a reader written from
// the specification, in another language.
func TestCEFIndependentReader(t *testing.T) {
	a := testAlert()
	v6 := &parser.Flow{Proto: 17, Client: netip.MustParseAddrPort("[fd00::15]:5000"), Server: netip.MustParseAddrPort("[fd00::2]:2575"), CommunityID: "1:x"}
	b := &detect.Alert{RuleID: "unknown_node", Title: "New node", Severity: "critical", Assets: []detect.Asset{{IP: "192.168.7.7", Role: "client"}}, Count: 1}
	recs := []string{
		string(AppendCEF(nil, "dev", alertEvent(a, testFlow()), a)),
		string(AppendCEF(nil, "dev", alertEvent(a, v6), a)),
		string(AppendCEF(nil, "dev", &event.Event{TS: testTS, Body: b}, b)),
	}
	got := parseCEF(t, recs)
	p := got[0]
	if p.Version != "0" || p.Vendor != "medtap" || p.Product != "medtap" || p.DeviceVersion != "dev" ||
		p.SignatureID != "phi_cleartext" || p.Name != "Patient data in clear | a\\b = c next line" || p.Severity != 8 {
		t.Errorf("header: %+v", p)
	}
	want := map[string]string{
		"rt": "1795426215123", "src": "10.20.1.15", "dst": "10.20.9.2", "spt": "40412", "dpt": "104",
		"proto": "TCP", "app": "dicom", "cat": "confidentiality", "cnt": "3",
		"start": "1795426214000", "end": "1795426215123", "externalId": "5f1c0e9a2b3d4c6e",
		"dvchost": "ward=3\\icu", "cs1Label": "communityId", "cs1": "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0=",
		"cs2Label": "nmpaCapability", "cs2": "TXCF,NAUT", "cs3Label": "dataCategory", "cs3": "sensitive_medical",
		"cs4Label": "threat", "cs4": "read", "cs5Label": "phiCategories", "cs5": "name,id_number",
		"cs6Label": "evidenceFields", "cs6": "(0010,0010),(0010,0020)", "cn1Label": "patientCount", "cn1": "2",
	}
	checkExt(t, "ipv4", p.Extension, want)

	ext6 := got[1].Extension
	if ext6["c6a2"] != "fd00::15" || ext6["c6a3"] != "fd00::2" || ext6["c6a2Label"] != "Source IPv6 Address" ||
		ext6["proto"] != "UDP" || ext6["src"] != "" || ext6["dst"] != "" {
		t.Errorf("ipv6 extension: %v", ext6)
	}
	if got[2].Severity != 10 || got[2].Extension["src"] != "192.168.7.7" || got[2].Extension["cnt"] != "1" {
		t.Errorf("flowless alert: %+v", got[2])
	}
}

func checkExt(t *testing.T, name string, got, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: extension %s = %q, want %q", name, k, got[k], v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected extension key %s", name, k)
		}
	}
}

func TestCEFSeverityScale(t *testing.T) {
	prev := -1
	for _, s := range []string{"info", "low", "medium", "high", "critical"} {
		v := CEFSeverity(s)
		if v <= prev || v > 10 {
			t.Errorf("severity %s maps to %d after %d", s, v, prev)
		}
		prev = v
	}
}

// TestEncodeEventAllocs: framing a non-alert event as a syslog message
// allocates nothing once the buffer has grown.
func TestEncodeEventAllocs(t *testing.T) {
	enc, err := NewEncoder(Format{Events: true, Hostname: "sensor", Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	e := &event.Event{TS: testTS, Flow: testFlow(), Body: &flowBody{AppProto: "dicom"}, Line: []byte(`{"ts":"x","event_type":"flow"}`)}
	buf := make([]byte, 0, 1024)
	allocs := testing.AllocsPerRun(1000, func() {
		buf, _ = enc.Encode(buf[:0], e)
	})
	if allocs != 0 {
		t.Errorf("Encode allocates %.1f per event", allocs)
	}
	if !strings.HasPrefix(string(buf), `<134>1 2026-11-23T09:30:15.123456Z sensor medtap `) || !strings.HasSuffix(string(buf), `"] {"ts":"x","event_type":"flow"}`) {
		t.Errorf("message %s", buf)
	}
}
