#!/bin/bash
# remote-anydesk-cert.pcap: NOT AnyDesk (it is not free software and does not
# run here): openssl s_client -> openssl s_server -tls1_2 on 127.0.0.1:7070
# presenting a self-signed RSA certificate with subject and issuer
# CN=AnyDesk Client, the certificate AnyDesk generates for itself (AnyDesk's
# security documentation: TLS 1.2, a self-signed certificate per client;
# the name as nmap and sslscan report it on port 7070). It exercises the
# certificate recognition, not AnyDesk's own traffic.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/remote/common.sh"
need tcpdump openssl ss capinfos

PORT=7070
tmpdir T
ns_rem NS anydesk
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 3650 \
	-subj "/CN=AnyDesk Client" >/dev/null 2>&1
bg_ns "$NS" timeout 60 openssl s_server -quiet -tls1_2 -accept "127.0.0.1:$PORT" -cert "$T/cert.pem" -key "$T/key.pem" -naccept 1
SRV=$BG_PID
wait_listen "$NS" "$PORT"

cap_start "$NS" lo "$T/out.pcap" "tcp port $PORT"
echo "synthetic" | in_ns "$NS" timeout 10 openssl s_client -quiet -tls1_2 -connect "127.0.0.1:$PORT" >/dev/null 2>&1 || true
cap_stop
stop_pid "$SRV"
publish "$T/out.pcap" remote-anydesk-cert.pcap
