#!/bin/bash
# hl7-chinese.pcap: HL7 v2.5 over MLLP on 127.0.0.1:2575 with Chinese text in
# UTF-8 (MSH-18 "UNICODE UTF-8"). Debian python3-hl7's mllp_send (real
# third-party client) sends pcaps/make/hl7-chinese.hl7 (synthetic: ADT^A01 and
# ADT^A08 with Chinese names in PID-5/NK1-2/PV1-7, PRC resident ID numbers
# with valid GB 11643 check digits in PID-3, mobile and landline numbers in
# PID-13/NK1-5, a Chinese address; an ORU^R01 with Chinese test names and a
# phone number in free text) to mllp_ack_server.py, which answers each with
# ACK / MSA|AA on the same connection.
source "$(dirname "$0")/common.sh"
need tcpdump mllp_send ss capinfos

PORT=2575
tmpdir T
ns_new NS hl7cn

bg_ns "$NS" timeout 60 "$PY" "$MAKE_DIR/mllp_ack_server.py" --host 127.0.0.1 --port "$PORT" --connections 1 --timeout 50
SRV=$BG_PID
wait_listen "$NS" "$PORT"

cap_start "$NS" lo "$T/out.pcap" "tcp port $PORT"
in_ns "$NS" timeout 20 mllp_send --loose -f "$MAKE_DIR/hl7-chinese.hl7" -p "$PORT" 127.0.0.1
cap_stop
wait "$SRV"   # the server exits by itself after its connection
publish "$T/out.pcap" hl7-chinese.pcap
