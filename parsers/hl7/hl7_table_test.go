package hl7

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/parsertest"
)

// synthetic are the hand-built conversations. Each is checked for chunking
// invariance and their events go to testdata/synthetic.golden.
func synthetic() []struct {
	name string
	c    *parsertest.Conversation
} {
	gap := func(c *parsertest.Conversation, at int, n int) *parsertest.Conversation {
		ch := c.Chunks[at]
		c.Chunks = append(c.Chunks[:at+1], append([]parsertest.Chunk{{Dir: ch.Dir, Gap: n, TS: ch.TS}}, c.Chunks[at+1:]...)...)
		return c
	}
	half := func(s string) (string, string) { return s[:len(s)/2], s[len(s)/2:] }
	h1, h2 := half(crTerminated(adtUTF8("G1")))
	return []struct {
		name string
		c    *parsertest.Conversation
	}{
		{"utf8_chinese_ack_aa", conv(mllp(adtUTF8("C1")), mllp(ack("AA", "C1")))},
		{"gb18030_ack_ae", conv(mllp(adtGB("C2")), mllp(ack("AE", "C2", "PID^5^^101&Required field missing&HL70357|E")))},
		{"nak_ar", conv(mllp(adtUTF8("C3")), mllp(ack("AR", "C3", "MSH^9|E")))},
		{"two_in_one_feed", conv(mllp(adtUTF8("C4"), adtGB("C5")), mllp(ack("AA", "C4"), ack("AA", "C5")))},
		{"unanswered", conv(mllp(adtUTF8("C6")))},
		{"unsolicited_and_duplicate_ack", conv(mllp(adtUTF8("C7")), mllp(ack("AA", "C7"), ack("AA", "C7"), ack("AA", "NOPE")))},
		{"missing_end_block", conv(append([]byte("\x0b"+crTerminated(adtUTF8("C8"))), mllp(adtGB("C9"))...), mllp(ack("AA", "C8"), ack("AA", "C9")))},
		{"junk_between_frames", conv(append(append([]byte("\r\nGARBAGE"), mllp(adtUTF8("C10"))...), "\r\n"...))},
		{"bare", conv([]byte(crTerminated(adtUTF8("B1"))+crTerminated(adtGB("B2"))), []byte(crTerminated(ack("AA", "B1"))+crTerminated(ack("AA", "B2"))))},
		{"bare_lf", conv([]byte(strings.ReplaceAll(crTerminated(adtUTF8("B3")), "\r", "\n")))},
		{"device_udi_custom_delimiters", conv(mllp(oruDevice("D1")), mllp(ack("AA", "D1")))},
		{"enhanced_commit_then_app_ack", conv(mllp(msh("ADT^A01", "E1", "|||AL|AL")+"\rPID|1||SYNTH0001"), mllp(ack("CA", "E1")), nil, mllp(ack("AE", "E1")))},
		{"enhanced_no_ack", conv(mllp(msh("ADT^A01", "E2", "|||NE|NE") + "\rPID|1||SYNTH0001"))},
		{"gap_in_message", gap(conv([]byte("\x0b"+h1), nil, []byte(h2+"\x1c\r"), nil, mllp(adtGB("G2"))), 0, 100)},
		{"gap_bare", gap(conv([]byte(h1), nil, []byte(h2+crTerminated(adtGB("G3")))), 0, 100)},
		{"bad_segments", conv(mllp(msh("ADT^A01", "X1", "") + "\rpid|1\rPI\rPIDX|1\rEVN|A01"))},
		{"orphan_segments", conv(mllp("PID|1||SYNTH0001\r" + msh("ADT^A01", "X2", "")))},
		{"empty_frame", conv([]byte("\x0b\x1c\r\x0b\x1c\r"))},
	}
}

func TestSynthetic(t *testing.T) {
	var all strings.Builder
	for _, tc := range synthetic() {
		t.Run(tc.name, func(t *testing.T) {
			rec := parsertest.CheckChunking(t, Factory, tc.c)
			all.WriteString("# " + tc.name + "\n" + rec.JSON())
			checkNoPHI(t, rec)
			checkAppendJSON(t, rec)
		})
	}
	golden(t, "synthetic", all.String())
}

// checkNoPHI fails if event JSON holds a synthetic patient value or any
// PHI value the parser itself found (4 bytes or longer) outside the
// identity fields that are not PHI by design (applications, facilities,
// control ids, software, devices): a public sample's sending facility
// "1111-1111-11" is also a phone-like number in its QRD-4.
func checkNoPHI(t *testing.T, rec *parsertest.Recorder) {
	t.Helper()
	js := rec.JSON()
	for _, v := range synthPHI {
		if strings.Contains(js, v) {
			t.Errorf("event JSON holds the synthetic PHI value %q", v)
		}
	}
	for _, e := range rec.Events {
		m, ok := e.Body.(*Message)
		if !ok {
			continue
		}
		c := *m
		c.SendingApplication, c.SendingFacility, c.ReceivingApplication, c.ReceivingFacility = "", "", "", ""
		c.ControlID, c.AckedControlID, c.Software, c.UDI, c.EquipmentIDs = "", "", nil, nil, nil
		mjs := string(c.AppendJSON(nil))
		for _, p := range m.PHI {
			if len(p.Value) >= 4 && strings.Contains(mjs, p.Value) {
				t.Errorf("event JSON holds %s value %q", p.Field, p.Value)
			}
		}
	}
}

func TestPublicSamples(t *testing.T) {
	files := []string{
		"realm-batch.hl7", "test2.hl7", "empty-batch.hl7", "ORU_R01_2.5.1_SampleTestCase1.er7",
		"001_Natus_ACK.hl7", "005_MN_ADT_A01.hl7", "001_Ochsner_OML_O21_0_initial_message.hl7", "008_Natus_ORU_R01_NBS.hl7",
	}
	var all strings.Builder
	for _, f := range files {
		text := readFile(t, "testdata/public/"+f)
		for _, framing := range []string{"mllp", "bare"} {
			var c *parsertest.Conversation
			if framing == "mllp" {
				c = conv(mllp(text))
			} else {
				c = conv([]byte(text))
			}
			rec := parsertest.CheckChunking(t, Factory, c)
			all.WriteString("# " + f + " " + framing + "\n" + rec.JSON())
			checkNoPHI(t, rec)
			checkAppendJSON(t, rec)
		}
	}
	golden(t, "public", all.String())
}

// TestValues checks decoded values the JSON never shows.
func TestValues(t *testing.T) {
	rec := parsertest.Replay(Factory, conv(mllp(adtUTF8("V1"), adtGB("V2"), oruDevice("V3"))), parsertest.Whole, nil)
	var msgs []*Message
	for _, e := range rec.Events {
		if m, ok := e.Body.(*Message); ok {
			msgs = append(msgs, m)
		}
	}
	if len(msgs) != 3 {
		t.Fatalf("got %d messages, want 3:\n%s", len(msgs), rec.JSON())
	}
	want := map[string][]PHIValue{
		"V1": {{"PID-3", CatID, synthResidentID + "^^^MOHPRC^NNCHN~SYNTH0001^^^HOSP^MR"}, {"PID-3", CatIDNumber, synthResidentID}, {"PID-5", CatName, synthNameUTF8}},
		"V2": {{"PID-5", CatName, synthNameGB}, {"PID-3", CatIDNumber, synthResidentID2}},
		"V3": {{"PID-5", CatName, "Doe^Synth"}},
	}
	for _, m := range msgs {
		for _, w := range want[m.ControlID] {
			found := false
			for _, p := range m.PHI {
				if p == w {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: PHI %+v not found in %+v", m.ControlID, w, m.PHI)
			}
		}
	}
	if got := msgs[0].PHI; !hasCat(got, CatPhone, synthMobile) {
		t.Errorf("mobile number in NTE-3 not found: %+v", got)
	}
	if msgs[1].Charset != "GB 18030-2000" {
		t.Errorf("charset %q", msgs[1].Charset)
	}
	dev := msgs[2]
	if len(dev.Software) != 1 || dev.Software[0] != (Software{Vendor: "Medtap Devices Inc.", Version: "4.2.1", Product: "PumpGateway", BinaryID: "build-77"}) {
		t.Errorf("software %+v", dev.Software)
	}
	if len(dev.UDI) != 2 || dev.UDI[0].DeviceID != "(01)00812345678901" || dev.UDI[0].ID != "PUMP-0042^HOSP" || dev.UDI[0].Serial != "SN999" || dev.UDI[1].ID != "MON-7" {
		t.Errorf("udi %+v", dev.UDI)
	}
	if strings.Join(dev.EquipmentIDs, ",") != "PUMP-7^^HOSP,MONITOR-1" {
		t.Errorf("equipment %q", dev.EquipmentIDs)
	}
	if dev.MessageType != "ORU" || dev.TriggerEvent != "R01" || dev.Version != "2.7" {
		t.Errorf("header %+v", dev)
	}
}

func hasCat(ps []PHIValue, cat, v string) bool {
	for _, p := range ps {
		if p.Category == cat && p.Value == v {
			return true
		}
	}
	return false
}

func TestMessageTooLarge(t *testing.T) {
	big := mllp(bigORU("L1", 1, MaxMessageLen+1024))
	after := mllp(adtGB("L2"))
	rec := &parsertest.Recorder{}
	fl := parser.Flow{}
	s := Factory.New(&fl, rec, nil)
	for b := big; len(b) > 0; {
		n := min(len(b), 64<<10)
		s.Feed(parser.ToServer, b[:n], synthTS)
		b = b[n:]
	}
	s.Feed(parser.ToServer, after, synthTS)
	st := s.(*stream)
	if n := cap(st.d[0].fld); n > MaxFieldLen {
		t.Errorf("field buffer grew to %d", n)
	}
	s.Close(parser.CloseFIN, synthTS)
	js := rec.JSON()
	if !strings.Contains(js, `"code":"message_too_large"`) || !strings.Contains(js, `"control_id":"L1"`) ||
		!strings.Contains(js, `"truncated":true`) || !strings.Contains(js, `"control_id":"L2"`) {
		t.Errorf("events:\n%s", js)
	}
}

func TestTooMany(t *testing.T) {
	segs := mllp(msh("ORU^R01", "T1", "") + strings.Repeat("\rNTE|1", MaxSegments+5))
	fields := mllp(msh("ORU^R01", "T2", "") + "\rOBX" + strings.Repeat("|x", MaxFields+5) + "\rPID|1||SYNTH0001")
	rec := parsertest.CheckChunking(t, Factory, conv(append(segs, fields...)))
	js := rec.JSON()
	for _, want := range []string{`"code":"too_many_segments"`, `"code":"too_many_fields"`, `"segment_count":20006`, `"phi_fields":["PID-3"]`} {
		if !strings.Contains(js, want) {
			t.Errorf("no %s in:\n%.2000s", want, js)
		}
	}
}

func TestProbe(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want parser.Verdict
	}{
		{"", parser.NeedMore},
		{"\x0b", parser.NeedMore},
		{"\x0bM", parser.NeedMore},
		{"\x0bMS", parser.NeedMore},
		{"\x0bMSH", parser.Match},
		{"\x0bMSH|^~\\&", parser.Match},
		{"\x0bFHS|", parser.Match},
		{"\x0bX", parser.NoMatch},
		{"\x0bMX", parser.NoMatch},
		{"\x0bMSX", parser.NoMatch},
		{"\x0b\x00\x00\x00", parser.NoMatch},
		{"MSH", parser.NeedMore},
		{"MSH|", parser.NeedMore},
		{"MSH|^~\\&|", parser.Match},
		{"BHS|^~\\&", parser.Match},
		{"MSHA^", parser.NoMatch},
		{"MSH||", parser.NoMatch},
		{"MSH|a", parser.NoMatch},
		{"GET / HTTP/1.1", parser.NoMatch},
		{"\x16\x03\x01", parser.NoMatch},
	} {
		if got := probe(parser.ToServer, []byte(tc.in)); got != tc.want {
			t.Errorf("probe(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { probe(parser.ToServer, []byte("\x0bMSH|^~\\&")) }); n != 0 {
		t.Errorf("probe allocates %v", n)
	}
}

func TestResidentID(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{synthResidentID, true}, {strings.ToLower(synthResidentID), true}, {synthResidentID2, true},
		{"110105194912310021", false}, // wrong check digit
		{"110105194913310028", false}, // month 13
		{"01010519491231002X", false}, // region 0
		{"11010519491231002", false},
	} {
		if got := validResidentID([]byte(tc.in)); got != tc.want {
			t.Errorf("validResidentID(%q) = %v", tc.in, got)
		}
	}
}

func TestScanNumbers(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string // cat:value
	}{
		{"call 13912345678 now", []string{"phone:13912345678"}},
		{"+8613912345678", []string{"phone:+8613912345678"}},
		{"+86 10 5555 0100", []string{"phone:+86 10 5555 0100"}},
		{"(407)939-5555", []string{"phone:(407)939-5555"}},
		{"010-55550100", []string{"phone:010-55550100"}},
		{"id " + synthResidentID + ".", []string{"id_number:" + synthResidentID}},
		{"20240101120000", nil},          // timestamp
		{"2024-01-01", nil},              // date
		{"2010346-006", nil},             // order number
		{"1.2.840.10008.5.1.4.1.1", nil}, // OID
		{"135-145", nil},                 // reference range
		{"A13912345678", nil},            // inside a word
		{"23912345678", nil},             // not a mobile prefix
		{"202401-202402", nil},           // period
	} {
		var got []string
		scanNumbers([]byte(tc.in), func(h numberHit) { got = append(got, h.cat.String()+":"+tc.in[h.start:h.end]) })
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("scanNumbers(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCharsetLookup(t *testing.T) {
	for in, want := range map[string]charsetID{
		"UNICODE UTF-8": csUTF8, "utf-8": csUTF8, "GB 18030-2000": csGB18030, "GBK": csGB18030,
		"8859/1": cs8859_1, "ISO-8859-1": cs8859_1, "": csNone, "KLINGON": csOther, "BIG-5": csBig5,
		strings.Repeat("X", 100): csOther,
	} {
		if got := lookupCharset([]byte(in)); got != want {
			t.Errorf("lookupCharset(%q) = %d, want %d", in, got, want)
		}
	}
	var ds decoders
	if got := string(ds.appendText(nil, []byte("M\xfcller"), cs8859_1)); got != "Müller" {
		t.Errorf("8859/1: %q", got)
	}
	gb, _ := simplifiedchineseEncode("张三")
	if got := string(ds.appendText(nil, gb, csNone)); got != "张三" {
		t.Errorf("undeclared GB 18030: %q", got)
	}
}

func TestUnescape(t *testing.T) {
	m := &msgBuild{sep: '|', comp: '^', rep: '~', esc: '\\', sub: '&'}
	got := unescape(nil, []byte(`a\F\b\S\c\T\d\R\e\E\f\X4142\g\H\h\.br\i\Zxx\j\unterminated`), m)
	if want := `a|b^c&d~e\fABgh ij\unterminated`; string(got) != want {
		t.Errorf("unescape = %q, want %q", got, want)
	}
}

// TestJSONFieldNames pins the stable field names.
func TestJSONFieldNames(t *testing.T) {
	lat := 0.5
	m := &Message{Direction: "to_server", Framing: "mllp", MessageType: "ADT", TriggerEvent: "A01", MessageStructure: "ADT_A01",
		ControlID: "1", ProcessingID: "P", Version: "2.5", SendingApplication: "a", SendingFacility: "b", ReceivingApplication: "c",
		ReceivingFacility: "d", Charset: "UNICODE UTF-8", Segments: []string{"MSH"}, SegmentCount: 1, AckCode: "AA", AckLatency: &lat,
		ErrorSegments: 1, PHICategories: []string{"name"}, PHIFields: []string{"PID-5"}, PHI: []PHIValue{{"PID-5", "name", "SECRET"}},
		Software: []Software{{Vendor: "v"}}, UDI: []Device{{ID: "x"}}, EquipmentIDs: []string{"e"}, Bytes: 10}
	b, _ := json.Marshal(m)
	for _, k := range []string{"message_type", "trigger_event", "message_structure", "control_id", "processing_id", "version",
		"sending_application", "sending_facility", "receiving_application", "receiving_facility", "charset", "segments",
		"segment_count", "ack_code", "ack_latency", "error_segments", "phi_categories", "phi_fields", "software", "udi",
		"equipment_ids", "bytes", "framing"} {
		if !bytes.Contains(b, []byte(`"`+k+`":`)) {
			t.Errorf("no %q in %s", k, b)
		}
	}
	if bytes.Contains(b, []byte("SECRET")) {
		t.Errorf("PHI value serialised: %s", b)
	}
}
