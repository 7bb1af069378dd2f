#!/bin/bash
# Public DICOM test files sent by DCMTK storescu to storescp +xa (accept every
# transfer syntax), MODALITY1 -> PACS on 127.0.0.1:4242, as medtap's check
# against objects it was not written with. The files come from the shared
# corpus (default ../shared/corpus/public next to the repository, or $CORPUS),
# which is not part of the repository; see its SOURCES.md:
#   pydicom/test_files, pydicom/charset_files  github.com/pydicom/pydicom (MIT)
#   suyashkumar-dicom                          github.com/suyashkumar/dicom (MIT)
# storescu sends a compressed or deflated file in its own transfer syntax only
# when told to propose it, so the files are grouped by transfer syntax and
# each group goes in its own association (-R, and -xx / -xw / -xr / -xy / -xd
# for JPEG 2+4, JPEG 2000, RLE, JPEG baseline, deflated; big endian and
# implicit VR files go as they are, in the default group). storescu skips
# files without SOP class or instance UID (no_meta.dcm, chrSQEncoding*.dcm);
# -nh keeps going after a failed store.
#
# usage: dicom-corpus.sh            -> pcaps/dicom-corpus.pcap: a small subset
#                                      (every charset file, and the pydicom
#                                      files below) committed with the repository
#        dicom-corpus.sh all OUT    -> OUT: every public file (about 3 MB; not
#                                      committed). Then run
#                                      MEDTAP_DICOM_CORPUS_PCAP=OUT go test -run TestPublicCorpus ./parsers/dicom/
# storescu's log (-v, which file went in which association) is written next
# to the capture's golden file as parsers/dicom/testdata/dcmtk/dicom-corpus.pcap.log
# (OUT.log for "all").
source "$(dirname "$0")/common.sh"
need tcpdump storescp storescu dcmdump ss capinfos

CORPUS="${CORPUS:-$MAKE_DIR/../../../shared/corpus/public}"
[[ -d "$CORPUS/pydicom" ]] || { echo "no public corpus at $CORPUS (set CORPUS)" >&2; exit 1; }
CORPUS="$(cd "$CORPUS" && pwd)"
MODE="${1:-subset}"
SUBSET=( # patterns, relative to $CORPUS
	'pydicom/charset_files/*.dcm'
	pydicom/test_files/MR_small_bigendian.dcm # explicit VR big endian on the wire
	pydicom/test_files/MR_small_RLE.dcm       # RLE lossless, encapsulated pixel data
	pydicom/test_files/JPEG2000.dcm           # JPEG 2000, encapsulated
	pydicom/test_files/image_dfl.dcm          # deflated on the wire (-xd)
	pydicom/test_files/reportsi.dcm           # SR: nested sequences
	pydicom/test_files/rtplan.dcm             # RT plan, implicit VR file
	pydicom/test_files/SC_rgb_small_odd.dcm
)
ALL=('pydicom/test_files/*.dcm' 'pydicom/charset_files/*.dcm' 'suyashkumar-dicom/*.dcm')
case "$MODE" in
subset)
	OUT="" LOG="$MAKE_DIR/../../parsers/dicom/testdata/dcmtk/dicom-corpus.pcap.log"
	mapfile -t FILES < <(cd "$CORPUS" && for p in "${SUBSET[@]}"; do ls -d $p; done)
	;;
all)
	[[ $# == 2 ]] || { echo "usage: $0 all OUT.pcap" >&2; exit 2; }
	OUT="$(realpath -m "$2")" LOG="$OUT.log"
	mapfile -t FILES < <(cd "$CORPUS" && for p in "${ALL[@]}"; do ls -d $p; done)
	;;
*) echo "usage: $0 [all OUT.pcap]" >&2; exit 2 ;;
esac

PORT=4242
tmpdir T
ns_new NS corpus
mkdir "$T/recv"
# Group the files by the storescu option their transfer syntax needs.
declare -A GROUP=()
for f in "${FILES[@]}"; do
	ts="$(dcmdump -q -M +P 0002,0010 "$CORPUS/$f" 2>/dev/null | awk 'NR==1{print $3}' || true)"
	case "$ts" in
	=JPEGExtended:Process2+4) opt=-xx ;;
	=JPEG2000) opt=-xw ;;
	=RLELossless) opt=-xr ;;
	=JPEGBaseline) opt=-xy ;;
	=DeflatedLittleEndianExplicit) opt=-xd ;;
	*) opt=-x= ;;
	esac
	GROUP[$opt]+="$f"$'\n'
done

bg_ns "$NS" timeout 170 storescp --aetitle PACS +xa -od "$T/recv" "$PORT"
SCP=$BG_PID
wait_listen "$NS" "$PORT"
cap_start "$NS" lo "$T/out.pcap" "tcp port $PORT" -B 131072 # 128 MiB: 64 KiB loopback segments of the 1 MB object
: >"$T/scu.log"
for opt in -x= -xd -xr -xw -xx -xy; do
	[[ -n "${GROUP[$opt]:-}" ]] || continue
	mapfile -t g < <(printf '%s' "${GROUP[$opt]}")
	echo "### storescu $opt ${g[*]}" >>"$T/scu.log"
	(cd "$CORPUS" && in_ns "$NS" timeout 120 storescu -v -R -nh "$opt" -aet MODALITY1 -aec PACS \
		127.0.0.1 "$PORT" "${g[@]}") >>"$T/scu.log" 2>&1 || echo "### exit status $?" >>"$T/scu.log"
done
cap_stop
grep -q "^0 packets dropped by kernel" "$T/out.pcap.tcpdump.log" ||
	{ cat "$T/out.pcap.tcpdump.log" >&2; echo "tcpdump dropped packets: run again" >&2; exit 1; }
stop_pid "$SCP"
grep -E "^(E: Store Failed|F:)" "$T/scu.log" >&2 && { echo "storescu reported errors" >&2; exit 1; }
log "$(grep -c 'Received Store Response (Success)' "$T/scu.log") objects stored, $(grep -c 'ignoring file' "$T/scu.log") files skipped by storescu"
cp "$T/scu.log" "$LOG"
if [[ -z "$OUT" ]]; then
	publish "$T/out.pcap" dicom-corpus.pcap
else
	mv -f "$T/out.pcap" "$OUT"
	log "wrote $OUT ($(stat -c %s "$OUT") bytes)"
fi
