#!/bin/bash
# hl7-large.pcap: one ~200 KB HL7 v2.5.1 ORU^R01 over MLLP on 127.0.0.1:2575,
# in ~140 TCP segments of at most 1448 bytes (the namespace's loopback has MTU
# 1500 and TSO/GSO/GRO off, so the capture shows the segments Ethernet would). hl7-large-gen.py writes the synthetic message (a 144 KB base64
# "PDF" in OBX-5, 41 more OBX and 40 NTE segments); Debian python3-hl7's
# mllp_send (real third-party client) sends it to mllp_ack_server.py, which
# answers ACK / MSA|AA.
source "$(dirname "$0")/common.sh"
need tcpdump mllp_send ss capinfos ethtool

PORT=2575
tmpdir T
ns_new NS hl7big
ip -n "$NS" link set lo mtu 1500
in_ns "$NS" ethtool -K lo tso off gso off gro off >/dev/null

"$PY" "$MAKE_DIR/hl7-large-gen.py" >"$T/large.hl7"
bg_ns "$NS" timeout 60 "$PY" "$MAKE_DIR/mllp_ack_server.py" --host 127.0.0.1 --port "$PORT" --connections 1 --timeout 50
SRV=$BG_PID
wait_listen "$NS" "$PORT"

cap_start "$NS" lo "$T/out.pcap" "tcp port $PORT"
in_ns "$NS" timeout 20 mllp_send --loose -q -f "$T/large.hl7" -p "$PORT" 127.0.0.1
cap_stop
wait "$SRV"
publish "$T/out.pcap" hl7-large.pcap
