#!/bin/bash
# remote-snmp.pcap: net-snmp snmpget -> snmpd on 127.0.0.1:161 (udp).
#   v2c get with the default community "public" (answered)
#   v1 get with a non-default community (no answer: not configured)
#   v3 noAuthNoPriv get as an unknown user (snmpd answers with a report)
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/remote/common.sh"
need tcpdump snmpget /usr/sbin/snmpd ss capinfos

tmpdir T
ns_rem NS snmp
cat >"$T/snmpd.conf" <<CFG
agentaddress udp:127.0.0.1:161
rocommunity public 127.0.0.1
sysLocation synthetic lab
CFG
bg_ns "$NS" timeout 60 /usr/sbin/snmpd -f -Lo -C -c "$T/snmpd.conf" -p "$T/snmpd.pid" -M /dev/null --persistentDir="$T"
SRV=$BG_PID
wait_listen "$NS" 161 udp

cap_start "$NS" lo "$T/out.pcap" "udp port 161"
in_ns "$NS" timeout 10 snmpget -M /dev/null -v2c -c public 127.0.0.1 1.3.6.1.2.1.1.1.0 >/dev/null || true
in_ns "$NS" timeout 10 snmpget -M /dev/null -v1 -r 0 -t 1 -c medtap-community 127.0.0.1 1.3.6.1.2.1.1.5.0 >/dev/null 2>&1 || true
in_ns "$NS" timeout 10 snmpget -M /dev/null -v3 -r 0 -t 1 -l noAuthNoPriv -u "$SYN_USER" 127.0.0.1 1.3.6.1.2.1.1.1.0 >/dev/null 2>&1 || true
cap_stop
stop_pid "$SRV"
publish "$T/out.pcap" remote-snmp.pcap
