#!/bin/bash
# remote-ftp.pcap: Python ftplib client -> pyftpdlib server on 127.0.0.1:21.
# The client first logs in with a wrong password (530), then the right one
# (230), stores and retrieves "ZHAO_WEI_MT9001.dcm" (a synthetic patient in
# the file name), asks for a missing file (550) and quits. Only the control
# connection (port 21) is captured.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/remote/common.sh"
need tcpdump ss capinfos
"$PY" -c 'import pyftpdlib' 2>/dev/null || { echo "missing: python3-pyftpdlib" >&2; exit 1; }

PORT=21
tmpdir T
ns_rem NS ftp
mkdir "$T/root"
bg_ns "$NS" timeout 60 "$PY" "$REM_DIR/ftp_session.py" server "$PORT" "$T/root" "$SYN_USER" "$SYN_PASS"
SRV=$BG_PID
wait_listen "$NS" "$PORT"

cap_start "$NS" lo "$T/out.pcap" "tcp port $PORT"
in_ns "$NS" timeout 30 "$PY" "$REM_DIR/ftp_session.py" client "$PORT" "$SYN_USER" "$SYN_PASS" "ZHAO_WEI_${SYN_MRN}.dcm" "$SYN_PHONE"
cap_stop
stop_pid "$SRV"
publish "$T/out.pcap" remote-ftp.pcap
