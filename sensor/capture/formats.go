package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/medtap/medtap/sensor/decode"
)

const (
	pcapMagicMicro   = 0xa1b2c3d4
	pcapMagicNano    = 0xa1b23c4d
	pcapngSHB        = 0x0a0d0d0a
	pcapngByteOrder  = 0x1a2b3c4d
	pcapHeaderLen    = 24
	pcapRecordHdrLen = 16
)

// pcapng block types read; the others are skipped.
const (
	blockIDB = 1
	blockPB  = 2 // obsolete Packet Block
	blockSPB = 3
	blockEPB = 6
)

func newFormatReader(path string, src source) (Reader, error) {
	head, err := src.peek(4)
	if err != nil {
		b := base{path: path, src: src}
		if errors.Is(err, io.EOF) && !b.compressed() {
			return nil, &FormatError{File: path, Msg: "empty file"}
		}
		// A compressed stream cut before the first block ends says so.
		return nil, b.shortRead(0, err, "file too short (%d bytes) for a capture header", len(head))
	}
	le := binary.LittleEndian.Uint32(head)
	be := binary.BigEndian.Uint32(head)
	switch {
	case le == pcapngSHB:
		r := &pcapngReader{base: base{path: path, src: src}}
		if err := r.readSection(); err != nil {
			return nil, err
		}
		return r, nil
	case le == pcapMagicMicro || le == pcapMagicNano:
		return newPcapReader(path, src, binary.LittleEndian, le == pcapMagicNano)
	case be == pcapMagicMicro || be == pcapMagicNano:
		return newPcapReader(path, src, binary.BigEndian, be == pcapMagicNano)
	}
	return nil, &FormatError{File: path, Msg: fmt.Sprintf("%v (magic %08x); medtap reads pcap, pcapng and their .gz and .zst", ErrUnknownFormat, be)}
}

type base struct {
	path string
	src  source
}

func (b *base) Offset() int64 { return b.src.pos() }
func (b *base) Size() int64   { return b.src.size() }
func (b *base) Read() int64   { return b.src.consumed() }
func (b *base) Close() error  { return b.src.close() }
func (b *base) errAt(off int64, format string, args ...any) error {
	return &FormatError{File: b.path, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// shortRead explains a failed peek: a read or decompression error as
// itself, else the truncation described by what.
func (b *base) shortRead(off int64, err error, format string, args ...any) error {
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return b.errAt(off, "read: %v", err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) && b.compressed() {
		return b.errAt(off, "compressed stream cut short; "+format, args...)
	}
	return b.errAt(off, format, args...)
}

func (b *base) compressed() bool {
	cs, ok := b.src.(*chunkSource)
	return ok && cs.err != nil && !errors.Is(cs.err, io.EOF)
}

func checkLink(b *base, off int64, link uint32) error {
	if decode.LinkSupported(link) {
		return nil
	}
	return b.errAt(off, "unsupported link type %d (%s); medtap reads %s", link, decode.LinkName(link), decode.SupportedLinkNames)
}

// pcapReader reads classic libpcap files.
type pcapReader struct {
	base
	order   binary.ByteOrder
	nano    bool
	link    uint32
	snaplen uint32
	// chunks is src when it is the shared chunk ring, for Next's fast
	// path; bigEndian says the file's byte order without an interface call.
	chunks    *chunkSource
	bigEndian bool
}

func newPcapReader(path string, src source, order binary.ByteOrder, nano bool) (Reader, error) {
	r := &pcapReader{base: base{path: path, src: src}, order: order, nano: nano}
	r.chunks, _ = src.(*chunkSource)
	r.bigEndian = order == binary.ByteOrder(binary.BigEndian)
	h, err := src.peek(pcapHeaderLen)
	if err != nil {
		return nil, r.shortRead(0, err, "truncated file header (%d of %d bytes)", len(h), pcapHeaderLen)
	}
	// The top bits of the link field may carry FCS information.
	r.link = order.Uint32(h[20:24]) & 0x0fffffff
	r.snaplen = order.Uint32(h[16:20])
	if err := checkLink(&r.base, 20, r.link); err != nil {
		return nil, err
	}
	src.skip(pcapHeaderLen)
	return r, nil
}

func (r *pcapReader) Next() (Packet, error) {
	// Fast path: the whole record lies in the chunk being walked, which is
	// nearly every record; the general path below handles the rest.
	if cs := r.chunks; cs != nil && cs.cur != nil && cs.cpos >= len(cs.carry) {
		buf := cs.cur.buf[cs.at:]
		if len(buf) >= pcapRecordHdrLen {
			var sec, frac, incl, orig uint32
			if r.bigEndian {
				sec, frac = binary.BigEndian.Uint32(buf[0:4]), binary.BigEndian.Uint32(buf[4:8])
				incl, orig = binary.BigEndian.Uint32(buf[8:12]), binary.BigEndian.Uint32(buf[12:16])
			} else {
				sec, frac = binary.LittleEndian.Uint32(buf[0:4]), binary.LittleEndian.Uint32(buf[4:8])
				incl, orig = binary.LittleEndian.Uint32(buf[8:12]), binary.LittleEndian.Uint32(buf[12:16])
			}
			if need := pcapRecordHdrLen + int(incl); incl <= MaxSnapLen && need <= len(buf) {
				ts := int64(sec) * 1e9
				if r.nano {
					ts += int64(frac)
				} else {
					ts += int64(frac) * 1e3
				}
				cs.at += need
				cs.off += int64(need)
				return Packet{Data: buf[pcapRecordHdrLen:need:need], TS: ts, WireLen: max(orig, incl), Link: r.link}, nil
			}
		}
	}
	off := r.src.pos()
	h, err := r.src.peek(pcapRecordHdrLen)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return Packet{}, io.EOF
		}
		return Packet{}, r.shortRead(off, err, "truncated record header (%d of %d bytes)", len(h), pcapRecordHdrLen)
	}
	sec := r.order.Uint32(h[0:4])
	frac := r.order.Uint32(h[4:8])
	incl := r.order.Uint32(h[8:12])
	orig := r.order.Uint32(h[12:16])
	if incl > MaxSnapLen {
		return Packet{}, r.errAt(off, "record length %d exceeds limit %d (corrupt record)", incl, MaxSnapLen)
	}
	need := pcapRecordHdrLen + int(incl)
	rec, err := r.src.peek(need)
	if err != nil {
		return Packet{}, r.shortRead(off, err, "truncated record: header says %d bytes of data, %d present", incl, max(len(rec)-pcapRecordHdrLen, 0))
	}
	ts := int64(sec) * 1e9
	if r.nano {
		ts += int64(frac)
	} else {
		ts += int64(frac) * 1e3
	}
	if orig < incl {
		orig = incl
	}
	r.src.skip(need)
	return Packet{Data: rec[pcapRecordHdrLen:need:need], TS: ts, WireLen: orig, Link: r.link}, nil
}

// pcapngReader reads pcapng files: sections, interfaces with their own link
// types and time resolutions, enhanced, simple and obsolete packet blocks.
type pcapngReader struct {
	base
	order  binary.ByteOrder
	ifaces []ngIface
}

type ngIface struct {
	link    uint32
	snaplen uint32
	units   uint64 // timestamp units per second
	offset  int64  // seconds added to timestamps
}

// readSection reads a section header block at the current offset.
func (r *pcapngReader) readSection() error {
	off := r.src.pos()
	h, err := r.src.peek(12)
	if err != nil {
		return r.shortRead(off, err, "truncated section header block (%d of 12 bytes)", len(h))
	}
	switch binary.LittleEndian.Uint32(h[8:12]) {
	case pcapngByteOrder:
		r.order = binary.LittleEndian
	default:
		if binary.BigEndian.Uint32(h[8:12]) != pcapngByteOrder {
			return r.errAt(off+8, "bad byte-order magic %08x in section header", binary.BigEndian.Uint32(h[8:12]))
		}
		r.order = binary.BigEndian
	}
	blen := r.order.Uint32(h[4:8])
	if blen < 28 || blen%4 != 0 || blen > MaxBlockLen {
		return r.errAt(off+4, "bad section header block length %d", blen)
	}
	b, err := r.src.peek(int(blen))
	if err != nil {
		return r.shortRead(off, err, "truncated section header block: length %d, %d present", blen, len(b))
	}
	if tail := r.order.Uint32(b[blen-4:]); tail != blen {
		return r.errAt(off+int64(blen)-4, "corrupt block: length %d at start, %d at end", blen, tail)
	}
	r.ifaces = r.ifaces[:0]
	r.src.skip(int(blen))
	return nil
}

func (r *pcapngReader) Next() (Packet, error) {
	for {
		off := r.src.pos()
		h, err := r.src.peek(8)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return Packet{}, io.EOF
			}
			return Packet{}, r.shortRead(off, err, "truncated block header (%d of 8 bytes)", len(h))
		}
		typ := r.order.Uint32(h[0:4])
		if typ == pcapngSHB {
			if err := r.readSection(); err != nil {
				return Packet{}, err
			}
			continue
		}
		blen := r.order.Uint32(h[4:8])
		if blen < 12 || blen%4 != 0 || blen > MaxBlockLen {
			return Packet{}, r.errAt(off+4, "corrupt block: type %d, length %d (must be 12..%d and a multiple of 4)", typ, blen, MaxBlockLen)
		}
		b, err := r.src.peek(int(blen))
		if err != nil {
			return Packet{}, r.shortRead(off, err, "truncated block: type %d, length %d, %d present", typ, blen, len(b))
		}
		if tail := r.order.Uint32(b[blen-4:]); tail != blen {
			return Packet{}, r.errAt(off+int64(blen)-4, "corrupt block: type %d, length %d at start, %d at end", typ, blen, tail)
		}
		body := b[8 : blen-4 : blen-4]
		switch typ {
		case blockIDB:
			if err := r.readIDB(off, body); err != nil {
				return Packet{}, err
			}
		case blockEPB, blockPB:
			p, err := r.readPacketBlock(off, typ, body)
			if err != nil {
				return Packet{}, err
			}
			r.src.skip(int(blen))
			return p, nil
		case blockSPB:
			p, err := r.readSimple(off, body)
			if err != nil {
				return Packet{}, err
			}
			r.src.skip(int(blen))
			return p, nil
		}
		r.src.skip(int(blen))
	}
}

func (r *pcapngReader) readIDB(off int64, body []byte) error {
	if len(body) < 8 {
		return r.errAt(off, "interface description block too short (%d bytes)", len(body))
	}
	if len(r.ifaces) >= MaxInterfaces {
		return r.errAt(off, "more than %d interfaces in one section", MaxInterfaces)
	}
	ifc := ngIface{link: uint32(r.order.Uint16(body[0:2])), snaplen: r.order.Uint32(body[4:8]), units: 1e6}
	opts := body[8:]
	for len(opts) >= 4 {
		code := r.order.Uint16(opts[0:2])
		olen := int(r.order.Uint16(opts[2:4]))
		if code == 0 {
			break
		}
		padded := (olen + 3) &^ 3
		if 4+padded > len(opts) {
			return r.errAt(off, "interface option %d length %d overruns its block", code, olen)
		}
		val := opts[4 : 4+olen]
		switch code {
		case 9: // if_tsresol
			if olen == 1 {
				units, ok := tsUnits(val[0])
				if !ok {
					return r.errAt(off, "unsupported timestamp resolution %#x", val[0])
				}
				ifc.units = units
			}
		case 14: // if_tsoffset
			if olen == 8 {
				ifc.offset = int64(r.order.Uint64(val))
			}
		}
		opts = opts[4+padded:]
	}
	if err := checkLink(&r.base, off+8, ifc.link); err != nil {
		return err
	}
	r.ifaces = append(r.ifaces, ifc)
	return nil
}

// tsUnits decodes if_tsresol: a power of ten, or of two with the top bit.
func tsUnits(v byte) (uint64, bool) {
	exp := uint64(v & 0x7f)
	if v&0x80 != 0 {
		if exp > 63 {
			return 0, false
		}
		return 1 << exp, true
	}
	if exp > 19 {
		return 0, false
	}
	u := uint64(1)
	for i := uint64(0); i < exp; i++ {
		u *= 10
	}
	return u, true
}

func (ifc *ngIface) nanos(ts uint64) int64 {
	sec := ts / ifc.units
	frac := ts % ifc.units
	// frac < units ≤ 1e19 fits, and frac*1e9 may not: scale in two steps
	// when units is large.
	var ns uint64
	if ifc.units <= 1e9 {
		ns = frac * (1e9 / ifc.units)
		if 1e9%ifc.units != 0 {
			ns = frac * 1e9 / ifc.units
		}
	} else {
		ns = frac / (ifc.units / 1e9)
	}
	return (int64(sec)+ifc.offset)*1e9 + int64(ns)
}

func (r *pcapngReader) iface(off int64, id uint32) (*ngIface, error) {
	if int(id) >= len(r.ifaces) {
		return nil, r.errAt(off, "packet names interface %d, but the section describes %d", id, len(r.ifaces))
	}
	return &r.ifaces[id], nil
}

func (r *pcapngReader) readPacketBlock(off int64, typ uint32, body []byte) (Packet, error) {
	if len(body) < 20 {
		return Packet{}, r.errAt(off, "packet block too short (%d bytes)", len(body))
	}
	var id uint32
	if typ == blockPB {
		id = uint32(r.order.Uint16(body[0:2]))
	} else {
		id = r.order.Uint32(body[0:4])
	}
	ifc, err := r.iface(off, id)
	if err != nil {
		return Packet{}, err
	}
	ts := uint64(r.order.Uint32(body[4:8]))<<32 | uint64(r.order.Uint32(body[8:12]))
	capLen := r.order.Uint32(body[12:16])
	orig := r.order.Uint32(body[16:20])
	if capLen > MaxSnapLen || int(capLen) > len(body)-20 {
		return Packet{}, r.errAt(off+20, "packet length %d overruns its block (%d bytes available, limit %d)", capLen, len(body)-20, MaxSnapLen)
	}
	if orig < capLen {
		orig = capLen
	}
	return Packet{Data: body[20 : 20+capLen : 20+capLen], TS: ifc.nanos(ts), WireLen: orig, Link: ifc.link}, nil
}

func (r *pcapngReader) readSimple(off int64, body []byte) (Packet, error) {
	if len(body) < 4 {
		return Packet{}, r.errAt(off, "simple packet block too short (%d bytes)", len(body))
	}
	ifc, err := r.iface(off, 0)
	if err != nil {
		return Packet{}, err
	}
	orig := r.order.Uint32(body[0:4])
	capLen := uint32(len(body) - 4)
	if orig < capLen {
		capLen = orig
	}
	if ifc.snaplen != 0 && capLen > ifc.snaplen {
		capLen = ifc.snaplen
	}
	// Simple packet blocks carry no timestamp.
	return Packet{Data: body[4 : 4+capLen : 4+capLen], TS: 0, WireLen: orig, Link: ifc.link}, nil
}
