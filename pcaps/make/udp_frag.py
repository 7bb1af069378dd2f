#!/usr/bin/python3
"""UDP datagrams larger than the link MTU, so the kernel fragments them
(standard library only).

server: udp_frag.py server HOST PORT [--count N] [--timeout S]
        echoes every datagram back to its sender (so replies are fragmented too).
client: udp_frag.py client HOST PORT --sizes 4000,2000
        sends one datagram per size (payload: a deterministic byte pattern),
        waits for each echo and checks it.
HOST may be IPv4 or IPv6. Path-MTU discovery is switched off on the sockets
(IP(V6)_PMTUDISC_DONT), so oversized datagrams are fragmented by the sender.
"""
import argparse
import socket
import sys

IP_MTU_DISCOVER, IP_PMTUDISC_DONT = 10, 0
IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DONT = 23, 0


def sock(host):
    if ":" in host:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DONT)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT)
    return s


def payload(n, seed):
    return bytes((i * 7 + seed) & 0xFF for i in range(n))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["server", "client"])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--count", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--sizes", default="4000,2000")
    a = ap.parse_args()
    s = sock(a.host)
    s.settimeout(a.timeout if a.mode == "server" else 10)
    if a.mode == "server":
        s.bind((a.host, a.port))
        for _ in range(a.count):
            data, peer = s.recvfrom(65535)
            s.sendto(data, peer)
        return 0
    for i, n in enumerate(int(x) for x in a.sizes.split(",")):
        data = payload(n, i)
        s.sendto(data, (a.host, a.port))
        back, _ = s.recvfrom(65535)
        if back != data:
            print("echo mismatch for size %d" % n, file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
