#!/bin/bash
# remote-ssh.pcap: OpenSSH client (ssh) -> OpenSSH server (sshd -D, temporary
# config and host key) on 127.0.0.1:2222 in a private namespace. The client
# has no key the server accepts (BatchMode), so the session ends after the
# key exchange and a refused authentication: banners and both KEXINITs are
# in clear, the rest is encrypted.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/remote/common.sh"
need tcpdump ssh /usr/sbin/sshd ssh-keygen ss capinfos

PORT=2222
tmpdir T
ns_rem NS ssh
ssh-keygen -q -t ed25519 -N '' -f "$T/host_ed25519" >/dev/null
mkdir -p /run/sshd
cat >"$T/sshd_config" <<CFG
Port $PORT
ListenAddress 127.0.0.1
HostKey $T/host_ed25519
PidFile none
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
CFG
bg_ns "$NS" timeout 60 /usr/sbin/sshd -D -e -f "$T/sshd_config"
SRV=$BG_PID
wait_listen "$NS" "$PORT"

cap_start "$NS" lo "$T/out.pcap" "tcp port $PORT"
in_ns "$NS" timeout 20 ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	-o IdentitiesOnly=yes -o IdentityFile=/dev/null -p "$PORT" "$SYN_USER@127.0.0.1" true 2>/dev/null || true
cap_stop
stop_pid "$SRV"
publish "$T/out.pcap" remote-ssh.pcap
