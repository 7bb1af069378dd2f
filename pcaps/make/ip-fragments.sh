#!/bin/bash
# ip-fragments.pcap: fragmented UDP over IPv4 and IPv6 between two network
# namespaces joined by a veth pair (fa <-> fb, MTU 1500), captured on fa.
#   IPv4 10.99.1.1 -> 10.99.1.2:5005: datagrams of 4000 and 2000 bytes, each echoed
#   IPv6 fd99::1  -> fd99::2:5006:    datagrams of 4000 and 2000 bytes, each echoed
# => 8 fragmented datagrams (4000 B -> 3 fragments, 2000 B -> 2 fragments), plus
# the ARP / neighbour discovery needed to reach the peer. Link-local addresses,
# router solicitations and SLAAC are switched off to keep ICMPv6 noise out.
source "$(dirname "$0")/common.sh"
need tcpdump ss capinfos

tmpdir T
ns_new A fraga
ns_new B fragb
for ns in "$A" "$B"; do
	# IPv6 on, but no link-local address generation, router solicitations or
	# SLAAC (must be set before the interfaces exist)
	in_ns "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.router_solicitations=0 \
		net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.default.addr_gen_mode=1
done
ip link add fa netns "$A" mtu 1500 type veth peer name fb netns "$B" mtu 1500
for side in "a $A 1" "b $B 2"; do
	read -r s ns host <<<"$side"
	ip -n "$ns" link set "f$s" address "02:00:00:00:0f:0$host"
	ip -n "$ns" addr add "10.99.1.$host/24" dev "f$s"
	ip -n "$ns" addr add "fd99::$host/64" dev "f$s" nodad
	ip -n "$ns" link set "f$s" up
done
sleep 3   # let the unsolicited MLD reports for the new addresses pass before capturing

bg_ns "$B" timeout 60 "$PY" "$MAKE_DIR/udp_frag.py" server 10.99.1.2 5005 --count 2
S4=$BG_PID
bg_ns "$B" timeout 60 "$PY" "$MAKE_DIR/udp_frag.py" server fd99::2 5006 --count 2
S6=$BG_PID
wait_listen "$B" 5005 udp
wait_listen "$B" 5006 udp

cap_start "$A" fa "$T/out.pcap" ""
in_ns "$A" timeout 20 "$PY" "$MAKE_DIR/udp_frag.py" client 10.99.1.2 5005 --sizes 4000,2000
sleep 0.2
in_ns "$A" timeout 20 "$PY" "$MAKE_DIR/udp_frag.py" client fd99::2 5006 --sizes 4000,2000
cap_stop
wait "$S4"; wait "$S6"
publish "$T/out.pcap" ip-fragments.pcap
