#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/e2e/frr.sh - the shipped FRR examples, used verbatim, carry
# `xlb daemon`'s VIP announcements end to end (tests/e2e/fleet.sh does the
# same with BIRD):
#
#	router r  FRR 8.4 (zebra, bgpd, bfdd) from contrib/frr/router.frr.conf,
#	          AS 65000, eth0 192.0.2.254 2001:db8:1::fe
#	   |
#	node lb   eth0 192.0.2.1 2001:db8:1::1, xlb attached there, `xlb daemon`
#	          with `announce = { table = 254; }`, FRR from
#	          contrib/frr/xlb-node.frr.conf (AS 65001)
#
# VIPs 203.0.113.10:80/tcp (backends 192.0.2.11, .12) and
# [2001:db8:f::10]:80/tcp (backend 2001:db8:1::11), checks off. Asserts
# that both files parse as integrated configurations (vtysh --dryrun), and
# for IPv4 and IPv6 each:
#   1. BGP and BFD come up and the router installs the VIP routes via the
#      node (IPv4 via 192.0.2.1, IPv6 via the node's link-local address);
#   2. `xlb node drain`: the router loses them; `xlb node undrain`: back;
#   3. a VIP's last backend set down: withdrawn at the router (one backend
#      of two down: kept); up again: announced;
#   4. node death (SIGKILL of bgpd, bfdd, zebra and the daemon, the node's
#      link down): the router drops the routes.
# Times are measured at the router (polled every ~10 ms) and printed in
# the PASS lines; only generous bounds are asserted. SKIPs only when FRR is
# not installed and cannot be installed.
set -u

. "$(dirname "$0")/../lib.sh"

FRR=/usr/lib/frr
frr_missing() {
	local d
	for d in zebra bgpd bfdd; do
		[ -x "$FRR/$d" ] || return 0
	done
	! command -v vtysh >/dev/null 2>&1 || ! id frr >/dev/null 2>&1
}
if frr_missing; then
	bash "$LAB_ROOT/scripts/deps.sh" >/dev/null 2>&1 || true
fi
if frr_missing; then
	lab_skip "frr: FRR (package frr: zebra, bgpd, bfdd, vtysh, user frr) is not installed and could not be installed"
	lab_summary
	exit 0
fi

lab_init
OUT=$LAB_TMP/frr
mkdir -p "$OUT"
# FRR drops to user frr: it must reach its directories under the temp dir.
chmod 711 "$LAB_TMP" "$OUT"
export XLB_RUN_DIR=$OUT/run # the daemon's drain and state files
CONF=$OUT/xlb.conf
DLOG=$OUT/daemon.log
V4=203.0.113.10
V6=2001:db8:f::10
N4=192.0.2.1 # the node
N6=2001:db8:1::1
R4=192.0.2.254 # the router (as contrib/frr/router.frr.conf says)
R6=2001:db8:1::fe
RDEV=eth0 # the router's interface toward the node
DPID=
declare -A FPID # "NS-DAEMON" -> pid of a running FRR daemon
FRR_PIDS=()      # every FRR daemon started

# res NAME STATUS: PASS when STATUS is 0.
res() { if [ "$2" = 0 ]; then lab_pass "$1"; else lab_fail "$1"; fi; }

# ---------------------------------------------------------------------------
# Topology.

for n in r lb; do
	lab_ns_add "$n"
	# A link flap must not delete IPv6 addresses, set before any link.
	lab_ns "$n" sysctl -qw net.ipv6.conf.all.keep_addr_on_down=1 \
		net.ipv6.conf.default.keep_addr_on_down=1 >/dev/null
done
lab_ns r sysctl -qw net.ipv4.conf.all.ignore_routes_with_linkdown=1 \
	net.ipv6.conf.all.ignore_routes_with_linkdown=1 >/dev/null
lab_veth lb "$LAB_DEV" 10 r "$RDEV" 11
printf '%s\n' "address add $N4/24 dev $LAB_DEV" "address add $N6/64 dev $LAB_DEV nodad" |
	ip -n "$(lab_nsname lb)" -batch - || lab_die "node addressing"
printf '%s\n' "address add $R4/24 dev $RDEV" "address add $R6/64 dev $RDEV nodad" |
	ip -n "$(lab_nsname r)" -batch - || lab_die "router addressing"
lab_wait_up lb "$LAB_DEV"
lab_wait_up r "$RDEV"
link_local() { # NS DEV: the interface's IPv6 link-local address
	ip -n "$(lab_nsname "$1")" -6 -o addr show dev "$2" scope link |
		awk '{ sub("/.*", "", $4); print $4; exit }'
}
has_ll() { [ -n "$(link_local lb "$LAB_DEV")" ]; }
lab_wait 3 has_ll || lab_die "the node has no link-local address"
LL=$(link_local lb "$LAB_DEV")

lab_lb_attach --seed 00112233445566778899aabbccddeeff >/dev/null || lab_die "attach"
lab_on_exit lab_xlb detach "$LAB_DEV"

# ---------------------------------------------------------------------------
# FRR: zebra, bfdd and bgpd per namespace, each reading a verbatim copy of
# the contrib file (each logs "No such command" for the other daemons'
# lines), with their pid files, sockets and logs in $OUT/frr-NS. The same
# file as an integrated frr.conf (vtysh -b) must parse as a whole.

for f in router.frr.conf xlb-node.frr.conf; do
	out=$(vtysh --dryrun -f "$LAB_ROOT/contrib/frr/$f" 2>&1)
	res "contrib/frr/$f is a valid integrated configuration (vtysh --dryrun)${out:+: $out}" $?
done

frr_start() { # NS CONTRIB_FILE
	local ns=$1 d=$OUT/frr-$1 x args
	mkdir -p "$d"
	for x in zebra bfdd bgpd; do
		cp "$LAB_ROOT/contrib/frr/$2" "$d/$x.conf" || lab_die "no contrib/frr/$2"
	done
	chown -R frr:frr "$d"
	for x in zebra bfdd bgpd; do
		args=(-f "$d/$x.conf" -i "$d/$x.pid" -z "$d/zserv.api" --vty_socket "$d"
			-P 0 -u frr -g frr --log stdout)
		[ "$x" = bfdd ] && args+=(--bfdctl "$d/bfdd.sock")
		# nsenter directly (not lab_ns) so that $! is the daemon itself.
		nsenter --net="/run/netns/$(lab_nsname "$ns")" -- "$FRR/$x" "${args[@]}" \
			>>"$d/$x.log" 2>&1 &
		FPID[$ns-$x]=$!
		FRR_PIDS+=("$!")
		lab_track_pid "$!"
		if [ "$x" = zebra ]; then
			lab_wait 5 test -S "$d/zserv.api" || lab_die "$ns: zebra did not start ($(tail -3 "$d/zebra.log"))"
		fi
	done
}
# FRR keeps a directory per process in /var/tmp/frr (its crash log), which
# it removes when it exits cleanly: stop ours with SIGTERM, and remove the
# directories of those that were killed.
frr_forget() { # PID...
	local p x
	for p in "$@"; do
		for x in zebra bfdd bgpd; do
			rm -rf "/var/tmp/frr/$x.$p"
		done
	done
}
frr_stop_all() {
	local p
	for p in "${FPID[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${FPID[@]}"; do
		lab_wait 3 _lab_gone "$p" || kill -9 "$p" 2>/dev/null
		lab_wait 1 _lab_gone "$p"
	done
	frr_forget "${FRR_PIDS[@]}"
}
lab_on_exit frr_stop_all
vty() { # NS COMMAND: vtysh on the namespace's FRR
	vtysh --vty_socket "$OUT/frr-$1" -c "$2"
}

# ---------------------------------------------------------------------------
# xlb.

cat >"$CONF" <<EOF
announce = { table = 254; };
node = { drain_timeout = 1; };
vips = (
  { vip = "$V4:80/tcp"; check = { type = "none"; };
    backends = ( { addr = "192.0.2.11"; }, { addr = "192.0.2.12"; } ); },
  { vip = "[$V6]:80/tcp"; check = { type = "none"; };
    backends = ( { addr = "2001:db8:1::11"; } ); } );
EOF
daemon_start() {
	# nsenter directly (not lab_ns) so that $! is the daemon itself.
	nsenter --net="/run/netns/$(lab_nsname lb)" -- "$XLB" --pin-dir "$LAB_PIN_DIR" \
		daemon --config "$CONF" 2>>"$DLOG" &
	DPID=$!
	lab_track_pid "$DPID"
}

# ---------------------------------------------------------------------------
# The router's view.

now_us() { local t=${EPOCHREALTIME//[!0-9]/}; echo $((10#$t)); }
ms_since() { echo $((($(now_us) - $1) / 1000)); } # T0 from now_us
rt() { ip -n "$(lab_nsname r)" "$1" route show "$2" 2>/dev/null; }
# is4/is6 up|down: the router's VIP route is BGP's via the node / absent.
is4() {
	local o
	o=$(rt -4 "$V4/32")
	if [ "$1" = up ]; then [[ $o == "$V4 via $N4 dev $RDEV proto bgp "* ]]; else [ -z "$o" ]; fi
}
is6() {
	local o
	o=$(rt -6 "$V6/128")
	if [ "$1" = up ]; then [[ $o == "$V6 via $LL dev $RDEV proto bgp "* ]]; else [ -z "$o" ]; fi
}
# The node's VIP route (xlb's, protocol 251) is there (up) or not (down).
nd() { # up|down FAMILY PREFIX
	local o
	o=$(ip -n "$(lab_nsname lb)" "$2" route show "$3" proto 251 2>/dev/null)
	if [ "$1" = up ]; then [ -n "$o" ]; else [ -z "$o" ]; fi
}
# watch_vips up|down SECS [4|6|46 [node]]: polls the router every ~10 ms
# until the families' VIP routes are all so; W4/W6 get the ms since T0 at
# which each was first seen so ("-" for a family not watched). With
# "node", also the node's own route until it is so: NT4/NT6. 1 on timeout.
watch_vips() {
	local want=$1 end fams=${3:-46}
	end=$(($(now_us) + $2 * 1000000))
	W4='' W6='' NT4='' NT6=''
	[[ $fams == *4* ]] || W4=- NT4=-
	[[ $fams == *6* ]] || W6=- NT6=-
	[ "${4:-}" = node ] || NT4=- NT6=-
	while :; do
		[ -n "$NT4" ] || ! nd "$want" -4 "$V4/32" || NT4=$(ms_since "$T0")
		[ -n "$NT6" ] || ! nd "$want" -6 "$V6/128" || NT6=$(ms_since "$T0")
		[ -n "$W4" ] || ! is4 "$want" || W4=$(ms_since "$T0")
		[ -n "$W6" ] || ! is6 "$want" || W6=$(ms_since "$T0")
		[ -n "$W4" ] && [ -n "$W6" ] && return 0
		[ "$(now_us)" -lt "$end" ] || return 1
		sleep 0.01
	done
}
# under MS LIMIT: a measured time is there and below LIMIT ms.
under() { [ -n "$1" ] && [ "$1" != - ] && [ "$1" -lt "$2" ]; }
dump() { # on a failure that stops the test: what the router and the node had
	{
		rt -4 "$V4/32"
		rt -6 "$V6/128"
		vty r 'show bgp summary'
		vty r 'show bfd peers brief'
		ip -n "$(lab_nsname lb)" route show proto 251
		ip -n "$(lab_nsname lb)" -6 route show proto 251
		vty lb 'show ip route kernel'
		vty lb 'show ipv6 route kernel'
		tail -5 "$DLOG"
		tail -5 "$OUT"/frr-*/*.log
	} 2>&1 | sed 's/^/  /'
}

# ---------------------------------------------------------------------------
# 1. BGP and BFD up, the VIPs installed at the router via the node.

T0=$(now_us)
frr_start r router.frr.conf
frr_start lb xlb-node.frr.conf
daemon_start

# bgp_up PEER: the router's session with PEER is established.
bgp_up() { vty r "show bgp neighbors $1 json" | grep -q '"bgpState":"Established"'; }
# bfd PEER: the state of the router's BFD session with PEER ("none" if it
# has none), and its timers: "up 100 100 3" (rx ms, tx ms, multiplier).
bfd() {
	vty r 'show bfd peers json' | "$LAB_PY" -c '
import json, sys
p = [p for p in json.load(sys.stdin) if p.get("peer") == sys.argv[1]]
print(" ".join(str(p[0][k]) for k in ("status", "receive-interval",
      "transmit-interval", "detect-multiplier")) if p else "none")' "$1"
}
bfd_up() { [ "$(bfd "$1")" = "up 100 100 3" ]; }
# bgp_bfd PEER: what the router's BGP says of its BFD session with PEER.
bgp_bfd() {
	vty r "show bgp neighbors $1 json" | "$LAB_PY" -c '
import json, sys
print(json.load(sys.stdin).get(sys.argv[1], {}).get("peerBfdInfo", {}).get("status"))' "$1"
}
lab_wait 20 bgp_up "$N4"
res "1: IPv4 BGP session with the node established ($(ms_since "$T0") ms after the daemons started)" $?
lab_wait 10 bgp_up "$N6"
res "1: IPv6 BGP session with the node established" $?
lab_wait 10 bfd_up "$N4"
res "1: BFD up with $N4, 100 ms x 3 (the profile): $(bfd "$N4")" $?
lab_wait 10 bfd_up "$N6"
res "1: BFD up with $N6, 100 ms x 3 (the profile): $(bfd "$N6")" $?
lab_check "1: BGP sees BFD Up for both neighbours" \
	[ "$(bgp_bfd "$N4") $(bgp_bfd "$N6")" = "Up Up" ]
if watch_vips up 10; then
	lab_pass "1: the router installs $V4/32 via $N4 and $V6/128 via the node's link-local $LL (IPv4 ${W4} ms, IPv6 ${W6} ms after the daemons started)"
else
	lab_fail "1: the router installs $V4/32 via $N4 and $V6/128 via $LL (IPv4 ${W4:-never}, IPv6 ${W6:-never})"
	dump
	lab_summary
	exit 1
fi
lab_check "1: the node's routes are xlb's blackholes in the main table" \
	bash -c "ip -n $(lab_nsname lb) route show $V4/32 proto 251 | grep -q '^blackhole' &&
		ip -n $(lab_nsname lb) -6 route show $V6/128 proto 251 | grep -q '^blackhole'"
zebra_kernel() { # the node's zebra has both as kernel routes
	vty lb "show ip route $V4/32" | grep -q 'Known via "kernel"' &&
		vty lb "show ipv6 route $V6/128" | grep -q 'Known via "kernel"'
}
lab_check "1: the node's zebra has them as kernel routes" zebra_kernel

# ---------------------------------------------------------------------------
# 2. Drain and undrain; 3. backends down and up. Each change is timed from
# the command: when the node's route changed, when the router's did.

# times: "IPv4 node N ms, router R ms; IPv6 ..." of the last watch_vips.
times() {
	local t=
	[ "$W4" = - ] || t="IPv4 node ${NT4:-never} ms, router ${W4:-never} ms"
	[ "$W6" = - ] || t="${t:+$t; }IPv6 node ${NT6:-never} ms, router ${W6:-never} ms"
	echo "$t"
}
ok_ms() { [ "$1" = - ] || under "$1" 5000; }
# timed up|down 4|6|46 WHAT CMD...: runs CMD, waits until the router's VIP
# routes of those families are up/down (within 5 s); one PASS/FAIL line.
timed() {
	local want=$1 fams=$2 what=$3 rc
	shift 3
	T0=$(now_us)
	"$@" >"$OUT/cmd.out" 2>&1
	rc=$?
	watch_vips "$want" 5 "$fams" node
	res "$what (exit $rc): $(times)" \
		"$([ $rc = 0 ] && ok_ms "$W4" && ok_ms "$W6"; echo $?)"
}

timed down 46 "2: xlb node drain: the router loses both routes" lab_xlb node drain
timed up 46 "2: xlb node undrain: both back at the router" lab_xlb node undrain

lab_xlb backend set "$V4:80/tcp" 192.0.2.11 --state down >/dev/null
sleep 1.5 # the daemon re-reads operators' changes every second
lab_check "3: one of $V4's two backends down: the router keeps the route" is4 up
timed down 4 "3: $V4's last backend down: withdrawn at the router" \
	lab_xlb backend set "$V4:80/tcp" 192.0.2.12 --state down
lab_check "3: $V6 kept meanwhile" is6 up
timed up 4 "3: a backend of $V4 up again: announced at the router" \
	lab_xlb backend set "$V4:80/tcp" 192.0.2.12 --state up
lab_xlb backend set "$V4:80/tcp" 192.0.2.11 --state up >/dev/null
timed down 6 "3: $V6's last backend down: withdrawn at the router" \
	lab_xlb backend set "[$V6]:80/tcp" 2001:db8:1::11 --state down
lab_check "3: $V4 kept meanwhile" is4 up
timed up 6 "3: $V6's backend up again: announced at the router" \
	lab_xlb backend set "[$V6]:80/tcp" 2001:db8:1::11 --state up

# ---------------------------------------------------------------------------
# 4. The node dies: its FRR and daemon SIGKILLed, its link down.

lab_check "4: both VIPs announced before" lab_wait 5 watch_vips up 0
dead=("${FPID[lb-bgpd]}" "${FPID[lb-bfdd]}" "${FPID[lb-zebra]}" "$DPID")
disown "${dead[@]}" # no "Killed" notices from bash
T0=$(now_us)
kill -9 "${dead[@]}"
ip -n "$(lab_nsname lb)" link set "$LAB_DEV" down
watch_vips down 5
res "4: node death (SIGKILL of bgpd, bfdd, zebra and the xlb daemon, link down): withdrawn at the router in IPv4 ${W4:-never} ms, IPv6 ${W6:-never} ms" \
	"$(under "$W4" 5000 && under "$W6" 5000; echo $?)"
for p in "${dead[@]}"; do
	lab_wait 2 _lab_gone "$p"
done
unset 'FPID[lb-bgpd]' 'FPID[lb-bfdd]' 'FPID[lb-zebra]'
bfd_down() { # neither of the router's BFD sessions up
	local a b
	a=$(bfd "$N4") b=$(bfd "$N6")
	[ "${a%% *}" != up ] && [ "${b%% *}" != up ]
}
lab_check "4: the router's BFD sessions go down" lab_wait 3 bfd_down

lab_summary
