#!/bin/bash
# http-plain.pcap: curl -> python3 -m http.server on 127.0.0.1:8080 (plain HTTP).
#   stream 0: GET /           (serves index.html)
#   stream 1: GET /hello.txt  with a custom User-Agent header
# python's http.server answers HTTP/1.0 and closes, so each request is one TCP stream.
source "$(dirname "$0")/common.sh"
need tcpdump curl ss capinfos

PORT=8080
tmpdir T
ns_new NS http
mkdir "$T/www"
printf 'hello from medtap test server\n' >"$T/www/hello.txt"
printf '<html><body>medtap synthetic index</body></html>\n' >"$T/www/index.html"

bg_ns "$NS" timeout 60 "$PY" -m http.server --bind 127.0.0.1 --directory "$T/www" "$PORT"
SRV=$BG_PID
wait_listen "$NS" "$PORT"

cap_start "$NS" lo "$T/out.pcap" "tcp port $PORT"
in_ns "$NS" timeout 20 curl -sS -o /dev/null "http://127.0.0.1:$PORT/"
sleep 0.2
in_ns "$NS" timeout 20 curl -sS -o /dev/null -A "medtap-test/1.0" "http://127.0.0.1:$PORT/hello.txt"
cap_stop
stop_pid "$SRV"
publish "$T/out.pcap" http-plain.pcap
