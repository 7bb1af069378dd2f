#!/usr/bin/python3
"""HL7 v2 MLLP receiver that rejects: the medtap hl7-nak.pcap capture's peer
(standard library only).

Listens on HOST:PORT, reads MLLP frames (<VT> message <FS><CR>) and answers the
n-th message of the run with the n-th code of --codes (AA, AE or AR; the list
repeats), in the same MLLP framing. An AE or AR acknowledgement carries an
MSA-3 text and ERR segments (HL7 v2.5 ERR: ERR-2 location, ERR-3 HL7 error
code from table 0357, ERR-4 severity), as interface engines send them:

  AE: "Required field missing" at PID-3 (code 101), and for a message with no
      PID segment "Segment sequence error" at MSH (code 100) as well
  AR: "Unsupported message type" at MSH-9 (code 200)

The acknowledgement is derived only from the message (its MSH-7 timestamp is
reused), so the bytes on the wire are deterministic. Stops after
--connections connections or --timeout seconds.

usage: hl7-nak-server.py [--host 127.0.0.1] [--port 2575] [--codes AE,AR]
                         [--connections N] [--timeout S]
"""
import argparse
import socket
import sys

SB, EB, CR = b"\x0b", b"\x1c", b"\x0d"


def make_ack(msg: bytes, code: bytes) -> bytes:
    segs = msg.split(CR)
    msh = segs[0]
    fs = msh[3:4]  # field separator, normally '|'
    f = msh.split(fs)

    def field(n):  # MSH-n (f[0] is 'MSH', f[1] MSH-2)
        return f[n - 1] if len(f) >= n else b""

    comp = field(2)[0:1] or b"^"
    trigger = field(9).split(comp)
    event = trigger[1] if len(trigger) > 1 else b""
    out = [fs.join([
        b"MSH", field(2), field(5), field(6), field(3), field(4), field(7), b"",
        b"ACK" + comp + event + comp + b"ACK", b"ACK" + field(10), field(11),
        field(12), b"", b"", b"", b"", b"", field(18),
    ])]
    if code == b"AA":
        out.append(fs.join([b"MSA", code, field(10)]))
    elif code == b"AE":
        out.append(fs.join([b"MSA", code, field(10), b"Required field missing"]))
        out.append(fs.join([b"ERR", b"", comp.join([b"PID", b"1", b"3"]),
                            comp.join([b"101", b"Required field missing", b"HL70357"]), b"E"]))
        if not any(s.startswith(b"PID" + fs) for s in segs):
            out.append(fs.join([b"ERR", b"", b"MSH",
                                comp.join([b"100", b"Segment sequence error", b"HL70357"]), b"E"]))
    else:
        out.append(fs.join([b"MSA", code, field(10), b"Unsupported message type"]))
        out.append(fs.join([b"ERR", b"", comp.join([b"MSH", b"1", b"9"]),
                            comp.join([b"200", b"Unsupported message type", b"HL70357"]), b"E"]))
    return SB + CR.join(out) + CR + EB + CR


def serve(conn, codes, n):
    buf = b""
    conn.settimeout(10)
    while True:
        data = conn.recv(65536)
        if not data:
            return n
        buf += data
        while EB + CR in buf:
            frame, buf = buf.split(EB + CR, 1)
            start = frame.find(SB)
            msg = frame[start + 1:] if start >= 0 else frame
            code = codes[n % len(codes)]
            n += 1
            print("received %d bytes, answering %s: %s" % (
                len(msg), code.decode(), msg.split(CR)[0].decode("utf-8", "replace")), flush=True)
            conn.sendall(make_ack(msg, code))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=2575)
    ap.add_argument("--codes", default="AE,AR")
    ap.add_argument("--connections", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=60)
    a = ap.parse_args()
    codes = [c.strip().encode() for c in a.codes.split(",")]
    if any(c not in (b"AA", b"AE", b"AR") for c in codes):
        print("codes must be AA, AE or AR", file=sys.stderr)
        return 2
    fam = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    srv = socket.socket(fam, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((a.host, a.port))
    srv.listen(4)
    srv.settimeout(a.timeout)
    n = 0
    for _ in range(a.connections):
        try:
            conn, _peer = srv.accept()
        except socket.timeout:
            print("timeout waiting for a connection", file=sys.stderr)
            return 1
        with conn:
            n = serve(conn, codes, n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
