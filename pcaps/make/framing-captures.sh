#!/bin/bash
# framing-vitals.pcap (vitalnet), framing-status.pcap (devstat): the two example vendor
# protocols of parsers/framing/builtin, spoken over real TCP sockets on
# 127.0.0.1 by framing-gen.go (Go standard library only; the frames are
# encoded from the protocol descriptions, not with medtap's code).
#   vitalnet: 7001 (two sessions) and 17001 (found by content, not port)
#   devstat:  7002 and 17002
# usage: framing-captures.sh [vitalnet|devstat ...]   (default: both)
source "$(dirname "$0")/common.sh"
need tcpdump ss capinfos go

tmpdir T
log "building framing-gen"
(cd "$MAKE_DIR" && CGO_ENABLED=0 go build -trimpath -o "$T/framing-gen" framing-gen.go)

capture() {
	local proto="$1" ports="$2" out="$3" NS
	ns_new NS "framing-$proto"
	cap_start "$NS" lo "$T/$proto.pcap" "$ports"
	in_ns "$NS" timeout 60 "$T/framing-gen" "$proto"
	cap_stop
	publish "$T/$proto.pcap" "$out"
}

protos=("$@")
((${#protos[@]})) || protos=(vitalnet devstat)
for p in "${protos[@]}"; do
	case "$p" in
	vitalnet) capture vitalnet "tcp port 7001 or tcp port 17001" framing-vitals.pcap ;;
	devstat) capture devstat "tcp port 7002 or tcp port 17002" framing-status.pcap ;;
	*) echo "unknown protocol $p" >&2; exit 2 ;;
	esac
done
