package dicom

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/parsertest"
	"github.com/medtap/medtap/parsers/tls"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// captures are the DICOM captures in pcaps/ (pcaps/make/dicom-*.sh say
// how each was made): every pcaps/dicom-* file but tshark's side files.
var captures = func() []string {
	var out []string
	paths, _ := filepath.Glob(filepath.Join("..", "..", "pcaps", "dicom-*"))
	for _, p := range paths {
		if !strings.HasSuffix(p, ".tsv") {
			out = append(out, filepath.Base(p))
		}
	}
	return out
}()

func pcapPath(name string) string { return filepath.Join("..", "..", "pcaps", name) }

// tlsCarrier is the TLS parser with DICOM as its only inner parser, as the
// pipeline wires them for DICOM over TLS (flow.probeInner offers the
// plaintext of a NULL-cipher session to every parser's probe; here only
// DICOM's). The inner stream emits through the carrier's emitter, so one
// replay gives the tls event and the DICOM events decoded from inside, and
// parsertest.CheckChunking checks both (it builds streams with New, which
// brings its own Env here).
var tlsCarrier = parser.Factory{
	Name:      "tls",
	Transport: parser.TCP,
	Probe:     tls.Factory.Probe,
	New: func(f *parser.Flow, em parser.Emitter, _ *parser.Env) parser.Stream {
		env := &parser.Env{}
		env.ProbeInner = func(dir parser.Direction, first []byte) (parser.Stream, parser.Verdict) {
			v := Factory.Probe(dir, first)
			switch {
			case v == parser.Match:
				return Factory.New(f, em, env), parser.Match
			case v == parser.NeedMore && len(first) >= parser.MaxProbeBytes:
				v = parser.NoMatch
			}
			return nil, v
		}
		return tls.Factory.New(f, em, env)
	},
}

// factoryFor picks the parser a conversation starts with: TLS (with DICOM
// inside) when its first bytes are a TLS handshake record, else DICOM.
func factoryFor(c *parsertest.Conversation) parser.Factory {
	for _, ch := range c.Chunks {
		if len(ch.Data) > 0 {
			if len(ch.Data) >= 3 && ch.Data[0] == 0x16 && ch.Data[1] == 3 {
				return tlsCarrier
			}
			break
		}
	}
	return Factory
}

// replayCapture replays every conversation of a capture and returns the
// events of all of them, in conversation order.
func replayCapture(t testing.TB, name string) (*parsertest.Recorder, []*parsertest.Conversation) {
	t.Helper()
	convs, err := parsertest.Streams(pcapPath(name))
	if err != nil {
		t.Fatalf("reading %s: %v", name, err)
	}
	all := &parsertest.Recorder{}
	for _, c := range convs {
		rec := parsertest.Replay(factoryFor(c), c, parsertest.Whole, nil)
		all.Events = append(all.Events, rec.Events...)
	}
	return all, convs
}

func TestGolden(t *testing.T) {
	for _, name := range captures {
		t.Run(name, func(t *testing.T) {
			rec, _ := replayCapture(t, name)
			got := normalize(rec.JSON())
			golden := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("events differ from %s (go test -update to accept):\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

var (
	lineTS  = regexp.MustCompile(`^(\S+) \S+ `)
	timings = regexp.MustCompile(`"(latency|duration)":[0-9.e+-]+`)
	// The TLS certificate is made afresh on every run of
	// pcaps/make/dicom-tls.sh; TestTLSAgainstTshark checks these values.
	certRun = regexp.MustCompile(`"(not_before|not_after|serial|sha256)":"[^"]*"`)
)

// normalize strips what depends on when and how fast a capture was made
// (the scripts in pcaps/make regenerate them): event times, latencies,
// durations, and the run's own TLS certificate (dates, serial, hash).
// Everything else decoded from the bytes stays.
func normalize(j string) string {
	lines := strings.Split(j, "\n")
	for i, l := range lines {
		l = lineTS.ReplaceAllString(l, "$1 - ")
		l = certRun.ReplaceAllString(l, `"$1":"-"`)
		lines[i] = timings.ReplaceAllString(l, `"$1":0`)
	}
	return strings.Join(lines, "\n")
}
