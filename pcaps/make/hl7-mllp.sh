#!/bin/bash
# hl7-mllp.pcap: HL7 v2.5.1 over MLLP on 127.0.0.1:2575. Debian python3-hl7's
# mllp_send (real third-party client) sends
#   stream 0: ADT^A01 (PID-5 = 张^三, UTF-8, MSH-18 "UNICODE UTF-8") and ADT^A08
#   stream 1: ORU^R01 (two OBX results)
# to mllp_ack_server.py, which answers every message with ACK / MSA|AA.
source "$(dirname "$0")/common.sh"
need tcpdump mllp_send ss capinfos

PORT=2575
tmpdir T
ns_new NS hl7

bg_ns "$NS" timeout 60 "$PY" "$MAKE_DIR/mllp_ack_server.py" --host 127.0.0.1 --port "$PORT" --connections 2 --timeout 50
SRV=$BG_PID
wait_listen "$NS" "$PORT"

cap_start "$NS" lo "$T/out.pcap" "tcp port $PORT"
in_ns "$NS" timeout 20 mllp_send --loose -f "$MAKE_DIR/hl7/adt-a01-a08.hl7" -p "$PORT" 127.0.0.1
sleep 0.2
in_ns "$NS" timeout 20 mllp_send --loose -f "$MAKE_DIR/hl7/oru-r01.hl7" -p "$PORT" 127.0.0.1
cap_stop
wait "$SRV"   # the server exits by itself after 2 connections
publish "$T/out.pcap" hl7-mllp.pcap
