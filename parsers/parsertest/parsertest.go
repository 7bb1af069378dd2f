// Package parsertest is the shared test kit for protocol parsers: it turns a
// capture into the reassembled byte streams of each flow (through medtap's
// own decoder and flow table), replays them into a parser, and checks
// chunking invariance: the same bytes fed whole, byte by byte, and split at
// every point must give the same events.
package parsertest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/sensor/capture"
	"github.com/medtap/medtap/sensor/decode"
	"github.com/medtap/medtap/sensor/flow"
)

// Chunk is one call the pipeline made on a parser: bytes or a gap.
type Chunk struct {
	Dir  parser.Direction
	Data []byte
	Gap  int // bytes lost, when Data is nil
	TS   time.Time
}

// Conversation is one flow's stream as the pipeline would feed it.
type Conversation struct {
	Flow   parser.Flow
	Chunks []Chunk
	Close  parser.CloseReason
	End    time.Time
}

// recorder is a parser that matches every stream and keeps what it is fed.
type recorder struct {
	conv *Conversation
	out  *[]*Conversation
}

func (r *recorder) Feed(dir parser.Direction, data []byte, ts time.Time) {
	r.conv.Chunks = append(r.conv.Chunks, Chunk{Dir: dir, Data: append([]byte(nil), data...), TS: ts})
}

func (r *recorder) Gap(dir parser.Direction, n int, ts time.Time) {
	r.conv.Chunks = append(r.conv.Chunks, Chunk{Dir: dir, Gap: n, TS: ts})
}

func (r *recorder) Close(reason parser.CloseReason, ts time.Time) {
	r.conv.Close, r.conv.End = reason, ts
	*r.out = append(*r.out, r.conv)
}

// Streams reads a capture and returns each TCP or UDP flow's streams, in the
// order flows ended. Flows that carried no payload are left out.
func Streams(path string) ([]*Conversation, error) {
	var convs []*Conversation
	rec := parser.Factory{
		Name:      "record",
		Transport: parser.TCP | parser.UDP,
		Probe:     func(parser.Direction, []byte) parser.Verdict { return parser.Match },
		New: func(f *parser.Flow, _ parser.Emitter, _ *parser.Env) parser.Stream {
			return &recorder{conv: &Conversation{Flow: *f}, out: &convs}
		},
	}
	r, err := capture.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	dec := decode.New(decode.DefaultDefragLimits)
	tab := flow.NewTable(flow.Config{Parsers: []parser.Factory{rec}})
	var p decode.Packet
	var idx uint64
	for {
		pk, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if dec.Decode(pk.Data, pk.Link, pk.TS, pk.WireLen, &p) == decode.OK {
			tab.Begin(nil)
			tab.Packet(&p, idx)
			tab.End()
		}
		idx++
	}
	tab.Begin(nil)
	tab.Flush(idx)
	tab.End()
	return convs, nil
}

// Recorder collects a parser's events.
type Recorder struct {
	Events []Emitted
}

// Emitted is one event as a parser emitted it.
type Emitted struct {
	TS   time.Time
	Body parser.Body
}

// Emit implements parser.Emitter.
func (r *Recorder) Emit(ts time.Time, b parser.Body) { r.Events = append(r.Events, Emitted{ts, b}) }

// JSON renders the events one per line, as `type ts body`, for comparing
// and for golden files.
func (r *Recorder) JSON() string {
	var b strings.Builder
	for _, e := range r.Events {
		j, err := json.Marshal(e.Body)
		if err != nil {
			j = []byte(fmt.Sprintf("marshal error: %v", err))
		}
		fmt.Fprintf(&b, "%s %s %s\n", e.Body.EventType(), e.TS.UTC().Format(time.RFC3339Nano), j)
	}
	return b.String()
}

// Splitter decides how to cut one chunk's bytes into feeds.
type Splitter func(data []byte) [][]byte

// Whole feeds each chunk as it came.
func Whole(data []byte) [][]byte { return [][]byte{data} }

// ByteByByte feeds one byte at a time.
func ByteByByte(data []byte) [][]byte {
	out := make([][]byte, len(data))
	for i := range data {
		out[i] = data[i : i+1]
	}
	return out
}

// Replay feeds a conversation into a new stream of the factory, cutting each
// chunk with split, and returns the events. Consecutive chunks of the same
// direction are joined first, so splits test message boundaries that fall
// anywhere, not only where segments ended.
func Replay(f parser.Factory, conv *Conversation, split Splitter, env *parser.Env) *Recorder {
	return replay(f, conv, func(_ int, data []byte) [][]byte { return split(data) }, env)
}

// Datagrams feeds a UDP conversation into a new stream of the factory one
// datagram per Feed, as the pipeline delivers UDP (Replay would join
// consecutive datagrams like stream bytes), recording into rec, so several
// conversations can share one recorder.
func Datagrams(rec *Recorder, f parser.Factory, conv *Conversation) {
	env := &parser.Env{ProbeInner: func(parser.Direction, []byte) (parser.Stream, parser.Verdict) { return nil, parser.NoMatch }}
	fl := conv.Flow
	s := f.New(&fl, rec, env)
	for _, ch := range conv.Chunks {
		if ch.Data != nil {
			s.Feed(ch.Dir, ch.Data, ch.TS)
		}
	}
	s.Close(conv.Close, conv.End)
}

// replay is Replay with a splitter that knows which joined chunk it cuts.
func replay(f parser.Factory, conv *Conversation, split func(chunk int, data []byte) [][]byte, env *parser.Env) *Recorder {
	rec := &Recorder{}
	if env == nil {
		env = &parser.Env{ProbeInner: func(parser.Direction, []byte) (parser.Stream, parser.Verdict) { return nil, parser.NoMatch }}
	}
	fl := conv.Flow
	s := f.New(&fl, rec, env)
	for i, c := range Joined(conv) {
		if c.Data == nil {
			s.Gap(c.Dir, c.Gap, c.TS)
			continue
		}
		for _, part := range split(i, c.Data) {
			s.Feed(c.Dir, part, c.TS)
		}
	}
	s.Close(conv.Close, conv.End)
	return rec
}

// Joined merges consecutive data chunks of the same direction. The
// timestamp of a merged chunk is its first piece's.
func Joined(conv *Conversation) []Chunk {
	var out []Chunk
	for _, c := range conv.Chunks {
		if n := len(out); n > 0 && c.Data != nil && out[n-1].Data != nil && out[n-1].Dir == c.Dir {
			out[n-1].Data = append(out[n-1].Data, c.Data...)
			continue
		}
		cc := c
		if c.Data != nil {
			cc.Data = append([]byte(nil), c.Data...)
		}
		out = append(out, cc)
	}
	return out
}

// MaxExhaustiveSplit is the chunk size up to which CheckChunking tries every
// split point; longer chunks get SampledSplits evenly spread points, as
// every point would cost time quadratic in the stream.
const (
	MaxExhaustiveSplit = 4096
	SampledSplits      = 257
)

// CheckChunking replays conv whole, byte by byte, and split in two at every
// point of every chunk (sampled for long chunks), and fails t if any run's
// events differ from the whole run's. It returns the whole run's events.
func CheckChunking(t testing.TB, f parser.Factory, conv *Conversation) *Recorder {
	t.Helper()
	want := Replay(f, conv, Whole, nil)
	wantJSON := want.JSON()
	if got := Replay(f, conv, ByteByByte, nil).JSON(); got != wantJSON {
		t.Fatalf("byte-by-byte feeding changed the events:\nwhole:\n%s\nbyte by byte:\n%s", wantJSON, got)
	}
	for ci, c := range Joined(conv) {
		if len(c.Data) < 2 {
			continue
		}
		step := 1
		if len(c.Data) > MaxExhaustiveSplit {
			step = len(c.Data) / SampledSplits
		}
		for at := 1; at < len(c.Data); at += step {
			split := func(chunk int, data []byte) [][]byte {
				if chunk == ci {
					return [][]byte{data[:at], data[at:]}
				}
				return [][]byte{data}
			}
			if got := replay(f, conv, split, nil).JSON(); got != wantJSON {
				t.Fatalf("splitting chunk %d at byte %d changed the events:\nwhole:\n%s\nsplit:\n%s", ci, at, wantJSON, got)
			}
		}
	}
	return want
}

// Golden compares got with testdata/<name>.golden, or writes it there when
// update is set. Each parser package passes its own -update flag, so the
// flag is defined once per test binary.
func Golden(t testing.TB, name, got string, update bool) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s: events differ from the golden file (run with -update to accept):\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

// Steps feeds n bytes at a time (the last piece may be shorter).
func Steps(n int) Splitter {
	return func(data []byte) [][]byte {
		var out [][]byte
		for len(data) > n {
			out = append(out, data[:n])
			data = data[n:]
		}
		return append(out, data)
	}
}
