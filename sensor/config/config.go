// Package config is medtap's configuration file: one YAML file for
// everything a sensor runs with (capture, detection inputs, outputs and
// sinks, syslog, NATS, the HTTP API, profiling). Command-line flags
// override it: most keys stand for a flag of the same meaning, and Apply
// sets those flags that the command line left alone.
//
// Loading is strict. An unknown or repeated key, a value of the wrong
// kind or out of range is an error of one line, "FILE:LINE: reason",
// naming the key. Relative paths in the file are relative to the file's
// directory, so a configuration moves with the files it names.
//
// medtap.example.yaml, next to this file, documents every key; a test
// loads it.
package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// MaxFileBytes bounds the configuration file read.
const MaxFileBytes = 1 << 20

// Config is a loaded configuration file. Zero values mean "not in the
// file": the flag's default applies.
type Config struct {
	Path string // the file it was loaded from

	Sensor   string   // sensor name in every event (--sensor)
	Workers  int      // worker goroutines (--workers)
	MaxFlows int      // flows held at once (--max-flows)
	Policy   string   // detection policy file (--policy)
	GeoIP    string   // country database (--geoip)
	KeyFile  string   // pseudonym key file (--key-file)
	DB       string   // inventory database (--db)
	Evidence string   // default or masked (--evidence)
	Framing  []string // device framing definitions (--framing)
	// MemoryLimit is the soft memory budget, a size or "off"
	// (--memory-limit); HugePages is auto or off (--huge-pages).
	MemoryLimit string
	HugePages   string

	Capture   Capture
	Output    Output
	Syslog    Syslog
	NATS      NATS
	API       API
	Profiling Profiling

	settings []setting // what the file sets, in file order
}

// Capture is the live capture (medtap run).
type Capture struct {
	Interfaces   []string      // --interface
	BlockSize    int64         // --block-size (bytes)
	BlockCount   int           // --block-count
	BlockTimeout time.Duration // --block-timeout
	Promiscuous  *bool         // false: --no-promisc
	EBPF         string        // auto, on, off (--ebpf)
	IgnoreVLANs  []int         // --ignore-vlan
	IgnoreNets   []string      // --ignore-net
	SampleAfter  int64         // --sample-after (bytes)
	KeepCaps     *bool         // --keep-caps
}

// Output is where events and alerts go.
type Output struct {
	Dir        string // -o: events.jsonl and alerts.jsonl, put in place at the end
	File       string // --events-file: a live JSON-lines file, rotated ("-": stdout)
	RotateSize int64  // --rotate-size (bytes; 0: never)
	RotateKeep int    // --rotate-keep
	Queue      int    // --queue: records each sink's queue holds
}

// Syslog is the syslog sink.
type Syslog struct {
	URL      string // --syslog: udp://, tcp:// or tls://HOST[:PORT]
	Format   string // --syslog-format: cef or json (alerts)
	Events   *bool  // --syslog-events: send the other events too, as JSON
	CA       string // --syslog-ca
	Cert     string // --syslog-cert
	Key      string // --syslog-key
	Facility string // --syslog-facility
}

// NATS is the NATS JetStream sink.
type NATS struct {
	URL         string // --nats
	BufferDir   string // --nats-buffer: on-disk buffer while the server is away
	BufferBytes int64  // --nats-buffer-mb (in the file: a size, given to the flag in MiB)
}

// API is the metrics and HTTP API listener.
type API struct {
	Listen    string // --listen
	TokenFile string // --api-token-file
	TLSCert   string // --tls-cert
	TLSKey    string // --tls-key
}

// Profiling is pprof and continuous profiling.
type Profiling struct {
	Pprof     *bool  // --pprof
	Pyroscope string // --pyroscope: server URL
}

// setting is one key the file sets, as flag values.
type setting struct {
	key    string
	line   int
	flag   string
	values []string
}

// kinds of values.
type kind int

const (
	kString kind = iota
	kPath
	kPaths
	kStrings
	kInt
	kInts
	kSize
	kSizeMiB // a size, given to its flag in MiB (rounded up)
	kDuration
	kBool
	kNotBool // a bool that sets the flag to its negation
)

// field binds a key to its place in Config and its flag.
type field struct {
	kind kind
	flag string
	dst  func(c *Config) any
	// check validates a scalar value (after conversion), nil when any
	// value of the kind will do.
	check func(v any) error
}

// fields are every key, by dotted path. A section is a key with dotted
// children.
var fields = map[string]field{
	"sensor":    {kind: kString, flag: "sensor", dst: func(c *Config) any { return &c.Sensor }, check: nonEmpty},
	"workers":   {kind: kInt, flag: "workers", dst: func(c *Config) any { return &c.Workers }, check: intRange(1, 1024)},
	"max_flows": {kind: kInt, flag: "max-flows", dst: func(c *Config) any { return &c.MaxFlows }, check: intRange(1, 1<<30)},
	"policy":    {kind: kPath, flag: "policy", dst: func(c *Config) any { return &c.Policy }},
	"geoip":     {kind: kPath, flag: "geoip", dst: func(c *Config) any { return &c.GeoIP }},
	"key_file":  {kind: kPath, flag: "key-file", dst: func(c *Config) any { return &c.KeyFile }},
	"db":        {kind: kPath, flag: "db", dst: func(c *Config) any { return &c.DB }},
	"evidence":  {kind: kString, flag: "evidence", dst: func(c *Config) any { return &c.Evidence }, check: oneOf("default", "masked")},
	"framing":   {kind: kPaths, flag: "framing", dst: func(c *Config) any { return &c.Framing }},

	"memory_limit": {kind: kString, flag: "memory-limit", dst: func(c *Config) any { return &c.MemoryLimit }, check: memoryLimit},
	"huge_pages":   {kind: kString, flag: "huge-pages", dst: func(c *Config) any { return &c.HugePages }, check: oneOf("auto", "off")},

	"capture.interfaces":    {kind: kStrings, flag: "interface", dst: func(c *Config) any { return &c.Capture.Interfaces }, check: nonEmpty},
	"capture.block_size":    {kind: kSize, flag: "block-size", dst: func(c *Config) any { return &c.Capture.BlockSize }, check: sizeRange(128<<10, 16<<20)},
	"capture.block_count":   {kind: kInt, flag: "block-count", dst: func(c *Config) any { return &c.Capture.BlockCount }, check: intRange(1, 1<<16)},
	"capture.block_timeout": {kind: kDuration, flag: "block-timeout", dst: func(c *Config) any { return &c.Capture.BlockTimeout }, check: durRange(time.Millisecond, time.Minute)},
	"capture.promiscuous":   {kind: kNotBool, flag: "no-promisc", dst: func(c *Config) any { return &c.Capture.Promiscuous }},
	"capture.ebpf":          {kind: kString, flag: "ebpf", dst: func(c *Config) any { return &c.Capture.EBPF }, check: oneOf("auto", "on", "off")},
	"capture.ignore_vlans":  {kind: kInts, flag: "ignore-vlan", dst: func(c *Config) any { return &c.Capture.IgnoreVLANs }, check: intRange(1, 4094)},
	"capture.ignore_nets":   {kind: kStrings, flag: "ignore-net", dst: func(c *Config) any { return &c.Capture.IgnoreNets }, check: network},
	"capture.sample_after":  {kind: kSize, flag: "sample-after", dst: func(c *Config) any { return &c.Capture.SampleAfter }},
	"capture.keep_caps":     {kind: kBool, flag: "keep-caps", dst: func(c *Config) any { return &c.Capture.KeepCaps }},

	"output.dir":         {kind: kPath, flag: "o", dst: func(c *Config) any { return &c.Output.Dir }},
	"output.file":        {kind: kPath, flag: "events-file", dst: func(c *Config) any { return &c.Output.File }},
	"output.rotate_size": {kind: kSize, flag: "rotate-size", dst: func(c *Config) any { return &c.Output.RotateSize }, check: rotateSize},
	"output.rotate_keep": {kind: kInt, flag: "rotate-keep", dst: func(c *Config) any { return &c.Output.RotateKeep }, check: intRange(1, 1000)},
	"output.queue":       {kind: kInt, flag: "queue", dst: func(c *Config) any { return &c.Output.Queue }, check: intRange(1, 1<<22)},

	"syslog.url":      {kind: kString, flag: "syslog", dst: func(c *Config) any { return &c.Syslog.URL }, check: syslogURL},
	"syslog.format":   {kind: kString, flag: "syslog-format", dst: func(c *Config) any { return &c.Syslog.Format }, check: oneOf("cef", "json")},
	"syslog.events":   {kind: kBool, flag: "syslog-events", dst: func(c *Config) any { return &c.Syslog.Events }},
	"syslog.ca":       {kind: kPath, flag: "syslog-ca", dst: func(c *Config) any { return &c.Syslog.CA }},
	"syslog.cert":     {kind: kPath, flag: "syslog-cert", dst: func(c *Config) any { return &c.Syslog.Cert }},
	"syslog.key":      {kind: kPath, flag: "syslog-key", dst: func(c *Config) any { return &c.Syslog.Key }},
	"syslog.facility": {kind: kString, flag: "syslog-facility", dst: func(c *Config) any { return &c.Syslog.Facility }, check: facility},

	"nats.url":         {kind: kString, flag: "nats", dst: func(c *Config) any { return &c.NATS.URL }, check: natsURL},
	"nats.buffer_dir":  {kind: kPath, flag: "nats-buffer", dst: func(c *Config) any { return &c.NATS.BufferDir }},
	"nats.buffer_size": {kind: kSizeMiB, flag: "nats-buffer-mb", dst: func(c *Config) any { return &c.NATS.BufferBytes }, check: sizeRange(1<<20, 1<<40)},

	"api.listen":     {kind: kString, flag: "listen", dst: func(c *Config) any { return &c.API.Listen }, check: hostPort},
	"api.token_file": {kind: kPath, flag: "api-token-file", dst: func(c *Config) any { return &c.API.TokenFile }},
	"api.tls_cert":   {kind: kPath, flag: "tls-cert", dst: func(c *Config) any { return &c.API.TLSCert }},
	"api.tls_key":    {kind: kPath, flag: "tls-key", dst: func(c *Config) any { return &c.API.TLSKey }},

	"profiling.pprof":     {kind: kBool, flag: "pprof", dst: func(c *Config) any { return &c.Profiling.Pprof }},
	"profiling.pyroscope": {kind: kString, flag: "pyroscope", dst: func(c *Config) any { return &c.Profiling.Pyroscope }, check: httpURL},
}

// sections are the keys that hold mappings.
var sections = map[string]bool{"capture": true, "output": true, "syslog": true, "nats": true, "api": true, "profiling": true}

// Flags lists the flag names the file can set, for commands that check
// they know them all.
func Flags() []string {
	var out []string
	for _, f := range fields {
		out = append(out, f.flag)
	}
	return out
}

// lineError is an error at a line of the file.
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

func errAt(n *yaml.Node, format string, args ...any) error {
	return &lineError{n.Line, fmt.Sprintf(format, args...)}
}

// Load reads and checks a configuration file. Errors are one line:
// "FILE:LINE: reason" (or "FILE: reason" when the file cannot be read).
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: read configuration: %w", path, unwrapPath(err))
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(ioLimit(f, MaxFileBytes+1)); err != nil {
		return nil, fmt.Errorf("%s: read configuration: %w", path, unwrapPath(err))
	}
	if buf.Len() > MaxFileBytes {
		return nil, fmt.Errorf("%s: configuration larger than %d bytes", path, MaxFileBytes)
	}
	return Parse(path, buf.Bytes())
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Parse checks a configuration given as bytes; name is used in errors and
// relative paths are resolved against its directory.
func Parse(name string, b []byte) (*Config, error) {
	c := &Config{Path: name}
	if err := c.parse(b); err != nil {
		var le *lineError
		if errors.As(err, &le) {
			return nil, fmt.Errorf("%s:%d: %s", name, le.line, le.msg)
		}
		msg := strings.ReplaceAll(strings.TrimPrefix(err.Error(), "yaml: "), "\n", " ")
		if m := yamlLine(msg); m.line > 0 {
			return nil, fmt.Errorf("%s:%d: %s", name, m.line, m.msg)
		}
		return nil, fmt.Errorf("%s:1: %s", name, msg)
	}
	return c, nil
}

// yamlLine splits a yaml.v3 syntax error "line N: reason".
func yamlLine(msg string) lineError {
	rest, ok := strings.CutPrefix(msg, "line ")
	if !ok {
		return lineError{}
	}
	num, reason, ok := strings.Cut(rest, ": ")
	n, err := strconv.Atoi(num)
	if !ok || err != nil {
		return lineError{}
	}
	return lineError{n, reason}
}

func (c *Config) parse(b []byte) error {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return err
	}
	if len(root.Content) == 0 {
		return nil // empty file: every default
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return errAt(doc, "the configuration must be a mapping of keys to values")
	}
	return c.mapping(doc, "")
}

// mapping walks one mapping node under prefix ("" or "section.").
func (c *Config) mapping(n *yaml.Node, prefix string) error {
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return errAt(k, "keys are plain words")
		}
		key := prefix + k.Value
		if seen[k.Value] {
			return errAt(k, "key %s repeated", key)
		}
		seen[k.Value] = true
		if prefix == "" && sections[k.Value] {
			if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
				continue // an empty section
			}
			if v.Kind != yaml.MappingNode {
				return errAt(v, "%s must be a mapping of keys to values", key)
			}
			if err := c.mapping(v, key+"."); err != nil {
				return err
			}
			continue
		}
		f, ok := fields[key]
		if !ok {
			return errAt(k, "unknown key %s%s", key, suggest(prefix, k.Value))
		}
		if err := c.value(key, f, v); err != nil {
			return err
		}
	}
	return nil
}

// suggest names the keys allowed where an unknown one was found.
func suggest(prefix, key string) string {
	var known []string
	for k := range fields {
		if rest, ok := strings.CutPrefix(k, prefix); ok && !strings.Contains(rest, ".") {
			known = append(known, rest)
		}
	}
	if prefix == "" {
		for s := range sections {
			known = append(known, s)
		}
	}
	sortStrings(known)
	where := "here"
	if prefix != "" {
		where = "in " + strings.TrimSuffix(prefix, ".")
	}
	return fmt.Sprintf(" (known %s: %s)", where, strings.Join(known, ", "))
}

// value converts and checks one key's value and records it.
func (c *Config) value(key string, f field, v *yaml.Node) error {
	dir := filepath.Dir(c.Path)
	set := setting{key: key, line: v.Line, flag: f.flag}
	switch f.kind {
	case kPaths, kStrings, kInts:
		items := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			items = v.Content
		}
		if len(items) == 0 {
			return errAt(v, "%s: empty list; leave the key out instead", key)
		}
		for _, it := range items {
			if it.Kind != yaml.ScalarNode || it.Tag == "!!null" {
				return errAt(it, "%s: expected a list of single values", key)
			}
			var conv any = it.Value
			switch f.kind {
			case kInts:
				n, err := strconv.Atoi(it.Value)
				if err != nil {
					return errAt(it, "%s: %q is not a whole number", key, it.Value)
				}
				conv = n
			case kPaths:
				conv = resolve(dir, it.Value)
			}
			if f.check != nil {
				if err := f.check(conv); err != nil {
					return errAt(it, "%s: %v", key, err)
				}
			}
			switch d := f.dst(c).(type) {
			case *[]string:
				*d = append(*d, conv.(string))
			case *[]int:
				*d = append(*d, conv.(int))
			}
			set.values = append(set.values, fmt.Sprint(conv))
		}
		c.settings = append(c.settings, set)
		return nil
	}
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		return errAt(v, "%s: expected a single value", key)
	}
	var conv any
	var flagVal string
	switch f.kind {
	case kString:
		conv, flagVal = v.Value, v.Value
	case kPath:
		p := resolve(dir, v.Value)
		conv, flagVal = p, p
	case kInt:
		n, err := strconv.Atoi(v.Value)
		if err != nil {
			return errAt(v, "%s: %q is not a whole number", key, v.Value)
		}
		conv, flagVal = n, strconv.Itoa(n)
	case kSize, kSizeMiB:
		n, err := ParseSize(v.Value)
		if err != nil {
			return errAt(v, "%s: %v", key, err)
		}
		conv, flagVal = n, strconv.FormatInt(n, 10)
		if f.kind == kSizeMiB {
			flagVal = strconv.FormatInt((n+1<<20-1)>>20, 10)
		}
	case kDuration:
		d, err := time.ParseDuration(v.Value)
		if err != nil {
			return errAt(v, "%s: %q is not a duration like 100ms, 5s or 1m", key, v.Value)
		}
		conv, flagVal = d, d.String()
	case kBool, kNotBool:
		var bv bool
		if v.Tag != "!!bool" || v.Decode(&bv) != nil {
			return errAt(v, "%s: %q is not true or false", key, v.Value)
		}
		conv = bv
		flagVal = strconv.FormatBool(bv != (f.kind == kNotBool))
	}
	if f.check != nil {
		if err := f.check(conv); err != nil {
			return errAt(v, "%s: %v", key, err)
		}
	}
	switch d := f.dst(c).(type) {
	case *string:
		*d = conv.(string)
	case *int:
		*d = conv.(int)
	case *int64:
		*d = conv.(int64)
	case *time.Duration:
		*d = conv.(time.Duration)
	case **bool:
		bv := conv.(bool)
		*d = &bv
	}
	set.values = []string{flagVal}
	c.settings = append(c.settings, set)
	return nil
}

// resolve makes a relative path relative to the configuration's
// directory; "-" (standard output) and absolute paths stay.
func resolve(dir, p string) string {
	if p == "" || p == "-" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// Apply sets, on fs, every flag the file gives a value for and the
// command line did not set (flags override the file). Keys whose flag fs
// does not have (capture settings for analyze, say) are left for other
// commands. A value the flag refuses is an error "FILE:LINE: reason".
func (c *Config) Apply(fs *flag.FlagSet) error {
	if c == nil {
		return nil
	}
	onCommandLine := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onCommandLine[f.Name] = true })
	for _, s := range c.settings {
		if onCommandLine[s.flag] || fs.Lookup(s.flag) == nil {
			continue
		}
		for _, v := range s.values {
			if err := fs.Set(s.flag, v); err != nil {
				return fmt.Errorf("%s:%d: %s: %v", c.Path, s.line, s.key, err)
			}
		}
	}
	return nil
}

// Keys lists the keys the file set, in file order.
func (c *Config) Keys() []string {
	out := make([]string, len(c.settings))
	for i, s := range c.settings {
		out[i] = s.key
	}
	return out
}
