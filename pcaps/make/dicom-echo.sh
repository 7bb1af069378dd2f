#!/bin/bash
# dicom-echo.pcap: DCMTK echoscu -> storescp on 127.0.0.1:11112, one association
# with a single C-ECHO (Verification SOP class).
source "$(dirname "$0")/common.sh"
need tcpdump storescp echoscu ss capinfos

PORT=11112
tmpdir T
ns_new NS echo

bg_ns "$NS" timeout 60 storescp --aetitle ECHOSCP -od "$T" "$PORT"
SCP=$BG_PID
wait_listen "$NS" "$PORT"

cap_start "$NS" lo "$T/out.pcap" "tcp port $PORT"
in_ns "$NS" timeout 20 echoscu -aet ECHOSCU -aec ECHOSCP 127.0.0.1 "$PORT"
cap_stop
stop_pid "$SCP"
publish "$T/out.pcap" dicom-echo.pcap
