package hl7

import (
	"unsafe"

	"github.com/medtap/medtap/parsers/parser"
)

// An event's Message, its PHI values and the text every value points into
// are allocated together, in one block: an event takes one allocation.
// Blocks come in a few sizes, each filling a heap size class, so that an
// event takes what it needs: the fresh memory it writes is most of what
// building it costs. Events larger than the largest block allocate their
// PHI values or text apart.
//
// Once the event is written, the pipeline releases it (Message.Release)
// and the block goes back to its worker's pool for a later message: at
// one message a millisecond per connection, fresh blocks were most of what
// the HL7 parser allocated, and what the collector then had to sweep.

// blockHead is the start of every block: the message, then the pool its
// Release puts the block back into.
type blockHead struct {
	msg  Message
	pool *shared
}

// blockOf is a block with room for PHI values P ([n]PHIValue) and text T
// ([n]byte). The event's strings are views of text (unsafe.String): the
// block is not written while the event is out, and the strings keep it
// alive.
type blockOf[P, T any] struct {
	blockHead
	phi  P
	text T
}

// newBlockOf allocates a block.
func newBlockOf[P, T any]() *blockHead { return &new(blockOf[P, T]).blockHead }

// partsOf gives the PHI values and text of a block allocated by
// newBlockOf[P, T].
func partsOf[P, T any](h *blockHead) ([]PHIValue, []byte) {
	b := (*blockOf[P, T])(unsafe.Pointer(h))
	phi := unsafe.Slice((*PHIValue)(unsafe.Pointer(&b.phi)), unsafe.Sizeof(b.phi)/unsafe.Sizeof(PHIValue{}))
	text := unsafe.Slice((*byte)(unsafe.Pointer(&b.text)), unsafe.Sizeof(b.text))
	return phi, text
}

// blockSize describes one size of block.
type blockSize struct {
	phi, text int // room
	size      int // the heap size class it fills
	alloc     func() *blockHead
	parts     func(*blockHead) ([]PHIValue, []byte)
}

// numBlockSizes is how many sizes of block there are.
const numBlockSizes = 8

// blockSizes lists the blocks, smallest first. Message is 544 bytes and
// PHIValue 48 on 64-bit platforms, the head adds the pool pointer, and the
// heap keeps an 8-byte header in such objects; TestBlockSizes checks each
// block fills its size class.
var blockSizes = [numBlockSizes]blockSize{
	{0, 208, 768, newBlockOf[[0]PHIValue, [208]byte], partsOf[[0]PHIValue, [208]byte]},
	{4, 144, 896, newBlockOf[[4]PHIValue, [144]byte], partsOf[[4]PHIValue, [144]byte]},
	{6, 176, 1024, newBlockOf[[6]PHIValue, [176]byte], partsOf[[6]PHIValue, [176]byte]},
	{8, 208, 1152, newBlockOf[[8]PHIValue, [208]byte], partsOf[[8]PHIValue, [208]byte]},
	{9, 288, 1280, newBlockOf[[9]PHIValue, [288]byte], partsOf[[9]PHIValue, [288]byte]},
	{10, 368, 1408, newBlockOf[[10]PHIValue, [368]byte], partsOf[[10]PHIValue, [368]byte]},
	{12, 400, 1536, newBlockOf[[12]PHIValue, [400]byte], partsOf[[12]PHIValue, [400]byte]},
	{16, 720, 2048, newBlockOf[[16]PHIValue, [720]byte], partsOf[[16]PHIValue, [720]byte]},
}

// maxPooledBlockBytes bounds the released blocks a worker keeps. About a
// merge round's worth of messages come back at once, and the worker takes
// them during the next.
const maxPooledBlockBytes = 2 << 20

// block gives the smallest block with room for nphi PHI values and text
// bytes, or the largest: the latest released one of that size, else a new
// one. Its message is zero but for the block's marks. A released block
// keeps its text (and the side allocations its message points to) until
// it is taken again, as freed memory would.
func (sh *shared) block(nphi, text int) (*Message, []PHIValue, []byte) {
	c := len(blockSizes) - 1
	for i := range blockSizes[:c] {
		if nphi <= blockSizes[i].phi && text <= blockSizes[i].text {
			c = i
			break
		}
	}
	bs := &blockSizes[c]
	var h *blockHead
	if free := sh.blocks[c]; len(free) > 0 {
		h = free[len(free)-1]
		free[len(free)-1] = nil
		sh.blocks[c] = free[:len(free)-1]
		sh.blockBytes -= bs.size
		// Cleared here, not at Release: the block is written next
		// anyway, so its lines are fetched once.
		h.msg = Message{class: uint8(c), inBlock: true}
	} else {
		h = bs.alloc()
		h.pool = sh
		h.msg.class, h.msg.inBlock = uint8(c), true
	}
	phi, txt := bs.parts(h)
	return &h.msg, phi, txt
}

// Release implements parser.Reusable: the message's block goes back to
// the pool of the worker that built it, unless the pool is full.
func (m *Message) Release() {
	if !m.inBlock {
		return
	}
	h := (*blockHead)(unsafe.Pointer(m))
	c := m.class
	bs := &blockSizes[c]
	if parser.PoisonReleased.Load() {
		_, text := bs.parts(h)
		for i := range text {
			text[i] = 'X'
		}
		*m = Message{class: c, inBlock: true}
	}
	sh := h.pool
	if sh.blockBytes+bs.size > maxPooledBlockBytes {
		return
	}
	sh.blocks[c] = append(sh.blocks[c], h)
	sh.blockBytes += bs.size
}
