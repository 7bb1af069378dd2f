#!/bin/bash
# hl7-corpus.pcap: public HL7 v2 sample messages (MIT ruby-hl7 and Apache-2.0
# CDC trusted-intermediary test data, listed with their commits and sha256 in
# hl7-corpus.txt) replayed over MLLP on 127.0.0.1:2575. Each file becomes one
# MLLP frame (its line ends made CR), and Debian python3-hl7's mllp_send (real
# third-party client) sends the frames in order on one connection to
# mllp_ack_server.py, which answers each with ACK / MSA|AA. The files are
# checked against their sha256 first.
# usage: hl7-corpus.sh [CORPUS_DIR]   (default /work/shared/corpus/public)
source "$(dirname "$0")/common.sh"
need tcpdump mllp_send ss capinfos sha256sum

CORPUS="${1:-/work/shared/corpus/public}"
PORT=2575
tmpdir T
ns_new NS hl7pub

# Frame the listed files: <VT> message <FS><CR>, segments ended by CR.
"$PY" - "$MAKE_DIR/hl7-corpus.txt" "$CORPUS" "$T/corpus.mllp" <<'PYEOF'
import hashlib, sys
listing, root, out = sys.argv[1:]
frames = []
for line in open(listing):
    if not line.strip() or line.startswith("#"):
        continue
    path, digest = line.split()
    data = open(root + "/" + path, "rb").read()
    if hashlib.sha256(data).hexdigest() != digest:
        sys.exit("sha256 mismatch: " + path)
    data = data.replace(b"\r\n", b"\r").replace(b"\n", b"\r").strip(b"\r")
    frames.append(b"\x0b" + data + b"\x1c\r")
open(out, "wb").write(b"".join(frames))
print("%d messages framed" % len(frames), file=sys.stderr)
PYEOF

bg_ns "$NS" timeout 60 "$PY" "$MAKE_DIR/mllp_ack_server.py" --host 127.0.0.1 --port "$PORT" --connections 1 --timeout 50
SRV=$BG_PID
wait_listen "$NS" "$PORT"

cap_start "$NS" lo "$T/out.pcap" "tcp port $PORT"
in_ns "$NS" timeout 20 mllp_send -q -f "$T/corpus.mllp" -p "$PORT" 127.0.0.1
cap_stop
wait "$SRV"
publish "$T/out.pcap" hl7-corpus.pcap
