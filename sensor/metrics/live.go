package metrics

import (
	"strconv"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/medtap/medtap/ebpf/sockfilter"
	"github.com/medtap/medtap/sensor/live"
)

// The live capture's counters (medtap run): per socket from the AF_PACKET
// rings and PACKET_STATISTICS, and from the eBPF socket filter's maps.
// Labels: interface (the names the operator configured: a closed set),
// worker (0..workers-1), and the filter's fixed slot names.
var (
	descRingPackets  = newDesc("afpacket", "packets_total", "Frames read from the capture ring, per socket.", "interface", "worker")
	descRingBytes    = newDesc("afpacket", "bytes_total", "Wire bytes of the frames read from the capture ring.", "interface", "worker")
	descRingBlocks   = newDesc("afpacket", "blocks_total", "Ring blocks processed and handed back to the kernel.", "interface", "worker")
	descRingOversize = newDesc("afpacket", "oversize_frames_total", "Frames longer than the MTU allows: coalesced by GRO/LRO (turn them off with ethtool -K IF gro off lro off).", "interface", "worker")
	descRingVLAN     = newDesc("afpacket", "vlan_restored_frames_total", "Frames whose 802.1Q tag, stripped by the kernel, was put back from the ring metadata.", "interface", "worker")
	descKernPackets  = newDesc("afpacket", "kernel_packets_total", "Frames the kernel delivered to the socket (PACKET_STATISTICS tp_packets), dropped ones included.", "interface", "worker")
	descKernDrops    = newDesc("afpacket", "kernel_drops_total", "Frames the kernel dropped because the socket's ring was full (PACKET_STATISTICS tp_drops): traffic medtap missed.", "interface", "worker")
	descKernFreezes  = newDesc("afpacket", "queue_freezes_total", "Times the socket's ring had no free block (PACKET_STATISTICS tp_freeze_q_cnt).", "interface", "worker")

	descBPFPackets   = newDesc("ebpf", "packets_total", "Frames the eBPF socket filter saw, counted in the kernel before the ring.")
	descBPFBytes     = newDesc("ebpf", "bytes_total", "Bytes of the frames the eBPF socket filter saw.")
	descBPFEthPkts   = newDesc("ebpf", "ethertype_packets_total", "Frames by ethertype class, counted in the kernel.", "ethertype")
	descBPFEthBytes  = newDesc("ebpf", "ethertype_bytes_total", "Bytes by ethertype class, counted in the kernel.", "ethertype")
	descBPFProtoPkts = newDesc("ebpf", "ip_proto_packets_total", "IP packets by protocol, counted in the kernel.", "proto")
	descBPFProtoByts = newDesc("ebpf", "ip_proto_bytes_total", "IP bytes by protocol, counted in the kernel.", "proto")
	descBPFPortPkts  = newDesc("ebpf", "port_packets_total", "TCP/UDP packets to or from a well-known medical port, counted in the kernel.", "port")
	descBPFPortBytes = newDesc("ebpf", "port_bytes_total", "TCP/UDP bytes to or from a well-known medical port, counted in the kernel.", "port")
	descBPFVerdicts  = newDesc("ebpf", "filter_verdicts_total", "The socket filter's verdicts: keep, drop_vlan and drop_network (ignored by configuration), truncate (bulk sampling), short (headers unreadable, kept).", "verdict")
	descBPFVerdBytes = newDesc("ebpf", "filter_verdict_bytes_total", "Bytes by socket filter verdict.", "verdict")
	descBPFErrors    = newDesc("ebpf", "errors_total", "Kernel-side failures of the eBPF program (syn_map_full: a SYN count could not be stored).", "error")
	descBPFSYN       = newDesc("ebpf", "syn_map_syns", "TCP SYN (connection attempts) counted in the kernel, summed over the services now in the SYN map (an LRU map: evicted services leave the sum).")
	descBPFSYNACK    = newDesc("ebpf", "syn_map_synacks", "TCP SYN-ACK (services answering) counted in the kernel, summed over the services now in the SYN map.")
	descBPFServices  = newDesc("ebpf", "syn_services", "Services (server address and port) in the kernel's SYN map now.")
	descBPFReadErrs  = newDesc("ebpf", "map_read_errors_total", "Failed reads of the eBPF maps by medtap.")
)

// LiveCollector exports the live capture's counters, read at each scrape.
type LiveCollector struct {
	rings  []*live.Ring
	filter *sockfilter.Filter // nil when eBPF is off
	errs   atomic.Uint64      // failed map reads (scrapes may run concurrently)
}

// NewLiveCollector returns a collector over the capture's sockets and,
// when not nil, the eBPF filter's maps.
func NewLiveCollector(rings []*live.Ring, filter *sockfilter.Filter) *LiveCollector {
	return &LiveCollector{rings: rings, filter: filter}
}

// Describe implements prometheus.Collector.
func (c *LiveCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		descRingPackets, descRingBytes, descRingBlocks, descRingOversize, descRingVLAN, descKernPackets, descKernDrops, descKernFreezes,
		descBPFPackets, descBPFBytes, descBPFEthPkts, descBPFEthBytes, descBPFProtoPkts, descBPFProtoByts, descBPFPortPkts, descBPFPortBytes,
		descBPFVerdicts, descBPFVerdBytes, descBPFErrors, descBPFSYN, descBPFSYNACK, descBPFServices, descBPFReadErrs,
	} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *LiveCollector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	for _, r := range c.rings {
		w := strconv.Itoa(r.Worker)
		s := &r.Stats
		counter(descRingPackets, s.Packets.Load(), r.Iface, w)
		counter(descRingBytes, s.Bytes.Load(), r.Iface, w)
		counter(descRingBlocks, s.Blocks.Load(), r.Iface, w)
		counter(descRingOversize, s.Oversize.Load(), r.Iface, w)
		counter(descRingVLAN, s.VLAN.Load(), r.Iface, w)
		counter(descKernPackets, s.KernelPackets.Load(), r.Iface, w)
		counter(descKernDrops, s.KernelDrops.Load(), r.Iface, w)
		counter(descKernFreezes, s.Freezes.Load(), r.Iface, w)
	}
	if c.filter == nil {
		return
	}
	cs, err := c.filter.Counters()
	if err != nil {
		c.errs.Add(1)
	}
	for _, x := range cs {
		switch x.Kind {
		case sockfilter.KindAll:
			counter(descBPFPackets, x.Packets)
			counter(descBPFBytes, x.Bytes)
		case sockfilter.KindEtherType:
			counter(descBPFEthPkts, x.Packets, x.Name)
			counter(descBPFEthBytes, x.Bytes, x.Name)
		case sockfilter.KindIPProto:
			counter(descBPFProtoPkts, x.Packets, x.Name)
			counter(descBPFProtoByts, x.Bytes, x.Name)
		case sockfilter.KindPort:
			counter(descBPFPortPkts, x.Packets, x.Name)
			counter(descBPFPortBytes, x.Bytes, x.Name)
		case sockfilter.KindVerdict:
			counter(descBPFVerdicts, x.Packets, x.Name)
			counter(descBPFVerdBytes, x.Bytes, x.Name)
		case sockfilter.KindError:
			counter(descBPFErrors, x.Packets, x.Name)
		}
	}
	syns, err := c.filter.SYNs()
	if err != nil {
		c.errs.Add(1)
	}
	var syn, synack uint64
	for _, s := range syns {
		syn += s.SYN
		synack += s.SYNACK
	}
	ch <- prometheus.MustNewConstMetric(descBPFSYN, prometheus.GaugeValue, float64(syn))
	ch <- prometheus.MustNewConstMetric(descBPFSYNACK, prometheus.GaugeValue, float64(synack))
	ch <- prometheus.MustNewConstMetric(descBPFServices, prometheus.GaugeValue, float64(len(syns)))
	counter(descBPFReadErrs, c.errs.Load())
}
