package pipeline

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// oracle reads the summary rows of a capture's .tshark.tsv, written by
// pcaps/make/oracles.sh from tshark 4.0 (an independent decoder).
func oracle(t *testing.T, capture string) map[string]string {
	t.Helper()
	f, err := os.Open(capture + ".tshark.tsv")
	if err != nil {
		return nil
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), "\t", 3)
		if len(parts) == 3 && parts[0] == "summary" {
			m[parts[1]] = parts[2]
		}
	}
	return m
}

// TestCapturesAgainstTsharkOracle checks, on every bundled capture, that
// medtap reads as many frames as tshark (also up to the damage in the
// truncated and corrupt ones, where both stop with an error), and finds the
// same UDP conversations (which in ip-fragments.pcap exist only once the
// fragments are reassembled).
// tsharkMiscounts are captures where tshark 4.0's stream or conversation
// numbering is wrong, checked by hand frame by frame; the value says why.
var tsharkMiscounts = map[string]string{
	// One connection per client port (frames 24-44 for 34210): tshark
	// starts a second tcp.stream at frame 28, an ACK with no SYN, after
	// the server's first data segment.
	"remote-vnc.pcap": "tcp",
	// Three SNMP exchanges, one per client port; with both ends on
	// 127.0.0.1 tshark gives two of the replies a conversation of their own.
	"remote-snmp.pcap": "udp",
}

func TestCapturesAgainstTsharkOracle(t *testing.T) {
	for _, f := range captures(t) {
		want := oracle(t, f)
		if want == nil {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			p := New(Config{Workers: 2})
			var c collect
			var errs []error
			st := p.Run(context.Background(), []string{f}, &c, func(err error) { errs = append(errs, err) })
			frames, _ := strconv.ParseUint(want["frames"], 10, 64)
			if st.Frames != frames {
				t.Errorf("read %d frames, tshark %d", st.Frames, frames)
			}
			if _, damaged := want["read_error"]; damaged != (len(errs) > 0) {
				t.Errorf("tshark read error %q, medtap errors %v", want["read_error"], errs)
			}
			for _, e := range errs {
				if !strings.Contains(e.Error(), f+": offset ") {
					t.Errorf("error does not name file and offset: %v", e)
				}
			}
			if v, ok := want["udp_conversations"]; ok && tsharkMiscounts[filepath.Base(f)] != "udp" {
				n, _ := strconv.Atoi(v)
				udp := 0
				for _, fl := range flowRecords(t, c.lines) {
					if fl.Proto == "udp" {
						udp++
					}
				}
				if udp != n {
					t.Errorf("%d UDP flows, tshark %d conversations", udp, n)
				}
			}
			if st.Decode.MalformedTotal() != 0 {
				t.Errorf("malformed frames: %v", st.Decode.Malformed)
			}
		})
	}
}
