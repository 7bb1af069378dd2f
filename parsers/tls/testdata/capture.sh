#!/bin/sh
# Regenerates the loopback captures in parsers/tls/testdata. Needs root
# (tcpdump), openssl 3.0 and curl. Traffic stays on 127.0.0.1.
# Usage: sh capture.sh OUTDIR   (run from a scratch directory)
set -eu
OUT=${1:-.}
PORT=47443

mkcerts() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout ec-key.pem -out ec-cert.pem -days 3650 \
		-subj "/C=CN/O=medtap test/CN=medtap.test" -set_serial 0x1234abcd
	openssl req -x509 -newkey rsa:2048 -nodes \
		-keyout rsa-key.pem -out rsa-cert.pem -days 3650 \
		-subj "/C=CN/O=medtap test/CN=null.medtap.test" -set_serial 0x0badcafe
	printf 'hello from medtap\n' > hello.txt
}

# cap NAME SERVER-ARGS -- CLIENT-COMMAND...
cap() {
	name=$1; shift
	srv=$1; shift
	tcpdump -i lo -U -s 0 -w "$OUT/$name.pcap" "tcp port $PORT" 2>/dev/null &
	td=$!
	sleep 1
	# shellcheck disable=SC2086
	openssl s_server -accept 127.0.0.1:$PORT $srv </dev/null >/dev/null 2>&1 &
	sv=$!
	sleep 1
	sh -c "$*" >/dev/null 2>&1 || true
	sleep 1
	kill $sv; wait $sv 2>/dev/null || true
	sleep 1
	kill $td; wait $td 2>/dev/null || true
}

[ -f ec-cert.pem ] || mkcerts
EC="-cert ec-cert.pem -key ec-key.pem"
RSA="-cert rsa-cert.pem -key rsa-key.pem"
GET="printf 'GET /hello.txt HTTP/1.0\r\n\r\n'; sleep 1"

# TLS 1.2, ECDHE-ECDSA, SNI + ALPN, certificate visible.
cap tls12 "$EC -WWW -tls1_2 -alpn http/1.1" \
	"($GET) | openssl s_client -connect 127.0.0.1:$PORT -tls1_2 -servername medtap.test -alpn h2,http/1.1"
# Two TLS 1.2 connections to one server: a full handshake, then an
# abbreviated one resuming its session (ticket). Two flows in one file.
cap tls12_resumed "$EC -WWW -tls1_2" \
	"($GET) | openssl s_client -connect 127.0.0.1:$PORT -tls1_2 -servername medtap.test -sess_out sess.pem; sleep 1; ($GET) | openssl s_client -connect 127.0.0.1:$PORT -tls1_2 -servername medtap.test -sess_in sess.pem"
# TLS 1.3 from curl, SNI via --resolve, ALPN h2,http/1.1 offered.
cap tls13_curl "$EC -WWW" \
	"curl -sk --tlsv1.3 --resolve medtap.test:$PORT:127.0.0.1 https://medtap.test:$PORT/hello.txt"
# TLS 1.3 HelloRetryRequest: client key share X25519, server wants P-256.
cap tls13_hrr "$EC -WWW -groups P-256" \
	"($GET) | openssl s_client -connect 127.0.0.1:$PORT -groups X25519:P-256 -servername medtap.test"
# TLS 1.2 NULL cipher (TLS_RSA_WITH_NULL_SHA256): plaintext HTTP inside.
cap null_sha256 "$RSA -WWW -tls1_2 -cipher NULL-SHA256:@SECLEVEL=0" \
	"($GET) | openssl s_client -connect 127.0.0.1:$PORT -tls1_2 -cipher NULL-SHA256:@SECLEVEL=0"
# Cleartext handshake_failure alert: client offers only a NULL suite.
cap alert_handshake_failure "$EC -WWW -tls1_2" \
	"($GET) | openssl s_client -connect 127.0.0.1:$PORT -tls1_2 -cipher NULL-SHA256:@SECLEVEL=0"
