package inventory

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/medtap/medtap/detect/geo"
	"github.com/medtap/medtap/detect/policy"
	"github.com/medtap/medtap/parsers/hl7"
	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/sensor/event"
)

// Limits on what one asset keeps. Past a limit the new item is dropped and
// counted in Stats.Dropped: a scanner or a chatty peer cannot grow an
// asset without bound.
const (
	MaxIPsPerAsset       = 64
	MaxHostnamesPerAsset = 32
	MaxServicesPerAsset  = 256
	MaxPeersPerAsset     = 512
	MaxFingerprints      = 64
	MaxIdentityItems     = 32 // AE titles, HL7 identities, device identities, SOP classes, UDIs...
	MaxValueLen          = 256
	MaxAssets            = 1 << 20
	MaxOpenFlows         = 1 << 20 // per-flow notes kept until the flow record
	MaxIPv4PerMAC        = 4       // past this a MAC is a router's: its addresses get assets of their own
	MaxIPv6PerMAC        = 16
	DefaultBatchChanges  = 512
	// MinMoveGap is how long a device must have been silent before its
	// AE title or HL7 identity, seen from a new address without a MAC,
	// counts as the same device moved (a reboot, a new lease) rather than
	// a second device using the identity.
	MinMoveGap            = 30 * time.Second
	DefaultBatchInterval  = 5 * time.Second
	medicalTLSPortDICOM   = 2762
	medicalTLSPortHL7MLLP = 2575
)

// Persister stores the inventory; the store package implements it. Each
// call is one transaction.
type Persister interface {
	SaveAssets(assets []Asset) error
	SaveAlerts(alerts []AlertRecord) error
}

// Sink receives the inventory's "asset" events.
type Sink interface {
	Write(evs []*event.Event) error
}

// Options configure an Inventory.
type Options struct {
	Policy *policy.Policy // internal networks, home country; nil: the built-in policy
	Geo    *geo.DB        // countries of external peers; nil: none
	Sensor string
	// Vendor names the organisation of a MAC prefix; nil: no vendors.
	Vendor func(mac [6]byte) string
	// Changes receives asset events after each batch of pipeline events
	// (nil: changes are not reported).
	Changes Sink
	// Store persists dirty assets every BatchChanges changes or
	// BatchInterval of wall time, and at Flush (nil: memory only).
	Store         Persister
	BatchChanges  int
	BatchInterval time.Duration
	// Now is the wall clock for batching (tests); nil: time.Now.
	Now func() time.Time
}

// Stats counts the inventory's work.
type Stats struct {
	Events  uint64
	Assets  int
	Changes uint64
	Merges  uint64
	Flushes uint64
	// Dropped counts items not kept because a limit was hit, by limit.
	Dropped map[string]uint64
}

// Inventory learns assets from events. It is not safe for concurrent use:
// the pipeline calls Write from its one merge goroutine; Assets and the
// other readers must be called from the same goroutine or after the run.
type Inventory struct {
	opt Options
	pol *policy.Policy

	nodes   []*node
	byID    map[string]*node
	byMAC   map[[6]byte]*node
	byIP    map[netip.Addr]*node
	byIdent map[string]*node
	routers map[[6]byte]bool // MACs that carried too many addresses
	flows   map[*parser.Flow]*flowNote
	// gen changes whenever an address moves to another asset, a MAC
	// turns out to be a router's or assets merge: a flow's ends resolved
	// at the current gen are still what resolve would find (new addresses
	// and MACs, keys no flow resolved through, leave it).
	gen         uint64
	noFlowCache bool // tests: resolve both ends of every event

	// Scratch for map keys and message types built per event, so that
	// looking a known one up allocates nothing.
	keyBuf []byte
	typBuf []byte
	// warmed is what warm read, kept so that the reads stay.
	warmed int

	dirty     []*node
	changes   []*event.Event
	alerts    []AlertRecord
	alertSeen map[string]bool
	trigger   *event.Event
	lastSave  time.Time
	stats     Stats
	err       error

	// classCounts are the assets per class (index in Classes), published
	// for metrics scrapes on other goroutines; counted again whenever a
	// batch changed something.
	classCounts   []atomic.Int64 // len(Classes)
	countedChange uint64
}

// flowNote is what the inventory learns about a flow before its record,
// and the assets its ends resolved to, so that the flow's next events skip
// the address and MAC look-ups while nothing moved (gen).
type flowNote struct {
	phi      bool
	medical  bool
	gen      uint64 // Inventory.gen when cli and srv were resolved; 0: never
	cli, srv endCache
}

// endCache is one resolved end of a flow: its asset and the index of the
// address in the asset's IPs (-1: the asset had no room for it).
type endCache struct {
	n  *node
	ip int
}

// New makes an empty inventory.
func New(opt Options) *Inventory {
	if opt.Policy == nil {
		opt.Policy = policy.Default()
	}
	if opt.BatchChanges <= 0 {
		opt.BatchChanges = DefaultBatchChanges
	}
	if opt.BatchInterval <= 0 {
		opt.BatchInterval = DefaultBatchInterval
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	inv := &Inventory{
		classCounts: make([]atomic.Int64, len(Classes)),
		opt:         opt,
		pol:         opt.Policy,
		byID:        map[string]*node{},
		byMAC:       map[[6]byte]*node{},
		byIP:        map[netip.Addr]*node{},
		byIdent:     map[string]*node{},
		routers:     map[[6]byte]bool{},
		flows:       map[*parser.Flow]*flowNote{},
		alertSeen:   map[string]bool{},
		gen:         1,
	}
	inv.stats.Dropped = map[string]uint64{}
	inv.lastSave = opt.Now()
	return inv
}

// Load puts assets from a store back, so a restarted sensor continues
// where it stopped. Call it before the first Write.
func (inv *Inventory) Load(assets []Asset) {
	for i := range assets {
		n := newNode(assets[i])
		inv.add(n)
		inv.gen++
		if mac, ok := parseMAC(n.a.MAC); ok {
			inv.byMAC[mac] = n
		}
		for _, ip := range n.a.IPs {
			if a, err := netip.ParseAddr(ip.IP); err == nil {
				if old := inv.byIP[a]; old == nil || old.a.LastSeen.Before(ip.LastSeen) {
					inv.byIP[a] = n
				}
			}
		}
		for _, k := range n.identityKeys() {
			inv.byIdent[k] = n
		}
	}
	inv.countClasses()
}

func (inv *Inventory) add(n *node) {
	inv.nodes = append(inv.nodes, n)
	inv.byID[n.a.ID] = n
	inv.stats.Assets = len(inv.byID)
}

// SetChanges changes where asset events go (nil: nowhere), for a caller
// whose event output closes before the inventory's last flush.
func (inv *Inventory) SetChanges(s Sink) { inv.opt.Changes = s }

// Stats returns the counters.
func (inv *Inventory) Stats() Stats { return inv.stats }

// Err is the first error the store or the change sink returned.
func (inv *Inventory) Err() error { return inv.err }

// Write implements the pipeline sink: it folds a batch of events into the
// inventory, then sends the resulting asset events and, when a batch is
// due, saves the changed assets.
func (inv *Inventory) Write(evs []*event.Event) error {
	for i := 0; i < len(evs); i += warmEvents {
		chunk := evs[i:min(i+warmEvents, len(evs))]
		inv.warm(chunk)
		for _, ev := range chunk {
			inv.stats.Events++
			inv.trigger = ev
			inv.fold(ev)
		}
	}
	inv.trigger = nil
	for _, n := range inv.dirty {
		inv.reclassify(n)
	}
	if inv.stats.Changes != inv.countedChange {
		inv.countClasses()
	}
	if err := inv.sendChanges(); err != nil {
		return err
	}
	if inv.opt.Store != nil && (len(inv.dirty) >= inv.opt.BatchChanges || inv.opt.Now().Sub(inv.lastSave) >= inv.opt.BatchInterval) {
		return inv.save()
	}
	return nil
}

// warmEvents is how many events warm reads ahead.
const warmEvents = 16

// warm reads what fold reads of a few HL7 messages (the bulk of a
// hospital's events) before folding them. The events were built on other
// cores a round earlier and are mostly out of this core's caches: read
// message by message, their cache misses stall one after the other; read
// here, in a short loop with no dependence between events, they overlap.
func (inv *Inventory) warm(evs []*event.Event) {
	x := 0
	for _, ev := range evs {
		if f := ev.Flow; f != nil {
			x += int(f.VLAN)
		}
		if m, ok := ev.Body.(*hl7.Message); ok {
			x += len(m.Direction) + len(m.PHICategories) + len(m.Software) + len(m.UDI) + len(m.EquipmentIDs)
			if t := m.MessageType; len(t) > 0 {
				x += int(t[0])
			}
			if a := m.SendingApplication; len(a) > 0 {
				x += int(a[0])
			}
		}
	}
	inv.warmed += x
}

// countClasses publishes the number of assets per class.
func (inv *Inventory) countClasses() {
	n := make([]int64, len(Classes))
	for _, nd := range inv.nodes {
		if nd.gone {
			continue
		}
		for i, c := range Classes {
			if nd.a.Class == c {
				n[i]++
				break
			}
		}
	}
	for i := range n {
		inv.classCounts[i].Store(n[i])
	}
	inv.countedChange = inv.stats.Changes
}

// ClassCounts returns the number of assets per class, in the order of
// Classes, as of the last batch. Safe to call from any goroutine.
func (inv *Inventory) ClassCounts() []int64 {
	out := make([]int64, len(Classes))
	for i := range inv.classCounts {
		out[i] = inv.classCounts[i].Load()
	}
	return out
}

// Flush saves every changed asset and pending alert (end of a run,
// shutdown).
func (inv *Inventory) Flush() error {
	for _, n := range inv.dirty {
		inv.reclassify(n)
	}
	if err := inv.sendChanges(); err != nil {
		return err
	}
	if inv.opt.Store == nil {
		return nil
	}
	return inv.save()
}

func (inv *Inventory) sendChanges() error {
	if len(inv.changes) == 0 || inv.opt.Changes == nil {
		inv.changes = inv.changes[:0]
		return nil
	}
	err := inv.opt.Changes.Write(inv.changes)
	clear(inv.changes)
	inv.changes = inv.changes[:0]
	if err != nil && inv.err == nil {
		inv.err = err
	}
	return err
}

func (inv *Inventory) save() error {
	inv.lastSave = inv.opt.Now()
	if len(inv.dirty) > 0 {
		batch := make([]Asset, 0, len(inv.dirty))
		for _, n := range inv.dirty {
			if n.gone {
				continue
			}
			batch = append(batch, n.snapshot())
		}
		if err := inv.opt.Store.SaveAssets(batch); err != nil {
			if inv.err == nil {
				inv.err = err
			}
			return err
		}
	}
	if len(inv.alerts) > 0 {
		if err := inv.opt.Store.SaveAlerts(inv.alerts); err != nil {
			if inv.err == nil {
				inv.err = err
			}
			return err
		}
	}
	for _, n := range inv.dirty {
		n.dirty = false
	}
	inv.dirty = inv.dirty[:0]
	inv.alerts = inv.alerts[:0]
	inv.stats.Flushes++
	return nil
}

// Assets returns a snapshot of every asset, ordered by first seen, then ID.
func (inv *Inventory) Assets() []Asset {
	out := make([]Asset, 0, len(inv.nodes))
	for _, n := range inv.nodes {
		if n.gone {
			continue
		}
		inv.reclassify(n)
		out = append(out, n.snapshot())
	}
	sortAssets(out)
	return out
}

// AssetByIP returns the asset that holds an address now.
func (inv *Inventory) AssetByIP(a netip.Addr) (Asset, bool) {
	n := inv.byIP[a.Unmap()]
	if n == nil {
		return Asset{}, false
	}
	return n.snapshot(), true
}

// assetID derives an asset's id from the identity it was first seen with.
func assetID(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:8])
}

// usableMAC reports whether a MAC names one device: not zero (links
// without MACs), not multicast or broadcast (the group bit), not a router.
func (inv *Inventory) usableMAC(m [6]byte) bool {
	return m != [6]byte{} && m[0]&1 == 0 && !inv.routers[m]
}

// usableAddr reports whether an address can be a device: not unspecified
// (DHCP clients before a lease), multicast or the limited broadcast.
func usableAddr(a netip.Addr) bool {
	if !a.IsValid() || a.IsUnspecified() || a.IsMulticast() {
		return false
	}
	if a.Is4() && a.As4() == [4]byte{255, 255, 255, 255} {
		return false
	}
	return true
}

// resolve finds or makes the asset of an endpoint. mac may be zero.
func (inv *Inventory) resolve(a netip.Addr, mac [6]byte, vlan uint16, ts time.Time, source string) *node {
	a = a.Unmap()
	if !usableAddr(a) {
		return nil
	}
	internal := inv.pol.Internal(a) || a.IsLoopback() || a.IsLinkLocalUnicast()
	if !internal {
		mac = [6]byte{} // a routed peer shows its router's MAC
	}
	useMAC := inv.usableMAC(mac)
	n := inv.byIP[a]
	if useMAC {
		m := inv.byMAC[mac]
		switch {
		case m != nil:
			if n != m && n != nil && n.a.MAC == "" && n.young(m) {
				inv.merge(m, n)
			}
			n = m
		case n != nil && n.a.MAC == "":
			// The address's asset was learned without a MAC: this is it.
			n.setMAC(mac, inv.vendor(mac))
			inv.byMAC[mac] = n
			inv.change(n, ChangeNewMAC, "mac", n.a.MAC, "")
		default:
			if len(inv.byID) >= MaxAssets {
				inv.drop("assets")
				return nil
			}
			n = inv.newAsset("mac:"+formatMAC(mac), a, ts, internal)
			n.setMAC(mac, inv.vendor(mac))
			inv.byMAC[mac] = n
		}
	} else if n == nil {
		if len(inv.byID) >= MaxAssets {
			inv.drop("assets")
			return nil
		}
		n = inv.newAsset("ip:"+a.String(), a, ts, internal)
	}
	if old := inv.byIP[a]; old != n {
		if useMAC && inv.tooManyAddrs(n, a) {
			// A router: stop tying addresses to its MAC.
			inv.routers[mac] = true
			inv.gen++
			return inv.resolve(a, [6]byte{}, vlan, ts, source)
		}
		inv.byIP[a] = n
		if old != nil {
			inv.gen++ // a moved: flows that resolved it to old look again
		}
	}
	if n.seeIP(a, ts, source) {
		if len(n.a.IPs) > 1 {
			inv.change(n, ChangeNewIP, "ip", a.String(), "")
		}
	}
	if vlan != 0 {
		n.addVLAN(vlan)
	}
	n.touch(ts)
	inv.markDirty(n)
	return n
}

func (inv *Inventory) tooManyAddrs(n *node, a netip.Addr) bool {
	v4, v6 := 0, 0
	for _, ip := range n.a.IPs {
		if ip.IP == "" {
			continue
		}
		if x, err := netip.ParseAddr(ip.IP); err == nil && x.Is4() {
			v4++
		} else {
			v6++
		}
	}
	if a.Is4() {
		return v4 >= MaxIPv4PerMAC
	}
	return v6 >= MaxIPv6PerMAC
}

func (inv *Inventory) newAsset(key string, a netip.Addr, ts time.Time, internal bool) *node {
	n := newNode(Asset{ID: assetID(key), FirstSeen: ts, LastSeen: ts, Internal: internal, Class: ClassUnknown})
	n.reclass = true
	if inv.opt.Sensor != "" {
		n.a.Sensors = []string{inv.opt.Sensor}
	}
	if !internal && inv.opt.Geo != nil {
		n.a.Country = inv.opt.Geo.Country(a)
	}
	inv.add(n)
	n.a.IP = a.String()
	inv.change(n, ChangeNewAsset, "ip", a.String(), "")
	return n
}

func (inv *Inventory) vendor(mac [6]byte) string {
	if inv.opt.Vendor == nil {
		return ""
	}
	return inv.opt.Vendor(mac)
}

func (inv *Inventory) markDirty(n *node) {
	if t := inv.trigger; t != nil {
		n.cause = event.Event{TS: t.TS, Flow: t.Flow, Key: t.Key}
	}
	if !n.dirty {
		n.dirty = true
		inv.dirty = append(inv.dirty, n)
	}
}

func (inv *Inventory) drop(limit string) { inv.stats.Dropped[limit]++ }

// change queues one asset event.
func (inv *Inventory) change(n *node, kind, field, value, previous string) {
	inv.stats.Changes++
	n.reclass = true
	inv.markDirty(n)
	if inv.opt.Changes == nil {
		return
	}
	c := &Change{Change: kind, AssetID: n.a.ID, IP: n.a.IP, MAC: n.a.MAC, Class: n.a.Class, Field: field, Value: value, Previous: previous}
	ev := &event.Event{Sensor: inv.opt.Sensor, Body: c}
	if t := inv.trigger; t != nil {
		// The change carries the flow whose event revealed it.
		ev.TS, ev.Key, ev.Flow = t.TS, t.Key, t.Flow
	} else {
		ev.TS = n.a.LastSeen
	}
	inv.changes = append(inv.changes, ev)
}

// bindIdentity ties a medical identity (an AE title, an HL7 sender) to an
// asset. When the identity was another asset's, and that asset went quiet
// before this one appeared without a MAC of its own, the device moved:
// the two are merged. Concurrent use of one identity from two devices is
// left to detection (spoofing), never merged.
//
// key is built by the caller in a scratch buffer: a known identity costs
// one look-up and no allocation.
func (inv *Inventory) bindIdentity(n *node, key []byte) *node {
	m := inv.byIdent[string(key)]
	switch {
	case m == n:
	case m == nil || m.gone:
		inv.byIdent[string(key)] = n
	case n.a.MAC == "" && n.young(m):
		inv.merge(m, n)
		return m
	}
	return n
}

// merge folds asset b into a and forwards b's addresses to a.
func (inv *Inventory) merge(a, b *node) {
	inv.stats.Merges++
	inv.gen++
	a.absorb(b)
	for ip, x := range inv.byIP {
		if x == b {
			inv.byIP[ip] = a
		}
	}
	for k, x := range inv.byIdent {
		if x == b {
			inv.byIdent[k] = a
		}
	}
	b.gone = true
	delete(inv.byID, b.a.ID)
	inv.stats.Assets = len(inv.byID)
	inv.change(a, ChangeMerged, "asset_id", a.a.ID, b.a.ID)
	if inv.opt.Store != nil {
		if d, ok := inv.opt.Store.(interface{ DeleteAsset(string) error }); ok {
			if err := d.DeleteAsset(b.a.ID); err != nil && inv.err == nil {
				inv.err = err
			}
		}
	}
}

func formatMAC(m [6]byte) string {
	const hexd = "0123456789abcdef"
	var b [17]byte
	for i, x := range m {
		if i > 0 {
			b[i*3-1] = ':'
		}
		b[i*3] = hexd[x>>4]
		b[i*3+1] = hexd[x&15]
	}
	return string(b[:])
}

// parseMAC reads a 48-bit MAC written by formatMAC (or any form
// net.ParseMAC takes).
func parseMAC(s string) ([6]byte, bool) {
	var m [6]byte
	hw, err := net.ParseMAC(s)
	if err != nil || len(hw) != len(m) {
		return m, false
	}
	copy(m[:], hw)
	return m, true
}
