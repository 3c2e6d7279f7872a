#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/cli/crash.sh - a writer killed at any bpf() call leaves the old
# state or the new one, whole, and every later command works.
#
# Kills with strace's fault injection (`-e inject=bpf:signal=KILL:when=N`)
# at the N-th bpf() call of:
#   a. `apply -f` of 500 backends onto an empty VIP,
#   b. `apply -f` changing the table size of that 500-backend VIP,
#   c. `apply -f` deleting that VIP,
#   d. the daemon, reloading (SIGHUP) from the empty VIP to 500 backends,
#   e. `apply -f` removing and adding a backend of a stable VIP: made
#      again after the kill, the change gives the unkilled run's table.
# After each kill: `save` works and round-trips through `restore`; the
# state is the old file's or the new file's; crash_check.py finds the
# data path, the tables, lookup and vip show in agreement and no ghost
# backend; a new VIP has no backends; `apply -f` of the new file makes it.
#
# Kill points: 30 spread evenly over the commit's calls plus its last 5;
# CRASH_ALL=1 (make test-long) takes every call.
set -uo pipefail

XLB=${XLB:-$PWD/build/xlb}
HERE=$(cd "$(dirname "$0")" && pwd)
RUN=xk$$
NS=${RUN}lb
PIN=/sys/fs/bpf/$RUN
TMP=$(mktemp -d /tmp/$RUN.XXXXXX)
SAMPLES=${CRASH_SAMPLES:-30}
fails=0
DPID=

cleanup() {
	[ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$PIN" "$TMP"
}
trap cleanup EXIT INT TERM

pass() { printf 'PASS %s\n' "$1"; }
fail() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }
x() { nsenter --net=/run/netns/"$NS" "$XLB" --pin-dir "$PIN" "$@"; }

if ! command -v strace >/dev/null; then
	echo "SKIP crash: no strace (scripts/deps.sh installs it)"
	exit 0
fi

ip netns add "$NS"
ip -n "$NS" link add v0 index 10 type veth peer name v1 index 11
ip -n "$NS" link set v0 up
ip -n "$NS" link set v1 up
x attach v0 --seed 000102030405060708090a0b0c0d0e0f --src4 192.0.2.1 \
	--src6 2001:db8:1::1 >/dev/null || {
	echo "FAIL crash: attach"
	exit 1
}

V=203.0.113.10:80/tcp
W='[2001:db8:f::20]:443/tcp'

# conf FILE SIZE NBACKENDS|-: a file with W (2 backends) and, unless "-",
# V with NBACKENDS backends and a table of SIZE slots.
conf() {
	local f=$1 size=$2 n=$3 i
	{
		echo 'seed = "000102030405060708090a0b0c0d0e0f";'
		echo 'src4 = "192.0.2.1"; src6 = "2001:db8:1::1";'
		echo 'vips = ('
		echo "  { vip = \"$W\"; backends = ("
		echo '      { addr = "2001:db8:b::1"; }, { addr = "198.51.100.250"; weight = 2; } ); }'
		if [ "$n" != - ]; then
			echo "  , { vip = \"$V\"; table_size = $size; backends = ("
			for ((i = 0; i < n; i++)); do
				printf '      { addr = "198.18.%d.%d"; }%s\n' $((i / 200)) \
					$((1 + i % 200)) "$([ $i -lt $((n - 1)) ] && echo ,)"
			done
			echo '    ); }'
		fi
		echo ');'
	} >"$f"
}
conf "$TMP/empty.conf" 65537 0
conf "$TMP/full.conf" 65537 500
conf "$TMP/resized.conf" 131071 500
conf "$TMP/deleted.conf" 65537 -

# The state each file makes, as save prints it.
for f in empty full resized deleted; do
	x apply -f "$TMP/$f.conf" && x save >"$TMP/$f.saved" || {
		echo "FAIL crash: applying $f.conf"
		exit 1
	}
done

# points TOTAL: the kill points to try.
points() {
	local total=$1 i
	if [ "${CRASH_ALL:-0}" = 1 ]; then
		seq 1 "$total"
		return
	fi
	{
		for ((i = 1; i <= SAMPLES; i++)); do
			echo $(((total * i + SAMPLES - 1) / SAMPLES))
		done
		seq $((total > 5 ? total - 4 : 1)) "$total"
	} | sort -nu
}

# check WHAT OLD NEW [MADE]: the state after a kill is OLD's or NEW's (or
# MADE's: what the daemon makes of NEW, and then the daemon's restart is
# what makes it again), whole and usable; then applying NEW makes NEW.
check() {
	local what=$1 old=$2 new=$3 made=${4:-$3} out
	if ! x save >"$TMP/now.saved" 2>"$TMP/err"; then
		fail "$what: save fails: $(head -c 300 "$TMP/err")"
		return 1
	fi
	if ! cmp -s "$TMP/now.saved" "$TMP/$old.saved" &&
		! cmp -s "$TMP/now.saved" "$TMP/$made.saved"; then
		fail "$what: the state is neither $old's nor $made's: $(diff "$TMP/$old.saved" "$TMP/now.saved" | head -5 | tr '\n' ' ')"
		return 1
	fi
	if ! out=$(/usr/bin/python3 "$HERE/crash_check.py" "$PIN" \
		nsenter --net=/run/netns/"$NS" "$XLB" 2>&1); then
		fail "$what: $(echo "$out" | head -3 | tr '\n' ' ')"
		return 1
	fi
	if ! x restore "$TMP/now.saved" 2>"$TMP/err" ||
		! x save | cmp -s - "$TMP/now.saved"; then
		fail "$what: save does not round-trip through restore: $(head -c 300 "$TMP/err")"
		return 1
	fi
	if ! x vip add 203.0.113.99:80/tcp 2>"$TMP/err" ||
		[ "$(x -j vip show 203.0.113.99:80/tcp | /usr/bin/python3 -c \
			'import json,sys; print(len(json.load(sys.stdin)[0]["backends"]))')" != 0 ] ||
		! x vip del 203.0.113.99:80/tcp 2>>"$TMP/err"; then
		fail "$what: a new VIP is not empty or can't be added: $(head -c 300 "$TMP/err")"
		return 1
	fi
	[ "$made" = "$new" ] || return 0
	if ! x apply -f "$TMP/$new.conf" 2>"$TMP/err" ||
		! x save | cmp -s - "$TMP/$new.saved"; then
		fail "$what: applying $new.conf again does not make it: $(head -c 300 "$TMP/err")"
		return 1
	fi
	if ! out=$(/usr/bin/python3 "$HERE/crash_check.py" "$PIN" \
		nsenter --net=/run/netns/"$NS" "$XLB" 2>&1); then
		fail "$what, after applying $new.conf again: $(echo "$out" | head -3 | tr '\n' ' ')"
		return 1
	fi
	return 0
}

# sweep NAME OLD NEW [PREP [AFTER]]: kill `apply -f NEW.conf` over the
# state `PREP OLD` makes (default: applying OLD.conf); after each kill the
# checks, and `AFTER WHAT` when given.
apply_old() { x apply -f "$TMP/$1.conf"; }
sweep() {
	local name=$1 old=$2 new=$3 prep=${4:-apply_old} after=${5:-true}
	local total n bad=0 tried=0
	$prep "$old" || return 1
	total=$(nsenter --net=/run/netns/"$NS" strace -f -qq -e trace=bpf \
		-o "$TMP/trace" "$XLB" --pin-dir "$PIN" apply -f "$TMP/$new.conf" &&
		grep -c 'bpf(' "$TMP/trace")
	if [ -z "$total" ] || [ "$total" -lt 10 ]; then
		fail "$name: could not count the commit's bpf calls ($total)"
		return
	fi
	for n in $(points "$total"); do
		$prep "$old" 2>"$TMP/err" || {
			fail "$name: can't make $old's state before kill point $n: $(head -c 200 "$TMP/err")"
			bad=$((bad + 1))
			break
		}
		{ nsenter --net=/run/netns/"$NS" strace -f -qq -o /dev/null -e trace=bpf \
			-e inject=bpf:signal=KILL:when="$n" \
			"$XLB" --pin-dir "$PIN" apply -f "$TMP/$new.conf"; } >/dev/null 2>&1
		tried=$((tried + 1))
		if ! check "$name, killed at bpf call $n of $total" "$old" "$new" ||
			! $after "$name, killed at bpf call $n of $total"; then
			bad=$((bad + 1))
		fi
		[ "$bad" -ge 3 ] && break
	done
	[ "$bad" -eq 0 ] && pass "$name: killed at $tried points of $total bpf calls, old or new state each time, every check passes"
}

sweep "a. 500 backends onto an empty VIP" empty full
sweep "b. table size of a 500-backend VIP" full resized
sweep "c. deleting a 500-backend VIP" full deleted

# d. The daemon, killed while it reloads.
DLOG=$TMP/daemon.log
start_daemon() {
	nsenter --net=/run/netns/"$NS" "$XLB" --pin-dir "$PIN" daemon \
		--config "$TMP/daemon.conf" 2>>"$DLOG" &
	DPID=$!
	disown "$DPID" # no job report when a kill ends it
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q "started with" "$DLOG" 2>/dev/null && return 0
		kill -0 "$DPID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
stop_daemon() {
	local i
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.05
	done
	DPID=
}
# reload_traced N: the daemon reloads empty -> full under strace; with N
# it is killed at its N-th bpf call after strace attached.
reload_traced() {
	local inj=() i
	[ -n "${1:-}" ] && inj=(-e inject=bpf:signal=KILL:when="$1")
	: >"$DLOG"
	cp "$TMP/empty.conf" "$TMP/daemon.conf"
	x apply -f "$TMP/empty.conf" || return 1
	start_daemon || return 1
	cp "$TMP/full.conf" "$TMP/daemon.conf"
	strace -f -qq -p "$DPID" -e trace=bpf "${inj[@]}" -o "$TMP/dtrace" &
	local spid=$!
	sleep 0.3 # strace attached
	kill -HUP "$DPID"
	for ((i = 0; i < 100; i++)); do
		grep -q "reloaded" "$DLOG" && break
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.05
	done
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	stop_daemon
	return 0
}
name="d. the daemon during a SIGHUP reload"
# New backends wait for their checks: the daemon's state of full.conf.
if reload_traced && grep -q "reloaded" "$DLOG" && x save >"$TMP/dfull.saved"; then
	total=$(grep -c 'bpf(' "$TMP/dtrace")
	bad=0
	tried=0
	for n in $(points "$total"); do
		reload_traced "$n" || {
			fail "$name: daemon did not start before kill point $n: $(tail -2 "$DLOG")"
			bad=$((bad + 1))
			break
		}
		tried=$((tried + 1))
		if ! check "$name, killed at bpf call $n of $total" empty full dfull; then
			bad=$((bad + 1))
		else
			# The daemon starts again over what the kill left.
			: >"$DLOG"
			cp "$TMP/full.conf" "$TMP/daemon.conf"
			if ! start_daemon; then
				fail "$name: the daemon does not start again after kill point $n: $(tail -2 "$DLOG")"
				bad=$((bad + 1))
			elif ! x save | cmp -s - "$TMP/dfull.saved" ||
				! out=$(/usr/bin/python3 "$HERE/crash_check.py" "$PIN" \
					nsenter --net=/run/netns/"$NS" "$XLB" 2>&1); then
				fail "$name: the daemon started again after kill point $n does not make full.conf's state: $out"
				bad=$((bad + 1))
			fi
			stop_daemon
		fi
		[ "$bad" -ge 3 ] && break
	done
	[ "$bad" -eq 0 ] && pass "$name: killed at $tried points of $total bpf calls, old or new state each time, the daemon starts again"
else
	fail "$name: an unkilled reload did not complete: $(tail -3 "$DLOG")"
	stop_daemon
fi

# e. A stable VIP: a kill anywhere in a change leaves a table its history
# continues from, so the change made again gives the very table an
# unkilled run gives. Each point starts the VIP afresh (no VIP, then the
# old file), so the old table is always the same.
sconf() { # FILE SKIP EXTRA: V stable, backends 1..100 but SKIP, and EXTRA
	local f=$1 skip=$2 extra=$3 i
	{
		echo 'seed = "000102030405060708090a0b0c0d0e0f";'
		echo 'src4 = "192.0.2.1"; src6 = "2001:db8:1::1";'
		echo "vips = ( { vip = \"$V\"; algo = \"stable\"; backends = ("
		for ((i = 1; i <= 100; i++)); do
			[ "$i" = "$skip" ] && continue
			printf '      { addr = "198.18.1.%d"; weight = %d; },\n' "$i" $((1 + i % 3))
		done
		[ -n "$extra" ] && printf '      { addr = "198.18.1.%d"; weight = 2; },\n' "$extra"
		echo '      { addr = "198.18.2.1"; } ); } );'
	} >"$f"
}
sconf "$TMP/s_old.conf" 0 ""
sconf "$TMP/s_new.conf" 7 101 # one removed, one added
sconf "$TMP/s_none.conf" 0 "" && sed -i 's/^vips = .*/vips = ();/; /^      {/d' "$TMP/s_none.conf"
# s_fresh: the VIP made anew from s_old.conf, so its history is the same
# before every kill.
s_fresh() { x apply -f "$TMP/s_none.conf" && x apply -f "$TMP/s_old.conf"; }
same_table() { # WHAT: check applied s_new.conf again; is it the reference?
	x table "$V" | cmp -s - "$TMP/s_new.table" && return 0
	fail "$1: the change made again gives another table ($(x table "$V" | diff - "$TMP/s_new.table" | grep -c '^>') slots differ)"
	return 1
}
for f in s_old s_new; do
	s_fresh && x apply -f "$TMP/$f.conf" && x save >"$TMP/$f.saved" 2>/dev/null ||
		fail "crash: applying $f.conf"
done
x table "$V" >"$TMP/s_new.table" || fail "crash: table of s_new.conf"
sweep "e. a stable VIP's change (one removed, one added), made again after the kill: the unkilled run's table" \
	s_old s_new s_fresh same_table 2>/dev/null

x detach v0 >/dev/null
echo "crash: $fails failed"
[ "$fails" -eq 0 ]
