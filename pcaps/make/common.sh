# shellcheck shell=bash
# Shared helpers for the pcaps/make/*.sh capture scripts. Source it, don't run it.
#
# Every capture is made inside a private network namespace created by the
# script (so the captures contain nothing but our own traffic, and no port of
# the host is used). Traffic only ever goes over the namespace's loopback
# (127.0.0.1 / ::1) or over veth pairs between namespaces we create here, with
# addresses (10.99.x.y, fd99::/16) that exist only inside those namespaces.
# The namespaces and every process started are removed by an EXIT trap.

set -euo pipefail

MAKE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PCAPS_DIR="$(cd "$MAKE_DIR/.." && pwd)"
PY=/usr/bin/python3          # Debian's python3 (python3-hl7 is installed for it)
export LC_ALL=C.UTF-8 TZ=UTC

_NS_LIST=()
_PIDS=()
_TMPDIRS=()
_CAP_PID=""

need() {
	local missing=()
	for t in "$@"; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
	if ((${#missing[@]})); then
		echo "missing tools: ${missing[*]}" >&2
		echo "install: DEBIAN_FRONTEND=noninteractive apt-get install -y tcpdump tshark dcmtk python3-hl7 openssl curl iproute2 ethtool" >&2
		exit 1
	fi
}

log() { echo "[$(basename "$0")] $*" >&2; }

cleanup() {
	local rc=$?
	set +e
	if [[ -n "$_CAP_PID" ]]; then kill -INT "$_CAP_PID" 2>/dev/null; wait "$_CAP_PID" 2>/dev/null; fi
	local p
	for p in "${_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	local ns
	for ns in "${_NS_LIST[@]}"; do ip netns del "$ns" 2>/dev/null; done
	local d
	for d in "${_TMPDIRS[@]}"; do rm -rf "$d"; done
	return $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# tmpdir VAR -> sets VAR to a new temporary directory (removed at exit)
tmpdir() {
	local -n _out="$1"
	_out="$(mktemp -d /tmp/medtap-pcap.XXXXXX)"
	_TMPDIRS+=("$_out")
}

# ns_new VAR NAME -> creates network namespace "mtp-NAME-PID" with lo up
# (removed at exit) and sets VAR to its name
ns_new() {
	local -n _out="$1"
	local ns="mtp-$2-$$"
	ip netns del "$ns" 2>/dev/null || true
	ip netns add "$ns"
	_NS_LIST+=("$ns")
	ip -n "$ns" link set lo up
	_out="$ns"
}

# in_ns NS CMD... -> run CMD in namespace NS (foreground)
in_ns() { local ns="$1"; shift; ip netns exec "$ns" "$@"; }

# bg_ns NS CMD... -> start CMD in namespace NS in the background; the pid is
# killed at exit. Sets BG_PID.
bg_ns() {
	local ns="$1"; shift
	ip netns exec "$ns" "$@" &
	BG_PID=$!
	_PIDS+=("$BG_PID")
}

# stop_pid PID -> terminate one process we started and reap it
stop_pid() {
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# wait_listen NS PORT [tcp|udp] -> wait (max 10 s) until something listens on PORT in NS
wait_listen() {
	local ns="$1" port="$2" proto="${3:-tcp}" flag=-ltnH i
	[[ "$proto" == udp ]] && flag=-lunH
	for ((i = 0; i < 100; i++)); do
		if ip netns exec "$ns" ss $flag "sport = :$port" | grep -q .; then return 0; fi
		sleep 0.1
	done
	echo "nothing listening on $proto/$port in $ns" >&2
	return 1
}

# cap_start NS IFACE OUTFILE FILTER [tcpdump options...]
# Starts tcpdump (full snaplen, packet-buffered) in NS and waits until it is
# capturing. Only one capture at a time.
cap_start() {
	local ns="$1" ifc="$2" out="$3" filter="$4"; shift 4
	local errf="$out.tcpdump.log" i
	: >"$errf"
	ip netns exec "$ns" tcpdump -Z root -n -s 0 -U --immediate-mode -i "$ifc" "$@" -w "$out" "$filter" 2>"$errf" &
	_CAP_PID=$!
	for ((i = 0; i < 100; i++)); do
		grep -q "listening on" "$errf" && { sleep 0.2; return 0; }
		kill -0 "$_CAP_PID" 2>/dev/null || { cat "$errf" >&2; return 1; }
		sleep 0.1
	done
	cat "$errf" >&2
	return 1
}

# cap_stop -> let the last packets arrive, stop tcpdump, show its summary
cap_stop() {
	sleep 1
	kill -INT "$_CAP_PID"
	wait "$_CAP_PID" || true
	_CAP_PID=""
}

# publish TMPFILE NAME -> move a finished capture into pcaps/NAME (mode 0644)
publish() {
	chmod 0644 "$1"
	mv -f "$1" "$PCAPS_DIR/$2"
	log "wrote pcaps/$2 ($(stat -c %s "$PCAPS_DIR/$2") bytes, $(capinfos -c -M "$PCAPS_DIR/$2" 2>/dev/null | awk -F': *' '/Number of packets/{print $2}') packets)"
}

# make_dicom_files DIR -> synthetic DICOM files ct.dcm mr.dcm sc.dcm in DIR
make_dicom_files() {
	local d="$1" n
	"$PY" "$MAKE_DIR/dicom/gen_pixels.py" "$d"
	for n in ct mr sc; do
		(cd "$d" && dump2dcm +te "$MAKE_DIR/dicom/$n.dump" "$n.dcm")
	done
}
