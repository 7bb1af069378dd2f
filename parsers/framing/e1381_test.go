package framing

import (
	"fmt"
	"strings"
	"testing"

	"github.com/medtap/medtap/parsers/astm"
	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/parsertest"
)

// astmFrame builds one E1381 frame as parsers/astm's tests do: STX, frame
// number, text, ETB or ETX, checksum (sum mod 256 from the number through
// ETB/ETX, two upper-case hex digits), CR LF.
func astmFrame(fn int, text string, last, corrupt bool) []byte {
	end := byte(0x17)
	if last {
		end = 0x03
	}
	b := append([]byte{0x02, byte('0' + fn%8)}, text...)
	b = append(b, end)
	var sum byte
	for _, c := range b[1:] {
		sum += c
	}
	if corrupt {
		sum++
	}
	return append(b, fmt.Sprintf("%02X\r\n", sum)...)
}

// TestE1381 compares the declarative e1381 definition with the Go astm
// parser on one synthetic transfer (invented values): the same frames and
// checksum errors, the sender's identity and the patient's PHI categories.
func TestE1381(t *testing.T) {
	records := []string{
		`H|\^&|||Analyzer-X^2.1.0^SN12345|||||LIS01||P|LIS2-A2|20250102030405`,
		`P|1||PAT0001||Synthetic^Patient^Q||19491231|M`,
		`O|1|SID001^1^2||^^^GLU|R`,
		`R|1|^^^GLU|5.4|mmol/L|3.9-6.1|N||F`,
		`C|1|I|` + strings.Repeat("long comment ", 30) + `|G`, // split into ETB frames
		`L|1|N`,
	}
	var items []item
	items = append(items, cs([]byte{0x05}), sc([]byte{0x06}))
	fn := 1
	for i, r := range records {
		text := r + "\r"
		for len(text) > 0 {
			k := min(len(text), 240)
			part, last := text[:k], k == len(text)
			text = text[k:]
			items = append(items, cs(astmFrame(fn, part, last, i == 3)), sc([]byte{0x06}))
			fn++
		}
	}
	items = append(items, cs([]byte{0x04}))
	conv := mkconv(6, items...)

	rec := parsertest.CheckChunking(t, builtinFactory(t, "e1381"), conv)
	var sess *Session
	var sender string
	var cats []string
	for _, e := range rec.Events {
		switch x := e.Body.(type) {
		case *Session:
			sess = x
		case *Frame:
			if x.Identity != nil {
				sender = x.Identity.DeviceName
			}
			cats = append(cats, x.PHICategories...)
		}
	}
	ref := parsertest.Replay(astm.Factory, conv, parsertest.Whole, nil)
	var msg *astm.Message
	for _, e := range ref.Events {
		if m, ok := e.Body.(*astm.Message); ok {
			msg = m
		}
	}
	if sess == nil || msg == nil {
		t.Fatalf("framing:\n%s\nastm:\n%s", rec.JSON(), ref.JSON())
	}
	if sess.FramesToServer != int64(msg.Frames) || sess.ChecksumErrors != int64(msg.ChecksumErrors) || sess.ChecksumErrors != 1 {
		t.Errorf("frames %d/%d, checksum errors %d/%d (framing/astm)", sess.FramesToServer, msg.Frames, sess.ChecksumErrors, msg.ChecksumErrors)
	}
	if sess.SkippedBytes != 0 || sess.Anomalies != 1 {
		t.Errorf("ENQ/ACK/EOT are idle bytes: %s", rec.JSON())
	}
	if sender != msg.Sender || sender != "Analyzer-X^2.1.0^SN12345" {
		t.Errorf("sender %q, astm %q", sender, msg.Sender)
	}
	if strings.Join(cats, ",") != "name,id,birth_date,sex" {
		t.Errorf("PHI categories %v (astm: %v)", cats, msg.PHICategories)
	}
	if v := builtinFactory(t, "e1381").Probe(parser.ToServer, []byte{0x05}); v != parser.NeedMore {
		t.Errorf("probe on ENQ: %d", v)
	}
}
