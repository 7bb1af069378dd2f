#!/bin/bash
# remote-rdp.pcap: FreeRDP's xfreerdp (under xvfb-run) -> a listener
# (remote/rdp_responder.py) on 127.0.0.1:3389 that answers the X.224
# Connection Request and closes; no RDP server runs on the build machine.
#   stream 0: default security negotiation (TLS, CredSSP...), user name in
#             the mstshash cookie; the responder selects CredSSP
#   stream 1: /sec:rdp (standard RDP security only); the responder refuses
#             with SSL_REQUIRED_BY_SERVER
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/remote/common.sh"
need tcpdump xfreerdp xvfb-run ss capinfos

PORT=3389
tmpdir T
ns_rem NS rdp
bg_ns "$NS" timeout 60 "$PY" "$REM_DIR/rdp_responder.py" "$PORT" 2
SRV=$BG_PID
wait_listen "$NS" "$PORT"

cap_start "$NS" lo "$T/out.pcap" "tcp port $PORT"
in_ns "$NS" timeout 20 xvfb-run -a xfreerdp /v:127.0.0.1:$PORT /u:"$SYN_USER" /p:"$SYN_PASS" /cert:ignore >/dev/null 2>&1 || true
sleep 0.3
in_ns "$NS" timeout 20 xvfb-run -a xfreerdp /v:127.0.0.1:$PORT /u:"$SYN_USER" /p:"$SYN_PASS" /sec:rdp /cert:ignore >/dev/null 2>&1 || true
cap_stop
stop_pid "$SRV"
publish "$T/out.pcap" remote-rdp.pcap
