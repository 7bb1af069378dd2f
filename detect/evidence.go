package detect

import (
	"math/bits"
	"net/netip"
	"slices"
	"strings"
)

// This file holds the pieces that keep findings cheap: a finding refers to
// the event's strings and to the engine's scratch buffers, and only what a
// pending alert keeps is copied (interned or cloned), so that confirming an
// alert already pending for a flow allocates nothing and no string of an
// event (which may share memory with the patient values of its message)
// outlives the call that sees it.

// node is an asset of a finding; its Asset (address text, interned names)
// is made only when the finding opens a new alert.
type node struct {
	ip                        netip.Addr
	role, ae, app, class, cty string
}

// dkind says how a detail is merged into a pending alert's details.
type dkind uint8

const (
	dStr  dkind = iota + 1 // string: first value wins
	dBool                  // bool: first value wins
	dInt                   // int: the maximum is kept
	dList                  // []string: union, first-seen order (s is one more element when one is set)
	dInts                  // []int: first value wins
)

// detail is one key of evidence.details.
type detail struct {
	key  string
	kind dkind
	s    string
	n    int
	b    bool
	one  bool // dList: s (or sb, when useB) is an element
	useB bool
	sb   []byte
	list []string
	ints []int
}

func dS(k, s string) detail          { return detail{key: k, kind: dStr, s: s} }
func dB(k string, b bool) detail     { return detail{key: k, kind: dBool, b: b} }
func dI(k string, n int) detail      { return detail{key: k, kind: dInt, n: n} }
func dL1(k, s string) detail         { return detail{key: k, kind: dList, s: s, one: true} }
func dL(k string, l []string) detail { return detail{key: k, kind: dList, list: l} }

// value is the detail as evidence.details holds it.
func (d *detail) value() any {
	switch d.kind {
	case dStr:
		return d.s
	case dBool:
		return d.b
	case dInt:
		return d.n
	case dList:
		return slices.Clone(d.list) // lists are shared
	case dInts:
		return d.ints
	}
	return nil
}

// interner keeps one copy of the short, non-patient strings that pending
// alerts and baselines hold (field paths, tags, categories, message types,
// SOP classes, AE titles, application names): looking a known string up
// allocates nothing, and a kept string never shares memory with an event.
// It never holds patient values.
type interner struct{ m map[string]string }

// maxInterned bounds the interner; past it strings are cloned, not kept.
const maxInterned = 1 << 14

func (in *interner) str(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := in.m[s]; ok {
		return v
	}
	c := strings.Clone(s)
	if in.m == nil {
		in.m = map[string]string{}
	}
	if len(in.m) < maxInterned {
		in.m[c] = c
	}
	return c
}

func (in *interner) bytes(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if v, ok := in.m[string(b)]; ok {
		return v
	}
	return in.str(string(b))
}

// patientSet is a set of 64-bit identifier hashes (open addressing with
// linear probing, 0 means empty), at most maxPatientSet of them. The table
// grows by half and may fill to 7/8: there is one per pending alert.
type patientSet struct {
	slots []uint64
	n     int
}

// slot is where h's probe sequence starts (h is uniform: its top bits
// scaled to the table).
func (s *patientSet) slot(h uint64) int {
	hi, _ := bits.Mul64(h, uint64(len(s.slots)))
	return int(hi)
}

// add inserts h and reports whether it was new; a full set takes nothing.
func (s *patientSet) add(h uint64) bool {
	if h == 0 {
		h = 1
	}
	if s.slots == nil {
		s.slots = make([]uint64, 8)
	}
	for i := s.slot(h); ; {
		switch s.slots[i] {
		case h:
			return false
		case 0:
			if s.n >= maxPatientSet {
				return false
			}
			s.slots[i] = h
			s.n++
			if s.n*8 > len(s.slots)*7 {
				s.grow()
			}
			return true
		}
		if i++; i == len(s.slots) {
			i = 0
		}
	}
}

func (s *patientSet) grow() {
	old := s.slots
	s.slots = make([]uint64, len(old)+len(old)/2)
	for _, h := range old {
		if h == 0 {
			continue
		}
		i := s.slot(h)
		for s.slots[i] != 0 {
			if i++; i == len(s.slots) {
				i = 0
			}
		}
		s.slots[i] = h
	}
}

// mergeStrings returns dst with the elements of src it misses appended
// (first-seen order). dst is a shared list and is never changed: when src
// brings something new, the result is another shared list. src usually
// lists what dst holds in the same order: that costs one pass.
func (e *Engine) mergeStrings(dst, src []string) []string {
	j := 0
	for i, x := range src {
		k := j
		for k < len(dst) && dst[k] != x {
			k++
		}
		if k < len(dst) {
			j = k + 1
			continue
		}
		if containsStr(dst[:j], x) {
			continue
		}
		// x is new: make the merged list.
		buf := append(e.listBuf[:0], dst...)
		for _, y := range src[i:] {
			if !containsStr(buf, y) {
				buf = append(buf, y)
			}
		}
		out := e.shareList(buf)
		clear(buf) // the event's strings must not stay here
		e.listBuf = buf[:0]
		return out
	}
	return dst
}

// maxLists bounds the shared lists.
const maxLists = 4096

// shareList returns a shared, never changed copy of l (strings interned):
// alerts of flows that carry the same message structures share their
// fields, tags and categories.
func (e *Engine) shareList(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	h := &e.listHash
	h.Reset()
	for _, x := range l {
		h.WriteString(x)
		h.WriteByte(0)
	}
	k := h.Sum64()
	v, found := e.lists[k]
	if found && slices.Equal(v, l) {
		return v
	}
	c := make([]string, len(l))
	for i, x := range l {
		c[i] = e.in.str(x)
	}
	if !found && len(e.lists) < maxLists {
		if e.lists == nil {
			e.lists = map[uint64][]string{}
		}
		e.lists[k] = c
	}
	return c
}

func containsStr(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// mergeDetails folds a finding's details into a pending alert's: a new key
// is copied; ints keep their maximum, string lists their union, anything
// else its first value.
func (e *Engine) mergeDetails(dst []detail, src []detail) []detail {
	for i := range src {
		d := &src[i]
		j := -1
		for k := range dst {
			if dst[k].key == d.key {
				j = k
				break
			}
		}
		if j < 0 {
			if dst == nil {
				dst = make([]detail, 0, len(src))
			}
			dst = append(dst, e.ownDetail(d))
			continue
		}
		o := &dst[j]
		switch {
		case o.kind == dInt && d.kind == dInt:
			if d.n > o.n {
				o.n = d.n
			}
		case o.kind == dList && d.kind == dList:
			o.list = e.mergeStrings(o.list, d.list)
			o.list = e.addOne(o.list, d)
		}
	}
	return dst
}

// ownDetail copies a detail for a pending alert: strings interned or
// cloned, lists shared.
func (e *Engine) ownDetail(d *detail) detail {
	o := detail{key: d.key, kind: d.kind, n: d.n, b: d.b}
	switch d.kind {
	case dStr:
		o.s = strings.Clone(d.s)
	case dList:
		if d.list != nil || d.one {
			o.list = e.shareList(d.list) // as given, duplicates too
			o.list = e.addOne(o.list, d)
			if o.list == nil {
				o.list = []string{}
			}
		}
	case dInts:
		if d.ints != nil {
			o.ints = append(make([]int, 0, len(d.ints)), d.ints...)
		}
	}
	return o
}

// addOne adds a list detail's single element (s, or sb) if missing.
func (e *Engine) addOne(l []string, d *detail) []string {
	if !d.one {
		return l
	}
	var x string
	if d.useB {
		for _, y := range l {
			if y == string(d.sb) {
				return l
			}
		}
		x = e.in.bytes(d.sb)
	} else {
		if containsStr(l, d.s) {
			return l
		}
		x = d.s
	}
	buf := append(append(e.listBuf[:0], l...), x)
	out := e.shareList(buf)
	clear(buf)
	e.listBuf = buf[:0]
	return out
}
