//go:build ignore

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* medtap's socket filter, attached to every AF_PACKET capture socket.
 *
 * It runs in the kernel on each frame the fanout hands to a socket, before
 * the ring: so its counters stay complete even when userspace falls behind
 * and the ring drops. It never touches forwarding: a socket filter only
 * decides how much of a frame this socket gets a copy of.
 *
 *  1. Counting, per CPU: frames and bytes by ethertype class, IP protocol
 *     and well-known medical port; SYN and SYN-ACK per (server address,
 *     port) in an LRU map (service discovery stays complete).
 *  2. Filtering: frames on ignored VLANs or from/to ignored networks are
 *     not copied (verdict 0). Bulk sampling: once a TCP flow has carried
 *     sample_after payload bytes, later segments are cut to their headers
 *     (the rest is counted, not copied), unless userspace marked the flow
 *     keep-whole (flow_bytes).
 *
 * Every verdict is counted. Map layouts are mirrored in loader.go. */
#include "medtap_bpf.h"

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_ARP 0x0806
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8

/* Counter slots (enum slot in loader.go). */
enum {
	SLOT_ALL,
	/* ethertype classes */
	SLOT_ETH_IPV4, SLOT_ETH_IPV6, SLOT_ETH_ARP, SLOT_ETH_OTHER,
	/* IP protocols */
	SLOT_IP_TCP, SLOT_IP_UDP, SLOT_IP_ICMP, SLOT_IP_ICMPV6, SLOT_IP_SCTP, SLOT_IP_OTHER,
	/* well-known medical ports (either side) */
	SLOT_PORT_DICOM_104, SLOT_PORT_DICOM_11112, SLOT_PORT_HL7_2575,
	SLOT_PORT_DICOM_ISCL_2761, SLOT_PORT_DICOM_TLS_2762, SLOT_PORT_FHIR_HTTPS_443,
	SLOT_PORT_POCT1A_6000, SLOT_PORT_IHE_SYSLOG_6514,
	/* verdicts */
	SLOT_KEEP, SLOT_DROP_VLAN, SLOT_DROP_NET, SLOT_TRUNCATED, SLOT_SHORT,
	/* SYN map updates that failed (map full of pinned entries) */
	SLOT_SYN_MAP_FAIL,
	SLOT_COUNT,
};

struct counter {
	__u64 packets;
	__u64 bytes;
};

/* Every slot in one per-CPU value: a frame touches several slots, and one
 * map lookup serves them all. */
struct counters {
	struct counter c[SLOT_COUNT];
};

/* Config flags. */
#define CFG_COUNT 1   /* counting on */
#define CFG_FILTER 2  /* ignore lists on */
#define CFG_SAMPLE 4  /* bulk sampling on */

struct config {
	__u32 flags;
	__u32 pad;
	__u64 sample_after; /* payload bytes of a TCP flow kept whole */
};

/* An IPv4 address is stored v4-mapped (::ffff:a.b.c.d). */
struct syn_key {
	__u8 addr[16];
	__u16 port; /* host order */
	__u16 pad;
};

struct syn_val {
	__u64 syn;
	__u64 synack;
};

struct lpm_key {
	__u32 prefixlen;
	__u8 addr[16];
};

struct flow_key {
	__u8 lo[16];
	__u8 hi[16];
	__u16 lo_port;
	__u16 hi_port;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct config);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct counters);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct syn_key);
	__type(value, struct syn_val);
} syns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} ignore_vlans SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_key);
	__type(value, __u8);
} ignore_nets SEC(".maps");

/* Payload bytes seen per TCP flow, for bulk sampling. KEEP_WHOLE in a
 * flow's value marks a message protocol where every message matters (HL7,
 * ASTM, a declared framing): the sampling never cuts it. The program sets
 * it when a flow's first payload opens MLLP or ASTM (message_start);
 * userspace sets it once it recognises the flow by content, for the rest.
 * Adding payload keeps the bit. */
#define KEEP_WHOLE (1ULL << 63)

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct flow_key);
	__type(value, __u64);
} flow_bytes SEC(".maps");

/* message_start reports whether a flow's first payload opens a message
 * protocol the sampling must keep whole, so that no message is cut while
 * userspace has yet to recognise the flow: an MLLP start block before an
 * HL7 header (MSH, or FHS/BHS for a batch), or an ASTM E1381 ENQ. */
static __always_inline int message_start(struct __sk_buff *skb, __u32 off, __u64 payload)
{
	__u8 h[4];
	if (payload >= 4) {
		if (bpf_skb_load_bytes(skb, off, h, 4) < 0)
			return 0;
		if (h[0] == 0x0b && h[2] == 'H' && h[3] == 'S' && (h[1] == 'F' || h[1] == 'B'))
			return 1;
		return h[0] == 0x0b && h[1] == 'M' && h[2] == 'S' && h[3] == 'H';
	}
	if (payload == 1) {
		if (bpf_skb_load_bytes(skb, off, h, 1) < 0)
			return 0;
		return h[0] == 0x05;
	}
	return 0;
}

/* cs is this CPU's counters, or NULL when counting is off. */
static __always_inline void count(struct counters *cs, __u32 slot, __u32 len)
{
	if (cs && slot < SLOT_COUNT) {
		cs->c[slot].packets++;
		cs->c[slot].bytes += len;
	}
}

static __always_inline int port_slot(__u16 port)
{
	switch (port) {
	case 104: return SLOT_PORT_DICOM_104;
	case 11112: return SLOT_PORT_DICOM_11112;
	case 2575: return SLOT_PORT_HL7_2575;
	case 2761: return SLOT_PORT_DICOM_ISCL_2761;
	case 2762: return SLOT_PORT_DICOM_TLS_2762;
	case 443: return SLOT_PORT_FHIR_HTTPS_443;
	case 6000: return SLOT_PORT_POCT1A_6000;
	case 6514: return SLOT_PORT_IHE_SYSLOG_6514;
	}
	return -1;
}

static __always_inline void syn_count(struct counters *cs, const __u8 *addr, __u16 port, int synack)
{
	struct syn_key k = {};
	__builtin_memcpy(k.addr, addr, 16);
	k.port = port;
	struct syn_val *v = bpf_map_lookup_elem(&syns, &k);
	if (v) {
		if (synack)
			v->synack++;
		else
			v->syn++;
		return;
	}
	struct syn_val nv = {};
	if (synack)
		nv.synack = 1;
	else
		nv.syn = 1;
	if (bpf_map_update_elem(&syns, &k, &nv, BPF_NOEXIST) != 0) {
		/* Another CPU created it meanwhile, or the map is unusable. */
		v = bpf_map_lookup_elem(&syns, &k);
		if (v) {
			if (synack)
				v->synack++;
			else
				v->syn++;
		} else {
			count(cs, SLOT_SYN_MAP_FAIL, 0);
		}
	}
}

static __always_inline int ignored_net(const __u8 *addr)
{
	struct lpm_key k = {.prefixlen = 128};
	__builtin_memcpy(k.addr, addr, 16);
	return bpf_map_lookup_elem(&ignore_nets, &k) != 0;
}

static __always_inline int addr_less(const __u8 *a, const __u8 *b)
{
	for (int i = 0; i < 16; i++) {
		if (a[i] != b[i])
			return a[i] < b[i];
	}
	return 0;
}

SEC("socket")
int medtap_sockfilter(struct __sk_buff *skb)
{
	__u32 zero = 0;
	struct config *cfg = bpf_map_lookup_elem(&config, &zero);
	__u32 flags = cfg ? cfg->flags : 0;
	__u32 len = skb->len;
	struct counters *cs = 0;
	if (flags & CFG_COUNT)
		cs = bpf_map_lookup_elem(&counters, &zero);

	count(cs, SLOT_ALL, len);

	if ((flags & CFG_FILTER) && skb->vlan_present) {
		__u32 vid = skb->vlan_tci & 0x0fff;
		__u8 *ig = bpf_map_lookup_elem(&ignore_vlans, &vid);
		if (ig && *ig) {
			count(cs, SLOT_DROP_VLAN, len);
			return 0;
		}
	}

	/* Find the network header: skb data starts at the MAC header on a
	 * packet socket; a tag the driver did not strip is walked over. */
	__u16 proto = bpf_ntohs((__u16)skb->protocol);
	__u32 off = ETH_HLEN;
	if (proto == ETH_P_8021Q || proto == ETH_P_8021AD) {
		__u16 inner[2];
		if (bpf_skb_load_bytes(skb, ETH_HLEN, inner, 4) < 0)
			goto short_frame;
		proto = bpf_ntohs(inner[1]);
		off += 4;
		if (flags & CFG_FILTER) {
			__u32 vid = bpf_ntohs(inner[0]) & 0x0fff;
			__u8 *ig = bpf_map_lookup_elem(&ignore_vlans, &vid);
			if (ig && *ig) {
				count(cs, SLOT_DROP_VLAN, len);
				return 0;
			}
		}
	}

	__u8 src[16] = {}, dst[16] = {};
	__u8 l4;
	__u32 l4off;
	/* The first bytes of the transport header, when the IP header load
	 * brought them along (helper calls are most of the program's cost). */
	__u8 th[14];
	int have_th = 0;
	switch (proto) {
	case ETH_P_IP: {
		__u8 ip[34];
		count(cs, SLOT_ETH_IPV4, len);
		if (bpf_skb_load_bytes(skb, off, ip, 34) == 0) {
			/* Without IP options the transport header follows. */
			if ((ip[0] & 0x0f) == 5) {
				__builtin_memcpy(th, &ip[20], 14);
				have_th = 1;
			}
		} else if (bpf_skb_load_bytes(skb, off, ip, 20) < 0) {
			goto short_frame;
		}
		l4 = ip[9];
		src[10] = src[11] = dst[10] = dst[11] = 0xff;
		__builtin_memcpy(&src[12], &ip[12], 4);
		__builtin_memcpy(&dst[12], &ip[16], 4);
		l4off = off + (ip[0] & 0x0f) * 4;
		/* A non-first fragment carries no transport header. */
		if ((((__u16)ip[6] << 8 | ip[7]) & 0x1fff) != 0)
			l4 = 255;
		break;
	}
	case ETH_P_IPV6: {
		__u8 ip6[54];
		count(cs, SLOT_ETH_IPV6, len);
		if (bpf_skb_load_bytes(skb, off, ip6, 54) == 0) {
			__builtin_memcpy(th, &ip6[40], 14);
			have_th = 1;
		} else if (bpf_skb_load_bytes(skb, off, ip6, 40) < 0) {
			goto short_frame;
		}
		l4 = ip6[6];
		__builtin_memcpy(src, &ip6[8], 16);
		__builtin_memcpy(dst, &ip6[24], 16);
		l4off = off + 40;
		break;
	}
	case ETH_P_ARP:
		count(cs, SLOT_ETH_ARP, len);
		goto keep;
	default:
		count(cs, SLOT_ETH_OTHER, len);
		goto keep;
	}

	if ((flags & CFG_FILTER) && (ignored_net(src) || ignored_net(dst))) {
		count(cs, SLOT_DROP_NET, len);
		return 0;
	}

	__u16 sport = 0, dport = 0;
	__u8 tcpflags = 0;
	__u32 thl = 0;
	switch (l4) {
	case 6: {
		count(cs, SLOT_IP_TCP, len);
		if (!have_th && bpf_skb_load_bytes(skb, l4off, th, 14) < 0)
			goto keep;
		sport = (__u16)th[0] << 8 | th[1];
		dport = (__u16)th[2] << 8 | th[3];
		thl = (th[12] >> 4) * 4;
		tcpflags = th[13];
		break;
	}
	case 17: {
		count(cs, SLOT_IP_UDP, len);
		if (!have_th && bpf_skb_load_bytes(skb, l4off, th, 4) < 0)
			goto keep;
		sport = (__u16)th[0] << 8 | th[1];
		dport = (__u16)th[2] << 8 | th[3];
		break;
	}
	case 1:
		count(cs, SLOT_IP_ICMP, len);
		goto keep;
	case 58:
		count(cs, SLOT_IP_ICMPV6, len);
		goto keep;
	case 132:
		count(cs, SLOT_IP_SCTP, len);
		goto keep;
	default:
		count(cs, SLOT_IP_OTHER, len);
		goto keep;
	}

	if (cs) {
		int ps = port_slot(dport);
		if (ps < 0)
			ps = port_slot(sport);
		if (ps >= 0)
			count(cs, ps, len);
		if (l4 == 6 && (tcpflags & 0x02)) { /* SYN */
			if (tcpflags & 0x10)        /* SYN-ACK: the server sent it */
				syn_count(cs, src, sport, 1);
			else
				syn_count(cs, dst, dport, 0);
		}
	}

	if ((flags & CFG_SAMPLE) && l4 == 6 && cfg && thl >= 20) {
		__u32 hdrs = l4off + thl;
		/* A SYN starts a new connection, which may reuse an old one's
		 * addresses and ports: it starts counting afresh. */
		if (len > hdrs || (tcpflags & 0x02)) {
			struct flow_key fk = {};
			if (addr_less(src, dst)) {
				__builtin_memcpy(fk.lo, src, 16);
				__builtin_memcpy(fk.hi, dst, 16);
				fk.lo_port = sport;
				fk.hi_port = dport;
			} else {
				__builtin_memcpy(fk.lo, dst, 16);
				__builtin_memcpy(fk.hi, src, 16);
				fk.lo_port = dport;
				fk.hi_port = sport;
			}
			if (tcpflags & 0x02) {
				bpf_map_delete_elem(&flow_bytes, &fk);
				goto keep;
			}
			__u64 payload = len - hdrs;
			__u64 *seen = bpf_map_lookup_elem(&flow_bytes, &fk);
			if (!seen) {
				__u64 v = payload;
				if (message_start(skb, hdrs, payload))
					v |= KEEP_WHOLE;
				bpf_map_update_elem(&flow_bytes, &fk, &v, BPF_NOEXIST);
			} else {
				__u64 before = __sync_fetch_and_add(seen, payload);
				if (before >= cfg->sample_after && !(before & KEEP_WHOLE)) {
					count(cs, SLOT_TRUNCATED, len);
					return hdrs;
				}
			}
		}
	}

keep:
	count(cs, SLOT_KEEP, len);
	return len;

short_frame:
	count(cs, SLOT_SHORT, len);
	count(cs, SLOT_KEEP, len);
	return len;
}

char __license[] SEC("license") = "Dual BSD/GPL";
