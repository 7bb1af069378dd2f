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

// listEnt is one remembered list: its hash, the keys it names (segment
// names as numbers, fieldIDs), and the list.
type listEnt struct {
	h    uint64
	keys []uint64
	list []string
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

// segmentList gives the Segments of the message being built.
func (s *stream) segmentList(m *msgBuild) []string {
	c := &s.segLists
	if len(m.segs) <= maxCachedList {
		for i := range c.ents {
			if e := &c.ents[i]; e.h == m.segHash && slices.Equal(e.keys, m.segs) {
				return e.list
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
	if len(m.segs) <= maxCachedList {
		c.put(listEnt{h: m.segHash, keys: slices.Clip(slices.Clone(m.segs)), list: l})
	}
	return l
}

// fieldList gives the PHIFields of the message being built.
func (c *listCache) fieldList(m *msgBuild) []string {
	if len(m.fields) <= maxCachedList {
		for i := range c.ents {
			if e := &c.ents[i]; e.h == m.fieldHash && slices.Equal(e.keys, m.fields) {
				return e.list
			}
		}
	}
	l := fieldNames(m.fields)
	if len(m.fields) <= maxCachedList {
		c.put(listEnt{h: m.fieldHash, keys: slices.Clip(slices.Clone(m.fields)), list: l})
	}
	return l
}

// catCache remembers PHICategories lists by their category set.
type catCache struct {
	sets  [listCacheSize]uint16
	lists [listCacheSize][]string
	next  int
}

// list gives the PHICategories of a category set (not empty).
func (c *catCache) list(set uint16) []string {
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
	c.sets[c.next], c.lists[c.next] = set, l
	c.next = (c.next + 1) % listCacheSize
	return l
}
