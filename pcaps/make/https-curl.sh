#!/bin/bash
# https-curl.pcap: curl -> openssl s_server -www on 127.0.0.1:4433 with a
# self-signed ECDSA P-256 certificate generated at run time (CN/SAN
# pacs.medtap.test). Three TCP connections:
#   stream 0: TLS 1.3, SNI pacs.medtap.test   (curl --tlsv1.3 --resolve ...)
#   stream 1: TLS 1.2, SNI pacs.medtap.test   (curl --tlsv1.2 --tls-max 1.2 --resolve ...)
#   stream 2: TLS 1.3 to https://127.0.0.1:4433/ (no SNI: curl sends none for IP literals)
# curl's TLS secrets are written to https-curl.keys (NSS key log format) so
# Wireshark/tshark can decrypt the HTTP inside: tshark -o tls.keylog_file:https-curl.keys
source "$(dirname "$0")/common.sh"
need tcpdump openssl curl ss capinfos

PORT=4433
tmpdir T
ns_new NS tls

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$T/key.pem" -out "$T/cert.pem" -days 3650 -subj "/CN=pacs.medtap.test" \
	-addext "subjectAltName=DNS:pacs.medtap.test,IP:127.0.0.1" 2>/dev/null

bg_ns "$NS" timeout 60 openssl s_server -quiet -www -accept "127.0.0.1:$PORT" -naccept 3 \
	-cert "$T/cert.pem" -key "$T/key.pem"
SRV=$BG_PID
wait_listen "$NS" "$PORT"

export SSLKEYLOGFILE="$T/keys.log"
RES=(--resolve "pacs.medtap.test:$PORT:127.0.0.1")
cap_start "$NS" lo "$T/out.pcap" "tcp port $PORT"
in_ns "$NS" timeout 20 curl -sS -k -o /dev/null --tlsv1.3 "${RES[@]}" "https://pacs.medtap.test:$PORT/"
sleep 0.2
in_ns "$NS" timeout 20 curl -sS -k -o /dev/null --tlsv1.2 --tls-max 1.2 "${RES[@]}" "https://pacs.medtap.test:$PORT/"
sleep 0.2
in_ns "$NS" timeout 20 curl -sS -k -o /dev/null "https://127.0.0.1:$PORT/"
cap_stop
unset SSLKEYLOGFILE
wait "$SRV" || true   # s_server exits after 3 connections (-naccept 3)
cp "$T/keys.log" "$T/keys.out" && chmod 0644 "$T/keys.out" && mv -f "$T/keys.out" "$PCAPS_DIR/https-curl.keys"
publish "$T/out.pcap" https-curl.pcap
