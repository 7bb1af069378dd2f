#!/bin/bash
# remote-tftp.pcap: tftp-hpa client -> tftpd-hpa (in.tftpd) on 127.0.0.1:69.
#   get firmware.bin (exists), put config.cfg (allowed with -c), get
#   missing.img (ERROR 1 from the server's transfer port)
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/remote/common.sh"
need tcpdump tftp /usr/sbin/in.tftpd ss capinfos

tmpdir T
ns_rem NS tftp
# in.tftpd resolves its -a address with AI_ADDRCONFIG, which finds nothing
# in a namespace holding only a loopback: give it a veth pair with an address.
ip -n "$NS" link add mtrem0 type veth peer name mtrem1
ip -n "$NS" addr add 10.99.69.1/24 dev mtrem0
ip -n "$NS" link set mtrem0 up; ip -n "$NS" link set mtrem1 up
mkdir "$T/srv" "$T/cli"
head -c 1500 /dev/zero >"$T/srv/firmware.bin"
printf 'synthetic=1\n' >"$T/cli/config.cfg"
chmod 0777 "$T/srv"
bg_ns "$NS" timeout 60 /usr/sbin/in.tftpd -L -c -u root -a 127.0.0.1:69 -s "$T/srv"
SRV=$BG_PID
wait_listen "$NS" 69 udp

cap_start "$NS" lo "$T/out.pcap" "udp"
( cd "$T/cli" && in_ns "$NS" timeout 10 tftp 127.0.0.1 -m binary -c get firmware.bin )
( cd "$T/cli" && in_ns "$NS" timeout 10 tftp 127.0.0.1 -m binary -c put config.cfg )
( cd "$T/cli" && in_ns "$NS" timeout 10 tftp 127.0.0.1 -c get missing.img ) || true
cap_stop
stop_pid "$SRV"
publish "$T/out.pcap" remote-tftp.pcap
