"""SMB capture helper: a minimal server that answers Negotiate only, then
closes when the client goes on (session setup). It answers an SMB1
multi-protocol Negotiate with "NT LM 0.12" when offered (SMB1 in use), else
with the SMB2 wildcard 2.??? when "SMB 2.???" is offered, and an SMB2
Negotiate with dialect 3.0.2, signing required.

usage: smb_responder.py PORT CONNECTIONS
"""
import socket
import struct
import sys
import time


def recv_msg(c):
    hdr = b""
    while len(hdr) < 4:
        b = c.recv(4 - len(hdr))
        if not b:
            return None
        hdr += b
    n = int.from_bytes(hdr[1:4], "big")
    body = b""
    while len(body) < n:
        b = c.recv(n - len(body))
        if not b:
            return None
        body += b
    return body


def send_msg(c, body):
    c.sendall(b"\x00" + len(body).to_bytes(3, "big") + body)


def smb2_negotiate_response(msg_id, dialect):
    hdr = b"\xfeSMB" + struct.pack("<HHIHHIIQIIQ16s", 64, 0, 0, 0, 1, 1, 0, msg_id, 0, 0, 0, b"\x00" * 16)
    now = int((time.time() + 11644473600) * 10_000_000)
    body = struct.pack("<HHHH16sIIIIQQHHI", 65, 0x03, dialect, 0, b"medtap-synthetc!", 0, 65536, 65536, 65536, now, 0, 128, 0, 0)
    return hdr + body + b"\x00"


def smb1_negotiate_response(req, index):
    # Header: reply flag, same PID/MID as the request.
    hdr = bytearray(req[:32])
    hdr[9] |= 0x80
    hdr[5:9] = b"\x00\x00\x00\x00"
    words = struct.pack("<HBHHIIIIQhB", index, 0x0B, 50, 1, 16644, 65536, 0, 0, 0, 0, 8)
    data = b"\x11" * 8 + "SYNTH\x00".encode("utf-16-le")
    return bytes(hdr) + b"\x11" + words + struct.pack("<H", len(data)) + data


def serve(c):
    while True:
        m = recv_msg(c)
        if m is None or len(m) < 4:
            return
        if m[:4] == b"\xffSMB" and m[4] == 0x72:
            p = m[32:]
            wc = p[0]
            bc = struct.unpack_from("<H", p, 1 + 2 * wc)[0]
            names = [d.decode("ascii", "replace") for d in p[3 + 2 * wc:3 + 2 * wc + bc].split(b"\x02") if d]
            names = [n.rstrip("\x00") for n in names]
            if "NT LM 0.12" in names:
                send_msg(c, smb1_negotiate_response(m, names.index("NT LM 0.12")))
            else:
                send_msg(c, smb2_negotiate_response(0, 0x02FF))
        elif m[:4] == b"\xfeSMB" and struct.unpack_from("<H", m, 12)[0] == 0:
            msg_id = struct.unpack_from("<Q", m, 24)[0]
            send_msg(c, smb2_negotiate_response(msg_id, 0x0302))
        else:
            return


ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(sys.argv[1])))
ls.listen(2)
for _ in range(int(sys.argv[2])):
    c, _ = ls.accept()
    c.settimeout(10)
    try:
        serve(c)
    except OSError:
        pass
    c.close()
