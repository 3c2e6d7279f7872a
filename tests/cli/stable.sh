#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# stable.sh - the stable algorithm through the CLI (root): operator
# removals, additions and weight changes move exactly the changed
# backend's slots; `save --snapshot-dir` and `restore` on a fresh node
# reproduce the table slot for slot; a snapshot that is not the file's is
# refused. A file's snapshot is weighed against the node's own history:
# taken when it continues to the node's table, refused (exit 1, table
# kept) when the histories forked or the file is old, taken over the
# node's with --adopt-history; the daemon starts a fresh node from the
# snapshot, refuses a forking reload, and reloads once the node adopted.
# Prints PASS/FAIL lines; exit 1 on any failure.

set -uo pipefail

XLB=${XLB:-$PWD/build/xlb}
RUN=xs$$
NS=${RUN}lb
NS2=${RUN}n2
PIN=/sys/fs/bpf/$RUN
PIN2=/sys/fs/bpf/${RUN}b
TMP=$(mktemp -d)
fails=0
VIP=203.0.113.10:80/tcp

DPID=
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	ip netns del "$NS2" 2>/dev/null
	rm -rf "$PIN" "$PIN2" "$TMP"
}
trap cleanup EXIT INT TERM

x() { nsenter --net=/run/netns/"$NS" "$XLB" --pin-dir "$PIN" "$@"; }
x2() { nsenter --net=/run/netns/"$NS2" "$XLB" --pin-dir "$PIN2" "$@"; }
pass() { printf 'PASS %s\n' "$1"; }
fail() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }

# The table as "primary/secondary" addresses, a slot a line.
tab() { "$@" -j table "$VIP" | python3 -c '
import json, sys
t = json.load(sys.stdin); b = t["backends"]
for p, s in zip(t["primary"], t["secondary"]):
    print(b[p] if p is not None else "-", b[s] if s is not None else "-",
          sep="/")'; }

# moved SLOTS-BEFORE SLOTS-AFTER ADDR: slots that changed, and ADDR's change.
moved() { python3 - "$@" <<'PY'
import sys
a = open(sys.argv[1]).read().split(); b = open(sys.argv[2]).read().split()
who = sys.argv[3]
a = [x.split("/")[0] for x in a]; b = [x.split("/")[0] for x in b]
moved = sum(1 for x, y in zip(a, b) if x != y)
need = abs(b.count(who) - a.count(who))
print(moved, need)
PY
}

ip netns add "$NS"
ip -n "$NS" link add v0 type veth peer name v1
ip -n "$NS" link set v0 up
ip -n "$NS" link set v1 up
ip -n "$NS" addr add 192.0.2.1/24 dev v0
# A second node: its own namespace, device and maps.
ip netns add "$NS2"
ip -n "$NS2" link add v0 type veth peer name v1
ip -n "$NS2" link set v0 up
ip -n "$NS2" link set v1 up
ip -n "$NS2" addr add 192.0.2.1/24 dev v0

{
	echo 'seed = "000102030405060708090a0b0c0d0e0f";'
	echo 'src4 = "192.0.2.1";'
	echo "vips = ( { vip = \"$VIP\"; algo = \"stable\"; table_size = 4093; check = { type = \"none\"; }; backends = ("
	for i in $(seq 1 40); do
		echo "  { addr = \"198.51.100.$i\"; weight = $((i % 3 + 1)); },"
	done
	echo '  { addr = "198.51.100.99"; weight = 1; } ); } );'
} >"$TMP/base.conf"

x attach v0 --seed 000102030405060708090a0b0c0d0e0f >/dev/null &&
	x apply -f "$TMP/base.conf" && pass "stable VIP from a file" ||
	fail "stable VIP from a file"

step() { # NAME ADDR CMD...: exactly ADDR's change moves
	local name=$1 who=$2 r
	shift 2
	tab x >"$TMP/a"
	if ! x "$@"; then
		fail "$name (command failed)"
		return
	fi
	tab x >"$TMP/b"
	r=$(moved "$TMP/a" "$TMP/b" "$who")
	if [ "${r% *}" = "${r#* }" ] && [ "${r% *}" != 0 ]; then
		pass "$name moves only $who's slots (${r% *})"
	else
		fail "$name: moved/needed $r"
	fi
}
step "remove" 198.51.100.7 backend del "$VIP" 198.51.100.7
step "add" 198.51.100.50 backend add "$VIP" 198.51.100.50 --weight 2
step "weight" 198.51.100.9 backend set "$VIP" 198.51.100.9 --weight 3
step "down" 198.51.100.11 backend set "$VIP" 198.51.100.11 --state down
# Its slots already went where a removal sends them: nothing moves.
tab x >"$TMP/a"
x backend del "$VIP" 198.51.100.11
tab x >"$TMP/b"
if cmp -s <(cut -d/ -f1 "$TMP/a") <(cut -d/ -f1 "$TMP/b"); then
	pass "removing a DOWN backend moves nothing more"
else
	fail "removing a DOWN backend moves nothing more"
fi

mkdir -p "$TMP/snap"
if x save --snapshot-dir "$TMP/snap" >"$TMP/saved.conf" &&
	grep -q table_snapshot "$TMP/saved.conf"; then
	pass "save writes the snapshot"
else
	fail "save writes the snapshot"
fi
x2 attach v0 --seed 000102030405060708090a0b0c0d0e0f >/dev/null ||
	fail "attach the second node"
if x2 restore "$TMP/saved.conf" 2>"$TMP/err" && tab x >"$TMP/a" &&
	tab x2 >"$TMP/b" && cmp -s "$TMP/a" "$TMP/b"; then
	pass "restore on a fresh node: the same table"
else
	fail "restore on a fresh node: $(cat "$TMP/err")"
fi
x save >"$TMP/nosnap.conf" 2>"$TMP/err"
grep -q "without its snapshot" "$TMP/err" && pass "save without snapshots warns" ||
	fail "save without snapshots warns"
sed 's/table_digest = "[0-9a-f]*"/table_digest = "0123456789abcdef"/' \
	"$TMP/saved.conf" >"$TMP/bad.conf"
if x2 restore "$TMP/bad.conf" 2>/dev/null; then
	fail "a snapshot not the file's is refused"
else
	pass "a snapshot not the file's is refused"
fi
# A file's snapshot against a node's own history. Both nodes are at the
# saved snapshot now. snapfile CONF: CONF with saved.conf's snapshot lines.
snapfile() {
	python3 - "$1" "$TMP/saved.conf" <<'PY'
import re, sys
conf = open(sys.argv[1]).read(); saved = open(sys.argv[2]).read()
pat = r'table_snapshot = "[^"]*";\s*table_digest = "[0-9a-f]*";'
old = re.search(pat, saved).group(0)
if re.search(pat, conf):
    conf = re.sub(pat, old, conf)
else:
    conf = conf.replace('algo = "stable";', 'algo = "stable"; ' + old, 1)
sys.stdout.write(conf)
PY
}
# One addition on node 1 by the CLI; a file with the old snapshot and the
# new backend is node 1's history and node 2's next step alike.
x backend add "$VIP" 198.51.100.60 --weight 2
x save >"$TMP/now.conf" 2>/dev/null
snapfile "$TMP/now.conf" >"$TMP/add60.conf"
if x apply -f "$TMP/add60.conf" 2>"$TMP/err" &&
	x2 apply -f "$TMP/add60.conf" 2>>"$TMP/err" &&
	tab x >"$TMP/a" && tab x2 >"$TMP/b" && cmp -s "$TMP/a" "$TMP/b"; then
	pass "an older snapshot that continues to this node's table is taken"
else
	fail "an older snapshot that continues to this node's table: $(cat "$TMP/err")"
fi
# A forked history: node 1 removes .1, adds .61, removes .2; node 2
# removes .2 and .1, then adds .61 (reordered). Same set, other tables.
x backend del "$VIP" 198.51.100.1 && x backend add "$VIP" 198.51.100.61 &&
	x backend del "$VIP" 198.51.100.2
x2 backend del "$VIP" 198.51.100.2 && x2 backend del "$VIP" 198.51.100.1 &&
	x2 backend add "$VIP" 198.51.100.61
d1=$(x -j vip show "$VIP" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["digest"])')
d2=$(x2 -j vip show "$VIP" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["digest"])')
if [ -n "$d1" ] && [ "$d1" != "$d2" ] && ! x vip show "$VIP" --expect "$d2" >/dev/null 2>&1; then
	pass "a reordered history shows in the digests ($d1, $d2)"
else
	fail "a reordered history shows in the digests ($d1, $d2)"
fi
rm -rf "$TMP/snap3" && mkdir "$TMP/snap3"
x save --snapshot-dir "$TMP/snap3" >"$TMP/fork.conf"
tab x2 >"$TMP/a"
x2 restore "$TMP/fork.conf" 2>"$TMP/err"
rc=$?
tab x2 >"$TMP/b"
if [ "$rc" = 1 ] && grep -q "not this node's history" "$TMP/err" &&
	grep -q "$VIP" "$TMP/err" && cmp -s "$TMP/a" "$TMP/b"; then
	pass "a forked history is refused, the table kept"
else
	fail "a forked history is refused (rc $rc): $(cat "$TMP/err")"
fi
if x2 restore --adopt-history "$TMP/fork.conf" 2>"$TMP/err" &&
	grep -q "adopting the file's table history" "$TMP/err" &&
	tab x >"$TMP/a" && tab x2 >"$TMP/b" && cmp -s "$TMP/a" "$TMP/b"; then
	pass "--adopt-history takes the file's: the nodes agree"
else
	fail "--adopt-history takes the file's: $(cat "$TMP/err")"
fi
# An old file: its snapshot and set are from before; this node moved on.
x restore "$TMP/saved.conf" 2>"$TMP/err"
rc=$?
if [ "$rc" = 1 ] && grep -q "not this node's history" "$TMP/err"; then
	pass "a restored old file is refused"
else
	fail "a restored old file is refused (rc $rc): $(cat "$TMP/err")"
fi

# The daemon starts a fresh node from the file's snapshot, and refuses a
# reload whose snapshot forks from its history.
x2 detach v0 >/dev/null 2>&1
rm -rf "$PIN2"
daemon_conf() { # FILE: FILE as node 2's daemon's configuration, unchecked
	{
		echo 'interface = "v0";'
		echo 'metrics = "";'
		sed 's/fwd = "ipip";/& check = { type = "none"; };/' "$1"
	} >"$TMP/daemon.conf"
}
daemon_conf "$TMP/fork.conf"
nsenter --net=/run/netns/"$NS2" "$XLB" --pin-dir "$PIN2" daemon \
	--config "$TMP/daemon.conf" 2>"$TMP/daemon.log" &
DPID=$!
for _ in $(seq 1 100); do
	x2 vip show "$VIP" >/dev/null 2>&1 && break
	sleep 0.1
done
if tab x >"$TMP/a" && tab x2 >"$TMP/b" && cmp -s "$TMP/a" "$TMP/b"; then
	pass "the daemon starts a fresh node from the file's snapshot"
else
	fail "the daemon starts a fresh node from the file's snapshot: $(diff "$TMP/a" "$TMP/b" | wc -l) lines differ; $(tail -3 "$TMP/daemon.log")"
fi
# Node 1 adds .62 before removing .3: the file's order is not the one a
# continuation applies (removals first), so node 2's reload would fork.
x backend add "$VIP" 198.51.100.62 && x backend del "$VIP" 198.51.100.3
rm -rf "$TMP/snap4" && mkdir "$TMP/snap4"
x save --snapshot-dir "$TMP/snap4" >"$TMP/fork2.conf"
daemon_conf "$TMP/fork2.conf"
tab x2 >"$TMP/a"
kill -HUP "$DPID"
for _ in $(seq 1 50); do
	grep -q "reload failed" "$TMP/daemon.log" && break
	sleep 0.1
done
tab x2 >"$TMP/b"
if grep -q "reload failed.*not this node's history" "$TMP/daemon.log" &&
	kill -0 "$DPID" 2>/dev/null && cmp -s "$TMP/a" "$TMP/b"; then
	pass "a reload whose snapshot forks is refused, the table kept"
else
	fail "a reload whose snapshot forks is refused: $(tail -3 "$TMP/daemon.log")"
fi
# The remedy: the operator takes the file's history on the node; the
# daemon's reload of the same file then goes through, and the nodes agree.
x2 apply --adopt-history -f "$TMP/daemon.conf" 2>"$TMP/err"
kill -HUP "$DPID"
for _ in $(seq 1 50); do
	grep -q "reloaded" "$TMP/daemon.log" && break
	sleep 0.1
done
if grep -q "reloaded" "$TMP/daemon.log" && tab x >"$TMP/a" && tab x2 >"$TMP/b" &&
	cmp -s "$TMP/a" "$TMP/b"; then
	pass "after apply --adopt-history the reload goes through: the nodes agree"
else
	fail "after apply --adopt-history the reload goes through: $(cat "$TMP/err"; tail -2 "$TMP/daemon.log")"
fi
kill "$DPID" 2>/dev/null
wait "$DPID" 2>/dev/null
DPID=
echo "stable.sh: $fails failure(s)"
[ "$fails" -eq 0 ]
