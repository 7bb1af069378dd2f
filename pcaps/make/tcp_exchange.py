#!/usr/bin/python3
"""Tiny deterministic TCP request/response exchange (standard library only).

server: tcp_exchange.py server HOST PORT [--connections N] [--timeout S]
        accepts N connections; for every line received answers "ECHO <line>".
client: tcp_exchange.py client HOST PORT [--lines N] [--tag TEXT]
        connects, sends N lines "<TAG> line <i>", reads each answer, closes.
HOST may be an IPv4 or IPv6 literal (e.g. ::1).
"""
import argparse
import socket
import sys


def fam(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def server(a):
    s = socket.socket(fam(a.host), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a.host, a.port))
    s.listen(4)
    s.settimeout(a.timeout)
    for _ in range(a.connections):
        conn, _peer = s.accept()
        conn.settimeout(10)
        with conn, conn.makefile("rb") as f:
            for line in f:
                conn.sendall(b"ECHO " + line)
    return 0


def client(a):
    c = socket.create_connection((a.host, a.port), timeout=10)
    with c, c.makefile("rb") as f:
        for i in range(a.lines):
            c.sendall(("%s line %d\n" % (a.tag, i + 1)).encode())
            reply = f.readline()
            if not reply.startswith(b"ECHO "):
                print("bad reply %r" % reply, file=sys.stderr)
                return 1
        c.shutdown(socket.SHUT_WR)
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["server", "client"])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--connections", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--lines", type=int, default=3)
    ap.add_argument("--tag", default="medtap")
    a = ap.parse_args()
    return server(a) if a.mode == "server" else client(a)


if __name__ == "__main__":
    sys.exit(main())
