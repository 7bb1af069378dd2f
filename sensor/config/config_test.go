package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestExample loads the documented example and checks it sets every key
// (so the documentation covers them all) except the ones it shows
// commented out.
func TestExample(t *testing.T) {
	c, err := Load("medtap.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Sensor != "icu-span-1" || c.Workers != 2 || c.Capture.BlockSize != 1<<20 || c.Capture.BlockTimeout != 100*time.Millisecond ||
		c.Output.RotateSize != 100<<20 || c.Syslog.URL != "tls://siem.hospital.example:6514" || c.NATS.BufferBytes != 1<<30 ||
		c.Capture.Promiscuous == nil || !*c.Capture.Promiscuous || !reflect.DeepEqual(c.Capture.IgnoreVLANs, []int{900}) {
		t.Errorf("example loaded as %+v", c)
	}
	set := map[string]bool{}
	for _, k := range c.Keys() {
		set[k] = true
	}
	b, _ := os.ReadFile("medtap.example.yaml")
	for k := range fields {
		if set[k] {
			continue
		}
		// A key left out must at least be documented, commented out.
		leaf := k[strings.LastIndex(k, ".")+1:]
		if !strings.Contains(string(b), "# "+leaf+":") && !strings.Contains(string(b), "#   - ") {
			t.Errorf("key %s neither set nor documented in the example", k)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		yaml, want string
	}{
		{"workers: 2\nbogus: 1\n", "x.yaml:2: unknown key bogus (known here: api, capture, db, evidence, framing, geoip, huge_pages, key_file, max_flows, memory_limit, nats, output, policy, profiling, sensor, syslog, workers)"},
		{"syslog:\n  url: udp://h:514\n  formt: cef\n", "x.yaml:3: unknown key syslog.formt (known in syslog: ca, cert, events, facility, format, key, url)"},
		{"workers: 2\nworkers: 3\n", "x.yaml:2: key workers repeated"},
		{"workers: many\n", `x.yaml:1: workers: "many" is not a whole number`},
		{"workers: 0\n", "x.yaml:1: workers: 0 out of range; use 1..1024"},
		{"capture:\n  block_size: 12 parsecs\n", `x.yaml:2: capture.block_size: "12 parsecs" is not a size like 65536, 512KiB, 100MiB or 1GB`},
		{"capture:\n  block_size: 64KiB\n", "x.yaml:2: capture.block_size: 65536 bytes out of range; use 131072..16777216"},
		{"capture:\n  block_timeout: soon\n", `x.yaml:2: capture.block_timeout: "soon" is not a duration like 100ms, 5s or 1m`},
		{"capture:\n  promiscuous: yes please\n", `x.yaml:2: capture.promiscuous: "yes please" is not true or false`},
		{"capture:\n  ignore_vlans: [10, 5000]\n", "x.yaml:2: capture.ignore_vlans: 5000 out of range; use 1..4094"},
		{"capture:\n  ignore_nets:\n    - 10.0.0.0/8\n    - ten\n", `x.yaml:4: capture.ignore_nets: "ten" is not a network like 10.20.0.0/16 or an address`},
		{"capture: [a]\n", "x.yaml:1: capture must be a mapping of keys to values"},
		{"syslog:\n  url: smtp://h\n", `x.yaml:2: syslog.url: syslog URL "smtp://h": scheme must be udp, tcp or tls`},
		{"syslog:\n  format: xml\n", `x.yaml:2: syslog.format: "xml": use cef or json`},
		{"syslog:\n  facility: local9\n", `x.yaml:2: syslog.facility: "local9" is not a facility; use a name like local0..local7, daemon or security`},
		{"output:\n  rotate_size: 100\n", "x.yaml:2: output.rotate_size: 100 bytes is too small; use 0 (never rotate) or at least 4096"},
		{"evidence: all\n", `x.yaml:1: evidence: "all": use default or masked`},
		{"api:\n  listen: 9797\n", `x.yaml:2: api.listen: "9797" is not HOST:PORT like 127.0.0.1:9797`},
		{"profiling:\n  pyroscope: 127.0.0.1:4040\n", `x.yaml:2: profiling.pyroscope: "127.0.0.1:4040" is not an http:// or https:// URL`},
		{"nats:\n  url: http://x\n", `x.yaml:2: nats.url: "http://x" is not a NATS URL like nats://host:4222 (comma-separated for a cluster)`},
		{"policy: [a, b]\n", "x.yaml:1: policy: expected a single value"},
		{"framing: []\n", "x.yaml:1: framing: empty list; leave the key out instead"},
		{"- a\n- b\n", "x.yaml:1: the configuration must be a mapping of keys to values"},
		{"workers: 2\n  bad: indent\n", "x.yaml:2: mapping values are not allowed in this context"},
		{"sensor: \"unterminated\n", "x.yaml:2: found unexpected end of stream"},
	} {
		_, err := Parse("x.yaml", []byte(tc.yaml))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q:\n got %v\nwant %s", tc.yaml, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error spans lines", tc.yaml)
		}
	}
}

func TestEmptyAndSections(t *testing.T) {
	for _, y := range []string{"", "# nothing\n", "syslog:\n", "capture: {}\n"} {
		c, err := Parse("x.yaml", []byte(y))
		if err != nil || len(c.Keys()) != 0 {
			t.Errorf("%q: %v, keys %v", y, err, c.Keys())
		}
	}
}

func TestRelativePaths(t *testing.T) {
	c, err := Parse("/etc/medtap/medtap.yaml", []byte("policy: site.yaml\nkey_file: /abs/key\noutput:\n  file: \"-\"\nframing: [f/a.yaml]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Policy != "/etc/medtap/site.yaml" || c.KeyFile != "/abs/key" || c.Output.File != "-" || c.Framing[0] != "/etc/medtap/f/a.yaml" {
		t.Errorf("paths: %+v", c)
	}
}

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

// TestApply: the file sets the flags the command line left alone; flags
// override; keys whose flag the command lacks are ignored.
func TestApply(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.yaml")
	y := "workers: 3\nsensor: from-file\ncapture:\n  interfaces: [eth1, eth2]\n  promiscuous: false\n  block_size: 2MiB\n  block_timeout: 250ms\nsyslog:\n  url: udp://127.0.0.1:514\n  events: true\n"
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	workers := fs.Int("workers", 1, "")
	sensor := fs.String("sensor", "", "")
	var ifaces list
	fs.Var(&ifaces, "interface", "")
	noPromisc := fs.Bool("no-promisc", false, "")
	blockSize := fs.Int("block-size", 0, "")
	blockTimeout := fs.Duration("block-timeout", 0, "")
	syslogURL := fs.String("syslog", "", "")
	events := fs.Bool("syslog-events", false, "")
	if err := fs.Parse([]string{"--sensor", "from-flag"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Apply(fs); err != nil {
		t.Fatal(err)
	}
	if *workers != 3 || *sensor != "from-flag" || !reflect.DeepEqual([]string(ifaces), []string{"eth1", "eth2"}) || !*noPromisc ||
		*blockSize != 2<<20 || *blockTimeout != 250*time.Millisecond || *syslogURL != "udp://127.0.0.1:514" || !*events {
		t.Errorf("applied: workers %d sensor %q ifaces %v no-promisc %v block %d timeout %v syslog %q events %v",
			*workers, *sensor, ifaces, *noPromisc, *blockSize, *blockTimeout, *syslogURL, *events)
	}

	// A value the flag itself refuses names the file and line.
	fs2 := flag.NewFlagSet("x", flag.ContinueOnError)
	fs2.Func("block-size", "", func(string) error { return errors.New("not a power of two") })
	c2, err := Parse("big.yaml", []byte("workers: 2\ncapture:\n  block_size: 3MiB\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c2.Apply(fs2); err == nil || err.Error() != "big.yaml:3: capture.block_size: not a power of two" {
		t.Errorf("refused value: %v", err)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "65536": 65536, "512KiB": 512 << 10, "100MiB": 100 << 20, "1GiB": 1 << 30, "1GB": 1e9, "64 kB": 64000, "7B": 7} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "1.5MiB", "MiB", "9999999999TiB", "12 parsecs"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
}
