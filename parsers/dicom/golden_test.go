package dicom

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/medtap/medtap/parsers/parsertest"
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
		rec := parsertest.Replay(Factory, c, parsertest.Whole, nil)
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
)

// normalize strips what depends on when and how fast a capture was made
// (the scripts in pcaps/make regenerate them): event times, latencies and
// durations. Everything decoded from the bytes stays.
func normalize(j string) string {
	lines := strings.Split(j, "\n")
	for i, l := range lines {
		l = lineTS.ReplaceAllString(l, "$1 - ")
		lines[i] = timings.ReplaceAllString(l, `"$1":0`)
	}
	return strings.Join(lines, "\n")
}
