package dicom

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/parsertest"
)

// checkEmitter validates every event as it is emitted.
type checkEmitter struct{ t *testing.T }

func (c checkEmitter) Emit(_ time.Time, b parser.Body) {
	if b.EventType() != "dicom" && b.EventType() != "anomaly" {
		c.t.Fatalf("event type %q", b.EventType())
	}
	if a, ok := b.(*parser.Anomaly); ok && (a.Source != "dicom" || a.Code == "") {
		c.t.Fatalf("bad anomaly %+v", a)
	}
	if _, err := json.Marshal(b); err != nil {
		c.t.Fatalf("marshal: %v", err)
	}
}

// checkBounds checks no buffer outgrew its limit.
func checkBounds(t *testing.T, s *Stream) {
	for i := range s.d {
		if cap(s.d[i].body) > 2*maxAssociatePDULength {
			t.Fatalf("control PDU buffer %d", cap(s.d[i].body))
		}
	}
	for _, a := range s.asms {
		if len(a.cmd) > maxCommandSetLength || len(a.res.arena) > maxArenaBytes || len(a.defl) > maxDeflateInput ||
			len(a.res.phi) > maxPHIValues || len(a.res.queryKeys) > maxQueryKeys || a.w.seqDepth > maxSequenceDepth {
			t.Fatalf("assembler buffers over their limits: cmd %d arena %d defl %d", len(a.cmd), len(a.res.arena), len(a.defl))
		}
	}
	if len(s.pending) > maxPendingTransactions {
		t.Fatalf("%d pending", len(s.pending))
	}
}

// captureSeeds returns each capture conversation's two directions.
func captureSeeds(f *testing.F) [][2][]byte {
	var out [][2][]byte
	for _, name := range captures {
		convs, err := parsertest.Streams(pcapPath(name))
		if err != nil {
			continue
		}
		for _, c := range convs {
			if factoryFor(c).Name != Factory.Name {
				continue // TLS: the DICOM inside is not what the stream sees
			}
			var d [2][]byte
			for _, ch := range parsertest.Joined(c) {
				d[ch.Dir] = append(d[ch.Dir], ch.Data...)
			}
			out = append(out, d)
		}
	}
	return out
}

// FuzzStream fuzzes the PDU reader, association decoding and everything
// behind it with both directions of a connection, interleaved in chunks.
func FuzzStream(f *testing.F) {
	for _, d := range captureSeeds(f) {
		// Large seeds make minimisation slow; the small captures cover
		// every PDU type.
		if len(d[0])+len(d[1]) <= 8<<10 {
			f.Add(d[0], d[1], uint8(0), uint16(0))
		}
	}
	f.Add(mkAssocRQ("A", "B", []pcProp{{1, uidCTStorage, []string{uidDeflated}}}, mkUserInfo(0, "1", "", mkUserIdentityRQ(2, "u", "p"))),
		mkAssocAC("A", "B", []pcAcc{{1, 0, uidDeflated}}, mkUserInfo(0, "1", "")), uint8(7), uint16(3))
	f.Fuzz(func(t *testing.T, srv, cli []byte, chunk uint8, gapAt uint16) {
		s := newStream(&parser.Flow{}, checkEmitter{t}, &parser.Env{}).(*Stream)
		step := int(chunk) + 1
		for i := 0; i < len(srv) || i < len(cli); i += step {
			if i < len(srv) {
				s.Feed(parser.ToServer, srv[i:min(i+step, len(srv))], t0)
			}
			if i < len(cli) {
				s.Feed(parser.ToClient, cli[i:min(i+step, len(cli))], t0)
			}
			if gapAt != 0 && i/step == int(gapAt%64) {
				s.Gap(parser.ToServer, int(gapAt), t0)
			}
			checkBounds(t, s)
		}
		s.Close(parser.CloseFIN, t0)
	})
}

// FuzzPData fuzzes PDV reassembly and DIMSE decoding: the input is the
// body of P-DATA PDUs on an established association (contexts 1 explicit
// VR LE, 3 implicit VR LE, 5 deflated), alternating directions.
func FuzzPData(f *testing.F) {
	f.Add(cat(mkPDV(1, 3, storeRQ(1, "1.2")), mkPDV(1, 2, ctDataset(100))), mkPDV(1, 3, storeRSP(1, 0)))
	f.Add(cat(mkPDV(1, 1, storeRQ(1, "1.2")[:10]), mkPDV(3, 3, storeRQ(2, "1")), mkPDV(1, 3, storeRQ(1, "1.2")[10:])), []byte{})
	f.Add(mkPDV(5, 3, storeRQ(1, "1.2")), mkPDV(5, 2, []byte{0x73, 0x04, 0x00}))
	f.Fuzz(func(t *testing.T, srv, cli []byte) {
		s := newStream(&parser.Flow{}, checkEmitter{t}, &parser.Env{}).(*Stream)
		s.Feed(parser.ToServer, mkAssocRQ("A", "B", []pcProp{{1, uidCTStorage, []string{uidExplicitLE}}, {3, uidCTStorage, []string{uidImplicitLE}}, {5, uidCTStorage, []string{uidDeflated}}}, mkUserInfo(0, "1", "")), t0)
		s.Feed(parser.ToClient, mkAssocAC("A", "B", []pcAcc{{1, 0, uidExplicitLE}, {3, 0, uidImplicitLE}, {5, 0, uidDeflated}}, mkUserInfo(0, "1", "")), t0)
		s.Feed(parser.ToServer, mkPDU(pduPData, srv), t0)
		s.Feed(parser.ToClient, mkPDU(pduPData, cli), t0)
		checkBounds(t, s)
		s.Close(parser.CloseFIN, t0)
	})
}

// FuzzWalker fuzzes the dataset walker in every encoding and split.
func FuzzWalker(f *testing.F) {
	f.Add(ctDataset(10), uint8(2), uint16(7))
	f.Add(cat(exUndef(0x0010, 0x1002, "SQ", itemUndef(ex(0x0010, 0x0020, "LO", []byte("x")))), exUndef(0x7fe0, 0x0010, "OB", itemDef(make([]byte, 4)))), uint8(2), uint16(3))
	f.Add(cat(im(0x0010, 0x0010, []byte("A^B")), im(0x0010, 0x1002, itemDef(im(0x0010, 0x0020, []byte("x"))))), uint8(1), uint16(5))
	f.Fuzz(func(t *testing.T, ds []byte, ts uint8, split uint16) {
		var w walker
		var res dsResult
		w.anom = func(string, int64, int64) {}
		w.reset(tsKind(ts%5), &res, ts&0x80 != 0)
		at := int(split) % (len(ds) + 1)
		w.write(ds[:at])
		w.write(ds[at:])
		if len(res.arena) > maxArenaBytes || len(res.phi) > maxPHIValues || len(res.queryKeys) > maxQueryKeys ||
			w.seqDepth > maxSequenceDepth || w.depth > len(w.stack) {
			t.Fatalf("walker over its limits")
		}
		for _, p := range res.phi {
			_ = decodeText("ISO 2022 IR 87", res.bytes(p.v))
		}
	})
}
