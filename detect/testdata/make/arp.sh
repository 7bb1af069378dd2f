#!/bin/bash
# Real ARP captures for the ARP rules (MT-ARP-001, MT-NODE-006): three
# namespace hosts on a bridge in a fourth namespace (all named mtdet-*,
# removed at exit), fixed MAC addresses so rebuilds give the same bytes
# but for times. The kernel's own ARP and iputils arping are the peers; the
# spoofed reply is crafted with python3-scapy inside our own namespace.
#
#   arp-learn.pcap    h1 10.99.7.1 and h2 10.99.7.2 resolve each other
#                     (arping requests, kernel replies)
#   arp-newhost.pcap  h3 10.99.7.3 appears: a gratuitous announcement
#                     (arping -U) and a request to h1
#   arp-spoof.pcap    h3 sends h1 ARP replies claiming 10.99.7.2 is at its
#                     own MAC (scapy), then h2 answers h1 for itself again
#
# usage (as root): detect/testdata/make/arp.sh
source "$(cd "$(dirname "$0")" && pwd)/../../../pcaps/make/common.sh"
need tcpdump arping ip
$PY -c 'import scapy' 2>/dev/null || { echo "missing: python3-scapy (apt-get install python3-scapy)" >&2; exit 1; }
OUT="$(cd "$MAKE_DIR/../../detect/testdata/captures" && pwd)"
tmpdir T

mkns() { # mkns VAR NAME: namespace mtdet-NAME-PID, removed at exit
	local -n _o="$1"
	local ns="mtdet-$2-$$"
	ip netns del "$ns" 2>/dev/null || true
	ip netns add "$ns"
	_NS_LIST+=("$ns")
	ip -n "$ns" link set lo up
	_o="$ns"
}
mkns BR br
ip -n "$BR" link add br0 type bridge
ip -n "$BR" link set br0 up
declare -A HOST
for i in 1 2 3; do
	mkns H "h$i"
	HOST[$i]=$H
	ip link add "mtdet$i-$$" type veth peer name eth0 netns "$H"
	ip link set "mtdet$i-$$" netns "$BR"
	ip -n "$BR" link set "mtdet$i-$$" master br0 up
	ip -n "$H" link set eth0 address "02:00:5e:99:07:0$i"
	ip -n "$H" addr add "10.99.7.$i/24" dev eth0
	ip -n "$H" link set eth0 up
	ip netns exec "$H" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
done
sleep 1

cap() { # cap NAME CMD...: capture CMD's ARP traffic on the bridge into $OUT/NAME
	local name="$1"; shift
	cap_start "$BR" br0 "$T/$name" "arp"
	"$@"
	cap_stop
	chmod 0644 "$T/$name"; mv -f "$T/$name" "$OUT/$name"
	log "wrote $name ($(stat -c %s "$OUT/$name") bytes)"
}

learn() {
	in_ns "${HOST[1]}" arping -q -c 2 -I eth0 10.99.7.2 || true
	in_ns "${HOST[2]}" arping -q -c 1 -I eth0 10.99.7.1 || true
}
cap arp-learn.pcap learn

newhost() {
	in_ns "${HOST[3]}" arping -q -U -c 1 -I eth0 10.99.7.3 || true
	in_ns "${HOST[3]}" arping -q -c 1 -I eth0 10.99.7.1 || true
}
cap arp-newhost.pcap newhost

spoof() {
	in_ns "${HOST[3]}" "$PY" -c '
from scapy.all import Ether, ARP, sendp
p = Ether(src="02:00:5e:99:07:03", dst="02:00:5e:99:07:01") / ARP(
    op=2, hwsrc="02:00:5e:99:07:03", psrc="10.99.7.2", hwdst="02:00:5e:99:07:01", pdst="10.99.7.1")
sendp(p, iface="eth0", count=2, inter=0.2, verbose=False)
'
	in_ns "${HOST[2]}" arping -q -c 1 -I eth0 10.99.7.1 || true
}
cap arp-spoof.pcap spoof
