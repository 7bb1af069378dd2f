package framing

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/medtap/medtap/parsers/parser"
)

// DefinitionError is a mistake in a definition file, with its place. Its
// text is "FILE:LINE: reason".
type DefinitionError struct {
	File   string
	Line   int
	Reason string
}

func (e *DefinitionError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason) }

// reservedNames are names a definition may not take: medtap's Go parsers,
// event types and words the pipeline uses.
var reservedNames = []string{"alert", "anomaly", "asset", "astm", "device", "dicom", "dns", "flow", "framing", "hl7", "http", "record", "tls", "unknown"}

var (
	nameRe      = regexp.MustCompile(`^[a-z][a-z0-9]{0,31}$`)
	fieldNameRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	valueNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$`)
)

// Load reads definition files and returns one parser.Factory per enabled
// protocol they define, in file order. A path "builtin:NAME" loads the
// built-in definition NAME and enables it (the ASTM E1381 one is disabled
// by default). A mistake fails the whole load with a *DefinitionError
// ("FILE:LINE: reason"); I/O errors are wrapped.
func Load(paths ...string) ([]parser.Factory, error) {
	defs, err := loadDefs(paths)
	if err != nil {
		return nil, err
	}
	return factories(defs), nil
}

// Factories returns the enabled built-in definitions followed by those
// loaded from paths (as Load), a loaded definition replacing a built-in one
// of the same name. This is the list to append to the registry.
func Factories(paths ...string) ([]parser.Factory, error) {
	user, err := loadDefs(paths)
	if err != nil {
		return nil, err
	}
	var out []*def
	for _, b := range builtinDefs() {
		if !b.enabled || slices.ContainsFunc(user, func(u *def) bool { return u.name == b.name }) {
			continue
		}
		out = append(out, b)
	}
	return factories(append(out, user...)), nil
}

// Parse compiles the definitions in data, named file in errors, and
// returns the enabled ones as factories.
func Parse(file string, data []byte) ([]parser.Factory, error) {
	defs, err := parseFile(file, data)
	if err != nil {
		return nil, err
	}
	if len(defs) > MaxDefinitions {
		return nil, &DefinitionError{File: file, Line: defs[MaxDefinitions].line, Reason: fmt.Sprintf("more than %d protocols (MaxDefinitions)", MaxDefinitions)}
	}
	return factories(defs), nil
}

func factories(defs []*def) []parser.Factory {
	var out []parser.Factory
	for _, d := range defs {
		if d.enabled {
			out = append(out, d.factory())
		}
	}
	return out
}

// loadDefs reads and compiles the files, checking names are unique across
// them.
func loadDefs(paths []string) ([]*def, error) {
	var all []*def
	for _, p := range paths {
		var defs []*def
		if name, ok := strings.CutPrefix(p, "builtin:"); ok {
			i := slices.IndexFunc(builtinDefs(), func(d *def) bool { return d.name == name })
			if i < 0 {
				return nil, fmt.Errorf("framing: no built-in definition %q", name)
			}
			c := *builtinDefs()[i]
			c.enabled = true
			defs = []*def{&c}
		} else {
			data, err := readFile(p)
			if err != nil {
				return nil, err
			}
			if defs, err = parseFile(p, data); err != nil {
				return nil, err
			}
		}
		for _, d := range defs {
			for _, o := range all {
				if o.name == d.name {
					return nil, &DefinitionError{File: d.file, Line: d.line, Reason: fmt.Sprintf("protocol %q already defined at %s:%d", d.name, o.file, o.line)}
				}
			}
			if len(all) == MaxDefinitions {
				return nil, &DefinitionError{File: d.file, Line: d.line, Reason: fmt.Sprintf("more than %d protocols (MaxDefinitions)", MaxDefinitions)}
			}
			all = append(all, d)
		}
	}
	return all, nil
}

func readFile(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("framing: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("framing: read %s: %w", p, err)
	}
	if len(data) > MaxFileSize {
		return nil, &DefinitionError{File: p, Line: 1, Reason: fmt.Sprintf("file larger than %d bytes (MaxFileSize)", MaxFileSize)}
	}
	return data, nil
}

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseFile compiles every protocol in one file's YAML documents, enabled
// or not.
func parseFile(file string, data []byte) ([]*def, error) {
	if len(data) > MaxFileSize {
		return nil, &DefinitionError{File: file, Line: 1, Reason: fmt.Sprintf("file larger than %d bytes (MaxFileSize)", MaxFileSize)}
	}
	l := &loader{file: file}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var defs []*def
	docs := 0
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			msg := err.Error()
			line := 1
			if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
				line, _ = strconv.Atoi(m[1])
				msg = m[2]
			} else {
				msg = strings.TrimPrefix(msg, "yaml: ")
			}
			return nil, &DefinitionError{File: file, Line: line, Reason: "bad YAML: " + msg}
		}
		docs++
		if len(doc.Content) == 0 {
			continue
		}
		l.document(doc.Content[0], &defs)
		if l.err != nil {
			return nil, l.err
		}
		if len(defs) > MaxDefinitions {
			return nil, &DefinitionError{File: file, Line: defs[MaxDefinitions].line, Reason: fmt.Sprintf("more than %d protocols (MaxDefinitions)", MaxDefinitions)}
		}
	}
	if len(defs) == 0 {
		return nil, &DefinitionError{File: file, Line: 1, Reason: "no protocol defined"}
	}
	for i, d := range defs {
		for _, o := range defs[:i] {
			if o.name == d.name {
				return nil, &DefinitionError{File: file, Line: d.line, Reason: fmt.Sprintf("protocol %q already defined at line %d", d.name, o.line)}
			}
		}
	}
	return defs, nil
}

// loader walks one file's YAML nodes; the first mistake wins.
type loader struct {
	file string
	err  *DefinitionError
}

func (l *loader) fail(n *yaml.Node, format string, args ...any) {
	if l.err != nil {
		return
	}
	line := 0
	if n != nil {
		line = n.Line
	}
	l.err = &DefinitionError{File: l.file, Line: line, Reason: fmt.Sprintf(format, args...)}
}

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	return n
}

// mnode is a mapping with its keys checked against a known set.
type mnode struct {
	l    *loader
	n    *yaml.Node
	what string
	vals map[string]*yaml.Node
}

func (l *loader) mapping(n *yaml.Node, what string, allowed ...string) *mnode {
	n = deref(n)
	m := &mnode{l: l, n: n, what: what, vals: map[string]*yaml.Node{}}
	if n == nil || n.Kind != yaml.MappingNode {
		l.fail(n, "%s must be a mapping", what)
		return m
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			l.fail(k, "%s: keys must be plain words", what)
			continue
		}
		if _, dup := m.vals[k.Value]; dup {
			l.fail(k, "%s: key %q given twice", what, k.Value)
			continue
		}
		if !slices.Contains(allowed, k.Value) {
			l.fail(k, "unknown key %q in %s (known: %s)", k.Value, what, strings.Join(allowed, ", "))
			continue
		}
		m.vals[k.Value] = v
	}
	return m
}

func (m *mnode) has(k string) bool { return m.vals[k] != nil }

// get returns key k's value node, or nil; required reports a missing key.
func (m *mnode) get(k string, required bool) *yaml.Node {
	v := deref(m.vals[k])
	if v == nil && required {
		m.l.fail(m.n, "%s: missing %q", m.what, k)
	}
	return v
}

func (m *mnode) str(k string, required bool) (string, *yaml.Node) {
	v := m.get(k, required)
	if v == nil {
		return "", nil
	}
	return m.l.strVal(v, m.what+"."+k), v
}

func (m *mnode) int(k string, def int64) (int64, *yaml.Node) {
	v := m.get(k, false)
	if v == nil {
		return def, m.n
	}
	return m.l.intVal(v, m.what+"."+k), v
}

func (m *mnode) boolean(k string, def bool) bool {
	v := m.get(k, false)
	if v == nil {
		return def
	}
	if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" {
		m.l.fail(v, "%s.%s must be true or false", m.what, k)
		return def
	}
	return v.Value == "true"
}

func (l *loader) strVal(n *yaml.Node, what string) string {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		l.fail(n, "%s must be a string", what)
		return ""
	}
	return n.Value
}

func (l *loader) intVal(n *yaml.Node, what string) int64 {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		l.fail(n, "%s must be an integer", what)
		return 0
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
	if err != nil {
		u, uerr := strconv.ParseUint(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if uerr != nil {
			l.fail(n, "%s: bad integer %q", what, n.Value)
			return 0
		}
		return int64(u)
	}
	return v
}

// ranged reads an integer key within [lo, hi].
func (m *mnode) ranged(k string, def, lo, hi int64) int {
	v, n := m.int(k, def)
	if v < lo || v > hi {
		m.l.fail(n, "%s.%s must be between %d and %d, not %d", m.what, k, lo, hi, v)
		return int(def)
	}
	return int(v)
}

// position reads a frame position: an offset from the start (integer) or
// "end" / "end-N".
func (l *loader) position(n *yaml.Node, what string) pos {
	n = deref(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		v := l.intVal(n, what)
		if v < 0 || v > HardMaxFrameLen {
			l.fail(n, "%s must be between 0 and %d, or \"end-N\"", what, HardMaxFrameLen)
		}
		return pos{n: int(v)}
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		s := strings.ReplaceAll(n.Value, " ", "")
		if s == "end" {
			return pos{fromEnd: true}
		}
		if rest, ok := strings.CutPrefix(s, "end-"); ok {
			v, err := strconv.ParseInt(rest, 0, 64)
			if err == nil && v >= 0 && v <= HardMaxFrameLen {
				return pos{n: int(v), fromEnd: true}
			}
		}
	}
	l.fail(n, "%s must be an offset (integer) or \"end\" / \"end-N\"", what)
	return pos{}
}

func (m *mnode) position(k string, def pos) pos {
	v := m.get(k, false)
	if v == nil {
		return def
	}
	return m.l.position(v, m.what+"."+k)
}

// byteSeq reads a byte sequence: an integer 0-255 (one byte), a string of
// hex pairs ("02", "56 4e 45 54", "0x1b 0x5b"), or {text: "..."}.
func (l *loader) byteSeq(n *yaml.Node, what string, maxLen int) []byte {
	n = deref(n)
	var out []byte
	switch {
	case n.Kind == yaml.ScalarNode && n.Tag == "!!int":
		v := l.intVal(n, what)
		if v < 0 || v > 255 {
			l.fail(n, "%s: a byte is 0-255, not %d", what, v)
			return nil
		}
		out = []byte{byte(v)}
	case n.Kind == yaml.ScalarNode && n.Tag == "!!str":
		s := strings.NewReplacer(" ", "", ":", "", "0x", "", "0X", "").Replace(n.Value)
		b, err := hexDecode(s)
		if err != nil {
			l.fail(n, "%s: %q is not hex bytes (use {text: ...} for text)", what, n.Value)
			return nil
		}
		out = b
	case n.Kind == yaml.MappingNode:
		m := l.mapping(n, what, "text")
		t, _ := m.str("text", true)
		out = []byte(t)
	default:
		l.fail(n, "%s must be a byte (0-255), hex bytes (\"02 1b\") or {text: ...}", what)
		return nil
	}
	if len(out) == 0 {
		l.fail(n, "%s is empty", what)
	} else if len(out) > maxLen {
		l.fail(n, "%s is longer than %d bytes", what, maxLen)
	}
	return out
}

func hexDecode(s string) ([]byte, error) {
	if len(s)%2 != 0 {
		return nil, errors.New("odd")
	}
	out := make([]byte, len(s)/2)
	for i := range out {
		a, ok1 := hexDigit(s[2*i])
		b, ok2 := hexDigit(s[2*i+1])
		if !ok1 || !ok2 {
			return nil, errors.New("not hex")
		}
		out[i] = a<<4 | b
	}
	return out, nil
}

// document compiles one YAML document: a protocol, or {version, protocols}.
func (l *loader) document(n *yaml.Node, defs *[]*def) {
	n = deref(n)
	if n.Kind == yaml.MappingNode {
		isList := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i].Value; k == "protocols" || k == "version" {
				isList = true
			}
		}
		if isList {
			m := l.mapping(n, "file", "version", "protocols")
			if v, vn := m.int("version", 1); v != 1 {
				l.fail(vn, "version must be 1")
			}
			list := m.get("protocols", true)
			if list == nil {
				return
			}
			if list.Kind != yaml.SequenceNode {
				l.fail(list, "protocols must be a list")
				return
			}
			for _, p := range list.Content {
				if len(*defs) > MaxDefinitions {
					return
				}
				if d := l.protocol(p); l.err == nil {
					*defs = append(*defs, d)
				}
			}
			return
		}
		if d := l.protocol(n); l.err == nil {
			*defs = append(*defs, d)
		}
		return
	}
	l.fail(n, "a definition file holds a protocol mapping or {version: 1, protocols: [...]}")
}

var protocolKeys = []string{"name", "description", "enabled", "transport", "ports", "idle_timeout", "max_frame_len", "match", "framing", "checksum", "fields", "handshake"}

// protocol compiles one protocol definition.
func (l *loader) protocol(n *yaml.Node) *def {
	n = deref(n)
	d := &def{file: l.file, line: n.Line, enabled: true, matchDir: -1, escape: -1, maxFrame: DefaultMaxFrameLen, transport: parser.TCP}
	m := l.mapping(n, "protocol", protocolKeys...)
	if l.err != nil {
		return d
	}
	name, nn := m.str("name", true)
	switch {
	case nn == nil:
	case !nameRe.MatchString(name):
		l.fail(nn, "name %q must be one lower-case word: a letter, then letters or digits, at most 32", name)
	case slices.Contains(reservedNames, name):
		l.fail(nn, "name %q is reserved (a medtap parser or event type)", name)
	}
	d.name = name
	m.str("description", false)
	d.enabled = m.boolean("enabled", true)
	if t, tn := m.str("transport", false); tn != nil {
		switch t {
		case "tcp":
		case "udp":
			d.transport = parser.UDP
		case "both":
			d.transport = parser.TCP | parser.UDP
		default:
			l.fail(tn, "transport must be tcp, udp or both, not %q", t)
		}
	}
	if pn := m.get("ports", false); pn != nil {
		if pn.Kind != yaml.SequenceNode {
			l.fail(pn, "ports must be a list")
		} else if len(pn.Content) > MaxPorts {
			l.fail(pn, "more than %d ports (MaxPorts)", MaxPorts)
		} else {
			for _, p := range pn.Content {
				v := l.intVal(deref(p), "port")
				if v < 1 || v > 65535 {
					l.fail(p, "port must be 1-65535, not %d", v)
				}
				d.ports = append(d.ports, uint16(v))
			}
		}
	}
	if s, sn := m.str("idle_timeout", false); sn != nil {
		t, err := time.ParseDuration(s)
		if err != nil || t <= 0 || t > 24*time.Hour {
			l.fail(sn, "idle_timeout must be a duration between 1s and 24h (\"90s\", \"1h\"), not %q", s)
		}
		d.idle = t
	}
	d.maxFrame = m.ranged("max_frame_len", DefaultMaxFrameLen, 1, HardMaxFrameLen)
	if mn := m.get("match", false); mn != nil {
		l.match(d, mn)
	}
	if fn := m.get("framing", true); fn != nil {
		l.framing(d, fn)
	}
	if cn := m.get("checksum", false); cn != nil {
		l.checksum(d, cn)
	}
	if l.err != nil {
		return d
	}
	if fn := m.get("fields", false); fn != nil {
		l.fields(d, fn)
	}
	if hn := m.get("handshake", false); hn != nil {
		l.handshake(d, hn)
	}
	if l.err != nil {
		return d
	}
	d.numberConds()
	if !d.hasMatch {
		switch {
		case len(d.ports) == 0:
			l.fail(n, "protocol %q needs a content match (match) or port hints (ports)", name)
		case d.sum == nil && len(d.sync) == 0:
			l.fail(n, "protocol %q has no match: the probe sees bytes, not ports, so without a content match it must verify a whole first frame, which needs a checksum or framing.sync", name)
		}
	}
	if d.kind == kindFixed && d.fixed > d.maxFrame {
		l.fail(n, "framing.size %d is larger than max_frame_len %d", d.fixed, d.maxFrame)
	}
	return d
}

func (l *loader) match(d *def, n *yaml.Node) {
	m := l.mapping(n, "match", "direction", "offset", "magic", "regex", "window")
	if dn := m.get("direction", false); dn != nil {
		d.matchDir = l.direction(dn, "match.direction")
	}
	d.magicOff = m.ranged("offset", 0, 0, parser.MaxProbeBytes-1)
	if mg := m.get("magic", false); mg != nil {
		d.magic = l.byteSeq(mg, "match.magic", parser.MaxProbeBytes)
		if d.magicOff+len(d.magic) > parser.MaxProbeBytes {
			l.fail(mg, "match.offset + magic length must be at most %d (parser.MaxProbeBytes)", parser.MaxProbeBytes)
		}
	} else if m.has("offset") {
		l.fail(m.vals["offset"], "match.offset needs match.magic")
	}
	if s, sn := m.str("regex", false); sn != nil {
		d.re = l.regex(sn, s, "match.regex")
	}
	d.regexWindow = m.ranged("window", DefaultRegexWindow, 1, parser.MaxProbeBytes)
	if m.has("window") && d.re == nil {
		l.fail(m.vals["window"], "match.window needs match.regex")
	}
	if d.magic == nil && d.re == nil && l.err == nil {
		l.fail(m.n, "match needs magic or regex")
	}
	d.hasMatch = true
}

func (l *loader) regex(n *yaml.Node, s, what string) *regexp.Regexp {
	if len(s) > MaxRegexLen {
		l.fail(n, "%s is longer than %d characters (MaxRegexLen)", what, MaxRegexLen)
		return nil
	}
	re, err := regexp.Compile(s)
	if err != nil {
		l.fail(n, "%s: %v", what, err)
		return nil
	}
	return re
}

func (l *loader) direction(n *yaml.Node, what string) int8 {
	switch l.strVal(n, what) {
	case "any":
		return -1
	case "to_server":
		return int8(parser.ToServer)
	case "to_client":
		return int8(parser.ToClient)
	}
	l.fail(n, "%s must be any, to_server or to_client", what)
	return -1
}

func (l *loader) endian(m *mnode) bool {
	s, sn := m.str("endian", false)
	switch {
	case sn == nil, s == "big":
		return true
	case s == "little":
		return false
	}
	l.fail(sn, "%s.endian must be big or little, not %q", m.what, s)
	return true
}

func (l *loader) framing(d *def, n *yaml.Node) {
	n = deref(n)
	var k string
	var kn *yaml.Node
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "kind" {
				kn = deref(n.Content[i+1])
				k = l.strVal(kn, "framing.kind")
			}
		}
	}
	var allowed []string
	switch k {
	case "length_prefixed":
		d.kind, allowed = kindLength, []string{"kind", "offset", "size", "endian", "includes_header", "adjust", "sync"}
	case "delimited":
		d.kind, allowed = kindDelim, []string{"kind", "start", "end", "escape", "escape_xor", "trailer", "idle"}
	case "fixed":
		d.kind, allowed = kindFixed, []string{"kind", "size", "sync"}
	case "tlv":
		d.kind, allowed = kindTLV, []string{"kind", "type_size", "length_size", "endian", "includes_header", "adjust", "sync"}
	default:
		if n.Kind != yaml.MappingNode {
			l.fail(n, "framing must be a mapping")
		} else if kn == nil {
			l.fail(n, "framing: missing \"kind\" (length_prefixed, delimited, fixed or tlv)")
		} else {
			l.fail(kn, "framing.kind must be length_prefixed, delimited, fixed or tlv, not %q", k)
		}
		return
	}
	m := l.mapping(n, "framing", allowed...)
	switch d.kind {
	case kindLength, kindTLV:
		if d.kind == kindLength {
			d.lenOff = m.ranged("offset", 0, 0, MaxHeaderOffset)
			d.lenSize = l.sizeOf(m, "size", true)
		} else {
			d.lenOff = l.sizeOf(m, "type_size", true)
			d.lenSize = l.sizeOf(m, "length_size", true)
		}
		d.lenBig = l.endian(m)
		d.inclHdr = m.boolean("includes_header", false)
		d.adjust = m.ranged("adjust", 0, -HardMaxFrameLen, HardMaxFrameLen)
	case kindFixed:
		v, vn := m.int("size", 0)
		if !m.has("size") {
			l.fail(m.n, "framing: missing \"size\"")
		} else if v < 1 || v > HardMaxFrameLen {
			l.fail(vn, "framing.size must be between 1 and %d", HardMaxFrameLen)
		}
		d.fixed = int(v)
	case kindDelim:
		if sn := m.get("start", false); sn != nil {
			d.start = l.byteSeq(sn, "framing.start", MaxDelimiterLen)
		}
		en := m.get("end", true)
		if en != nil {
			if en.Kind == yaml.SequenceNode {
				if len(en.Content) == 0 || len(en.Content) > MaxEndDelimiters {
					l.fail(en, "framing.end: 1 to %d alternatives", MaxEndDelimiters)
				}
				for _, e := range en.Content {
					d.ends = append(d.ends, l.byteSeq(e, "framing.end", MaxDelimiterLen))
				}
			} else {
				d.ends = [][]byte{l.byteSeq(en, "framing.end", MaxDelimiterLen)}
			}
		}
		if en := m.get("escape", false); en != nil {
			e := l.byteSeq(en, "framing.escape", 1)
			if len(e) == 1 {
				d.escape = int(e[0])
				for _, seq := range append([][]byte{d.start}, d.ends...) {
					if bytes.IndexByte(seq, e[0]) >= 0 {
						l.fail(en, "framing.escape 0x%02x is part of a delimiter", e[0])
					}
				}
			}
		}
		if xn := m.get("escape_xor", false); xn != nil {
			if d.escape < 0 {
				l.fail(xn, "framing.escape_xor needs framing.escape")
			}
			x := l.byteSeq(xn, "framing.escape_xor", 1)
			if len(x) == 1 {
				d.escXor = x[0]
			}
		}
		d.trailer = m.ranged("trailer", 0, 0, MaxTrailer)
		d.startDelim = mkDelim(d.start)
		for _, e := range d.ends {
			d.endDelims = append(d.endDelims, mkDelim(e))
			if len(d.start) > 0 && bytes.Equal(e, d.start) {
				d.startIsEnd = true
			}
		}
		if in := m.get("idle", false); in != nil {
			for _, b := range l.byteSeq(in, "framing.idle", 256) {
				if bytes.IndexByte(d.start, b) >= 0 {
					l.fail(in, "framing.idle holds 0x%02x, a byte of the start delimiter", b)
				}
				d.idleByte[b] = true
				d.hasIdle = true
			}
		}
	}
	if sn := m.get("sync", false); sn != nil {
		sm := l.mapping(sn, "framing.sync", "offset", "bytes")
		d.syncOff = sm.ranged("offset", 0, 0, MaxHeaderOffset)
		if bn := sm.get("bytes", true); bn != nil {
			d.sync = l.byteSeq(bn, "framing.sync.bytes", MaxSyncLen)
		}
		if d.kind == kindFixed && d.syncOff+len(d.sync) > d.fixed {
			l.fail(sn, "framing.sync does not fit in a %d-byte frame", d.fixed)
		}
	}
	switch d.kind {
	case kindLength, kindTLV:
		d.hdrNeed = max(d.lenOff+d.lenSize, d.syncOff+len(d.sync))
	case kindFixed:
		d.hdrNeed = d.syncOff + len(d.sync)
	}
}

// sizeOf reads an integer size among 1, 2, 4, 8.
func (l *loader) sizeOf(m *mnode, k string, required bool) int {
	v, vn := m.int(k, 0)
	if !m.has(k) {
		if required {
			l.fail(m.n, "%s: missing %q", m.what, k)
		}
		return 0
	}
	if v != 1 && v != 2 && v != 4 && v != 8 {
		l.fail(vn, "%s.%s must be 1, 2, 4 or 8, not %d", m.what, k, v)
	}
	return int(v)
}

func (l *loader) checksum(d *def, n *yaml.Node) {
	m := l.mapping(n, "checksum", "algorithm", "from", "to", "at", "encoding", "endian")
	c := &checksum{}
	alg, an := m.str("algorithm", true)
	if an != nil {
		size, ok := checksumSizes[alg]
		if !ok {
			l.fail(an, "checksum.algorithm must be sum8, xor8, crc16-ccitt or crc32, not %q", alg)
		}
		c.alg, c.size = alg, size
	}
	c.from = m.position("from", pos{})
	atn := m.get("at", true)
	if atn != nil {
		c.at = l.position(atn, "checksum.at")
	}
	c.to = m.position("to", c.at)
	if e, en := m.str("encoding", false); en != nil {
		switch e {
		case "binary":
		case "hex":
			c.hex = true
		default:
			l.fail(en, "checksum.encoding must be binary or hex, not %q", e)
		}
	}
	c.big = l.endian(m)
	if l.err != nil {
		return
	}
	w := c.width()
	// Shortest frame holding the range and the value.
	need := 0
	for _, p := range []pos{c.from, c.to} {
		need = max(need, p.n)
	}
	if c.at.fromEnd {
		if c.at.n < w {
			l.fail(atn, "checksum.at leaves no room for the %d-byte value before the end", w)
		}
		need = max(need, c.at.n)
	} else {
		need = max(need, c.at.n+w)
	}
	c.minFrame = need
	if c.from.fromEnd == c.to.fromEnd && c.from.at(1<<30) > c.to.at(1<<30) {
		l.fail(m.n, "checksum.from is after checksum.to")
	}
	// Positions are linear in the frame length: check a long frame.
	if a, e, at := c.from.at(1<<30), c.to.at(1<<30), c.at.at(1<<30); at < e && at+w > a {
		l.fail(atn, "checksum.at lies inside the range it checks")
	}
	if d.kind == kindFixed && need > d.fixed {
		l.fail(m.n, "checksum does not fit in a %d-byte frame", d.fixed)
	}
	d.sum = c
}

var fieldKeys = []string{"name", "offset", "size", "to", "type", "endian", "charset", "regex", "from", "identity", "phi", "command", "report", "values", "when"}

// pendingCond is a condition whose field is resolved once all fields are
// known.
type pendingCond struct {
	n    *yaml.Node
	what string
	dst  **cond
}

func (l *loader) fields(d *def, n *yaml.Node) {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		l.fail(n, "fields must be a list")
		return
	}
	if len(n.Content) > MaxFields {
		l.fail(n.Content[MaxFields], "more than %d fields (MaxFields)", MaxFields)
		return
	}
	var conds []pendingCond
	for _, fn := range n.Content {
		f := l.field(d, fn, &conds)
		if l.err != nil {
			return
		}
		for _, o := range d.fields {
			if o.name == f.name {
				l.fail(fn, "field %q defined twice", f.name)
				return
			}
		}
		f.idx = len(d.fields)
		d.fields = append(d.fields, f)
	}
	for _, pc := range conds {
		*pc.dst = l.cond(d, pc.n, pc.what)
	}
	for _, f := range d.fields {
		switch f.role {
		case roleIdentity, rolePHI, roleCommand:
			d.triggers = append(d.triggers, f)
			if f.re != nil {
				d.hasRegexTrigger = true
			}
		case roleReport:
			d.reports = append(d.reports, f)
		}
	}
}

func (l *loader) field(d *def, n *yaml.Node, conds *[]pendingCond) *field {
	m := l.mapping(n, "field", fieldKeys...)
	f := &field{big: true}
	name, nn := m.str("name", true)
	if nn != nil && !fieldNameRe.MatchString(name) {
		l.fail(nn, "field name %q must be lower_snake_case, at most 64 characters", name)
	}
	f.name = name
	what := fmt.Sprintf("field %q", name)
	if l.err != nil {
		return f
	}
	typ, tn := m.str("type", false)
	switch typ {
	case "", "string":
		f.typ = ftString
	case "uint":
		f.typ = ftUint
	case "bytes":
		f.typ = ftBytes
	case "bcd":
		f.typ = ftBCD
	default:
		l.fail(tn, "%s: type must be uint, string, bytes or bcd, not %q", what, typ)
	}
	if s, sn := m.str("regex", false); sn != nil {
		for _, k := range []string{"offset", "size", "endian", "values"} {
			if m.has(k) {
				l.fail(m.vals[k], "%s: %q does not apply to a regex field", what, k)
			}
		}
		if f.typ != ftString {
			l.fail(tn, "%s: a regex field is a string", what)
		}
		f.re = l.regex(sn, s, what+" regex")
		if f.re != nil && f.re.NumSubexp() < 1 {
			l.fail(sn, "%s: the regex needs a capture group: the field's value is the first one", what)
		}
		f.from = m.position("from", pos{})
		f.to = m.position("to", pos{fromEnd: true})
	} else {
		if m.has("from") {
			l.fail(m.vals["from"], "%s: \"from\" is for regex fields; an offset field has \"offset\"", what)
		}
		on := m.get("offset", false)
		if on == nil {
			l.fail(m.n, "%s needs \"offset\" or \"regex\"", what)
			return f
		}
		f.from = l.position(on, what+" offset")
		switch {
		case m.has("size") && m.has("to"):
			l.fail(m.vals["to"], "%s: give \"size\" or \"to\", not both", what)
		case m.has("size"):
			f.sized = true
			hi := int64(MaxFieldSize)
			if f.typ == ftUint {
				hi = 8
			}
			f.size = m.ranged("size", 1, 1, hi)
		case f.typ == ftUint:
			l.fail(m.n, "%s: a uint field needs \"size\" (1 to 8)", what)
		default:
			f.to = m.position("to", pos{fromEnd: true})
		}
	}
	if m.has("endian") {
		if f.typ != ftUint {
			l.fail(m.vals["endian"], "%s: endian applies to uint fields", what)
		}
		f.big = l.endian(m)
	}
	if cs, cn := m.str("charset", false); cn != nil {
		if f.typ != ftString {
			l.fail(cn, "%s: charset applies to string fields", what)
		}
		switch cs {
		case "ascii":
			f.cs = csASCII
		case "utf-8":
			f.cs = csUTF8
		case "gb18030":
			f.cs = csGB18030
		case "latin1":
			f.cs = csLatin1
		default:
			l.fail(cn, "%s: charset must be ascii, utf-8, gb18030 or latin1, not %q", what, cs)
		}
	} else if f.typ == ftString {
		f.cs = csUTF8
	}
	roles := 0
	if s, sn := m.str("identity", false); sn != nil {
		roles++
		i := slices.Index(identityKeys[:], s)
		if i < 0 {
			l.fail(sn, "%s: identity must be one of %s, not %q", what, strings.Join(identityKeys[:], ", "), s)
		}
		f.role, f.idKey = roleIdentity, uint8(max(i, 0))
	}
	if s, sn := m.str("phi", false); sn != nil {
		roles++
		i := slices.Index(catOrder[:], s)
		if i < 0 {
			l.fail(sn, "%s: phi must be one of %s, not %q", what, strings.Join(catOrder[:], ", "), s)
		}
		f.role, f.cat = rolePHI, 1<<max(i, 0)
	}
	if m.boolean("command", false) {
		roles++
		f.role = roleCommand
	}
	if m.boolean("report", false) {
		roles++
		f.role = roleReport
	}
	if roles > 1 {
		l.fail(m.n, "%s: identity, phi, command and report exclude each other", what)
	}
	if roles == 0 && f.re != nil {
		l.fail(m.n, "%s: a regex field needs identity, phi, command or report (conditions read offset fields only)", what)
	}
	if vn := m.get("values", false); vn != nil {
		if f.typ != ftUint {
			l.fail(vn, "%s: values apply to uint fields", what)
		}
		f.names = l.valueNames(vn, what)
	}
	if wn := m.get("when", false); wn != nil {
		f.hasWhen = true
		*conds = append(*conds, pendingCond{wn, what + " when", &f.when})
	}
	if l.err == nil && d.kind == kindFixed && f.re == nil {
		if _, ok := f.span(make([]byte, d.fixed)); !ok {
			l.fail(m.n, "%s does not fit in a %d-byte frame", what, d.fixed)
		}
	}
	return f
}

func (l *loader) valueNames(n *yaml.Node, what string) map[uint64]string {
	if n.Kind != yaml.MappingNode {
		l.fail(n, "%s: values must be a mapping of integers to names", what)
		return nil
	}
	if len(n.Content)/2 > MaxValueNames {
		l.fail(n, "%s: more than %d values (MaxValueNames)", what, MaxValueNames)
		return nil
	}
	out := map[uint64]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		c := uint64(l.intVal(k, what+" values key"))
		s := l.strVal(v, what+" value name")
		if l.err != nil {
			return nil
		}
		if !valueNameRe.MatchString(s) {
			l.fail(v, "%s: value name %q must be a word of letters, digits, '_', '.', '-' (at most 64)", what, s)
		}
		if _, dup := out[c]; dup {
			l.fail(k, "%s: value %d named twice", what, c)
		}
		out[c] = s
	}
	return out
}

// cond compiles a condition: {field, equals | in | not_in, direction}.
func (l *loader) cond(d *def, n *yaml.Node, what string) *cond {
	m := l.mapping(n, what, "field", "equals", "in", "not_in", "direction")
	c := &cond{dir: -1}
	name, fn := m.str("field", true)
	if l.err != nil {
		return c
	}
	i := slices.IndexFunc(d.fields, func(f *field) bool { return f.name == name })
	if i < 0 {
		l.fail(fn, "%s: no field %q", what, name)
		return c
	}
	c.f = d.fields[i]
	switch {
	case c.f.re != nil:
		l.fail(fn, "%s: field %q is a regex field; conditions read offset fields", what, name)
	case c.f.hasWhen:
		l.fail(fn, "%s: field %q has its own condition; conditions read fields without one", what, name)
	}
	if dn := m.get("direction", false); dn != nil {
		c.dir = l.direction(dn, what+" direction")
	}
	var vals []*yaml.Node
	ops := 0
	if v := m.get("equals", false); v != nil {
		ops++
		vals = []*yaml.Node{v}
	}
	for _, k := range []string{"in", "not_in"} {
		v := m.get(k, false)
		if v == nil {
			continue
		}
		ops++
		c.neg = k == "not_in"
		if v.Kind != yaml.SequenceNode || len(v.Content) == 0 || len(v.Content) > MaxConditionValues {
			l.fail(v, "%s: %s must be a list of 1 to %d values", what, k, MaxConditionValues)
			return c
		}
		vals = v.Content
	}
	if ops != 1 {
		l.fail(m.n, "%s needs exactly one of equals, in, not_in", what)
		return c
	}
	for _, v := range vals {
		v = deref(v)
		switch c.f.typ {
		case ftUint:
			c.nums = append(c.nums, uint64(l.intVal(v, what+" value")))
		case ftBytes:
			c.strs = append(c.strs, string(l.byteSeq(v, what+" value", MaxFieldSize)))
		default:
			c.strs = append(c.strs, l.strVal(v, what+" value"))
		}
	}
	return c
}

func (l *loader) handshake(d *def, n *yaml.Node) {
	m := l.mapping(n, "handshake", "authenticated_when", "allowed_before")
	h := &handshake{}
	if an := m.get("authenticated_when", true); an != nil {
		h.auth = l.cond(d, an, "handshake.authenticated_when")
	}
	if bn := m.get("allowed_before", false); bn != nil {
		h.allowed = l.cond(d, bn, "handshake.allowed_before")
	}
	d.hs = h
}

// numberConds gives equal conditions one id, so a frame evaluates each
// once however many fields depend on it.
func (d *def) numberConds() {
	var all []*cond
	for _, f := range d.fields {
		if f.when != nil {
			all = append(all, f.when)
		}
	}
	if d.hs != nil {
		all = append(all, d.hs.auth)
		if d.hs.allowed != nil {
			all = append(all, d.hs.allowed)
		}
	}
	ids := map[string]int{}
	for _, c := range all {
		k := fmt.Sprint(c.f.idx, c.dir, c.nums, c.strs, c.neg)
		id, ok := ids[k]
		if !ok {
			id = len(ids)
			ids[k] = id
		}
		c.id = id
	}
}
