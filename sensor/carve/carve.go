// Package carve writes the packets of one flow, the flow behind an alert,
// from capture files to a new pcap file, for incident responders: both
// directions, IP fragments of the flow's datagrams included, with the
// original link type, timestamps (nanoseconds) and wire lengths.
//
// A flow is what medtap's flow table calls one: the packets of one 5-tuple
// and outer VLAN, split where the key was idle longer than any flow timeout.
// The carved flow is the run of packets of that key that overlaps the
// alert's first_seen..last_seen window.
//
// The input is read twice: once to decide which frames belong to the flow
// (fragments are only known to belong once their datagram is complete,
// which can be after later frames of the flow), then to copy them in input
// order.
package carve

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"time"

	"github.com/medtap/medtap/sensor/capture"
	"github.com/medtap/medtap/sensor/decode"
	"github.com/medtap/medtap/sensor/flow"
)

// Limits.
const (
	// MaxPackets bounds the frames of the key that pass 1 remembers (8 bytes
	// of index and 8 of time each): a flow larger than this is refused
	// rather than carved in part.
	MaxPackets = 1 << 22
	// MaxPendingFragments bounds the fragment frames remembered while their
	// datagram is incomplete; past it the oldest are forgotten (their
	// datagram, if it completes, is carved without them) and counted.
	MaxPendingFragments = 1 << 16
	// TCPGap is the idle time after which packets of a TCP key are a new
	// flow: the longest idle timeout a TCP flow can have (a DICOM
	// association, 15 minutes, outlasts the flow table's 10).
	TCPGap = 15 * time.Minute
	// OtherGap is the same for UDP and other protocols.
	OtherGap = flow.DefaultUDPTimeout
	// windowSlack widens the alert's window on both sides: alert times are
	// event times, which may trail the first packet's capture time.
	windowSlack = time.Second
)

// Target is the flow to carve.
type Target struct {
	Proto    uint8          // IP protocol number
	Client   netip.AddrPort // either end; both directions are carved
	Server   netip.AddrPort
	VLAN     uint16    // outer VLAN id, 0 untagged
	From, To time.Time // the alert's first_seen and last_seen
}

func (t Target) String() string {
	s := fmt.Sprintf("%s %s -> %s", protoName(t.Proto), t.Client, t.Server)
	if t.VLAN != 0 {
		s += fmt.Sprintf(" vlan %d", t.VLAN)
	}
	return s
}

// Result says what was written.
type Result struct {
	Packets     int
	Bytes       int64 // captured bytes of the packets written
	Fragments   int   // of Packets, IP fragments
	Link        uint32
	First, Last time.Time
	// FragmentsForgotten counts fragment frames dropped from the pending
	// set by MaxPendingFragments.
	FragmentsForgotten int
}

// ErrNoPackets is returned when no packet of the target flow is found in
// the window.
var ErrNoPackets = errors.New("no packet of the flow in the capture")

type hit struct {
	idx uint64 // global frame index across the files
	ts  int64
}

type fragKey struct {
	src, dst [16]byte
	id       uint32
	proto    uint8
	v6       bool
}

type pendingFrag struct {
	key fragKey
	hit hit
}

// Carve finds the target's frames in files (read in order as one capture)
// and writes them to w as a classic pcap with nanosecond timestamps.
func Carve(files []string, t Target, w io.Writer) (Result, error) {
	var res Result
	hits, link, err := scan(files, t, &res)
	if err != nil {
		return res, err
	}
	if len(hits) == 0 {
		return res, fmt.Errorf("%w: %s", ErrNoPackets, t)
	}
	hits = selectRun(hits, t)
	if len(hits) == 0 {
		return res, fmt.Errorf("%w: %s between %s and %s", ErrNoPackets, t, t.From.Format(time.RFC3339Nano), t.To.Format(time.RFC3339Nano))
	}
	res.Link = link
	if err := copyFrames(files, hits, link, w, &res); err != nil {
		return res, err
	}
	return res, nil
}

// scan is pass 1: the sorted frames of the target's key, fragments
// included, and the link type they share.
func scan(files []string, t Target, res *Result) ([]hit, uint32, error) {
	dec := decode.New(decode.DefragLimits{})
	var (
		hits    []hit
		pending = map[fragKey][]hit{}
		order   []pendingFrag // pending fragments, oldest first
		link    uint32
		haveLnk bool
		idx     uint64
		pkt     decode.Packet
	)
	addHit := func(h hit, l uint32) error {
		if len(hits) >= MaxPackets {
			return fmt.Errorf("carve: the flow has more than %d packets; carve a smaller capture", MaxPackets)
		}
		if haveLnk && l != link {
			return fmt.Errorf("carve: the flow's packets have two link types (%s and %s); a pcap file holds one", decode.LinkName(link), decode.LinkName(l))
		}
		link, haveLnk = l, true
		hits = append(hits, h)
		return nil
	}
	for _, path := range files {
		r, err := capture.Open(path)
		if err != nil {
			return nil, 0, err
		}
		for {
			p, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				r.Close()
				return nil, 0, err
			}
			i := idx
			idx++
			if !decode.LinkSupported(p.Link) {
				continue
			}
			h := hit{idx: i, ts: p.TS}
			switch dec.Decode(p.Data, p.Link, p.TS, p.WireLen, &pkt) {
			case decode.OK:
				if !t.matches(&pkt) {
					if pkt.Reassembled {
						if k, ok := fragmentKey(p.Data, p.Link); ok {
							delete(pending, k)
						}
					}
					continue
				}
				if pkt.Reassembled {
					if k, ok := fragmentKey(p.Data, p.Link); ok {
						for _, ph := range pending[k] {
							if err := addHit(ph, p.Link); err != nil {
								r.Close()
								return nil, 0, err
							}
							res.Fragments++
						}
						delete(pending, k)
					}
					res.Fragments++
				}
				if err := addHit(h, p.Link); err != nil {
					r.Close()
					return nil, 0, err
				}
			case decode.Fragment:
				if !t.hostsMatch(&pkt) {
					continue
				}
				k, ok := fragmentKey(p.Data, p.Link)
				if !ok {
					continue
				}
				pending[k] = append(pending[k], h)
				order = append(order, pendingFrag{k, h})
				if len(order) > MaxPendingFragments {
					forget(pending, order[0])
					order = order[1:]
					res.FragmentsForgotten++
				}
			}
			if p.TS > 0 && len(order) > 0 && p.TS-order[0].hit.ts > decode.DefaultFragTimeout {
				order = expire(pending, order, p.TS)
			}
		}
		if err := r.Close(); err != nil {
			return nil, 0, err
		}
	}
	sort.Slice(hits, func(a, b int) bool { return hits[a].idx < hits[b].idx })
	return hits, link, nil
}

// forget drops one pending fragment frame.
func forget(pending map[fragKey][]hit, pf pendingFrag) {
	l := pending[pf.key]
	for i, h := range l {
		if h.idx == pf.hit.idx {
			l = append(l[:i], l[i+1:]...)
			break
		}
	}
	if len(l) == 0 {
		delete(pending, pf.key)
	} else {
		pending[pf.key] = l
	}
}

// expire drops pending fragments older than the decoder's reassembly
// timeout: their datagram can no longer complete.
func expire(pending map[fragKey][]hit, order []pendingFrag, now int64) []pendingFrag {
	n := 0
	for n < len(order) && now-order[n].hit.ts > decode.DefaultFragTimeout {
		forget(pending, order[n])
		n++
	}
	return order[n:]
}

func addrOf(b [16]byte, v6 bool) netip.Addr {
	if v6 {
		return netip.AddrFrom16(b)
	}
	return netip.AddrFrom4([4]byte(b[:4]))
}

// hostsMatch is true when the packet is between the target's two hosts,
// either way, with its protocol and VLAN.
func (t Target) hostsMatch(p *decode.Packet) bool {
	if p.Proto != t.Proto || p.VLAN != t.VLAN {
		return false
	}
	src, dst := addrOf(p.Src, p.IPv6), addrOf(p.Dst, p.IPv6)
	c, s := t.Client.Addr().Unmap(), t.Server.Addr().Unmap()
	return (src == c && dst == s) || (src == s && dst == c)
}

func (t Target) matches(p *decode.Packet) bool {
	if !t.hostsMatch(p) {
		return false
	}
	src := netip.AddrPortFrom(addrOf(p.Src, p.IPv6), p.SrcPort)
	dst := netip.AddrPortFrom(addrOf(p.Dst, p.IPv6), p.DstPort)
	c := netip.AddrPortFrom(t.Client.Addr().Unmap(), t.Client.Port())
	s := netip.AddrPortFrom(t.Server.Addr().Unmap(), t.Server.Port())
	return (src == c && dst == s) || (src == s && dst == c)
}

// selectRun keeps the run of hits (split at idle gaps) that overlaps the
// target's window; several when the window spans them.
func selectRun(hits []hit, t Target) []hit {
	gap := int64(OtherGap)
	if t.Proto == 6 {
		gap = int64(TCPGap)
	}
	from, to := t.From.Add(-windowSlack).UnixNano(), t.To.Add(windowSlack).UnixNano()
	if t.From.IsZero() {
		from = -1 << 63
	}
	if t.To.IsZero() {
		to = 1<<63 - 1
	}
	// Fragments are sorted by index, so times may step back slightly;
	// runs use the running maximum.
	var out []hit
	start := 0
	lo, hi := hits[0].ts, hits[0].ts
	flush := func(end int) {
		if hi >= from && lo <= to {
			out = append(out, hits[start:end]...)
		}
	}
	for i := 1; i < len(hits); i++ {
		if hits[i].ts-hi > gap {
			flush(i)
			start, lo, hi = i, hits[i].ts, hits[i].ts
			continue
		}
		lo, hi = min(lo, hits[i].ts), max(hi, hits[i].ts)
	}
	flush(len(hits))
	return out
}

// copyFrames is pass 2.
func copyFrames(files []string, hits []hit, link uint32, w io.Writer, res *Result) error {
	pw, err := newPcapWriter(w, link)
	if err != nil {
		return err
	}
	var idx uint64
	next := 0
	for _, path := range files {
		if next == len(hits) {
			break
		}
		r, err := capture.Open(path)
		if err != nil {
			return err
		}
		for next < len(hits) {
			p, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				r.Close()
				return err
			}
			i := idx
			idx++
			if i != hits[next].idx {
				continue
			}
			next++
			if err := pw.write(p); err != nil {
				r.Close()
				return err
			}
			res.Packets++
			res.Bytes += int64(len(p.Data))
			ts := time.Unix(0, p.TS).UTC()
			if res.First.IsZero() || ts.Before(res.First) {
				res.First = ts
			}
			if ts.After(res.Last) {
				res.Last = ts
			}
		}
		if err := r.Close(); err != nil {
			return err
		}
	}
	if next != len(hits) {
		return fmt.Errorf("carve: the capture changed between the two reads (%d of %d packets found again)", next, len(hits))
	}
	return pw.flush()
}

func protoName(p uint8) string {
	switch p {
	case 6:
		return "tcp"
	case 17:
		return "udp"
	}
	return fmt.Sprintf("ip-proto-%d", p)
}
