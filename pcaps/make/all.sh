#!/bin/bash
# Regenerates every capture in pcaps/, then the derived files and the tshark
# oracles. Needs root (network namespaces, tcpdump) and the Debian packages
#   tcpdump tshark dcmtk python3-hl7 openssl curl iproute2 ethtool
# (install: DEBIAN_FRONTEND=noninteractive apt-get install -y tcpdump tshark \
#   dcmtk python3-hl7 openssl curl iproute2 ethtool)
# Safe to re-run: each script works in its own temporary network namespace and
# directory, kills what it started and removes both on exit; files in pcaps/
# are replaced only when a capture completed.
# usage: all.sh            (everything)
set -euo pipefail
cd "$(dirname "$0")"
[[ $(id -u) == 0 ]] || { echo "run as root (network namespaces, tcpdump)" >&2; exit 1; }
exec 9>/tmp/medtap-pcaps-make.lock
flock -n 9 || { echo "another all.sh is running" >&2; exit 1; }

run() { echo "== $*" >&2; timeout 180 "$@"; }
run ./dicom-echo.sh
run ./dicom-store.sh plain
run ./dicom-store.sh deflated
run ./dicom-store.sh maxpdu
run ./dicom-store-veth.sh
run ./dicom-reject.sh
run ./hl7-mllp.sh
run ./hl7-chinese.sh
run ./hl7-nak.sh
run ./hl7-large.sh
run ./hl7-corpus.sh
run ./https-curl.sh
run ./http-plain.sh
run ./vlan-qinq.sh
run ./sll-any.sh
run ./ipv6-tcp.sh
run ./ip-fragments.sh
run ./framing-captures.sh
run ./inventory-lan.sh
run ./derived.sh
run ./lossy.sh
run ./oracles.sh
./versions.sh >versions.md
echo "== done; sizes:" >&2
du -sh .. >&2
