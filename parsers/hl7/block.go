package hl7

import "unsafe"

// An event's Message, its PHI values and the text every value points into
// are allocated together, in one block: an event takes one allocation.
// Blocks come in a few sizes, each filling a heap size class, so that an
// event takes what it needs: the fresh memory it writes is most of what
// building it costs. Events larger than the largest block allocate their
// PHI values or text apart.

// blockOf is a block with room for PHI values P ([n]PHIValue) and text T
// ([n]byte). The event's strings are views of text (unsafe.String): the
// block is never written once built, and the strings keep it alive.
type blockOf[P, T any] struct {
	msg  Message
	phi  P
	text T
}

// newBlockOf allocates a block and gives its parts.
func newBlockOf[P, T any]() (*Message, []PHIValue, []byte) {
	b := new(blockOf[P, T])
	phi := unsafe.Slice((*PHIValue)(unsafe.Pointer(&b.phi)), unsafe.Sizeof(b.phi)/unsafe.Sizeof(PHIValue{}))
	text := unsafe.Slice((*byte)(unsafe.Pointer(&b.text)), unsafe.Sizeof(b.text))
	return &b.msg, phi, text
}

// blockSizes lists the blocks, smallest first: their PHI and text room
// and their allocator. Message is 544 bytes and PHIValue 48 on 64-bit
// platforms, and the heap keeps an 8-byte header in such objects;
// TestBlockSizes checks each block fills its size class.
var blockSizes = [...]struct {
	phi, text int
	alloc     func() (*Message, []PHIValue, []byte)
}{
	{0, 216, newBlockOf[[0]PHIValue, [216]byte]},   // 768
	{4, 152, newBlockOf[[4]PHIValue, [152]byte]},   // 896
	{6, 184, newBlockOf[[6]PHIValue, [184]byte]},   // 1024
	{8, 216, newBlockOf[[8]PHIValue, [216]byte]},   // 1152
	{9, 296, newBlockOf[[9]PHIValue, [296]byte]},   // 1280
	{10, 376, newBlockOf[[10]PHIValue, [376]byte]}, // 1408
	{12, 408, newBlockOf[[12]PHIValue, [408]byte]}, // 1536
	{16, 728, newBlockOf[[16]PHIValue, [728]byte]}, // 2048
}

// newBlock allocates the smallest block with room for nphi PHI values and
// text bytes, or the largest.
func newBlock(nphi, text int) (*Message, []PHIValue, []byte) {
	for _, b := range blockSizes[:len(blockSizes)-1] {
		if nphi <= b.phi && text <= b.text {
			return b.alloc()
		}
	}
	return blockSizes[len(blockSizes)-1].alloc()
}
