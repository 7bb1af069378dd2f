#!/bin/bash
# live-bench.sh: the live sensor's benchmark. A veth pair between two
# network namespaces (mtlive-bench-*), medtap-gen sending a mixed capture
# from `medtap-pcaptool gen` out of one end as fast as it can for a fixed
# time, and on the other end in turn: medtap run --ebpf off, medtap run
# --ebpf on, medtap run --ebpf on --sample-after SAMPLE_AFTER (bulk flows
# cut to headers in the kernel past their first SAMPLE_AFTER bytes, 64 KiB
# by default; HL7 and ASTM flows kept whole), tcpdump -w /dev/null.
#
# 1. At the generator's maximum, best of RUNS runs per receiver: frames sent
#    and received, kernel drops, received pps and Gbit/s, and the
#    receiver's CPU per received frame.
# 2. The eBPF programs' cost: receive rate, generator rate (on a veth the
#    socket filter runs in the sender's softirq) and CPU per frame, on vs
#    off.
# 3. Each receiver's drop-free rate: the highest fixed rate (bisection
#    between 0 and the generator's maximum) at which it drops nothing.
#
# Needs root, iproute2, ethtool, tcpdump. Run from the repository root on an
# otherwise idle machine:
#   sudo sensor/live/bench/live-bench.sh [SECONDS] [RUNS]
set -euo pipefail
DUR=${1:-5}
RUNS=${2:-2}
WORKERS=${WORKERS:-2}
STEPS=${STEPS:-5} # bisection steps of the drop-free search
SAMPLE_AFTER=${SAMPLE_AFTER:-65536} # the sampling receiver's --sample-after
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

# receiver NAME sets CMD to that receiver's command line.
receiver() {
	case $1 in
	off) CMD=("$T/medtap" run --interface $IB --workers "$WORKERS" --ebpf off --listen "" -o "$T/out") ;;
	on) CMD=("$T/medtap" run --interface $IB --workers "$WORKERS" --ebpf on --listen "" -o "$T/out") ;;
	sample) CMD=("$T/medtap" run --interface $IB --workers "$WORKERS" --ebpf on --sample-after "$SAMPLE_AFTER" --listen "" -o "$T/out") ;;
	tcpdump) CMD=(tcpdump -i $IB -w /dev/null -s 0 -B 131072) ;;
	esac
}
label() {
	case $1 in
	off) echo "medtap run, eBPF off" ;;
	on) echo "medtap run, eBPF on" ;;
	sample) echo "medtap run, sampling" ;;
	tcpdump) echo "tcpdump -w /dev/null" ;;
	esac
}

# run_once RECEIVER PPS: one run; sets SENT RX DROPS GENPPS RXPPS GBPS CPUNS.
run_once() {
	local rcv=$1 pps=$2
	rm -rf "$T/out"
	receiver "$rcv"
	ip netns exec $B "${CMD[@]}" >"$T/rx.out" 2>"$T/rx.err" &
	local pid=$!
	sleep 2
	local c0; c0=$(cpu_ticks $pid)
	ip netns exec $A "$T/medtap-gen" -i $IA -r "$T/mixed.pcap" -duration "${DUR}s" -pps "$pps" -json >"$T/gen.json"
	sleep 1
	local c1; c1=$(cpu_ticks $pid)
	kill -INT $pid; wait $pid || true
	SENT=$(sed 's/.*"frames":\([0-9]*\).*/\1/' "$T/gen.json")
	local secs; secs=$(sed 's/.*"seconds":\([0-9.]*\).*/\1/' "$T/gen.json")
	local bytes; bytes=$(sed 's/.*"bytes":\([0-9]*\).*/\1/' "$T/gen.json")
	case $rcv in
	tcpdump)
		RX=$(grep -o '^[0-9]* packets received by filter' "$T/rx.err" | cut -d' ' -f1)
		DROPS=$(grep -o '^[0-9]* packets dropped by kernel' "$T/rx.err" | cut -d' ' -f1)
		RX=$((RX - DROPS)) ;;
	*)
		RX=$(grep -o '[0-9]* frames read' "$T/rx.out" "$T/rx.err" | head -1 | grep -o '^[^ ]*' | sed 's/.*://')
		DROPS=$(grep -o '[0-9]* kernel drops' "$T/rx.out" "$T/rx.err" | head -1 | sed 's/.*://; s/ kernel drops//') ;;
	esac
	read -r GENPPS RXPPS GBPS CPUNS < <(awk -v s="$SENT" -v r="$RX" -v t="$secs" -v b="$bytes" -v c=$((c1 - c0)) -v hz="$HZ" 'BEGIN {
		printf "%.0f %.0f %.2f %.0f\n", s / t, r / t, (s > 0 ? b / s * r : 0) * 8 / t / 1e9, (r > 0 ? c / hz * 1e9 / r : 0) }')
}

row() { printf "%-24s %9s %10s %10s %8s %10s %7s %10s\n" "$@"; }

printf "load before: %s\n" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf "\n1. at the generator's maximum, %d s per run, best of %d\n" "$DUR" "$RUNS"
row receiver gen_pps sent received drops rx_pps Gbit/s cpu_ns/pkt
declare -A BEST_RX BEST_GEN BEST_CPU BEST_DROPS
for rcv in off on sample tcpdump; do
	BEST_RX[$rcv]=0
	for ((i = 0; i < RUNS; i++)); do
		run_once "$rcv" 0
		row "$(label $rcv)" "$GENPPS" "$SENT" "$RX" "$DROPS" "$RXPPS" "$GBPS" "$CPUNS"
		if [ "$RXPPS" -gt "${BEST_RX[$rcv]}" ]; then
			BEST_RX[$rcv]=$RXPPS BEST_GEN[$rcv]=$GENPPS BEST_CPU[$rcv]=$CPUNS BEST_DROPS[$rcv]=$DROPS
		fi
	done
done

printf "\n2. eBPF socket filter and counters, on vs off (best runs)\n"
awk -v ron="${BEST_RX[on]}" -v roff="${BEST_RX[off]}" -v gon="${BEST_GEN[on]}" -v goff="${BEST_GEN[off]}" \
	-v con="${BEST_CPU[on]}" -v coff="${BEST_CPU[off]}" 'BEGIN {
	printf "receive rate: %d vs %d pps (%+.1f%%)\n", ron, roff, (ron / roff - 1) * 100
	printf "generator rate (the filter runs in the sender'"'"'s softirq on a veth): %d vs %d pps (%+.1f%%)\n", gon, goff, (gon / goff - 1) * 100
	printf "medtap CPU per frame: %d vs %d ns (%+.1f%%)\n", con, coff, (con / coff - 1) * 100 }'
# The program's own time per frame, timed by the kernel (BPF_PROG_TEST_RUN),
# against the time the kernel spends per frame at the generator's maximum.
KNS=$($GO test -run '^$' -bench 'Program/count/tcp-data' -benchtime 200000x ./ebpf/sockfilter/ 2>/dev/null |
	awk '/kernel-ns\/frame/ {for (i = 1; i < NF; i++) if ($(i + 1) == "kernel-ns/frame") print $i}')
if [ -n "$KNS" ]; then
	awk -v k="$KNS" -v g="${BEST_GEN[on]}" 'BEGIN {
		printf "program time per data frame (BPF_PROG_TEST_RUN): %d ns, %.1f%% of the %d ns per frame at the generator'"'"'s maximum\n", k, k * g / 1e9 * 100, 1e9 / g }'
fi

printf "\n3. drop-free rate (highest fixed rate with 0 kernel drops; %d s per step)\n" "$DUR"
for rcv in off on sample tcpdump; do
	if [ "${BEST_DROPS[$rcv]}" -eq 0 ]; then
		printf "%-24s %d pps: no drops at the generator's maximum\n" "$(label $rcv)" "${BEST_RX[$rcv]}"
		continue
	fi
	lo=0 hi=${BEST_GEN[$rcv]}
	for ((s = 0; s < STEPS; s++)); do
		mid=$(((lo + hi) / 2))
		run_once "$rcv" "$mid"
		if [ "$DROPS" -eq 0 ]; then lo=$mid; else hi=$mid; fi
	done
	printf "%-24s %d pps (drops above %d pps)\n" "$(label $rcv)" "$lo" "$hi"
done
printf "\nload after: %s\n" "$(cut -d' ' -f1-3 /proc/loadavg)"
