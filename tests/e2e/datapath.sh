#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/e2e/datapath.sh - real TCP through xlb in the standard lab
# (tests/lib.sh): many client addresses connect to a VIP, the LB forwards
# with XDP, the backends decapsulate with `xlb decap` and answer directly.
#
# One case per forwarding path: IPv4 and IPv6 VIPs over ipip (same-family
# backends, IPv4 VIP over IPv6 backends, IPv6 VIP over IPv4 backends),
# l2dsr (IPv4, IPv6), and UDP VIPs over ipip (one datagram and its answer
# per "connection"). Each case checks that
#   - every connection succeeds,
#   - uploads with full-size segments get through the encapsulation (TCP),
#   - each client address reaches the same backend on every connection,
#   - all three backends are used,
#   - `xlb -j lookup` predicts the backend each client reached,
#   - `xlb backend set VIP ADDR --state down` moves only that backend's
#     clients, and `--state up` brings them back,
#   - the VIP's counters in `xlb -j vip show` increase.
# Then a host that is no balancer (the client) sends IPIP and IP6IP6 to a
# backend: its decap (attached --from the LB's addresses) drops them and
# counts them as drop_source in `xlb decap stats`.
# Prints PASS/FAIL/SKIP per check; exits 1 if any failed.
#
# Environment: DP_CLIENTS (client addresses per case, default 200),
# DP_ROUNDS (connections per client in the first pass, default 3),
# DP_CASES (space-separated case names to run, default all),
# DP_NEW_FLOW_LIMIT (run with that new_flow_limit in the configuration).
set -u
export LC_ALL=C

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

DP_CLIENTS=${DP_CLIENTS:-200}
DP_ROUNDS=${DP_ROUNDS:-3}
LAB_NCLIENTS=$DP_CLIENTS # read by lab_init
PORT=80
UPLOAD=200000

lab_init
OUT=$LAB_TMP/dp
mkdir -p "$OUT"

# Whether this build has `xlb lookup`.
HAVE_LOOKUP=0
if ! "$XLB" lookup 2>&1 | grep -q "unknown subcommand 'lookup'"; then
	HAVE_LOOKUP=1
fi

# --- helpers ---------------------------------------------------------------

# vip_counters VIP : "packets new_flows" summed over the VIP's backends,
# then one "ADDR STATE PACKETS NEW_FLOWS" line per backend.
vip_counters() {
	lab_xlb -j vip show "$1" | "$LAB_PY" -c '
import json, sys
v = json.load(sys.stdin)
v = v[0] if isinstance(v, list) else v
bes = v.get("backends", [])
print(sum(b.get("packets", 0) for b in bes), sum(b.get("new_flows", 0) for b in bes))
for b in bes:
    print(b["addr"], b.get("state", "?"), b.get("packets", 0), b.get("new_flows", 0))
'
}

# lookup_names VIP SRC... : "SRC NAME" per source, the backend `xlb lookup`
# says serves it: an explicit serving field if the output has one, else the
# primary when it is up, else the secondary.
lookup_names() {
	local vip=$1
	shift
	{
		lab_xlb -j vip show "$vip" || return 1
		echo
		lab_xlb -j lookup "$vip" "$@" || return 1
	} >"$OUT/lookup.json" 2>"$OUT/lookup.err" || return 1
	"$LAB_PY" - "$OUT/lookup.json" "${LAB_BE4[@]}" "${LAB_BE6[@]}" \
		"${LAB_BE_NAMES[@]}" <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
dec = json.JSONDecoder()
docs, i = [], 0
while i < len(text):
    if text[i].isspace():
        i += 1
        continue
    d, i = dec.raw_decode(text, i)
    docs.append(d)
show, look = docs[0], docs[1]
show = show[0] if isinstance(show, list) else show
state = {b["addr"]: b.get("state") for b in show.get("backends", [])}
a = sys.argv[2:]
names = dict(zip(a[0:3], a[6:9]))
names.update(zip(a[3:6], a[6:9]))
if isinstance(look, dict):
    look = look.get("clients", look.get("results", [look]))
for e in look:
    be = e.get("backend") or e.get("serves") or e.get("serving")
    if not be or be in ("primary", "secondary", "none"):
        p, s = e.get("primary"), e.get("secondary")
        be = p if p and state.get(p) == "up" else s if s and state.get(s) == "up" else None
    print(e["client"], names.get(be, "none"))
EOF
}

# global_stat NAME : the xlb_stats counter NAME, as `xlb -j stats` sums it.
global_stat() {
	lab_xlb -j stats 2>/dev/null | "$LAB_PY" -c \
		'import json,sys; print(json.load(sys.stdin)["global"][sys.argv[1]])' \
		"$1" 2>/dev/null
}

# check_all_ok FILE : every answer in a lab_connect output is a backend.
check_all_ok() {
	! grep -q 'ERR' "$1" && [ "$(wc -l <"$1")" -eq "$2" ]
}

# sticky FILE : every source got the same backend on every connection.
# Writes "SRC NAME" to FILE.map.
sticky() {
	awk '{ for (i = 3; i <= NF; i++) if ($i != $2) bad = 1; print $1, $2 }
	     END { exit bad }' "$1" >"$1.map"
}

errs() {
	grep -c ERR "$1"
	grep ERR "$1" | head -3 | sed 's/^/    /' >&2
}

# --- one case ----------------------------------------------------------------

# run_case NAME VIP HOST FWD FAMILY(4|6 client) BE_FAMILY(4|6)
run_case() {
	local name=$1 vip=$2 host=$3 fwd=$4 cfam=$5 bfam=$6
	local -a srcs bes
	local i f before after n down down_name moved wrong tot udp=

	if [ "$cfam" = 4 ]; then srcs=("${LAB_SRC4[@]}"); else srcs=("${LAB_SRC6[@]}"); fi
	if [ "$bfam" = 4 ]; then bes=("${LAB_BE4[@]}"); else bes=("${LAB_BE6[@]}"); fi
	n=${#srcs[@]}
	f=$OUT/$name
	[[ $vip == */udp ]] && udp=--udp
	echo "== $name: $vip ($fwd, IPv$cfam clients, IPv$bfam backends)"

	if ! lab_xlb vip add "$vip" --fwd "$fwd" >/dev/null; then
		lab_fail "$name: vip add"
		return
	fi
	for i in 0 1 2; do
		lab_xlb backend add "$vip" "${bes[i]}" >/dev/null ||
			lab_fail "$name: backend add ${bes[i]}"
	done
	before=$(vip_counters "$vip")
	before=${before%%$'\n'*}

	# 1. Every connection succeeds, sticky per client, all backends used.
	# UDP phases use source ports of their own (--sport): a UDP flow
	# re-chosen while its backend was down keeps the new backend, so a
	# later phase reusing its port by chance would find it there.
	printf '%s\n' "${srcs[@]}" |
		lab_connect "$host" "$PORT" $udp ${udp:+--sport 21000} \
			--rounds "$DP_ROUNDS" >"$f.a"
	if check_all_ok "$f.a" "$n"; then
		lab_pass "$name: $((n * DP_ROUNDS)) connections from $n clients"
	else
		lab_fail "$name: connections ($(errs "$f.a") of $((n * DP_ROUNDS)) failed)"
	fi
	if sticky "$f.a"; then
		lab_pass "$name: each client always reached the same backend"
	else
		lab_fail "$name: stickiness ($(awk '{for(i=3;i<=NF;i++) if($i!=$2){print;break}}' "$f.a" | head -1))"
	fi
	tot=$(awk '$2 !~ /ERR/ {print $2}' "$f.a.map" | sort | uniq -c |
		awk '{printf "%s%s=%s", sep, $2, $1; sep=" "}')
	if [ "$(awk '$2 !~ /ERR/ {print $2}' "$f.a.map" | sort -u | wc -l)" -eq 3 ]; then
		lab_pass "$name: all three backends used ($tot)"
	else
		lab_fail "$name: backends used: $tot"
	fi

	# 1b. Full-size segments: uploads through the tunnel (MTU headroom).
	if [ -z "$udp" ]; then
		printf '%s\n' "${srcs[@]:0:8}" |
			lab_connect "$host" "$PORT" --upload "$UPLOAD" --timeout 5 >"$f.up"
		if check_all_ok "$f.up" 8 &&
			[ -z "$(join <(sort "$f.a.map") <(sort "$f.up") | awk '$2 != $3')" ]; then
			lab_pass "$name: 8 uploads of $UPLOAD bytes (full-size segments) reached the clients' backends"
		else
			lab_fail "$name: uploads: $(awk '{printf "%s ", $2}' "$f.up")"
		fi
	fi

	# 2. xlb lookup predicts the backend.
	if [ "$HAVE_LOOKUP" = 1 ]; then
		if lookup_names "$vip" "${srcs[@]}" >"$f.lookup" &&
			[ "$(wc -l <"$f.lookup")" -eq "$n" ]; then
			wrong=$(join <(sort "$f.a.map") <(sort "$f.lookup") |
				awk '$2 != $3' | wc -l)
			if [ "$wrong" -eq 0 ]; then
				lab_pass "$name: xlb lookup predicts all $n clients"
			else
				lab_fail "$name: xlb lookup wrong for $wrong of $n clients"
			fi
		else
			lab_fail "$name: xlb -j lookup failed: $(head -c 300 "$OUT/lookup.err")"
		fi
	else
		lab_skip "$name: xlb lookup not in this build"
	fi

	# 3. One backend down: only its clients move.
	down_name=$(awk '{print $2}' "$f.a.map" | sort | uniq -c | sort -rn |
		awk 'NR == 1 {print $2}')
	down=""
	for i in 0 1 2; do
		[ "${LAB_BE_NAMES[i]}" = "$down_name" ] && down=${bes[i]}
	done
	if [ -z "$down" ]; then
		lab_fail "$name: no backend to set down"
	elif ! lab_xlb backend set "$vip" "$down" --state down >/dev/null; then
		lab_fail "$name: backend set $down --state down"
	else
		printf '%s\n' "${srcs[@]}" |
			lab_connect "$host" "$PORT" $udp ${udp:+--sport 22000} \
				--rounds 2 >"$f.b"
		check_all_ok "$f.b" "$n" ||
			lab_fail "$name: with $down_name down, $(errs "$f.b") connections failed"
		sticky "$f.b" || lab_fail "$name: with $down_name down, not sticky"
		# Clients of other backends: unchanged. Its clients: elsewhere.
		wrong=$(join <(sort "$f.a.map") <(sort "$f.b.map") | awk -v d="$down_name" '
			($2 != d && $3 != $2) || ($2 == d && ($3 == d || $3 ~ /ERR/))' | wc -l)
		moved=$(join <(sort "$f.a.map") <(sort "$f.b.map") |
			awk -v d="$down_name" '$2 == d' | wc -l)
		if [ "$wrong" -eq 0 ] && check_all_ok "$f.b" "$n"; then
			lab_pass "$name: $down_name down moved only its $moved clients"
		else
			lab_fail "$name: $down_name down: $wrong clients misplaced, e.g. $(join <(sort "$f.a.map") <(sort "$f.b.map") | awk -v d="$down_name" '($2 != d && $3 != $2) || ($2 == d && $3 == d)' | head -2 | tr '\n' ';')"
		fi
		if [ "$HAVE_LOOKUP" = 1 ]; then
			if lookup_names "$vip" "${srcs[@]}" >"$f.lookup2"; then
				wrong=$(join <(sort "$f.b.map") <(sort "$f.lookup2") |
					awk '$2 != $3' | wc -l)
				if [ "$wrong" -eq 0 ]; then
					lab_pass "$name: xlb lookup predicts the failover"
				else
					lab_fail "$name: xlb lookup wrong for $wrong clients with $down_name down"
				fi
			else
				lab_fail "$name: xlb -j lookup failed"
			fi
		fi

		# 4. Back up: everyone returns to the original backend.
		lab_xlb backend set "$vip" "$down" --state up >/dev/null ||
			lab_fail "$name: backend set $down --state up"
		printf '%s\n' "${srcs[@]}" |
			lab_connect "$host" "$PORT" $udp ${udp:+--sport 23000} \
				--rounds 1 >"$f.c"
		sticky "$f.c"
		if check_all_ok "$f.c" "$n" && cmp -s <(sort "$f.a.map") <(sort "$f.c.map"); then
			lab_pass "$name: $down_name up again, every client back on its backend"
		else
			lab_fail "$name: after $down_name up, $(join <(sort "$f.a.map") <(sort "$f.c.map") | awk '$2 != $3' | wc -l) clients elsewhere, $(grep -c ERR "$f.c") failed"
		fi
	fi

	# 5. Counters grew: packets and new flows, per backend used.
	vip_counters "$vip" >"$f.cnt"
	after=$(head -1 "$f.cnt")
	sed -i 1d "$f.cnt"
	# shellcheck disable=SC2086
	set -- $before $after
	if [ "${3:-0}" -gt "${1:-0}" ] && [ "${4:-0}" -gt "${2:-0}" ] &&
		[ "${4:-0}" -ge $((n * DP_ROUNDS)) ] &&
		! awk '$3 == 0 { bad = 1 } END { exit !bad }' "$f.cnt"; then
		lab_pass "$name: counters grew (packets $1 -> $3, new flows $2 -> $4)"
	else
		lab_fail "$name: counters: packets ${1:-?} -> ${3:-?}, new flows ${2:-?} -> ${4:-?}; $(tr '\n' ';' <"$f.cnt")"
	fi
	lab_xlb vip del "$vip" >/dev/null || lab_fail "$name: vip del"
}

# --- main ----------------------------------------------------------------------

start=$(date +%s)
lab_setup
if out=$(lab_lb_attach 2>&1); then
	lab_pass "xlb attach: $out"
else
	lab_fail "xlb attach: $out"
	lab_summary
	exit 1
fi
# Jumbo frames: native XDP on such a veth takes a multi-buffer program;
# in generic mode the frames would arrive linear and test nothing new.
if [ "$LAB_MTU" -gt 4000 ]; then
	case $out in
	*"(native mode)"*) lab_pass "jumbo: attached natively at MTU $LAB_MTU" ;;
	*) lab_fail "jumbo: not attached natively at MTU $LAB_MTU: $out" ;;
	esac
	for i in 1 2 3; do
		link=$(lab_ns "b$i" ip -d link show "$LAB_DEV")
		case $link in
		*xdpgeneric*) lab_fail "jumbo: b$i decap in generic mode" ;;
		*" xdp "*|*"prog/xdp "*) lab_pass "jumbo: b$i decap attached natively" ;;
		*) lab_fail "jumbo: no XDP on b$i: $link" ;;
		esac
	done
fi

# With a cap on the flows a CPU records a second, new flows beyond it are
# forwarded unrecorded: every check below must pass all the same.
if [ -n "${DP_NEW_FLOW_LIMIT:-}" ]; then
	lab_xlb save 2>/dev/null |
		sed "s/^new_flow_limit = .*/new_flow_limit = $DP_NEW_FLOW_LIMIT;/" >"$OUT/limit.conf"
	if grep -qx "new_flow_limit = $DP_NEW_FLOW_LIMIT;" "$OUT/limit.conf" &&
		lab_xlb apply -f "$OUT/limit.conf" >/dev/null; then
		lab_pass "new_flow_limit = $DP_NEW_FLOW_LIMIT applied"
	else
		lab_fail "new_flow_limit = $DP_NEW_FLOW_LIMIT not applied"
	fi
fi

CASES=(
	"v4-ipip ${LAB_VIP4S[0]}:$PORT/tcp ${LAB_VIP4S[0]} ipip 4 4"
	"v6-ipip [${LAB_VIP6S[0]}]:$PORT/tcp ${LAB_VIP6S[0]} ipip 6 6"
	"v4-in-v6 ${LAB_VIP4S[1]}:$PORT/tcp ${LAB_VIP4S[1]} ipip 4 6"
	"v6-in-v4 [${LAB_VIP6S[1]}]:$PORT/tcp ${LAB_VIP6S[1]} ipip 6 4"
	"v4-l2dsr ${LAB_VIP4S[2]}:$PORT/tcp ${LAB_VIP4S[2]} l2dsr 4 4"
	"v6-l2dsr [${LAB_VIP6S[2]}]:$PORT/tcp ${LAB_VIP6S[2]} l2dsr 6 6"
	"v4-udp ${LAB_VIP4S[3]}:$PORT/udp ${LAB_VIP4S[3]} ipip 4 4"
	"v6-udp [${LAB_VIP6S[3]}]:$PORT/udp ${LAB_VIP6S[3]} ipip 6 6"
)
for c in "${CASES[@]}"; do
	# shellcheck disable=SC2086
	set -- $c
	if [ -n "${DP_CASES:-}" ] && [[ " $DP_CASES " != *" $1 "* ]]; then
		continue
	fi
	run_case "$@"
done

# With no MTU headroom toward the backends, full-size client packets can
# only pass through path-MTU discovery: xlb answers them with ICMP
# "fragmentation needed" / "packet too big", and the uploads above succeed.
if [ "$LAB_MTU" -lt 1540 ]; then
	sent=$(global_stat icmp_too_big_sent)
	if [ "${sent:-0}" -gt 0 ]; then
		lab_pass "pmtu: $sent ICMP too-big replies let full-size uploads through MTU $LAB_MTU"
	else
		lab_fail "pmtu: no ICMP too-big reply at MTU $LAB_MTU"
	fi
fi

# Jumbo frames: the uploads' 9000-byte segments were forwarded, none of
# them taken for truncated.
if [ "$LAB_MTU" -gt 4000 ]; then
	bad=$(global_stat drop_malformed)
	if [ "${bad:-x}" = 0 ]; then
		lab_pass "jumbo: no frame dropped as malformed at MTU $LAB_MTU"
	else
		lab_fail "jumbo: drop_malformed ${bad:-unreadable} at MTU $LAB_MTU"
	fi
fi

if [ -n "${DP_NEW_FLOW_LIMIT:-}" ]; then
	limited=$(global_stat flow_limited)
	if [ "${limited:-0}" -gt 0 ]; then
		lab_pass "new_flow_limit: $limited new flows forwarded unrecorded, the checks above held"
	else
		lab_fail "new_flow_limit: no flow went unrecorded (flow_limited ${limited:-unreadable})"
	fi
fi

# Tunnels from a host that is no balancer: the backend's decap (--from the
# LB's addresses only) drops them, where it decapsulated the LB's.
decap_stat() {
	lab_ns b1 "$XLB" -j decap stats "$LAB_DEV" |
		"$LAB_PY" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}
dec0=$(decap_stat decapsulated)
src0=$(decap_stat drop_source)
if lab_ns c "$LAB_PY" - "${LAB_BE4[0]}" "${LAB_BE6[0]}" "${LAB_VIP4S[0]}" \
	"${LAB_VIP6S[0]}" "$PORT" <<'PY' >"$OUT/inject.log" 2>&1; then
import sys
from scapy.all import IP, IPv6, TCP, send, conf
conf.verb = 0
be4, be6, vip4, vip6, port = sys.argv[1:6]
send(IP(dst=be4) / IP(src="198.18.7.7", dst=vip4) /
     TCP(sport=4444, dport=int(port), flags="S"), count=3)
send(IPv6(dst=be6) / IPv6(src="2001:db8:c::77", dst=vip6) /
     TCP(sport=4444, dport=int(port), flags="S"), count=3)
PY
	sleep 0.5
	dec1=$(decap_stat decapsulated)
	src1=$(decap_stat drop_source)
	if [ "${dec0:-0}" -gt 0 ] && [ "$((src1 - src0))" -eq 6 ] && [ "$dec1" = "$dec0" ]; then
		lab_pass "decap: 6 tunnels from a non-balancer dropped (drop_source), $dec0 from the LB decapsulated"
	else
		lab_fail "decap: from the client: drop_source $src0 -> $src1, decapsulated $dec0 -> $dec1 (want +6, unchanged, > 0)"
	fi
else
	lab_fail "decap: could not send tunnels from the client: $(tail -3 "$OUT/inject.log")"
fi

echo "== data path counters"
lab_xlb stats 2>/dev/null | grep -E '^(rx|tx|flow_|drop_)' | awk '$2 != 0' | sed 's/^/  /'
echo "== $(($(date +%s) - start)) s"
lab_summary
