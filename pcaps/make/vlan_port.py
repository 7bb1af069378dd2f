#!/usr/bin/python3
"""Userspace 802.1Q / 802.1ad (QinQ) trunk port, standard library only.

Why: the kernel of the capture machine has no 8021q module and no bridge VLAN
filtering ("ip link add ... type vlan" fails with "Unknown device type"), so
VLAN sub-interfaces cannot be created. This script plays the role of the VLAN
sub-interfaces instead: each "access" TAP interface carries ordinary untagged
kernel traffic (real ARP, real TCP from the kernel stack); frames read from it
get the configured tag stack pushed and are sent out on the "trunk" interface
(one end of a veth pair); frames received on the trunk whose tag stack matches
an access port are popped and written to that TAP. A capture on the trunk veth
therefore shows exactly what an 802.1Q/802.1ad trunk link carries.

usage: vlan_port.py --trunk DEV --access TAPNAME=TPID:VID[,TPID:VID...] ... [--timeout S]
  e.g. --access t100=8100:100 --access tq=88a8:200,8100:300
Set VLAN_PORT_DEBUG=1 to log every frame received on the trunk.
The TAP devices must already exist (ip tuntap add dev NAME mode tap) in the
network namespace this runs in; the tags are listed outermost first.
"""
import argparse
import fcntl
import os
import select
import socket
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
PACKET_OUTGOING = 4
TP_STATUS_VLAN_VALID = 1 << 4
TP_STATUS_VLAN_TPID_VALID = 1 << 6
VLAN_TPIDS = (0x8100, 0x88A8)


def open_tap(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


def parse_tags(spec):
    tags = []
    for part in spec.split(","):
        tpid, vid = part.split(":")
        tags.append((int(tpid, 16), int(vid)))
    return tuple(tags)


def push_tags(frame, tags):
    hdr = b"".join(struct.pack("!HH", tpid, vid & 0x0FFF) for tpid, vid in tags)
    return frame[:12] + hdr + frame[12:]


def split_tags(frame):
    """-> (tuple of (tpid, vid) outermost first, untagged frame)"""
    tags = []
    off = 12
    while len(frame) >= off + 4:
        tpid, tci = struct.unpack("!HH", frame[off:off + 4])
        if tpid not in VLAN_TPIDS:
            break
        tags.append((tpid, tci & 0x0FFF))
        off += 4
    return tuple(tags), frame[:12] + frame[off:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trunk", required=True)
    ap.add_argument("--access", action="append", required=True)
    ap.add_argument("--timeout", type=float, default=60)
    a = ap.parse_args()

    trunk = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    trunk.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    trunk.bind((a.trunk, ETH_P_ALL))

    by_fd, by_tags = {}, {}
    for acc in a.access:
        name, spec = acc.split("=", 1)
        tags = parse_tags(spec)
        fd = open_tap(name)
        by_fd[fd] = tags
        by_tags[tags] = fd
    print("vlan_port: trunk %s, access %s" % (a.trunk, a.access), flush=True)

    deadline = time.monotonic() + a.timeout
    rlist = [trunk.fileno()] + list(by_fd)
    while time.monotonic() < deadline:
        ready, _, _ = select.select(rlist, [], [], 0.5)
        for fd in ready:
            if fd == trunk.fileno():
                data, anc, _flags, addr = trunk.recvmsg(65600, socket.CMSG_SPACE(32))
                if addr[2] == PACKET_OUTGOING:
                    continue  # our own transmissions
                for level, typ, cdata in anc:
                    if level == SOL_PACKET and typ == PACKET_AUXDATA and len(cdata) >= 20:
                        status, _l, _s, _m, _n, tci, tpid = struct.unpack("IIIHHHH", cdata[:20])
                        if status & TP_STATUS_VLAN_VALID:
                            # the kernel moved the outer tag out of the frame; put it back
                            if not status & TP_STATUS_VLAN_TPID_VALID:
                                tpid = 0x8100
                            data = data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
                tags, plain = split_tags(data)
                if os.environ.get("VLAN_PORT_DEBUG"):
                    print("trunk rx %d bytes tags=%r anc=%r" % (len(data), tags, anc), flush=True)
                out = by_tags.get(tags)
                if out is not None:
                    os.write(out, plain)
            else:
                frame = os.read(fd, 65600)
                trunk.send(push_tags(frame, by_fd[fd]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
