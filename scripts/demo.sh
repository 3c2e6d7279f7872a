#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/demo.sh - xlb in a minute: builds, sets up a lab of network
# namespaces (tests/lib.sh), attaches the load balancer, puts three
# backends behind a VIP, sends real TCP connections from 24 client
# addresses, shows that every client sticks to one backend and that
# `xlb lookup` predicts it, fails one backend over and back, and prints
# the counters. Everything is torn down at the end, on failure and on
# Ctrl-C. Run as root: `sudo scripts/demo.sh` (or `make demo`).
#
# DEMO_NOBUILD=1 skips scripts/deps.sh and make.
set -u
export LC_ALL=C

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
[ "$(id -u)" -eq 0 ] || {
	echo "demo.sh: run as root (it creates network namespaces and attaches XDP)" >&2
	exit 1
}

if [ -t 1 ]; then
	B=$'\e[1m' D=$'\e[2m' G=$'\e[32m' R=$'\e[31m' Y=$'\e[33m' N=$'\e[0m'
else
	B='' D='' G='' R='' Y='' N=''
fi
step() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
ok() { printf '%s✓ %s%s\n' "$G" "$*" "$N"; }
bad() {
	printf '%s✗ %s%s\n' "$R" "$*" "$N"
	FAILED=1
}
FAILED=0

# --- build ---------------------------------------------------------------------
if [ "${DEMO_NOBUILD:-0}" != 1 ]; then
	step "Building (scripts/deps.sh, make)"
	bash scripts/deps.sh || exit 1
	make -s -j"$(nproc)" build/xlb >/dev/null || make build/xlb || exit 1
	ok "build/xlb $("$ROOT/build/xlb" --version | awk '{print $2}')"
fi

# shellcheck source-path=SCRIPTDIR source=../tests/lib.sh
. "$ROOT/tests/lib.sh"
LAB_NCLIENTS=24
lab_init
lab_on_exit printf '\n%s(tearing the lab down: namespaces, pins, processes)%s\n' "$D" "$N"

VIP=${LAB_VIP4S[0]}:80/tcp
VHOST=${LAB_VIP4S[0]}
VIP6=[${LAB_VIP6S[0]}]:80/tcp
VHOST6=${LAB_VIP6S[0]}
ROUNDS=3

# x ARGS... : shows and runs `xlb ARGS` on the load balancer.
x() {
	printf '%s$ xlb %s%s\n' "$Y" "$*" "$N"
	lab_xlb "$@"
}

# Backend name of an address.
be_name() {
	local i
	for i in 0 1 2; do
		if [ "$1" = "${LAB_BE4[i]}" ] || [ "$1" = "${LAB_BE6[i]}" ]; then
			echo "${LAB_BE_NAMES[i]}"
			return
		fi
	done
	echo "-"
}

# lookup VIP SRC... : "SRC NAME" per client, the backend xlb lookup says
# serves it (primary if up, else secondary).
lookup() {
	local vip=$1
	shift
	{
		lab_xlb -j vip show "$vip"
		echo
		lab_xlb -j lookup "$vip" "$@"
	} 2>/dev/null | "$LAB_PY" -c '
import json, sys
text, dec, docs, i = sys.stdin.read(), json.JSONDecoder(), [], 0
while i < len(text):
    if text[i].isspace():
        i += 1
        continue
    d, i = dec.raw_decode(text, i)
    docs.append(d)
show = docs[0][0] if isinstance(docs[0], list) else docs[0]
state = {b["addr"]: b.get("state") for b in show["backends"]}
for e in docs[1]:
    be = e.get("backend") or e.get("serves")
    if not be or be in ("primary", "secondary", "none"):
        p, s = e.get("primary"), e.get("secondary")
        be = p if state.get(p) == "up" else s if state.get(s) == "up" else "-"
    print(e["client"], be)
' | while read -r c a; do echo "$c $(be_name "$a")"; done
}

# --- lab -------------------------------------------------------------------------
step "Setting up the lab (network namespaces $LAB_PREFIX-*)"
cat <<EOF
   client ${LAB_CLIENT4}  sources ${LAB_SRC4[0]} .. ${LAB_SRC4[-1]} (${LAB_NCLIENTS}) and ${LAB_SRC6[0]} ..
      |        routes ${LAB_VIP4_NET} and ${LAB_VIP6_NET} via the load balancer
   [bridge]--- lb ${LAB_LB4}        xlb (XDP): encapsulates, XDP_TX back onto the segment
      |------- be1 ${LAB_BE4[0]}      \\
      |------- be2 ${LAB_BE4[1]}       > xlb decap (XDP), VIP on lo, answer clients directly
      '------- be3 ${LAB_BE4[2]}      /
EOF
t0=$(date +%s%N)
lab_setup
ok "lab up in $((($(date +%s%N) - t0) / 1000000)) ms; backends run 'xlb decap attach eth0 --from LB' and a tiny server answering its name"

step "Attaching the load balancer"
x attach "$LAB_DEV" || lab_die "xlb attach failed"

step "A VIP with three backends"
x vip add "$VIP" || lab_die "vip add failed"
for b in "${LAB_BE4[@]}"; do
	x backend add "$VIP" "$b" || lab_die "backend add failed"
done
x vip show

# --- traffic ---------------------------------------------------------------------
SRCS=("${LAB_SRC4[@]}")
step "${#SRCS[@]} clients connect $ROUNDS times each to $VHOST:80 (real TCP)"
printf '%s\n' "${SRCS[@]}" | lab_connect "$VHOST" 80 --rounds $ROUNDS >"$LAB_TMP/a"
awk '{print $1, $2}' "$LAB_TMP/a" >"$LAB_TMP/a.map"
HAVE_LOOKUP=0
if ! "$XLB" lookup 2>&1 | grep -q "unknown subcommand 'lookup'"; then
	HAVE_LOOKUP=1
	lookup "$VIP" "${SRCS[@]}" >"$LAB_TMP/a.lookup"
fi
printf '%s%-14s %-14s %s%s\n' "$B" "CLIENT" "ANSWERS" "xlb lookup" "$N"
while read -r c r1 rest; do
	pred=$(awk -v c="$c" '$1 == c {print $2}' "$LAB_TMP/a.lookup" 2>/dev/null)
	mark=""
	[ -n "$pred" ] && { [ "$pred" = "$r1" ] && mark="${G}agrees${N}" || mark="${R}differs${N}"; }
	printf '%-14s %-14s %s %s\n' "$c" "$r1 $rest" "${pred:--}" "$mark"
done <"$LAB_TMP/a"

if grep -q ERR "$LAB_TMP/a"; then
	bad "$(grep -c ERR "$LAB_TMP/a") clients had failed connections"
else
	ok "all $((${#SRCS[@]} * ROUNDS)) connections answered"
fi
if awk '{for (i = 3; i <= NF; i++) if ($i != $2) bad = 1} END {exit bad}' "$LAB_TMP/a"; then
	ok "every client reached the same backend on every connection"
else
	bad "some client changed backend between connections"
fi
used=$(awk '{print $2}' "$LAB_TMP/a.map" | sort | uniq -c | awk '{printf "%s%s: %s clients", s, $2, $1; s=", "}')
ok "spread: $used"
if [ "$HAVE_LOOKUP" = 1 ]; then
	if cmp -s <(sort "$LAB_TMP/a.map") <(sort "$LAB_TMP/a.lookup"); then
		ok "xlb lookup predicted the backend of every client"
	else
		bad "xlb lookup disagrees with the traffic"
	fi
else
	printf '%s(xlb lookup is not in this build)%s\n' "$D" "$N"
fi

# --- failover --------------------------------------------------------------------
DOWN_NAME=be2
DOWN=${LAB_BE4[1]}
step "Failover: $DOWN_NAME ($DOWN) goes down"
x backend set "$VIP" "$DOWN" --state down || lab_die "backend set failed"
printf '%s\n' "${SRCS[@]}" | lab_connect "$VHOST" 80 --rounds 2 >"$LAB_TMP/b"
awk '{print $1, $2}' "$LAB_TMP/b" >"$LAB_TMP/b.map"
printf '%s%-14s %-8s %-8s%s\n' "$B" "CLIENT" "BEFORE" "NOW" "$N"
moved=0 wrong=0
while read -r c before now; do
	if [ "$before" = "$now" ]; then
		printf '%-14s %-8s %-8s\n' "$c" "$before" "$now"
	else
		printf '%-14s %-8s %s%-8s <- moved%s\n' "$c" "$before" "$Y" "$now" "$N"
		moved=$((moved + 1))
		[ "$before" = "$DOWN_NAME" ] || wrong=$((wrong + 1))
	fi
	[ "$now" = "$DOWN_NAME" ] && wrong=$((wrong + 1))
done < <(awk 'NR == FNR { now[$1] = $2; next } { print $1, $2, now[$1] }' \
	"$LAB_TMP/b.map" "$LAB_TMP/a.map")
if [ "$wrong" -eq 0 ] && ! grep -q ERR "$LAB_TMP/b"; then
	ok "only $DOWN_NAME's $moved clients moved (to each slot's precomputed secondary); nobody else did"
else
	bad "$wrong clients moved that should not have (or failed)"
fi

step "$DOWN_NAME comes back"
x backend set "$VIP" "$DOWN" --state up || lab_die "backend set failed"
printf '%s\n' "${SRCS[@]}" | lab_connect "$VHOST" 80 --rounds 1 >"$LAB_TMP/c"
awk '{print $1, $2}' "$LAB_TMP/c" >"$LAB_TMP/c.map"
if cmp -s <(sort "$LAB_TMP/a.map") <(sort "$LAB_TMP/c.map"); then
	ok "all ${#SRCS[@]} clients are back on their original backend"
else
	bad "$(join <(sort "$LAB_TMP/a.map") <(sort "$LAB_TMP/c.map") | awk '$2 != $3' | wc -l) clients are elsewhere"
fi

# --- IPv6 -------------------------------------------------------------------------
step "The same over IPv6: VIP $VIP6, IPv6 backends"
x vip add "$VIP6" || lab_die "vip add failed"
for b in "${LAB_BE6[@]}"; do
	x backend add "$VIP6" "$b" || lab_die "backend add failed"
done
printf '%s\n' "${LAB_SRC6[@]:0:8}" | lab_connect "$VHOST6" 80 --rounds $ROUNDS >"$LAB_TMP/v6"
sed 's/^/  /' "$LAB_TMP/v6"
if ! grep -q ERR "$LAB_TMP/v6" &&
	awk '{for (i = 3; i <= NF; i++) if ($i != $2) bad = 1} END {exit bad}' "$LAB_TMP/v6"; then
	ok "IPv6 clients answered, each by one backend"
else
	bad "IPv6 connections failed or were not sticky"
fi

# --- counters --------------------------------------------------------------------
step "Counters"
if lab_xlb stats >/dev/null 2>&1; then
	x stats
else
	x vip show
fi

echo
if [ "$FAILED" -eq 0 ]; then
	printf '%sDemo finished: everything behaved.%s\n' "$G$B" "$N"
else
	printf '%sDemo finished with problems (marked ✗ above).%s\n' "$R$B" "$N"
fi
exit "$FAILED"
