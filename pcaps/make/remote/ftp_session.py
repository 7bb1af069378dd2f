"""FTP capture helper: pyftpdlib server with one synthetic account, and an
ftplib client that logs in, uploads and downloads a file whose name holds
synthetic patient data (only its extension may come out of medtap).

usage: ftp_session.py server PORT DIR USER PASSWORD | client PORT USER PASSWORD NAME PHONE
"""
import io
import sys


def server(port, root, user, password):
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler
    from pyftpdlib.servers import FTPServer

    auth = DummyAuthorizer()
    auth.add_user(user, password, root, perm="elradfmw")
    handler = FTPHandler
    handler.authorizer = auth
    handler.passive_ports = range(30000, 30010)
    FTPServer(("127.0.0.1", port), handler).serve_forever(timeout=1, blocking=True)


def client(port, user, password, name, phone):
    import ftplib

    f = ftplib.FTP()
    f.connect("127.0.0.1", port, timeout=10)
    try:
        f.login(user, "wrong-" + password)
    except ftplib.error_perm:
        pass
    f.login(user, password)
    f.storbinary("STOR " + name, io.BytesIO(b"synthetic report, call " + phone.encode() + b"\n"))
    f.retrbinary("RETR " + name, lambda b: None)
    try:
        f.retrbinary("RETR missing-file.hl7", lambda b: None)
    except ftplib.error_perm:
        pass
    f.quit()


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5])
    else:
        client(int(sys.argv[2]), *sys.argv[3:7])
