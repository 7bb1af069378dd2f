package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

type captureStats struct {
	format         string
	size           int64
	packets, bytes uint64
}

// countCapture counts the packets and captured bytes of a classic pcap or
// pcapng file by walking its record headers.
func countCapture(path string) (captureStats, error) {
	var cs captureStats
	f, err := os.Open(path)
	if err != nil {
		return cs, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil {
		cs.size = fi.Size()
	}
	br := bufio.NewReaderSize(f, 1<<20)
	magic, err := br.Peek(4)
	if err != nil {
		return cs, fmt.Errorf("%s: %w", path, err)
	}
	if binary.LittleEndian.Uint32(magic) == 0x0a0d0d0a {
		cs.format = "pcapng"
		err = countPcapng(br, &cs)
	} else {
		err = countPcap(br, &cs)
	}
	if err != nil {
		return cs, fmt.Errorf("%s: %w", path, err)
	}
	return cs, nil
}

func countPcap(br *bufio.Reader, cs *captureStats) error {
	var gh [24]byte
	if _, err := io.ReadFull(br, gh[:]); err != nil {
		return fmt.Errorf("pcap header: %w", err)
	}
	var bo binary.ByteOrder
	switch binary.LittleEndian.Uint32(gh[:]) {
	case 0xa1b2c3d4:
		bo, cs.format = binary.LittleEndian, "pcap (µs)"
	case 0xa1b23c4d:
		bo, cs.format = binary.LittleEndian, "pcap (ns)"
	case 0xd4c3b2a1:
		bo, cs.format = binary.BigEndian, "pcap (µs, big endian)"
	case 0x4d3cb2a1:
		bo, cs.format = binary.BigEndian, "pcap (ns, big endian)"
	default:
		return errors.New("not a pcap or pcapng file")
	}
	var rh [16]byte
	for {
		if _, err := io.ReadFull(br, rh[:]); err != nil {
			if err == io.EOF {
				return nil
			}
			return fmt.Errorf("record %d: %w", cs.packets+1, err)
		}
		n := bo.Uint32(rh[8:])
		if _, err := br.Discard(int(n)); err != nil {
			return fmt.Errorf("record %d: %w", cs.packets+1, err)
		}
		cs.packets++
		cs.bytes += uint64(n)
	}
}

func countPcapng(br *bufio.Reader, cs *captureStats) error {
	var bo binary.ByteOrder = binary.LittleEndian
	var h [12]byte
	for {
		if _, err := io.ReadFull(br, h[:8]); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		typ := binary.LittleEndian.Uint32(h[:])
		if typ == 0x0a0d0d0a { // section header: learn the byte order
			if _, err := io.ReadFull(br, h[8:12]); err != nil {
				return err
			}
			if binary.LittleEndian.Uint32(h[8:]) == 0x1a2b3c4d {
				bo = binary.LittleEndian
			} else {
				bo = binary.BigEndian
			}
			l := bo.Uint32(h[4:])
			if l < 12 {
				return errors.New("bad pcapng section header")
			}
			if _, err := br.Discard(int(l) - 12); err != nil {
				return err
			}
			continue
		}
		typ = bo.Uint32(h[:])
		l := bo.Uint32(h[4:])
		if l < 12 || l%4 != 0 {
			return fmt.Errorf("bad pcapng block length %d", l)
		}
		rest := int(l) - 8
		switch typ {
		case 6: // enhanced packet: iface, ts hi, ts lo, caplen, origlen
			var b [20]byte
			if _, err := io.ReadFull(br, b[:]); err != nil {
				return err
			}
			cs.packets++
			cs.bytes += uint64(bo.Uint32(b[12:]))
			rest -= 20
		case 3: // simple packet: origlen (captured = min(origlen, block room))
			var b [4]byte
			if _, err := io.ReadFull(br, b[:]); err != nil {
				return err
			}
			cs.packets++
			cs.bytes += uint64(min(bo.Uint32(b[:]), uint32(l-16)))
			rest -= 4
		case 2: // obsolete packet block
			var b [20]byte
			if _, err := io.ReadFull(br, b[:]); err != nil {
				return err
			}
			cs.packets++
			cs.bytes += uint64(bo.Uint32(b[12:]))
			rest -= 20
		}
		if _, err := br.Discard(rest); err != nil {
			return err
		}
	}
}
