package dicom

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// charsetDir holds pydicom's character set test files (MIT licence),
// shared outside the repository; tests skip when it is absent.
var charsetDir = filepath.Join("..", "..", "..", "shared", "corpus", "public", "pydicom", "charset_files")

// part10Dataset strips a Part 10 file's preamble and meta group and
// returns the dataset and its transfer syntax encoding.
func part10Dataset(t *testing.T, b []byte) ([]byte, tsKind) {
	t.Helper()
	if len(b) < 132 || string(b[128:132]) != "DICM" {
		t.Fatal("not a Part 10 file")
	}
	b = b[132:]
	ts := tsExplicitLE
	for len(b) >= 8 && binary.LittleEndian.Uint16(b) == 0x0002 {
		el := binary.LittleEndian.Uint16(b[2:])
		var n, h int
		if longVR(b[4], b[5]) {
			n, h = int(binary.LittleEndian.Uint32(b[8:])), 12
		} else {
			n, h = int(binary.LittleEndian.Uint16(b[6:])), 8
		}
		if el == 0x0010 {
			ts = tsKindOf(uidString(b[h : h+n]))
		}
		b = b[h+n:]
	}
	return b, ts
}

func TestCharsets(t *testing.T) {
	tests := []struct {
		file, want string
	}{
		{"chrX1.dcm", "Wang^XiaoDong=王^小東="},         // ISO_IR 192
		{"chrX2.dcm", "Wang^XiaoDong=王^小东="},         // GB18030
		{"chrFren.dcm", "Buc^Jérôme"},                // ISO_IR 100
		{"chrGerm.dcm", "Äneas^Rüdiger"},             // ISO_IR 100
		{"chrGreek.dcm", "Διονυσιος"},                // ISO_IR 126
		{"chrRuss.dcm", "Люкceмбypг"},                // ISO_IR 144
		{"chrH31.dcm", "Yamada^Tarou=山田^太郎=やまだ^たろう"}, // ISO 2022 IR 87
		{"chrH32.dcm", "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう"},     // ISO 2022 IR 13 + IR 87
		{"chrI2.dcm", "Hong^Gildong=洪^吉洞=홍^길동"},      // ISO 2022 IR 149
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "charset", tc.file))
			if err != nil {
				b, err = os.ReadFile(filepath.Join(charsetDir, tc.file))
			}
			if err != nil {
				t.Skipf("charset file absent: %v", err)
			}
			ds, ts := part10Dataset(t, b)
			var w walker
			var res dsResult
			w.anom = func(code string, _, _ int64) { t.Errorf("anomaly %s", code) }
			w.reset(ts, &res, false)
			for i := range ds { // byte by byte: values split everywhere
				w.write(ds[i : i+1])
			}
			charset := ""
			if res.identSet[idCharset] {
				charset = string(res.bytes(res.ident[idCharset]))
			}
			var name string
			for _, p := range res.phi {
				if p.tag == 0x00100010 {
					name = decodeText(charset, res.bytes(p.v))
				}
			}
			if name != tc.want {
				t.Errorf("charset %q: PatientName %q, want %q", charset, name, tc.want)
			}
		})
	}
}

// TestCharsetGBK and ISO 2022 IR 58 with synthetic bytes (GBK 王小东).
func TestCharsetChinese(t *testing.T) {
	gbk := []byte{'W', 'a', 'n', 'g', '=', 0xcd, 0xf5, '^', 0xd0, 0xa1, 0xb6, 0xab}
	if got := decodeText("GBK", gbk); got != "Wang=王^小东" {
		t.Errorf("GBK: %q", got)
	}
	ir58 := append([]byte("Wang=\x1b$)A"), 0xcd, 0xf5, '^', 0x1b, '$', ')', 'A', 0xd0, 0xa1, 0xb6, 0xab)
	if got := decodeText(`\ISO 2022 IR 58`, ir58); got != "Wang=王^小东" {
		t.Errorf("ISO 2022 IR 58: %q", got)
	}
	if got := decodeText("", []byte("plain")); got != "plain" {
		t.Errorf("default: %q", got)
	}
	if got := decodeText("ISO_IR 192", []byte{0xff, 'a'}); got != "\ufffda" {
		t.Errorf("invalid UTF-8: %q", got)
	}
}
