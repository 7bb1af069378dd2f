#!/bin/bash
# Prints the versions of every tool used to make the captures (Markdown table rows).
set -uo pipefail
row() { printf '| %s | `%s` |\n' "$1" "$2"; }
dpkgv() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo "?"; }
echo "| tool | version (first line of its --version / Debian package) |"
echo "| --- | --- |"
row "Debian" "$(cat /etc/debian_version)"
row "kernel" "$(uname -r)"
row "tcpdump" "$(tcpdump --version 2>&1 | head -1) / $(tcpdump --version 2>&1 | sed -n 2p) (deb $(dpkgv tcpdump))"
row "tshark/editcap" "$(tshark --version 2>/dev/null | head -1)"
row "capinfos/mergecap" "wireshark-common $(dpkgv wireshark-common)"
row "storescu" "$(storescu --version 2>&1 | head -1) (deb dcmtk $(dpkgv dcmtk))"
row "storescp" "$(storescp --version 2>&1 | head -1)"
row "echoscu" "$(echoscu --version 2>&1 | head -1)"
row "dump2dcm" "$(dump2dcm --version 2>&1 | head -1)"
row "mllp_send" "python3-hl7 $(mllp_send --version 2>&1 | head -1) (deb $(dpkgv python3-hl7))"
row "python3" "$(/usr/bin/python3 --version 2>&1) (/usr/bin/python3, deb $(dpkgv python3))"
row "openssl" "$(openssl version)"
row "curl" "$(curl --version | head -1)"
row "iproute2" "$(ip -V)"
row "ethtool" "$(ethtool --version)"
row "gzip" "$(gzip --version | head -1)"
