#!/bin/bash
# inventory-lan.pcap: a small device LAN for the asset inventory, all real
# peers, between two namespaces over a veth pair (10.99.7.0/24):
#   namespace S "server" 10.99.7.1 (MAC 02:00:00:00:07:01): dnsmasq as DHCP
#     and DNS server (pacs.hospital.lan -> 10.99.7.1; DHCP client names are
#     registered in DNS), and DCMTK storescp as AE PACS on port 104;
#   namespace C "device" (MAC 00:00:0c:07:00:02, a Cisco OUI so the vendor
#     lookup has something to find): busybox udhcpc gets a lease with host
#     name ct-scanner-01 and vendor class MEDTAP-CT (option 60), storescu
#     sends the synthetic CT/MR/SC files as AE CT01, dig asks the DNS server
#     for pacs.hospital.lan and ct-scanner-01.hospital.lan, avahi-daemon
#     announces ct-scanner-01.local by multicast DNS; then the client
#     DHCP server is renumbered (its range becomes 10.99.7.60 only), the
#     client takes the new lease and sends the files again from there: one
#     device, two addresses.
# Captured on the server's veth end "vs".
source "$(dirname "$0")/common.sh"
need tcpdump storescp storescu dump2dcm dnsmasq busybox dig avahi-daemon capinfos ethtool

tmpdir T
make_dicom_files "$T"
mkdir "$T/recv"
ns_new S invs
ns_new C invc
for ns in "$S" "$C"; do in_ns "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; done
ip link add vs netns "$S" mtu 1500 type veth peer name vc netns "$C" mtu 1500
ip -n "$S" link set vs address 02:00:00:00:07:01
ip -n "$C" link set vc address 00:00:0c:07:00:02
for x in "$S vs" "$C vc"; do
	read -r ns ifc <<<"$x"
	in_ns "$ns" ethtool -K "$ifc" tso off gso off gro off >/dev/null
	ip -n "$ns" link set "$ifc" up
done
ip -n "$S" addr add 10.99.7.1/24 dev vs
ip -n "$C" link set vc multicast on

# The client's udhcpc script: configure the address it was given, no more
# (nothing outside the namespace is touched: no resolv.conf, no routes).
cat >"$T/udhcpc.sh" <<'EOS'
#!/bin/sh
case "$1" in
deconfig) ip addr flush dev "$interface" ;;
bound|renew) ip addr flush dev "$interface"; ip addr add "$ip/${mask:-24}" dev "$interface" ;;
esac
exit 0
EOS
chmod +x "$T/udhcpc.sh"

cap_start "$S" vs "$T/out.pcap" ""

dns_dhcp() { # dns_dhcp FIRST LAST: dnsmasq handing out FIRST..LAST
	bg_ns "$S" dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces --interface=vs \
		--listen-address=10.99.7.1 --port=53 --domain=hospital.lan --local=/hospital.lan/ --expand-hosts \
		--address=/pacs.hospital.lan/10.99.7.1 --dhcp-range="$1,$2,255.255.255.0,1h" \
		--dhcp-leasefile="$T/leases.$1" --dhcp-authoritative --pid-file="$T/dnsmasq.pid" --user=root --group=root
	DNSMASQ=$BG_PID
}
dns_dhcp 10.99.7.50 10.99.7.59
wait_listen "$S" 53 udp
bg_ns "$S" timeout 120 storescp --aetitle PACS -od "$T/recv" 104
SCP=$BG_PID
wait_listen "$S" 104

lease() {
	in_ns "$C" timeout 20 busybox udhcpc -i vc -f -q -n -t 5 -s "$T/udhcpc.sh" \
		-x hostname:ct-scanner-01 -V MEDTAP-CT
	in_ns "$C" ip -4 -o addr show dev vc | awk '{print $4}'
}
send() { in_ns "$C" timeout 30 storescu -aet CT01 -aec PACS 10.99.7.1 104 "$T/ct.dcm" "$T/mr.dcm" "$T/sc.dcm"; }

lease
send
in_ns "$C" dig +tries=1 +time=2 @10.99.7.1 pacs.hospital.lan A >/dev/null
in_ns "$C" dig +tries=1 +time=2 @10.99.7.1 ct-scanner-01.hospital.lan A >/dev/null

# Multicast DNS: avahi-daemon announces the host name (no D-Bus needed).
mkdir -p "$T/avahi"
cat >"$T/avahi/avahi-daemon.conf" <<EOS
[server]
host-name=ct-scanner-01
domain-name=local
use-ipv4=yes
use-ipv6=no
allow-interfaces=vc
enable-dbus=no
[publish]
publish-addresses=yes
publish-workstation=no
publish-hinfo=no
[reflector]
[rlimits]
EOS
ip -n "$C" route add 224.0.0.0/4 dev vc 2>/dev/null || true
bg_ns "$C" avahi-daemon -f "$T/avahi/avahi-daemon.conf" --no-drop-root --no-chroot --no-rlimits --no-proc-title
AVAHI=$BG_PID
sleep 4
stop_pid "$AVAHI"

# The DHCP server is renumbered: the device's next lease is another
# address, and the same device carries on from there.
stop_pid "$DNSMASQ"
dns_dhcp 10.99.7.60 10.99.7.60
wait_listen "$S" 53 udp
in_ns "$C" ip addr flush dev vc
lease
send

cap_stop
stop_pid "$SCP"
stop_pid "$DNSMASQ"
# Both transfers succeeded (storescu exits non-zero otherwise); the second
# overwrote the first's files.
n=$(find "$T/recv" -type f | wc -l)
[[ "$n" == 3 ]] || { echo "storescp kept $n files, expected 3" >&2; exit 1; }
publish "$T/out.pcap" inventory-lan.pcap
