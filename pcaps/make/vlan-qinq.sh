#!/bin/bash
# vlan-qinq.pcap: 802.1Q and 802.1ad/802.1Q (QinQ) tagged Ethernet on a veth
# "trunk" between two network namespaces A and B:
#   VLAN 100 (802.1Q, TPID 0x8100)               10.99.100.1 <-> 10.99.100.2, TCP port 7000
#   S-VLAN 200 (802.1ad, TPID 0x88a8) + C-VLAN 300 (802.1Q)
#                                                10.99.200.1 <-> 10.99.200.2, TCP port 7001
# Each path carries ARP plus one TCP exchange made by tcp_exchange.py (3 lines).
# The capture is taken on the trunk veth "ta" in namespace A.
#
# The kernel here has no 8021q module and no bridge VLAN filtering, so
# "ip link add link X name X.100 type vlan id 100" is impossible. Instead
# vlan_port.py (one per namespace) acts as the VLAN sub-interfaces: the IP
# addresses sit on TAP devices (untagged, ordinary kernel stack), and
# vlan_port.py pushes/pops the tag stack between each TAP and the trunk veth.
# All ARP/IP/TCP bytes are produced by the kernel; only the tags are added by
# the script. IPv6 is disabled in both namespaces (no ND/MLD noise).
source "$(dirname "$0")/common.sh"
need tcpdump ss capinfos

tmpdir T
ns_new A vlana
ns_new B vlanb
ip link add ta netns "$A" mtu 1600 type veth peer name tb netns "$B" mtu 1600
for side in "a $A 1" "b $B 2"; do
	read -r s ns host <<<"$side"
	in_ns "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n "$ns" link set "t$s" address "02:00:00:00:ff:0$host" up
	ip -n "$ns" tuntap add dev "v${s}100" mode tap
	ip -n "$ns" tuntap add dev "v${s}qinq" mode tap
	ip -n "$ns" link set "v${s}100" address "02:00:00:00:01:0$host"
	ip -n "$ns" link set "v${s}qinq" address "02:00:00:00:02:0$host"
	ip -n "$ns" addr add "10.99.100.$host/24" dev "v${s}100"
	ip -n "$ns" addr add "10.99.200.$host/24" dev "v${s}qinq"
	bg_ns "$ns" timeout 60 "$PY" "$MAKE_DIR/vlan_port.py" --trunk "t$s" \
		--access "v${s}100=8100:100" --access "v${s}qinq=88a8:200,8100:300" --timeout 55
	ip -n "$ns" link set "v${s}100" up
	ip -n "$ns" link set "v${s}qinq" up
done
sleep 0.5

bg_ns "$B" timeout 60 "$PY" "$MAKE_DIR/tcp_exchange.py" server 10.99.100.2 7000 --connections 1
S1=$BG_PID
bg_ns "$B" timeout 60 "$PY" "$MAKE_DIR/tcp_exchange.py" server 10.99.200.2 7001 --connections 1
S2=$BG_PID
wait_listen "$B" 7000
wait_listen "$B" 7001

cap_start "$A" ta "$T/out.pcap" ""
in_ns "$A" timeout 20 "$PY" "$MAKE_DIR/tcp_exchange.py" client 10.99.100.2 7000 --lines 3 --tag vlan100
sleep 0.2
in_ns "$A" timeout 20 "$PY" "$MAKE_DIR/tcp_exchange.py" client 10.99.200.2 7001 --lines 3 --tag qinq200.300
cap_stop
wait "$S1"
wait "$S2"
publish "$T/out.pcap" vlan-qinq.pcap
