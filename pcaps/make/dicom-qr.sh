#!/bin/bash
# dicom-qr.pcap: DCMTK query/retrieve against dcmqrscp (AE QRSCP) on
# 127.0.0.1:11112, with a storescp (AE STORESCP) on 127.0.0.1:11113 as the
# C-MOVE destination. Before the capture, the archive is filled with
# storescu: the three synthetic files (TEST^PATIENT / TEST0001, one study)
# and a copy of the CT made a second patient with dcmodify (张^三 / TEST0002,
# its own study, series and instance UIDs, UTF-8 ISO_IR 192).
# Captured ("tcp port 11112 or tcp port 11113"), one association each:
#   1. findscu -P  PATIENT level, PatientName "*" (wildcard: both patients,
#      2 pending responses, the second in UTF-8)
#   2. findscu -S  STUDY level, PatientID TEST0001
#   3. findscu -P  PatientName "*" with --cancel 1: findscu sends C-CANCEL
#      after the first pending response, but dcmqrscp has already sent every
#      response (final status Success), so the C-CANCEL-RQ arrives after the
#      transaction ended (a late cancel, which PS3.7 allows)
#   4. movescu -S  STUDY of TEST0001 to STORESCP: dcmqrscp opens a second
#      association QRSCP -> STORESCP on 11113 carrying 3 C-STOREs; the
#      C-MOVE gets pending responses with sub-operation counters
#   5. getscu  -S  SERIES of TEST0002: C-GET with SCP role selection, the
#      C-STORE sub-operation on the same association
#   6. movescu -S  to the unknown AE NOWHERE: C-MOVE failure 0xA801
# The clients' verbose logs (-v) go to parsers/dicom/testdata/dcmtk/.
source "$(dirname "$0")/common.sh"
need tcpdump dcmqrscp storescp storescu findscu movescu getscu dcmodify dump2dcm ss capinfos

PORT=11112
DEST=11113
STUDY1=2.25.84192196019666439364591428651528978587
LOGS="$MAKE_DIR/../../parsers/dicom/testdata/dcmtk"
tmpdir T
ns_new NS qr
make_dicom_files "$T"
cp "$T/ct.dcm" "$T/ct2.dcm"
dcmodify -nb -ie -m "(0010,0010)=张^三" -m "(0010,0020)=TEST0002" -m "(0010,0030)=19800202" \
	-m "(0020,000d)=2.25.1001" -m "(0020,000e)=2.25.1002" -m "(0008,0018)=2.25.1003" \
	-m "(0008,0050)=ACC0002" "$T/ct2.dcm"
mkdir "$T/db" "$T/recv" "$T/get"
cat >"$T/qr.cfg" <<EOF
NetworkTCPPort  = $PORT
MaxPDUSize      = 16384
MaxAssociations = 16
HostTable BEGIN
STORESCP = (STORESCP, 127.0.0.1, $DEST)
HostTable END
VendorTable BEGIN
VendorTable END
AETable BEGIN
QRSCP  $T/db  RW  (10, 64mb)  ANY
AETable END
EOF

bg_ns "$NS" timeout 90 dcmqrscp -v -c "$T/qr.cfg" >"$T/dcmqrscp.log" 2>&1
QR=$BG_PID
bg_ns "$NS" timeout 90 storescp -v --aetitle STORESCP -od "$T/recv" "$DEST"
SCP=$BG_PID
wait_listen "$NS" "$PORT"
wait_listen "$NS" "$DEST"
in_ns "$NS" timeout 30 storescu -aet MODALITY1 -aec QRSCP -R 127.0.0.1 "$PORT" \
	"$T/ct.dcm" "$T/mr.dcm" "$T/sc.dcm" "$T/ct2.dcm"

mkdir -p "$LOGS"
L="$T/clients.log"
run() { # run NAME CMD... -> the command's verbose log, appended to $L under a header
	local name="$1"; shift
	echo "### $name: $*" | sed "s#$T#\$T#g" >>"$L"
	in_ns "$NS" timeout 30 "$@" >"$T/one.log" 2>&1 || echo "### exit status $?" >>"$L"
	sed "s#$T#\$T#g" "$T/one.log" >>"$L"
}
cap_start "$NS" lo "$T/out.pcap" "tcp port $PORT or tcp port $DEST"
run find-wildcard findscu -v -aet WORKSTATION -aec QRSCP -P -k QueryRetrieveLevel=PATIENT \
	-k PatientName="*" -k PatientID -k PatientBirthDate 127.0.0.1 "$PORT"
run find-study findscu -v -aet WORKSTATION -aec QRSCP -S -k QueryRetrieveLevel=STUDY \
	-k PatientID=TEST0001 -k StudyInstanceUID -k StudyDate -k AccessionNumber 127.0.0.1 "$PORT"
run find-cancel findscu -v -aet WORKSTATION -aec QRSCP -P --cancel 1 -k QueryRetrieveLevel=PATIENT \
	-k PatientName="*" -k PatientID 127.0.0.1 "$PORT"
run move movescu -v -aet WORKSTATION -aec QRSCP -aem STORESCP -S -k QueryRetrieveLevel=STUDY \
	-k StudyInstanceUID="$STUDY1" 127.0.0.1 "$PORT"
run get getscu -v -aet WORKSTATION -aec QRSCP -S -k QueryRetrieveLevel=SERIES \
	-k StudyInstanceUID=2.25.1001 -k SeriesInstanceUID=2.25.1002 -od "$T/get" 127.0.0.1 "$PORT"
run move-unknown movescu -v -aet WORKSTATION -aec QRSCP -aem NOWHERE -S -k QueryRetrieveLevel=STUDY \
	-k StudyInstanceUID="$STUDY1" 127.0.0.1 "$PORT"
sleep 0.5
cap_stop
grep -q "^0 packets dropped by kernel" "$T/out.pcap.tcpdump.log" ||
	{ cat "$T/out.pcap.tcpdump.log" >&2; echo "tcpdump dropped packets: run again" >&2; exit 1; }
stop_pid "$SCP"
stop_pid "$QR"
n=$(find "$T/recv" -type f | wc -l)
[[ "$n" == 3 ]] || { echo "storescp (move destination) received $n files, expected 3" >&2; exit 1; }
n=$(find "$T/get" -type f | wc -l)
[[ "$n" == 1 ]] || { echo "getscu received $n files, expected 1" >&2; exit 1; }
cp "$L" "$LOGS/dicom-qr.pcap.log"
publish "$T/out.pcap" dicom-qr.pcap
