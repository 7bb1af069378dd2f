#!/bin/sh
# Writes oracle.tsv and certs.tsv: tshark's own JA4, JA4_r, JA3 and JA3S for every ClientHello and
# ServerHello in the captures here, the independent reference the Go tests
# compare against. Needs tshark >= 4.2 (field tls.handshake.ja4).
# Usage: sh oracle.sh [TSHARK]   (run from this directory)
set -eu
TSHARK=${1:-tshark}
"$TSHARK" --version | head -1 >&2
for f in *.pcap; do
	"$TSHARK" -r "$f" -Y 'tls.handshake.type == 1 || tls.handshake.type == 2' \
		-T fields -E separator=/t -E occurrence=a -E aggregator=, \
		-e tcp.srcport -e tcp.dstport -e tls.handshake.type \
		-e tls.handshake.ja4 -e tls.handshake.ja4_r -e tls.handshake.ja3 -e tls.handshake.ja3s 2>/dev/null |
		sed "s/^/$f	/"
done > oracle.tsv

# certs.tsv: SHA-256 of the first (leaf) certificate of every cleartext
# Certificate message, as tshark extracts its DER.
for f in *.pcap; do
	"$TSHARK" -r "$f" -Y 'tls.handshake.type == 11' -T fields \
		-e tls.handshake.certificate 2>/dev/null | cut -d, -f1 |
		while read -r der; do
			printf '%s\t%s\n' "$f" "$(printf '%s' "$der" | xxd -r -p | sha256sum | cut -d' ' -f1)"
		done
done > certs.tsv
