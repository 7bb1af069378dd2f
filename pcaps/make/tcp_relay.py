#!/usr/bin/python3
"""Byte-for-byte TCP relay (standard library only), used to carry a real
DCMTK association over IPv6: DCMTK 3.6.7's echoscu/storescp only speak IPv4.

usage: tcp_relay.py LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT [--connections N] [--timeout S]
Hosts may be IPv4 or IPv6 literals. Half-closes are propagated (FIN on one side
-> shutdown(SHUT_WR) on the other), so the TCP teardown mirrors the real peers.
"""
import argparse
import socket
import sys
import threading


def fam(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("listen_host")
    ap.add_argument("listen_port", type=int)
    ap.add_argument("target_host")
    ap.add_argument("target_port", type=int)
    ap.add_argument("--connections", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=60)
    a = ap.parse_args()
    srv = socket.socket(fam(a.listen_host), socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((a.listen_host, a.listen_port))
    srv.listen(4)
    srv.settimeout(a.timeout)
    for _ in range(a.connections):
        c, _peer = srv.accept()
        u = socket.create_connection((a.target_host, a.target_port), timeout=10)
        c.settimeout(a.timeout)
        u.settimeout(a.timeout)
        t1 = threading.Thread(target=pump, args=(c, u))
        t2 = threading.Thread(target=pump, args=(u, c))
        t1.start(); t2.start(); t1.join(); t2.join()
        c.close(); u.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
