package hl7

import (
	"math/bits"
	"slices"
)

// Events of one stream mostly repeat a few segment lists, PHI field lists
// and category sets. An event shares these lists, read-only, with the
// stream's earlier events instead of carrying its own copies: building it
// writes three slice headers, and the event block stays small.
const (
	// listCacheSize is how many lists of each kind a stream remembers.
	listCacheSize = 32
	// maxCachedList is the longest list remembered; longer ones are
	// made for their event alone.
	maxCachedList = 32
)

// sharedList is a list events share, with its JSON array, encoded once
// when the list is made: AppendJSON appends it instead of encoding each
// name of each event again.
type sharedList struct {
	list []string
	json string
}

// newSharedList encodes l (not empty) and wraps it.
func newSharedList(l []string) *sharedList {
	return &sharedList{list: l, json: string(appendStrings(nil, l))}
}

// encodes reports whether e is the encoding of l: l is still the list e
// was made for (a Message's fields may have been set since it was built).
func (e *sharedList) encodes(l []string) bool {
	return e != nil && len(l) == len(e.list) && len(l) > 0 && &l[0] == &e.list[0]
}

// listEnt is one remembered list: its hash, the keys it names (segment
// names as numbers, fieldIDs), and the list.
type listEnt struct {
	h    uint64
	keys []uint64
	list *sharedList
}

// listCache remembers lists, replacing the oldest when full.
type listCache struct {
	ents [listCacheSize]listEnt
	next int
}

func (c *listCache) put(e listEnt) {
	c.ents[c.next] = e
	c.next = (c.next + 1) % listCacheSize
}

// segmentList gives the Segments of the message being built, and their
// encoding when the list is remembered (nil otherwise).
func (s *stream) segmentList(m *msgBuild) ([]string, *sharedList) {
	c := &s.sh.segLists
	if len(m.segs) <= maxCachedList {
		for i := range c.ents {
			if e := &c.ents[i]; e.h == m.segHash && slices.Equal(e.keys, m.segs) {
				return e.list.list, e.list
			}
		}
	}
	l := make([]string, len(m.segs)) // len == cap: no event appends into another's
	for i, key := range m.segs {
		if e := lookupSegment(uint32(key)); e != nil {
			l[i] = e.name()
		} else {
			l[i] = s.internName(uint32(key))
		}
	}
	if len(m.segs) > maxCachedList {
		return l, nil
	}
	e := newSharedList(l)
	c.put(listEnt{h: m.segHash, keys: slices.Clip(slices.Clone(m.segs)), list: e})
	return l, e
}

// fieldList gives the PHIFields of the message being built, and their
// encoding when the list is remembered (nil otherwise).
func (c *listCache) fieldList(m *msgBuild) ([]string, *sharedList) {
	if len(m.fields) <= maxCachedList {
		for i := range c.ents {
			if e := &c.ents[i]; e.h == m.fieldHash && slices.Equal(e.keys, m.fields) {
				return e.list.list, e.list
			}
		}
	}
	l := fieldNames(m.fields)
	if len(m.fields) > maxCachedList {
		return l, nil
	}
	e := newSharedList(l)
	c.put(listEnt{h: m.fieldHash, keys: slices.Clip(slices.Clone(m.fields)), list: e})
	return l, e
}

// catCache remembers PHICategories lists by their category set.
type catCache struct {
	sets  [listCacheSize]uint16
	lists [listCacheSize]*sharedList
	next  int
}

// list gives the PHICategories of a category set (not empty), with their
// encoding.
func (c *catCache) list(set uint16) *sharedList {
	for i, s := range c.sets {
		if s == set && c.lists[i] != nil {
			return c.lists[i]
		}
	}
	l := make([]string, 0, bits.OnesCount16(set))
	for i, name := range catOrder {
		if set&(1<<i) != 0 {
			l = append(l, name)
		}
	}
	e := newSharedList(l)
	c.sets[c.next], c.lists[c.next] = set, e
	c.next = (c.next + 1) % listCacheSize
	return e
}
