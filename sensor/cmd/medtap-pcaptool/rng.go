package main

import "encoding/binary"

// rng is a small, fast, deterministic PRNG (SplitMix64). Its output is fixed
// by this file, not by the Go release, so a seed always produces the same
// capture.
type rng struct{ s uint64 }

func newRNG(seed uint64) *rng { return &rng{s: seed} }

func (r *rng) u64() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a value in [0, n). n must be > 0.
func (r *rng) intn(n int) int {
	return int((r.u64() >> 32) * uint64(n) >> 32)
}

// between returns a value in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

// chance reports true with probability p.
func (r *rng) chance(p float64) bool { return r.float() < p }

// float returns a value in [0, 1).
func (r *rng) float() float64 { return float64(r.u64()>>11) / (1 << 53) }

// fork derives an independent generator, so that e.g. a flow's content does
// not depend on how its packets interleave with other flows.
func (r *rng) fork() *rng { return &rng{s: r.u64() ^ 0x5851f42d4c957f2d} }

// fill writes pseudo-random bytes into b.
func (r *rng) fill(b []byte) {
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, r.u64())
		b = b[8:]
	}
	if len(b) > 0 {
		v := r.u64()
		for i := range b {
			b[i] = byte(v)
			v >>= 8
		}
	}
}

// appendRandom appends n pseudo-random bytes to b.
func (r *rng) appendRandom(b []byte, n int) []byte {
	l := len(b)
	b = grow(b, n)
	r.fill(b[l : l+n])
	return b
}

// grow extends b by n bytes (contents of the new bytes unspecified).
func grow(b []byte, n int) []byte {
	l := len(b)
	if cap(b)-l < n {
		nb := make([]byte, l, 2*cap(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:l+n]
}

func pick[T any](r *rng, s []T) T { return s[r.intn(len(s))] }
