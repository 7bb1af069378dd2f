#!/bin/bash
# DICOM over TLS (PS3.15 B.1, port 2762) with DCMTK's own TLS layer:
# storescu -> storescp (MODALITY1 -> PACS, 127.0.0.1:2762), synthetic files
# (-R: only their contexts proposed): CT and MR per association for tls, CT,
# MR and the 25 KB SC (several TLS records and P-DATA PDUs) for null. The server's RSA 2048 key and
# self-signed certificate (CN pacs.medtap.test) are made by openssl at run
# time and not kept; the client trusts exactly that certificate (+cf) and
# presents none (+tla).
#
# usage: dicom-tls.sh [tls|null]
#   tls  -> dicom-tls.pcap       two associations, both encrypted:
#                                stream 0: DCMTK's default profile (+py,
#                                non-downgrading BCP 195) on both sides: TLS 1.3,
#                                TLS_AES_256_GCM_SHA384 (certificate encrypted)
#                                stream 1: +pz (extended BCP 195) on both sides:
#                                TLS 1.2, TLS_DHE_RSA_WITH_AES_256_GCM_SHA384,
#                                the certificate in clear
#   null -> dicom-tls-null.pcap  +pn (the retired IHE ATNA "authenticated
#                                unencrypted" profile): TLS_RSA_WITH_NULL_SHA,
#                                so the DICOM PDUs travel readable inside TLS
#                                application_data records (HMAC-SHA1, no
#                                encryption). DCMTK 3.6.7 lowers OpenSSL 3's
#                                security level itself for this profile.
# Both sides log with -d; storescu's log (TLS connection details: protocol
# and ciphersuite; the association and DIMSE messages) goes to
# parsers/dicom/testdata/dcmtk/, as the oracle for what tshark cannot see.
source "$(dirname "$0")/common.sh"
need tcpdump storescp storescu dump2dcm openssl ss capinfos

VARIANT="${1:-tls}"
case "$VARIANT" in
tls) OUT=dicom-tls.pcap; PROFILES=(+py +pz); FILES=(ct mr) ;;
null) OUT=dicom-tls-null.pcap; PROFILES=(+pn); FILES=(ct mr sc) ;;
*) echo "usage: $0 [tls|null]" >&2; exit 2 ;;
esac

PORT=2762
LOGS="$MAKE_DIR/../../parsers/dicom/testdata/dcmtk"
tmpdir T
ns_new NS "tls$VARIANT"
make_dicom_files "$T"
mkdir "$T/recv"
PATHS=()
for f in "${FILES[@]}"; do PATHS+=("$T/$f.dcm"); done
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 3650 \
	-subj /CN=pacs.medtap.test -addext subjectAltName=DNS:pacs.medtap.test,IP:127.0.0.1 2>/dev/null

cap_start "$NS" lo "$T/out.pcap" "tcp port $PORT"
: >"$T/scu.log"
for prof in "${PROFILES[@]}"; do
	bg_ns "$NS" timeout 60 storescp -d --aetitle PACS +tls "$T/key.pem" "$T/cert.pem" -pw -ic "$prof" \
		-od "$T/recv" "$PORT" >"$T/scp.log" 2>&1
	SCP=$BG_PID
	wait_listen "$NS" "$PORT"
	echo "### storescu $prof" >>"$T/scu.log"
	in_ns "$NS" timeout 30 storescu -d -R -aet MODALITY1 -aec PACS +tla +cf "$T/cert.pem" "$prof" \
		127.0.0.1 "$PORT" "${PATHS[@]}" >>"$T/scu.log" 2>&1 || { cat "$T/scu.log" >&2; exit 1; }
	sleep 0.3
	stop_pid "$SCP"
	n=$(find "$T/recv" -type f | wc -l)
	[[ "$n" == "${#FILES[@]}" ]] || { cat "$T/scp.log" >&2; echo "storescp received $n files, expected ${#FILES[@]}" >&2; exit 1; }
	rm -f "$T/recv/"*
done
cap_stop
grep -q "^0 packets dropped by kernel" "$T/out.pcap.tcpdump.log" ||
	{ cat "$T/out.pcap.tcpdump.log" >&2; echo "tcpdump dropped packets: run again" >&2; exit 1; }
grep -A3 "BEGIN TLS CONNECTION DETAILS" "$T/scu.log" >&2
mkdir -p "$LOGS"
sed "s#$T#\$T#g" "$T/scu.log" >"$LOGS/$OUT.log"
publish "$T/out.pcap" "$OUT"
