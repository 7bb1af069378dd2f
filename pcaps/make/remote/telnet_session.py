"""Telnet capture helper: a one-connection server that runs inetutils
telnetd on the accepted socket (as inetd would), and a client that logs in
with Python's telnetlib (a real RFC 854 client with option negotiation).

usage: telnet_session.py server PORT | client PORT USER PASSWORD
"""
import os
import socket
import subprocess
import sys
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)


def server(port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(1)
    conn, _ = ls.accept()
    fd = conn.fileno()
    # telnetd talks on stdin/stdout, as under inetd.
    subprocess.run(["/usr/sbin/telnetd", "-h"], stdin=fd, stdout=fd, stderr=subprocess.DEVNULL, timeout=30)
    conn.close()


def client(port, user, password):
    import telnetlib

    t = telnetlib.Telnet("127.0.0.1", port, timeout=10)
    t.read_until(b"login: ", timeout=10)
    t.write(user.encode() + b"\r\n")
    t.read_until(b"assword: ", timeout=10)
    t.write(password.encode() + b"\r\n")
    t.read_until(b"incorrect", timeout=10)
    t.close()


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(int(sys.argv[2]))
    else:
        client(int(sys.argv[2]), sys.argv[3], sys.argv[4])
