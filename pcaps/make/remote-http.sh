#!/bin/bash
# remote-http.pcap: curl -> python3 -m http.server on 127.0.0.1:8080.
#   stream 0: GET /patient.txt with HTTP Basic credentials (curl -u); the
#             file holds a synthetic resident ID, mobile and card number
#   stream 1: GET /?mrn=... (a query string with a synthetic phone number)
#   stream 2: POST /wsman with a WS-Management SOAP body holding a synthetic
#             resident ID (http.server answers 501: it has no POST)
# http.server answers HTTP/1.0 and closes, so each request is one stream.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/remote/common.sh"
need tcpdump curl ss capinfos

PORT=8080
tmpdir T
ns_rem NS http
mkdir "$T/www"
printf 'name: %s\nresident id: %s\nmobile: %s\ncard: %s\n' "$SYN_NAME" "$SYN_ID" "$SYN_PHONE" "$SYN_CARD" >"$T/www/patient.txt"
printf '<html><body>medtap synthetic index</body></html>\n' >"$T/www/index.html"

bg_ns "$NS" timeout 60 "$PY" -m http.server --bind 127.0.0.1 --directory "$T/www" "$PORT"
SRV=$BG_PID
wait_listen "$NS" "$PORT"

cap_start "$NS" lo "$T/out.pcap" "tcp port $PORT"
in_ns "$NS" timeout 20 curl -sS -o /dev/null -u "$SYN_USER:$SYN_PASS" "http://127.0.0.1:$PORT/patient.txt"
sleep 0.2
in_ns "$NS" timeout 20 curl -sS -o /dev/null "http://127.0.0.1:$PORT/?phone=$SYN_PHONE"
sleep 0.2
in_ns "$NS" timeout 20 curl -sS -o /dev/null -A "Microsoft WinRM Client" -H 'Content-Type: application/soap+xml;charset=UTF-8' \
	--data-binary "<s:Envelope><s:Body><p:Note>$SYN_ID</p:Note></s:Body></s:Envelope>" "http://127.0.0.1:$PORT/wsman" || true
cap_stop
stop_pid "$SRV"
publish "$T/out.pcap" remote-http.pcap
