package main

import (
	"strconv"
)

// hl7App is one MLLP connection: 1..50 messages, each acknowledged.
type hl7App struct {
	g      *generator
	a      *assets
	r      *rng
	p      *hostPair
	n, i   int
	ack    bool // next message is the ACK of message i
	ctrl   []byte
	typ    string
	utf8   bool
	recApp string
	ts     []byte // reused: timestamp, birth date
	birth  []byte
}

func newHL7App(g *generator, p *hostPair, r *rng) (app, int64) {
	h := &hl7App{g: g, a: g.as, r: r, p: p, n: r.between(1, 50)}
	h.recApp = pick(r, []string{"SYNTH_PACS", "SYNTH_LIS", "SYNTH_EMR", "SYNTH_BILLING"})
	return h, int64(h.n) * 880
}

func (h *hl7App) left() int64 {
	if h.ack {
		return 200
	}
	return 0
}

// wind ends the connection after the current message's ACK (at least one
// message is always sent).
func (h *hl7App) wind() {
	n := h.i
	if h.ack {
		n++
	}
	h.n = max(min(h.n, n), 1)
}

// GB 11643 resident identity number pieces.
var (
	regionCodes = []string{"110101", "110105", "310104", "310115", "440305", "440106", "510107", "330106", "420106", "320102"}
	gbWeights   = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	cnFamily    = []string{"张", "王", "李", "刘", "陈", "杨", "黄", "赵", "吴", "周"}
	cnGiven     = []string{"伟", "芳", "娜", "秀英", "敏", "静", "磊", "洋", "勇", "艳", "杰", "军", "晓明", "丽华"}
	cnCity      = []string{"北京市朝阳区建国路88号^^北京^^100022^CHN", "上海市徐汇区漕溪北路100号^^上海^^200030^CHN", "广州市天河区体育西路1号^^广州^^510620^CHN"}
	enStreet    = []string{"100 SYNTHETIC RD^^SPRINGFIELD^^00000^USA", "42 EXAMPLE AVE^^TESTVILLE^^99999^USA"}
	obxTests    = []struct{ code, name, unit, rng string }{
		{"718-7", "Hemoglobin", "g/dL", "12.0-16.0"},
		{"6690-2", "Leukocytes", "10*3/uL", "4.0-10.0"},
		{"777-3", "Platelets", "10*3/uL", "150-400"},
		{"2345-7", "Glucose", "mg/dL", "70-99"},
		{"2160-0", "Creatinine", "mg/dL", "0.6-1.2"},
		{"2951-2", "Sodium", "mmol/L", "135-145"},
		{"2823-3", "Potassium", "mmol/L", "3.5-5.1"},
		{"1742-6", "ALT", "U/L", "7-56"},
	}
)

// gbCheck returns the GB 11643-1999 check character for 17 digits.
func gbCheck(d []byte) byte {
	s := 0
	for i := range 17 {
		s += int(d[i]-'0') * gbWeights[i]
	}
	return "10X98765432"[s%11]
}

// appendResidentID appends an 18-character PRC resident ID with a valid
// check digit; birth is YYYYMMDD, the sequence's parity encodes sex.
func appendResidentID(b []byte, r *rng, birth []byte, male bool) []byte {
	l := len(b)
	b = append(b, pick(r, regionCodes)...)
	b = append(b, birth...)
	seq := r.intn(500) * 2
	if male {
		seq++
	}
	b = append(b, byte('0'+seq/100), byte('0'+seq/10%10), byte('0'+seq%10))
	return append(b, gbCheck(b[l:]))
}

func (h *hl7App) next(b []byte) ([]byte, int, bool) {
	if h.i >= h.n {
		return b, 0, false
	}
	h.ts = h.a.now().AppendFormat(h.ts[:0], "20060102150405")
	ts := h.ts
	if h.ack {
		h.ack = false
		h.i++
		b = append(b, 0x0b)
		b = h.msh(b, ts, true)
		b = append(b, "MSA|AA|"...)
		b = append(b, h.ctrl...)
		b = append(b, '\r', 0x1c, 0x0d)
		return b, 1, true
	}
	r := h.r
	h.ack = true
	h.g.ctrlID++
	h.ctrl = strconv.AppendUint(append(h.ctrl[:0], "MSG"...), 10000000+h.g.ctrlID, 10)
	h.typ = pick(r, []string{"ADT^A01^ADT_A01", "ORU^R01^ORU_R01", "ORM^O01^ORM_O01", "ADT^A01^ADT_A01", "ORU^R01^ORU_R01"})
	chinese := r.chance(0.3)
	h.utf8 = chinese || r.chance(0.2)
	h.g.st.HL7Messages++
	if h.p.srv.port == 2575 {
		h.g.st.HL7On2575++
	}
	b = append(b, 0x0b)
	b = h.msh(b, ts, false)
	if h.typ[:3] == "ADT" {
		b = append(b, "EVN|A01|"...)
		b = append(b, ts...)
		b = append(b, '\r')
	}
	// PID
	male := r.chance(0.5)
	birth := strconv.AppendInt(h.birth[:0], int64(r.between(1935, 2022)), 10)
	birth = append(birth, twoDigit(r.between(1, 12))...)
	birth = append(birth, twoDigit(r.between(1, 28))...)
	h.birth = birth
	mrn := 100000 + r.intn(900000)
	b = append(b, "PID|1||"...)
	b = strconv.AppendInt(b, int64(mrn), 10)
	b = append(b, "^^^"...)
	b = append(b, h.p.fac...)
	b = append(b, "^MR"...)
	if chinese || r.chance(0.2) {
		b = append(b, '~')
		b = appendResidentID(b, r, birth, male)
		b = append(b, "^^^CHN^NNCHN"...)
	}
	b = append(b, "||"...)
	if chinese {
		b = append(b, pick(r, cnFamily)...)
		b = append(b, '^')
		b = append(b, pick(r, cnGiven)...)
	} else {
		n := r.intn(10000)
		b = append(b, "SYNTH^PATIENT^"...)
		b = append(b, twoDigit(n/100)...)
		b = append(b, twoDigit(n%100)...)
	}
	b = append(b, "||"...)
	b = append(b, birth...)
	if male {
		b = append(b, "|M|||"...)
	} else {
		b = append(b, "|F|||"...)
	}
	if chinese {
		b = append(b, pick(r, cnCity)...)
	} else {
		b = append(b, pick(r, enStreet)...)
	}
	b = append(b, "||"...)
	if chinese {
		b = append(b, '1', byte('3'+r.intn(7)))
		for range 9 {
			b = append(b, byte('0'+r.intn(10)))
		}
	} else {
		b = append(b, "555-01"...)
		b = append(b, twoDigit(r.intn(100))...)
	}
	b = append(b, "^PRN^PH|||"...)
	b = append(b, pick(r, []string{"M", "S", "W"})...)
	b = append(b, "||ACC"...)
	b = strconv.AppendInt(b, int64(r.intn(1e8)), 10)
	b = append(b, '\r')
	// PV1
	b = append(b, "PV1|1|"...)
	b = append(b, pick(r, []string{"I", "O", "E"})...)
	b = append(b, "|WARD"...)
	b = strconv.AppendInt(b, int64(r.between(1, 9)), 10)
	b = append(b, "^0"...)
	b = strconv.AppendInt(b, int64(r.between(100, 399)), 10)
	b = append(b, "^01^"...)
	b = append(b, h.p.fac...)
	b = append(b, "||||"...)
	b = strconv.AppendInt(b, int64(r.between(1000, 9999)), 10)
	b = append(b, "^DOCTOR^SYNTH^^^DR|||MED||||ADM|||||VN"...)
	b = strconv.AppendInt(b, int64(r.intn(1e7)), 10)
	b = append(b, "||||||||||||||||||||||||||"...)
	b = append(b, ts...)
	b = append(b, '\r')
	switch h.typ[:3] {
	case "ADT":
		b = append(b, "AL1|1|DA|^PENICILLIN^SYNTH|MO|RASH\r"...)
		b = append(b, "DG1|1||R07.9^Chest pain, unspecified^I10||"...)
		b = append(b, ts...)
		b = append(b, "|A\r"...)
	case "ORU":
		ord := r.intn(1e7)
		b = append(b, "ORC|RE|ORD"...)
		b = strconv.AppendInt(b, int64(ord), 10)
		b = append(b, "|FIL"...)
		b = strconv.AppendInt(b, int64(ord), 10)
		b = append(b, "\rOBR|1|ORD"...)
		b = strconv.AppendInt(b, int64(ord), 10)
		b = append(b, "|FIL"...)
		b = strconv.AppendInt(b, int64(ord), 10)
		b = append(b, "|57021-8^CBC W Auto Differential panel^LN|||"...)
		b = append(b, ts...)
		b = append(b, "||||||||||||||||F\r"...)
		for i := range r.between(3, 12) {
			t := obxTests[(i+ord)%len(obxTests)]
			b = append(b, "OBX|"...)
			b = strconv.AppendInt(b, int64(i+1), 10)
			b = append(b, "|NM|"...)
			b = append(b, t.code...)
			b = append(b, '^')
			b = append(b, t.name...)
			b = append(b, "^LN||"...)
			b = strconv.AppendInt(b, int64(r.between(1, 300)), 10)
			b = append(b, '.')
			b = strconv.AppendInt(b, int64(r.intn(10)), 10)
			b = append(b, '|')
			b = append(b, t.unit...)
			b = append(b, '|')
			b = append(b, t.rng...)
			b = append(b, '|')
			b = append(b, pick(r, []string{"N", "N", "N", "H", "L"})...)
			b = append(b, "|||F|||"...)
			b = append(b, ts...)
			b = append(b, '\r')
		}
	case "ORM":
		ord := r.intn(1e7)
		b = append(b, "ORC|NW|ORD"...)
		b = strconv.AppendInt(b, int64(ord), 10)
		b = append(b, "|||SC||^^^"...)
		b = append(b, ts...)
		b = append(b, "^^R\rOBR|1|ORD"...)
		b = strconv.AppendInt(b, int64(ord), 10)
		b = append(b, "||"...)
		b = append(b, pick(r, []string{"CTCHEST^CT CHEST W CONTRAST^L", "CTHEAD^CT HEAD WO CONTRAST^L", "MRKNEE^MR KNEE^L", "XRCHEST^XR CHEST 2 VIEWS^L"})...)
		b = append(b, "|||"...)
		b = append(b, ts...)
		b = append(b, "||||||||"...)
		b = strconv.AppendInt(b, int64(r.between(1000, 9999)), 10)
		b = append(b, "^DOCTOR^SYNTH\r"...)
	}
	b = append(b, 0x1c, 0x0d)
	return b, 0, true
}

// msh appends the MSH segment; for an ACK the applications are swapped.
func (h *hl7App) msh(b, ts []byte, ack bool) []byte {
	sa, sf, ra, rf := h.p.app, h.p.fac, h.recApp, "SYNTH_HOSP"
	if ack {
		sa, sf, ra, rf = ra, rf, sa, sf
	}
	b = append(b, "MSH|^~\\&|"...)
	b = append(b, sa...)
	b = append(b, '|')
	b = append(b, sf...)
	b = append(b, '|')
	b = append(b, ra...)
	b = append(b, '|')
	b = append(b, rf...)
	b = append(b, '|')
	b = append(b, ts...)
	b = append(b, "||"...)
	if ack {
		b = append(b, "ACK^"...)
		b = append(b, h.typ[4:7]...)
		b = append(b, "^ACK|ACK"...)
		b = append(b, h.ctrl[3:]...)
	} else {
		b = append(b, h.typ...)
		b = append(b, '|')
		b = append(b, h.ctrl...)
	}
	b = append(b, "|P|2.5"...)
	if h.utf8 {
		b = append(b, "|||AL|NE|CHN|UNICODE UTF-8"...)
	}
	return append(b, '\r')
}
