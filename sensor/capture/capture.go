// Package capture reads packets from capture files, or from standard
// input: classic pcap (micro- and nanosecond), pcapng, and either of them
// gzip- or zstd-compressed. A file is read once into a bounded ring of
// chunks that several readers (the pipeline's workers) walk in place,
// without a per-packet copy. Every error names the file and the byte
// offset where the problem was found, so a responder can open the file at
// that point.
package capture

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/term"
)

// Packet is one captured frame. Data aliases the reader's buffers and is
// valid only until the next call to Next.
type Packet struct {
	Data    []byte
	TS      int64  // Unix nanoseconds
	WireLen uint32 // length on the wire, ≥ len(Data)
	Link    uint32 // LINKTYPE_* value
}

// Reader yields the packets of one capture file in file order.
type Reader interface {
	// Next returns the next packet, io.EOF at a clean end, or a *FormatError.
	Next() (Packet, error)
	// Offset is the byte offset (in the uncompressed stream) of the next
	// record.
	Offset() int64
	// Size is the file's size on disk, for progress; Read is how many of
	// those bytes have been consumed so far.
	Size() int64
	Read() int64
	Close() error
}

// Limits on what a capture file may declare.
const (
	// MaxSnapLen bounds a record's captured length. Larger claims are
	// corrupt records, not packets.
	MaxSnapLen = 256 * 1024
	// MaxBlockLen bounds a pcapng block (a packet block holds one packet of
	// at most MaxSnapLen plus options).
	MaxBlockLen = MaxSnapLen + 64*1024
	// MaxInterfaces bounds the interface descriptions per pcapng section.
	MaxInterfaces = 4096
)

// FormatError says what is wrong with a capture file and where.
type FormatError struct {
	File   string
	Offset int64
	Msg    string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("%s: offset %d: %s", e.File, e.Offset, e.Msg)
}

// ErrUnknownFormat is wrapped by Open when a file is neither pcap, pcapng,
// gzip nor zstd.
var ErrUnknownFormat = errors.New("not a pcap, pcapng, gzip or zstd file")

// Stdin is the name under which Expand, Open and OpenShared take standard
// input, as tcpdump -r - and tshark -r - do: a capture piped in, in any of
// the formats, read once.
const Stdin = "-"

// stdinName is how errors name standard input.
const stdinName = "stdin"

// Open opens a capture file, detecting its format from its first bytes.
func Open(path string) (Reader, error) {
	rs, err := OpenShared(path, 1)
	if err != nil {
		return nil, err
	}
	return rs[0], nil
}

// OpenShared opens a capture file for n readers that each see every packet,
// from one read (and decompression) of the file. Workers that each keep their own share of the flows
// read this way, without a dispatcher handing packets across cores. Each
// reader is closed on its own.
func OpenShared(path string, n int) ([]Reader, error) {
	if path == Stdin {
		return openStdin(n)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open capture: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open capture: %w", err)
	}
	if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("open capture %s: is a directory (use Expand)", path)
	}
	return openReaders(path, f, st.Size(), n)
}

// openStdin reads a capture from standard input, as a stream whatever it
// is (a pipe, or a file redirected in).
func openStdin(n int) ([]Reader, error) {
	if term.IsTerminal(int(os.Stdin.Fd())) {
		return nil, errors.New("open capture: standard input (-) is a terminal; pipe a capture into it, e.g. tcpdump -w - | medtap analyze -")
	}
	return openReaders(stdinName, os.Stdin, -1, n)
}

// openReaders makes n readers of f, named path in errors; size < 0 reads f
// as a stream of unknown size.
func openReaders(path string, f *os.File, size int64, n int) ([]Reader, error) {
	srcs, err := openSources(f, size, n)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open capture %s: %w", path, err)
	}
	rs := make([]Reader, 0, n)
	for _, src := range srcs {
		r, err := newFormatReader(path, src)
		if err != nil {
			for _, o := range rs {
				o.Close()
			}
			for _, s := range srcs[len(rs):] {
				s.close()
			}
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// captureExts are the names Expand picks up when walking a directory.
var captureExts = []string{".pcap", ".pcapng", ".cap", ".pcap.gz", ".pcapng.gz", ".cap.gz", ".pcap.zst", ".pcapng.zst", ".cap.zst"}

// IsCaptureName reports whether a file name looks like a capture file.
func IsCaptureName(name string) bool {
	n := strings.ToLower(name)
	for _, ext := range captureExts {
		if strings.HasSuffix(n, ext) {
			return true
		}
	}
	return false
}

// Expand turns the command line's files and directories into a list of
// capture files: files are kept as given (whatever their name), and so is
// Stdin (once); directories are walked recursively for names ending in a
// capture extension, sorted for a stable order. Unreadable paths are
// reported in errs, and the rest are still returned.
func Expand(paths []string) (files []string, errs []error) {
	stdin := false
	for _, p := range paths {
		if p == Stdin {
			if stdin {
				errs = append(errs, errors.New("-: standard input given more than once (it can be read only once)"))
				continue
			}
			stdin = true
			files = append(files, p)
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, unwrapPathError(err)))
			continue
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", path, unwrapPathError(err)))
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() && IsCaptureName(d.Name()) {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, errs
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
