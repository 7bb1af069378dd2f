package carve

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/medtap/medtap/sensor/capture"
)

// pcap file format constants (classic libpcap, nanosecond variant, written
// little-endian).
const (
	pcapMagicNanos = 0xa1b23c4d
	pcapVersionMaj = 2
	pcapVersionMin = 4
	pcapSnapLen    = capture.MaxSnapLen
)

type pcapWriter struct {
	w   *bufio.Writer
	hdr [16]byte
}

func newPcapWriter(w io.Writer, link uint32) (*pcapWriter, error) {
	pw := &pcapWriter{w: bufio.NewWriterSize(w, 64<<10)}
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], pcapMagicNanos)
	binary.LittleEndian.PutUint16(h[4:], pcapVersionMaj)
	binary.LittleEndian.PutUint16(h[6:], pcapVersionMin)
	binary.LittleEndian.PutUint32(h[16:], pcapSnapLen)
	binary.LittleEndian.PutUint32(h[20:], link)
	if _, err := pw.w.Write(h[:]); err != nil {
		return nil, fmt.Errorf("carve: write pcap header: %w", err)
	}
	return pw, nil
}

func (pw *pcapWriter) write(p capture.Packet) error {
	sec, ns := p.TS/1e9, p.TS%1e9
	if ns < 0 {
		sec, ns = sec-1, ns+1e9
	}
	wire := p.WireLen
	if wire < uint32(len(p.Data)) {
		wire = uint32(len(p.Data))
	}
	binary.LittleEndian.PutUint32(pw.hdr[0:], uint32(sec))
	binary.LittleEndian.PutUint32(pw.hdr[4:], uint32(ns))
	binary.LittleEndian.PutUint32(pw.hdr[8:], uint32(len(p.Data)))
	binary.LittleEndian.PutUint32(pw.hdr[12:], wire)
	if _, err := pw.w.Write(pw.hdr[:]); err != nil {
		return fmt.Errorf("carve: write packet: %w", err)
	}
	if _, err := pw.w.Write(p.Data); err != nil {
		return fmt.Errorf("carve: write packet: %w", err)
	}
	return nil
}

func (pw *pcapWriter) flush() error {
	if err := pw.w.Flush(); err != nil {
		return fmt.Errorf("carve: write pcap: %w", err)
	}
	return nil
}
