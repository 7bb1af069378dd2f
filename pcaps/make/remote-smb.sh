#!/bin/bash
# remote-smb.pcap: Samba's smbclient -> a minimal Negotiate responder
# (remote/smb_responder.py) on 127.0.0.1:445.
#   stream 0: smbclient -L (default: SMB2/3 dialects); answered with 3.0.2
#   stream 1: smbclient -m NT1 with client min protocol NT1: an SMB1
#             Negotiate offering "NT LM 0.12", answered in SMB1 (SMB1 in use)
# The responder closes after Negotiate, so both clients fail afterwards.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/remote/common.sh"
need tcpdump smbclient ss capinfos

PORT=445
tmpdir T
ns_rem NS smb
bg_ns "$NS" timeout 60 "$PY" "$REM_DIR/smb_responder.py" "$PORT" 2
SRV=$BG_PID
wait_listen "$NS" "$PORT"

cap_start "$NS" lo "$T/out.pcap" "tcp port $PORT"
in_ns "$NS" timeout 15 smbclient -N -L //127.0.0.1 -p "$PORT" >/dev/null 2>&1 || true
sleep 0.3
in_ns "$NS" timeout 15 smbclient -N -L //127.0.0.1 -p "$PORT" -m NT1 --option='client min protocol=NT1' >/dev/null 2>&1 || true
cap_stop
stop_pid "$SRV"
publish "$T/out.pcap" remote-smb.pcap
