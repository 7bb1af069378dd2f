#!/bin/bash
# remote-syslog.pcap: util-linux logger(1) -> a listener on 127.0.0.1:514.
#   UDP, RFC 5424: a message holding synthetic patient data (resident ID,
#                  mobile), as a badly behaved device would log it
#   UDP, RFC 3164: a plain message
#   TCP, RFC 5424 with octet counting: two messages, one with a card number
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/remote/common.sh"
need tcpdump logger ss capinfos

PORT=514
tmpdir T
ns_rem NS syslog
bg_ns "$NS" timeout 60 "$PY" "$REM_DIR/syslog_listener.py" "$PORT"
SRV=$BG_PID
wait_listen "$NS" "$PORT"

cap_start "$NS" lo "$T/out.pcap" "port $PORT"
in_ns "$NS" logger -n 127.0.0.1 -P "$PORT" -d --rfc5424 -t infusion-gw -p local0.warning \
	"order for patient $SYN_NAME id $SYN_ID contact $SYN_PHONE"
in_ns "$NS" logger -n 127.0.0.1 -P "$PORT" -d --rfc3164 -t monitor -p daemon.info "bed 12 alarm cleared"
in_ns "$NS" bash -c "printf '%s\n%s\n' 'pump 7 rate changed' 'billing card $SYN_CARD charged' | logger -n 127.0.0.1 -P $PORT -T --octet-count --rfc5424 -t billing -p local1.notice"
cap_stop
stop_pid "$SRV"
publish "$T/out.pcap" remote-syslog.pcap
