package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/medtap/medtap/ebpf/sockfilter"
	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/sensor/live"
	"github.com/medtap/medtap/sensor/metrics"
	"github.com/medtap/medtap/sensor/output"
	"github.com/medtap/medtap/sensor/pipeline"
)

// vlanList is a repeatable, comma-separated list of VLAN ids.
type vlanList []uint16

func (l *vlanList) String() string {
	var b strings.Builder
	for i, v := range *l {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(int(v)))
	}
	return b.String()
}

func (l *vlanList) Set(s string) error {
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 1 || v > sockfilter.MaxVLAN {
			return fmt.Errorf("VLAN id %q: want 1 to %d", f, sockfilter.MaxVLAN)
		}
		*l = append(*l, uint16(v))
	}
	return nil
}

// netList is a repeatable, comma-separated list of networks.
type netList []netip.Prefix

func (l *netList) String() string {
	var b strings.Builder
	for i, p := range *l {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

func (l *netList) Set(s string) error {
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return fmt.Errorf("network %q: want CIDR like 10.20.0.0/16 or an address", f)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		*l = append(*l, p.Masked())
	}
	return nil
}

// runLive is `medtap run`: live capture until SIGINT or SIGTERM.
func runLive(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf sessionFlags
	sf.register(fs, "output `DIR` for events.jsonl and alerts.jsonl, put in place at shutdown (default: events and alerts to stdout as they come)")
	var ifaces fileList
	var ignoreVLANs vlanList
	var ignoreNets netList
	fs.Var(&ifaces, "interface", "capture `IF` (a SPAN or TAP port); repeatable: socket i of every interface feeds worker i")
	fs.StringVar(&sf.listen, "listen", metrics.DefaultAddr, "serve Prometheus metrics (/metrics, /healthz, /readyz) on `ADDR`; empty: no server")
	blockSize := fs.Int("block-size", live.DefaultBlockSize, "capture ring block `BYTES` (a power of two, 128 KiB to 16 MiB)")
	blockCount := fs.Int("block-count", live.DefaultBlockCount, "capture ring blocks per socket (ring = blocks × block size, per worker and interface)")
	blockTimeout := fs.Duration("block-timeout", live.DefaultBlockTimeout, "hand a partly filled block over after this long (latency at low rates)")
	noPromisc := fs.Bool("no-promisc", false, "do not put the interfaces in promiscuous mode")
	ebpfMode := fs.String("ebpf", "auto", "eBPF socket filter and kernel counters: auto (use when the kernel and privileges allow), on (fail without), off")
	fs.Var(&ignoreVLANs, "ignore-vlan", "do not capture frames on these VLAN `IDS` (comma-separated, repeatable; dropped in the kernel by the eBPF filter)")
	fs.Var(&ignoreNets, "ignore-net", "do not capture frames from or to these `CIDRS` (comma-separated, repeatable; dropped in the kernel by the eBPF filter)")
	sampleAfter := fs.Uint64("sample-after", 0, "bulk sampling: keep a TCP flow's first `BYTES` of payload whole, then capture only its headers (0: off; needs eBPF). HL7, ASTM and declared-framing flows are never cut")
	keepCaps := fs.Bool("keep-caps", false, "keep capabilities after opening the sockets (default: drop all but CAP_BPF)")
	quiet := fs.Bool("q", false, "no summary at shutdown")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: medtap run --interface IF [--interface IF2] [flags]\n\nCaptures live traffic from a mirror (SPAN) or TAP interface, analyzes it like\n'medtap analyze' and serves metrics, until SIGINT or SIGTERM.\nNeeds CAP_NET_RAW, and CAP_BPF (or CAP_SYS_ADMIN) for the eBPF filter.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "medtap run: unexpected argument %q; interfaces are given with --interface\n", fs.Arg(0))
		return exitUsage
	}
	if err := sf.validate(); err != nil { // loads --config, which may name the interfaces
		fmt.Fprintf(stderr, "medtap run: %v\n", err)
		return exitUsage
	}
	if len(ifaces) == 0 {
		fmt.Fprintln(stderr, "medtap run: no interface given; use --interface IF (see `ip link`) or capture.interfaces in --config")
		return exitUsage
	}
	switch *ebpfMode {
	case "auto", "on", "off":
	default:
		fmt.Fprintf(stderr, "medtap run: --ebpf %q: use auto, on or off\n", *ebpfMode)
		return exitUsage
	}
	wantsFilter := len(ignoreVLANs) > 0 || len(ignoreNets) > 0 || *sampleAfter > 0
	if wantsFilter && *ebpfMode == "off" {
		fmt.Fprintln(stderr, "medtap run: --ignore-vlan, --ignore-net and --sample-after need the eBPF filter; drop --ebpf off")
		return exitUsage
	}
	lcfg := live.Config{
		Interfaces: ifaces, Workers: sf.workers,
		BlockSize: *blockSize, BlockCount: *blockCount, BlockTimeout: *blockTimeout,
		NoPromisc: *noPromisc,
	}

	s, err := newSession("medtap run", sf)
	if err != nil {
		fmt.Fprintf(stderr, "medtap run: %v\n", oneLine(err))
		return exitFailure
	}
	defer s.close()

	var filter *sockfilter.Filter
	if *ebpfMode != "off" {
		filter, err = sockfilter.Load(sockfilter.Config{IgnoreVLANs: ignoreVLANs, IgnoreNets: ignoreNets, SampleAfter: *sampleAfter})
		switch {
		case err == nil:
			defer filter.Close()
			lcfg.FilterFD = filter.FD()
		case errors.Is(err, sockfilter.ErrUnsupported) && *ebpfMode == "auto" && !wantsFilter:
			fmt.Fprintf(stderr, "medtap run: eBPF not available (%v); capturing with plain AF_PACKET, without kernel counters\n", oneLine(err))
		default:
			fmt.Fprintf(stderr, "medtap run: %v\n", oneLine(err))
			return exitFailure
		}
	}
	capt, err := live.Open(lcfg)
	if err != nil {
		fmt.Fprintf(stderr, "medtap run: %v\n", oneLine(err))
		return exitFailure
	}
	closed := false
	closeCapture := func() {
		if !closed {
			closed = true
			if err := capt.Close(); err != nil {
				fmt.Fprintf(stderr, "medtap run: closing the capture: %v\n", err)
			}
		}
	}
	defer closeCapture()
	for _, w := range capt.Warnings {
		fmt.Fprintf(stderr, "medtap run: warning: %s\n", w)
	}

	var stopMetrics func(context.Context) error
	if sf.listen != "" {
		reg := s.enableMetrics()
		reg.MustRegister(metrics.NewLiveCollector(capt.Rings(), filter))
		if stopMetrics, err = s.serve(sf.listen); err != nil { // metrics and the HTTP API
			fmt.Fprintf(stderr, "medtap run: --listen: %v\n", err)
			return exitFailure
		}
		defer func() {
			if err := stopServer(stopMetrics); err != nil {
				fmt.Fprintf(stderr, "medtap run: %v\n", err)
			}
		}()
	}
	if err := s.openOutputs(stdout); err != nil {
		fmt.Fprintf(stderr, "medtap run: %v\n", oneLine(err))
		return exitFailure
	}
	// Everything privileged is open: shed the capabilities.
	if !*keepCaps {
		var keep []int
		if filter != nil {
			keep = append(keep, unix.CAP_BPF)
		}
		if err := live.DropCapabilities(keep...); err != nil {
			fmt.Fprintf(stderr, "medtap run: warning: %v\n", err)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	pcfg := s.pipelineConfig()
	if filter != nil {
		// Message protocols are never sampled: the kernel is told as soon
		// as a flow is known to carry one (errors are counted; without
		// sampling KeepWhole does nothing).
		pcfg.Flow.OnKeepWhole = func(f *parser.Flow) { _ = filter.KeepWhole(f.Client, f.Server) }
	}
	p := pipeline.New(pcfg)
	s.observe(p)
	srcs := make([]pipeline.LiveSource, 0, len(capt.Sources()))
	for _, src := range capt.Sources() {
		srcs = append(srcs, src)
	}
	ebpfState := "off"
	if filter != nil {
		ebpfState = "on"
	}
	fmt.Fprintf(stderr, "medtap run: capturing on %s with %d workers (eBPF %s); stop with SIGINT or SIGTERM\n", strings.Join(ifaces, ", "), len(srcs), ebpfState)
	failed := false
	st := p.RunLive(ctx, srcs, s.sink(), func(err error) {
		failed = true
		fmt.Fprintf(stderr, "medtap run: %v\n", oneLine(err))
	})
	closeCapture() // reads the kernel counters a last time
	if err := s.finish(st.SinkErr); err != nil {
		fmt.Fprintf(stderr, "medtap run: %v\n", oneLine(err))
		return exitFailure
	}
	if !*quiet {
		summaryTo := stderr
		if sf.out != "" {
			summaryTo = stdout
		}
		output.Summary(summaryTo, &st, s.events.N, s.eventsDest)
		s.det.summary(summaryTo)
		captureSummary(summaryTo, capt, filter)
	}
	if failed {
		return exitFailure
	}
	return exitOK
}

// captureSummary prints what the kernel delivered and dropped, per
// interface, and the eBPF filter's verdicts.
func captureSummary(w io.Writer, capt *live.Capture, filter *sockfilter.Filter) {
	type tot struct{ pkts, kern, drops, freezes, oversize, vlan uint64 }
	var names []string
	per := map[string]*tot{}
	for _, r := range capt.Rings() {
		t := per[r.Iface]
		if t == nil {
			t = &tot{}
			per[r.Iface] = t
			names = append(names, r.Iface)
		}
		t.pkts += r.Stats.Packets.Load()
		t.kern += r.Stats.KernelPackets.Load()
		t.drops += r.Stats.KernelDrops.Load()
		t.freezes += r.Stats.Freezes.Load()
		t.oversize += r.Stats.Oversize.Load()
		t.vlan += r.Stats.VLAN.Load()
	}
	fmt.Fprintln(w, "capture:")
	for _, n := range names {
		t := per[n]
		fmt.Fprintf(w, "  %s: %d frames read, %d delivered by the kernel, %d kernel drops, %d queue freezes, %d oversize (GRO/LRO), %d VLAN tags restored\n",
			n, t.pkts, t.kern, t.drops, t.freezes, t.oversize, t.vlan)
	}
	if filter == nil {
		return
	}
	cs, err := filter.Counters()
	if err != nil {
		fmt.Fprintf(w, "  eBPF: %v\n", err)
		return
	}
	var b strings.Builder
	for _, c := range cs {
		if c.Kind == sockfilter.KindVerdict && c.Packets > 0 {
			fmt.Fprintf(&b, " %s %d", c.Name, c.Packets)
		}
	}
	fmt.Fprintf(w, "  eBPF filter verdicts:%s\n", b.String())
	if n, e := filter.KeptWhole.Load(), filter.KeepWholeErrors.Load(); n+e > 0 {
		fmt.Fprintf(w, "  eBPF bulk sampling: %d message-protocol flows kept whole, %d marks refused\n", n, e)
	}
}
