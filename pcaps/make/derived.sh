#!/bin/bash
# Captures derived from the ones made by the other scripts (run those first):
#   dicom-store.pcapng   editcap -F pcapng dicom-store.pcap
#   dicom-store.pcap.gz  gzip -9n (no name/timestamp in the gzip header -> deterministic)
#   dicom-store.pcap.zst zstd -19 (the zstd frame holds no name or timestamp; the same zstd
#                        version gives the same bytes)
#   raw-ip.pcap          http-plain.pcap + ipv6-tcp.pcap, Ethernet header removed, LINKTYPE_RAW (101)
#   null-loopback.pcap   http-plain.pcap + ipv6-tcp.pcap, Ethernet header replaced by the
#                        4-byte BSD loopback header, LINKTYPE_NULL (0): AF_INET=2, AF_INET6=30
#   truncated.pcap       dicom-echo.pcap cut in the middle of record 10's packet data
#   corrupt.pcapng       dicom-store.pcapng with the leading Block Total Length of block 3
#                        (the 2nd Enhanced Packet Block) increased by 1000
source "$(dirname "$0")/common.sh"
need editcap gzip zstd capinfos

P="$PCAPS_DIR"
for f in dicom-store.pcap http-plain.pcap ipv6-tcp.pcap dicom-echo.pcap; do
	[[ -s "$P/$f" ]] || { echo "missing $P/$f: run its script first" >&2; exit 1; }
done
tmpdir T

editcap -F pcapng "$P/dicom-store.pcap" "$T/dicom-store.pcapng"
publish "$T/dicom-store.pcapng" dicom-store.pcapng

gzip -9n -c "$P/dicom-store.pcap" >"$T/dicom-store.pcap.gz"
publish "$T/dicom-store.pcap.gz" dicom-store.pcap.gz

zstd -19 -q -c "$P/dicom-store.pcap" >"$T/dicom-store.pcap.zst"
publish "$T/dicom-store.pcap.zst" dicom-store.pcap.zst

"$PY" "$MAKE_DIR/pcap_tools.py" relink --to raw "$T/raw-ip.pcap" "$P/http-plain.pcap" "$P/ipv6-tcp.pcap"
publish "$T/raw-ip.pcap" raw-ip.pcap

"$PY" "$MAKE_DIR/pcap_tools.py" relink --to null --af-inet6 30 "$T/null-loopback.pcap" "$P/http-plain.pcap" "$P/ipv6-tcp.pcap"
publish "$T/null-loopback.pcap" null-loopback.pcap

"$PY" "$MAKE_DIR/pcap_tools.py" truncate --record 10 "$P/dicom-echo.pcap" "$T/truncated.pcap"
chmod 0644 "$T/truncated.pcap"; mv -f "$T/truncated.pcap" "$P/truncated.pcap"

"$PY" "$MAKE_DIR/pcap_tools.py" corrupt-pcapng --block 3 --delta 1000 "$P/dicom-store.pcapng" "$T/corrupt.pcapng"
chmod 0644 "$T/corrupt.pcapng"; mv -f "$T/corrupt.pcapng" "$P/corrupt.pcapng"
