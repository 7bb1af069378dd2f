#!/bin/bash
# remote-telnet.pcap: Python telnetlib client -> inetutils telnetd (started on
# the accepted socket, as inetd does) on 127.0.0.1:2323. The client answers
# the login prompt with a synthetic user and the password prompt with a
# synthetic password; the account does not exist, so login fails.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/remote/common.sh"
need tcpdump /usr/sbin/telnetd ss capinfos

PORT=2323
tmpdir T
ns_rem NS telnet
bg_ns "$NS" timeout 60 "$PY" "$REM_DIR/telnet_session.py" server "$PORT"
SRV=$BG_PID
wait_listen "$NS" "$PORT"

cap_start "$NS" lo "$T/out.pcap" "tcp port $PORT"
in_ns "$NS" timeout 40 "$PY" "$REM_DIR/telnet_session.py" client "$PORT" "$SYN_USER" "$SYN_PASS"
sleep 0.5
cap_stop
stop_pid "$SRV"
publish "$T/out.pcap" remote-telnet.pcap
