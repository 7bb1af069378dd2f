#!/bin/bash
# dicom-reject.pcap: two DCMTK storescu -> storescp associations on 127.0.0.1:4242
#   stream 0: storescp --refuse        -> A-ASSOCIATE-RJ (rejected-permanent,
#             service-user, no-reason-given); storescu fails as expected
#   stream 1: storescp --abort-after   -> association accepted, C-STORE-RQ sent,
#             then storescp sends A-ABORT instead of the C-STORE-RSP
source "$(dirname "$0")/common.sh"
need tcpdump storescp storescu dump2dcm ss capinfos

PORT=4242
tmpdir T
ns_new NS reject
make_dicom_files "$T"
mkdir "$T/recv"

cap_start "$NS" lo "$T/out.pcap" "tcp port $PORT"

# 1) refused association
bg_ns "$NS" timeout 60 storescp -v --aetitle PACS --refuse -od "$T/recv" "$PORT"
SCP=$BG_PID
wait_listen "$NS" "$PORT"
if in_ns "$NS" timeout 30 storescu -v -R -aet MODALITY1 -aec PACS 127.0.0.1 "$PORT" "$T/ct.dcm"; then
	echo "storescu unexpectedly succeeded against storescp --refuse" >&2; exit 1
fi
sleep 0.3
stop_pid "$SCP"

# 2) aborted association
bg_ns "$NS" timeout 60 storescp -v --aetitle PACS --abort-after -od "$T/recv" "$PORT"
SCP=$BG_PID
wait_listen "$NS" "$PORT"
if in_ns "$NS" timeout 30 storescu -v -R -aet MODALITY1 -aec PACS 127.0.0.1 "$PORT" "$T/ct.dcm"; then
	log "note: storescu exit status 0 after abort"
fi
cap_stop
stop_pid "$SCP"
publish "$T/out.pcap" dicom-reject.pcap
