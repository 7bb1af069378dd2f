#!/bin/bash
# live-bench.sh: the live sensor's benchmark. A veth pair between two
# network namespaces (mtlive-bench-*), medtap-gen sending a mixed capture
# from `medtap-pcaptool gen` out of one end as fast as it can (or at --pps)
# for a fixed time, and on the other end in turn:
#   medtap run --ebpf off, medtap run --ebpf on, tcpdump -w /dev/null.
# Prints, per receiver: frames sent, frames received, kernel drops,
# received pps and Gbit/s, and receiver CPU per received frame.
# Needs root, iproute2, ethtool, tcpdump. Run from the repository root:
#   sudo sensor/live/bench/live-bench.sh [SECONDS] [PPS]
set -euo pipefail
DUR=${1:-5}
PPS=${2:-0}
WORKERS=${WORKERS:-2}
GO=${GO:-go}
T=$(mktemp -d /tmp/live-bench.XXXXXX)
A=mtlive-bench-a; B=mtlive-bench-b; IA=mtlbencha; IB=mtlbenchb
cleanup() {
	ip netns del $A 2>/dev/null || true
	ip netns del $B 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT

if [ -n "${MEDTAP:-}" ]; then cp "$MEDTAP" "$T/medtap"; else CGO_ENABLED=0 $GO build -o "$T/medtap" ./sensor/cmd/medtap; fi
$GO build -o "$T/medtap-gen" ./sensor/cmd/medtap-gen
$GO build -o "$T/medtap-pcaptool" ./sensor/cmd/medtap-pcaptool
"$T/medtap-pcaptool" gen -o "$T/mixed.pcap" -size 64MiB -seed 1 >/dev/null

ip netns add $A; ip netns add $B
ip link add $IA type veth peer name $IB
ip link set $IA netns $A; ip link set $IB netns $B
for x in "$A $IA 10.213.9.1" "$B $IB 10.213.9.2"; do
	set -- $x
	ip netns exec "$1" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1
	ip -n "$1" addr add "$3/24" dev "$2"
	ip -n "$1" link set "$2" up
	ip netns exec "$1" ethtool -K "$2" tso off gso off gro off >/dev/null 2>&1 || true
done

cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

printf "load before: %s\n" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-22s %10s %10s %8s %10s %8s %10s\n" receiver sent received drops rx_pps Gbit/s cpu_ns/pkt

measure() { # name, command...
	local name=$1; shift
	ip netns exec $B "$@" >"$T/rx.out" 2>"$T/rx.err" &
	local pid=$!
	sleep 2
	local c0; c0=$(cpu_ticks $pid)
	ip netns exec $A "$T/medtap-gen" -i $IA -r "$T/mixed.pcap" -duration "${DUR}s" -pps "$PPS" -json >"$T/gen.json"
	sleep 1
	local c1; c1=$(cpu_ticks $pid)
	kill -INT $pid; wait $pid || true
	local sent; sent=$(sed 's/.*"frames":\([0-9]*\).*/\1/' "$T/gen.json")
	local secs; secs=$(sed 's/.*"seconds":\([0-9.]*\).*/\1/' "$T/gen.json")
	local bytes; bytes=$(sed 's/.*"bytes":\([0-9]*\).*/\1/' "$T/gen.json")
	local rx drops
	case $name in
	tcpdump*)
		rx=$(grep -o '^[0-9]* packets received by filter' "$T/rx.err" | cut -d' ' -f1)
		drops=$(grep -o '^[0-9]* packets dropped by kernel' "$T/rx.err" | cut -d' ' -f1)
		rx=$((rx - drops)) ;;
	*)
		rx=$(grep -o '[0-9]* frames read' "$T/rx.out" "$T/rx.err" | head -1 | grep -o '^[^ ]*' | sed 's/.*://')
		drops=$(grep -o '[0-9]* kernel drops' "$T/rx.out" "$T/rx.err" | head -1 | sed 's/.*://; s/ kernel drops//') ;;
	esac
	awk -v n="$name" -v s="$sent" -v r="$rx" -v d="$drops" -v t="$secs" -v b="$bytes" -v c=$((c1 - c0)) -v hz="$HZ" 'BEGIN {
		pps = r / t; gbps = (s > 0 ? b / s * r : 0) * 8 / t / 1e9
		printf "%-22s %10d %10d %8d %10.0f %8.2f %10.0f\n", n, s, r, d, pps, gbps, (r > 0 ? c / hz * 1e9 / r : 0) }'
}

measure "medtap run, eBPF off" "$T/medtap" run --interface $IB --workers "$WORKERS" --ebpf off --listen "" -o "$T/out-off"
measure "medtap run, eBPF on" "$T/medtap" run --interface $IB --workers "$WORKERS" --ebpf on --listen "" -o "$T/out-on"
measure "tcpdump -w /dev/null" tcpdump -i $IB -w /dev/null -s 0 -B 131072
printf "load after: %s\n" "$(cut -d' ' -f1-3 /proc/loadavg)"
