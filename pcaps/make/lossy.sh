#!/bin/bash
# Makes pcaps/lossy-dicom-store.pcap: the real DCMTK C-STORE traffic of
# dicom-store-veth.pcap (MSS-sized segments over a veth) with 10% of its
# payload-carrying TCP segments dropped by the project's own filter,
# medtap-pcaptool drop (deterministic for a seed; SYNs and segments without
# payload are never dropped). Tests use it to check that gaps are reported
# and DICOM decoding resynchronises after each one.
source "$(dirname "$0")/common.sh"
cd "$MAKE_DIR/../.."
go run ./sensor/cmd/medtap-pcaptool drop -i pcaps/dicom-store-veth.pcap -o pcaps/lossy-dicom-store.pcap -rate 0.10 -seed 3
log "wrote pcaps/lossy-dicom-store.pcap"
