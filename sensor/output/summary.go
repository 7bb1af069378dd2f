package output

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/medtap/medtap/sensor/decode"
	"github.com/medtap/medtap/sensor/pipeline"
)

// Summary writes the human summary of a run. It holds counts only: no
// addresses, names or payload.
func Summary(w io.Writer, st *pipeline.Stats, events uint64, dest string) {
	secs := st.Elapsed.Seconds()
	if secs <= 0 {
		secs = 1e-9
	}
	failed := ""
	if st.FilesFailed > 0 {
		failed = fmt.Sprintf(" (%d failed)", st.FilesFailed)
	}
	fmt.Fprintf(w, "medtap: %d file%s%s, %s packets, %s in %s, %d worker%s\n",
		st.Files, plural(st.Files), failed, count(st.Frames), Bytes(st.CapturedLen), st.Elapsed.Round(time.Millisecond), st.Workers, plural(st.Workers))
	if st.Frames > 0 {
		fmt.Fprintf(w, "throughput: %.2f Gbit/s, %s packets/s, %.0f ns/packet\n",
			float64(st.CapturedLen)*8/secs/1e9, count(uint64(float64(st.Frames)/secs)), secs*1e9/float64(st.Frames))
	}
	if st.FirstTS != 0 {
		fmt.Fprintf(w, "capture time: %s .. %s\n", time.Unix(0, st.FirstTS).UTC().Format(time.RFC3339), time.Unix(0, st.LastTS).UTC().Format(time.RFC3339))
	}
	d := &st.Decode
	fmt.Fprintf(w, "decoded: ipv4 %s, ipv6 %s, tcp %s, udp %s, other ip %s, non-ip %s, fragments %s (%s reassembled), malformed %s\n",
		count(d.IPv4), count(d.IPv6), count(d.TCP), count(d.UDP), count(d.OtherIP), count(d.NotIP), count(d.Fragments), count(d.Reassembled), count(d.MalformedTotal()))
	f := &st.Flow
	fmt.Fprintf(w, "flows: %s", count(f.FlowsCreated))
	if len(f.FlowsByProto) > 0 {
		fmt.Fprintf(w, "; by application: %s", sortedCounts(f.FlowsByProto))
	}
	if f.Evicted > 0 {
		fmt.Fprintf(w, "; evicted by the flow cap: %s", count(f.Evicted))
	}
	fmt.Fprintln(w)
	t := &f.TCP
	fmt.Fprintf(w, "tcp reassembly: %s segments, %s out of order, %s retransmitted, %s gaps (%s missed), buffer limits hit %s, peak buffered %s\n",
		count(t.Segments), count(t.OutOfOrder), count(t.Retransmitted), count(t.Gaps), Bytes(t.GapBytes), count(t.StreamLimit+t.TotalLimit), Bytes(uint64(st.PeakBuffered)))
	anom := map[string]uint64{}
	for k, v := range f.Anomalies {
		if v > 0 {
			anom[k] = v
		}
	}
	for i, v := range d.Malformed {
		if v > 0 {
			anom["decode/"+decode.ErrNames[i]] = v
		}
	}
	if v := d.Defrag.Timeouts + d.Defrag.Evicted + d.Defrag.LimitHits; v > 0 {
		anom["decode/fragments_dropped"] = v
	}
	if v := d.Defrag.Overlaps; v > 0 {
		anom["decode/fragment_overlap"] = v
	}
	if f.ParserPanics > 0 {
		anom["pipeline/parser_panic"] = f.ParserPanics
	}
	if len(anom) == 0 {
		fmt.Fprintln(w, "anomalies: none")
	} else {
		fmt.Fprintf(w, "anomalies: %s\n", sortedCounts(anom))
	}
	fmt.Fprintf(w, "events: %s written to %s\n", count(events), dest)
}

func sortedCounts(m map[string]uint64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " " + count(m[k])
	}
	return strings.Join(parts, ", ")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// count formats an integer with thousands separators.
func count(n uint64) string {
	s := fmt.Sprint(n)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// Bytes formats a byte count in binary units.
func Bytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.2f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
