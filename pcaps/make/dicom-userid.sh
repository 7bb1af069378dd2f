#!/bin/bash
# dicom-userid.pcap: DCMTK storescu -> storescp (AE PACS) on 127.0.0.1:4242,
# one association per user identity negotiation (PS3.7 D.3.3.7) that
# storescu 3.6.7 can send, each storing the synthetic CT (-R: one context):
#   1. --user TECH01 --password <pw>         type 2 username + passcode
#   2. --user TECH02                         type 1 username only
#   3. --user TECH03 --empty-password        type 2 with an empty passcode
#   4. --kerberos FILE                       type 3 (synthetic 48-byte blob)
#   5. --saml FILE                           type 4 (synthetic assertion)
#   6. --jwt FILE                            type 5 (synthetic, unsigned)
#   7. --user TECH01 --password <pw> -rsp    type 2, positive response
#      requested: storescp (like every DCMTK 3.6.7 SCP) sends no user
#      identity response (0x59), so storescu gives up after the A-ASSOCIATE-AC
#      ("Positive response requested but none received") and closes the TCP
#      connection without A-RELEASE or A-ABORT
# The passcode is the fixed test string "medtap-Pw-0001" (tests check it never
# leaves the parser). The client log (-v) goes to parsers/dicom/testdata/dcmtk/.
source "$(dirname "$0")/common.sh"
need tcpdump storescp storescu dump2dcm ss capinfos

PORT=4242
PW=medtap-Pw-0001
LOGS="$MAKE_DIR/../../parsers/dicom/testdata/dcmtk"
tmpdir T
ns_new NS userid
make_dicom_files "$T"
mkdir "$T/recv"
printf 'KRB5-SYNTHETIC-TICKET-0123456789abcdef0123456789' >"$T/krb.bin"
printf '<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="medtap-test"><saml:Subject>TECH04</saml:Subject></saml:Assertion>' >"$T/saml.xml"
# header {"alg":"none","typ":"JWT"} . payload {"sub":"TECH05"} . (no signature)
printf 'eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJURUNIMDUifQ.' >"$T/jwt.txt"

bg_ns "$NS" timeout 60 storescp -v --aetitle PACS -od "$T/recv" "$PORT"
SCP=$BG_PID
wait_listen "$NS" "$PORT"

mkdir -p "$LOGS"
L="$T/clients.log"
run() { # run NAME CMD... -> the command's verbose log, appended to $L under a header
	local name="$1"; shift
	echo "### $name: $*" | sed "s#$T#\$T#g" >>"$L"
	in_ns "$NS" timeout 30 "$@" >"$T/one.log" 2>&1 || echo "### exit status $?" >>"$L"
	sed "s#$T#\$T#g" "$T/one.log" >>"$L"
}
SCU=(storescu -v -R -aet MODALITY1 -aec PACS)
cap_start "$NS" lo "$T/out.pcap" "tcp port $PORT"
run user-password "${SCU[@]}" --user TECH01 --password "$PW" 127.0.0.1 "$PORT" "$T/ct.dcm"
run user-only "${SCU[@]}" --user TECH02 127.0.0.1 "$PORT" "$T/ct.dcm"
run user-empty-password "${SCU[@]}" --user TECH03 --empty-password 127.0.0.1 "$PORT" "$T/ct.dcm"
run kerberos "${SCU[@]}" --kerberos "$T/krb.bin" 127.0.0.1 "$PORT" "$T/ct.dcm"
run saml "${SCU[@]}" --saml "$T/saml.xml" 127.0.0.1 "$PORT" "$T/ct.dcm"
run jwt "${SCU[@]}" --jwt "$T/jwt.txt" 127.0.0.1 "$PORT" "$T/ct.dcm"
run user-password-rsp "${SCU[@]}" --user TECH01 --password "$PW" -rsp 127.0.0.1 "$PORT" "$T/ct.dcm"
sleep 0.3
cap_stop
grep -q "^0 packets dropped by kernel" "$T/out.pcap.tcpdump.log" ||
	{ cat "$T/out.pcap.tcpdump.log" >&2; echo "tcpdump dropped packets: run again" >&2; exit 1; }
stop_pid "$SCP"
# storescp names received files by SOP instance UID: the same CT six times is one file.
n=$(find "$T/recv" -type f | wc -l)
[[ "$n" == 1 ]] || { echo "storescp received $n distinct files, expected 1" >&2; exit 1; }
[[ $(grep -c "Received Store Response (Success)" "$L") == 6 ]] || { echo "expected 6 successful stores" >&2; exit 1; }
grep -q "Positive response requested but none received" "$L" || { echo "storescu -rsp did not fail as expected" >&2; exit 1; }
cp "$L" "$LOGS/dicom-userid.pcap.log"
publish "$T/out.pcap" dicom-userid.pcap
