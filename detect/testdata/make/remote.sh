#!/bin/bash
# Real-peer captures for the remote-access, credential and plaintext-PHI
# rules, in a private namespace (mtdet-remote-PID, loopback only, removed
# at exit). Every value is synthetic: the user names and passwords below,
# the resident ID numbers 110105198506120034 and 320502197703042183 (valid
# check digits, invented) and the mobile number 13912345678.
#
#   ssh-session.pcap    OpenSSH ssh (key auth) -> sshd 127.0.0.1:22, runs `true`
#   telnet-login.pcap   telnet client -> inetutils telnetd 127.0.0.1:23 (a
#                       login program of ours prompts login:/Password:);
#                       user medtap-tech, password tel-secret-9
#   ftp-upload.pcap     curl -> pyftpdlib 127.0.0.1:21, USER medtap-ftp PASS
#                       ftp-secret-3, STOR of report-110105198506120034.txt
#   http-basic-phi.pcap curl -u medtap-web:web-secret-7 POST with an ID number
#                       and a phone number in the body -> python3 http.server 127.0.0.1:8080
#   https-basic-phi.pcap the same POST over TLS (openssl s_server -www 127.0.0.1:8443): the negative
#   syslog-phi.pcap     logger --rfc5424 -> rsyslogd imudp 127.0.0.1:514, a
#                       message with an ID number and a phone number
#   syslog-clean.pcap   the same path, a message without identifiers
#   snmp-v2c.pcap       snmpget -v2c -c public -> snmpd 127.0.0.1:161
#   snmp-v3.pcap        snmpget -v3 authPriv (SHA/AES) -> snmpd: the negative
#
# usage (as root): detect/testdata/make/remote.sh
source "$(cd "$(dirname "$0")" && pwd)/../../../pcaps/make/common.sh"
need tcpdump ssh sshd ssh-keygen telnet curl openssl logger rsyslogd snmpd snmpget
$PY -c 'import pyftpdlib' 2>/dev/null || { echo "missing: python3-pyftpdlib" >&2; exit 1; }
[[ -x /usr/sbin/telnetd ]] || { echo "missing: inetutils-telnetd" >&2; exit 1; }
OUT="$(cd "$MAKE_DIR/../../detect/testdata/captures" && pwd)"
tmpdir T
chmod 0755 "$T"
NS="mtdet-remote-$$"
ip netns del "$NS" 2>/dev/null || true
ip netns add "$NS"
_NS_LIST+=("$NS")
ip -n "$NS" link set lo up

cap() { # cap NAME FILTER CMD...
	local name="$1" filter="$2"; shift 2
	cap_start "$NS" lo "$T/$name" "$filter"
	"$@"
	cap_stop
	chmod 0644 "$T/$name"; mv -f "$T/$name" "$OUT/$name"
	log "wrote $name ($(stat -c %s "$OUT/$name") bytes)"
}

# SSH.
ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey"
ssh-keygen -q -t ed25519 -N '' -f "$T/userkey"
cp "$T/userkey.pub" "$T/authorized_keys"
mkdir -p /run/sshd
cat >"$T/sshd_config" <<CONF
HostKey $T/hostkey
AuthorizedKeysFile $T/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
UsePAM no
StrictModes no
PidFile $T/sshd.pid
ListenAddress 127.0.0.1:22
CONF
bg_ns "$NS" /usr/sbin/sshd -D -e -f "$T/sshd_config"; SSHD=$BG_PID
wait_listen "$NS" 22
cap ssh-session.pcap "tcp port 22" in_ns "$NS" ssh -i "$T/userkey" -o StrictHostKeyChecking=no \
	-o UserKnownHostsFile=/dev/null -o BatchMode=yes root@127.0.0.1 true
stop_pid "$SSHD"

# Telnet: inetutils telnetd on an accepted socket, with a login program
# that refuses everyone.
cat >"$T/login.sh" <<'SH'
#!/bin/sh
printf 'login: '
read -r u
printf 'Password: '
read -r p
sleep 0.3
echo 'Login incorrect'
SH
chmod 0755 "$T/login.sh"
cat >"$T/inetd.py" <<PY
import socket, subprocess
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 23)); s.listen(1)
c, _ = s.accept()
subprocess.run(["/usr/sbin/telnetd", "-h", "-E", "$T/login.sh"], stdin=c, stdout=c, stderr=c)
PY
bg_ns "$NS" timeout 60 "$PY" "$T/inetd.py"; TD=$BG_PID
wait_listen "$NS" 23
cap telnet-login.pcap "tcp port 23" in_ns "$NS" bash -c \
	"(sleep 1.5; echo medtap-tech; sleep 1; echo tel-secret-9; sleep 1.5) | timeout 10 telnet 127.0.0.1 23 >/dev/null 2>&1 || true"
stop_pid "$TD"

# FTP.
mkdir -p "$T/ftproot"
echo "synthetic report" >"$T/report.txt"
bg_ns "$NS" timeout 60 "$PY" -m pyftpdlib -i 127.0.0.1 -p 21 -u medtap-ftp -P ftp-secret-3 -d "$T/ftproot" -w; FTPD=$BG_PID
wait_listen "$NS" 21
cap ftp-upload.pcap "tcp port 21" in_ns "$NS" curl -s --user medtap-ftp:ftp-secret-3 -T "$T/report.txt" \
	ftp://127.0.0.1/report-110105198506120034.txt
stop_pid "$FTPD"

# HTTP Basic with identifiers in the body, in clear and over TLS.
BODY='patient_id=110105198506120034&phone=13912345678&note=synthetic'
bg_ns "$NS" timeout 60 "$PY" -m http.server --bind 127.0.0.1 8080 --directory "$T/ftproot"; HTTPD=$BG_PID
wait_listen "$NS" 8080
cap http-basic-phi.pcap "tcp port 8080" in_ns "$NS" curl -s -o /dev/null -u medtap-web:web-secret-7 \
	-d "$BODY" http://127.0.0.1:8080/upload
stop_pid "$HTTPD"
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=web.medtap.test" \
	-keyout "$T/srv.key" -out "$T/srv.crt" 2>/dev/null
bg_ns "$NS" timeout 60 openssl s_server -quiet -www -accept 8443 -key "$T/srv.key" -cert "$T/srv.crt"; TLSD=$BG_PID
wait_listen "$NS" 8443
cap https-basic-phi.pcap "tcp port 8443" in_ns "$NS" bash -c \
	"curl -s -k -o /dev/null -u medtap-web:web-secret-7 -d '$BODY' https://127.0.0.1:8443/upload || true"
stop_pid "$TLSD"

# Syslog over UDP to rsyslogd.
cat >"$T/rsyslog.conf" <<CONF
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="514")
*.* action(type="omfile" file="$T/syslog.out")
CONF
bg_ns "$NS" /usr/sbin/rsyslogd -n -f "$T/rsyslog.conf" -i "$T/rsyslog.pid"; RS=$BG_PID
wait_listen "$NS" 514 udp
cap syslog-phi.pcap "udp port 514" in_ns "$NS" logger --rfc5424 -n 127.0.0.1 -P 514 -d -t pump7 \
	"infusion started for patient 320502197703042183 contact 13912345678"
cap syslog-clean.pcap "udp port 514" in_ns "$NS" logger --rfc5424 -n 127.0.0.1 -P 514 -d -t pump7 \
	"infusion started rate 25 ml/h"
stop_pid "$RS"

# SNMP v2c (community in clear) and v3 authPriv.
mkdir -p "$T/snmp"
cat >"$T/snmpd.conf" <<CONF
rocommunity public 127.0.0.1
createUser medtapv3 SHA snmp-auth-pass AES snmp-priv-pass
rouser medtapv3 priv
CONF
SNMP_PERSISTENT_DIR="$T/snmp" bg_ns "$NS" env SNMP_PERSISTENT_DIR="$T/snmp" /usr/sbin/snmpd -f -Lo -C -c "$T/snmpd.conf" \
	-p "$T/snmpd.pid" udp:127.0.0.1:161 >/dev/null; SNMPD=$BG_PID
wait_listen "$NS" 161 udp
cap snmp-v2c.pcap "udp port 161" in_ns "$NS" snmpget -v2c -c public 127.0.0.1 1.3.6.1.2.1.1.1.0 >/dev/null
cap snmp-v3.pcap "udp port 161" in_ns "$NS" snmpget -v3 -l authPriv -u medtapv3 -a SHA -A snmp-auth-pass \
	-x AES -X snmp-priv-pass 127.0.0.1 1.3.6.1.2.1.1.1.0 >/dev/null
stop_pid "$SNMPD"
