#!/usr/bin/python3
"""Minimal HL7 v2 MLLP receiver for the medtap test captures (standard library only).

Listens on HOST:PORT, reads MLLP frames (<VT> message <FS><CR>) and answers each
message with an HL7 ACK (MSA|AA|<MSH-10>) in the same MLLP framing. The ACK is
derived only from the received message (its MSH-7 timestamp is reused), so the
bytes on the wire are deterministic. Stops after --connections connections or
--timeout seconds.

usage: mllp_ack_server.py [--host 127.0.0.1] [--port 2575] [--connections N] [--timeout S]
"""
import argparse
import socket
import sys

SB, EB, CR = b"\x0b", b"\x1c", b"\x0d"


def make_ack(msg: bytes) -> bytes:
    segs = msg.split(CR)
    msh = segs[0]
    fs = msh[3:4]  # field separator, normally '|'
    f = msh.split(fs)
    # f[0]='MSH', f[1]=encoding chars, so MSH-n is f[n-1]
    def field(n):
        return f[n - 1] if len(f) >= n else b""
    comp = field(2)[0:1] or b"^"
    trigger = field(9).split(comp)
    event = trigger[1] if len(trigger) > 1 else b""
    ack = fs.join([
        b"MSH", field(2), field(5), field(6), field(3), field(4), field(7), b"",
        b"ACK" + comp + event + comp + b"ACK", b"ACK" + field(10), field(11),
        field(12), b"", b"", b"", b"", b"", field(18),
    ])
    msa = fs.join([b"MSA", b"AA", field(10)])
    return SB + ack + CR + msa + CR + EB + CR


def serve(conn):
    buf = b""
    conn.settimeout(10)
    while True:
        data = conn.recv(65536)
        if not data:
            return
        buf += data
        while EB + CR in buf:
            frame, buf = buf.split(EB + CR, 1)
            start = frame.find(SB)
            msg = frame[start + 1:] if start >= 0 else frame
            ack = make_ack(msg)
            print("received %d bytes: %s" % (len(msg), msg.split(CR)[0].decode("utf-8", "replace")),
                  flush=True)
            conn.sendall(ack)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=2575)
    ap.add_argument("--connections", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=60)
    a = ap.parse_args()
    fam = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    srv = socket.socket(fam, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((a.host, a.port))
    srv.listen(4)
    srv.settimeout(a.timeout)
    for _ in range(a.connections):
        try:
            conn, _peer = srv.accept()
        except socket.timeout:
            print("timeout waiting for a connection", file=sys.stderr)
            return 1
        with conn:
            serve(conn)
    return 0


if __name__ == "__main__":
    sys.exit(main())
