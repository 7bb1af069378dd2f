// Package leaktest lists the synthetic patient values and credentials put
// into medtap's test captures, for the tests that check that no output of
// medtap (events, alerts, logs, metrics, inventory, reports) ever holds one.
// Test support only.
package leaktest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Markers lists the synthetic patient values (and credentials) known to
// be in the test captures: read from the files the captures were made from
// (pcaps/make/dicom/*.dump and pcaps/make/hl7/*.hl7 under root, the
// repository) plus the values the detect cases, captures.sh and the
// remote-access capture scripts put on the wire.
func Markers(root string) ([]string, error) {
	set := map[string]bool{}
	dumps, _ := filepath.Glob(filepath.Join(root, "pcaps/make/dicom/*.dump"))
	tagRe := regexp.MustCompile(`^\((0010,00(?:10|20|30))\) \w\w \[([^\]]+)\]`)
	for _, f := range dumps {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for _, l := range strings.Split(string(b), "\n") {
			if m := tagRe.FindStringSubmatch(l); m != nil {
				set[m[2]] = true
			}
		}
	}
	hl7s, _ := filepath.Glob(filepath.Join(root, "pcaps/make/hl7/*.hl7"))
	for _, f := range hl7s {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for _, l := range strings.Split(string(b), "\n") {
			fs := strings.Split(strings.TrimSpace(l), "|")
			if fs[0] != "PID" || len(fs) < 8 {
				continue
			}
			id, _, _ := strings.Cut(fs[3], "^")
			name := strings.TrimRight(fs[5], "^L")
			set[id], set[name], set[fs[7]] = true, true, true
		}
	}
	for _, must := range []string{"TEST^PATIENT", "TEST0001", "张^三", "TEST0002", "19700101"} {
		if !set[must] {
			return nil, fmt.Errorf("patient markers: %q not extracted", must)
		}
	}
	if len(dumps) == 0 || len(hl7s) == 0 {
		return nil, fmt.Errorf("patient markers: found %d dumps, %d hl7 files, %d values", len(dumps), len(hl7s), len(set))
	}
	// Values of the detect cases and captures (testdata/make/captures.sh).
	for _, v := range []string{
		"ZHAO^WEI", "MT9001", "19900307", // tls-null-hl7.pcap
		"QIAN^LI", "MT7001", "19750203", "pw1234", // MT-PHI-003-astm
		"SUN^MEI", "ZHOU^GANG", "WU^AN", "WU^BO", "WU^CHEN", "MT8001", "MT8003", "MT8005", // MT-READ-001
		"medtap-secret", "medtap-op", // dicom-userid.pcap credentials
		// testdata/make/remote.sh: credentials, ID numbers, phone.
		"medtap-tech", "tel-secret-9", "medtap-ftp", "ftp-secret-3", "medtap-web", "web-secret-7",
		"snmp-auth-pass", "snmp-priv-pass", "110105198506120034", "320502197703042183", "13912345678",
		// pcaps/make/remote/: the remote-access captures' synthetic values.
		"ZHAO_WEI", "11010519491231002X", "6222021234567890128", "medtap-community",
	} {
		set[v] = true
	}
	out := make([]string, 0, len(set))
	for v := range set {
		if v != "" {
			out = append(out, v)
		}
	}
	return out, nil
}
