#!/bin/bash
# remote-vnc.pcap: TigerVNC vncviewer (under xvfb-run) -> TigerVNC Xvnc on
# 127.0.0.1:5901 and :5902, in a private namespace.
#   stream 0: Xvnc -SecurityTypes None: no authentication
#   stream 1: Xvnc -SecurityTypes VncAuth: the viewer answers the challenge
#             from a password file (synthetic password)
# Each viewer is stopped after 3 s.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/remote/common.sh"
need tcpdump Xvnc vncviewer vncpasswd xvfb-run ss capinfos

tmpdir T
ns_rem NS vnc
printf "%s\n" "$SYN_PASS" | vncpasswd -f >"$T/passwd"
bg_ns "$NS" timeout 60 Xvnc :91 -rfbport 5901 -localhost -SecurityTypes None -geometry 640x480 -nolisten tcp
S1=$BG_PID
bg_ns "$NS" timeout 60 Xvnc :92 -rfbport 5902 -localhost -SecurityTypes VncAuth -PasswordFile "$T/passwd" -geometry 800x600 -nolisten tcp
S2=$BG_PID
wait_listen "$NS" 5901
wait_listen "$NS" 5902

cap_start "$NS" lo "$T/out.pcap" "tcp port 5901 or tcp port 5902"
in_ns "$NS" timeout 3 xvfb-run -a vncviewer -Shared 127.0.0.1::5901 >/dev/null 2>&1 || true
sleep 0.3
in_ns "$NS" timeout 3 xvfb-run -a vncviewer -Shared -passwd "$T/passwd" 127.0.0.1::5902 >/dev/null 2>&1 || true
cap_stop
stop_pid "$S1"
stop_pid "$S2"
publish "$T/out.pcap" remote-vnc.pcap
