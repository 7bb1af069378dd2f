package dicom

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/medtap/medtap/parsers/parsertest"
	"github.com/medtap/medtap/parsers/tls"
)

// Tests of the captures made with DCMTK 3.6.7 peers for the query/retrieve,
// user identity, transfer syntax and TLS cases (pcaps/make/dicom-qr.sh,
// dicom-userid.sh, dicom-syntaxes.sh, dicom-tls.sh). The oracles are the
// inputs the scripts chose and what the DCMTK clients logged at capture
// time (testdata/dcmtk/<capture>.log), next to tshark (tshark_test.go).

// logBlock is one client run of a capture script's DCMTK log: the
// "### name: command" header and the lines the client printed.
type logBlock struct {
	name, cmd string
	lines     []string
}

func dcmtkLog(t *testing.T, capture string) []logBlock {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "dcmtk", capture+".log"))
	if err != nil {
		t.Fatalf("DCMTK log of %s: %v", capture, err)
	}
	var out []logBlock
	for _, l := range strings.Split(string(b), "\n") {
		if h, ok := strings.CutPrefix(l, "### "); ok {
			if strings.HasPrefix(h, "exit status") {
				continue
			}
			name, cmd, ok := strings.Cut(h, ": ")
			if !ok {
				name, cmd = h, h
			}
			out = append(out, logBlock{name: name, cmd: cmd})
			continue
		}
		if len(out) > 0 {
			out[len(out)-1].lines = append(out[len(out)-1].lines, l)
		}
	}
	return out
}

func (b logBlock) has(s string) bool {
	for _, l := range b.lines {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// arg gives the value after a command line option, "" if absent.
func (b logBlock) arg(opt string) string {
	f := strings.Fields(b.cmd)
	for i := range f {
		if f[i] == opt && i+1 < len(f) {
			return f[i+1]
		}
	}
	return ""
}

func (b logBlock) flag(opt string) bool { return strings.Contains(" "+b.cmd+" ", " "+opt+" ") }

// convEvents replays each conversation of a capture on its own.
type convEvents struct {
	conv  *parsertest.Conversation
	assoc *Association
	dimse []*DIMSE
	rec   *parsertest.Recorder
}

func perConversation(t *testing.T, name string) []convEvents {
	t.Helper()
	haveCapture(t, name)
	return perConversationFile(t, pcapPath(name))
}

func perConversationFile(t *testing.T, path string) []convEvents {
	t.Helper()
	convs, err := parsertest.Streams(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []convEvents
	for _, c := range convs {
		ce := convEvents{conv: c, rec: parsertest.Replay(factoryFor(c), c, parsertest.Whole, nil)}
		for _, e := range ce.rec.Events {
			switch b := e.Body.(type) {
			case *Association:
				ce.assoc = b
			case *DIMSE:
				ce.dimse = append(ce.dimse, b)
			}
		}
		out = append(out, ce)
	}
	return out
}

// TestUserIdentityCapture: one association per user identity storescu can
// send (dicom-userid.sh); what each carried is read back from the command
// lines in the DCMTK log. Usernames are in memory only; the passcode and
// the kerberos, SAML and JWT tokens are nowhere.
func TestUserIdentityCapture(t *testing.T) {
	const name = "dicom-userid.pcap"
	convs := perConversation(t, name)
	blocks := dcmtkLog(t, name)
	if len(convs) != len(blocks) || len(blocks) != 7 {
		t.Fatalf("%d associations, %d client runs", len(convs), len(blocks))
	}
	secrets := []string{"KRB5-SYNTHETIC", "saml:Assertion", "TECH04", "TECH05", "eyJhbGciOiJub25l"}
	for i, b := range blocks {
		a := convs[i].assoc
		u := a.UserIdentity
		if u == nil {
			t.Fatalf("%s: no user identity", b.name)
		}
		user, pw := b.arg("--user"), b.arg("--password")
		wantType := uint8(1)
		switch {
		case b.flag("--kerberos"):
			wantType = 3
		case b.flag("--saml"):
			wantType = 4
		case b.flag("--jwt"):
			wantType = 5
		case pw != "" || b.flag("--empty-password"):
			wantType = 2
		}
		if u.Type != wantType || u.TypeName != userIdentityTypes[wantType] {
			t.Errorf("%s: type %d %s, want %d", b.name, u.Type, u.TypeName, wantType)
		}
		if u.Username != user || u.UsernameInClear != (user != "") || (user != "" && u.PrimaryFieldLength != len(user)) {
			t.Errorf("%s: username %q in clear %v length %d, want %q", b.name, u.Username, u.UsernameInClear, u.PrimaryFieldLength, user)
		}
		if u.PasscodePresent != (pw != "") {
			t.Errorf("%s: passcode_present %v with --password %q", b.name, u.PasscodePresent, pw)
		}
		if u.PositiveResponseRequested != b.flag("-rsp") || u.ServerResponse {
			t.Errorf("%s: positive response requested %v, server response %v", b.name, u.PositiveResponseRequested, u.ServerResponse)
		}
		if pw != "" && !contains(secrets, pw) {
			secrets = append(secrets, pw)
		}
		if user != "" && !contains(secrets, user) {
			secrets = append(secrets, user)
		}
		if strings.Contains(fmt.Sprintf("%+v", *u), "Pw-") {
			t.Errorf("%s: the passcode is kept in memory", b.name)
		}
		switch {
		case b.has("Positive response requested but none received"):
			// storescu closes the connection after the A-ASSOCIATE-AC.
			if a.Result != "accepted" || a.CloseReason != "fin" || len(convs[i].dimse) != 0 {
				t.Errorf("%s: result %s (%s), %d transactions", b.name, a.Result, a.CloseReason, len(convs[i].dimse))
			}
		case b.has("Received Store Response (Success)"):
			if a.Result != "released" || len(convs[i].dimse) != 1 || convs[i].dimse[0].StatusClass != "success" {
				t.Errorf("%s: result %s, %d transactions", b.name, a.Result, len(convs[i].dimse))
			}
		default:
			t.Fatalf("%s: unexpected client log", b.name)
		}
	}
	all := ""
	for _, c := range convs {
		all += c.rec.JSON()
	}
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("JSON contains %q", s)
		}
	}
}

var dumpLine = regexp.MustCompile(`^I: \(([0-9a-f]{4}),([0-9a-f]{4})\) \w\w \[(.*)\]`)

// TestQueryRetrieveCapture: findscu, movescu and getscu against dcmqrscp
// (dicom-qr.sh). Query keys, matches and their patient values (kept in
// memory, decoded from UTF-8 for 张^三), C-MOVE sub-operations and the
// sub-association it opens, C-GET's role selection and C-STORE on the same
// association, the late C-CANCEL, the unknown move destination.
func TestQueryRetrieveCapture(t *testing.T) {
	const name = "dicom-qr.pcap"
	convs := perConversation(t, name)
	blocks := dcmtkLog(t, name)
	var qr, sub []convEvents
	for _, c := range convs {
		if c.assoc.CalledAE == "QRSCP" {
			qr = append(qr, c)
		} else {
			sub = append(sub, c)
		}
	}
	if len(qr) != len(blocks) || len(sub) != 1 {
		t.Fatalf("%d Q/R associations for %d client runs, %d move sub-associations", len(qr), len(blocks), len(sub))
	}
	for i, b := range blocks {
		c := qr[i]
		var main *DIMSE
		for _, d := range c.dimse {
			if d.RequestDirection == "to_server" {
				main = d
			}
		}
		if main == nil {
			t.Fatalf("%s: no request", b.name)
		}
		cmd := map[string]string{"findscu": "C-FIND", "movescu": "C-MOVE", "getscu": "C-GET"}[strings.Fields(b.cmd)[0]]
		if main.Command != cmd || main.QueryRetrieveLevel != b.arg("-k")[len("QueryRetrieveLevel="):] {
			t.Errorf("%s: %s level %s", b.name, main.Command, main.QueryRetrieveLevel)
		}
		// Query keys: the -k options, in the order DCMTK sorts them (by tag).
		var keys []string
		f := strings.Fields(b.cmd)
		for j := range f {
			if f[j] == "-k" {
				k, _, _ := strings.Cut(f[j+1], "=")
				keys = append(keys, k)
			}
		}
		if !sameSet(keys, main.QueryKeys) {
			t.Errorf("%s: query keys %v, asked %v", b.name, main.QueryKeys, keys)
		}
		switch cmd {
		case "C-FIND":
			checkFindPHI(t, b, main)
		case "C-MOVE":
			if main.MoveDestination != b.arg("-aem") {
				t.Errorf("%s: move destination %q", b.name, main.MoveDestination)
			}
		}
		switch b.name {
		case "find-wildcard":
			if main.PendingResponses != 2 {
				t.Errorf("%s: %d matches", b.name, main.PendingResponses)
			}
		case "find-cancel":
			// findscu --cancel 1: sent after dcmqrscp's final response.
			if !b.has("Sending Cancel Request") || c.assoc.DIMSECounts["C-CANCEL"] != 1 || main.Cancelled || main.StatusClass != "success" {
				t.Errorf("%s: C-CANCEL %d, cancelled %v, status %s", b.name, c.assoc.DIMSECounts["C-CANCEL"], main.Cancelled, main.StatusClass)
			}
		case "move":
			s := sub[0]
			if s.assoc.CallingAE != "QRSCP" || s.assoc.CalledAE != "STORESCP" || len(s.dimse) != 3 {
				t.Fatalf("move sub-association %s -> %s with %d transactions", s.assoc.CallingAE, s.assoc.CalledAE, len(s.dimse))
			}
			study := ""
			for j := range f {
				if v, ok := strings.CutPrefix(f[j], "StudyInstanceUID="); ok {
					study = v
				}
			}
			for _, d := range s.dimse {
				if d.Command != "C-STORE" || d.MoveOriginatorAE != "WORKSTATION" || d.StudyInstanceUID != study {
					t.Errorf("move sub-operation %s from %q, study %s", d.Command, d.MoveOriginatorAE, d.StudyInstanceUID)
				}
			}
			if so := main.SubOperations; so == nil || so.Completed != 3 || so.Failed != 0 || main.PendingResponses != 3 {
				t.Errorf("%s: sub-operations %+v, %d pending", b.name, main.SubOperations, main.PendingResponses)
			}
		case "get":
			var store *DIMSE
			for _, d := range c.dimse {
				if d.Command == "C-STORE" {
					store = d
				}
			}
			if store == nil || store.RequestDirection != "to_client" || store.StatusClass != "success" || store.SeriesInstanceUID != "2.25.1002" {
				t.Errorf("%s: C-STORE sub-operation %+v", b.name, store)
			}
			scp := 0
			for _, r := range c.assoc.RoleSelection {
				if r.Source == "requestor" && r.SCPRole == 1 && r.SOPClassUID == "1.2.840.10008.5.1.4.1.1.2" {
					scp++
				}
			}
			if scp == 0 || !b.has("Number of Completed Suboperations : 1") || main.SubOperations == nil || main.SubOperations.Completed != 1 {
				t.Errorf("%s: %d SCP role selections for CT, sub-operations %+v", b.name, scp, main.SubOperations)
			}
		case "move-unknown":
			if main.Status != "0xA801" || main.StatusClass != "failure" || !b.has("MoveDestinationUnknown") {
				t.Errorf("%s: status %s %s", b.name, main.Status, main.StatusClass)
			}
		}
	}
}

// checkFindPHI compares the patient values in memory with the identifiers
// findscu logged: its request and every match.
func checkFindPHI(t *testing.T, b logBlock, d *DIMSE) {
	t.Helper()
	var want, got []string
	resp := false
	for _, l := range b.lines {
		if strings.Contains(l, "Find Response:") {
			resp = true
		}
		m := dumpLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		tag, _ := strconv.ParseUint(m[1]+m[2], 16, 32)
		if v := strings.Trim(m[3], " \x00"); phiCategory(uint32(tag)) != phiNone && v != "" {
			want = append(want, fmt.Sprintf("%s %v %s", tagString(uint32(tag)), resp, v))
		}
	}
	for _, p := range d.PHI {
		got = append(got, fmt.Sprintf("%s %v %s", tagString(p.Tag), p.Response, p.Value))
	}
	if len(want) == 0 || !sameSet(want, got) {
		t.Errorf("%s: patient values in memory\n ours   %q\n findscu %q", b.name, got, want)
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

// TestSyntaxesCapture: the same three objects sent in explicit VR big
// endian and in implicit VR little endian (dicom-syntaxes.sh) give exactly
// what they give in explicit VR little endian (dicom-store.pcap): every
// extracted attribute, the patient tags, and the patient values in memory.
func TestSyntaxesCapture(t *testing.T) {
	ref := map[string]*DIMSE{}
	for _, c := range perConversation(t, "dicom-store.pcap") {
		for _, d := range c.dimse {
			ref[d.SOPInstanceUID] = d
		}
	}
	convs := perConversation(t, "dicom-syntaxes.pcap")
	want := []string{"1.2.840.10008.1.2.2", "1.2.840.10008.1.2"}
	if len(convs) != len(want) {
		t.Fatalf("%d associations", len(convs))
	}
	for i, c := range convs {
		if len(c.dimse) != 3 {
			t.Fatalf("%s: %d transactions", want[i], len(c.dimse))
		}
		for _, d := range c.dimse {
			r := ref[d.SOPInstanceUID]
			if r == nil || d.TransferSyntax != want[i] || d.StatusClass != "success" {
				t.Fatalf("%s: %s in %s", want[i], d.SOPInstanceUID, d.TransferSyntax)
			}
			if got, exp := extracted(d), extracted(r); got != exp {
				t.Errorf("%s %s:\n got  %s\n want %s", want[i], d.SOPInstanceUID, got, exp)
			}
		}
	}
}

// extracted is what a C-STORE's dataset gave, transfer syntax aside.
func extracted(d *DIMSE) string {
	return fmt.Sprint(d.Modality, "|", d.Manufacturer, "|", d.Model, "|", d.DeviceSerialNumber, "|", d.SoftwareVersions, "|",
		d.StationName, "|", d.InstitutionName, "|", d.StudyInstanceUID, "|", d.SeriesInstanceUID, "|", d.DatasetSOPInstanceID, "|",
		d.SpecificCharacterSet, "|", d.PHICategories, "|", d.PHITags, "|", d.PrivateTags, "|", d.PatientIdentityRemoved, "|", d.PHI)
}

// dcmtkNames maps the DCMTK dictionary names in the logs to UIDs.
var dcmtkNames = map[string]string{
	"=CTImageStorage":               "1.2.840.10008.5.1.4.1.1.2",
	"=MRImageStorage":               "1.2.840.10008.5.1.4.1.1.4",
	"=SecondaryCaptureImageStorage": "1.2.840.10008.5.1.4.1.1.7",
	"=LittleEndianExplicit":         "1.2.840.10008.1.2.1",
	"=BigEndianExplicit":            "1.2.840.10008.1.2.2",
	"=LittleEndianImplicit":         "1.2.840.10008.1.2",
}

// OpenSSL's names of the suites DCMTK negotiated, with their IANA names.
var opensslSuites = map[string]string{
	"TLS_AES_256_GCM_SHA384":    "TLS_AES_256_GCM_SHA384",
	"DHE-RSA-AES256-GCM-SHA384": "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
	"NULL-SHA":                  "TLS_RSA_WITH_NULL_SHA",
}

var (
	logProtocol = regexp.MustCompile(`^D:   Protocol    : (\S+)`)
	logCipher   = regexp.MustCompile(`^D:   Ciphersuite : ([^,]+),`)
)

// TestTLSAgainstTshark: the tls events of DICOM over TLS (dicom-tls.sh)
// against tshark's TLS dissector (version, suite, certificate SHA-256)
// and storescu's own log (protocol and suite); the flows are encrypted
// except the NULL-cipher one, whose DICOM is decoded.
func TestTLSAgainstTshark(t *testing.T) {
	for _, name := range []string{"dicom-tls.pcap", "dicom-tls-null.pcap"} {
		t.Run(name, func(t *testing.T) {
			convs := perConversation(t, name)
			blocks := dcmtkLog(t, name)
			if len(convs) != len(blocks) {
				t.Fatalf("%d connections, %d client runs", len(convs), len(blocks))
			}
			view := tsharkTLS(t, name)
			for i, c := range convs {
				var h *tls.Handshake
				for _, e := range c.rec.Events {
					if x, ok := e.Body.(*tls.Handshake); ok {
						h = x
					}
				}
				if h == nil {
					t.Fatalf("%s: no tls event", blocks[i].cmd)
				}
				w := view[c.conv.Flow.Client.Port()]
				sha := ""
				if h.Cert != nil {
					sha = h.Cert.SHA256
				}
				got := fmt.Sprintf("%s 0x%04x %s", h.Version, *h.CipherID, sha)
				if want := fmt.Sprintf("%s 0x%04x %s", w.version, w.cipher, w.certSHA256); got != want {
					t.Errorf("%s: ours %s, tshark %s", blocks[i].cmd, got, want)
				}
				var proto, suite string
				for _, l := range blocks[i].lines {
					if m := logProtocol.FindStringSubmatch(l); m != nil {
						proto = m[1]
					}
					if m := logCipher.FindStringSubmatch(l); m != nil {
						suite = opensslSuites[m[1]]
					}
				}
				if h.Version != proto || h.Cipher != suite {
					t.Errorf("%s: %s %s, storescu logged %s %s", blocks[i].cmd, h.Version, h.Cipher, proto, suite)
				}
				null := strings.Contains(blocks[i].cmd, "+pn")
				if h.NullCipher != null || h.Encrypted == null || !h.Established {
					t.Errorf("%s: null_cipher %v encrypted %v established %v", blocks[i].cmd, h.NullCipher, h.Encrypted, h.Established)
				}
				if null != (c.assoc != nil) || (null && len(c.dimse) != 3) {
					t.Errorf("%s: association %v with %d transactions", blocks[i].cmd, c.assoc != nil, len(c.dimse))
				}
			}
		})
	}
}

type tlsView struct {
	version    string
	cipher     uint16
	certSHA256 string
}

func tsharkTLS(t *testing.T, name string) map[uint16]*tlsView {
	t.Helper()
	out := tshark(t, "-n", "-r", pcapPath(name), "-d", "tcp.port==2762,tls", "-Y", "tls.handshake.type==2 || tls.handshake.type==11",
		"-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|", "-e", "tcp.dstport", "-e", "tls.handshake.type",
		"-e", "tls.handshake.version", "-e", "tls.handshake.extensions.supported_version", "-e", "tls.handshake.ciphersuite",
		"-e", "tls.handshake.certificate")
	names := map[string]string{"0x0303": "TLSv1.2", "0x0304": "TLSv1.3"}
	view := map[uint16]*tlsView{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 6 {
			continue
		}
		port, _ := strconv.Atoi(f[0])
		v := view[uint16(port)]
		if v == nil {
			v = &tlsView{}
			view[uint16(port)] = v
		}
		if strings.Contains(f[1], "2") {
			v.version = names[f[2]]
			if f[3] != "" {
				v.version = names[f[3]]
			}
			c, _ := strconv.ParseUint(strings.Split(f[4], "|")[0], 0, 16)
			v.cipher = uint16(c)
		}
		if f[5] != "" {
			der, err := hex.DecodeString(strings.ReplaceAll(strings.Split(f[5], "|")[0], ":", ""))
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(der)
			v.certSHA256 = hex.EncodeToString(sum[:])
		}
	}
	return view
}

// TestTLSNullAgainstDCMTK: tshark cannot read the DICOM inside the
// NULL-cipher session, so the association and transactions decoded from
// inside TLS are compared with storescu's debug log of that session.
func TestTLSNullAgainstDCMTK(t *testing.T) {
	const name = "dicom-tls-null.pcap"
	convs := perConversation(t, name)
	blocks := dcmtkLog(t, name)
	if len(convs) != 1 || len(blocks) != 1 || convs[0].assoc == nil {
		t.Fatalf("%d connections, %d client runs", len(convs), len(blocks))
	}
	a, lines := convs[0].assoc, blocks[0].lines
	val := func(l, key string) (string, bool) {
		v, ok := strings.CutPrefix(l, "D: "+key)
		return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":")), ok
	}
	var (
		ac       bool
		pcid     int
		proposed = map[int][]string{}
		abstract = map[int]string{}
		accepted = map[int]string{}
		want     []string // "id instance status"
		msg      = map[string]string{}
	)
	for _, l := range lines {
		switch {
		case strings.Contains(l, "BEGIN A-ASSOCIATE-AC"):
			ac = true
		case strings.Contains(l, "BEGIN A-ASSOCIATE-RQ"):
			ac = false
		}
		if v, ok := val(l, "Calling Application Name"); ok && (v != a.CallingAE) {
			t.Errorf("calling AE %q, storescu %q", a.CallingAE, v)
		}
		if v, ok := val(l, "Called Application Name"); ok && (v != a.CalledAE) {
			t.Errorf("called AE %q, storescu %q", a.CalledAE, v)
		}
		if v, ok := val(l, "Our Max PDU Receive Size"); ok && v != strconv.Itoa(int(a.MaxPDULength)) {
			t.Errorf("max PDU %d, storescu %s", a.MaxPDULength, v)
		}
		if v, ok := val(l, "Their Max PDU Receive Size"); ok && ac && v != strconv.Itoa(int(a.AcceptorMaxPDULength)) {
			t.Errorf("acceptor max PDU %d, storescu %s", a.AcceptorMaxPDULength, v)
		}
		if v, ok := val(l, "Our Implementation Class UID"); ok && v != a.ImplementationClassUID {
			t.Errorf("implementation class %s, storescu %s", a.ImplementationClassUID, v)
		}
		if v, ok := val(l, "Their Implementation Version Name"); ok && ac && v != a.AcceptorImplementationVersionName {
			t.Errorf("acceptor version %s, storescu %s", a.AcceptorImplementationVersionName, v)
		}
		if v, ok := val(l, "  Context ID"); ok {
			pcid, _ = strconv.Atoi(strings.Fields(v)[0])
		}
		if v, ok := val(l, "    Abstract Syntax"); ok && !ac {
			abstract[pcid] = dcmtkNames[v]
		}
		if v, ok := val(l, "      ="); ok && !ac {
			proposed[pcid] = append(proposed[pcid], dcmtkNames["="+v])
		}
		if v, ok := val(l, "    Accepted Transfer Syntax"); ok {
			accepted[pcid] = dcmtkNames[v]
		}
		for _, k := range []string{"Message ID", "Message ID Being Responded To", "Affected SOP Instance UID", "DIMSE Status"} {
			if v, ok := val(l, k+" "); ok {
				msg[k] = v
			}
		}
		if strings.Contains(l, "END DIMSE MESSAGE") {
			if msg["DIMSE Status"] != "" { // a response
				st, _, _ := strings.Cut(msg["DIMSE Status"], ":")
				want = append(want, fmt.Sprintf("%s %s %s", msg["Message ID Being Responded To"], msg["Affected SOP Instance UID"], strings.ToUpper(st[2:])))
			}
			msg = map[string]string{}
		}
	}
	for _, pc := range a.PresentationContexts {
		id := int(pc.ID)
		if pc.AbstractSyntax != abstract[id] || strings.Join(pc.TransferSyntaxes, " ") != strings.Join(proposed[id], " ") ||
			pc.AcceptedTransferSyntax != accepted[id] {
			t.Errorf("context %d: %s %v -> %s, storescu %s %v -> %s", id, pc.AbstractSyntax, pc.TransferSyntaxes, pc.AcceptedTransferSyntax,
				abstract[id], proposed[id], accepted[id])
		}
	}
	if len(a.PresentationContexts) != len(abstract) {
		t.Errorf("%d contexts, storescu proposed %d", len(a.PresentationContexts), len(abstract))
	}
	var got []string
	for _, d := range convs[0].dimse {
		got = append(got, fmt.Sprintf("%d %s %s", d.MessageID, d.SOPInstanceUID, strings.TrimPrefix(d.Status, "0x")))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") || len(want) != 3 {
		t.Errorf("transactions\n ours     %q\n storescu %q", got, want)
	}
	if a.Result != "released" {
		t.Errorf("association %s", a.Result)
	}
}
