package policy

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefault(t *testing.T) {
	p := Default()
	if p.HomeCountry != "CN" || !p.HKMOTWForeign || p.LearningPeriod != 24*time.Hour {
		t.Errorf("default: %+v", p)
	}
	for _, a := range []string{"10.1.2.3", "192.168.0.1", "fd00::1", "127.0.0.1"} {
		if !p.Internal(netip.MustParseAddr(a)) {
			t.Errorf("%s not internal", a)
		}
	}
	if p.Internal(netip.MustParseAddr("8.8.8.8")) {
		t.Error("8.8.8.8 internal")
	}
	if !p.Foreign("HK") || !p.Foreign("US") || p.Foreign("CN") || p.Foreign("") {
		t.Error("Foreign")
	}
	if len(p.HighRiskServices) == 0 || len(p.DICOMTLSPorts) != 1 {
		t.Error("high-risk services or DICOM TLS ports missing")
	}
}

func TestLoadKeepsDefaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "site.yaml")
	os.WriteFile(path, []byte("hk_mo_tw_foreign: false\nlimits:\n  cfind_max_matches: 7\n"), 0o600)
	p, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.Foreign("HK") || !p.Foreign("JP") {
		t.Error("hk_mo_tw_foreign false not applied")
	}
	if p.Limits.CFindMaxMatches != 7 || p.Limits.CMoveMaxSubOperations != 1000 || p.HomeCountry != "CN" {
		t.Errorf("limits or defaults: %+v", p.Limits)
	}
}

func TestLoadErrorsAreOneLine(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"bogus: 1\n", ":1: field bogus not found"},
		{"home_country: CN\nlearning_period: 1x\n", `:2: learning_period "1x" must be a duration`},
		{"dicom_ae_allow:\n  PACS: [10.0.0.300]\n", `:2: bad address or network "10.0.0.300"`},
		{"dicom_ae_allow:\n  PACS: [10.0.0.1]\n  PACS: [10.0.0.2]\n", `:3: AE title "PACS" repeated`},
		{"device_classes:\n  - name: pump\n    colour: red\n", ":3: field colour not found"},
		{"device_classes:\n  - name: pump\n    services: [tcp/99999]\n", `:3: bad service "tcp/99999"`},
		{"rules:\n  MT-PHI-001: {severity: huge}\n", `:2: severity "huge" must be one of`},
		{"limits:\n  cfind_max_matches: 0\n", ":2: cfind_max_matches must be at least 1"},
		{"remote_maintenance:\n  hours: 8-18\n", `:2: hours "8-18" must look like 08:00-18:00`},
		{"home_country: [CN]\n", ":1: expected a single value"},
		{"a: [\n", ":1: did not find expected node content"},
		{"home_country: CN\nhome_country: US\n", `:2: key "home_country" repeated`},
		{"- 1\n", ":1: policy must be a mapping"},
	} {
		path := filepath.Join(t.TempDir(), "p.yaml")
		os.WriteFile(path, []byte(tc.text), 0o600)
		_, err := Load(path)
		if err == nil {
			t.Errorf("%q: no error", tc.text)
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, path+":") || !strings.Contains(msg, tc.want) {
			t.Errorf("%q: got %q, want %q", tc.text, msg, path+tc.want)
		}
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || strings.Contains(err.Error(), "\n") {
		t.Errorf("missing file: %v", err)
	}
}

func TestRemoteMaintenanceHours(t *testing.T) {
	r := RemoteMaintenance{UTCOffset: 8 * time.Hour, StartMinute: 8 * 60, EndMinute: 18 * 60}
	at := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	if !r.InHours(at("2026-01-05T02:00:00Z")) || r.InHours(at("2026-01-05T10:30:00Z")) {
		t.Error("08:00-18:00 at +08:00")
	}
	night := RemoteMaintenance{StartMinute: 22 * 60, EndMinute: 6 * 60}
	if !night.InHours(at("2026-01-05T23:00:00Z")) || night.InHours(at("2026-01-05T12:00:00Z")) {
		t.Error("overnight window")
	}
}

func TestServiceAndLink(t *testing.T) {
	s, err := parseService("tcp/5900-5903")
	if err != nil || !s.Contains(6, 5902) || s.Contains(17, 5902) || s.String() != "tcp/5900-5903" {
		t.Errorf("%v %v", s, err)
	}
	l := Link{Server: netip.MustParsePrefix("10.3.0.9/32"), Port: 2575}
	if !l.Matches(netip.MustParseAddr("10.1.1.1"), netip.MustParseAddr("10.3.0.9"), 2575) || l.Matches(netip.MustParseAddr("10.1.1.1"), netip.MustParseAddr("10.3.0.9"), 2576) {
		t.Error("link")
	}
}
