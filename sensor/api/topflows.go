package api

import (
	"container/heap"
	"sort"
	"sync"

	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/flow"
)

// MaxTopFlows is how many flow records TopFlows keeps: the largest by
// bytes (both directions) seen so far. Memory stays bounded whatever the
// traffic.
const MaxTopFlows = 1000

// Flow is one ended flow as /api/v1/flows/top shows it: the envelope's
// flow fields and the record's counters, named as in events.jsonl.
type Flow struct {
	Sensor        string `json:"sensor,omitempty"`
	SrcIP         string `json:"src_ip"`
	SrcPort       uint16 `json:"src_port"`
	DestIP        string `json:"dest_ip"`
	DestPort      uint16 `json:"dest_port"`
	Proto         string `json:"proto"`
	VLAN          uint16 `json:"vlan,omitempty"`
	CommunityID   string `json:"community_id"`
	AppProto      string `json:"app_proto"`
	Start         string `json:"start"`
	End           string `json:"end"`
	Bytes         uint64 `json:"bytes"` // both directions, headers included
	BytesToServer uint64 `json:"bytes_toserver"`
	BytesToClient uint64 `json:"bytes_toclient"`
	PktsToServer  uint64 `json:"pkts_toserver"`
	PktsToClient  uint64 `json:"pkts_toclient"`
	Encrypted     bool   `json:"encrypted"`
}

// flowID tells two flows apart: the same flow arriving twice (a
// redelivered message at the hub) replaces itself.
type flowID struct {
	sensor, communityID, start string
	vlan                       uint16
}

func (f *Flow) id() flowID { return flowID{f.Sensor, f.CommunityID, f.Start, f.VLAN} }

// TopFlows keeps the MaxTopFlows largest flows by bytes. It is a sink
// (Write takes the pipeline's events and looks only at flow records) and
// is safe for concurrent use.
type TopFlows struct {
	mu   sync.Mutex
	max  int
	h    flowHeap
	byID map[flowID]*Flow
}

// NewTopFlows keeps the n largest flows (MaxTopFlows when n <= 0 or above).
func NewTopFlows(n int) *TopFlows {
	if n <= 0 || n > MaxTopFlows {
		n = MaxTopFlows
	}
	return &TopFlows{max: n, byID: map[flowID]*Flow{}}
}

// Write implements pipeline.Sink: it offers every flow record in evs.
// Only a flow that enters the top set is copied.
func (t *TopFlows) Write(evs []*event.Event) error {
	for _, e := range evs {
		r, ok := e.Body.(*flow.Record)
		if !ok || e.Flow == nil {
			continue
		}
		n := r.BytesToServer + r.BytesToClient
		if !t.wants(n) {
			continue
		}
		f := e.Flow
		t.Add(Flow{
			Sensor: e.Sensor, SrcIP: f.Client.Addr().String(), SrcPort: f.Client.Port(),
			DestIP: f.Server.Addr().String(), DestPort: f.Server.Port(), Proto: event.ProtoName(f.Proto),
			VLAN: f.VLAN, CommunityID: f.CommunityID, AppProto: r.AppProto, Start: r.Start, End: r.End,
			Bytes: n, BytesToServer: r.BytesToServer, BytesToClient: r.BytesToClient,
			PktsToServer: r.PktsToServer, PktsToClient: r.PktsToClient, Encrypted: r.Encrypted,
		})
	}
	return nil
}

// wants reports whether a flow of n bytes could enter the top set.
func (t *TopFlows) wants(n uint64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.h) < t.max || n > t.h[0].Bytes
}

// Add offers one flow (f.Bytes is its size).
func (t *TopFlows) Add(f Flow) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if old, ok := t.byID[f.id()]; ok {
		*old = f
		heap.Init(&t.h)
		return
	}
	if len(t.h) >= t.max {
		if f.Bytes <= t.h[0].Bytes {
			return
		}
		gone := heap.Pop(&t.h).(*Flow)
		delete(t.byID, gone.id())
	}
	p := &f
	heap.Push(&t.h, p)
	t.byID[p.id()] = p
}

// Top returns the n largest flows, largest first (ties: earlier start,
// then Community ID, so the answer is stable).
func (t *TopFlows) Top(n int) []Flow {
	t.mu.Lock()
	out := make([]Flow, len(t.h))
	for i, f := range t.h {
		out[i] = *f
	}
	t.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if a.Bytes != b.Bytes {
			return a.Bytes > b.Bytes
		}
		if a.Start != b.Start {
			return a.Start < b.Start
		}
		return a.CommunityID < b.CommunityID
	})
	if n >= 0 && n < len(out) {
		out = out[:n]
	}
	return out
}

// flowHeap is a min-heap by bytes: the smallest of the top set is at 0.
type flowHeap []*Flow

func (h flowHeap) Len() int           { return len(h) }
func (h flowHeap) Less(i, j int) bool { return h[i].Bytes < h[j].Bytes }
func (h flowHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *flowHeap) Push(x any)        { *h = append(*h, x.(*Flow)) }
func (h *flowHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return x
}
