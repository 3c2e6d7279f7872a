#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/e2e/announce.sh - the daemon's VIP routes and `xlb node`, without
# a routing daemon (tests/e2e/fleet.sh has BIRD): in one namespace, the
# daemon with `announce = { table = 100; }` keeps `blackhole VIP table 100
# proto 251` exactly while the node can serve the VIP:
#   - announced at start (IPv4 and IPv6), one route per address;
#   - a VIP's last backend down (by the CLI): withdrawn within 0.5 s; up:
#     announced again; a VIP with another backend up at the same address
#     keeps it;
#   - `xlb node drain`: withdrawn at once, state draining then drained
#     after drain_timeout; `xlb node undrain`: announced; SIGUSR1/SIGUSR2
#     the same; node.drain in the file: undrain refused (exit 1);
#   - the XDP program detached: withdrawn; attached again: announced;
#   - a route deleted by someone: put back; a stale route of protocol 251
#     not xlb's to keep: deleted;
#   - SIGKILL leaves the routes; a new daemon adopts them without a
#     withdrawal; SIGTERM withdraws them; `xlb node drain` with no daemon
#     withdraws what a killed one left;
#   - every change logged.
set -u

. "$(dirname "$0")/../lib.sh"

lab_init
OUT=$LAB_TMP/announce
mkdir -p "$OUT"
export XLB_RUN_DIR=$OUT/run
CONF=$OUT/xlb.conf
DLOG=$OUT/daemon.log
V4=203.0.113.10
V6=2001:db8:f::10
DPID=
MPORT=$((9800 + $$ % 100))

lab_ns_add lb
lab_veth lb "$LAB_DEV" 10 lb peer 11
ip -n "$(lab_nsname lb)" addr add 192.0.2.1/24 dev "$LAB_DEV"
ip -n "$(lab_nsname lb)" addr add 2001:db8:1::1/64 dev "$LAB_DEV" nodad
lab_wait_up lb "$LAB_DEV"
lab_lb_attach --seed 00112233445566778899aabbccddeeff >/dev/null || lab_die "attach"
lab_on_exit lab_xlb detach "$LAB_DEV"

# No `interface`: the daemon would attach a detached program again (its
# self-watch), and the check of a detached one would race with it.
write_conf() { # [EXTRA]
	cat >"$CONF" <<EOF
announce = { table = 100; };
metrics = "127.0.0.1:$MPORT";
node = { drain_timeout = 1; ${1:-} };
vips = (
  { vip = "$V4:80/tcp"; check = { type = "none"; };
    backends = ( { addr = "192.0.2.11"; }, { addr = "192.0.2.12"; } ); },
  { vip = "$V4:443/tcp"; check = { type = "none"; }; backends = ( { addr = "192.0.2.13"; } ); },
  { vip = "[$V6]:80/tcp"; check = { type = "none"; }; backends = ( { addr = "2001:db8:1::11"; } ); } );
EOF
}
daemon_start() {
	# nsenter directly (not lab_ns) so that $! is the daemon itself.
	nsenter --net="/run/netns/$(lab_nsname lb)" -- "$XLB" --pin-dir "$LAB_PIN_DIR" \
		daemon --config "$CONF" 2>>"$DLOG" &
	DPID=$!
	lab_track_pid "$DPID"
}
routes() { ip -n "$(lab_nsname lb)" "$1" route show table 100 proto 251 2>/dev/null; }
has() { routes -4 | grep -q "^blackhole $V4 "; }
has6() { routes -6 | grep -q "^blackhole $V6 "; }
hasnt() { ! has; }
show_state() { lab_xlb node show | head -1; }
state_is() { show_state | grep -q "^node $1"; }
logged() { grep -q "$1" "$DLOG"; }

write_conf
daemon_start
lab_check "announced at start: IPv4" lab_wait 5 has
lab_check "announced at start: IPv6" has6
lab_check "one route per address (two VIPs at $V4)" [ "$(routes -4 | wc -l)" = 1 ]
lab_check "routes are blackholes of protocol 251 in table 100" \
	grep -q "blackhole $V4 proto 251" <<<"$(ip -n "$(lab_nsname lb)" route show table 100)"
lab_check "logged: announce $V4/32 (table 100)" logged "announce $V4/32 (table 100)"
lab_check "xlb node show: serving" state_is serving
metrics() { lab_ns lb curl -sf "http://127.0.0.1:$MPORT/metrics"; }
metric_is() { metrics | grep -qx "$1"; }
lab_check "metrics: xlb_vip_announced 1" metric_is "xlb_vip_announced{addr=\"$V4\"} 1"
lab_check "metrics: xlb_node_state serving" metric_is 'xlb_node_state{state="serving"} 1'
nd=$(lab_xlb vip show | sed -n 's/^node digest \([0-9a-f]*\) .*/\1/p')
has_digest() { [ -n "$nd" ] && metrics | grep -q "^xlb_node_digest_info{digest=\"$nd\""; }
lab_check "metrics: xlb_node_digest_info is the digest vip show prints ($nd)" has_digest
# The daemon writes its state file next to the drain file it watches:
# reacting to its own writes would spin. Idle, it should sleep.
t0=$(awk '{ print $14 + $15 }' "/proc/$DPID/stat")
sleep 2
t1=$(awk '{ print $14 + $15 }' "/proc/$DPID/stat")
lab_check "idle daemon sleeps ($((t1 - t0)) CPU ticks in 2 s)" [ $((t1 - t0)) -lt 20 ]

lab_xlb backend set "$V4:80/tcp" 192.0.2.11 --state down
lab_xlb backend set "$V4:80/tcp" 192.0.2.12 --state down
sleep 1.5
lab_check "a VIP without backends, another VIP at the address with one: kept" has
t0=$(date +%s%N)
lab_xlb backend set "$V4:443/tcp" 192.0.2.13 --state down
lab_wait 3 hasnt
ms=$((($(date +%s%N) - t0) / 1000000))
# The daemon looks at the commit generation every 0.1 s (a full look
# every second): a CLI change is seen well within half a second.
lab_check "no VIP at the address can serve: withdrawn ($ms ms after the CLI's commit)" \
	[ "$ms" -lt 500 ]
lab_check "logged: withdraw ... no backend up" logged "withdraw $V4/32: no backend up"
lab_check "IPv6 untouched" has6
lab_xlb backend set "$V4:443/tcp" 192.0.2.13 --state up
lab_check "a backend back: announced again" lab_wait 3 has

out=$(lab_xlb node drain 2>&1)
lab_check "xlb node drain: exit 0 (${out//$'\n'/ })" [ $? = 0 ]
lab_check "metrics: xlb_vip_announced 0 while draining" metric_is "xlb_vip_announced{addr=\"$V4\"} 0"
lab_check "drain: withdrawn at once" hasnt
lab_check "drain: IPv6 withdrawn" bash -c "! ip -n $(lab_nsname lb) -6 route show table 100 | grep -q ."
lab_check "xlb node show: draining" state_is draining
lab_check "xlb node show: drained after drain_timeout" lab_wait 4 state_is drained
lab_check "still drained: nothing announced" hasnt
out=$(lab_xlb -j node undrain)
lab_check "xlb node undrain: exit 0 ($out)" [ $? = 0 ]
lab_check "undrain: announced" has
lab_check "undrain: serving" state_is serving
lab_xlb node drain --wait --timeout 1 >/dev/null
lab_check "drain --wait returns drained" state_is drained
lab_xlb node undrain >/dev/null

kill -USR1 "$DPID"
lab_check "SIGUSR1: withdrawn" lab_wait 3 hasnt
kill -USR2 "$DPID"
lab_check "SIGUSR2: announced" lab_wait 3 has

lab_xlb detach "$LAB_DEV" >/dev/null
lab_check "XDP program detached: withdrawn" lab_wait 3 hasnt
lab_check "xlb node show: unready, says why" bash -c \
	"'$XLB' --pin-dir '$LAB_PIN_DIR' node show | grep -q 'unready: the XDP program is not attached'"
lab_lb_attach >/dev/null
lab_check "attached again: announced" lab_wait 3 has

ip -n "$(lab_nsname lb)" route del blackhole "$V4/32" table 100 proto 251
lab_check "a route deleted by someone: put back" lab_wait 3 has
ip -n "$(lab_nsname lb)" route add blackhole 203.0.113.99/32 table 100 proto 251
lab_check "a stale route of protocol 251: deleted" lab_wait 3 bash -c "! ip -n $(lab_nsname lb) route show table 100 | grep -q 203.0.113.99"
ip -n "$(lab_nsname lb)" route add blackhole 203.0.113.98/32 table 100 proto static
lab_check "a route of another protocol: left alone" bash -c "sleep 1.5; ip -n $(lab_nsname lb) route show table 100 | grep -q 203.0.113.98"

kill -9 "$DPID"
wait "$DPID" 2>/dev/null
lab_check "SIGKILL leaves the routes" has
lab_check "xlb node show: stopped, routes listed" bash -c \
	"'$XLB' --pin-dir '$LAB_PIN_DIR' node show | grep -q 'node stopped'"
: >"$DLOG"
daemon_start
lab_check "a new daemon adopts them" lab_wait 5 logged "left by an earlier daemon"
lab_check "... and serves" lab_wait 5 state_is serving
lab_check "... without withdrawing them meanwhile" bash -c "! grep -q withdraw '$DLOG'"
kill "$DPID"
wait "$DPID"
lab_check "SIGTERM: exit 0 and routes withdrawn" hasnt
lab_check "logged: withdraw ... the daemon is stopping" logged "the daemon is stopping"

daemon_start
lab_wait 5 has
kill -9 "$DPID"
wait "$DPID" 2>/dev/null
out=$(lab_xlb node drain 2>&1)
rc=$?
{ [ $rc = 0 ] && hasnt; }
res=$?
lab_check "drain without a daemon: exit 0, withdraws what it left (${out//$'\n'/ })" [ $res = 0 ]
lab_xlb node undrain >/dev/null 2>&1

# announce added by a reload: the daemon starts announcing then.
sed '/^announce/d' "$CONF" >"$CONF.none"
cp "$CONF.none" "$CONF"
: >"$DLOG"
daemon_start
lab_wait 5 logged "started with"
sleep 1.2
lab_check "no announce in the file: no route" hasnt
write_conf
kill -HUP "$DPID"
lab_check "announce added by a reload: announced" lab_wait 5 has
lab_xlb node drain >/dev/null 2>&1
lab_check "... and a drain after that reload is seen (the watch is on the loop)" lab_wait 3 hasnt
lab_check "... and reported drained (the tick runs)" lab_wait 4 state_is drained
lab_xlb node undrain >/dev/null 2>&1
kill "$DPID"
wait "$DPID"

write_conf "drain = true;"
: >"$DLOG"
daemon_start
lab_check "node.drain in the file: nothing announced" lab_wait 5 state_is draining
lab_check "node.drain: no route" hasnt
lab_xlb node undrain >/dev/null 2>&1
lab_check "undrain refused while the file says drain (exit 1)" [ $? = 1 ]
write_conf
kill -HUP "$DPID"
lab_check "the file undrains on reload: announced" lab_wait 5 has
kill "$DPID"
wait "$DPID"

lab_summary
