package framing

import (
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/parsertest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// captures are the committed captures of the example protocols (see
// pcaps/README.md: pcaps/make/framing-captures.sh, real TCP on 127.0.0.1)
// and the built-in definition that decodes each.
var captures = []struct {
	file, proto string
	phi         []string // synthetic personal data the capture carries
}{
	{"framing-vitals.pcap", "vitalnet", []string{"TEST0001", "TEST0002", "TEST0003", "TEST^PATIENT", "张三", "19491231", "19700101", "tok-"}},
	{"framing-status.pcap", "devstat", []string{"TEST0004"}},
}

func builtinFactory(t testing.TB, name string) parser.Factory {
	t.Helper()
	fs, err := Load("builtin:" + name)
	if err != nil || len(fs) != 1 {
		t.Fatalf("builtin %s: %v", name, err)
	}
	return fs[0]
}

func captureConvs(t testing.TB, file string) []*parsertest.Conversation {
	t.Helper()
	convs, err := parsertest.Streams(filepath.Join("..", "..", "pcaps", file))
	if err != nil {
		t.Fatal(err)
	}
	if len(convs) == 0 {
		t.Fatalf("%s: no streams", file)
	}
	return convs
}

// TestCaptures replays every stream of the captures through its
// definition, checks chunking invariance, that the probe claims the first
// bytes, that no synthetic personal data reaches the JSON (while the
// values are kept for detection), and compares with testdata/NAME.golden.
func TestCaptures(t *testing.T) {
	for _, c := range captures {
		t.Run(c.file, func(t *testing.T) {
			f := builtinFactory(t, c.proto)
			var all strings.Builder
			var phiKept int
			for i, conv := range captureConvs(t, c.file) {
				first := parsertest.Joined(conv)[0]
				if v := f.Probe(first.Dir, first.Data); v != parser.Match {
					t.Errorf("stream %d: probe %d on its first bytes", i, v)
				}
				rec := parsertest.CheckChunking(t, f, conv)
				js := rec.JSON()
				for _, v := range c.phi {
					if strings.Contains(js, v) {
						t.Errorf("stream %d: event JSON holds synthetic PHI %q", i, v)
					}
				}
				for _, e := range rec.Events {
					if fr, ok := e.Body.(*Frame); ok {
						phiKept += len(fr.PHI)
					}
				}
				// The client's ephemeral port changes with every capture run:
				// only the server side names the stream.
				all.WriteString("# stream " + conv.Flow.Server.String() + "\n" + js)
			}
			if phiKept == 0 {
				t.Error("no PHI values kept for detection")
			}
			golden(t, strings.TrimSuffix(c.file, ".pcap"), all.String())
		})
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	parsertest.Golden(t, name, got, *update)
}
