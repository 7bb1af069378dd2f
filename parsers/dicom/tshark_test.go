package dicom

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/medtap/medtap/parsers/parsertest"
)

// Comparison with tshark's DICOM dissector (Wireshark 4.0), an independent
// decoder, on every capture it can read: per association (keyed by the
// client's TCP port) the AE titles, proposed abstract and transfer syntaxes,
// accepted transfer syntaxes and user identity; per DIMSE transaction the
// command, message id, final status, pending responses, sub-operation
// counters, affected SOP instance UID, and which patient attributes
// (phiCategory tags with a value, at any depth) its datasets carry.
//
// Where tshark cannot see or is wrong, the test says so and something else
// stands in: it does not inflate deflated datasets, misreads encapsulated
// pixel data fragments as elements, and loses the responses after both (the
// capture scripts check every store succeeded); it cannot
// read DICOM inside TLS (TestTLSNullAgainstDCMTK compares with DCMTK's own
// log).

type tsAssoc struct {
	calling, called string
	abstracts       []string       // proposed, in context order
	proposedTS      []string       // every proposed transfer syntax, in order
	accepted        map[int]string // context id -> accepted transfer syntax
	userIdentity    string         // "type/response_requested/primary_len/secondary_len"
}

type tsTxn struct {
	requestSeen bool
	status      int // final status, -1 when none seen
	pending     int
	subOps      string // "remaining/completed/failed/warning" of the last response carrying them
	sopInstance string
	deflated    bool // tshark cannot inflate the datasets, and loses what follows
	encaps      bool // encapsulated pixel data: tshark walks into the fragments and loses what follows
	phiTags     map[string]bool
}

type tsharkView struct {
	assocs  map[uint16]*tsAssoc // by client port
	txns    map[string]*tsTxn   // "port dir COMMAND ID=n"
	cancels map[uint16]int      // C-CANCEL-RQ per client port
}

var uidIn = regexp.MustCompile(`\(([0-9.]+)\)$`)

func tshark(t *testing.T, args ...string) []byte {
	t.Helper()
	path, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed")
	}
	out, err := exec.Command(path, args...).Output()
	if err != nil {
		t.Fatalf("tshark %v: %v", args, err)
	}
	return out
}

// decodeAs gives tshark's -d options for the servers' ports.
func decodeAs(convs []*parsertest.Conversation) (args []string, servers map[uint16]bool) {
	servers = map[uint16]bool{}
	for _, c := range convs {
		p := c.Flow.Server.Port()
		if !servers[p] {
			servers[p] = true
			args = append(args, "-d", fmt.Sprintf("tcp.port==%d,dicom", p))
		}
	}
	return args, servers
}

func uids(field string) []string {
	var out []string
	for _, v := range strings.Split(field, "|") {
		if m := uidIn.FindStringSubmatch(strings.TrimSpace(v)); m != nil {
			out = append(out, m[1])
		}
	}
	return out
}

func runTshark(t *testing.T, name string, convs []*parsertest.Conversation) tsharkView {
	t.Helper()
	da, servers := decodeAs(convs)
	v := tsharkView{assocs: map[uint16]*tsAssoc{}, txns: map[string]*tsTxn{}, cancels: map[uint16]int{}}
	client := func(src, dst uint16) (port uint16, dir string) {
		if servers[dst] {
			return src, "to_server"
		}
		return dst, "to_client"
	}

	// Associations: one A-ASSOCIATE PDU per frame in these captures.
	args := append([]string{"-n", "-r", pcapPath(name)}, da...)
	args = append(args, "-Y", "dicom.pdu.type==1 || dicom.pdu.type==2", "-T", "fields",
		"-E", "occurrence=a", "-E", "aggregator=|", "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "dicom.pdu.type",
		"-e", "dicom.assoc.ae.calling", "-e", "dicom.assoc.ae.called", "-e", "dicom.pctx.id", "-e", "dicom.pctx.result",
		"-e", "dicom.pctx.abss.syntax", "-e", "dicom.pctx.xfer.syntax",
		"-e", "dicom.userinfo.user_identify.type", "-e", "dicom.userinfo.user_identify.response_requested",
		"-e", "dicom.userinfo.user_identify.primary_field_length", "-e", "dicom.userinfo.user_identify.secondary_field_length")
	for _, line := range strings.Split(strings.TrimRight(string(tshark(t, args...)), "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 13 {
			continue
		}
		src, _ := strconv.Atoi(f[0])
		dst, _ := strconv.Atoi(f[1])
		port, _ := client(uint16(src), uint16(dst))
		a := v.assocs[port]
		if a == nil {
			a = &tsAssoc{accepted: map[int]string{}}
			v.assocs[port] = a
		}
		switch {
		case strings.Contains(f[2], "0x01"):
			a.calling, a.called = strings.TrimSpace(f[3]), strings.TrimSpace(f[4])
			a.abstracts = uids(f[7])
			a.proposedTS = uids(f[8])
			if f[9] != "" {
				a.userIdentity = strings.Join([]string{f[9], f[10], f[11], f[12]}, "/")
			}
		case strings.Contains(f[2], "0x02"):
			ids, res, ts := strings.Split(f[5], "|"), strings.Split(f[6], "|"), uids(f[8])
			if len(ids) != len(res) || len(ids) != len(ts) {
				t.Fatalf("tshark A-ASSOCIATE-AC: %d contexts, %d results, %d transfer syntaxes", len(ids), len(res), len(ts))
			}
			for i := range ids {
				if res[i] == "0x00" {
					id, _ := strconv.ParseInt(ids[i], 0, 16)
					a.accepted[int(id)] = ts[i]
				}
			}
		}
	}

	// DIMSE messages, from the detail view.
	args = append([]string{"-n", "-r", pcapPath(name)}, da...)
	out := tshark(t, append(args, "-V", "-Y", "dicom")...)
	var (
		ports    = regexp.MustCompile(`^Transmission Control Protocol, Src Port: (\d+), Dst Port: (\d+)`)
		ctxLine  = regexp.MustCompile(`^        Context: 0x([0-9a-f]+) \((.*)\)$`)
		flags    = regexp.MustCompile(`^        Flags: 0x0\d \((Command|Data)`)
		element  = regexp.MustCompile(`^(\s+)\(([0-9a-f]{4}),([0-9a-f]{4})\)\s+(\S+) (.*)$`)
		statusIn = regexp.MustCompile(`\(0x([0-9a-f]+)\)\s*$`)
	)
	var (
		port     uint16
		dir      string
		inPDV    bool
		command  bool
		deflated bool
		encaps   bool
		ctx      string
		els      map[string]string // command elements of the current PDV
		phi      map[string]bool   // patient tags with a value in the current data PDV
	)
	lastCmd := map[string]*tsTxn{} // "port dir ctx" -> transaction of the last command
	endPDV := func() {
		if !inPDV {
			return
		}
		inPDV = false
		key := fmt.Sprintf("%d %s %s", port, dir, ctx)
		if !command {
			if tx := lastCmd[key]; tx != nil {
				for tag := range phi {
					tx.phiTags[tag] = true
				}
			}
			return
		}
		field := els["0100"]
		if field == "" {
			return
		}
		name := strings.TrimSuffix(strings.TrimSuffix(field, "-RQ"), "-RSP")
		if name == "C-CANCEL" {
			v.cancels[port]++
			return
		}
		var tx *tsTxn
		if strings.HasSuffix(field, "-RQ") {
			id, _ := strconv.Atoi(els["0110"])
			k := fmt.Sprintf("%d %s %s ID=%d", port, dir, name, id)
			tx = v.txns[k]
			if tx == nil {
				tx = &tsTxn{status: -1, phiTags: map[string]bool{}}
				v.txns[k] = tx
			}
			tx.requestSeen = true
			tx.sopInstance = strings.TrimRight(els["1000"], " \x00")
		} else {
			id, _ := strconv.Atoi(els["0120"])
			reqDir := "to_server"
			if dir == "to_server" {
				reqDir = "to_client"
			}
			k := fmt.Sprintf("%d %s %s ID=%d", port, reqDir, name, id)
			tx = v.txns[k]
			if tx == nil {
				tx = &tsTxn{status: -1, phiTags: map[string]bool{}}
				v.txns[k] = tx
			}
			if m := statusIn.FindStringSubmatch(els["0900"]); m != nil {
				st, _ := strconv.ParseUint(m[1], 16, 16)
				if st == statusPending || st == statusPendingWarn {
					tx.pending++
				} else {
					tx.status = int(st)
				}
			}
			if els["1021"] != "" || els["1022"] != "" || els["1023"] != "" || els["1020"] != "" {
				tx.subOps = strings.Join([]string{els["1020"], els["1021"], els["1022"], els["1023"]}, "/")
			}
		}
		tx.deflated = tx.deflated || deflated
		tx.encaps = tx.encaps || encaps
		lastCmd[key] = tx
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := ports.FindStringSubmatch(line); m != nil {
			endPDV()
			src, _ := strconv.Atoi(m[1])
			dst, _ := strconv.Atoi(m[2])
			port, dir = client(uint16(src), uint16(dst))
			continue
		}
		if strings.HasPrefix(line, "    PDV, ") || strings.HasPrefix(line, "Frame ") || strings.HasPrefix(line, "DICOM") {
			endPDV()
			if strings.HasPrefix(line, "    PDV, ") {
				inPDV, command, ctx, deflated, encaps = true, false, "", false, false
				els, phi = map[string]string{}, map[string]bool{}
			}
			continue
		}
		if !inPDV {
			continue
		}
		if m := ctxLine.FindStringSubmatch(line); m != nil {
			ctx = m[1]
			deflated = strings.Contains(m[2], "Deflate")
			encaps = strings.Contains(m[2], "JPEG") || strings.Contains(m[2], "RLE")
			continue
		}
		if m := flags.FindStringSubmatch(line); m != nil {
			command = m[1] == "Command"
			continue
		}
		m := element.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		group, el, length, rest := m[2], m[3], m[4], m[5]
		if command {
			if group == "0000" {
				// "Name   value": the value follows the name after a run of spaces.
				if i := strings.Index(strings.TrimLeft(rest, " "), "  "); i >= 0 {
					els[el] = strings.TrimSpace(strings.TrimLeft(rest, " ")[i:])
				}
			}
			continue
		}
		tag, _ := strconv.ParseUint(group+el, 16, 32)
		if phiCategory(uint32(tag)) == phiNone || group == "fffe" {
			continue
		}
		// "Name   [VR] value" (explicit VR) or "Name   value" (implicit).
		val, sq := "", false
		if i := strings.Index(strings.TrimLeft(rest, " "), "  "); i >= 0 {
			val = strings.TrimSpace(strings.TrimLeft(rest, " ")[i:])
		}
		if len(val) >= 4 && val[0] == '[' && val[3] == ']' {
			sq = val[1:3] == "SQ"
			val = val[4:]
		}
		val = strings.Trim(val, " \x00")
		if sq || val == "" {
			// A sequence (or, implicit VR, a value that prints
			// nothing): present when its length is not 0.
			val = ""
			if length != "0" {
				val = "items"
			}
		}
		if val != "" && val != "<Empty>" {
			phi[fmt.Sprintf("(%s,%s)", group, el)] = true
		}
	}
	endPDV()
	return v
}

func TestAgainstTshark(t *testing.T) {
	for _, name := range captures {
		t.Run(name, func(t *testing.T) {
			haveCapture(t, name)
			convs, err := parsertest.Streams(pcapPath(name))
			if err != nil {
				t.Fatal(err)
			}
			if factoryFor(convs[0]).Name == "tls" {
				t.Skip("DICOM inside TLS: tshark cannot read it (TestTLSNullAgainstDCMTK, TestTLSAgainstTshark)")
			}
			want := runTshark(t, name, convs)
			assocs := map[uint16]*Association{}
			txns := map[string]*DIMSE{}
			for _, c := range convs {
				port := c.Flow.Client.Port()
				rec := parsertest.Replay(Factory, c, parsertest.Whole, nil)
				for _, e := range rec.Events {
					switch b := e.Body.(type) {
					case *Association:
						if assocs[port] != nil {
							t.Fatalf("two associations on client port %d", port)
						}
						assocs[port] = b
					case *DIMSE:
						txns[fmt.Sprintf("%d %s %s ID=%d", port, b.RequestDirection, b.Command, b.MessageID)] = b
					}
				}
			}
			if len(assocs) != len(want.assocs) {
				t.Errorf("%d associations, tshark %d", len(assocs), len(want.assocs))
			}
			for port, w := range want.assocs {
				a := assocs[port]
				if a == nil {
					t.Errorf("port %d: association not seen", port)
					continue
				}
				compareAssoc(t, port, a, w)
				if n := a.DIMSECounts["C-CANCEL"]; n != want.cancels[port] {
					t.Errorf("port %d: %d C-CANCEL, tshark %d", port, n, want.cancels[port])
				}
			}
			compareTxns(t, txns, want)
		})
	}
}

func compareAssoc(t *testing.T, port uint16, a *Association, w *tsAssoc) {
	t.Helper()
	if a.CallingAE != w.calling || a.CalledAE != w.called {
		t.Errorf("port %d: %s -> %s, tshark %s -> %s", port, a.CallingAE, a.CalledAE, w.calling, w.called)
	}
	var abstracts, proposed []string
	accepted := map[int]string{}
	for _, pc := range a.PresentationContexts {
		if pc.AbstractSyntax != "" {
			abstracts = append(abstracts, pc.AbstractSyntax)
		}
		proposed = append(proposed, pc.TransferSyntaxes...)
		if pc.Result == "accepted" {
			accepted[int(pc.ID)] = pc.AcceptedTransferSyntax
		}
	}
	if strings.Join(abstracts, " ") != strings.Join(w.abstracts, " ") {
		t.Errorf("port %d: abstract syntaxes\n ours   %v\n tshark %v", port, abstracts, w.abstracts)
	}
	if strings.Join(proposed, " ") != strings.Join(w.proposedTS, " ") {
		t.Errorf("port %d: proposed transfer syntaxes\n ours   %v\n tshark %v", port, proposed, w.proposedTS)
	}
	if fmt.Sprint(accepted) != fmt.Sprint(w.accepted) {
		t.Errorf("port %d: accepted contexts\n ours   %v\n tshark %v", port, accepted, w.accepted)
	}
	ui := ""
	if u := a.UserIdentity; u != nil {
		// tshark prints the secondary field length only for type 2.
		sec := ""
		if u.Type == 2 {
			sec = "0"
			if u.PasscodePresent {
				sec = "+"
			}
		}
		rr := 0
		if u.PositiveResponseRequested {
			rr = 1
		}
		ui = fmt.Sprintf("%d/%d/%d/%s", u.Type, rr, u.PrimaryFieldLength, sec)
	}
	wui := w.userIdentity
	if f := strings.Split(wui, "/"); len(f) == 4 && f[3] != "" && f[3] != "0" {
		f[3] = "+" // passcode length: we keep only its presence
		wui = strings.Join(f, "/")
	}
	if ui != wui {
		t.Errorf("port %d: user identity %q, tshark %q", port, ui, wui)
	}
}

func compareTxns(t *testing.T, ours map[string]*DIMSE, want tsharkView) {
	t.Helper()
	for k, w := range want.txns {
		if !w.requestSeen {
			t.Errorf("%s: tshark saw responses without a request", k)
		}
		ev := ours[k]
		if ev == nil {
			t.Errorf("%s: seen by tshark, not by us", k)
			continue
		}
		switch {
		case w.status < 0 && (w.deflated || w.encaps):
			// tshark 4.0 loses the responses after a deflated dataset
			// or encapsulated pixel data (it decodes the next command
			// as a continuation of the last fragment); the capture
			// scripts check every store succeeded.
			if ev.StatusClass != "success" {
				t.Errorf("%s: status %s where tshark is lost (the capture script saw success)", k, ev.Status)
			}
		case w.status < 0:
			if ev.Status != "" {
				t.Errorf("%s: final status %s, tshark saw none", k, ev.Status)
			}
		default:
			if got := fmt.Sprintf("0x%04X", w.status); got != ev.Status {
				t.Errorf("%s: status %s, tshark %s", k, ev.Status, got)
			}
		}
		if !w.deflated && ev.PendingResponses != w.pending {
			t.Errorf("%s: %d pending responses, tshark %d", k, ev.PendingResponses, w.pending)
		}
		subOps := ""
		if so := ev.SubOperations; so != nil {
			rem := ""
			if so.Remaining != nil {
				rem = strconv.Itoa(int(*so.Remaining))
			}
			subOps = fmt.Sprintf("%s/%d/%d/%d", rem, so.Completed, so.Failed, so.Warning)
		}
		if subOps != w.subOps {
			t.Errorf("%s: sub-operations %q, tshark %q", k, subOps, w.subOps)
		}
		if w.sopInstance != "" && w.sopInstance != ev.SOPInstanceUID {
			t.Errorf("%s: SOP instance %s, tshark %s", k, ev.SOPInstanceUID, w.sopInstance)
		}
		if !w.deflated {
			var wt []string
			for tag := range w.phiTags {
				wt = append(wt, tag)
			}
			sort.Strings(wt)
			if strings.Join(ev.PHITags, " ") != strings.Join(wt, " ") {
				t.Errorf("%s: patient tags\n ours   %v\n tshark %v", k, ev.PHITags, wt)
			}
		}
	}
	for k := range ours {
		if want.txns[k] == nil {
			t.Errorf("%s: seen by us, not by tshark", k)
		}
	}
}
