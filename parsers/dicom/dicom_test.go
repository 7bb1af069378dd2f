package dicom

import (
	"bytes"
	"compress/flate"
	"strings"
	"testing"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/parsertest"
)

// run replays a synthetic conversation with the chunking check and
// returns its events split by kind.
func run(t *testing.T, conv *parsertest.Conversation) (assocs []*Association, dimses []*DIMSE, anomalies []string, rec *parsertest.Recorder) {
	t.Helper()
	rec = parsertest.CheckChunking(t, Factory, conv)
	for _, e := range rec.Events {
		switch b := e.Body.(type) {
		case *Association:
			assocs = append(assocs, b)
		case *DIMSE:
			dimses = append(dimses, b)
		case *parser.Anomaly:
			if b.Source != "dicom" {
				t.Errorf("anomaly source %q", b.Source)
			}
			anomalies = append(anomalies, b.Code)
		default:
			t.Fatalf("unexpected body %T", b)
		}
	}
	return
}

func noPHIInJSON(t *testing.T, rec *parsertest.Recorder, values ...string) {
	t.Helper()
	j := rec.JSON()
	for _, v := range values {
		if strings.Contains(j, v) {
			t.Errorf("JSON contains the value %q:\n%s", v, j)
		}
	}
}

func TestProbe(t *testing.T) {
	rq := mkAssocRQ("PACS", "CT1", []pcProp{{1, uidCTStorage, []string{uidExplicitLE}}}, mkUserInfo(16384, "1.2.3", ""))
	ac := mkAssocAC("PACS", "CT1", []pcAcc{{1, 0, uidExplicitLE}}, mkUserInfo(16384, "1.2.3", ""))
	tlsHello := []byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03}
	tests := []struct {
		name string
		in   []byte
		want parser.Verdict
	}{
		{"associate-rq", rq, parser.Match},
		{"associate-rq first 10 bytes", rq[:10], parser.Match},
		{"associate-ac", ac, parser.Match},
		{"empty", nil, parser.NeedMore},
		{"one byte", rq[:1], parser.NeedMore},
		{"nine bytes", rq[:9], parser.NeedMore},
		{"tls client hello", tlsHello, parser.NoMatch},
		{"http", []byte("GET / HTTP/1.1\r\n"), parser.NoMatch},
		{"p-data", mkPData(mkPDV(1, 3, []byte{1, 2})), parser.NoMatch},
		{"release", mkReleaseRQ(), parser.NoMatch},
		{"bad version", append(append([]byte{}, rq[:6]...), 0, 2, 0, 0), parser.NoMatch},
		{"too long", []byte{1, 0, 0x10, 0, 0, 0, 0, 1, 0, 0}, parser.NoMatch},
		{"too short", []byte{1, 0, 0, 0, 0, 10, 0, 1, 0, 0}, parser.NoMatch},
		{"binary AE", append(append([]byte{}, rq[:10]...), 0x01, 0x02), parser.NoMatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := probe(parser.ToServer, tc.in); got != tc.want {
				t.Errorf("probe = %v, want %v", got, tc.want)
			}
		})
	}
	if n := testing.AllocsPerRun(100, func() { probe(parser.ToServer, rq) }); n != 0 {
		t.Errorf("probe allocates %v times", n)
	}
}

func TestCStoreSynthetic(t *testing.T) {
	ds := ctDataset(40000)
	steps := append(storeSetup(),
		toServer(mkMessage(1, storeRQ(7, "1.2.3.4.5.6"), ds, 16000)),
		toClient(mkPData(mkPDV(1, 3, storeRSP(7, 0)))),
		toServer(mkReleaseRQ()), toClient(mkReleaseRP()),
	)
	assocs, dimses, anoms, rec := run(t, mkConv(steps...))
	if len(anoms) != 0 {
		t.Errorf("anomalies: %v", anoms)
	}
	if len(assocs) != 1 || len(dimses) != 1 {
		t.Fatalf("got %d associations, %d dimse", len(assocs), len(dimses))
	}
	a, d := assocs[0], dimses[0]
	if a.Result != "released" || a.CallingAE != "CT1" || a.CalledAE != "PACS" || a.DIMSECounts["C-STORE"] != 1 {
		t.Errorf("association: %+v", a)
	}
	if a.ImplementationVersionName != "TESTSCU" || a.AcceptorImplementationVersionName != "TESTSCP" || a.MaxPDULength != 16384 {
		t.Errorf("user info: %+v", a)
	}
	want := DIMSE{Command: "C-STORE", MessageID: 7, Status: "0x0000", StatusClass: "success", Modality: "CT",
		Manufacturer: "ACME", Model: "Scanner 9", DeviceSerialNumber: "SN1", InstitutionName: "Hospital",
		StudyInstanceUID: "1.2.3.4", SeriesInstanceUID: "1.2.3.4.5", SOPInstanceUID: "1.2.3.4.5.6",
		TransferSyntax: uidExplicitLE, PrivateTags: 2, DatasetBytes: int64(len(ds))}
	if d.Command != want.Command || d.MessageID != want.MessageID || d.Status != want.Status ||
		d.StatusClass != want.StatusClass || d.Modality != want.Modality || d.Manufacturer != want.Manufacturer ||
		d.Model != want.Model || d.DeviceSerialNumber != want.DeviceSerialNumber || d.InstitutionName != want.InstitutionName ||
		d.StudyInstanceUID != want.StudyInstanceUID || d.SeriesInstanceUID != want.SeriesInstanceUID ||
		d.SOPInstanceUID != want.SOPInstanceUID || d.TransferSyntax != want.TransferSyntax ||
		d.PrivateTags != want.PrivateTags || d.DatasetBytes != want.DatasetBytes {
		t.Errorf("dimse:\n got %+v\nwant %+v", d, want)
	}
	if d.Latency <= 0 {
		t.Errorf("latency %v", d.Latency)
	}
	if strings.Join(d.PHICategories, ",") != "name,id,birth_date" || strings.Join(d.PHITags, ",") != "(0010,0010),(0010,0020),(0010,0030)" {
		t.Errorf("phi %v %v", d.PHICategories, d.PHITags)
	}
	got := map[string]string{}
	for _, p := range d.PHI {
		got[p.Category] = p.Value
	}
	if got["name"] != synthName || got["id"] != synthID || got["birth_date"] != synthDOB {
		t.Errorf("PHI values in memory: %+v", d.PHI)
	}
	noPHIInJSON(t, rec, synthName, synthID, synthDOB, "SYNTH", "SECRET")
}

func TestCFindPending(t *testing.T) {
	setup := []step{
		toServer(mkAssocRQ("QR", "WS", []pcProp{{1, uidFindStudyRoot, []string{uidImplicitLE}}}, mkUserInfo(0, "1.2.3", ""))),
		toClient(mkAssocAC("QR", "WS", []pcAcc{{1, 0, uidImplicitLE}}, mkUserInfo(0, "1.2.4", ""))),
	}
	rq := mkCommand(ui(0x0002, uidFindStudyRoot), us(0x0100, cmdCFind), us(0x0110, 3), us(0x0700, 2), us(0x0800, 0))
	ident := cat(im(0x0008, 0x0052, []byte("STUDY")), im(0x0010, 0x0010, []byte("SYNTH*")), im(0x0010, 0x0020, nil), im(0x0020, 0x000d, nil))
	pend := mkCommand(ui(0x0002, uidFindStudyRoot), us(0x0100, cmdCFind|cmdResponseBit), us(0x0120, 3), us(0x0800, 0), us(0x0900, statusPending))
	match1 := cat(im(0x0008, 0x0052, []byte("STUDY")), im(0x0010, 0x0010, []byte(synthName)), im(0x0010, 0x0020, []byte(synthID)))
	match2 := cat(im(0x0008, 0x0052, []byte("STUDY")), im(0x0010, 0x0010, []byte("SYNTH^OTHER")), im(0x0010, 0x0020, []byte("PIDX-9")))
	final := mkCommand(ui(0x0002, uidFindStudyRoot), us(0x0100, cmdCFind|cmdResponseBit), us(0x0120, 3), us(0x0800, dataSetTypeNone), us(0x0900, 0))
	steps := append(setup,
		toServer(mkMessage(1, rq, ident, 1000)),
		toClient(mkMessage(1, pend, match1, 1000), mkMessage(1, pend, match2, 7)),
		toClient(mkPData(mkPDV(1, 3, final))),
		toServer(mkReleaseRQ()), toClient(mkReleaseRP()),
	)
	_, dimses, anoms, rec := run(t, mkConv(steps...))
	if len(anoms) != 0 || len(dimses) != 1 {
		t.Fatalf("anomalies %v, %d dimse", anoms, len(dimses))
	}
	d := dimses[0]
	if d.PendingResponses != 2 || d.StatusClass != "success" || d.Priority != "low" || d.QueryRetrieveLevel != "STUDY" {
		t.Errorf("dimse %+v", d)
	}
	if strings.Join(d.QueryKeys, ",") != "QueryRetrieveLevel,PatientName,PatientID,StudyInstanceUID" {
		t.Errorf("query keys %v", d.QueryKeys)
	}
	var resp int
	for _, p := range d.PHI {
		if p.Response {
			resp++
		}
	}
	if resp != 4 {
		t.Errorf("PHI from responses: %+v", d.PHI)
	}
	noPHIInJSON(t, rec, synthName, synthID, "SYNTH^OTHER", "PIDX-9", "SYNTH*")
}

func TestCMoveSubOperations(t *testing.T) {
	setup := []step{
		toServer(mkAssocRQ("QR", "WS", []pcProp{{1, uidMoveStudyRoot, []string{uidExplicitLE}}}, mkUserInfo(0, "1.2.3", ""))),
		toClient(mkAssocAC("QR", "WS", []pcAcc{{1, 0, uidExplicitLE}}, mkUserInfo(0, "1.2.4", ""))),
	}
	rq := mkCommand(ui(0x0002, uidMoveStudyRoot), us(0x0100, cmdCMove), us(0x0110, 9), ae(0x0600, "FOREIGNAE"), us(0x0700, 0), us(0x0800, 0))
	ident := cat(ex(0x0008, 0x0052, "CS", []byte("STUDY")), ex(0x0020, 0x000d, "UI", []byte("1.2.3")))
	pend := func(rem, comp uint16) []byte {
		return mkCommand(us(0x0100, cmdCMove|cmdResponseBit), us(0x0120, 9), us(0x0800, dataSetTypeNone), us(0x0900, statusPending),
			us(0x1020, rem), us(0x1021, comp), us(0x1022, 0), us(0x1023, 0))
	}
	final := mkCommand(us(0x0100, cmdCMove|cmdResponseBit), us(0x0120, 9), us(0x0800, dataSetTypeNone), us(0x0900, 0xb000),
		us(0x1021, 2), us(0x1022, 1), us(0x1023, 0))
	cancel := mkCommand(us(0x0100, cmdCCancel), us(0x0120, 9), us(0x0800, dataSetTypeNone))
	steps := append(setup,
		toServer(mkMessage(1, rq, ident, 1000)),
		toClient(mkPData(mkPDV(1, 3, pend(2, 1)))),
		toServer(mkPData(mkPDV(1, 3, cancel))),
		toClient(mkPData(mkPDV(1, 3, pend(1, 2)), mkPDV(1, 3, final))),
	)
	assocs, dimses, anoms, _ := run(t, mkConv(steps...))
	if len(anoms) != 0 || len(dimses) != 1 || len(assocs) != 1 {
		t.Fatalf("anomalies %v, %d dimse", anoms, len(dimses))
	}
	d := dimses[0]
	if d.MoveDestination != "FOREIGNAE" || d.PendingResponses != 2 || d.Status != "0xB000" || d.StatusClass != "warning" || !d.Cancelled {
		t.Errorf("dimse %+v", d)
	}
	if so := d.SubOperations; so == nil || so.Completed != 2 || so.Failed != 1 || so.Remaining != nil {
		t.Errorf("sub-operations %+v", d.SubOperations)
	}
	if assocs[0].Result != "accepted" || assocs[0].CloseReason != "fin" || assocs[0].DIMSECounts["C-CANCEL"] != 1 {
		t.Errorf("association %+v", assocs[0])
	}
}

// TestInterleavedContexts sends two C-STOREs on two presentation contexts
// whose command and data fragments interleave within and across PDUs.
func TestInterleavedContexts(t *testing.T) {
	ds1 := ctDataset(3000)
	ds2 := cat(im(0x0008, 0x0060, []byte("MR")), im(0x0010, 0x0010, []byte(synthName)), im(0x7fe0, 0x0010, make([]byte, 2000)))
	steps := append(storeSetup(),
		toServer(
			mkPData(mkPDV(1, 3, storeRQ(1, "1.1")), mkPDV(3, 3, storeRQ(2, "2.2"))),
			mkPData(mkPDV(1, 0, ds1[:1000]), mkPDV(3, 0, ds2[:500])),
			mkPData(mkPDV(3, 0, ds2[500:1500]), mkPDV(1, 0, ds1[1000:2000])),
			mkPData(mkPDV(1, 2, ds1[2000:]), mkPDV(3, 2, ds2[1500:])),
		),
		toClient(mkPData(mkPDV(3, 3, storeRSP(2, 0)), mkPDV(1, 3, storeRSP(1, 0xa700)))),
	)
	_, dimses, anoms, _ := run(t, mkConv(steps...))
	if len(anoms) != 0 || len(dimses) != 2 {
		t.Fatalf("anomalies %v, %d dimse", anoms, len(dimses))
	}
	if d := dimses[0]; d.MessageID != 2 || d.Modality != "MR" || d.TransferSyntax != uidImplicitLE || d.DatasetBytes != int64(len(ds2)) || len(d.PHI) != 1 {
		t.Errorf("context 3: %+v", d)
	}
	if d := dimses[1]; d.MessageID != 1 || d.Modality != "CT" || d.StatusClass != "failure" || d.DatasetBytes != int64(len(ds1)) {
		t.Errorf("context 1: %+v", d)
	}
}

func TestUserIdentity(t *testing.T) {
	const user, pass = "drsmith", "hunter2-passcode"
	tests := []struct {
		name      string
		typ       byte
		primary   string
		secondary string
		want      UserIdentity
	}{
		{"username", 1, user, "", UserIdentity{Type: 1, TypeName: "username", UsernameInClear: true, Username: user}},
		{"username_passcode", 2, user, pass, UserIdentity{Type: 2, TypeName: "username_passcode", UsernameInClear: true, PasscodePresent: true, Username: user}},
		{"jwt", 5, "eyJhbGciOi.secret.token", "", UserIdentity{Type: 5, TypeName: "jwt"}},
		{"kerberos", 3, "TICKETBYTES", "", UserIdentity{Type: 3, TypeName: "kerberos"}},
		{"saml", 4, "<saml>assert</saml>", "", UserIdentity{Type: 4, TypeName: "saml"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			steps := []step{
				toServer(mkAssocRQ("PACS", "WS", []pcProp{{1, uidVerification, []string{uidImplicitLE}}},
					mkUserInfo(16384, "1.2.3", "", mkUserIdentityRQ(tc.typ, tc.primary, tc.secondary),
						mkItem(subAsyncOps, cat(be16(4), be16(2))),
						mkItem(subRoleSelection, cat(be16(len(uidCTStorage)), []byte(uidCTStorage), []byte{1, 1})),
						mkItem(subExtNeg, cat(be16(len(uidFindStudyRoot)), []byte(uidFindStudyRoot), []byte{1, 1, 0})),
					))),
				toClient(mkAssocAC("PACS", "WS", []pcAcc{{1, 0, uidImplicitLE}},
					mkUserInfo(16384, "1.2.4", "", mkItem(subUserIdentityAC, cat(be16(5), []byte("RESP!")))))),
				toServer(mkReleaseRQ()), toClient(mkReleaseRP()),
			}
			assocs, _, anoms, rec := run(t, mkConv(steps...))
			if len(anoms) != 0 || len(assocs) != 1 {
				t.Fatalf("anomalies %v, %d assocs", anoms, len(assocs))
			}
			a := assocs[0]
			ui := a.UserIdentity
			tc.want.PositiveResponseRequested = true
			tc.want.PrimaryFieldLength = len(tc.primary)
			tc.want.ServerResponse, tc.want.ServerResponseLength = true, 5
			if ui == nil || *ui != tc.want {
				t.Errorf("user identity\n got %+v\nwant %+v", ui, tc.want)
			}
			if a.AsyncOps == nil || a.AsyncOps.Invoked != 4 || len(a.RoleSelection) != 1 || a.RoleSelection[0].SCPRole != 1 ||
				len(a.ExtendedNegotiation) != 1 || a.ExtendedNegotiation[0].InfoLength != 3 {
				t.Errorf("negotiation %+v %+v %+v", a.AsyncOps, a.RoleSelection, a.ExtendedNegotiation)
			}
			noPHIInJSON(t, rec, user, pass, "secret", "TICKET", "assert", "RESP!")
		})
	}
}

// Malformed inputs: each gives its anomaly, never a panic.
func TestMalformed(t *testing.T) {
	setup := storeSetup()
	with := func(s ...step) []step { return append(append([]step{}, setup...), s...) }
	bigPixels := cat(ex(0x0008, 0x0060, "CS", []byte("CT")), ex(0x7fe0, 0x0010, "OW", make([]byte, 1000)))
	deep := ex(0x0008, 0x0060, "CS", []byte("CT"))
	for i := 0; i < maxSequenceDepth+2; i++ {
		deep = exUndef(0x0040, 0x0275, "SQ", itemUndef(deep))
	}
	var zbuf bytes.Buffer
	zw, _ := flate.NewWriter(&zbuf, 9)
	zw.Write(ex(0x0008, 0x0060, "CS", []byte("CT")))
	zw.Write(cat(le16(0x7fe0), le16(0x0010), []byte("OB"), []byte{0, 0}, le32(200<<20)))
	zw.Write(make([]byte, 8<<20))
	zw.Close()
	deflSetup := []step{
		toServer(mkAssocRQ("PACS", "CT1", []pcProp{{1, uidCTStorage, []string{uidDeflated}}}, mkUserInfo(16384, "1.2.3", ""))),
		toClient(mkAssocAC("PACS", "CT1", []pcAcc{{1, 0, uidDeflated}}, mkUserInfo(16384, "1.2.4", ""))),
	}
	tests := []struct {
		name  string
		steps []step
		want  string
	}{
		{"pdv longer than pdu", with(toServer(mkPDU(pduPData, cat(be32(100), []byte{1, 3}, []byte("short"))))), "pdv_length_exceeds_pdu"},
		{"pdv shorter than its header", with(toServer(mkPDU(pduPData, cat(be32(1), []byte{1, 3, 0, 0})))), "pdv_too_short"},
		{"pdu tail shorter than a pdv header", with(toServer(mkPDU(pduPData, []byte{0, 0, 0}), mkReleaseRQ())), "pdv_length_exceeds_pdu"},
		{"unknown pdu type", with(toServer([]byte{9, 0, 0, 0, 0, 4, 0, 0, 0, 0}, mkReleaseRQ())), "unknown_pdu_type"},
		{"pdu too long", with(toServer(cat([]byte{4, 0}, be32(maxPDataPDULength+1), make([]byte, 64)))), "pdu_too_long"},
		{"associate pdu too long", []step{toServer(cat([]byte{1, 0}, be32(maxAssociatePDULength+1), make([]byte, 64)))}, "pdu_too_long"},
		{"associate pdu too short", []step{toServer(mkPDU(1, make([]byte, 20)))}, "bad_pdu_length"},
		{"release with a long body", with(toServer(mkPDU(pduReleaseRQ, make([]byte, 9)))), "bad_pdu_length"},
		{"item length exceeds pdu", []step{toServer(mkPDU(1, cat(be16(1), make([]byte, 66), []byte{0x10, 0, 0x7f, 0xff, '1'})))}, "item_length_exceeds_pdu"},
		{"dataset element overruns", with(toServer(mkMessage(1, storeRQ(1, "1"),
			cat(exUndef(0x0040, 0x0275, "SQ", itemDef(ex(0x0008, 0x0060, "LO", make([]byte, 40)))[:8]), ex(0x0008, 0x0060, "LO", make([]byte, 40))), 100))),
			"dataset_element_overruns"},
		{"sequence too deep", with(toServer(mkMessage(1, storeRQ(1, "1"), deep, 1000))), "sequence_too_deep"},
		{"unpaired response", with(toClient(mkPData(mkPDV(1, 3, storeRSP(42, 0))))), "unpaired_response"},
		{"unexpected dataset", with(toServer(mkPData(mkPDV(1, 2, bigPixels)))), "unexpected_dataset"},
		{"command too long", with(toServer(mkPData(mkPDV(1, 1, make([]byte, maxCommandSetLength)), mkPDV(1, 3, []byte{1, 2})))), "command_too_long"},
		{"command element overruns", with(toServer(mkPData(mkPDV(1, 3, cat([]byte{0, 0, 0, 1}, le32(1000)))))), "command_element_overruns"},
		{"bad message control header", with(toServer(mkPData(mkPDV(1, 0x13, storeRQ(1, "1"))))), "bad_message_control_header"},
		{"inflate bomb", append(append([]step{}, deflSetup...), toServer(mkMessage(1, storeRQ(1, "1"), zbuf.Bytes(), 16000))), "inflate_limit"},
		{"inflate garbage", append(append([]step{}, deflSetup...), toServer(mkMessage(1, storeRQ(1, "1"), bytes.Repeat([]byte{0xff}, 100), 16000))), "inflate_error"},
		{"duplicate message id", with(toServer(mkPData(mkPDV(1, 3, storeRQ(5, "1"))), mkPData(mkPDV(1, 3, storeRQ(5, "2"))))), "duplicate_message_id"},
		{"pdu over negotiated max", with(toServer(mkMessage(1, storeRQ(1, "1"), ctDataset(20000), 17000))), "pdu_exceeds_negotiated_max"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, anoms, _ := run(t, mkConv(tc.steps...))
			if !contains(anoms, tc.want) {
				t.Errorf("anomalies %v, want %s", anoms, tc.want)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestGapResync loses bytes in the middle of a command PDU: the direction
// resynchronises on the next PDU header and the next transaction decodes.
func TestGapResync(t *testing.T) {
	steps := append(storeSetup(),
		toServer(mkMessage(1, storeRQ(1, "1.1"), ctDataset(100), 16000)[:30]),
		step{dir: parser.ToServer, gap: 500},
		toServer([]byte("garbage that is not a header"), mkMessage(1, storeRQ(2, "2.2"), ctDataset(100), 16000)),
		toClient(mkPData(mkPDV(1, 3, storeRSP(2, 0)))),
		toServer(mkReleaseRQ()), toClient(mkReleaseRP()),
	)
	assocs, dimses, anoms, _ := run(t, mkConv(steps...))
	if !contains(anoms, "resync") {
		t.Errorf("anomalies %v, want resync", anoms)
	}
	if len(dimses) != 1 || dimses[0].MessageID != 2 || dimses[0].Modality != "CT" || dimses[0].StatusClass != "success" {
		t.Fatalf("dimse %+v", dimses)
	}
	if len(assocs) != 1 || assocs[0].Gaps != 1 || assocs[0].Result != "released" {
		t.Errorf("association %+v", assocs)
	}
}

// TestGapInPixelData loses bytes inside pixel data: the walker stays in
// sync (no resync) and the transaction is marked.
func TestGapInPixelData(t *testing.T) {
	msg := mkMessage(1, storeRQ(1, "1.1"), ctDataset(30000), 16000)
	cut := len(msg) - 20000
	steps := append(storeSetup(),
		toServer(msg[:cut]),
		step{dir: parser.ToServer, gap: 1000},
		toServer(msg[cut+1000:]),
		toClient(mkPData(mkPDV(1, 3, storeRSP(1, 0)))),
	)
	_, dimses, anoms, _ := run(t, mkConv(steps...))
	if len(anoms) != 0 {
		t.Errorf("anomalies %v", anoms)
	}
	if len(dimses) != 1 || !dimses[0].Gap || dimses[0].Modality != "CT" || dimses[0].StatusClass != "success" {
		t.Fatalf("dimse %+v", dimses[0])
	}
}

// TestTransferSyntaxes walks the same attributes in every encoding, with
// sequences of defined and undefined length and encapsulated pixel data.
func TestTransferSyntaxes(t *testing.T) {
	otherIDs := func(enc func(g, e uint16, vr string, v []byte) []byte) []byte {
		return enc(0x0010, 0x0020, "LO", []byte(synthID))
	}
	exp := func(g, e uint16, vr string, v []byte) []byte { return ex(g, e, vr, v) }
	imp := func(g, e uint16, _ string, v []byte) []byte { return im(g, e, v) }
	expBE := func(g, e uint16, vr string, v []byte) []byte {
		if len(v)%2 == 1 {
			v = append(append([]byte(nil), v...), ' ')
		}
		h := cat(be16(int(g)), be16(int(e)), []byte(vr))
		if longVR(vr[0], vr[1]) {
			return cat(h, []byte{0, 0}, be32(len(v)), v)
		}
		return cat(h, be16(len(v)), v)
	}
	tests := []struct {
		name string
		ts   string
		ds   []byte
	}{
		{"explicit LE, undefined-length sequence, encapsulated pixels", uidJPEGBaseline, cat(
			ex(0x0008, 0x0060, "CS", []byte("US")),
			exUndef(0x0010, 0x1002, "SQ", itemUndef(otherIDs(exp))),
			exUndef(0x7fe0, 0x0010, "OB", cat(itemDef(nil), itemDef(make([]byte, 5000)), itemDef(make([]byte, 3000)))),
			ex(0xfffc, 0xfffc, "OB", make([]byte, 10)),
		)},
		{"implicit LE, defined-length sequence from the dictionary", uidImplicitLE, cat(
			im(0x0008, 0x0060, []byte("US")),
			im(0x0010, 0x1002, itemDef(otherIDs(imp))),
			im(0x7fe0, 0x0010, make([]byte, 5000)),
		)},
		{"explicit BE", uidExplicitBE, cat(
			expBE(0x0008, 0x0060, "CS", []byte("US")),
			cat(be16(0x0010), be16(0x1002), []byte("SQ"), []byte{0, 0}, be32(8+len(otherIDs(expBE))),
				[]byte{0xff, 0xfe, 0xe0, 0x00}, be32(len(otherIDs(expBE))), otherIDs(expBE)),
			expBE(0x7fe0, 0x0010, "OW", make([]byte, 5000)),
		)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			steps := []step{
				toServer(mkAssocRQ("PACS", "US1", []pcProp{{1, uidCTStorage, []string{tc.ts}}}, mkUserInfo(16384, "1.2.3", ""))),
				toClient(mkAssocAC("PACS", "US1", []pcAcc{{1, 0, tc.ts}}, mkUserInfo(16384, "1.2.4", ""))),
				toServer(mkMessage(1, storeRQ(1, "1"), tc.ds, 4000)),
				toClient(mkPData(mkPDV(1, 3, storeRSP(1, 0)))),
			}
			_, dimses, anoms, rec := run(t, mkConv(steps...))
			if len(anoms) != 0 || len(dimses) != 1 {
				t.Fatalf("anomalies %v, %d dimse", anoms, len(dimses))
			}
			d := dimses[0]
			if d.Modality != "US" || strings.Join(d.PHICategories, ",") != "id,other_patient" || len(d.PHI) != 1 || d.PHI[0].Value != synthID {
				t.Errorf("dimse %+v PHI %+v", d, d.PHI)
			}
			noPHIInJSON(t, rec, synthID)
		})
	}
}

// TestUnknownContext decodes a dataset on a context whose negotiation was
// not seen (flow picked up mid-association): the encoding is sniffed.
func TestUnknownContext(t *testing.T) {
	steps := []step{
		toServer(mkMessage(5, storeRQ(1, "1"), ctDataset(10), 4000)),
		toClient(mkPData(mkPDV(5, 3, storeRSP(1, 0)))),
	}
	assocs, dimses, _, _ := run(t, mkConv(steps...))
	if len(dimses) != 1 || dimses[0].Modality != "CT" || len(assocs) != 1 || assocs[0].Result != "unknown" {
		t.Fatalf("dimse %+v", dimses)
	}
}

// TestCGetAndNCommands runs a C-GET whose C-STORE sub-operation flows
// back to the requester, and a storage commitment N-ACTION answered by an
// N-EVENT-REPORT from the SCP.
func TestCGetAndNCommands(t *testing.T) {
	const uidGetStudyRoot = "1.2.840.10008.5.1.4.1.2.2.3"
	steps := []step{
		toServer(mkAssocRQ("QR", "WS", []pcProp{
			{1, uidGetStudyRoot, []string{uidExplicitLE}}, {3, uidCTStorage, []string{uidExplicitLE}}, {5, uidStorageCommit, []string{uidImplicitLE}},
		}, mkUserInfo(0, "1.2.3", "", mkItem(subRoleSelection, cat(be16(len(uidCTStorage)), []byte(uidCTStorage), []byte{0, 1}))))),
		toClient(mkAssocAC("QR", "WS", []pcAcc{{1, 0, uidExplicitLE}, {3, 0, uidExplicitLE}, {5, 0, uidImplicitLE}}, mkUserInfo(0, "1.2.4", ""))),
		toServer(mkMessage(1, mkCommand(ui(0x0002, uidGetStudyRoot), us(0x0100, cmdCGet), us(0x0110, 1), us(0x0700, 0), us(0x0800, 0)),
			ex(0x0008, 0x0052, "CS", []byte("STUDY")), 100)),
		toClient(mkMessage(3, storeRQ(77, "9.9"), ctDataset(100), 1000)),
		toServer(mkPData(mkPDV(3, 3, storeRSP(77, 0)))),
		toClient(mkPData(mkPDV(1, 3, mkCommand(us(0x0100, cmdCGet|cmdResponseBit), us(0x0120, 1), us(0x0800, dataSetTypeNone),
			us(0x0900, 0), us(0x1021, 1), us(0x1022, 0), us(0x1023, 0))))),
		toServer(mkMessage(5, mkCommand(ui(0x0003, uidStorageCommit), us(0x0100, cmdNAction), us(0x0110, 2), us(0x0800, 0),
			ui(0x1001, "1.2.840.10008.1.20.1.1"), us(0x1008, 1)), im(0x0008, 0x1195, []byte("1.2.3.999")), 100)),
		toClient(mkPData(mkPDV(5, 3, mkCommand(ui(0x0002, uidStorageCommit), us(0x0100, cmdNAction|cmdResponseBit), us(0x0120, 2),
			us(0x0800, dataSetTypeNone), us(0x0900, 0))))),
		toClient(mkMessage(5, mkCommand(ui(0x0002, uidStorageCommit), us(0x0100, cmdNEventReport), us(0x0110, 1), us(0x0800, 0),
			ui(0x1000, "1.2.840.10008.1.20.1.1"), us(0x1002, 1)), im(0x0008, 0x1195, []byte("1.2.3.999")), 100)),
		toServer(mkPData(mkPDV(5, 3, mkCommand(us(0x0100, cmdNEventReport|cmdResponseBit), us(0x0120, 1), us(0x0800, dataSetTypeNone), us(0x0900, 0))))),
	}
	assocs, dimses, anoms, _ := run(t, mkConv(steps...))
	if len(anoms) != 0 || len(dimses) != 4 {
		t.Fatalf("anomalies %v, %d dimse", anoms, len(dimses))
	}
	got := []string{}
	for _, d := range dimses {
		got = append(got, d.Command+"/"+d.RequestDirection+"/"+d.StatusClass)
	}
	if strings.Join(got, " ") != "C-STORE/to_client/success C-GET/to_server/success N-ACTION/to_server/success N-EVENT-REPORT/to_client/success" {
		t.Errorf("transactions %v", got)
	}
	if d := dimses[2]; d.ActionTypeID == nil || *d.ActionTypeID != 1 || d.SOPClassUID != uidStorageCommit {
		t.Errorf("n-action %+v", d)
	}
	if d := dimses[3]; d.EventTypeID == nil || *d.EventTypeID != 1 {
		t.Errorf("n-event-report %+v", d)
	}
	if c := assocs[0].DIMSECounts; c["C-GET"] != 1 || c["C-STORE"] != 1 || c["N-ACTION"] != 1 || c["N-EVENT-REPORT"] != 1 {
		t.Errorf("counts %v", c)
	}
	if rs := assocs[0].RoleSelection; len(rs) != 1 || rs[0].SCPRole != 1 || rs[0].SCURole != 0 {
		t.Errorf("role selection %+v", rs)
	}
}
