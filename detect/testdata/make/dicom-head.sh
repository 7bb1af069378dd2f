#!/bin/bash
# Real DCMTK captures for the face-capable image rule (MT-PHI-004, head
# CT/MR) and the overwrite rule (MT-OP-002), in a private namespace
# (mtdet-dicom-PID, loopback only, removed at exit). Patient data is the
# synthetic TEST^PATIENT / TEST0001 of pcaps/make/dicom/mr.dump.
#
#   dicom-head-mr.pcap      mr.dcm with BodyPartExamined (0018,0015) = HEAD,
#                           storescu -> storescp 127.0.0.1:11112 in clear
#   dicom-head-mr-tls.pcap  the same over TLS (storescu +tla -> storescp +tls,
#                           port 2762): the negative
#   dicom-chest-mr.pcap     the same object with BodyPartExamined CHEST: not
#                           face-capable
#
# usage (as root): detect/testdata/make/dicom-head.sh
source "$(cd "$(dirname "$0")" && pwd)/../../../pcaps/make/common.sh"
need tcpdump dcmodify dump2dcm storescu storescp openssl
OUT="$(cd "$MAKE_DIR/../../detect/testdata/captures" && pwd)"
tmpdir T
make_dicom_files "$T"
NS="mtdet-dicom-$$"
ip netns del "$NS" 2>/dev/null || true
ip netns add "$NS"
_NS_LIST+=("$NS")
ip -n "$NS" link set lo up

cap() { # cap NAME FILTER CMD...
	local name="$1" filter="$2"; shift 2
	cap_start "$NS" lo "$T/$name" "$filter"
	"$@"
	cap_stop
	chmod 0644 "$T/$name"; mv -f "$T/$name" "$OUT/$name"
	log "wrote $name ($(stat -c %s "$OUT/$name") bytes)"
}

cp "$T/mr.dcm" "$T/head.dcm"
dcmodify -nb -i "(0018,0015)=HEAD" "$T/head.dcm"
cp "$T/mr.dcm" "$T/chest.dcm"
dcmodify -nb -i "(0018,0015)=CHEST" "$T/chest.dcm"

bg_ns "$NS" timeout 60 storescp --aetitle PACS -od "$T" 11112; SCP=$BG_PID
wait_listen "$NS" 11112
cap dicom-head-mr.pcap "tcp port 11112" in_ns "$NS" timeout 20 storescu -aet MRI1 -aec PACS 127.0.0.1 11112 "$T/head.dcm"
cap dicom-chest-mr.pcap "tcp port 11112" in_ns "$NS" timeout 20 storescu -aet MRI1 -aec PACS 127.0.0.1 11112 "$T/chest.dcm"
stop_pid "$SCP"

openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=pacs.medtap.test" \
	-keyout "$T/srv.key" -out "$T/srv.crt" 2>/dev/null
bg_ns "$NS" timeout 60 storescp --aetitle PACS +tls "$T/srv.key" "$T/srv.crt" -pw -ic -od "$T" 2762; SCP=$BG_PID
wait_listen "$NS" 2762
cap dicom-head-mr-tls.pcap "tcp port 2762" in_ns "$NS" timeout 20 storescu -aet MRI1 -aec PACS +tla -ic \
	127.0.0.1 2762 "$T/head.dcm"
stop_pid "$SCP"
