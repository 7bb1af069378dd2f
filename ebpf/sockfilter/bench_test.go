package sockfilter

import (
	"encoding/binary"
	"os"
	"testing"
)

// benchFrame is an Ethernet/IPv4/TCP frame with payload bytes, as the
// program sees it on a capture socket. BPF_PROG_TEST_RUN strips one
// Ethernet header before running a socket filter (a packet socket's
// filter sees the frame from its MAC header), so a second header goes in
// front, with the same ethertype.
func benchFrame(flags byte, payload int) []byte {
	eth := []byte{0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00}
	f := append(append([]byte(nil), eth...), eth...)
	ip := make([]byte, 20)
	ip[0], ip[8], ip[9] = 0x45, 64, 6
	binary.BigEndian.PutUint16(ip[2:], uint16(40+payload))
	copy(ip[12:], []byte{10, 20, 0, 5})
	copy(ip[16:], []byte{10, 10, 1, 11})
	tcp := make([]byte, 20)
	binary.BigEndian.PutUint16(tcp[0:], 50123)
	binary.BigEndian.PutUint16(tcp[2:], 104)
	tcp[12], tcp[13] = 5<<4, flags
	f = append(append(f, ip...), tcp...)
	return append(f, make([]byte, payload)...)
}

// BenchmarkProgram times the filter in the kernel (BPF_PROG_TEST_RUN, the
// kernel's own loop) on one frame: the per-frame cost it adds to every
// capture socket, without the timing overhead of bpf_stats.
func BenchmarkProgram(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root (BPF)")
	}
	if err := Probe(); err != nil {
		b.Skipf("eBPF unavailable: %v", err)
	}
	for _, bc := range []struct {
		name  string
		cfg   Config
		frame []byte
	}{
		{"count/tcp-data-1448", Config{}, benchFrame(0x18, 1448)},
		{"count/tcp-syn", Config{}, benchFrame(0x02, 0)},
		{"nocount/tcp-data-1448", Config{NoCount: true}, benchFrame(0x18, 1448)},
		{"count+sample/tcp-data-1448", Config{SampleAfter: 1 << 62}, benchFrame(0x18, 1448)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f, err := Load(bc.cfg)
			if err != nil {
				b.Skipf("eBPF unavailable: %v", err)
			}
			defer f.Close()
			b.SetBytes(int64(len(bc.frame) - 14))
			ret, per, err := f.objs.MedtapSockfilter.Benchmark(bc.frame, b.N, b.ResetTimer)
			if err != nil {
				b.Skipf("BPF_PROG_TEST_RUN: %v", err)
			}
			if int(ret) != len(bc.frame)-14 {
				b.Fatalf("verdict %d, want the whole frame (%d)", ret, len(bc.frame)-14)
			}
			b.ReportMetric(float64(per.Nanoseconds()), "kernel-ns/frame")
		})
	}
}
