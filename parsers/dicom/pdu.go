package dicom

import (
	"encoding/binary"
	"strings"

	"github.com/medtap/medtap/parsers/parser"
)

// PDU types (PS3.8 9.3).
const (
	pduAssociateRQ = 0x01
	pduAssociateAC = 0x02
	pduAssociateRJ = 0x03
	pduPData       = 0x04
	pduReleaseRQ   = 0x05
	pduReleaseRP   = 0x06
	pduAbort       = 0x07
)

// Association items and user information sub-items (PS3.8 9.3.2, PS3.7 D.3.3).
const (
	itemAppContext    = 0x10
	itemPresCtxRQ     = 0x20
	itemPresCtxAC     = 0x21
	itemAbstractSyn   = 0x30
	itemTransferSyn   = 0x40
	itemUserInfo      = 0x50
	subMaxLength      = 0x51
	subImplClassUID   = 0x52
	subAsyncOps       = 0x53
	subRoleSelection  = 0x54
	subImplVersion    = 0x55
	subExtNeg         = 0x56
	subCommonExtNeg   = 0x57
	subUserIdentityRQ = 0x58
	subUserIdentityAC = 0x59
)

// probe matches the first bytes of an A-ASSOCIATE-RQ (or, for flows picked
// up mid-stream or the server side seen first, an A-ASSOCIATE-AC): PDU
// type 1 or 2, reserved byte 0, a length within bounds, protocol version 1
// and printable AE title bytes where present. It does not allocate.
func probe(_ parser.Direction, b []byte) parser.Verdict {
	if len(b) >= 1 && b[0] != pduAssociateRQ && b[0] != pduAssociateAC {
		return parser.NoMatch
	}
	if len(b) >= 2 && b[1] != 0 {
		return parser.NoMatch
	}
	if len(b) >= 6 {
		if n := binary.BigEndian.Uint32(b[2:6]); n < minAssociatePDULength || n > maxAssociatePDULength {
			return parser.NoMatch
		}
	}
	if len(b) >= 8 && binary.BigEndian.Uint16(b[6:8]) != 1 {
		return parser.NoMatch
	}
	if len(b) < probeMinBytes {
		return parser.NeedMore
	}
	// Called and calling AE titles (bytes 10..41) are printable ASCII.
	for i := 10; i < len(b) && i < 42; i++ {
		if b[i] < 0x20 || b[i] > 0x7e {
			return parser.NoMatch
		}
	}
	return parser.Match
}

// plausible says whether win starts with a believable PDU header, for
// resynchronisation: 1 yes, 0 no, -1 need more bytes. The bytes it needs
// depend only on the PDU type, so the answer does not depend on chunking.
func plausible(win []byte) int {
	if len(win) < 1 {
		return -1
	}
	t := win[0]
	if t < pduAssociateRQ || t > pduAbort {
		return 0
	}
	if len(win) < 2 {
		return -1
	}
	if win[1] != 0 {
		return 0
	}
	if len(win) < pduHeaderLen {
		return -1
	}
	n := binary.BigEndian.Uint32(win[2:6])
	switch t {
	case pduAssociateRQ, pduAssociateAC:
		if n < minAssociatePDULength || n > maxAssociatePDULength {
			return 0
		}
		if len(win) < 8 {
			return -1
		}
		if binary.BigEndian.Uint16(win[6:8]) != 1 {
			return 0
		}
		return 1
	case pduPData:
		if n < pdvHeaderLen || n > maxPDataPDULength {
			return 0
		}
		if len(win) < pduHeaderLen+pdvHeaderLen {
			return -1
		}
		il := binary.BigEndian.Uint32(win[6:10])
		if il < 2 || il > n-4 || win[10]&1 == 0 || win[11]&0xfc != 0 {
			return 0
		}
		return 1
	default: // RJ, release RQ/RP, abort: always 4 bytes
		if n != 4 {
			return 0
		}
		if len(win) < 10 {
			return -1
		}
		switch t {
		case pduAssociateRJ:
			if win[6] != 0 || win[7] < 1 || win[7] > 2 || win[8] < 1 || win[8] > 3 {
				return 0
			}
		case pduAbort:
			if win[6] != 0 || win[7] != 0 || (win[8] != 0 && win[8] != 2) || win[9] > 6 {
				return 0
			}
		default:
			if win[6]|win[7]|win[8]|win[9] != 0 {
				return 0
			}
		}
		return 1
	}
}

// aeTitle trims an AE title's padding (spaces, and NULs some stacks send).
func aeTitle(b []byte) string {
	return strings.Trim(string(b), " \x00")
}

// uidString trims a UID's padding (a trailing NUL in items, spaces in
// sloppy stacks).
func uidString(b []byte) string {
	return strings.TrimRight(string(b), "\x00 ")
}

// assocIssue is a problem found while decoding association items; the
// stream turns each into an anomaly.
type assocIssue struct {
	code   string
	length int64
	limit  int64
}

// decodeAssociate decodes an A-ASSOCIATE-RQ or -AC body (after the 6-byte
// PDU header; len(b) >= minAssociatePDULength) into a. Every item length
// is checked against the bytes present. It returns the problems found.
func decodeAssociate(typ byte, b []byte, a *Association, issues []assocIssue) []assocIssue {
	a.ProtocolVersion = binary.BigEndian.Uint16(b[0:2])
	if typ == pduAssociateRQ {
		a.CalledAE = aeTitle(b[4:20])
		a.CallingAE = aeTitle(b[20:36])
	} else if a.CalledAE == "" && a.CallingAE == "" {
		// AC echoes the titles; keep them for flows picked up mid-stream.
		a.CalledAE = aeTitle(b[4:20])
		a.CallingAE = aeTitle(b[20:36])
	}
	items := b[minAssociatePDULength:]
	for len(items) > 0 {
		it, v, rest, bad := nextItem(items)
		if bad != nil {
			return append(issues, *bad)
		}
		items = rest
		switch it {
		case itemAppContext:
			a.ApplicationContext = uidString(v)
		case itemPresCtxRQ:
			if typ != pduAssociateRQ {
				issues = append(issues, assocIssue{code: "unexpected_item"})
				continue
			}
			issues = decodePresCtxRQ(v, a, issues)
		case itemPresCtxAC:
			if typ != pduAssociateAC {
				issues = append(issues, assocIssue{code: "unexpected_item"})
				continue
			}
			issues = decodePresCtxAC(v, a, issues)
		case itemUserInfo:
			issues = decodeUserInfo(typ, v, a, issues)
		default:
			issues = append(issues, assocIssue{code: "unknown_item", length: int64(it)})
		}
	}
	return issues
}

func decodePresCtxRQ(v []byte, a *Association, issues []assocIssue) []assocIssue {
	if len(v) < 4 {
		return append(issues, assocIssue{code: "item_truncated", length: int64(len(v))})
	}
	if len(a.PresentationContexts) >= maxPresentationContexts {
		return append(issues, assocIssue{code: "too_many_presentation_contexts", limit: maxPresentationContexts})
	}
	pc := PresentationContext{ID: v[0]}
	if pc.ID&1 == 0 {
		issues = append(issues, assocIssue{code: "bad_presentation_context_id", length: int64(pc.ID)})
	}
	for sub := v[4:]; len(sub) > 0; {
		it, val, rest, bad := nextItem(sub)
		if bad != nil {
			issues = append(issues, *bad)
			break
		}
		sub = rest
		switch it {
		case itemAbstractSyn:
			pc.AbstractSyntax = uidString(val)
		case itemTransferSyn:
			if len(pc.TransferSyntaxes) < maxNegotiationItems {
				pc.TransferSyntaxes = append(pc.TransferSyntaxes, uidString(val))
			}
		default:
			issues = append(issues, assocIssue{code: "unknown_item", length: int64(it)})
		}
	}
	a.PresentationContexts = append(a.PresentationContexts, pc)
	return issues
}

var pcResultReasons = [...]string{"", "user_rejection", "no_reason", "abstract_syntax_not_supported", "transfer_syntaxes_not_supported"}

func decodePresCtxAC(v []byte, a *Association, issues []assocIssue) []assocIssue {
	if len(v) < 4 {
		return append(issues, assocIssue{code: "item_truncated", length: int64(len(v))})
	}
	id, res := v[0], v[2]
	var pc *PresentationContext
	for i := range a.PresentationContexts {
		if a.PresentationContexts[i].ID == id {
			pc = &a.PresentationContexts[i]
			break
		}
	}
	if pc == nil {
		if len(a.PresentationContexts) >= maxPresentationContexts {
			return append(issues, assocIssue{code: "too_many_presentation_contexts", limit: maxPresentationContexts})
		}
		// Not proposed, or the RQ was not seen (mid-stream pickup).
		a.PresentationContexts = append(a.PresentationContexts, PresentationContext{ID: id})
		pc = &a.PresentationContexts[len(a.PresentationContexts)-1]
	}
	if res == 0 {
		pc.Result = "accepted"
	} else {
		pc.Result = "rejected"
		if int(res) < len(pcResultReasons) {
			pc.Reason = pcResultReasons[res]
		} else {
			pc.Reason = "unknown"
		}
	}
	for sub := v[4:]; len(sub) > 0; {
		it, val, rest, bad := nextItem(sub)
		if bad != nil {
			issues = append(issues, *bad)
			break
		}
		sub = rest
		if it == itemTransferSyn {
			if res == 0 {
				pc.AcceptedTransferSyntax = uidString(val)
			}
		} else {
			issues = append(issues, assocIssue{code: "unknown_item", length: int64(it)})
		}
	}
	return issues
}

var userIdentityTypes = [...]string{"unknown", "username", "username_passcode", "kerberos", "saml", "jwt"}

func decodeUserInfo(typ byte, v []byte, a *Association, issues []assocIssue) []assocIssue {
	source := "requestor"
	if typ == pduAssociateAC {
		source = "acceptor"
	}
	for len(v) > 0 {
		st, s, rest, bad := nextItem(v)
		if bad != nil {
			return append(issues, *bad)
		}
		v = rest
		short := func(min int) bool {
			if len(s) < min {
				issues = append(issues, assocIssue{code: "item_truncated", length: int64(len(s))})
				return true
			}
			return false
		}
		switch st {
		case subMaxLength:
			if short(4) {
				continue
			}
			if typ == pduAssociateRQ {
				a.MaxPDULength = binary.BigEndian.Uint32(s)
			} else {
				a.AcceptorMaxPDULength = binary.BigEndian.Uint32(s)
			}
		case subImplClassUID:
			if typ == pduAssociateRQ {
				a.ImplementationClassUID = uidString(s)
			} else {
				a.AcceptorImplementationClassUID = uidString(s)
			}
		case subImplVersion:
			if typ == pduAssociateRQ {
				a.ImplementationVersionName = aeTitle(s)
			} else {
				a.AcceptorImplementationVersionName = aeTitle(s)
			}
		case subAsyncOps:
			if short(4) {
				continue
			}
			if a.AsyncOps == nil {
				a.AsyncOps = &AsyncOps{}
			}
			inv, perf := binary.BigEndian.Uint16(s[0:2]), binary.BigEndian.Uint16(s[2:4])
			if typ == pduAssociateRQ {
				a.AsyncOps.Invoked, a.AsyncOps.Performed = inv, perf
			} else {
				a.AsyncOps.AcceptorInvoked, a.AsyncOps.AcceptorPerformed = inv, perf
				a.AsyncOps.Accepted = true
			}
		case subRoleSelection:
			if short(2) {
				continue
			}
			un := int(binary.BigEndian.Uint16(s[0:2]))
			if un > len(s)-2-2 {
				issues = append(issues, assocIssue{code: "item_length_exceeds_pdu", length: int64(un), limit: int64(len(s) - 4)})
				continue
			}
			if len(a.RoleSelection) < maxNegotiationItems {
				a.RoleSelection = append(a.RoleSelection, RoleSelection{
					SOPClassUID: uidString(s[2 : 2+un]), Source: source,
					SCURole: s[2+un], SCPRole: s[3+un],
				})
			}
		case subExtNeg:
			if short(2) {
				continue
			}
			un := int(binary.BigEndian.Uint16(s[0:2]))
			if un > len(s)-2 {
				issues = append(issues, assocIssue{code: "item_length_exceeds_pdu", length: int64(un), limit: int64(len(s) - 2)})
				continue
			}
			if len(a.ExtendedNegotiation) < maxNegotiationItems {
				a.ExtendedNegotiation = append(a.ExtendedNegotiation, ExtendedNegotiation{
					SOPClassUID: uidString(s[2 : 2+un]), Source: source, InfoLength: len(s) - 2 - un,
				})
			}
		case subCommonExtNeg:
			if short(2) {
				continue
			}
			un := int(binary.BigEndian.Uint16(s[0:2]))
			if un > len(s)-4 {
				issues = append(issues, assocIssue{code: "item_length_exceeds_pdu", length: int64(un), limit: int64(len(s) - 2)})
				continue
			}
			e := ExtendedNegotiation{SOPClassUID: uidString(s[2 : 2+un]), Source: source, Common: true}
			rest := s[2+un:]
			sn := int(binary.BigEndian.Uint16(rest[0:2]))
			if sn > len(rest)-2 {
				issues = append(issues, assocIssue{code: "item_length_exceeds_pdu", length: int64(sn), limit: int64(len(rest) - 2)})
				continue
			}
			e.ServiceClassUID = uidString(rest[2 : 2+sn])
			e.InfoLength = len(rest) - 2 - sn
			if len(a.ExtendedNegotiation) < maxNegotiationItems {
				a.ExtendedNegotiation = append(a.ExtendedNegotiation, e)
			}
		case subUserIdentityRQ:
			if short(4) {
				continue
			}
			ui := a.userIdentity()
			ui.Type = s[0]
			ui.TypeName = userIdentityTypes[0]
			if int(ui.Type) < len(userIdentityTypes) {
				ui.TypeName = userIdentityTypes[ui.Type]
			}
			ui.PositiveResponseRequested = s[1] == 1
			pn := int(binary.BigEndian.Uint16(s[2:4]))
			if pn > len(s)-4 {
				issues = append(issues, assocIssue{code: "item_length_exceeds_pdu", length: int64(pn), limit: int64(len(s) - 4)})
				continue
			}
			ui.PrimaryFieldLength = pn
			if ui.Type == 1 || ui.Type == 2 {
				ui.UsernameInClear = pn > 0
				ui.Username = string(s[4 : 4+pn])
			}
			rest := s[4+pn:]
			if len(rest) >= 2 {
				sn := int(binary.BigEndian.Uint16(rest[0:2]))
				if sn > len(rest)-2 {
					issues = append(issues, assocIssue{code: "item_length_exceeds_pdu", length: int64(sn), limit: int64(len(rest) - 2)})
					continue
				}
				ui.PasscodePresent = ui.Type == 2 && sn > 0
			}
		case subUserIdentityAC:
			if short(2) {
				continue
			}
			ui := a.userIdentity()
			ui.ServerResponse = true
			rn := int(binary.BigEndian.Uint16(s[0:2]))
			if rn > len(s)-2 {
				issues = append(issues, assocIssue{code: "item_length_exceeds_pdu", length: int64(rn), limit: int64(len(s) - 2)})
				continue
			}
			ui.ServerResponseLength = rn
		default:
			issues = append(issues, assocIssue{code: "unknown_item", length: int64(st)})
		}
	}
	return issues
}

func (a *Association) userIdentity() *UserIdentity {
	if a.UserIdentity == nil {
		a.UserIdentity = &UserIdentity{TypeName: userIdentityTypes[0]}
	}
	return a.UserIdentity
}

var (
	rejectResults = [...]string{"", "rejected_permanent", "rejected_transient"}
	rejectSources = [...]string{"", "service_user", "service_provider_acse", "service_provider_presentation"}
	// Reasons per source (PS3.8 9.3.4).
	rejectUserReasons         = [...]string{"", "no_reason_given", "application_context_name_not_supported", "calling_ae_title_not_recognized", "", "", "", "called_ae_title_not_recognized"}
	rejectACSEReasons         = [...]string{"", "no_reason_given", "protocol_version_not_supported"}
	rejectPresentationReasons = [...]string{"", "temporary_congestion", "local_limit_exceeded"}
	abortSources              = [...]string{"service_user", "reserved", "service_provider"}
	abortReasons              = [...]string{"reason_not_specified", "unrecognized_pdu", "unexpected_pdu", "reserved", "unrecognized_pdu_parameter", "unexpected_pdu_parameter", "invalid_pdu_parameter_value"}
)

func pick(names []string, i byte) string {
	if int(i) < len(names) && names[i] != "" {
		return names[i]
	}
	return "unknown"
}

// decodeReject decodes an A-ASSOCIATE-RJ body (4 bytes).
func decodeReject(b []byte) *Reject {
	r := &Reject{Result: pick(rejectResults[:], b[1]), Source: pick(rejectSources[:], b[2])}
	switch b[2] {
	case 1:
		r.Reason = pick(rejectUserReasons[:], b[3])
	case 2:
		r.Reason = pick(rejectACSEReasons[:], b[3])
	case 3:
		r.Reason = pick(rejectPresentationReasons[:], b[3])
	default:
		r.Reason = "unknown"
	}
	return r
}

// decodeAbort decodes an A-ABORT body (4 bytes).
func decodeAbort(dir parser.Direction, b []byte) *Abort {
	ab := &Abort{Direction: dir.String(), Source: pick(abortSources[:], b[2])}
	if b[2] == 2 {
		ab.Reason = pick(abortReasons[:], b[3])
	}
	return ab
}

// nextItem splits the next negotiation item off b: type, reserved byte,
// 16-bit length, value. It is the one place the item length is checked
// against the bytes present; on a short header or a value running past b it
// returns the issue instead.
func nextItem(b []byte) (typ byte, val, rest []byte, bad *assocIssue) {
	if len(b) < 4 {
		return 0, nil, nil, &assocIssue{code: "item_truncated", length: int64(len(b))}
	}
	n := int(binary.BigEndian.Uint16(b[2:4]))
	if n > len(b)-4 {
		return 0, nil, nil, &assocIssue{code: "item_length_exceeds_pdu", length: int64(n), limit: int64(len(b) - 4)}
	}
	return b[0], b[4 : 4+n], b[4+n:], nil
}
