#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Digests (`xlb vip show`, --expect): two nodes given the same VIPs and
# seed in different orders (so their backend ids differ) print the same
# digests; a backend's state, a weight or another seed changes them; the
# seed is never printed; --expect exits 0 on a match, 1 on a mismatch and
# 2 on a malformed digest. Two namespaces, one pin directory each.
set -uo pipefail

XLB=${XLB:-$PWD/build/xlb}
RUN=xd$$
SEED=00112233445566778899aabbccddeeff
VIP=203.0.113.10:80/tcp
fails=0

cleanup() {
	local n
	for n in a b; do
		ip netns del "$RUN$n" 2>/dev/null
		rm -rf "/sys/fs/bpf/$RUN$n"
	done
}
trap cleanup EXIT INT TERM

x() {
	local n=$1
	shift
	nsenter --net=/run/netns/"$RUN$n" "$XLB" --pin-dir "/sys/fs/bpf/$RUN$n" "$@"
}
pass() { printf 'PASS %s\n' "$1"; }
fail() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }
check() {
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}
digest() { # NODE [VIP]: the VIP's digest, or the node's
	if [ $# -gt 1 ]; then
		x "$1" -j vip show "$2" | /usr/bin/python3 -c \
			'import json,sys; print(json.load(sys.stdin)[0]["digest"])'
	else
		x "$1" vip show | sed -n 's/^node digest \([0-9a-f]*\) .*/\1/p'
	fi
}
rc() { "$@" >/dev/null 2>&1; echo $?; }

mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
for n in a b; do
	ip netns add "$RUN$n" || exit 1
	ip -n "$RUN$n" link add v0 index 10 type veth peer name v1 index 11
	ip -n "$RUN$n" addr add 192.0.2.1/24 dev v0
	ip -n "$RUN$n" link set v0 up
	ip -n "$RUN$n" link set v1 up
	x "$n" attach v0 --seed "$SEED" >/dev/null || exit 1
done
x a vip add "$VIP"
x a backend add "$VIP" 192.0.2.11
x a backend add "$VIP" 192.0.2.12 --weight 2
# Node b allocates other ids: a VIP and a backend come and go first.
x b vip add 203.0.113.9:80/tcp
x b backend add 203.0.113.9:80/tcp 192.0.2.14
x b vip add "$VIP"
x b backend add "$VIP" 192.0.2.12 --weight 2
x b backend add "$VIP" 192.0.2.11
x b vip del 203.0.113.9:80/tcp

da=$(digest a "$VIP")
db=$(digest b "$VIP")
check "digest is 16 hex digits" grep -Eqx "[0-9a-f]{16}" <<<"$da"
check "same file and seed, other ids: same VIP digest" [ "$da" = "$db" ]
check "same node digest" [ "$(digest a)" = "$(digest b)" ]
out=$(x a vip show; x a -j vip show)
check "the seed is not in vip show" [ "${out/$SEED/}" = "$out" ]
check "--expect a match: 0" [ "$(rc x b vip show "$VIP" --expect "$da")" = 0 ]
check "--expect the node digest: 0" [ "$(rc x b vip show --expect "$(digest a)")" = 0 ]
check "--expect upper case: 0" [ "$(rc x b vip show "$VIP" --expect "${da^^}")" = 0 ]
check "--expect malformed: 2" [ "$(rc x b vip show --expect 12345)" = 2 ]
check "--expect without a value: 2" [ "$(rc x b vip show --expect)" = 2 ]
out=$(x b -j vip show --expect 0000000000000000 2>/dev/null)
check "-j mismatch: 1" [ "$(rc x b -j vip show --expect 0000000000000000)" = 1 ]
check "-j mismatch: stdout is the JSON array" /usr/bin/python3 -c \
	'import json,sys; assert isinstance(json.loads(sys.argv[1]), list)' "$out"

x b backend set "$VIP" 192.0.2.12 --state down
check "a backend down: digests differ" [ "$(digest b "$VIP")" != "$da" ]
check "--expect a mismatch: 1" [ "$(rc x b vip show "$VIP" --expect "$da")" = 1 ]
x b backend set "$VIP" 192.0.2.12 --state up
check "back up: digests agree again" [ "$(digest b "$VIP")" = "$da" ]
x b backend set "$VIP" 192.0.2.12 --weight 3
check "another weight: digests differ" [ "$(digest b "$VIP")" != "$da" ]
x b backend set "$VIP" 192.0.2.12 --weight 2
check "weight back: digests agree again" [ "$(digest b "$VIP")" = "$da" ]

# Another seed: same backends, other tables and another digest.
x b vip del "$VIP"
x b apply --reseed -f /dev/stdin >/dev/null <<CONF
seed = "ffeeddccbbaa99887766554433221100";
vips = ( { vip = "$VIP"; check = { type = "none"; };
	   backends = ( { addr = "192.0.2.11"; }, { addr = "192.0.2.12"; weight = 2; } ); } );
CONF
check "another seed: digests differ" [ "$(digest b "$VIP")" != "$da" ]

for n in a b; do x "$n" detach v0 >/dev/null; done
[ "$fails" -eq 0 ]
