#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# tests/cli/watch.sh - `xlb stats --watch` and `xlb top --watch`: screen
# shape, rates measured against packets the attached program itself
# handled (BPF_PROG_TEST_RUN on a hand-made TCP ACK), JSON screens, the
# end on -n/--count, SIGINT and SIGTERM (exit 0), usage errors (exit 2).
# One namespace with a veth pair; a per-run pin directory. Run as root
# from the repository root.
set -uo pipefail

XLB=${XLB:-$PWD/build/xlb}
RUN=xw$$
NS=${RUN}lb
PIN=/sys/fs/bpf/$RUN
TMP=$(mktemp -d)
fails=0

cleanup() {
	ip netns del "$NS" 2>/dev/null
	rm -rf "$PIN" "$TMP"
}
trap cleanup EXIT INT TERM

x() { nsenter --net=/run/netns/"$NS" "$XLB" --pin-dir "$PIN" "$@"; }
# xbg: in the background as xlb itself (nsenter execs it), so that $! is
# xlb's pid and a signal reaches it, not a subshell running this file's traps.
xbg() { nsenter --net=/run/netns/"$NS" "$XLB" --pin-dir "$PIN" "$@" & }
pass() { printf 'PASS %s\n' "$1"; }
fail() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }
expect() { # expect CODE NAME CMD...
	local want=$1 name=$2 err rc
	shift 2
	err=$(x "$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" -eq "$want" ] && { [ "$want" -eq 0 ] || [[ $err == "xlb: "* ]]; }; then
		pass "$name"
	else
		fail "$name (exit $rc, want $want: $err)"
	fi
}

mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
ip netns add "$NS"
ip -n "$NS" link add v0 index 10 type veth peer name v1 index 11
ip -n "$NS" addr add 192.0.2.1/24 dev v0
ip -n "$NS" link set v0 up
ip -n "$NS" link set v1 up
# Backends the data path can forward to: forwarding on (bpf_fib_lookup
# wants it), their neighbours known.
ip netns exec "$NS" sysctl -qw net.ipv4.conf.v0.forwarding=1 net.ipv4.conf.all.forwarding=1
ip -n "$NS" neigh add 192.0.2.11 lladdr 02:00:00:00:00:11 dev v0 nud permanent
ip -n "$NS" neigh add 192.0.2.12 lladdr 02:00:00:00:00:12 dev v0 nud permanent

VIP=203.0.113.10:80/tcp
x attach v0 >/dev/null || { echo "attach failed"; exit 1; }
x vip add "$VIP" >/dev/null && x backend add "$VIP" 192.0.2.11 >/dev/null &&
	x backend add "$VIP" 192.0.2.12 >/dev/null || { echo "setup failed"; exit 1; }
PROG_ID=$(ip -n "$NS" -j link show v0 | /usr/bin/python3 -c \
	'import json, sys; print(json.load(sys.stdin)[0]["xdp"]["prog"]["id"])')
V0_MAC=$(ip -n "$NS" -j link show v0 | /usr/bin/python3 -c \
	'import json, sys; print(json.load(sys.stdin)[0]["address"])')

# flows SRC_OCTET FIRST_SPORT COUNT: COUNT new flows from 198.18.0.SRC,
# one ACK each, through the attached program, in frames to v0's MAC (xlb
# forwards only frames to its device's).
flows() {
	local i
	for ((i = 0; i < $3; i++)); do
		/usr/bin/python3 "$(dirname "$0")/ack_frame.py" "$1" $(($2 + i)) "$V0_MAC" \
			>"$TMP/pkt"
		nsenter --net=/run/netns/"$NS" bpftool prog run id "$PROG_ID" \
			data_in "$TMP/pkt" repeat 1 >/dev/null || return 1
	done
}

# 1. Shape: two screens, one per interval, with the rates' header, the VIP
# and its two backends; no terminal escapes into a pipe.
x stats --watch -n 2 1 >"$TMP/out" 2>"$TMP/err"
rc=$?
screens=$(grep -c '^xlb stats: every 1.0 s (' "$TMP/out")
heads=$(grep -cE '^VIP / BACKEND +PACKETS/S +BYTES/S +NEW FLOWS/S$' "$TMP/out")
vrows=$(grep -cE "^203\.0\.113\.10:80/tcp +[0-9.]+ +[0-9.]+ +[0-9.]+$" "$TMP/out")
brows=$(grep -cE '^  -> 192\.0\.2\.1[12] +[0-9.]+ +[0-9.]+ +[0-9.]+$' "$TMP/out")
if [ $rc -eq 0 ] && [ "$screens" -eq 2 ] && [ "$heads" -eq 2 ] && [ "$vrows" -eq 2 ] &&
	[ "$brows" -eq 4 ] && ! grep -q $'\033' "$TMP/out" && [ ! -s "$TMP/err" ]; then
	pass "stats --watch -n 2 1: two screens, header, VIP and backend rows, exit 0"
else
	fail "stats --watch -n 2 1: exit $rc, $screens screens: $(cat "$TMP/out" "$TMP/err")"
fi

# 2. Rates: 20 new flows within one 2 s screen read 20 / interval.
xbg stats "$VIP" --watch 2 -n 1 >"$TMP/out"
wp=$!
sleep 0.3
flows 5 1000 20 || fail "injecting flows"
wait $wp
rc=$?
read -r pps nps < <(awk '$1 == "203.0.113.10:80/tcp" { print $2, $4 }' "$TMP/out")
be=$(awk '$1 == "->" { s += $5 } END { print s + 0 }' "$TMP/out")
if [ $rc -eq 0 ] && awk -v p="${pps:-0}" -v n="${nps:-0}" -v b="$be" \
	'BEGIN { exit !(n >= 9 && n <= 10.5 && p >= 9 && p <= 10.5 && b >= 9 && b <= 10.5) }'; then
	pass "stats --watch rates: 20 new flows in 2 s read $nps new flows/s, $pps packets/s (backends $be)"
else
	fail "stats --watch rates: exit $rc, pps ${pps:-?}, new ${nps:-?}, backends $be: $(cat "$TMP/out")"
fi

# 3. JSON: one object per screen.
x -j stats --watch 0.3 -n 2 >"$TMP/out"
if /usr/bin/python3 - "$TMP/out" <<'PY'
import json, sys
text, dec, docs, i = open(sys.argv[1]).read(), json.JSONDecoder(), [], 0
while True:
    while i < len(text) and text[i].isspace():
        i += 1
    if i == len(text):
        break
    d, i = dec.raw_decode(text, i)
    docs.append(d)
assert len(docs) == 2, docs
for d in docs:
    v = d["vips"][0]
    assert v["vip"] == "203.0.113.10:80/tcp", d
    assert {"packets_per_s", "bytes_per_s", "new_flows_per_s"} <= set(v), d
    assert len(v["backends"]) == 2 and "new_flows_per_s" in v["backends"][0], d
    assert d["interval"] > 0.25 and "rx_per_s" in d and "drops_per_s" in d, d
PY
then
	pass "stats -j --watch: one JSON object per screen, rates per VIP and backend"
else
	fail "stats -j --watch: $(cat "$TMP/out")"
fi

# 4. Without -n it runs until SIGINT or SIGTERM, and ends with exit 0.
for sig in TERM INT; do
	xbg stats --watch 0.2 >"$TMP/out"
	wp=$!
	sleep 1
	kill -"$sig" "$wp"
	wait "$wp"
	rc=$?
	n=$(grep -c '^xlb stats: every' "$TMP/out")
	if [ $rc -eq 0 ] && [ "$n" -ge 2 ]; then
		pass "stats --watch ends on SIG$sig with exit 0 ($n screens)"
	else
		fail "stats --watch on SIG$sig: exit $rc, $n screens"
	fi
done

# 5. Usage.
expect 2 "stats -n without --watch" stats -n 2
expect 2 "stats --watch -n 0" stats --watch -n 0
expect 2 "stats --watch -n without a count" stats --watch -n
expect 2 "stats --watch with an interval of 0" stats --watch 0
expect 2 "stats --watch twice" stats --watch --watch
expect 1 "stats --watch on an unknown VIP" stats 203.0.113.99:80/tcp --watch -n 1
expect 2 "top --count without --watch" top "$VIP" --count 2
expect 2 "top --watch --count 0" top "$VIP" --watch --count 0

# 6. top --watch: a NEW/S column; new flows counted per source in the
# screen they appeared in, none in the next.
xbg top "$VIP" --watch 1.5 --count 2 >"$TMP/out"
wp=$!
sleep 0.3
flows 7 2000 6 || fail "injecting flows"
wait $wp
rc=$?
heads=$(grep -cE '^SOURCE +FLOWS +SHARE +NEW/S +BACKEND$' "$TMP/out")
first=$(awk '$1 == "198.18.0.7/32" { print $4; exit }' "$TMP/out")
second=$(awk '$1 == "198.18.0.7/32" { v = $4 } END { print v }' "$TMP/out")
old=$(awk '$1 == "198.18.0.5/32" { print $4; exit }' "$TMP/out")
if [ $rc -eq 0 ] && [ "$heads" -eq 2 ] && awk -v f="${first:-0}" -v s="${second:-x}" -v o="${old:-x}" \
	'BEGIN { exit !(f >= 3.5 && f <= 4.1 && s == "0.0" && o == "0.0") }'; then
	pass "top --watch: 6 new flows in 1.5 s read $first/s, then 0.0; older sources 0.0"
else
	fail "top --watch: exit $rc, first ${first:-?}, second ${second:-?}, old ${old:-?}: $(cat "$TMP/out")"
fi
x -j top "$VIP" --watch 0.3 --count 1 >"$TMP/out"
if /usr/bin/python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))
assert {r["source"] for r in t} >= {"198.18.0.5/32", "198.18.0.7/32"}, t
assert all(r["new_flows_per_s"] == 0 for r in t), t' "$TMP/out"; then
	pass "top -j --watch: new_flows_per_s per source"
else
	fail "top -j --watch: $(cat "$TMP/out")"
fi
# Without --watch, top's screen is as before (no rates).
if x top "$VIP" | grep -qE '^SOURCE +FLOWS +SHARE +BACKEND$'; then
	pass "top without --watch keeps its columns"
else
	fail "top without --watch: $(x top "$VIP")"
fi

echo "$fails failed"
[ "$fails" -eq 0 ]
