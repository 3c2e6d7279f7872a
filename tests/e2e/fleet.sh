#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/e2e/fleet.sh - three xlb nodes behind a router's ECMP, their VIPs
# announced over BGP by BIRD 2 (with BFD), real TCP, IPv4 and IPv6:
#
#	client c  200 IPv4 + 200 IPv6 sources ---- c0  router r (BIRD, AS 65000,
#	                                                 ECMP, hash policy 3)
#	                                                 eth1 192.0.2.254
#	                                                  |
#	           bridge sw: r, n1..n3 (192.0.2.1-3), b1..b3 (192.0.2.11-13)
#
#	n1..n3  xlb attached to eth0, `xlb daemon` announcing through routing
#	        table 100, BIRD (AS 65001) learning that table, BGP + BFD
#	b1..b3  `xlb decap`, the VIPs on lo, answering the clients directly
#
# Asserts (issue 14):
#   1. every node carries traffic; for every client every node chooses the
#      same backend (`xlb lookup` on each node), and the traffic agrees;
#   4. a backend goes down: no node withdraws anything, every node moves
#      the same clients (and only that backend's);
#   5. a VIP whose last backend goes down is withdrawn by every node, and
#      announced again when it comes back (time measured);
#   6. a configuration change on one node, then the others: the digests
#      differ in between and agree after;
#   3. a node drains: its routes go, it keeps forwarding, no connection
#      fails; undrain brings it back;
#   2. a node is killed hard (link down, SIGKILL of its daemon and BIRD):
#      the router drops it within the BFD detection time (measured), and
#      400 long-lived TCP connections, exchanging data every 100 ms, all
#      survive, those ECMP moved included; restarted, it serves again.
# Prints PASS/FAIL per check and MEASURE lines; exits 1 if a check failed.
# SKIPs only when BIRD is not installed and cannot be installed.
set -u

. "$(dirname "$0")/../lib.sh"

SEED=0123456789abcdef0123456789abcdef
VIP4=203.0.113.10 # 80/tcp, backends b1..b3
VIP6=2001:db8:f::10
HVIP4=203.0.113.11 # 9000/tcp, long-lived connections, backends b1..b3
HVIP6=2001:db8:f::11
HPORT=9000
SVIP4=203.0.113.12 # 80/tcp, b3 alone, checked on port 7000
SVIP6=2001:db8:f::12
SPORT=7000
R4=192.0.2.254
R6=2001:db8:1::fe
NODE4=(192.0.2.1 192.0.2.2 192.0.2.3)
NODE6=(2001:db8:1::1 2001:db8:1::2 2001:db8:1::3)
TABLE=100
BFD_MS=300 # 100 ms x 3
DRAIN_S=3

if ! command -v bird >/dev/null 2>&1; then
	bash "$LAB_ROOT/scripts/deps.sh" >/dev/null 2>&1 || true
fi
if ! command -v bird >/dev/null 2>&1; then
	lab_skip "fleet: BIRD 2 (package bird2) is not installed and could not be installed"
	lab_summary
	exit 0
fi

lab_init
_lab_write_scripts
OUT=$LAB_TMP/fleet
mkdir -p "$OUT"
export XLB_RUN_DIR=$OUT/run # the nodes' drain and state files

# ---------------------------------------------------------------------------
# Topology.

for n in c r sw n1 n2 n3 b1 b2 b3; do
	lab_ns_add "$n"
	# A link flap must not delete IPv6 addresses (IPv6 BGP would not come
	# back), set before any link exists.
	lab_ns "$n" sysctl -qw net.ipv6.conf.all.keep_addr_on_down=1 \
		net.ipv6.conf.default.keep_addr_on_down=1 >/dev/null
done
lab_bridge_add sw br0 100
lab_veth c "$LAB_DEV" 10 r c0 20
lab_veth r eth1 21 sw p-r 101 "$LAB_MTU"
for i in 1 2 3; do
	lab_veth "n$i" "$LAB_DEV" 10 sw "p-n$i" $((110 + i)) "$LAB_MTU"
	lab_veth "b$i" "$LAB_DEV" 10 sw "p-b$i" $((120 + i)) "$LAB_MTU"
done
for p in p-r p-n1 p-n2 p-n3 p-b1 p-b2 p-b3; do
	lab_bridge_port sw br0 "$p"
done

{
	echo "address add 198.51.100.2/24 dev $LAB_DEV"
	echo "address add 2001:db8:2::2/64 dev $LAB_DEV nodad"
	for a in "${LAB_SRC4[@]}"; do echo "address add $a/32 dev $LAB_DEV"; done
	for a in "${LAB_SRC6[@]}"; do echo "address add $a/128 dev $LAB_DEV nodad"; done
	echo "route add default via 198.51.100.1"
	echo "route add default via 2001:db8:2::1"
} | ip -n "$(lab_nsname c)" -batch - || lab_die "client addressing failed"
lab_ns c ethtool -K "$LAB_DEV" tx off >/dev/null || lab_die "ethtool on the client"

{
	echo "address add 198.51.100.1/24 dev c0"
	echo "address add 2001:db8:2::1/64 dev c0 nodad"
	echo "address add $R4/24 dev eth1"
	echo "address add $R6/64 dev eth1 nodad"
	echo "route add $LAB_SRC4_NET via 198.51.100.2"
	echo "route add $LAB_SRC6_NET via 2001:db8:2::2"
} | ip -n "$(lab_nsname r)" -batch - || lab_die "router addressing failed"
# ECMP by the L4 hash on veth: policy 3 with addresses, protocol, ports.
lab_ns r sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
	net.ipv4.fib_multipath_hash_policy=3 net.ipv4.fib_multipath_hash_fields=0x37 \
	net.ipv6.fib_multipath_hash_policy=3 net.ipv6.fib_multipath_hash_fields=0x37 \
	net.ipv4.conf.all.ignore_routes_with_linkdown=1 \
	net.ipv6.conf.all.ignore_routes_with_linkdown=1 >/dev/null ||
	lab_die "router sysctls"

for i in 1 2 3; do
	printf '%s\n' "address add ${NODE4[i - 1]}/24 dev $LAB_DEV" \
		"address add ${NODE6[i - 1]}/64 dev $LAB_DEV nodad" |
		ip -n "$(lab_nsname "n$i")" -batch - || lab_die "node n$i addressing"
	{
		echo "address add ${LAB_BE4[i - 1]}/24 dev $LAB_DEV"
		echo "address add ${LAB_BE6[i - 1]}/64 dev $LAB_DEV nodad"
		for a in "${LAB_VIP4S[@]}"; do echo "address add $a/32 dev lo"; done
		for a in "${LAB_VIP6S[@]}"; do echo "address add $a/128 dev lo nodad"; done
		echo "route add $LAB_SRC4_NET via $R4"
		echo "route add $LAB_SRC6_NET via $R6"
	} | ip -n "$(lab_nsname "b$i")" -batch - || lab_die "backend b$i addressing"
	lab_ns "b$i" sysctl -qw net.ipv4.conf.all.arp_ignore=1 \
		net.ipv4.conf.all.arp_announce=2 "net.ipv4.conf.$LAB_DEV.arp_ignore=1" \
		"net.ipv4.conf.$LAB_DEV.arp_announce=2" "net.ipv4.conf.$LAB_DEV.rp_filter=0" \
		net.ipv4.conf.lo.rp_filter=0 >/dev/null
done
lab_wait_up c "$LAB_DEV"
lab_wait_up r c0
lab_wait_up r eth1
for i in 1 2 3; do
	lab_wait_up "n$i" "$LAB_DEV"
	lab_wait_up "b$i" "$LAB_DEV"
	lab_wait_up sw "p-n$i"
	lab_wait_up sw "p-b$i"
	# XDP_TX out of a node reaches the bridge only through a native program.
	lab_xdp_pass sw "p-n$i"
done

# ---------------------------------------------------------------------------
# Backends: the lab's server (80, 8080), an echo server (HPORT), and b3's
# port SPORT that SVIP's check watches.

cp "$LAB_ROOT/tests/echo.py" "$OUT/echo.py"
cat >"$OUT/listen.py" <<'EOF'
import socket, sys
s = socket.create_server(("::", int(sys.argv[1])), family=socket.AF_INET6,
                         dualstack_ipv6=True, reuse_port=True)
while True:
    c, _ = s.accept()
    c.close()
EOF
start_bg() { # NS PIDFILE LOG CMD...: a process in NS, tracked for cleanup
	local ns=$1 pf=$2 log=$3
	shift 3
	nsenter --net="/run/netns/$(lab_nsname "$ns")" -- "$@" >>"$log" 2>&1 &
	echo $! >"$pf"
	lab_track_pid "$!"
}
# res NAME STATUS: PASS when STATUS is 0 (for checks of several commands).
res() { if [ "$2" = 0 ]; then lab_pass "$1"; else lab_fail "$1"; fi; }
for i in 1 2 3; do
	# Tunnels are accepted from the three nodes alone.
	lab_ns "b$i" "$XLB" decap attach "$LAB_DEV" --from 192.0.2.0/30 \
		--from 2001:db8:1::/126 >/dev/null || lab_die "decap on b$i"
	lab_backend_start "$i"
	start_bg "b$i" "$OUT/echo$i.pid" "$OUT/echo$i.log" "$LAB_PY" "$OUT/echo.py" "${LAB_BE_NAMES[i - 1]}" "$HPORT"
done
start_listener() { start_bg b3 "$OUT/listen.pid" "$OUT/listen.log" "$LAB_PY" "$OUT/listen.py" "$SPORT"; }
start_listener
for i in 1 2 3; do
	lab_backend_wait "$i" || lab_die "backend b$i not listening"
done

# ---------------------------------------------------------------------------
# BIRD: the router and one per node. Files, control sockets, pid files
# and logs in $OUT; each BIRD's pid is tracked and killed at cleanup.

bird_conf_router() {
	cat <<EOF
log "$OUT/bird-r.log" all;
router id $R4;
protocol device { scan time 10; }
protocol kernel k4 { merge paths yes limit 16; ipv4 { import none; export where source = RTS_BGP; }; }
protocol kernel k6 { merge paths yes limit 16; ipv6 { import none; export where source = RTS_BGP; }; }
protocol bfd { interface "eth1" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; }; }
template bgp node {
	local as 65000;
	hold time 3; keepalive time 1; connect delay time 1; connect retry time 1;
	error wait time 1, 4; bfd on;
}
EOF
	for i in 1 2 3; do
		cat <<EOF
protocol bgp n${i}v4 from node { neighbor ${NODE4[i - 1]} as 65001;
	ipv4 { import where net ~ [ 203.0.113.0/24{32,32} ]; export none; }; }
protocol bgp n${i}v6 from node { neighbor ${NODE6[i - 1]} as 65001;
	ipv6 { import where net ~ [ 2001:db8:f::/64{128,128} ]; export none; }; }
EOF
	done
}

bird_conf_node() { # N
	sed "s|@N@|$1|g; s|@ID@|${NODE4[$1 - 1]}|; s|@OUT@|$OUT|; s|@TABLE@|$TABLE|g; s|@R4@|$R4|; s|@R6@|$R6|" <<'EOF'
log "@OUT@/bird-n@N@.log" all;
router id @ID@;
protocol device { scan time 10; }
# The VIP routes the xlb daemon keeps in its table: learnt, never written.
protocol kernel vip4 { kernel table @TABLE@; learn; scan time 10; ipv4 { import all; export none; }; }
protocol kernel vip6 { kernel table @TABLE@; learn; scan time 10; ipv6 { import all; export none; }; }
protocol bfd { interface "eth0" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; }; }
template bgp up {
	local as 65001;
	hold time 3; keepalive time 1; connect delay time 1; connect retry time 1;
	error wait time 1, 4; bfd on;
}
protocol bgp r4 from up { neighbor @R4@ as 65000;
	ipv4 { import none; export where source = RTS_INHERIT && net ~ [ 203.0.113.0/24{32,32} ]; }; }
protocol bgp r6 from up { neighbor @R6@ as 65000;
	ipv6 { import none; export where source = RTS_INHERIT && net ~ [ 2001:db8:f::/64{128,128} ]; }; }
EOF
}

bird_start() { # NAME (r, n1..n3)
	local n=$1
	if [ "$n" = r ]; then bird_conf_router >"$OUT/bird-$n.conf"; else bird_conf_node "${n#n}" >"$OUT/bird-$n.conf"; fi
	start_bg "$n" "$OUT/bird-$n.pid" "$OUT/bird-$n.out" bird -f -c "$OUT/bird-$n.conf" \
		-s "$OUT/bird-$n.ctl" -P "$OUT/bird-$n.pidfile"
}
bird_kill() { # NAME [SIGNAL]
	local pid
	pid=$(cat "$OUT/bird-$1.pid" 2>/dev/null) || return 0
	kill "-${2:-TERM}" "$pid" 2>/dev/null
	lab_wait 3 _lab_gone "$pid"
}
lab_on_exit bird_kill r KILL
for i in 1 2 3; do lab_on_exit bird_kill "n$i" KILL; done

# ---------------------------------------------------------------------------
# xlb on the nodes.

xn() { # N ARGS...: xlb on node N with its own pin directory
	local n=$1
	shift
	lab_ns "n$n" "$XLB" --pin-dir "$LAB_PIN_DIR/n$n" "$@"
}

# The configuration every node runs; W1 is b1's weight in the first VIP
# (assertion 6 changes it).
write_conf() { # N W1
	cat >"$OUT/xlb-n$1.conf" <<EOF
interface = "$LAB_DEV";
seed = "$SEED";
announce = { table = $TABLE; };
node = { drain_timeout = $DRAIN_S; };
vips = (
EOF
	local fam vip hv sv be
	for fam in 4 6; do
		if [ $fam = 4 ]; then
			vip=$VIP4 hv=$HVIP4 sv=$SVIP4 be=("${LAB_BE4[@]}")
		else
			vip="[$VIP6]" hv="[$HVIP6]" sv="[$SVIP6]" be=("${LAB_BE6[@]}")
		fi
		cat >>"$OUT/xlb-n$1.conf" <<EOF
  { vip = "$vip:80/tcp";
    check = { type = "http"; path = "/health"; interval = 0.3; timeout = 0.2; rise = 2; fall = 2; };
    backends = ( { addr = "${be[0]}"; weight = $2; }, { addr = "${be[1]}"; }, { addr = "${be[2]}"; } ); },
  { vip = "$hv:$HPORT/tcp";
    check = { type = "http"; port = 80; path = "/health"; interval = 0.3; timeout = 0.2; rise = 2; fall = 2; };
    backends = ( { addr = "${be[0]}"; }, { addr = "${be[1]}"; }, { addr = "${be[2]}"; } ); },
  { vip = "$sv:80/tcp";
    check = { type = "tcp"; port = $SPORT; interval = 0.3; timeout = 0.2; rise = 2; fall = 2; };
    backends = ( { addr = "${be[2]}"; } ); }$([ $fam = 4 ] && echo ,)
EOF
	done
	echo ");" >>"$OUT/xlb-n$1.conf"
}

daemon_start() { # N
	start_bg "n$1" "$OUT/daemon-n$1.pid" "$OUT/daemon-n$1.log" "$XLB" \
		--pin-dir "$LAB_PIN_DIR/n$1" daemon --config "$OUT/xlb-n$1.conf"
}
daemon_pid() { cat "$OUT/daemon-n$1.pid"; }

bird_start r
mkdir -p "$LAB_PIN_DIR"
for i in 1 2 3; do
	xn "$i" attach "$LAB_DEV" --seed "$SEED" >/dev/null || lab_die "attach on n$i"
	lab_on_exit xn "$i" detach "$LAB_DEV"
	write_conf "$i" 1
	daemon_start "$i"
	bird_start "n$i"
done

# Next hops toward the backends resolved on every node before traffic.
for i in 1 2 3; do
	for b in "${LAB_BE4[@]}" "${LAB_BE6[@]}"; do
		lab_ns "n$i" bash -c 'echo >"/dev/udp/$1/9"' _ "$b" 2>/dev/null
	done
done

# nh R|nN PREFIX: next hops of PREFIX in the router's main table (R) or
# routes in node N's table (nN: 1 or 0). One process per call: it polls.
nh() {
	local out t f=-4
	[ "${2/:/}" = "$2" ] || f=-6
	if [ "$1" = r ]; then
		out=$(ip "$f" -n "$(lab_nsname r)" route show "$2" 2>/dev/null)
	else
		out=$(ip "$f" -n "$(lab_nsname "$1")" route show table "$TABLE" "$2" 2>/dev/null)
		[ -n "$out" ] && echo 1 || echo 0
		return
	fi
	t=${out//via/@}
	t=${t//[^@]/}
	echo "${#t}"
}
nh_is() { [ "$(nh "$1" "$2")" = "$3" ]; }
# wait_nh WHO PREFIX COUNT SECS: polls until PREFIX has COUNT; prints the
# ms since T0 (EPOCHREALTIME) when it does; 1 on timeout.
wait_nh() {
	local end
	end=$(($(date +%s%N) + $4 * 1000000000))
	while ! nh_is "$1" "$2" "$3"; do
		[ "$(date +%s%N)" -lt "$end" ] || return 1
	done
	ms_since "$T0"
}
ms_since() { # EPOCHREALTIME value -> ms elapsed, 1 decimal
	local now=$EPOCHREALTIME
	awk -v a="$1" -v b="$now" 'BEGIN { printf "%.1f", (b - a) * 1000 }'
}
all_vips() { echo "$VIP4 $VIP6 $HVIP4 $HVIP6 $SVIP4 $SVIP6"; }
fleet_up() { # every VIP with 3 next hops on the router
	local v
	for v in $(all_vips); do nh_is r "$v" 3 || return 1; done
}
T0=$EPOCHREALTIME
if lab_wait 30 fleet_up; then
	lab_pass "BGP up: every VIP has 3 ECMP next hops on the router ($(ms_since "$T0") ms after the daemons started)"
else
	lab_fail "BGP up: every VIP has 3 ECMP next hops on the router"
	for v in $(all_vips); do echo "  $v: $(nh r "$v") next hops"; done
	ip -n "$(lab_nsname r)" route
	ip -6 -n "$(lab_nsname r)" route
	birdc -s "$OUT/bird-r.ctl" show protocols
	for i in 1 2 3; do
		ip -n "$(lab_nsname "n$i")" route show table "$TABLE"
		ip -6 -n "$(lab_nsname "n$i")" route show table "$TABLE"
		tail -5 "$OUT/daemon-n$i.log"
	done
	lab_summary
	exit 1
fi

# ---------------------------------------------------------------------------
# Helpers for the assertions.

# choices N VIP FAMILY: "CLIENT BACKEND" for every client, as node N's
# `xlb lookup` says the data path chooses (primary, else secondary).
choices() {
	local -n srcs="LAB_SRC$3"
	xn "$1" lookup "$2" "${srcs[@]}" |
		awk 'NR > 1 { print $1, ($5 == "primary" ? $3 : ($5 == "secondary" ? $4 : "none")) }'
}
# agree VIP:PORT/tcp FAMILY: every node's choices are the same (kept in
# $OUT/choices-FAMILY).
agree() {
	local i
	for i in 1 2 3; do choices "$i" "$1" "$2" >"$OUT/ch-$i"; done
	[ -s "$OUT/ch-1" ] && cmp -s "$OUT/ch-1" "$OUT/ch-2" && cmp -s "$OUT/ch-1" "$OUT/ch-3" &&
		cp "$OUT/ch-1" "$OUT/choices-$2"
}
digest() { xn "$1" vip show | sed -n 's/^node digest \([0-9a-f]*\) .*/\1/p'; }
digests_agree() { local d; d=$(digest 1); [ -n "$d" ] && [ "$d" = "$(digest 2)" ] && [ "$d" = "$(digest 3)" ]; }
node_packets() { # N: packets the node forwarded (every backend of every VIP)
	xn "$1" -j vip show | "$LAB_PY" -c '
import json, sys
print(sum(b["packets"] for v in json.load(sys.stdin) for b in v["backends"]))'
}

cat >"$OUT/traffic_agrees.py" <<'EOF'
# traffic_agrees.py CHOICES CONNECT_OUTPUT NAMES...: every connection's
# backend (by name) is the one lookup predicts (by address).
import sys
names = dict(a.split("=") for a in sys.argv[3:])
want = dict(l.split() for l in open(sys.argv[1]) if l.strip())
bad, n = [], 0
for line in open(sys.argv[2]):
    f = line.split()
    if not f:
        continue
    for got in f[1:]:
        n += 1
        if names.get(want.get(f[0]), "?") != got:
            bad.append((f[0], want.get(f[0]), got))
print(f"{n} connections, {len(bad)} disagree {bad[:3]}")
sys.exit(1 if bad or n == 0 else 0)
EOF
NAMES=()
for i in 0 1 2; do NAMES+=("${LAB_BE4[i]}=${LAB_BE_NAMES[i]}" "${LAB_BE6[i]}=${LAB_BE_NAMES[i]}"); done

# ---------------------------------------------------------------------------
# 1. Every node carries traffic; every node chooses alike; traffic agrees.

lab_wait 10 agree "$VIP4:80/tcp" 4 && lab_wait 10 agree "[$VIP6]:80/tcp" 6
{ [ -s "$OUT/choices-4" ] && [ -s "$OUT/choices-6" ]; }
res "1: xlb lookup agrees on all three nodes for 200 IPv4 and 200 IPv6 clients" $?
lab_check "1: the three nodes' digests agree" digests_agree
for i in 1 2 3; do before[i]=$(node_packets "$i"); done
printf '%s\n' "${LAB_SRC4[@]}" | lab_connect "$VIP4" 80 --rounds 2 >"$OUT/conn4"
printf '%s\n' "${LAB_SRC6[@]}" | lab_connect "$VIP6" 80 --rounds 2 >"$OUT/conn6"
lab_check "1: IPv4 traffic goes where lookup says ($("$LAB_PY" "$OUT/traffic_agrees.py" "$OUT/choices-4" "$OUT/conn4" "${NAMES[@]}"))" \
	"$LAB_PY" "$OUT/traffic_agrees.py" "$OUT/choices-4" "$OUT/conn4" "${NAMES[@]}"
lab_check "1: IPv6 traffic goes where lookup says ($("$LAB_PY" "$OUT/traffic_agrees.py" "$OUT/choices-6" "$OUT/conn6" "${NAMES[@]}"))" \
	"$LAB_PY" "$OUT/traffic_agrees.py" "$OUT/choices-6" "$OUT/conn6" "${NAMES[@]}"
carried=""
ok=1
for i in 1 2 3; do
	d=$(($(node_packets "$i") - before[i]))
	carried+=" n$i=$d"
	[ "$d" -gt 100 ] || ok=0
done
lab_check "1: all three nodes carry traffic (packets forwarded:$carried)" [ "$ok" = 1 ]

# ---------------------------------------------------------------------------
# 4. A backend goes down: nothing withdrawn, every node moves the same
# clients, and only b2's.

cp "$OUT/choices-4" "$OUT/before-4"
cp "$OUT/choices-6" "$OUT/before-6"
# Watch the router while it happens: any VIP losing a next hop is a fail.
(
	end=$(($(date +%s) + 4))
	while [ "$(date +%s)" -lt "$end" ]; do
		for v in $(all_vips); do nh_is r "$v" 3 || echo "$v $(nh r "$v")"; done
	done
) >"$OUT/watch4" &
watcher=$!
lab_backend_health 2 down
b2_down() { # on every node, both VIPs of port 80
	local i
	for i in 1 2 3; do
		xn "$i" -j vip show "$VIP4:80/tcp" | grep -q '"addr":"192.0.2.12"[^}]*"state":"down"' || return 1
		xn "$i" -j vip show "[$VIP6]:80/tcp" | grep -q '"addr":"2001:db8:1::12"[^}]*"state":"down"' || return 1
	done
}
lab_check "4: every node takes b2 down" lab_wait 10 b2_down
wait "$watcher"
lab_check "4: no VIP lost a next hop on the router meanwhile ($(wc -l <"$OUT/watch4") samples short)" \
	[ ! -s "$OUT/watch4" ]
lab_wait 5 agree "$VIP4:80/tcp" 4 && lab_wait 5 agree "[$VIP6]:80/tcp" 6
moved_ok() { # FAMILY: only b2's clients moved, all of them off b2
	local -n be="LAB_BE$1"
	awk -v b2="${be[1]}" 'NR == FNR { was[$1] = $2; next }
		{ if (was[$1] == b2 ? $2 == b2 : $2 != was[$1]) bad++; if (was[$1] == b2) moved++ }
		END { print moved + 0, "moved"; exit bad > 0 }' "$OUT/before-$1" "$OUT/choices-$1"
}
lab_check "4: IPv4: every node moves the same clients, b2's alone ($(moved_ok 4))" moved_ok 4
lab_check "4: IPv6: every node moves the same clients, b2's alone ($(moved_ok 6))" moved_ok 6
lab_check "4: digests agree with b2 down" lab_wait 5 digests_agree
lab_backend_health 2 up
b2_up() { # nothing down on any node
	local i
	for i in 1 2 3; do ! xn "$i" -j vip show | grep -q '"state":"down"' || return 1; done
}
lab_wait 10 b2_up || lab_fail "4: b2 back up on every node"

# ---------------------------------------------------------------------------
# 5. The last backend of a VIP goes down: every node withdraws it.

T0=$EPOCHREALTIME
kill "$(cat "$OUT/listen.pid")"
# The daemon's part (its table) and the router's, from the same instant.
wn=$(wait_nh n1 "$SVIP4" 0 10)
w4=$(wait_nh r "$SVIP4" 0 10) && w6=$(wait_nh r "$SVIP6" 0 10)
{ [ -n "$w4" ] && [ -n "$w6" ]; }
res "5: every node withdraws $SVIP4 and $SVIP6 (their only backend down)" $?
withdrawn_everywhere() { local i; for i in 1 2 3; do nh_is "n$i" "$SVIP4" 0 && nh_is "n$i" "$SVIP6" 0 || return 1; done; }
lab_check "5: no node keeps a route for them" withdrawn_everywhere
echo "MEASURE: last backend down -> n1 deleted its route ${wn:-?} ms; router withdrew the VIP: IPv4 ${w4:-?} ms, IPv6 ${w6:-?} ms (check interval 0.3 s, fall 2)"
others_kept() { local v; for v in $VIP4 $VIP6 $HVIP4 $HVIP6; do nh_is r "$v" 3 || return 1; done; }
lab_check "5: the other VIPs keep their 3 next hops" others_kept
T0=$EPOCHREALTIME
start_listener
a4=$(wait_nh r "$SVIP4" 3 10) && a6=$(wait_nh r "$SVIP6" 3 10)
{ [ -n "$a4" ] && [ -n "$a6" ]; }
res "5: back up: announced again by all three nodes" $?
echo "MEASURE: backend back -> router has 3 next hops again: IPv4 ${a4:-?} ms, IPv6 ${a6:-?} ms (rise 2)"

# ---------------------------------------------------------------------------
# 6. A configuration change on one node, then on the others.

d0=$(digest 1)
write_conf 1 2
kill -HUP "$(daemon_pid 1)"
changed() { [ "$(digest 1)" != "$d0" ]; }
lab_check "6: n1 takes the change (its digest moves)" lab_wait 5 changed
{ [ "$(digest 2)" = "$d0" ] && [ "$(digest 3)" = "$d0" ] && [ "$(digest 1)" != "$d0" ]; }
res "6: in between, n2 and n3 keep the old digest, n1's differs" $?
if xn 2 vip show --expect "$(digest 1)" >/dev/null 2>&1; then
	lab_fail "6: xlb vip show --expect n1's digest fails on n2 in between"
else
	lab_pass "6: xlb vip show --expect n1's digest fails on n2 in between"
fi
for i in 2 3; do
	write_conf "$i" 2
	kill -HUP "$(daemon_pid "$i")"
done
lab_check "6: after the rollout the three digests agree" lab_wait 5 digests_agree
{ xn 2 vip show --expect "$(digest 1)" && xn 3 vip show --expect "$(digest 1)"; } >/dev/null
res "6: xlb vip show --expect n1's digest passes on n2 and n3" $?
lab_wait 5 agree "$VIP4:80/tcp" 4
lab_check "6: and lookups agree again" lab_wait 5 agree "[$VIP6]:80/tcp" 6

# ---------------------------------------------------------------------------
# Long-lived connections: one per source (200 IPv4, 200 IPv6) to HVIP,
# each sending a line every 100 ms and reading its echo.

cat >"$OUT/hold.py" <<'EOF'
# hold.py PORT VIP4 VIP6 STOP READY MAXSECS < sources: prints per
# connection "SRC BACKEND EXCHANGES MAXGAP_MS ERROR SECONDS" when STOP
# appears.
import asyncio, os, socket, sys, time
port, vip4, vip6 = int(sys.argv[1]), sys.argv[2], sys.argv[3]
stop, ready, maxs = sys.argv[4], sys.argv[5], float(sys.argv[6])
srcs = [l.strip() for l in sys.stdin if l.strip()]
res = {}
up = 0


async def conn(src):
    global up
    fam = socket.AF_INET6 if ":" in src else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setblocking(False)
    s.bind((src, 0))
    name, n, gap, err, t0 = "-", 0, 0.0, "none", None
    try:
        await asyncio.wait_for(asyncio.get_running_loop().sock_connect(
            s, (vip6 if fam == socket.AF_INET6 else vip4, port)), 5)
        r, w = await asyncio.open_connection(sock=s)
        w.write(b"hold\n")
        name = (await asyncio.wait_for(r.readline(), 5)).decode().strip()
        up += 1
        last = t0 = time.time()
        while not os.path.exists(stop) and time.time() < end:
            msg = f"ping {n}\n".encode()
            w.write(msg)
            line = await asyncio.wait_for(r.readline(), 10)
            if line != msg:
                raise OSError("bad_echo" if line else "eof")
            n += 1
            now = time.time()
            gap = max(gap, now - last)
            last = now
            # Paced by the clock, not by the answers: one line per 100 ms
            # whenever the host keeps up.
            await asyncio.sleep(max(0.0, t0 + 0.1 * n - now))
        w.close()
    except asyncio.TimeoutError:
        err = "timeout"
    except OSError as e:
        err = str(e).replace(" ", "_") or type(e).__name__
    res[src] = (name, n, gap * 1000, err, time.time() - t0 if t0 else 0)


async def main():
    tasks = [asyncio.create_task(conn(s)) for s in srcs]
    while up < len(srcs) and time.time() < end and not all(t.done() for t in tasks):
        await asyncio.sleep(0.05)
    open(ready, "w").write(f"{up}\n")
    await asyncio.gather(*tasks)

end = time.time() + maxs
asyncio.run(main())
for s in srcs:
    name, n, gap, err, secs = res[s]
    print(s, name, n, f"{gap:.0f}", err, f"{secs:.2f}")
EOF

hold_start() { # TAG
	rm -f "$OUT/stop-$1" "$OUT/ready-$1"
	printf '%s\n' "${LAB_SRC4[@]}" "${LAB_SRC6[@]}" |
		lab_ns c "$LAB_PY" "$OUT/hold.py" "$HPORT" "$HVIP4" "$HVIP6" \
			"$OUT/stop-$1" "$OUT/ready-$1" 60 >"$OUT/hold-$1" 2>"$OUT/hold-$1.err" &
	HOLD=$!
	lab_track_pid "$HOLD"
	lab_wait 20 test -s "$OUT/ready-$1" || lab_die "hold clients never ready"
	# Every connection exchanges data a while before anything happens.
	sleep 1
}
hold_stop() { # TAG: stops the clients (in this shell: it waits for them)
	: >"$OUT/stop-$1"
	wait "$HOLD"
}
hold_verdict() { # TAG: one line; 0 when 400 connections and none broken
	awk '{ n++; if ($5 != "none" || $3 < 10) bad++; if ($4 > g) g = $4; x += $3; t += $6; if ($4 > 500) slow++ }
		END { printf "%d connections, %d broken, %d exchanges (one per %d ms each on average), %d with a gap over 500 ms, longest gap %d ms\n",
			n, bad, x, x ? t * 1000 / x : 0, slow, g; exit !(n == 400 && bad == 0) }' \
		"$OUT/hold-$1"
}
hold_flows() { # N: long-lived connections node N holds in its flow table
	xn "$1" -j vip show | "$LAB_PY" -c '
import json, sys
print(sum(b["flows"] for v in json.load(sys.stdin) if v["vip"].endswith(":9000/tcp") for b in v["backends"]))'
}

# ---------------------------------------------------------------------------
# 3. Draining n2.

f2=$(hold_flows 2)
hold_start drain
f2=$(($(hold_flows 2) - f2))
lab_check "3: 400 long-lived connections up ($(cat "$OUT/ready-drain"))" [ "$(cat "$OUT/ready-drain")" = 400 ]
T0=$EPOCHREALTIME
if xn 2 node drain >"$OUT/drain.out" 2>&1; then
	lab_pass "3: xlb node drain on n2 ($(cat "$OUT/drain.out"))"
else
	lab_fail "3: xlb node drain on n2 ($(cat "$OUT/drain.out"))"
fi
w=$(wait_nh r "$HVIP4" 2 5) && w6=$(wait_nh r "$HVIP6" 2 5)
{ [ -n "$w" ] && [ -n "$w6" ]; }
res "3: the router drops n2 (IPv4 ${w:-?} ms, IPv6 ${w6:-?} ms after the command)" $?
echo "MEASURE: xlb node drain -> router withdrew n2: IPv4 ${w:-?} ms, IPv6 ${w6:-?} ms"
lab_check "3: n2 still forwards while draining (XDP attached, state draining)" \
	xn 2 node show | grep -q "^node draining.*XDP on $LAB_DEV"
sleep "$DRAIN_S"
n2_drained() { xn 2 node show | grep -q '^node drained'; }
lab_check "3: n2 reports drained after drain_timeout" lab_wait 3 n2_drained
hold_stop drain
v=$(hold_verdict drain)
res "3: no connection failed through the drain ($v; n2 held $f2 of them)" $?
if xn 2 node undrain >"$OUT/undrain.out" 2>&1 && lab_wait 5 fleet_up; then
	lab_pass "3: xlb node undrain: n2 announced again ($(cat "$OUT/undrain.out"))"
else
	lab_fail "3: xlb node undrain: n2 announced again ($(cat "$OUT/undrain.out"))"
fi

# ---------------------------------------------------------------------------
# 2. n1 dies: link down, then its daemon and BIRD SIGKILLed.

f1=$(hold_flows 1)
hold_start kill
f1=$(($(hold_flows 1) - f1))
lab_check "2: 400 long-lived connections up ($(cat "$OUT/ready-kill"))" [ "$(cat "$OUT/ready-kill")" = 400 ]
# Flows the survivors have before: those ECMP moves to them are new there.
f23=$(($(hold_flows 2) + $(hold_flows 3)))
p1=$(node_packets 1)
sleep 0.5
p1=$(($(node_packets 1) - p1))
T0=$EPOCHREALTIME
ip -n "$(lab_nsname n1)" link set "$LAB_DEV" down
kill -9 "$(daemon_pid 1)" "$(cat "$OUT/bird-n1.pid")"
w=$(wait_nh r "$HVIP4" 2 5) && w6=$(wait_nh r "$HVIP6" 2 5)
{ [ -n "$w" ] && [ -n "$w6" ] &&
	awk -v a="$w" -v b="$w6" -v l=$((BFD_MS + 700)) 'BEGIN { exit !(a < l && b < l) }'; }
res "2: the router drops n1 within the BFD detection time + 700 ms (IPv4 ${w:-?} ms, IPv6 ${w6:-?} ms; BFD ${BFD_MS} ms)" $?
echo "MEASURE: node death (link down + SIGKILL) -> router withdrew it: IPv4 ${w:-?} ms, IPv6 ${w6:-?} ms (BFD 100 ms x 3)"
sleep 2
f23=$(($(hold_flows 2) + $(hold_flows 3) - f23))
hold_stop kill
v=$(hold_verdict kill)
{ [ $? = 0 ] && [ "${f1:-0}" -gt 0 ] && [ "$p1" -gt 0 ] && [ "$f23" -ge "$f1" ]; }
res "2: every established connection kept exchanging data ($v; n1 held $f1 of them and forwarded $p1 packets in the 0.5 s before; the survivors took $f23 connections new to them)" $?
lab_check "2: a SIGKILLed daemon leaves its routes in table $TABLE (for the next daemon or ExecStopPost)" \
	nh_is n1 "$VIP4" 1

# Back: the link, a new daemon (it adopts and re-evaluates), BIRD.
ip -n "$(lab_nsname n1)" link set "$LAB_DEV" up
lab_wait_up n1 "$LAB_DEV"
daemon_start 1
bird_start n1
lab_check "2: n1 restarted: the router has 3 next hops again" lab_wait 15 fleet_up
lab_check "2: digests still agree" digests_agree

# SIGTERM: the daemon withdraws what it announced before it exits.
kill "$(daemon_pid 2)"
lab_check "SIGTERM: n2's daemon withdraws its routes on the way out" lab_wait 5 nh_is r "$VIP4" 2
lab_check "SIGTERM: nothing left in n2's table" nh_is n2 "$VIP4" 0

for i in 1 2 3; do
	grep -E "announce|withdraw|node " "$OUT/daemon-n$i.log" | sed "s/^/  n$i: /" | tail -12
done
lab_summary
