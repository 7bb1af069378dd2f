#!/bin/bash
# hl7-nak.pcap: HL7 v2.5.1 over MLLP on 127.0.0.1:2575, every message
# rejected. Debian python3-hl7's mllp_send (real third-party client) sends the
# three synthetic messages of pcaps/make/hl7-nak.hl7 (ORM^O01, an unknown
# ZZZ^Z99, an ORM^O01 without PID) on one connection to hl7-nak-server.py,
# which answers them AE (MSA-3 text, ERR at PID-3, code 101), AR (ERR at MSH-9,
# code 200) and AE (two ERR segments: PID-3 and, as there is no PID, MSH
# code 100).
source "$(dirname "$0")/common.sh"
need tcpdump mllp_send ss capinfos

PORT=2575
tmpdir T
ns_new NS hl7nak

bg_ns "$NS" timeout 60 "$PY" "$MAKE_DIR/hl7-nak-server.py" --host 127.0.0.1 --port "$PORT" --codes AE,AR,AE --connections 1 --timeout 50
SRV=$BG_PID
wait_listen "$NS" "$PORT"

cap_start "$NS" lo "$T/out.pcap" "tcp port $PORT"
in_ns "$NS" timeout 20 mllp_send --loose -f "$MAKE_DIR/hl7-nak.hl7" -p "$PORT" 127.0.0.1
cap_stop
wait "$SRV"
publish "$T/out.pcap" hl7-nak.pcap
