#!/bin/bash
# Real-peer captures for detect's declarative cases, made like pcaps/make/*:
# in a private network namespace, over its loopback only, every process
# killed and the namespace removed at exit (pcaps/make/common.sh). Patient
# data is synthetic (pcaps/make/dicom/ct.dump: TEST^PATIENT / TEST0001; the
# HL7 message below: ZHAO^WEI / MT9001).
#
#   dicom-userid.pcap  storescu --user medtap-op --password medtap-secret
#                      (user identity type 2) -> storescp 127.0.0.1:11112, in clear
#   dicom-deid.pcap    ct.dcm with PatientIdentityRemoved (0012,0062) = YES but
#                      still named -> storescp 127.0.0.1:11112
#   dicom-tls.pcap     storescu +tla (anonymous TLS) -> storescp +tls
#                      127.0.0.1:2762, ct.dcm: the same data as dicom-store, encrypted
#   tls10.pcap    openssl s_client -> s_server 127.0.0.1:4443, TLS 1.0,
#                      AES128-SHA, self-signed certificate
#   tls-null-hl7.pcap  openssl s_client -> s_server 127.0.0.1:4444, TLS 1.2
#                      NULL-SHA256 (integrity only), carrying an HL7 ADT^A01 over MLLP
#
# usage (as root): detect/testdata/make/captures.sh
source "$(cd "$(dirname "$0")" && pwd)/../../../pcaps/make/common.sh"
need tcpdump dcmodify dump2dcm storescu storescp openssl
OUT="$(cd "$MAKE_DIR/../../detect/testdata/captures" && pwd)"

tmpdir T
make_dicom_files "$T"
ns_new NS detect

cap() { # cap NAME FILTER CMD...: capture CMD's traffic into $OUT/NAME
	local name="$1" filter="$2"; shift 2
	cap_start "$NS" lo "$T/$name" "$filter"
	"$@"
	cap_stop
	chmod 0644 "$T/$name"; mv -f "$T/$name" "$OUT/$name"
	log "wrote $name ($(stat -c %s "$OUT/$name") bytes)"
}

# DICOM in clear.
bg_ns "$NS" timeout 60 storescp --aetitle PACS -od "$T" 11112; SCP=$BG_PID
wait_listen "$NS" 11112
cap dicom-userid.pcap "tcp port 11112" in_ns "$NS" timeout 20 storescu -aet MODALITY1 -aec PACS \
	--user medtap-op --password medtap-secret 127.0.0.1 11112 "$T/ct.dcm"
cp "$T/ct.dcm" "$T/deid.dcm"
dcmodify -nb -i "(0012,0062)=YES" -i "(0012,0063)=synthetic test" "$T/deid.dcm"
cap dicom-deid.pcap "tcp port 11112" in_ns "$NS" timeout 20 storescu -aet RESEARCH1 -aec PACS 127.0.0.1 11112 "$T/deid.dcm"
stop_pid "$SCP"

# DICOM over TLS (anonymous client, self-signed server certificate).
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=pacs.medtap.test" \
	-keyout "$T/srv.key" -out "$T/srv.crt" 2>/dev/null
bg_ns "$NS" timeout 60 storescp --aetitle PACS +tls "$T/srv.key" "$T/srv.crt" -pw -ic -od "$T" 2762; SCP=$BG_PID
wait_listen "$NS" 2762
cap dicom-tls.pcap "tcp port 2762" in_ns "$NS" timeout 20 storescu -aet MODALITY1 -aec PACS +tla -ic \
	127.0.0.1 2762 "$T/ct.dcm"
stop_pid "$SCP"

# TLS 1.0 (AES128-SHA; this OpenSSL has no 3DES).
bg_ns "$NS" timeout 60 openssl s_server -quiet -accept 4443 -key "$T/srv.key" -cert "$T/srv.crt" \
	-tls1 -cipher 'AES128-SHA:@SECLEVEL=0'; SRV=$BG_PID
wait_listen "$NS" 4443
cap tls10.pcap "tcp port 4443" in_ns "$NS" bash -c \
	"(echo hello; sleep 1) | timeout 10 openssl s_client -quiet -connect 127.0.0.1:4443 -tls1 -cipher 'AES128-SHA:@SECLEVEL=0' >/dev/null 2>&1 || true"
stop_pid "$SRV"

# TLS 1.2 NULL cipher carrying HL7 (the payload is in clear).
bg_ns "$NS" timeout 60 openssl s_server -quiet -accept 4444 -key "$T/srv.key" -cert "$T/srv.crt" \
	-tls1_2 -cipher 'NULL-SHA256:@SECLEVEL=0'; SRV=$BG_PID
wait_listen "$NS" 4444
MSG=$'\x0bMSH|^~\\&|ADT1|MEDTAP_HOSP|LABADT|MEDTAP_HOSP|20240101120000||ADT^A01^ADT_A01|MSG09001|P|2.5.1\rPID|1||MT9001^^^MEDTAP_HOSP^MR||ZHAO^WEI||19900307|M\r\x1c\r'
printf '%s' "$MSG" >"$T/msg.bin"
cap tls-null-hl7.pcap "tcp port 4444" in_ns "$NS" bash -c \
	"(cat '$T/msg.bin'; sleep 1) | timeout 10 openssl s_client -quiet -connect 127.0.0.1:4444 -tls1_2 -cipher 'NULL-SHA256:@SECLEVEL=0' >/dev/null 2>&1 || true"
stop_pid "$SRV"

# DICOM over TLS with the retired NULL profile (authenticated, unencrypted):
# the datasets are in clear inside TLS records. Best effort: OpenSSL builds
# without NULL suites make this step fail, which the cases tolerate.
bg_ns "$NS" timeout 60 storescp --aetitle PACS +tls "$T/srv.key" "$T/srv.crt" -pw -ic +pn -od "$T" 2763; SCP=$BG_PID
wait_listen "$NS" 2763
cap dicom-null-tls.pcap "tcp port 2763" in_ns "$NS" bash -c \
	"timeout 20 storescu -aet MODALITY1 -aec PACS +tls '$T/srv.key' '$T/srv.crt' -pw -ic +pn 127.0.0.1 2763 '$T/ct.dcm' || true"
stop_pid "$SCP"
