package http

import (
	"testing"
	"time"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/parsertest"
)

// TestBodyAllocs: streaming a large body (past MaxScanBody) costs no
// allocation per segment.
func TestBodyAllocs(t *testing.T) {
	rec := &parsertest.Recorder{}
	s := newStream(&parser.Flow{Proto: 6}, rec, nil)
	ts := time.Unix(0, 0)
	s.Feed(parser.ToServer, []byte("GET /big HTTP/1.1\r\n\r\n"), ts)
	s.Feed(parser.ToClient, []byte("HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n"), ts)
	seg := make([]byte, 1448)
	for i := 0; i < 2*MaxScanBody/len(seg); i++ {
		s.Feed(parser.ToClient, seg, ts)
	}
	if a := testing.AllocsPerRun(200, func() { s.Feed(parser.ToClient, seg, ts) }); a != 0 {
		t.Errorf("%.1f allocations per body segment", a)
	}
}
