package framing

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medtap/medtap/parsers/parser"
)

// okBase is a valid definition the bad cases below change one thing in.
const okBase = `name: t
match: {magic: "00"}
framing: {kind: length_prefixed, size: 2}
`

// badDefinitions are definition mistakes and the error each gives (after
// "test.yaml:"). FuzzLoad is seeded with them.
var badDefinitions = []struct {
	yaml, want string
}{
	{"", "1: no protocol defined"},
	{"name: [", "1: bad YAML: did not find expected node content"},
	{"- a\n- b\n", "1: a definition file holds a protocol mapping"},
	{"name: t\nname: u\n", "2: protocol: key \"name\" given twice"},
	{okBase + "colour: red\n", "4: unknown key \"colour\" in protocol"},
	{"match: {magic: \"00\"}\nframing: {kind: fixed, size: 4}\n", "1: protocol: missing \"name\""},
	{"name: Vital\n" + okBase[8:], "1: name \"Vital\" must be one lower-case word"},
	{"name: hl7\n" + okBase[8:], "1: name \"hl7\" is reserved"},
	{"name: 7up\n" + okBase[8:], "1: name \"7up\" must be one lower-case word"},
	{okBase + "transport: sctp\n", "4: transport must be tcp, udp or both"},
	{okBase + "ports: [7001, 70000]\n", "4: port must be 1-65535, not 70000"},
	{okBase + "ports: 7001\n", "4: ports must be a list"},
	{okBase + "idle_timeout: forever\n", "4: idle_timeout must be a duration"},
	{okBase + "max_frame_len: 0\n", "4: protocol.max_frame_len must be between 1 and 16777216, not 0"},
	{okBase + "enabled: maybe\n", "4: protocol.enabled must be true or false"},
	{"name: t\nmatch: {offset: 2}\nframing: {kind: fixed, size: 4}\n", "2: match.offset needs match.magic"},
	{"name: t\nmatch: {direction: any}\nframing: {kind: fixed, size: 4}\n", "2: match needs magic or regex"},
	{"name: t\nmatch: {offset: 510, magic: \"00 01 02\"}\nframing: {kind: fixed, size: 4}\n", "2: match.offset + magic length must be at most 512"},
	{"name: t\nmatch:\n  regex: '(unclosed'\nframing: {kind: fixed, size: 4}\n", "3: match.regex: error parsing regexp"},
	{"name: t\nmatch: {magic: \"0g\"}\nframing: {kind: fixed, size: 4}\n", "2: match.magic: \"0g\" is not hex bytes"},
	{"name: t\nmatch: {magic: 256}\nframing: {kind: fixed, size: 4}\n", "2: match.magic: a byte is 0-255, not 256"},
	{"name: t\nmatch: {direction: up, magic: 1}\nframing: {kind: fixed, size: 4}\n", "2: match.direction must be any, to_server or to_client"},
	{"name: t\nframing: {kind: fixed, size: 4}\n", "1: protocol \"t\" needs a content match (match) or port hints (ports)"},
	{"name: t\nports: [9]\nframing: {kind: fixed, size: 4}\n", "1: protocol \"t\" has no match: the probe sees bytes, not ports"},
	{"name: t\nmatch: {magic: 1}\n", "1: protocol: missing \"framing\""},
	{"name: t\nmatch: {magic: 1}\nframing: {size: 4}\n", "3: framing: missing \"kind\""},
	{"name: t\nmatch: {magic: 1}\nframing:\n  kind: slip\n", "4: framing.kind must be length_prefixed, delimited, fixed or tlv, not \"slip\""},
	{"name: t\nmatch: {magic: 1}\nframing:\n  kind: length_prefixed\n  size: 3\n", "5: framing.size must be 1, 2, 4 or 8, not 3"},
	{"name: t\nmatch: {magic: 1}\nframing:\n  kind: length_prefixed\n", "4: framing: missing \"size\""},
	{"name: t\nmatch: {magic: 1}\nframing:\n  kind: length_prefixed\n  size: 2\n  endian: middle\n", "6: framing.endian must be big or little"},
	{"name: t\nmatch: {magic: 1}\nframing:\n  kind: length_prefixed\n  size: 2\n  start: 0x02\n", "6: unknown key \"start\" in framing"},
	{"name: t\nmatch: {magic: 1}\nframing:\n  kind: length_prefixed\n  size: 2\n  offset: 300\n", "6: framing.offset must be between 0 and 256"},
	{"name: t\nmatch: {magic: 1}\nframing:\n  kind: delimited\n  start: 0x02\n", "4: framing: missing \"end\""},
	{"name: t\nmatch: {magic: 1}\nframing:\n  kind: delimited\n  end: \"00 01 02 03 04 05 06 07 08\"\n", "5: framing.end is longer than 8 bytes"},
	{"name: t\nmatch: {magic: 1}\nframing:\n  kind: delimited\n  end: 0x03\n  escape: 0x03\n", "6: framing.escape 0x03 is part of a delimiter"},
	{"name: t\nmatch: {magic: 1}\nframing:\n  kind: delimited\n  end: 0x03\n  escape_xor: 0x20\n", "6: framing.escape_xor needs framing.escape"},
	{"name: t\nmatch: {magic: 1}\nframing:\n  kind: delimited\n  start: 0x02\n  end: 0x03\n  idle: \"05 02\"\n", "7: framing.idle holds 0x02, a byte of the start delimiter"},
	{"name: t\nmatch: {magic: 1}\nframing:\n  kind: delimited\n  end: 0x03\n  trailer: 17\n", "6: framing.trailer must be between 0 and 16"},
	{"name: t\nmatch: {magic: 1}\nframing:\n  kind: delimited\n  end: []\n", "5: framing.end: 1 to 8 alternatives"},
	{"name: t\nmatch: {magic: 1}\nframing: {kind: fixed, size: 4, sync: {offset: 3, bytes: \"aa bb\"}}\n", "3: framing.sync does not fit in a 4-byte frame"},
	{"name: t\nmatch: {magic: 1}\nmax_frame_len: 8\nframing: {kind: fixed, size: 9}\n", "1: framing.size 9 is larger than max_frame_len 8"},
	{"name: t\nmatch: {magic: 1}\nframing: {kind: tlv, type_size: 1}\n", "3: framing: missing \"length_size\""},
	{okBase + "checksum: {algorithm: md5, at: end-1}\n", "4: checksum.algorithm must be sum8, xor8, crc16-ccitt or crc32, not \"md5\""},
	{okBase + "checksum: {algorithm: sum8}\n", "4: checksum: missing \"at\""},
	{okBase + "checksum:\n  algorithm: crc32\n  at: end-2\n", "6: checksum.at leaves no room for the 4-byte value before the end"},
	{okBase + "checksum:\n  algorithm: sum8\n  from: 0\n  to: end\n  at: end-1\n", "8: checksum.at lies inside the range it checks"},
	{okBase + "checksum:\n  algorithm: sum8\n  from: 5\n  to: 2\n  at: 2\n", "5: checksum.from is after checksum.to"},
	{okBase + "checksum:\n  algorithm: sum8\n  at: middle\n", "6: checksum.at must be an offset (integer) or \"end\" / \"end-N\""},
	{okBase + "checksum:\n  algorithm: sum8\n  at: end-1\n  encoding: base64\n", "7: checksum.encoding must be binary or hex"},
	{"name: t\nmatch: {magic: 1}\nframing: {kind: fixed, size: 4}\nchecksum: {algorithm: crc32, at: 2}\n", "4: checksum does not fit in a 4-byte frame"},
	{okBase + "fields: {}\n", "4: fields must be a list"},
	{okBase + "fields:\n  - {name: a, offset: 1, size: 1, type: float}\n", "5: field \"a\": type must be uint, string, bytes or bcd"},
	{okBase + "fields:\n  - {name: A, offset: 1, size: 1}\n", "5: field name \"A\" must be lower_snake_case"},
	{okBase + "fields:\n  - name: a\n    size: 1\n", "5: field \"a\" needs \"offset\" or \"regex\""},
	{okBase + "fields:\n  - {name: a, offset: 1, type: uint}\n", "5: field \"a\": a uint field needs \"size\" (1 to 8)"},
	{okBase + "fields:\n  - name: a\n    offset: 1\n    type: uint\n    size: 9\n", "8: field.size must be between 1 and 8, not 9"},
	{okBase + "fields:\n  - name: a\n    offset: 1\n    size: 1\n    to: end\n", "8: field \"a\": give \"size\" or \"to\", not both"},
	{okBase + "fields:\n  - {name: a, offset: 1, size: 1}\n  - {name: a, offset: 2, size: 1}\n", "6: field \"a\" defined twice"},
	{okBase + "fields:\n  - name: a\n    offset: 1\n    size: 1\n    identity: colour\n", "8: field \"a\": identity must be one of manufacturer, model"},
	{okBase + "fields:\n  - name: a\n    offset: 1\n    size: 1\n    phi: shoe_size\n", "8: field \"a\": phi must be one of name, id"},
	{okBase + "fields:\n  - name: a\n    offset: 1\n    size: 1\n    phi: name\n    identity: serial\n", "5: field \"a\": identity, phi, command and report exclude each other"},
	{okBase + "fields:\n  - name: a\n    offset: 1\n    size: 1\n    charset: ebcdic\n", "8: field \"a\": charset must be ascii, utf-8, gb18030 or latin1"},
	{okBase + "fields:\n  - name: a\n    offset: 1\n    size: 1\n    type: uint\n    charset: ascii\n", "9: field \"a\": charset applies to string fields"},
	{okBase + "fields:\n  - name: a\n    offset: 1\n    size: 1\n    values: {1: x}\n", "8: field \"a\": values apply to uint fields"},
	{okBase + "fields:\n  - name: a\n    offset: 1\n    size: 1\n    type: uint\n    values: {1: \"two words\"}\n", "9: field \"a\": value name \"two words\" must be a word"},
	{okBase + "fields:\n  - name: a\n    regex: 'SN=[0-9]+'\n    report: true\n", "6: field \"a\": the regex needs a capture group"},
	{okBase + "fields:\n  - name: a\n    regex: 'SN=([0-9]+)'\n", "5: field \"a\": a regex field needs identity, phi, command or report"},
	{okBase + "fields:\n  - name: a\n    regex: 'SN=([0-9]+)'\n    offset: 3\n    report: true\n", "7: field \"a\": \"offset\" does not apply to a regex field"},
	{okBase + "fields:\n  - name: a\n    offset: 1\n    from: 3\n", "7: field \"a\": \"from\" is for regex fields"},
	{okBase + "fields:\n  - name: a\n    offset: 1\n    size: 1\n    when: {field: b, equals: 1}\n", "8: field \"a\" when: no field \"b\""},
	{okBase + "fields:\n  - {name: b, offset: 1, size: 1, type: uint}\n  - name: a\n    offset: 1\n    size: 1\n    when: {field: b}\n", "9: field \"a\" when needs exactly one of equals, in, not_in"},
	{okBase + "fields:\n  - {name: b, offset: 1, size: 1, type: uint}\n  - name: a\n    offset: 1\n    size: 1\n    when: {field: b, equals: x}\n", "9: field \"a\" when value must be an integer"},
	{okBase + "fields:\n  - {name: b, regex: 'x(y)', report: true}\n  - name: a\n    offset: 1\n    size: 1\n    when: {field: b, equals: y}\n", "9: field \"a\" when: field \"b\" is a regex field"},
	{okBase + "fields:\n  - {name: b, offset: 1, size: 1, type: uint, when: {field: c, equals: 1}}\n  - {name: c, offset: 1, size: 1, type: uint}\n  - name: a\n    offset: 1\n    size: 1\n    when: {field: b, equals: 1}\n", "10: field \"a\" when: field \"b\" has its own condition"},
	{"name: t\nmatch: {magic: 1}\nframing: {kind: fixed, size: 4}\nfields:\n  - {name: a, offset: 3, size: 2}\n", "5: field \"a\" does not fit in a 4-byte frame"},
	{okBase + "handshake: {}\n", "4: handshake: missing \"authenticated_when\""},
	{okBase + "fields:\n  - {name: b, offset: 1, size: 1, type: uint}\nhandshake:\n  authenticated_when: {field: b, in: 1}\n", "7: handshake.authenticated_when: in must be a list"},
	{okBase + "handshake:\n  authenticated_when: {field: nope, equals: 1}\n", "5: handshake.authenticated_when: no field \"nope\""},
	{"version: 2\nprotocols: []\n", "1: version must be 1"},
	{"version: 1\nprotocols: {}\n", "2: protocols must be a list"},
	{"version: 1\nprotocols:\n  - " + strings.ReplaceAll(okBase, "\n", "\n    ") + "\n  - " + strings.ReplaceAll(okBase, "\n", "\n    "), "7: protocol \"t\" already defined at line 3"},
	{okBase + "---\n" + okBase, "5: protocol \"t\" already defined at line 1"},
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range badDefinitions {
		_, err := Parse("test.yaml", []byte(tc.yaml))
		var de *DefinitionError
		if !errors.As(err, &de) {
			t.Errorf("%q: error %v, want a DefinitionError", tc.yaml, err)
			continue
		}
		if want := "test.yaml:" + tc.want; !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q:\n got %v\nwant %s...", tc.yaml, err, want)
		}
	}
}

func TestLoadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := write("a.yaml", okBase+"ports: [9001]\n")
	b := write("b.yaml", strings.Replace(okBase, "name: t", "name: u", 1)+"enabled: false\n")
	c := write("c.yaml", okBase)
	vn := write("vn.yaml", strings.Replace(okBase, "name: t", "name: vitalnet", 1))

	fs, err := Load(a, b)
	if err != nil || len(fs) != 1 || fs[0].Name != "t" || fs[0].Ports[0] != 9001 || fs[0].Transport != parser.TCP {
		t.Fatalf("Load: %v %+v", err, fs)
	}
	if _, err := Load(a, c); err == nil || !strings.Contains(err.Error(), "c.yaml:1: protocol \"t\" already defined at "+a+":1") {
		t.Errorf("duplicate across files: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Load("builtin:nope"); err == nil {
		t.Error("builtin:nope loaded")
	}
	big := write("big.yaml", "# "+strings.Repeat("x", MaxFileSize))
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "big.yaml:1: file larger than") {
		t.Errorf("big file: %v", err)
	}
	// Factories: built-ins, then loaded files; a loaded definition replaces
	// the built-in of the same name.
	all, err := Factories(a, vn)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range all {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != "devstat,t,vitalnet" {
		t.Errorf("Factories: %v", names)
	}
	if all[2].Ports != nil {
		t.Error("vitalnet not replaced")
	}
	if fs, err := Load("builtin:e1381"); err != nil || len(fs) != 1 || fs[0].Name != "e1381" {
		t.Errorf("builtin:e1381: %v", err)
	}
}

func TestBuiltin(t *testing.T) {
	var names []string
	for _, f := range Builtin() {
		names = append(names, f.Name)
		if f.New == nil || f.Probe == nil || f.Transport != parser.TCP {
			t.Errorf("%s: incomplete factory", f.Name)
		}
	}
	if strings.Join(names, ",") != "devstat,vitalnet" {
		t.Errorf("Builtin: %v", names)
	}
	if strings.Join(BuiltinNames(), ",") != "devstat,e1381,vitalnet" {
		t.Errorf("BuiltinNames: %v", BuiltinNames())
	}
	for _, f := range Builtin() {
		if len(f.Ports) != 1 || f.Ports[0] != map[string]uint16{"vitalnet": 7001, "devstat": 7002}[f.Name] {
			t.Errorf("%s ports %v", f.Name, f.Ports)
		}
	}
}

func TestTooManyDefinitions(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\nprotocols:\n")
	for i := range MaxDefinitions + 1 {
		b.WriteString("  - {name: p" + string(rune('a'+i/26)) + string(rune('a'+i%26)) + ", match: {magic: 1}, framing: {kind: fixed, size: 1}}\n")
	}
	_, err := Parse("many.yaml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "many.yaml:67: more than 64 protocols") {
		t.Errorf("%v", err)
	}
}
