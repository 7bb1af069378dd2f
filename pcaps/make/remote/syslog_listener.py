"""Syslog capture helper: a listener on UDP and TCP that reads and drops
what it gets (the capture is what matters).

usage: syslog_listener.py PORT
"""
import select
import socket
import sys

port = int(sys.argv[1])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", port))
t = socket.socket()
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("127.0.0.1", port))
t.listen(4)
conns = []
while True:
    r, _, _ = select.select([u, t] + conns, [], [], 30)
    if not r:
        break
    for s in r:
        if s is u:
            u.recv(65535)
        elif s is t:
            c, _ = t.accept()
            conns.append(c)
        elif not s.recv(65535):
            conns.remove(s)
            s.close()
