package dicom

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/parsertest"
)

// Builders of PS3.8 PDUs and PS3.7 command sets for synthetic test
// inputs. The layouts follow PS3.8 9.3 and were checked against the DCMTK
// captures in pcaps/ (same bytes for the same content).

const (
	uidVerification   = "1.2.840.10008.1.1"
	uidCTStorage      = "1.2.840.10008.5.1.4.1.1.2"
	uidFindStudyRoot  = "1.2.840.10008.5.1.4.1.2.2.1"
	uidMoveStudyRoot  = "1.2.840.10008.5.1.4.1.2.2.2"
	uidImplicitLE     = "1.2.840.10008.1.2"
	uidExplicitLE     = "1.2.840.10008.1.2.1"
	uidExplicitBE     = "1.2.840.10008.1.2.2"
	uidDeflated       = "1.2.840.10008.1.2.1.99"
	uidJPEGBaseline   = "1.2.840.10008.1.2.4.50"
	uidAppContext     = "1.2.840.10008.3.1.1.1"
	uidStorageCommit  = "1.2.840.10008.1.20.1"
	uidModalityWLFind = "1.2.840.10008.5.1.4.31"
)

func be16(v int) []byte { return []byte{byte(v >> 8), byte(v)} }
func be32(v int) []byte { return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func mkPDU(typ byte, body []byte) []byte {
	return cat([]byte{typ, 0}, be32(len(body)), body)
}

func mkItem(typ byte, v []byte) []byte { return cat([]byte{typ, 0}, be16(len(v)), v) }

func padAE(s string) []byte {
	b := []byte(s)
	for len(b) < 16 {
		b = append(b, ' ')
	}
	return b[:16]
}

type pcProp struct {
	id  byte
	abs string
	ts  []string
}

type pcAcc struct {
	id     byte
	result byte
	ts     string
}

func mkUserInfo(maxLen int, implUID, implVer string, extra ...[]byte) []byte {
	v := cat(mkItem(subMaxLength, be32(maxLen)), mkItem(subImplClassUID, []byte(implUID)))
	if implVer != "" {
		v = append(v, mkItem(subImplVersion, []byte(implVer))...)
	}
	for _, e := range extra {
		v = append(v, e...)
	}
	return mkItem(itemUserInfo, v)
}

func mkUserIdentityRQ(typ byte, primary, secondary string) []byte {
	return mkItem(subUserIdentityRQ, cat([]byte{typ, 1}, be16(len(primary)), []byte(primary), be16(len(secondary)), []byte(secondary)))
}

func mkAssocRQ(called, calling string, pcs []pcProp, userInfo []byte) []byte {
	body := cat(be16(1), []byte{0, 0}, padAE(called), padAE(calling), make([]byte, 32), mkItem(itemAppContext, []byte(uidAppContext)))
	for _, pc := range pcs {
		v := cat([]byte{pc.id, 0, 0, 0}, mkItem(itemAbstractSyn, []byte(pc.abs)))
		for _, ts := range pc.ts {
			v = append(v, mkItem(itemTransferSyn, []byte(ts))...)
		}
		body = append(body, mkItem(itemPresCtxRQ, v)...)
	}
	body = append(body, userInfo...)
	return mkPDU(pduAssociateRQ, body)
}

func mkAssocAC(called, calling string, pcs []pcAcc, userInfo []byte) []byte {
	body := cat(be16(1), []byte{0, 0}, padAE(called), padAE(calling), make([]byte, 32), mkItem(itemAppContext, []byte(uidAppContext)))
	for _, pc := range pcs {
		body = append(body, mkItem(itemPresCtxAC, cat([]byte{pc.id, 0, pc.result, 0}, mkItem(itemTransferSyn, []byte(pc.ts))))...)
	}
	body = append(body, userInfo...)
	return mkPDU(pduAssociateAC, body)
}

func mkReleaseRQ() []byte { return mkPDU(pduReleaseRQ, make([]byte, 4)) }
func mkReleaseRP() []byte { return mkPDU(pduReleaseRP, make([]byte, 4)) }

// Command set elements (implicit VR LE, group 0000).
type cel struct {
	el uint16
	v  []byte
}

func us(el uint16, v uint16) cel { return cel{el, []byte{byte(v), byte(v >> 8)}} }
func ui(el uint16, s string) cel {
	b := []byte(s)
	if len(b)%2 == 1 {
		b = append(b, 0)
	}
	return cel{el, b}
}
func ae(el uint16, s string) cel { return cel{el, padAE(s)} }

func mkCommand(els ...cel) []byte {
	var body []byte
	for _, e := range els {
		body = cat(body, []byte{0, 0, byte(e.el), byte(e.el >> 8)}, le32(len(e.v)), e.v)
	}
	return cat([]byte{0, 0, 0, 0}, le32(4), le32(len(body)), body)
}

func le16(v int) []byte { return []byte{byte(v), byte(v >> 8)} }
func le32(v int) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }

// mkPDV is one PDV item; mch bit 0 command, bit 1 last.
func mkPDV(pcid, mch byte, data []byte) []byte {
	return cat(be32(len(data)+2), []byte{pcid, mch}, data)
}

func mkPData(pdvs ...[]byte) []byte { return mkPDU(pduPData, cat(pdvs...)) }

// mkMessage is a command (and dataset) as P-DATA PDUs, the dataset cut in
// fragments of at most frag bytes.
func mkMessage(pcid byte, cmd, ds []byte, frag int) []byte {
	out := mkPData(mkPDV(pcid, 3, cmd))
	for len(ds) > 0 {
		n := min(frag, len(ds))
		mch := byte(0)
		if n == len(ds) {
			mch = 2
		}
		out = append(out, mkPData(mkPDV(pcid, mch, ds[:n]))...)
		ds = ds[n:]
	}
	return out
}

// Dataset elements, explicit VR little endian.
func ex(group, el uint16, vr string, v []byte) []byte {
	if len(v)%2 == 1 {
		pad := byte(' ')
		if vr == "UI" || vr == "OB" {
			pad = 0
		}
		v = append(append([]byte(nil), v...), pad)
	}
	h := cat(le16(int(group)), le16(int(el)), []byte(vr))
	if longVR(vr[0], vr[1]) {
		return cat(h, []byte{0, 0}, le32(len(v)), v)
	}
	return cat(h, le16(len(v)), v)
}

// exUndef is an explicit VR LE element of undefined length (SQ, or
// encapsulated pixel data) with its content and delimiter.
func exUndef(group, el uint16, vr string, content []byte) []byte {
	return cat(le16(int(group)), le16(int(el)), []byte(vr), []byte{0, 0}, le32(undefinedLength), content,
		[]byte{0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0})
}

// itemUndef is an undefined-length item with its delimiter.
func itemUndef(content []byte) []byte {
	return cat([]byte{0xfe, 0xff, 0x00, 0xe0}, le32(undefinedLength), content, []byte{0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0})
}

// itemDef is a defined-length item.
func itemDef(content []byte) []byte {
	return cat([]byte{0xfe, 0xff, 0x00, 0xe0}, le32(len(content)), content)
}

// im is an implicit VR little endian element.
func im(group, el uint16, v []byte) []byte {
	if len(v)%2 == 1 {
		v = append(append([]byte(nil), v...), ' ')
	}
	return cat(le16(int(group)), le16(int(el)), le32(len(v)), v)
}

// Synthetic patient values: tests check they never reach the JSON.
const (
	synthName = "SYNTH^SECRET"
	synthID   = "PIDX-7731"
	synthDOB  = "19450203"
)

// ctDataset is a small CT dataset in explicit VR LE with pixel data of
// the given length (zero bytes).
func ctDataset(pixels int) []byte {
	return cat(
		ex(0x0008, 0x0005, "CS", []byte("ISO_IR 192")),
		ex(0x0008, 0x0016, "UI", []byte(uidCTStorage)),
		ex(0x0008, 0x0018, "UI", []byte("1.2.3.4.5.6")),
		ex(0x0008, 0x0060, "CS", []byte("CT")),
		ex(0x0008, 0x0070, "LO", []byte("ACME")),
		ex(0x0008, 0x0080, "LO", []byte("Hospital")),
		ex(0x0008, 0x1090, "LO", []byte("Scanner 9")),
		ex(0x0009, 0x0010, "LO", []byte("ACME PRIVATE")),
		ex(0x0009, 0x1001, "LO", []byte("x")),
		ex(0x0010, 0x0010, "PN", []byte(synthName)),
		ex(0x0010, 0x0020, "LO", []byte(synthID)),
		ex(0x0010, 0x0030, "DA", []byte(synthDOB)),
		ex(0x0018, 0x1000, "LO", []byte("SN1")),
		ex(0x0020, 0x000d, "UI", []byte("1.2.3.4")),
		ex(0x0020, 0x000e, "UI", []byte("1.2.3.4.5")),
		ex(0x7fe0, 0x0010, "OW", make([]byte, pixels)),
	)
}

// step is one chunk of a synthetic conversation.
type step struct {
	dir  parser.Direction
	data []byte
	gap  int
}

var t0 = time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)

func mkConv(steps ...step) *parsertest.Conversation {
	c := &parsertest.Conversation{
		Flow: parser.Flow{
			Proto:  6,
			Client: netip.MustParseAddrPort("127.0.0.1:40000"),
			Server: netip.MustParseAddrPort("127.0.0.1:104"),
		},
		Close: parser.CloseFIN,
	}
	ts := t0
	for _, s := range steps {
		ts = ts.Add(10 * time.Millisecond)
		if s.data == nil {
			c.Chunks = append(c.Chunks, parsertest.Chunk{Dir: s.dir, Gap: s.gap, TS: ts})
			continue
		}
		c.Chunks = append(c.Chunks, parsertest.Chunk{Dir: s.dir, Data: s.data, TS: ts})
	}
	c.End = ts.Add(10 * time.Millisecond)
	return c
}

func toServer(b ...[]byte) step { return step{dir: parser.ToServer, data: cat(b...)} }
func toClient(b ...[]byte) step { return step{dir: parser.ToClient, data: cat(b...)} }

// storeSetup is the association setup of a C-STORE SCU proposing CT in
// explicit VR LE (context 1) and implicit VR LE (context 3).
func storeSetup() []step {
	return []step{
		toServer(mkAssocRQ("PACS", "CT1", []pcProp{
			{1, uidCTStorage, []string{uidExplicitLE}},
			{3, uidCTStorage, []string{uidImplicitLE}},
		}, mkUserInfo(16384, "1.2.3", "TESTSCU"))),
		toClient(mkAssocAC("PACS", "CT1", []pcAcc{{1, 0, uidExplicitLE}, {3, 0, uidImplicitLE}}, mkUserInfo(16384, "1.2.4", "TESTSCP"))),
	}
}

func storeRQ(msgID uint16, inst string) []byte {
	return mkCommand(ui(0x0002, uidCTStorage), us(0x0100, cmdCStore), us(0x0110, msgID), us(0x0700, 0),
		us(0x0800, 0), ui(0x1000, inst))
}

func storeRSP(msgID uint16, status uint16) []byte {
	return mkCommand(ui(0x0002, uidCTStorage), us(0x0100, cmdCStore|cmdResponseBit), us(0x0120, msgID),
		us(0x0800, dataSetTypeNone), us(0x0900, status))
}

var _ = binary.LittleEndian
