package dicom

import (
	"testing"
	"time"

	"github.com/medtap/medtap/parsers/parser"
)

type nopEmitter struct{ n int }

func (e *nopEmitter) Emit(time.Time, parser.Body) { e.n++ }

// setupStore feeds the association setup and the start of a C-STORE with
// a large pixel data element, so what follows is steady-state P-DATA.
func setupStore(em parser.Emitter, pixels int) *Stream {
	s := newStream(&parser.Flow{}, em, &parser.Env{}).(*Stream)
	for _, st := range storeSetup() {
		s.Feed(st.dir, st.data, t0)
	}
	hdr := ctDataset(0)
	// Pixel data declares its full length; the bytes follow in PDUs.
	hdr = append(hdr[:len(hdr)-4], le32(pixels)...)
	s.Feed(parser.ToServer, mkPData(mkPDV(1, 3, storeRQ(1, "1.2"))), t0)
	s.Feed(parser.ToServer, mkPData(mkPDV(1, 0, hdr)), t0)
	return s
}

// TestSteadyStateAllocs proves P-DATA PDUs of a C-STORE in progress cost
// no allocation, whatever the object's size.
func TestSteadyStateAllocs(t *testing.T) {
	em := &nopEmitter{}
	s := setupStore(em, 1<<30)
	pdu := mkPData(mkPDV(1, 0, make([]byte, 16378)))
	if n := testing.AllocsPerRun(1000, func() { s.Feed(parser.ToServer, pdu, t0) }); n != 0 {
		t.Errorf("%v allocations per P-DATA PDU", n)
	}
	// Byte-split feeding too.
	if n := testing.AllocsPerRun(100, func() {
		s.Feed(parser.ToServer, pdu[:3], t0)
		s.Feed(parser.ToServer, pdu[3:9], t0)
		s.Feed(parser.ToServer, pdu[9:], t0)
	}); n != 0 {
		t.Errorf("%v allocations per split P-DATA PDU", n)
	}
	if em.n != 0 {
		t.Errorf("%d events during steady state", em.n)
	}
}

// BenchmarkCStore measures whole C-STORE transactions (command, a 512 KiB
// dataset in 16 KiB PDUs, response) on an established association.
// MB/s is of P-DATA payload; allocs/op is per transaction (the event).
func BenchmarkCStore(b *testing.B) {
	em := &nopEmitter{}
	s := newStream(&parser.Flow{}, em, &parser.Env{}).(*Stream)
	for _, st := range storeSetup() {
		s.Feed(st.dir, st.data, t0)
	}
	rq := mkMessage(1, storeRQ(1, "1.2.3"), ctDataset(512<<10), 16372)
	rsp := mkPData(mkPDV(1, 3, storeRSP(1, 0)))
	pdus := 0
	for p := rq; len(p) > 0; pdus++ {
		n := int(p[2])<<24 | int(p[3])<<16 | int(p[4])<<8 | int(p[5])
		p = p[6+n:]
	}
	b.SetBytes(int64(len(rq)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Feed(parser.ToServer, rq, t0)
		s.Feed(parser.ToClient, rsp, t0)
	}
	b.StopTimer()
	b.ReportMetric(float64(pdus), "pdus/op")
}

// BenchmarkPData measures steady-state P-DATA PDUs (pixel data skipped in
// place). The stream is set up again, outside the timer, before the 1 GiB
// the pixel data declares runs out: past it the walker would be reading
// the zero bytes as 8-byte elements, which is BenchmarkPDataElements'
// business.
func BenchmarkPData(b *testing.B) {
	const pixels = 1 << 30
	pdu := mkPData(mkPDV(1, 0, make([]byte, 16378)))
	perStream := pixels/16378 - 1
	s := setupStore(&nopEmitter{}, pixels)
	b.SetBytes(int64(len(pdu)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i > 0 && i%perStream == 0 {
			b.StopTimer()
			s = setupStore(&nopEmitter{}, pixels)
			b.StartTimer()
		}
		s.Feed(parser.ToServer, pdu, t0)
	}
}

// BenchmarkPDataElements measures the walker where every byte counts: a
// dataset of short elements (24 bytes each, none kept), arriving in 16 KiB
// P-DATA PDUs of an endless dataset (no last fragment).
func BenchmarkPDataElements(b *testing.B) {
	s := newStream(&parser.Flow{}, &nopEmitter{}, &parser.Env{}).(*Stream)
	for _, st := range storeSetup() {
		s.Feed(st.dir, st.data, t0)
	}
	s.Feed(parser.ToServer, mkPData(mkPDV(1, 3, storeRQ(1, "1.2"))), t0)
	var ds []byte
	for len(ds)+24 <= 16368 {
		ds = append(ds, ex(0x0018, 0x1030, "LO", []byte("PROTOCOL_NAME_01"))...)
	}
	pdu := mkPData(mkPDV(1, 0, ds))
	b.SetBytes(int64(len(pdu)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Feed(parser.ToServer, pdu, t0)
	}
	b.StopTimer()
	b.ReportMetric(float64(len(ds)/24), "elements/op")
}
