// Package policy is medtap's detection policy: what is "ours" (home country,
// internal networks), what is expected (device classes and their services,
// DICOM AE and HL7 sender allow-lists, links that must use TLS, remote
// maintenance hours), how long baselines are learned, and per-rule switches
// and severity overrides.
//
// A policy is one YAML file. Default returns the built-in policy
// (default.yaml, embedded); Load reads a file. Unknown keys are errors, and
// every error is one line, "FILE:LINE: reason", so an operator can fix a bad
// file at start. Load checks the file's own shape and values; rule ids are
// checked against the rule table by detect.LoadPolicy, which uses RuleLines
// to point at the offending line.
package policy

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns the text of the built-in policy (for `medtap policy
// default` or documentation).
func DefaultYAML() []byte { return append([]byte(nil), defaultYAML...) }

// Policy is a checked policy. Fields are read-only once loaded.
type Policy struct {
	Source string // file name, or "default"

	HomeCountry      string         // ISO 3166-1 alpha-2, upper case
	HKMOTWForeign    bool           // HK, MO, TW count as foreign
	InternalNetworks []netip.Prefix // peers outside these are external
	LearningPeriod   time.Duration  // baselines are learned for this long

	DeviceClasses []DeviceClass
	// DeviceNetworks are the segments where medical devices live: a host
	// first seen there after the learning period is reported (MT-NODE-006).
	DeviceNetworks []netip.Prefix
	DICOMAEAllow   map[string][]netip.Prefix // AE title -> allowed networks
	HL7SenderAllow []HL7Sender
	TLSRequired    []Link
	DICOMTLSPorts  []uint16

	RemoteMaintenance RemoteMaintenance
	HighRiskServices  []NamedService
	Limits            Limits
	Rules             map[string]RuleSetting // by rule id

	// RuleLines gives the line of each rule id key in the file (0 for
	// the default policy), for error messages.
	RuleLines map[string]int
}

// DeviceClass is a set of hosts and the services they may expose.
type DeviceClass struct {
	Name     string
	Members  []netip.Prefix
	Services []Service
}

// HL7Sender is one allow-list entry: MSH-3 and MSH-4 (empty matches any)
// and the networks the sender may use.
type HL7Sender struct {
	Application string
	Facility    string
	Networks    []netip.Prefix
}

// Link is a client-to-server path that must be protected by TLS. A zero
// prefix matches any address; port 0 any port.
type Link struct {
	Client netip.Prefix
	Server netip.Prefix
	Port   uint16
}

// Matches reports whether a flow from client to server:port is on the link.
func (l Link) Matches(client, server netip.Addr, port uint16) bool {
	if l.Client.IsValid() && !l.Client.Contains(client) {
		return false
	}
	if l.Server.IsValid() && !l.Server.Contains(server) {
		return false
	}
	return l.Port == 0 || l.Port == port
}

// RemoteMaintenance says when and from where remote sessions are expected.
type RemoteMaintenance struct {
	UTCOffset    time.Duration // local time = UTC + offset
	StartMinute  int           // minutes after local midnight, inclusive
	EndMinute    int           // exclusive; may be below StartMinute (overnight window)
	AllowedPeers []netip.Prefix
}

// InHours reports whether t falls in the maintenance window.
func (r RemoteMaintenance) InHours(t time.Time) bool {
	lt := t.UTC().Add(r.UTCOffset)
	m := lt.Hour()*60 + lt.Minute()
	if r.StartMinute <= r.EndMinute {
		return m >= r.StartMinute && m < r.EndMinute
	}
	return m >= r.StartMinute || m < r.EndMinute
}

// Service is a transport and a port range.
type Service struct {
	Proto   uint8 // 6 TCP, 17 UDP
	Port    uint16
	PortEnd uint16 // inclusive; equal to Port for one port
}

// Contains reports whether proto/port is in the service range.
func (s Service) Contains(proto uint8, port uint16) bool {
	return s.Proto == proto && port >= s.Port && port <= s.PortEnd
}

// String gives "tcp/104" or "tcp/5900-5903".
func (s Service) String() string {
	p := "tcp"
	if s.Proto == 17 {
		p = "udp"
	}
	if s.PortEnd != s.Port {
		return fmt.Sprintf("%s/%d-%d", p, s.Port, s.PortEnd)
	}
	return fmt.Sprintf("%s/%d", p, s.Port)
}

// NamedService is a service with a short name ("telnet").
type NamedService struct {
	Service
	Name string
}

// Limits are the numbers rules use.
type Limits struct {
	AlertsPerAssetPerHour   int
	CFindMaxMatches         int
	CMoveMaxSubOperations   int
	CalledAETitlesPerServer int
}

// RuleSetting switches a rule and overrides its severity.
type RuleSetting struct {
	Enabled  *bool  // nil: the rule's default (on)
	Severity string // "": the rule's default
}

// Severities are the alert severities, lowest first.
var Severities = []string{"info", "low", "medium", "high", "critical"}

// Default returns the built-in policy.
func Default() *Policy {
	p, err := parse("default", defaultYAML)
	if err != nil {
		panic("policy: built-in default is invalid: " + err.Error())
	}
	return p
}

// Load reads and checks a policy file. Keys missing from the file keep the
// built-in default's value. Errors are one line: "FILE:LINE: reason".
func Load(path string) (*Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: read policy: %w", path, errors.Unwrap(err))
	}
	return parse(path, b)
}

// Parse checks a policy given as bytes; name is used in errors.
func Parse(name string, b []byte) (*Policy, error) { return parse(name, b) }

// lineError is an error at a line of the file.
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

func errAt(n *yaml.Node, format string, args ...any) error {
	return &lineError{n.Line, fmt.Sprintf(format, args...)}
}

var inType = regexp.MustCompile(` in type policy\.\w+`)

var yamlLine = regexp.MustCompile(`^(?:yaml: )?(?:unmarshal errors:\s*)?line (\d+): (.*)$`)

// oneLine turns a decode error into "FILE:LINE: reason".
func oneLine(name string, err error) error {
	var le *lineError
	if errors.As(err, &le) {
		return fmt.Errorf("%s:%d: %s", name, le.line, le.msg)
	}
	var te *yaml.TypeError
	msg := err.Error()
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = strings.TrimSpace(msg)
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		reason := strings.ReplaceAll(m[2], "\n", " ")
		reason = inType.ReplaceAllString(reason, "")
		return fmt.Errorf("%s:%s: %s", name, m[1], reason)
	}
	return fmt.Errorf("%s:1: %s", name, strings.ReplaceAll(strings.TrimPrefix(msg, "yaml: "), "\n", " "))
}

func parse(name string, b []byte) (*Policy, error) {
	var f file
	if name != "default" {
		// Start from the default so a site file need only hold changes.
		if err := decode(defaultYAML, &f); err != nil {
			return nil, oneLine("default", err)
		}
		f.Rules = nil
	}
	if err := decode(b, &f); err != nil {
		return nil, oneLine(name, err)
	}
	p, err := f.resolve()
	if err != nil {
		return nil, oneLine(name, err)
	}
	p.Source = name
	return p, nil
}

func decode(b []byte, f *file) error {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return err
	}
	if len(root.Content) == 0 {
		return nil // empty file: defaults
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return errAt(doc, "policy must be a mapping of keys to values")
	}
	// Keys may appear once.
	seen := map[string]bool{}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k := doc.Content[i]
		if seen[k.Value] {
			return errAt(k, "key %q repeated", k.Value)
		}
		seen[k.Value] = true
	}
	f.ruleLines = map[string]int{}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if rv := doc.Content[i+1]; doc.Content[i].Value == "rules" && rv.Kind == yaml.MappingNode {
			for j := 0; j+1 < len(rv.Content); j += 2 {
				f.ruleLines[rv.Content[j].Value] = rv.Content[j].Line
			}
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	return dec.Decode(f)
}

// file is the YAML shape.
type file struct {
	HomeCountry       node[string]           `yaml:"home_country"`
	HKMOTWForeign     node[bool]             `yaml:"hk_mo_tw_foreign"`
	InternalNetworks  []prefix               `yaml:"internal_networks"`
	LearningPeriod    node[string]           `yaml:"learning_period"`
	DeviceClasses     []deviceClass          `yaml:"device_classes"`
	DeviceNetworks    []prefix               `yaml:"device_networks"`
	DICOMAEAllow      aeAllow                `yaml:"dicom_ae_allow"`
	HL7SenderAllow    []hl7Sender            `yaml:"hl7_sender_allow"`
	TLSRequired       []link                 `yaml:"tls_required"`
	DICOMTLSPorts     []node[int]            `yaml:"dicom_tls_ports"`
	RemoteMaintenance remoteMaintenance      `yaml:"remote_maintenance"`
	HighRiskServices  []namedService         `yaml:"high_risk_services"`
	Limits            limits                 `yaml:"limits"`
	Rules             map[string]ruleSetting `yaml:"rules"`
	ruleLines         map[string]int
}

// node is a scalar that remembers its line.
type node[T any] struct {
	V    T
	Line int
	Set  bool
}

func (n *node[T]) UnmarshalYAML(v *yaml.Node) error {
	if v.Kind != yaml.ScalarNode {
		return errAt(v, "expected a single value")
	}
	var x T
	if err := v.Decode(&x); err != nil {
		return errAt(v, "bad value %q", v.Value)
	}
	n.V, n.Line, n.Set = x, v.Line, true
	return nil
}

type prefix struct {
	P    netip.Prefix
	Line int
}

func (p *prefix) UnmarshalYAML(v *yaml.Node) error {
	if v.Kind != yaml.ScalarNode {
		return errAt(v, "expected an address or network")
	}
	pp, err := parsePrefix(v.Value)
	if err != nil {
		return errAt(v, "bad address or network %q", v.Value)
	}
	p.P, p.Line = pp, v.Line
	return nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

type service struct {
	S Service
}

func (s *service) UnmarshalYAML(v *yaml.Node) error {
	if v.Kind != yaml.ScalarNode {
		return errAt(v, "expected a service like tcp/104")
	}
	sv, err := parseService(v.Value)
	if err != nil {
		return errAt(v, "bad service %q: %v", v.Value, err)
	}
	s.S = sv
	return nil
}

func parseService(s string) (Service, error) {
	proto, ports, ok := strings.Cut(s, "/")
	if !ok {
		return Service{}, errors.New("want PROTO/PORT or PROTO/PORT-PORT")
	}
	var sv Service
	switch proto {
	case "tcp":
		sv.Proto = 6
	case "udp":
		sv.Proto = 17
	default:
		return Service{}, errors.New("protocol must be tcp or udp")
	}
	lo, hi, rng := strings.Cut(ports, "-")
	a, err := strconv.ParseUint(lo, 10, 16)
	if err != nil || a == 0 {
		return Service{}, errors.New("port must be 1-65535")
	}
	sv.Port, sv.PortEnd = uint16(a), uint16(a)
	if rng {
		b, err := strconv.ParseUint(hi, 10, 16)
		if err != nil || b < a {
			return Service{}, errors.New("bad port range")
		}
		sv.PortEnd = uint16(b)
	}
	return sv, nil
}

type deviceClass struct {
	Name     node[string] `yaml:"name"`
	Members  []prefix     `yaml:"members"`
	Services []service    `yaml:"services"`
}

type aeAllow struct {
	m     map[string][]netip.Prefix
	order []string
}

func (a *aeAllow) UnmarshalYAML(v *yaml.Node) error {
	if v.Kind != yaml.MappingNode {
		return errAt(v, "dicom_ae_allow must map AE titles to address lists")
	}
	a.m = map[string][]netip.Prefix{}
	a.order = nil
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		ae := strings.TrimSpace(k.Value)
		if ae == "" || len(ae) > 16 {
			return errAt(k, "AE title %q must be 1-16 characters", k.Value)
		}
		if _, dup := a.m[ae]; dup {
			return errAt(k, "AE title %q repeated", ae)
		}
		var ps []prefix
		if err := val.Decode(&ps); err != nil {
			var le *lineError
			if errors.As(err, &le) {
				return err
			}
			return errAt(val, "AE title %q: want a list of addresses or networks", ae)
		}
		list := make([]netip.Prefix, 0, len(ps))
		for _, p := range ps {
			list = append(list, p.P)
		}
		a.m[ae] = list
		a.order = append(a.order, ae)
	}
	return nil
}

type hl7Sender struct {
	Application node[string] `yaml:"application"`
	Facility    node[string] `yaml:"facility"`
	IPs         []prefix     `yaml:"ips"`
}

type link struct {
	Client *prefix   `yaml:"client"`
	Server *prefix   `yaml:"server"`
	Port   node[int] `yaml:"port"`
}

type remoteMaintenance struct {
	UTCOffset    node[string] `yaml:"utc_offset"`
	Hours        node[string] `yaml:"hours"`
	AllowedPeers []prefix     `yaml:"allowed_peers"`
}

type namedService struct {
	Service service      `yaml:"service"`
	Name    node[string] `yaml:"name"`
}

type limits struct {
	AlertsPerAssetPerHour   node[int] `yaml:"alerts_per_asset_per_hour"`
	CFindMaxMatches         node[int] `yaml:"cfind_max_matches"`
	CMoveMaxSubOperations   node[int] `yaml:"cmove_max_suboperations"`
	CalledAETitlesPerServer node[int] `yaml:"called_ae_titles_per_server"`
}

type ruleSetting struct {
	Enabled  *node[bool]  `yaml:"enabled"`
	Severity node[string] `yaml:"severity"`
}

var countryRe = regexp.MustCompile(`^[A-Z]{2}$`)
var hoursRe = regexp.MustCompile(`^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$`)

func prefixes(ps []prefix) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.P)
	}
	return out
}

func (f *file) resolve() (*Policy, error) {
	p := &Policy{
		HomeCountry:      f.HomeCountry.V,
		HKMOTWForeign:    f.HKMOTWForeign.V,
		InternalNetworks: prefixes(f.InternalNetworks),
		DeviceNetworks:   prefixes(f.DeviceNetworks),
		DICOMAEAllow:     f.DICOMAEAllow.m,
		Rules:            map[string]RuleSetting{},
		RuleLines:        map[string]int{},
	}
	if p.DICOMAEAllow == nil {
		p.DICOMAEAllow = map[string][]netip.Prefix{}
	}
	if !countryRe.MatchString(p.HomeCountry) {
		return nil, &lineError{f.HomeCountry.Line, fmt.Sprintf("home_country %q must be an upper-case ISO 3166-1 alpha-2 code", p.HomeCountry)}
	}
	d, err := time.ParseDuration(f.LearningPeriod.V)
	if err != nil || d < 0 {
		return nil, &lineError{f.LearningPeriod.Line, fmt.Sprintf("learning_period %q must be a duration like 24h or 0s", f.LearningPeriod.V)}
	}
	p.LearningPeriod = d
	names := map[string]bool{}
	for _, c := range f.DeviceClasses {
		if c.Name.V == "" {
			return nil, &lineError{c.Name.Line, "device class needs a name"}
		}
		if names[c.Name.V] {
			return nil, &lineError{c.Name.Line, fmt.Sprintf("device class %q repeated", c.Name.V)}
		}
		names[c.Name.V] = true
		dc := DeviceClass{Name: c.Name.V, Members: prefixes(c.Members)}
		for _, s := range c.Services {
			dc.Services = append(dc.Services, s.S)
		}
		p.DeviceClasses = append(p.DeviceClasses, dc)
	}
	for _, s := range f.HL7SenderAllow {
		if s.Application.V == "" {
			return nil, &lineError{s.Application.Line, "hl7_sender_allow entry needs an application (MSH-3)"}
		}
		p.HL7SenderAllow = append(p.HL7SenderAllow, HL7Sender{Application: s.Application.V, Facility: s.Facility.V, Networks: prefixes(s.IPs)})
	}
	for _, l := range f.TLSRequired {
		var lk Link
		if l.Client != nil {
			lk.Client = l.Client.P
		}
		if l.Server != nil {
			lk.Server = l.Server.P
		}
		if l.Port.V < 0 || l.Port.V > 65535 {
			return nil, &lineError{l.Port.Line, "port must be 0-65535"}
		}
		lk.Port = uint16(l.Port.V)
		p.TLSRequired = append(p.TLSRequired, lk)
	}
	for _, n := range f.DICOMTLSPorts {
		if n.V < 1 || n.V > 65535 {
			return nil, &lineError{n.Line, "port must be 1-65535"}
		}
		p.DICOMTLSPorts = append(p.DICOMTLSPorts, uint16(n.V))
	}
	rm := f.RemoteMaintenance
	off, err := parseOffset(rm.UTCOffset.V)
	if err != nil {
		return nil, &lineError{rm.UTCOffset.Line, fmt.Sprintf("utc_offset %q must look like +08:00", rm.UTCOffset.V)}
	}
	m := hoursRe.FindStringSubmatch(rm.Hours.V)
	if m == nil {
		return nil, &lineError{rm.Hours.Line, fmt.Sprintf("hours %q must look like 08:00-18:00", rm.Hours.V)}
	}
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	p.RemoteMaintenance = RemoteMaintenance{
		UTCOffset:    off,
		StartMinute:  atoi(m[1])*60 + atoi(m[2]),
		EndMinute:    atoi(m[3])*60 + atoi(m[4]),
		AllowedPeers: prefixes(rm.AllowedPeers),
	}
	for _, s := range f.HighRiskServices {
		if s.Name.V == "" {
			return nil, &lineError{s.Name.Line, "high_risk_services entry needs a name"}
		}
		p.HighRiskServices = append(p.HighRiskServices, NamedService{Service: s.Service.S, Name: s.Name.V})
	}
	lim := []struct {
		n   node[int]
		dst *int
		key string
	}{
		{f.Limits.AlertsPerAssetPerHour, &p.Limits.AlertsPerAssetPerHour, "alerts_per_asset_per_hour"},
		{f.Limits.CFindMaxMatches, &p.Limits.CFindMaxMatches, "cfind_max_matches"},
		{f.Limits.CMoveMaxSubOperations, &p.Limits.CMoveMaxSubOperations, "cmove_max_suboperations"},
		{f.Limits.CalledAETitlesPerServer, &p.Limits.CalledAETitlesPerServer, "called_ae_titles_per_server"},
	}
	for _, l := range lim {
		if l.n.V < 1 {
			return nil, &lineError{l.n.Line, l.key + " must be at least 1"}
		}
		*l.dst = l.n.V
	}
	for id, r := range f.Rules {
		rs := RuleSetting{Severity: r.Severity.V}
		if r.Enabled != nil {
			v := r.Enabled.V
			rs.Enabled = &v
		}
		if rs.Severity != "" && SeverityRank(rs.Severity) < 0 {
			return nil, &lineError{r.Severity.Line, fmt.Sprintf("severity %q must be one of %s", rs.Severity, strings.Join(Severities, ", "))}
		}
		p.Rules[id] = rs
		p.RuleLines[id] = f.ruleLines[id]
	}
	return p, nil
}

func parseOffset(s string) (time.Duration, error) {
	if len(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' {
		return 0, errors.New("bad offset")
	}
	h, err1 := strconv.Atoi(s[1:3])
	m, err2 := strconv.Atoi(s[4:6])
	if err1 != nil || err2 != nil || h > 14 || m > 59 {
		return 0, errors.New("bad offset")
	}
	d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute
	if s[0] == '-' {
		d = -d
	}
	return d, nil
}

// SeverityRank gives a severity's rank (0 info .. 4 critical), or -1.
func SeverityRank(s string) int {
	for i, x := range Severities {
		if x == s {
			return i
		}
	}
	return -1
}

// Internal reports whether a is inside the internal networks.
func (p *Policy) Internal(a netip.Addr) bool {
	a = a.Unmap()
	for _, n := range p.InternalNetworks {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// Foreign reports whether a country code is outside the home country under
// the policy (HK/MO/TW count as foreign when HKMOTWForeign is set). An
// empty (unknown) country is not foreign.
func (p *Policy) Foreign(country string) bool {
	if country == "" || country == p.HomeCountry {
		return false
	}
	if p.HomeCountry == "CN" && !p.HKMOTWForeign {
		switch country {
		case "HK", "MO", "TW":
			return false
		}
	}
	return true
}

// OnDeviceNetwork reports whether a is inside the device networks.
func (p *Policy) OnDeviceNetwork(a netip.Addr) bool { return Contains(p.DeviceNetworks, a) }

// ClassOf returns the device class a holds membership of, or nil. The first
// matching class in file order wins.
func (p *Policy) ClassOf(a netip.Addr) *DeviceClass {
	a = a.Unmap()
	for i := range p.DeviceClasses {
		for _, m := range p.DeviceClasses[i].Members {
			if m.Contains(a) {
				return &p.DeviceClasses[i]
			}
		}
	}
	return nil
}

// RuleEnabled reports whether a rule is on (rules are on by default).
func (p *Policy) RuleEnabled(id string) bool {
	if r, ok := p.Rules[id]; ok && r.Enabled != nil {
		return *r.Enabled
	}
	return true
}

// Contains reports whether any prefix holds a.
func Contains(ps []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
