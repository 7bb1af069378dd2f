package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/klauspost/compress/zstd"
)

// sample is a capture made with DCMTK storescu to storescp on loopback
// (pcaps/README.md).
const sample = "../../pcaps/dicom-store.pcap"

func readAll(t *testing.T, path string) ([]Packet, error) {
	t.Helper()
	r, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []Packet
	for {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		p.Data = append([]byte(nil), p.Data...)
		out = append(out, p)
	}
}

// rewrite writes packets with gopacket's pcapgo writers (an independent
// encoder) in the named format.
func rewrite(t *testing.T, pkts []Packet, format string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x."+format)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	var w io.Writer = f
	var gz io.WriteCloser
	switch {
	case strings.HasSuffix(format, ".gz"):
		gz = gzip.NewWriter(f)
		w = gz
	case strings.HasSuffix(format, ".zst"):
		// A small window makes small blocks: a cut file still holds
		// whole ones.
		zw, err := zstd.NewWriter(f, zstd.WithWindowSize(4<<10))
		if err != nil {
			t.Fatal(err)
		}
		gz, w = zw, zw
	}
	switch {
	case strings.HasPrefix(format, "pcapng"):
		ng, err := pcapgo.NewNgWriter(w, layers.LinkTypeEthernet)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pkts {
			ci := gopacket.CaptureInfo{Timestamp: time.Unix(0, p.TS), CaptureLength: len(p.Data), Length: int(p.WireLen), InterfaceIndex: 0}
			if err := ng.WritePacket(ci, p.Data); err != nil {
				t.Fatal(err)
			}
		}
		if err := ng.Flush(); err != nil {
			t.Fatal(err)
		}
	default:
		pw := pcapgo.NewWriterNanos(w)
		if err := pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
			t.Fatal(err)
		}
		for _, p := range pkts {
			ci := gopacket.CaptureInfo{Timestamp: time.Unix(0, p.TS), CaptureLength: len(p.Data), Length: int(p.WireLen)}
			if err := pw.WritePacket(ci, p.Data); err != nil {
				t.Fatal(err)
			}
		}
	}
	if gz != nil {
		gz.Close()
	}
	f.Close()
	return path
}

func TestFormatsAgree(t *testing.T) {
	want, err := readAll(t, sample)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 {
		t.Fatal("no packets in sample")
	}
	for _, format := range []string{"pcap", "pcap.gz", "pcapng", "pcapng.gz", "pcap.zst", "pcapng.zst"} {
		t.Run(format, func(t *testing.T) {
			got, err := readAll(t, rewrite(t, want, format))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d packets, want %d", len(got), len(want))
			}
			for i := range got {
				if !bytes.Equal(got[i].Data, want[i].Data) || got[i].TS != want[i].TS || got[i].WireLen != want[i].WireLen || got[i].Link != 1 {
					t.Fatalf("packet %d differs: ts %d/%d len %d/%d", i, got[i].TS, want[i].TS, len(got[i].Data), len(want[i].Data))
				}
			}
		})
	}
}

func TestBigEndianPcap(t *testing.T) {
	var b bytes.Buffer
	hdr := make([]byte, 24)
	binary.BigEndian.PutUint32(hdr[0:], pcapMagicMicro)
	binary.BigEndian.PutUint16(hdr[4:], 2)
	binary.BigEndian.PutUint16(hdr[6:], 4)
	binary.BigEndian.PutUint32(hdr[16:], 65535)
	binary.BigEndian.PutUint32(hdr[20:], 101)
	b.Write(hdr)
	rec := make([]byte, 16)
	binary.BigEndian.PutUint32(rec[0:], 10)
	binary.BigEndian.PutUint32(rec[4:], 250)
	binary.BigEndian.PutUint32(rec[8:], 3)
	binary.BigEndian.PutUint32(rec[12:], 3)
	b.Write(rec)
	b.WriteString("abc")
	path := filepath.Join(t.TempDir(), "be.pcap")
	os.WriteFile(path, b.Bytes(), 0o644)
	pkts, err := readAll(t, path)
	if err != nil || len(pkts) != 1 || string(pkts[0].Data) != "abc" || pkts[0].TS != 10e9+250e3 || pkts[0].Link != 101 {
		t.Fatalf("got %+v, %v", pkts, err)
	}
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestErrorsNameFileAndOffset(t *testing.T) {
	orig, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	pkts, _ := readAll(t, sample)
	ng, _ := os.ReadFile(rewrite(t, pkts, "pcapng"))
	// The first enhanced packet block in pcapgo's output follows the
	// section header and one interface block.
	shbLen := binary.LittleEndian.Uint32(ng[4:8])
	idbLen := binary.LittleEndian.Uint32(ng[shbLen+4:])
	epb := int(shbLen + idbLen)
	corrupt := append([]byte(nil), ng...)
	binary.LittleEndian.PutUint32(corrupt[epb+4:], 13)

	unknownLink := append([]byte(nil), orig[:24]...)
	binary.LittleEndian.PutUint32(unknownLink[20:], 147)

	cases := []struct {
		name    string
		data    []byte
		packets int // read before the error
		want    []string
	}{
		{"truncated record", orig[:len(orig)-10], len(pkts) - 1, []string{"truncated record", "offset "}},
		{"truncated header", orig[:20], 0, []string{"truncated file header", "offset 0"}},
		{"corrupt pcapng block", corrupt, 0, []string{"corrupt block", "offset " + strconv.Itoa(epb+4)}},
		{"unknown link type", unknownLink, 0, []string{"unsupported link type 147", "offset 20"}},
		{"not a capture", []byte("hello, this is text\n"), 0, []string{"not a pcap, pcapng, gzip or zstd file"}},
		{"empty", nil, 0, []string{"empty file"}},
		{"record length over limit", append(append([]byte(nil), orig[:24]...), 1, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0), 0, []string{"exceeds limit", "offset 24"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, "bad.pcap", c.data)
			got, err := readAll(t, path)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, path) && !strings.Contains(msg, path) {
				t.Errorf("error does not name the file: %s", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			if len(got) != c.packets {
				t.Errorf("read %d packets before the error, want %d", len(got), c.packets)
			}
		})
	}
}

func TestExpand(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755)
	for _, n := range []string{"a/x.pcap", "a/b/y.pcapng.gz", "a/notes.txt", "z.cap"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	explicit := filepath.Join(dir, "a", "notes.txt")
	files, errs := Expand([]string{dir, explicit, filepath.Join(dir, "missing.pcap")})
	want := []string{filepath.Join(dir, "a/b/y.pcapng.gz"), filepath.Join(dir, "a/x.pcap"), filepath.Join(dir, "z.cap"), explicit}
	if strings.Join(files, ",") != strings.Join(want, ",") {
		t.Errorf("files\n got %v\nwant %v", files, want)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "missing.pcap") {
		t.Errorf("errs %v", errs)
	}
}

func TestReadDoesNotAllocate(t *testing.T) {
	r, err := Open(sample)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.Next() // the first chunk
	n := testing.AllocsPerRun(20, func() {
		if _, err := r.Next(); err != nil {
			t.Skip("sample too short")
		}
	})
	if n != 0 {
		t.Errorf("%.1f allocations per packet", n)
	}
}

func FuzzReader(f *testing.F) {
	orig, err := os.ReadFile(sample)
	if err == nil {
		f.Add(orig[:min(len(orig), 2000)])
	}
	f.Add([]byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0})
	for _, compressed := range []string{sample + ".gz", sample + ".zst"} {
		if b, err := os.ReadFile(compressed); err == nil {
			f.Add(b)
		}
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		// Go's fuzzer has no time limit per input: a reader looping on
		// some file would only show as a stall, which its status line
		// cannot tell from a worker's long batch (it counts a batch's
		// executions when the batch ends, and shows 0/sec until then).
		// The watchdog makes a hang a crash, its input saved.
		hang := time.AfterFunc(5*time.Second, func() {
			buf := make([]byte, 1<<20)
			panic("FuzzReader: input still being read after 5 s\n" + string(buf[:runtime.Stack(buf, true)]))
		})
		defer hang.Stop()
		path := filepath.Join(dir, "f.pcap")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := Open(path)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) && !strings.Contains(err.Error(), "gzip") && !strings.Contains(err.Error(), "zstd") {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			return
		}
		defer r.Close()
		for i := 0; i < 10000; i++ {
			p, err := r.Next()
			if err != nil {
				return
			}
			if len(p.Data) > MaxSnapLen {
				t.Fatalf("packet of %d bytes over the limit", len(p.Data))
			}
		}
	})
}

func TestOpenSharedEveryReaderSeesEveryPacket(t *testing.T) {
	want, err := readAll(t, sample)
	if err != nil {
		t.Fatal(err)
	}
	// Repeat the packets so the compressed stream spans several broadcast
	// chunks.
	var many []Packet
	for len(many)*1500 < 3*chunkSize {
		many = append(many, want...)
	}
	for _, format := range []string{"pcap", "pcapng.gz"} {
		t.Run(format, func(t *testing.T) {
			path := rewrite(t, many, format)
			rs, err := OpenShared(path, 3)
			if err != nil {
				t.Fatal(err)
			}
			// Reader 2 gives up early; the others must not stall.
			rs[2].Next()
			rs[2].Close()
			var wg sync.WaitGroup
			counts := make([]int, 2)
			for i := 0; i < 2; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					defer rs[i].Close()
					for n := 0; ; n++ {
						p, err := rs[i].Next()
						if err != nil {
							counts[i] = n
							return
						}
						if w := many[n]; !bytes.Equal(p.Data, w.Data) || p.TS != w.TS {
							t.Errorf("reader %d packet %d differs", i, n)
							return
						}
					}
				}(i)
			}
			wg.Wait()
			for i, c := range counts {
				if c != len(many) {
					t.Errorf("reader %d read %d packets, want %d", i, c, len(many))
				}
			}
		})
	}
}

func TestTruncatedCompressed(t *testing.T) {
	pkts, err := readAll(t, sample)
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"pcap.gz", "pcap.zst"} {
		t.Run(format, func(t *testing.T) {
			whole, _ := os.ReadFile(rewrite(t, pkts, format))
			path := writeFile(t, "cut."+format, whole[:len(whole)/2])
			got, err := readAll(t, path)
			if err == nil {
				t.Fatal("no error")
			}
			if msg := err.Error(); !strings.Contains(msg, path+": offset ") || !strings.Contains(msg, "compressed stream cut short") {
				t.Errorf("error %q should name the file, the offset and the cut compressed stream", msg)
			}
			if len(got) == 0 || len(got) >= len(pkts) {
				t.Errorf("read %d of %d packets before the error", len(got), len(pkts))
			}
		})
	}
}

// TestZstdFromTool reads the capture the zstd tool compressed
// (pcaps/make/derived.sh), and the same behind a skippable frame, which
// is how pzstd starts its files: the same packets as the plain file.
func TestZstdFromTool(t *testing.T) {
	want, err := readAll(t, sample)
	if err != nil {
		t.Fatal(err)
	}
	zst, err := os.ReadFile(sample + ".zst")
	if err != nil {
		t.Fatal(err)
	}
	// Skippable frame 0x184D2A50 with 4 bytes of user data (pzstd puts
	// the next frame's size there).
	skip := binary.LittleEndian.AppendUint32([]byte{0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0}, uint32(len(zst)))
	for name, path := range map[string]string{
		"zstd":  sample + ".zst",
		"pzstd": writeFile(t, "p.pcap.zst", append(skip, zst...)),
	} {
		got, err := readAll(t, path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d packets, want %d", name, len(got), len(want))
		}
		for i := range got {
			if !bytes.Equal(got[i].Data, want[i].Data) || got[i].TS != want[i].TS {
				t.Fatalf("%s: packet %d differs", name, i)
			}
		}
	}
}

// TestZstdWindowLimit: a zstd frame that asks for a window over
// MaxZstdWindow is refused when the file is opened, with the size and the
// way out, before anything is allocated for it.
func TestZstdWindowLimit(t *testing.T) {
	for _, c := range []struct {
		name  string
		frame []byte
		want  string
	}{
		// Magic, a frame header descriptor with no optional fields, a
		// window descriptor of exponent 18 (2^28 = 256 MiB), and an
		// empty last raw block.
		{"window", []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 18 << 3, 0x01, 0x00, 0x00}, "256 MiB window"},
		// Exponent 14: 16 MiB, what zstd --ultra -20 uses.
		{"ultra", []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 14 << 3, 0x01, 0x00, 0x00}, "16 MiB window"},
		// Single segment (its window is its content) with a 4-byte
		// content size of 112 MiB.
		{"single segment", []byte{0x28, 0xb5, 0x2f, 0xfd, 0xa0, 0x00, 0x00, 0x00, 0x07, 0x01, 0x00, 0x00}, "112 MiB window"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, "big-window.pcap.zst", c.frame)
			_, err := Open(path)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, want := range []string{path, c.want, "limit of 8 MiB", "zstd -d --memory"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q lacks %q", msg, want)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
		})
	}
}

// TestSmallFileSmallRing: a capture smaller than a chunk is read through
// chunks of its own size, not the 2 MiB ring, with the same packets.
func TestSmallFileSmallRing(t *testing.T) {
	const small = "../../pcaps/dicom-echo.pcap"
	st, err := os.Stat(small)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() >= chunkSize {
		t.Fatalf("%s is %d bytes, not smaller than a chunk", small, st.Size())
	}
	want, err := readAll(t, small)
	if err != nil || len(want) == 0 {
		t.Fatalf("%d packets, %v", len(want), err)
	}
	read := func() (n int, alloc uint64) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r, err := Open(small)
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := r.Next(); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatal(err)
				}
				break
			}
			n++
		}
		r.Close()
		runtime.ReadMemStats(&after)
		return n, after.TotalAlloc - before.TotalAlloc
	}
	n, alloc := read()
	t.Logf("%d packets, %d bytes allocated", n, alloc)
	if n != len(want) {
		t.Fatalf("%d packets, want %d", n, len(want))
	}
	// The file's chunks, with room for the reader's own state: far less
	// than one full-size chunk.
	if limit := uint64(chunksInFlight*(st.Size()+1)) + 64<<10; alloc > limit {
		t.Fatalf("opening and reading a %d-byte capture allocated %d bytes (limit %d)", st.Size(), alloc, limit)
	}
}

// withStdin runs f with os.Stdin reading b through a pipe, as a capture
// piped into medtap would arrive.
func withStdin(t *testing.T, b []byte, f func()) {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		pw.Write(b)
		pw.Close()
	}()
	old := os.Stdin
	os.Stdin = pr
	defer func() { os.Stdin = old; pr.Close() }()
	f()
}

// TestStdin reads every format from a pipe on standard input (Stdin): the
// same packets as from the file, and errors named "stdin".
func TestStdin(t *testing.T) {
	want, err := readAll(t, sample)
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"pcap", "pcapng", "pcap.gz", "pcap.zst"} {
		t.Run(format, func(t *testing.T) {
			b, _ := os.ReadFile(rewrite(t, want, format))
			withStdin(t, b, func() {
				rs, err := OpenShared(Stdin, 2)
				if err != nil {
					t.Fatal(err)
				}
				for k, r := range rs {
					n := 0
					for ; ; n++ {
						p, err := r.Next()
						if errors.Is(err, io.EOF) {
							break
						}
						if err != nil {
							t.Fatal(err)
						}
						if n >= len(want) || !bytes.Equal(p.Data, want[n].Data) || p.TS != want[n].TS {
							t.Fatalf("reader %d: packet %d differs", k, n)
						}
					}
					if n != len(want) || r.Size() != -1 {
						t.Errorf("reader %d: %d packets of %d, size %d", k, n, len(want), r.Size())
					}
					r.Close()
				}
			})
		})
	}
	t.Run("truncated", func(t *testing.T) {
		b, _ := os.ReadFile(sample)
		withStdin(t, b[:len(b)-10], func() {
			r, err := Open(Stdin)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for {
				if _, err = r.Next(); err != nil {
					break
				}
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "stdin: offset ") || !strings.Contains(msg, "truncated record") {
				t.Errorf("error %q", msg)
			}
		})
	})
}

func TestExpandStdinOnce(t *testing.T) {
	files, errs := Expand([]string{Stdin, sample, Stdin})
	if len(files) != 2 || files[0] != Stdin || files[1] != sample {
		t.Errorf("files %q", files)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "standard input given more than once") {
		t.Errorf("errs %v", errs)
	}
}
