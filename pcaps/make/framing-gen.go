//go:build ignore

// framing-gen speaks the two example vendor protocols of
// parsers/framing/builtin (vitalnet and devstat) over real TCP sockets on
// 127.0.0.1, for framing-captures.sh to capture with tcpdump. It encodes
// the frames itself, from the protocol descriptions in the YAML comments,
// without using medtap's code.
//
//	go run framing-gen.go vitalnet|devstat
//
// Each conversation listens on 127.0.0.1:PORT, connects to it, and plays a
// fixed script: every message is one write (a few are written in two
// parts, or two messages in one write) by one side and read whole by the
// other, 15 ms apart, so segmentation is repeatable. All patient data is
// synthetic.
package main

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"os"
	"time"
)

const (
	client = 0
	server = 1
)

// step is one write: by side `by`, of data, optionally cut in two writes at
// split.
type step struct {
	by    int
	data  []byte
	split int
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: framing-gen vitalnet|devstat")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "vitalnet":
		for _, c := range vitalnet() {
			if err = converse(c.port, c.steps); err != nil {
				break
			}
		}
	case "devstat":
		for _, c := range devstat() {
			if err = converse(c.port, c.steps); err != nil {
				break
			}
		}
	default:
		err = fmt.Errorf("unknown protocol %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "framing-gen:", err)
		os.Exit(1)
	}
}

type conversation struct {
	port  int
	steps []step
}

// converse plays steps over one TCP connection on 127.0.0.1:port; the
// client then closes, and the server closes after reading the FIN.
func converse(port int, steps []step) error {
	ln, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return err
	}
	defer ln.Close()
	acc := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(acc)
			return
		}
		acc <- c
	}()
	cc, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		return err
	}
	sc, ok := <-acc
	if !ok {
		return fmt.Errorf("accept failed")
	}
	conns := [2]net.Conn{cc, sc}
	for _, c := range conns {
		c.SetDeadline(time.Now().Add(20 * time.Second))
	}
	time.Sleep(30 * time.Millisecond)
	for i, s := range steps {
		w, r := conns[s.by], conns[1-s.by]
		parts := [][]byte{s.data}
		if s.split > 0 {
			parts = [][]byte{s.data[:s.split], s.data[s.split:]}
		}
		for j, p := range parts {
			if j > 0 {
				time.Sleep(15 * time.Millisecond)
			}
			if _, err := w.Write(p); err != nil {
				return fmt.Errorf("step %d: %w", i, err)
			}
		}
		got := make([]byte, len(s.data))
		if _, err := io.ReadFull(r, got); err != nil {
			return fmt.Errorf("step %d: read: %w", i, err)
		}
		time.Sleep(15 * time.Millisecond)
	}
	cc.Close()
	io.Copy(io.Discard, sc)
	sc.Close()
	time.Sleep(30 * time.Millisecond)
	return nil
}

// ---- vitalnet: 4-byte big-endian length, "VNET", version, type, seq,
// body, CRC-32 of bytes 4 .. end-4 ----

func vn(typ byte, seq uint16, body []byte) []byte {
	f := binary.BigEndian.AppendUint32(nil, uint32(4+1+1+2+len(body)+4))
	f = append(f, "VNET"...)
	f = append(f, 1, typ)
	f = binary.BigEndian.AppendUint16(f, seq)
	f = append(f, body...)
	return binary.BigEndian.AppendUint32(f, crc32.ChecksumIEEE(f[4:]))
}

// pad is s NUL-padded to n bytes.
func pad(s string, n int) []byte {
	b := make([]byte, n)
	copy(b, s)
	return b
}

func hello(seq uint16, serial, model, sw, mfr string) []byte {
	body := append(pad(serial, 16), pad(model, 16)...)
	body = append(body, pad(sw, 8)...)
	return vn(0x01, seq, append(body, pad(mfr, 16)...))
}

func login(seq uint16, user, token string) []byte {
	return vn(0x02, seq, append(pad(user, 16), pad(token, 16)...))
}

// vitals: patient id, name (already GB 18030), birth date as packed BCD
// YYYYMMDD, heart rate, SpO2, NIBP.
func vitals(seq uint16, pid string, name []byte, birth [4]byte, hr uint16, spo2 byte, sys, dia uint16) []byte {
	body := append(pad(pid, 16), pad(string(name), 32)...)
	body = append(body, birth[:]...)
	body = binary.BigEndian.AppendUint16(body, hr)
	body = append(body, spo2)
	body = binary.BigEndian.AppendUint16(body, sys)
	body = binary.BigEndian.AppendUint16(body, dia)
	return vn(0x10, seq, body)
}

func ack(seq, acked uint16) []byte { return vn(0x90, seq, binary.BigEndian.AppendUint16(nil, acked)) }

func setAlarm(seq uint16, param byte, lo, hi uint16) []byte {
	body := binary.BigEndian.AppendUint16([]byte{param}, lo)
	return vn(0x20, seq, binary.BigEndian.AppendUint16(body, hi))
}

// zhangSan is 张三 in GB 18030 (张 D5C5, 三 C8FD): a synthetic name.
var zhangSan = []byte{0xD5, 0xC5, 0xC8, 0xFD}

func vitalnet() []conversation {
	const sw, mfr = "3.2.1", "Medtap Example"
	a := []step{
		{by: client, data: hello(1, "VM8-0001234", "VM-800", sw, mfr)},
		{by: server, data: vn(0x81, 1, nil)},
		{by: client, data: login(2, "ward3", "tok-7f3a9c21")},
		{by: server, data: vn(0x82, 2, nil)},
		{by: client, data: vitals(3, "TEST0003", zhangSan, [4]byte{0x19, 0x49, 0x12, 0x31}, 72, 98, 121, 79)},
		{by: client, data: vitals(4, "TEST0001", []byte("TEST^PATIENT"), [4]byte{0x19, 0x70, 0x01, 0x01}, 64, 97, 118, 76), split: 30},
		{by: server, data: setAlarm(3, 1, 50, 120)},
		{by: client, data: ack(5, 3)},
		{by: server, data: vn(0x21, 4, binary.BigEndian.AppendUint16(nil, 120))},
		{by: client, data: append(vitals(6, "TEST0003", zhangSan, [4]byte{0x19, 0x49, 0x12, 0x31}, 75, 97, 125, 81), ack(7, 4)...)},
	}
	bad := vitals(3, "TEST0001", []byte("TEST^PATIENT"), [4]byte{0x19, 0x70, 0x01, 0x01}, 66, 96, 119, 77)
	bad[len(bad)-1] ^= 0xFF // wrong CRC
	b := []step{
		{by: client, data: hello(1, "VM8-0005678", "VM-800", "3.1.0", mfr)},
		{by: server, data: vn(0x81, 1, nil)},
		{by: client, data: vitals(2, "TEST0001", []byte("TEST^PATIENT"), [4]byte{0x19, 0x70, 0x01, 0x01}, 65, 96, 119, 77)},
		{by: client, data: bad},
		{by: client, data: login(4, "ward3", "wrong-token")},
		{by: server, data: vn(0x83, 2, nil)},
	}
	c := []step{
		{by: client, data: hello(1, "VM5-0000042", "VM-500", "2.0.7", mfr)},
		{by: server, data: vn(0x81, 1, nil)},
		{by: client, data: login(2, "icu1", "tok-11aa22bb")},
		{by: server, data: vn(0x82, 2, nil)},
		{by: client, data: vitals(3, "TEST0002", zhangSan, [4]byte{0x19, 0x49, 0x12, 0x31}, 88, 95, 131, 85)},
	}
	return []conversation{{7001, a}, {7001, b}, {17001, c}}
}

// ---- devstat: STX "DS" '1' type seq(LE) body xor8 ETX, DLE escapes ----

const (
	stx = 0x02
	etx = 0x03
	dle = 0x10
)

func ds(typ byte, seq uint16, body []byte, corrupt bool) []byte {
	f := []byte{'D', 'S', '1', typ}
	f = binary.LittleEndian.AppendUint16(f, seq)
	f = append(f, body...)
	var x byte
	for _, c := range f {
		x ^= c
	}
	if corrupt {
		x ^= 0x5A
	}
	f = append(f, x)
	out := []byte{stx}
	for _, c := range f {
		if c == stx || c == etx || c == dle {
			out = append(out, dle, c^0x20)
		} else {
			out = append(out, c)
		}
	}
	return append(out, etx)
}

func status(seq uint16, serial []byte, fw string, st, battery byte, text string, corrupt bool) []byte {
	body := append(append([]byte{}, serial...), pad(fw, 8)...)
	body = append(body, st, battery)
	return ds(0x01, seq, append(body, text...), corrupt)
}

func setting(seq uint16, id uint16, v uint32) []byte {
	body := binary.LittleEndian.AppendUint16(nil, id)
	return ds(0x02, seq, binary.LittleEndian.AppendUint32(body, v), false)
}

func settingAck(seq uint16, id uint16, result byte) []byte {
	return ds(0x03, seq, append(binary.LittleEndian.AppendUint16(nil, id), result), false)
}

func devstat() []conversation {
	serial := []byte{0x20, 0x25, 0x01, 0x23, 0x00, 0x45} // 202501230045, packed BCD
	text := "MFR=Medtap Example;MODEL=AP-300;PID=TEST0004;"
	a := []step{
		{by: client, data: status(1, serial, "2.4.1", 1, 87, text, false)},
		{by: server, data: ds(0x04, 1, nil, false)},
		// sequence 0x0302 and value 0x00100310 need DLE escapes
		{by: server, data: setting(0x0302, 1, 0x00100310)},
		{by: client, data: settingAck(2, 1, 0)},
		{by: server, data: setting(0x0303, 3, 1767225600)},
		{by: client, data: settingAck(3, 3, 0)},
		{by: client, data: status(4, serial, "2.4.1", 2, 86, text, false), split: 11},
		{by: client, data: status(5, serial, "2.4.1", 2, 86, text, true)},
		{by: client, data: []byte("\r\n")}, // stray bytes between frames
		{by: client, data: ds(0x04, 6, nil, false)},
	}
	b := []step{
		{by: client, data: append(status(1, []byte{0x20, 0x24, 0x11, 0x05, 0x00, 0x07}, "1.9.0", 0, 100, "MFR=Medtap Example;MODEL=AP-200;", false), ds(0x04, 2, nil, false)...)},
		{by: server, data: setting(1, 2, 5)},
		{by: client, data: settingAck(3, 2, 1)},
	}
	return []conversation{{7002, a}, {17002, b}}
}
