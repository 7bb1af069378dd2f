#!/bin/bash
# ipv6-tcp.pcap: TCP over IPv6 loopback ([::1]) in a private namespace.
#   stream 0: a real DCMTK C-ECHO association (echoscu -aet ECHOSCU -aec ECHOSCP)
#             carried over [::1]:11112. DCMTK 3.6.7's tools are IPv4-only, so
#             two byte-for-byte relays (tcp_relay.py) are used:
#               echoscu -> 127.0.0.1:11113 -> relay -> [::1]:11112 -> relay -> 127.0.0.1:11114 storescp
#             Only the [::1]:11112 hop (IPv6) is captured; its payload is exactly
#             the PDUs echoscu/storescp exchanged (TCP segmentation is the relays').
#   stream 1: tcp_exchange.py over [::1]:7000 (3 request lines, 3 answers)
source "$(dirname "$0")/common.sh"
need tcpdump storescp echoscu ss capinfos

tmpdir T
ns_new NS ipv6
# make sure ::1 is usable (IPv6 enabled, address present) in the namespace
in_ns "$NS" sysctl -q -w net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.lo.disable_ipv6=0
for ((i = 0; i < 50; i++)); do ip -n "$NS" -6 addr show dev lo | grep -q '::1/128' && break; sleep 0.1; done

bg_ns "$NS" timeout 60 storescp --aetitle ECHOSCP -od "$T" 11114
SCP=$BG_PID
wait_listen "$NS" 11114
bg_ns "$NS" timeout 60 "$PY" "$MAKE_DIR/tcp_relay.py" ::1 11112 127.0.0.1 11114 --connections 1
R2=$BG_PID
wait_listen "$NS" 11112
bg_ns "$NS" timeout 60 "$PY" "$MAKE_DIR/tcp_relay.py" 127.0.0.1 11113 ::1 11112 --connections 1
R1=$BG_PID
wait_listen "$NS" 11113
bg_ns "$NS" timeout 60 "$PY" "$MAKE_DIR/tcp_exchange.py" server ::1 7000 --connections 1
S=$BG_PID
wait_listen "$NS" 7000

cap_start "$NS" lo "$T/out.pcap" "ip6 and tcp and (port 11112 or port 7000)"
in_ns "$NS" timeout 20 echoscu -aet ECHOSCU -aec ECHOSCP 127.0.0.1 11113
sleep 0.3
in_ns "$NS" timeout 20 "$PY" "$MAKE_DIR/tcp_exchange.py" client ::1 7000 --lines 3 --tag ipv6
cap_stop
wait "$R1"; wait "$R2"; wait "$S"
stop_pid "$SCP"
publish "$T/out.pcap" ipv6-tcp.pcap
