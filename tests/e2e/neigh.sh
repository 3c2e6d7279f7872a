#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/e2e/neigh.sh - no black hole when the LB's kernel loses a
# backend's neighbour entry, with no daemon running. In the standard lab
# (tests/lib.sh), its primed neighbour entries flushed first:
#   - `xlb backend add` makes a kernel-managed entry (managed, proto 251)
#     for the backend's next hop, resolved without any other traffic, and
#     VIP traffic (IPv4 and IPv6 backends) flows at once;
#   - after `ip neigh flush` on the LB (what the garbage collector does
#     under pressure, done deterministically: the kernel's neighbour
#     tables and their gc thresholds are shared by every namespace of the
#     machine, so a test must not push them), once the next-hop cache's
#     TTL has passed every connection through the VIPs still succeeds,
#     with nexthop_stale counted and no drop_no_neigh;
#   - `xlb detach` removes xlb's entries and only those.
# Prints PASS/FAIL per check; exits 1 if any failed.
set -u
export LC_ALL=C

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

LAB_NCLIENTS=${NEIGH_CLIENTS:-20} # read by lab_init
VIP4=203.0.113.10
VIP6=2001:db8:f::10
BE4=${LAB_BE4[0]}
BE6=${LAB_BE6[0]}
OTHER4=192.0.2.99 # an entry xlb must leave alone

lab_init
export XLB_RUN_DIR=$LAB_TMP/run

lbneigh() { ip -n "$(lab_nsname lb)" -d neigh show "$@"; }
managed_ok() { lbneigh "$1" dev "$LAB_DEV" | grep -E 'managed' | grep -E 'proto 251' | grep -Eq 'REACHABLE|STALE|DELAY|PROBE'; }

# all_ok VIP N : N connections from N client sources, every one answered.
all_ok() {
	local vip=$1 n=$2 out
	local -a src=("${LAB_SRC4[@]:0:n}")
	[[ $vip == *:* ]] && src=("${LAB_SRC6[@]:0:n}")
	out=$(printf '%s\n' "${src[@]}" | lab_connect "$vip" 80 --timeout 1)
	[ "$(grep -c ' be1$' <<<"$out")" -eq "$n" ] || {
		grep -v ' be1$' <<<"$out" | head -3 | sed 's/^/    /' >&2
		return 1
	}
}

stat() {
	lab_xlb -j stats 2>/dev/null | "$LAB_PY" -c \
		'import json,sys; print(json.load(sys.stdin)["global"].get(sys.argv[1], 0))' "$1"
}

lab_setup
lab_ns lb ip neigh flush dev "$LAB_DEV" >/dev/null
lab_attach_pair "$VIP4" "$VIP6" "$BE4" "$BE6"

lab_check "backend add makes a managed, resolved entry for $BE4 (proto 251)" \
	lab_wait 2 managed_ok "$BE4"
lab_check "backend add makes a managed, resolved entry for $BE6 (proto 251)" \
	lab_wait 2 managed_ok "$BE6"
lab_check "IPv4 VIP answered with no other resolution" lab_wait 3 all_ok "$VIP4" 10
lab_check "IPv6 VIP answered with no other resolution" lab_wait 3 all_ok "$VIP6" 10

s0=$(stat nexthop_stale)
d0=$(stat drop_no_neigh)
lab_ns lb ip neigh flush dev "$LAB_DEV" >/dev/null
lab_ns lb ip -6 neigh flush dev "$LAB_DEV" >/dev/null
gone=1
lbneigh "$BE4" | grep -q lladdr && gone=0
lbneigh "$BE6" | grep -q lladdr && gone=0
lab_check "the LB's kernel has lost both backends' entries" [ "$gone" = 1 ]
sleep 1.2 # past the next-hop cache's TTL (1 s)
lab_check "IPv4 VIP still answered after the flush (within 1 s per connection)" \
	all_ok "$VIP4" 20
lab_check "IPv6 VIP still answered after the flush (within 1 s per connection)" \
	all_ok "$VIP6" 20
s1=$(stat nexthop_stale)
d1=$(stat drop_no_neigh)
lab_check "nexthop_stale counted ($s0 -> $s1)" [ "$s1" -gt "$s0" ]
lab_check "no drop_no_neigh ($d0 -> $d1)" [ "$d1" -eq "$d0" ]

lab_xlb backend add "$VIP4:80/tcp" 192.0.2.12 >/dev/null || lab_fail "second backend add"
lab_check "the next commit makes the new backend's entry managed" \
	lab_wait 2 managed_ok 192.0.2.12

ip -n "$(lab_nsname lb)" neigh add "$OTHER4" lladdr 02:00:00:00:00:99 dev "$LAB_DEV" nud stale ||
	lab_die "neigh add"
lab_xlb detach "$LAB_DEV" >/dev/null || lab_fail "detach"
lab_check "detach removes xlb's entries" \
	sh -c "! ip -n $(lab_nsname lb) -d neigh show | grep -q 'proto 251'"
lab_check "detach leaves other entries ($OTHER4)" \
	sh -c "ip -n $(lab_nsname lb) neigh show $OTHER4 | grep -q lladdr"

lab_summary
