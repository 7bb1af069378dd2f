#!/bin/bash
# dicom-store-veth.pcap: the same storescu -> storescp transfer as dicom-store.pcap
# (3 synthetic files, MODALITY1 -> PACS), but between two network namespaces
# over a veth pair with MTU 1500 and TSO/GSO/GRO switched off (ethtool -K), on
# the well-known DICOM port 104: real Ethernet MAC addresses, ARP, and every
# PDU larger than one segment split into <= 1448-byte TCP segments (the
# default ~9.6 KB A-ASSOCIATE-RQ, the ~25 KB SC image), as on a real network.
#   storescu 10.99.2.1 (namespace A)  ->  storescp 10.99.2.2:104 (namespace B)
# Captured on the veth end "da" in namespace A.
source "$(dirname "$0")/common.sh"
need tcpdump storescp storescu dump2dcm ss capinfos ethtool

PORT=104
tmpdir T
make_dicom_files "$T"
mkdir "$T/recv"
ns_new A dcma
ns_new B dcmb
for ns in "$A" "$B"; do in_ns "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; done
ip link add da netns "$A" mtu 1500 type veth peer name db netns "$B" mtu 1500
for side in "a $A 1" "b $B 2"; do
	read -r s ns host <<<"$side"
	ip -n "$ns" link set "d$s" address "02:00:00:00:0d:0$host"
	in_ns "$ns" ethtool -K "d$s" tso off gso off gro off >/dev/null
	ip -n "$ns" addr add "10.99.2.$host/24" dev "d$s"
	ip -n "$ns" link set "d$s" up
done

bg_ns "$B" timeout 60 storescp --aetitle PACS -od "$T/recv" "$PORT"
SCP=$BG_PID
wait_listen "$B" "$PORT"

cap_start "$A" da "$T/out.pcap" ""
in_ns "$A" timeout 30 storescu -aet MODALITY1 -aec PACS 10.99.2.2 "$PORT" "$T/ct.dcm" "$T/mr.dcm" "$T/sc.dcm"
cap_stop
stop_pid "$SCP"
n=$(find "$T/recv" -type f | wc -l)
[[ "$n" == 3 ]] || { echo "storescp received $n files, expected 3" >&2; exit 1; }
publish "$T/out.pcap" dicom-store-veth.pcap
