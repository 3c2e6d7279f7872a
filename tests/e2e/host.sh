#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/e2e/host.sh - attaching xlb leaves the LB a host, and detaching
# gives the host back what attach changed. In the standard lab
# (tests/lib.sh), with the LB's eth0 accepting router advertisements as a
# host's interface does by default:
#   - control: with forwarding on the LB's eth0, a client whose route to
#     b1 goes through the LB reaches b1's port 22 (the check is real);
#   - after `xlb attach`, VIP traffic flows to IPv4 and IPv6 backends
#     (next hops resolve without forwarding on eth0), eth0's forwarding
#     sysctls are what they were, and
#   - that client reaches nothing on b1's port 22 through the LB (IPv4,
#     IPv6): the LB does not route for its neighbours;
#   - a router advertisement sent to eth0 is accepted (a default route);
#   - `xlb detach` restores every forwarding sysctl to its value before
#     attach, also after a second attach (already attached) and an
#     attach/detach cycle, and leaves no record behind in the run dir.
# Prints PASS/FAIL per check; exits 1 if any failed.
set -u
export LC_ALL=C

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

LAB_NCLIENTS=${HOST_CLIENTS:-20} # read by lab_init
SSH_PORT=22
VIP4=203.0.113.10
VIP6=2001:db8:f::10

lab_init
export XLB_RUN_DIR=$LAB_TMP/run # the state file of this run only

# knobs : the sysctls attach must not leave changed, name=value each.
KNOBS=(net.ipv4.conf.eth0.forwarding net.ipv6.conf.eth0.forwarding
	net.ipv4.conf.lo.forwarding net.ipv6.conf.lo.forwarding
	net.ipv4.conf.all.forwarding net.ipv6.conf.all.forwarding
	net.ipv6.conf.eth0.accept_ra)
knobs() { lab_ns lb sysctl -n "${KNOBS[@]}" | paste -sd' '; }

# reach ADDR : what b1's port-22 listener answers the client (empty: nothing).
reach() {
	local a=$1
	[[ $a == *:* ]] && a="[$a]"
	lab_ns c timeout 4 socat -T 2 - "TCP:$a:$SSH_PORT,connect-timeout=2" \
		</dev/null 2>/dev/null
}

reach_ok() { reach "$1" | grep -q ssh-b1; }

# vip_ok VIP : a client source gets an answer from a backend through VIP.
vip_ok() {
	local src=${LAB_SRC4[0]}
	[[ $1 == *:* ]] && src=${LAB_SRC6[0]}
	echo "$src" | lab_connect "$1" 80 --timeout 2 | grep -Eq ' be[123]$'
}

# ra_default : the LB has a default route learnt from an advertisement.
ra_default() { ip -n "$(lab_nsname lb)" -6 route show default | grep -q 'proto ra'; }

# send_ra : a router advertisement from the client's link-local address.
send_ra() {
	lab_ns c "$LAB_PY" - "$LAB_DEV" <<'EOF'
import sys
from scapy.all import Ether, IPv6, ICMPv6ND_RA, ICMPv6NDOptSrcLLAddr, sendp, get_if_hwaddr, conf
conf.verb = 0
dev = sys.argv[1]
mac = get_if_hwaddr(dev)
ll = "fe80::" + ":".join(["%x" % (int(mac.replace(":", "")[i:i + 4], 16)) for i in (0, 4, 8)])
p = (Ether(src=mac, dst="33:33:00:00:00:01") /
     IPv6(src="fe80::c1", dst="ff02::1", hlim=255) /
     ICMPv6ND_RA(routerlifetime=1800) / ICMPv6NDOptSrcLLAddr(lladdr=mac))
sendp(p, iface=dev, count=3, inter=0.2)
EOF
}

ssh_listening() { lab_ns b1 ss -Hltn "sport = :$SSH_PORT" | grep -q .; }

lab_setup
b1=$(lab_nsname b1)
nsenter --net="/run/netns/$b1" -- socat "TCP6-LISTEN:$SSH_PORT,ipv6only=0,fork,reuseaddr" \
	SYSTEM:"echo ssh-b1" >/dev/null 2>&1 &
lab_track_pid $!
lab_wait 5 ssh_listening ||
	lab_die "no listener on b1:$SSH_PORT"
# The client reaches b1 through the LB, as if the LB were its gateway.
ip -n "$(lab_nsname c)" route add "${LAB_BE4[0]}/32" via "$LAB_LB4" ||
	lab_die "client route"
ip -n "$(lab_nsname c)" -6 route add "${LAB_BE6[0]}/128" via "$LAB_LB6" ||
	lab_die "client route"
lab_ns lb sysctl -qw "net.ipv6.conf.$LAB_DEV.accept_ra=1" ||
	lab_die "accept_ra on the LB"

# Control: a forwarding LB does route the client to b1's port 22.
lab_ns lb sysctl -qw "net.ipv4.conf.$LAB_DEV.forwarding=1" >/dev/null
lab_check "control: a forwarding LB routes the client to b1:$SSH_PORT" \
	lab_wait 5 reach_ok "${LAB_BE4[0]}"
lab_ns lb sysctl -qw "net.ipv4.conf.$LAB_DEV.forwarding=0" >/dev/null

before=$(knobs)
lab_log "sysctls before attach: $before"
lab_attach_pair "$VIP4" "$VIP6" "${LAB_BE4[0]}" "${LAB_BE6[0]}"

lab_check "IPv4 VIP reaches its backend (next hop resolved without forwarding on $LAB_DEV)" \
	lab_wait 5 vip_ok "$VIP4"
lab_check "IPv6 VIP reaches its backend (next hop resolved without forwarding on $LAB_DEV)" \
	lab_wait 5 vip_ok "$VIP6"

after=$(knobs)
read -r -a b <<<"$before"
read -r -a a <<<"$after"
lab_check "attach leaves $LAB_DEV's IPv4 forwarding as it was (${b[0]} -> ${a[0]})" \
	[ "${a[0]}" = "${b[0]}" ]
lab_check "attach leaves $LAB_DEV's IPv6 forwarding as it was (${b[1]} -> ${a[1]})" \
	[ "${a[1]}" = "${b[1]}" ]
lab_check "attach leaves the global forwarding switches as they were" \
	[ "${a[4]} ${a[5]}" = "${b[4]} ${b[5]}" ]

got=$(reach "${LAB_BE4[0]}")
lab_check "client routing through the LB gets nothing from b1:$SSH_PORT (IPv4, got '$got')" \
	[ -z "$got" ]
got=$(reach "${LAB_BE6[0]}")
lab_check "client routing through the LB gets nothing from b1:$SSH_PORT (IPv6, got '$got')" \
	[ -z "$got" ]

send_ra || lab_fail "scapy could not send the advertisement"
lab_check "a router advertisement on $LAB_DEV is accepted after attach (default route)" \
	lab_wait 3 ra_default

# Attaching again changes nothing; one detach gives everything back.
lab_lb_attach >/dev/null 2>&1 || lab_fail "second attach (already attached)"
if ! out=$(lab_xlb detach "$LAB_DEV" 2>&1); then
	lab_fail "xlb detach: $out"
fi
after=$(knobs)
lab_check "detach restores the sysctls (before: $before, after: $after)" \
	[ "$after" = "$before" ]
lab_check "detach leaves no state file in the run dir" \
	[ -z "$(ls -A "$XLB_RUN_DIR" 2>/dev/null)" ]

# A second cycle from a host whose lo already forwards: left as it was.
lab_ns lb sysctl -qw net.ipv4.conf.lo.forwarding=1 >/dev/null
before=$(knobs)
lab_lb_attach >/dev/null 2>&1 || lab_fail "re-attach"
lab_xlb detach "$LAB_DEV" >/dev/null 2>&1 || lab_fail "re-detach"
after=$(knobs)
lab_check "attach/detach keeps a value the host had set (before: $before, after: $after)" \
	[ "$after" = "$before" ]

lab_summary
