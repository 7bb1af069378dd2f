"""RDP capture helper: a listener that reads each client's X.224
Connection Request and answers with a Connection Confirm, then closes
(no RDP server runs on the build machine). Connection 1 gets an
RDP_NEG_RSP selecting the best protocol the client asked for (CredSSP,
else TLS); connection 2 gets an RDP_NEG_FAILURE SSL_REQUIRED_BY_SERVER.

usage: rdp_responder.py PORT CONNECTIONS
"""
import socket
import struct
import sys


def read_tpkt(c):
    hdr = b""
    while len(hdr) < 4:
        b = c.recv(4 - len(hdr))
        if not b:
            return None
        hdr += b
    n = struct.unpack(">H", hdr[2:4])[0]
    body = b""
    while len(body) < n - 4:
        b = c.recv(n - 4 - len(body))
        if not b:
            return None
        body += b
    return body


def confirm(neg):
    x224 = bytes([6 + len(neg), 0xD0, 0, 0, 0x12, 0x34, 0]) + neg
    return struct.pack(">BBH", 3, 0, 4 + len(x224)) + x224


ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(sys.argv[1])))
ls.listen(2)
for i in range(int(sys.argv[2])):
    c, _ = ls.accept()
    c.settimeout(10)
    try:
        req = read_tpkt(c)
        requested = 0
        if req and len(req) >= 8 and req[-8] == 0x01:
            requested = struct.unpack("<I", req[-4:])[0]
        if i == 0:
            sel = 2 if requested & 2 else (1 if requested & 1 else 0)
            c.sendall(confirm(struct.pack("<BBHI", 0x02, 0x1F, 8, sel)))
        else:
            c.sendall(confirm(struct.pack("<BBHI", 0x03, 0, 8, 1)))
        c.recv(4096)
    except OSError:
        pass
    c.close()
