#!/bin/bash
# DCMTK storescu -> storescp on 127.0.0.1:4242 sending three synthetic DICOM
# files (CT, MR, Secondary Capture; patient TEST^PATIENT / TEST0001) in one
# association, calling AE MODALITY1, called AE PACS.
#
# usage: dicom-store.sh [plain|deflated|maxpdu]
#   plain    -> dicom-store.pcap           (default PDU size 16384, explicit VR LE)
#   deflated -> dicom-store-deflated.pcap  (storescu -xd / storescp +xd: Deflated
#                                           Explicit VR Little Endian 1.2.840.10008.1.2.1.99)
#   maxpdu   -> dicom-store-maxpdu4096.pcap (both sides -pdu 4096: many small P-DATA PDUs)
#   (deflated and maxpdu also use storescu -R: propose only the 3 needed
#    presentation contexts instead of all ~120 storage SOP classes)
source "$(dirname "$0")/common.sh"
need tcpdump storescp storescu dump2dcm ss capinfos

VARIANT="${1:-plain}"
case "$VARIANT" in
plain) OUT=dicom-store.pcap; SCP_OPTS=(); SCU_OPTS=() ;;
deflated) OUT=dicom-store-deflated.pcap; SCP_OPTS=(+xd); SCU_OPTS=(-xd -R) ;;
maxpdu) OUT=dicom-store-maxpdu4096.pcap; SCP_OPTS=(-pdu 4096); SCU_OPTS=(-pdu 4096 -R) ;;
*) echo "usage: $0 [plain|deflated|maxpdu]" >&2; exit 2 ;;
esac

PORT=4242
tmpdir T
ns_new NS store
make_dicom_files "$T"
mkdir "$T/recv"

bg_ns "$NS" timeout 60 storescp -v --aetitle PACS "${SCP_OPTS[@]}" -od "$T/recv" "$PORT"
SCP=$BG_PID
wait_listen "$NS" "$PORT"

cap_start "$NS" lo "$T/out.pcap" "tcp port $PORT"
in_ns "$NS" timeout 30 storescu -v -aet MODALITY1 -aec PACS "${SCU_OPTS[@]}" \
	127.0.0.1 "$PORT" "$T/ct.dcm" "$T/mr.dcm" "$T/sc.dcm"
cap_stop
stop_pid "$SCP"
n=$(find "$T/recv" -type f | wc -l)
[[ "$n" == 3 ]] || { echo "storescp received $n files, expected 3" >&2; exit 1; }
publish "$T/out.pcap" "$OUT"
