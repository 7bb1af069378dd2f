package hl7

import (
	"fmt"
	"strings"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// Synthetic messages written for these tests. Every name, identifier and
// number in them is invented; the resident ID numbers are made up with a
// valid check digit (ISO 7064 MOD 11-2) so the scan finds them.
const (
	synthResidentID  = "11010519491231002X"
	synthResidentID2 = "440306198503151234"
	synthMobile      = "13912345678"
	synthNameUTF8    = "王^小明"
	synthNameGB      = "李^四"
)

// synthPHI are values from the synthetic inputs that must never appear in
// event JSON.
var synthPHI = []string{
	synthResidentID, synthResidentID2, synthMobile, "王", "小明", "李", "四",
	"SYNTH0001", "SYNTH0002", "19491231", "19850315", "Synthetic Street",
	// From pcaps/hl7-mllp.pcap (pcaps/make/hl7/*.hl7).
	"张", "TEST0001", "TEST0002", "19800101", "5555 0100", "1 Test Road",
}

func msh(typ, ctl, extra string) string {
	return "MSH|^~\\&|SENDAPP|SENDFAC|RECVAPP|RECVFAC|20250102030405||" + typ + "|" + ctl + "|P|2.5.1" + extra
}

func ack(code, ctl string, errs ...string) string {
	s := msh("ACK^A01^ACK", "ACK"+ctl, "") + "\rMSA|" + code + "|" + ctl
	for _, e := range errs {
		s += "\rERR|" + e
	}
	return s
}

// adtUTF8 is an ADT^A01 with a Chinese name in UTF-8, a resident ID in
// PID-3 and a mobile number in an NTE comment.
func adtUTF8(ctl string) string {
	return strings.Join([]string{
		msh("ADT^A01^ADT_A01", ctl, "|||AL|NE|CHN|UNICODE UTF-8"),
		"EVN|A01|20250102030405",
		"PID|1||" + synthResidentID + "^^^MOHPRC^NNCHN~SYNTH0001^^^HOSP^MR||" + synthNameUTF8 + "||19491231|M|||Synthetic Street 1^^Beijing^^100000^CHN",
		"PV1|1|I|W1^101^1",
		"NTE|1||call family on " + synthMobile,
	}, "\r")
}

// adtGB is an ADT^A08 whose MSH-18 declares GB 18030 and whose name is
// encoded so.
func adtGB(ctl string) string {
	name, err := simplifiedchinese.GB18030.NewEncoder().String(synthNameGB)
	if err != nil {
		panic(err)
	}
	return strings.Join([]string{
		msh("ADT^A08^ADT_A01", ctl, "||||||GB 18030-2000"),
		"EVN|A08",
		"PID|1||SYNTH0002^^^HOSP^MR~" + synthResidentID2 + "^^^MOHPRC^NNCHN||" + name + "||19850315|F",
	}, "\r")
}

// oruDevice is an ORU^R01 from a device gateway: SFT, PRT with UDI parts,
// OBX-18 equipment identifiers, custom delimiters and escapes.
func oruDevice(ctl string) string {
	return strings.Join([]string{
		"MSH#!~@%#GATEWAY#WARD3#EMR#HOSP#20250102030405##ORU!R01!ORU_R01#" + ctl + "#P#2.7",
		"SFT#Medtap Devices Inc.!L#4.2.1#PumpGateway#build-77##20240101",
		"PID#1##SYNTH0001!!!HOSP!MR##Doe!Synth",
		seg("PRT", "#", map[int]string{1: "1", 2: "AD", 4: "EQUIP", 10: "PUMP-0042!HOSP", 16: "(01)00812345678901", 17: "20200101", 18: "20301231", 19: "LOT42", 20: "SN999", 22: "Infusion pump"}),
		seg("PRT", "#", map[int]string{1: "2", 2: "AD", 10: "MON-7"}),
		"OBR#1###MDC_DEV_PUMP!!MDC",
		seg("OBX", "#", map[int]string{1: "1", 2: "NM", 3: "MDC_FLOW_FLUID_PUMP!!MDC", 5: "12.5", 6: "ml/h", 11: "F", 14: "20250102030405", 18: "PUMP-7!!HOSP~MONITOR-1~PUMP-7!!HOSP"}),
		"OBX#2#ST#NOTE##rate @F@ limit @S@ ok @X41@#",
	}, "\r")
}

// bigORU is an ORU with n OBX segments of a base64-like payload of size
// bytes each.
func bigORU(ctl string, n, size int) string {
	var b strings.Builder
	b.WriteString(msh("ORU^R01^ORU_R01", ctl, ""))
	b.WriteString("\rPID|1||SYNTH0001^^^HOSP^MR||Doe^Synth")
	payload := strings.Repeat("QUJD", size/4)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "\rOBX|%d|ED|PDF^Report||^AP^PDF^Base64^%s||||||F", i+1, payload)
	}
	return b.String()
}

// seg builds a segment from numbered fields.
func seg(name, sep string, fields map[int]string) string {
	n := 0
	for k := range fields {
		n = max(n, k)
	}
	parts := make([]string, n+1)
	parts[0] = name
	for k, v := range fields {
		parts[k] = v
	}
	return strings.Join(parts, sep)
}

func simplifiedchineseEncode(s string) ([]byte, error) {
	return simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s))
}
