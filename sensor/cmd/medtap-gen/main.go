// Command medtap-gen is medtap's bounded traffic generator for the live
// sensor's benchmark: it loads the frames of a capture (for example one
// from `medtap-pcaptool gen`) into memory and sends them, over and over,
// out of an interface with sendmmsg on an AF_PACKET socket, for a fixed
// time and optionally at a fixed rate. It is meant for a veth pair or a lab
// link, never a production network.
//
//	medtap-gen -i veth0 -r mixed.pcap -duration 10s [-pps 500000] [-json]
//
// Needs CAP_NET_RAW.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/medtap/medtap/sensor/capture"
	"github.com/medtap/medtap/sensor/decode"
)

// Limits of what is loaded and sent.
const (
	// MaxLoadBytes bounds the frame data held in memory.
	MaxLoadBytes = 512 << 20
	// MaxBatch bounds the frames per sendmmsg call.
	MaxBatch = 1024
	// MaxDuration bounds a run.
	MaxDuration = 10 * time.Minute
)

// Result is what a run did.
type Result struct {
	Frames   uint64  `json:"frames"`
	Bytes    uint64  `json:"bytes"`
	Errors   uint64  `json:"send_errors"`
	Seconds  float64 `json:"seconds"`
	PPS      float64 `json:"pps"`
	Gbps     float64 `json:"gbit_per_s"`
	Loaded   int     `json:"frames_loaded"`
	Skipped  int     `json:"frames_skipped"`
	CPUUser  float64 `json:"cpu_user_s"`
	CPUSys   float64 `json:"cpu_sys_s"`
	Interval string  `json:"interval"`
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("medtap-gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	iface := fs.String("i", "", "send out of interface `IF`")
	file := fs.String("r", "", "capture `FILE` whose Ethernet frames are sent (pcap or pcapng, also .gz or .zst)")
	dur := fs.Duration("duration", 10*time.Second, "how long to send")
	pps := fs.Int("pps", 0, "frames per second (0: as fast as possible)")
	batch := fs.Int("batch", 256, "frames per sendmmsg call")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	switch {
	case *iface == "" || *file == "":
		fmt.Fprintln(stderr, "medtap-gen: give -i IF and -r FILE")
		return 2
	case *dur <= 0 || *dur > MaxDuration:
		fmt.Fprintf(stderr, "medtap-gen: -duration %v: want 1ns to %v\n", *dur, MaxDuration)
		return 2
	case *batch < 1 || *batch > MaxBatch:
		fmt.Fprintf(stderr, "medtap-gen: -batch %d: want 1 to %d\n", *batch, MaxBatch)
		return 2
	case *pps < 0:
		fmt.Fprintln(stderr, "medtap-gen: -pps must be ≥ 0")
		return 2
	}
	ifi, err := net.InterfaceByName(*iface)
	if err != nil {
		fmt.Fprintf(stderr, "medtap-gen: interface %q: %v\n", *iface, err)
		return 1
	}
	frames, skipped, err := load(*file, ifi.MTU+14)
	if err != nil {
		fmt.Fprintf(stderr, "medtap-gen: %v\n", err)
		return 1
	}
	if len(frames) == 0 {
		fmt.Fprintf(stderr, "medtap-gen: %s: no Ethernet frames of at most MTU size to send\n", *file)
		return 1
	}
	res, err := send(ifi, frames, *dur, *pps, *batch)
	if err != nil {
		fmt.Fprintf(stderr, "medtap-gen: %v\n", err)
		return 1
	}
	res.Loaded, res.Skipped = len(frames), skipped
	if *asJSON {
		b, _ := json.Marshal(res)
		fmt.Fprintln(stdout, string(b))
	} else {
		fmt.Fprintf(stdout, "sent %d frames, %d bytes in %.2fs: %.0f pps, %.2f Gbit/s, %d send errors (cpu user %.2fs sys %.2fs)\n",
			res.Frames, res.Bytes, res.Seconds, res.PPS, res.Gbps, res.Errors, res.CPUUser, res.CPUSys)
	}
	return 0
}

// load reads the capture's Ethernet frames no longer than maxLen into one
// arena.
func load(path string, maxLen int) (frames [][]byte, skipped int, err error) {
	r, err := capture.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer r.Close()
	var arena []byte
	var offs [][2]int
	for {
		pk, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, err
		}
		if pk.Link != decode.LinkEthernet || len(pk.Data) > maxLen || len(pk.Data) < 14 || uint32(len(pk.Data)) != pk.WireLen {
			skipped++
			continue
		}
		if len(arena)+len(pk.Data) > MaxLoadBytes {
			break
		}
		offs = append(offs, [2]int{len(arena), len(arena) + len(pk.Data)})
		arena = append(arena, pk.Data...)
	}
	frames = make([][]byte, len(offs))
	for i, o := range offs {
		frames[i] = arena[o[0]:o[1]:o[1]]
	}
	return frames, skipped, nil
}

func send(ifi *net.Interface, frames [][]byte, dur time.Duration, pps, batch int) (*Result, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("AF_PACKET socket: %w (needs CAP_NET_RAW)", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Ifindex: ifi.Index, Protocol: 0}); err != nil {
		return nil, fmt.Errorf("bind to %s: %w", ifi.Name, err)
	}
	// Straight to the driver: the generator measures the receiver, not
	// the sender's queueing discipline.
	_ = unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1)
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 8<<20)

	iov := make([]unix.Iovec, batch)
	msgs := make([]unix.Mmsghdr, batch)
	for i := range msgs {
		msgs[i].Hdr.Iov = &iov[i]
		msgs[i].Hdr.SetIovlen(1)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(stop)

	var ru0, ru1 unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_SELF, &ru0)
	res := &Result{Interval: dur.String()}
	start := time.Now()
	end := start.Add(dur)
	next := 0
	for n := 0; ; n++ {
		if n%64 == 0 {
			now := time.Now()
			if !now.Before(end) {
				break
			}
			select {
			case <-stop:
				end = now
			default:
			}
			if pps > 0 {
				// Keep to the schedule: frames sent so far at pps.
				due := start.Add(time.Duration(float64(res.Frames) / float64(pps) * float64(time.Second)))
				if d := due.Sub(now); d > 0 {
					time.Sleep(d)
				}
			}
		}
		k := batch
		if pps > 0 {
			k = min(batch, max(1, pps/1000))
		}
		for i := 0; i < k; i++ {
			f := frames[next]
			next++
			if next == len(frames) {
				next = 0
			}
			iov[i].Base = &f[0]
			iov[i].SetLen(len(f))
		}
		sent, _, e := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&msgs[0])), uintptr(k), 0, 0, 0)
		if e != 0 {
			if e == unix.ENOBUFS || e == unix.EAGAIN || e == unix.EINTR {
				res.Errors++
				continue
			}
			return nil, fmt.Errorf("sendmmsg on %s: %w", ifi.Name, e)
		}
		for i := 0; i < int(sent); i++ {
			res.Frames++
			res.Bytes += uint64(msgs[i].Len)
		}
	}
	el := time.Since(start)
	_ = unix.Getrusage(unix.RUSAGE_SELF, &ru1)
	res.Seconds = el.Seconds()
	res.PPS = float64(res.Frames) / res.Seconds
	res.Gbps = float64(res.Bytes) * 8 / res.Seconds / 1e9
	res.CPUUser = tv(ru1.Utime) - tv(ru0.Utime)
	res.CPUSys = tv(ru1.Stime) - tv(ru0.Stime)
	return res, nil
}

func tv(t unix.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
