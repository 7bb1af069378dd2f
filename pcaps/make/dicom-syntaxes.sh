#!/bin/bash
# dicom-syntaxes.pcap: the three synthetic files sent by DCMTK storescu to
# storescp (MODALITY1 -> PACS, 127.0.0.1:4242) in two associations whose
# datasets travel in the non-default uncompressed transfer syntaxes:
#   stream 0: the files converted to Explicit VR Big Endian first (dcmconv
#             +tb: storescu sends a file in its own transfer syntax when a
#             context for it is accepted), storescu -xb (big endian proposed
#             first) and storescp +xb (prefers it): every dataset travels in
#             Explicit VR Big Endian (1.2.840.10008.1.2.2)
#   stream 1: the original explicit VR LE files, storescu -xi (implicit VR
#             little endian only): storescu converts each dataset and sends it
#             in Implicit VR Little Endian (1.2.840.10008.1.2)
# Both use -R (only the 3 needed SOP classes; each transfer syntax in its own
# presentation context, as storescu does without +C). The client log (-v,
# with storescu's "Converting transfer syntax" lines) goes to
# parsers/dicom/testdata/dcmtk/.
source "$(dirname "$0")/common.sh"
need tcpdump storescp storescu dump2dcm dcmconv ss capinfos

PORT=4242
LOGS="$MAKE_DIR/../../parsers/dicom/testdata/dcmtk"
tmpdir T
ns_new NS syntaxes
make_dicom_files "$T"
mkdir "$T/recv-be" "$T/recv-im"
for n in ct mr sc; do dcmconv +tb "$T/$n.dcm" "$T/$n-be.dcm"; done

mkdir -p "$LOGS"
L="$T/clients.log"
run() { # run NAME CMD... -> the command's verbose log, appended to $L under a header
	local name="$1"; shift
	echo "### $name: $*" | sed "s#$T#\$T#g" >>"$L"
	in_ns "$NS" timeout 30 "$@" >"$T/one.log" 2>&1 || { echo "### exit status $?" >>"$L"; cat "$T/one.log" >&2; exit 1; }
	sed "s#$T#\$T#g" "$T/one.log" >>"$L"
}
FILES=("$T/ct.dcm" "$T/mr.dcm" "$T/sc.dcm")
cap_start "$NS" lo "$T/out.pcap" "tcp port $PORT"

bg_ns "$NS" timeout 60 storescp -v --aetitle PACS +xb -od "$T/recv-be" "$PORT"
SCP=$BG_PID
wait_listen "$NS" "$PORT"
run big-endian storescu -v +v -R -xb -aet MODALITY1 -aec PACS 127.0.0.1 "$PORT" "$T/ct-be.dcm" "$T/mr-be.dcm" "$T/sc-be.dcm"
sleep 0.3
stop_pid "$SCP"

bg_ns "$NS" timeout 60 storescp -v --aetitle PACS -od "$T/recv-im" "$PORT"
SCP=$BG_PID
wait_listen "$NS" "$PORT"
run implicit storescu -v +v -R -xi -aet MODALITY1 -aec PACS 127.0.0.1 "$PORT" "${FILES[@]}"
cap_stop
grep -q "^0 packets dropped by kernel" "$T/out.pcap.tcpdump.log" ||
	{ cat "$T/out.pcap.tcpdump.log" >&2; echo "tcpdump dropped packets: run again" >&2; exit 1; }
stop_pid "$SCP"

for d in recv-be recv-im; do
	n=$(find "$T/$d" -type f | wc -l)
	[[ "$n" == 3 ]] || { echo "storescp ($d) received $n files, expected 3" >&2; exit 1; }
done
[[ $(grep -c "Converting transfer syntax: Big Endian Explicit -> Big Endian Explicit" "$L") == 3 ]] ||
	{ echo "storescu did not send big endian" >&2; exit 1; }
[[ $(grep -c "Converting transfer syntax: Little Endian Explicit -> Little Endian Implicit" "$L") == 3 ]] ||
	{ echo "storescu did not send implicit VR" >&2; exit 1; }
cp "$L" "$LOGS/dicom-syntaxes.pcap.log"
publish "$T/out.pcap" dicom-syntaxes.pcap
