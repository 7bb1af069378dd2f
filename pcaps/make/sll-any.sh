#!/bin/bash
# sll2-any.pcap and sll-any.pcap: "tcpdump -i any" captures (Linux cooked
# capture headers) of a small TCP exchange over 127.0.0.1:7000 made with
# tcp_exchange.py (3 request lines, 3 answers, one TCP stream each).
#   sll2-any.pcap: tcpdump -i any -y LINUX_SLL2 (LINKTYPE_LINUX_SLL2 = 276)
#   sll-any.pcap:  tcpdump -i any -y LINUX_SLL  (LINKTYPE_LINUX_SLL  = 113)
# (tcpdump 4.99.3 / libpcap 1.10.3 list LINUX_SLL first for "any", so -y is
# given explicitly for both.)
source "$(dirname "$0")/common.sh"
need tcpdump ss capinfos

PORT=7000
tmpdir T
ns_new NS sll

for dlt in LINUX_SLL2 LINUX_SLL; do
	bg_ns "$NS" timeout 60 "$PY" "$MAKE_DIR/tcp_exchange.py" server 127.0.0.1 "$PORT" --connections 1
	SRV=$BG_PID
	wait_listen "$NS" "$PORT"
	cap_start "$NS" any "$T/$dlt.pcap" "tcp port $PORT" -y "$dlt"
	in_ns "$NS" timeout 20 "$PY" "$MAKE_DIR/tcp_exchange.py" client 127.0.0.1 "$PORT" --lines 3 --tag "$dlt"
	cap_stop
	wait "$SRV"
	sleep 0.2
done
publish "$T/LINUX_SLL2.pcap" sll2-any.pcap
publish "$T/LINUX_SLL.pcap" sll-any.pcap
