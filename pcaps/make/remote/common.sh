# shellcheck shell=bash
# Helpers for the remote-access and IT protocol captures (ssh, telnet, ftp,
# http, snmp, syslog, tftp, smb, rdp, vnc). Source it after ../common.sh.
# Namespaces are named mtrem-NAME-PID and removed by common.sh's EXIT trap.

# ns_rem VAR NAME -> like ns_new, with the mtrem- prefix
ns_rem() {
	local -n _o="$1"
	local ns="mtrem-$2-$$"
	ip netns del "$ns" 2>/dev/null || true
	ip netns add "$ns"
	_NS_LIST+=("$ns")
	ip -n "$ns" link set lo up
	_o="$ns"
}

REM_DIR="$MAKE_DIR/remote"

# Synthetic patient values, the same as detect/'s leak test markers and the
# astm tests: a resident ID with a valid check digit, a mobile number, a
# Luhn-valid UnionPay-style card number.
SYN_NAME="ZHAO^WEI"
SYN_MRN="MT9001"
SYN_ID="11010519491231002X"
SYN_PHONE="13912345678"
SYN_CARD="6222021234567890128"
SYN_USER="medtap-op"
SYN_PASS="medtap-secret"
