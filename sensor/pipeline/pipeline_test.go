package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/medtap/medtap/parsers"
	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/flow"
)

// The captures in pcaps/ were made with real peers (DCMTK, python3-hl7's
// mllp_send, curl, openssl); pcaps/README.md says how.
func captures(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{"*.pcap", "*.pcapng", "*.pcap.gz", "*.pcap.zst"} {
		m, _ := filepath.Glob(filepath.Join("..", "..", "pcaps", pat))
		files = append(files, m...)
	}
	sort.Strings(files)
	if len(files) == 0 {
		t.Fatal("no captures in pcaps/")
	}
	return files
}

type collect struct{ lines []string }

func (c *collect) Write(evs []*event.Event) error {
	for _, e := range evs {
		b, err := e.AppendJSON(nil)
		if err != nil {
			return err
		}
		c.lines = append(c.lines, string(b))
	}
	return nil
}

func analyze(t *testing.T, files []string, workers, round int) ([]string, Stats) {
	t.Helper()
	p := New(Config{Workers: workers, RoundFrames: round, Flow: flow.Config{Parsers: parsers.All}})
	var c collect
	st := p.Run(context.Background(), files, &c, func(error) {})
	if st.SinkErr != nil {
		t.Fatal(st.SinkErr)
	}
	return c.lines, st
}

// readable drops the captures made to be broken.
func readable(files []string) []string {
	var out []string
	for _, f := range files {
		b := filepath.Base(f)
		if strings.HasPrefix(b, "truncated") || strings.HasPrefix(b, "corrupt") {
			continue
		}
		out = append(out, f)
	}
	return out
}

func TestWorkerCountInvariance(t *testing.T) {
	for _, f := range readable(captures(t)) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want, _ := analyze(t, []string{f}, 1, DefaultRoundFrames)
			for _, c := range []struct{ workers, round int }{{2, 1}, {3, 7}, {5, DefaultRoundFrames}} {
				got, _ := analyze(t, []string{f}, c.workers, c.round)
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Fatalf("workers %d round %d: output differs from one worker:\n got %d lines\nwant %d lines\nfirst got:  %.300s\nfirst want: %.300s", c.workers, c.round, len(got), len(want), first(got), first(want))
				}
			}
		})
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func TestAllCapturesAsOneRunIsInvariant(t *testing.T) {
	files := readable(captures(t))
	one, _ := analyze(t, files, 1, DefaultRoundFrames)
	four, _ := analyze(t, files, 4, 64)
	if strings.Join(one, "\n") != strings.Join(four, "\n") {
		t.Fatalf("all captures together: 4 workers differ from 1 (%d vs %d lines)", len(four), len(one))
	}
}

type flowLine struct {
	EventType   string `json:"event_type"`
	Proto       string `json:"proto"`
	CommunityID string `json:"community_id"`
	Flow        struct {
		AppProto string `json:"app_proto"`
	} `json:"flow"`
}

func flowRecords(t *testing.T, lines []string) []flowLine {
	var out []flowLine
	for _, l := range lines {
		var fl flowLine
		if err := json.Unmarshal([]byte(l), &fl); err != nil {
			t.Fatalf("bad JSON line %q: %v", l, err)
		}
		if fl.EventType == "flow" {
			out = append(out, fl)
		}
	}
	return out
}

func tshark(t *testing.T, args ...string) []string {
	t.Helper()
	path, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed")
	}
	out, err := exec.Command(path, args...).Output()
	if err != nil {
		t.Fatalf("tshark %v: %v", args, err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// TestTCPConnectionsMatchTshark checks medtap's TCP connection count, and
// each connection's Community ID, against tshark's independent decoder
// (tcp.stream and its Community ID dissector) on every bundled capture.
func TestTCPConnectionsMatchTshark(t *testing.T) {
	for _, f := range readable(captures(t)) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			lines, _ := analyze(t, []string{f}, 2, DefaultRoundFrames)
			var ours []string
			for _, fl := range flowRecords(t, lines) {
				if fl.Proto == "tcp" {
					ours = append(ours, fl.CommunityID)
				}
			}
			rows := tshark(t, "-r", f, "--enable-protocol", "communityid", "-Y", "tcp", "-T", "fields", "-E", "separator=/t", "-e", "tcp.stream", "-e", "communityid")
			streams := map[string]string{}
			for _, r := range rows {
				parts := strings.SplitN(r, "\t", 2)
				if len(parts) == 2 {
					streams[parts[0]] = parts[1]
				}
			}
			if tsharkMiscounts[filepath.Base(f)] == "tcp" {
				t.Skipf("tshark miscounts this capture's TCP streams (see tsharkMiscounts); medtap saw %d", len(ours))
			}
			if len(ours) != len(streams) {
				t.Fatalf("medtap saw %d TCP connections, tshark %d", len(ours), len(streams))
			}
			want := make([]string, 0, len(streams))
			for _, id := range streams {
				want = append(want, id)
			}
			sort.Strings(want)
			sort.Strings(ours)
			if strings.Join(ours, " ") != strings.Join(want, " ") {
				t.Errorf("community ids differ:\n medtap %v\n tshark %v", ours, want)
			}
		})
	}
}

// TestSnapshotDuringRun reads the counters from another goroutine while the
// pipeline runs (as a metrics scrape does): they only grow, and at the end
// they equal the run's own result.
func TestSnapshotDuringRun(t *testing.T) {
	files := readable(captures(t))
	p := New(Config{Workers: 3, RoundFrames: 16, Flow: flow.Config{Parsers: parsers.All}})
	stop, done := make(chan struct{}), make(chan struct{})
	var prev uint64
	go func() {
		defer close(done)
		for {
			s := p.Snapshot()
			if s.Frames < prev {
				t.Errorf("frames went back from %d to %d", prev, s.Frames)
			}
			prev = s.Frames
			select {
			case <-stop:
				return
			default:
			}
		}
	}()
	var c collect
	st := p.Run(context.Background(), files, &c, func(error) {})
	close(stop)
	<-done
	snap := p.Snapshot()
	snap.Elapsed, snap.SinkErr = st.Elapsed, st.SinkErr
	if fmt.Sprintf("%+v", snap) != fmt.Sprintf("%+v", st) {
		t.Errorf("snapshot after the run differs from its result:\n snapshot %+v\n result   %+v", snap, st)
	}
}
