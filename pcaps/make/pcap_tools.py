#!/usr/bin/python3
"""Small pcap / pcapng rewriting helpers for the medtap test captures
(standard library only).

  pcap_tools.py relink --to raw|null [--af-inet6 N] OUT IN [IN...]
      Concatenate Ethernet (LINKTYPE_ETHERNET=1) pcap files and rewrite them to
      LINKTYPE_RAW (101: the packet starts with the IP header) or LINKTYPE_NULL
      (0: 4-byte address family in the file's byte order, then the IP packet).
      IPv4 gets family 2 (AF_INET); IPv6 gets --af-inet6 (default 30, the
      macOS/Darwin value; BSDs use 24 (NetBSD/OpenBSD) or 28 (FreeBSD)).
      Frames that are not IPv4/IPv6 (ARP, ...) are dropped. Both the captured
      and the original length shrink by the 14 bytes of the Ethernet header
      (and grow by 4 for NULL), so the packets stay complete. (editcap -C 14
      -T rawip does not adjust the original length, which makes every packet
      look cut short; that is why this exists.)

  pcap_tools.py truncate --record N IN OUT
      Copy IN up to the middle of record N's packet data (1-based), i.e. the
      file ends inside a record: header and N-1 complete records, then the
      16-byte record header of record N and half of its data.

  pcap_tools.py corrupt-pcapng --block N [--delta D] IN OUT
      Copy a pcapng file, adding D (default 1000) to the leading Block Total
      Length of block N (0-based; 0 is the Section Header Block). The trailing
      copy of the length is left alone, so the two disagree.

  pcap_tools.py blocks IN        list pcapng blocks (offset, type, length)
"""
import argparse
import struct
import sys

LINKTYPE_NULL, LINKTYPE_ETHERNET, LINKTYPE_RAW = 0, 1, 101
MAGICS = {
    b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">",  # microseconds
    b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\x3c\x4d": ">",  # nanoseconds
}


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    e = MAGICS.get(data[:4])
    if e is None:
        raise SystemExit("%s: not a pcap file" % path)
    _vmaj, _vmin, _tz, _sig, snaplen, linktype = struct.unpack(e + "HHiIII", data[4:24])
    recs = []
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(e + "IIII", data[off:off + 16])
        recs.append((sec, frac, orig, data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return data[:4], e, snaplen, linktype, recs


def cmd_relink(a):
    out_recs = []
    magic = endian = None
    snap = 0
    dropped = 0
    for path in a.inputs:
        m, e, snaplen, linktype, recs = read_pcap(path)
        if linktype != LINKTYPE_ETHERNET:
            raise SystemExit("%s: link type %d, expected Ethernet (1)" % (path, linktype))
        if magic is None:
            magic, endian = m, e
        elif (m, e) != (magic, endian):
            raise SystemExit("inputs differ in byte order / timestamp resolution")
        snap = max(snap, snaplen)
        for sec, frac, orig, pkt in recs:
            etype = struct.unpack("!H", pkt[12:14])[0]
            if etype == 0x0800:
                fam = 2
            elif etype == 0x86DD:
                fam = a.af_inet6
            else:
                dropped += 1
                continue
            body, orig = pkt[14:], orig - 14
            if a.to == "null":
                body, orig = struct.pack(endian + "I", fam) + body, orig + 4
            out_recs.append((sec, frac, orig, body))
    lt = LINKTYPE_RAW if a.to == "raw" else LINKTYPE_NULL
    with open(a.out, "wb") as f:
        f.write(magic + struct.pack(endian + "HHiIII", 2, 4, 0, 0, snap, lt))
        for sec, frac, orig, body in out_recs:
            f.write(struct.pack(endian + "IIII", sec, frac, len(body), orig) + body)
    print("%s: %d packets, link type %d, %d non-IP frames dropped" % (a.out, len(out_recs), lt, dropped))


def cmd_truncate(a):
    with open(a.input, "rb") as f:
        data = f.read()
    e = MAGICS.get(data[:4])
    if e is None:
        raise SystemExit("not a pcap file")
    off, n = 24, 0
    while off + 16 <= len(data):
        n += 1
        incl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
        if n == a.record:
            cut = off + 16 + incl // 2
            with open(a.out, "wb") as f:
                f.write(data[:cut])
            print("%s: cut at byte %d of %d, inside record %d (record starts at %d, %d data bytes, %d kept)"
                  % (a.out, cut, len(data), n, off, incl, incl // 2))
            return
        off += 16 + incl
    raise SystemExit("file has only %d records" % n)


def pcapng_blocks(data):
    if data[:4] != b"\x0a\x0d\x0d\x0a":
        raise SystemExit("not a pcapng file")
    e = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    off, out = 0, []
    while off + 12 <= len(data):
        btype, blen = struct.unpack(e + "II", data[off:off + 8])
        out.append((off, btype, blen))
        off += blen
    return e, out


def cmd_corrupt(a):
    with open(a.input, "rb") as f:
        data = bytearray(f.read())
    e, blocks = pcapng_blocks(bytes(data))
    off, btype, blen = blocks[a.block]
    new = blen + a.delta
    data[off + 4:off + 8] = struct.pack(e + "I", new)
    with open(a.out, "wb") as f:
        f.write(data)
    print("%s: block %d (type 0x%08x) at offset %d: Block Total Length %d -> %d (bytes %d-%d); trailing copy still %d"
          % (a.out, a.block, btype, off, blen, new, off + 4, off + 7, blen))


def cmd_blocks(a):
    with open(a.input, "rb") as f:
        data = f.read()
    _e, blocks = pcapng_blocks(data)
    for i, (off, btype, blen) in enumerate(blocks):
        print("%d\t%d\t0x%08x\t%d" % (i, off, btype, blen))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("relink")
    p.add_argument("--to", choices=["raw", "null"], required=True)
    p.add_argument("--af-inet6", type=int, default=30)
    p.add_argument("out")
    p.add_argument("inputs", nargs="+")
    p.set_defaults(fn=cmd_relink)
    p = sub.add_parser("truncate")
    p.add_argument("--record", type=int, required=True)
    p.add_argument("input")
    p.add_argument("out")
    p.set_defaults(fn=cmd_truncate)
    p = sub.add_parser("corrupt-pcapng")
    p.add_argument("--block", type=int, required=True)
    p.add_argument("--delta", type=int, default=1000)
    p.add_argument("input")
    p.add_argument("out")
    p.set_defaults(fn=cmd_corrupt)
    p = sub.add_parser("blocks")
    p.add_argument("input")
    p.set_defaults(fn=cmd_blocks)
    a = ap.parse_args()
    a.fn(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
