#!/usr/bin/env bash
# CLI tests: every command, every kind of bad input (exit code, one-line
# message, nothing changed), JSON shapes. One namespace with a veth pair;
# a per-run pin directory. Run as root from the repository root.
set -uo pipefail

XLB=${XLB:-$PWD/build/xlb}
RUN=xc$$
NS=${RUN}lb
PIN=/sys/fs/bpf/$RUN
PIN2=/sys/fs/bpf/${RUN}cap
PIN3=/sys/fs/bpf/${RUN}big
fails=0

cleanup() {
	ip netns del "$NS" 2>/dev/null
	rm -rf "$PIN" "$PIN2" "$PIN3"
}
trap cleanup EXIT INT TERM

x() { nsenter --net=/run/netns/"$NS" "$XLB" --pin-dir "$PIN" "$@"; }
# xn: a pin directory that never holds maps (files checked alone).
xn() { nsenter --net=/run/netns/"$NS" "$XLB" --pin-dir "$PIN"none "$@"; }

pass() { printf 'PASS %s\n' "$1"; }
fail() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }

# expect CODE NAME CMD... : exit status and, for failures, one stderr line.
expect() {
	local want=$1 name=$2 out err rc
	shift 2
	err=$(x "$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		fail "$name (exit $rc, want $want: $err)"
		return
	fi
	# No pipes into head or grep -q here: under pipefail, a reader that
	# stops early can fail the writer with SIGPIPE, and the check with it.
	if [ "$want" -ne 0 ] && [[ ${err%%$'\n'*} != "xlb: "* ]]; then
		fail "$name (no 'xlb: reason' message: $err)"
		return
	fi
	pass "$name"
}

snapshot() { x -j vip show; x -j table "$VIP4" 2>/dev/null; }

ip netns add "$NS"
ip -n "$NS" link add v0 index 10 type veth peer name v1 index 11
ip -n "$NS" addr add 192.0.2.1/24 dev v0
ip -n "$NS" addr add 2001:db8:1::1/64 dev v0 nodad
ip -n "$NS" link set v0 up
ip -n "$NS" link set v1 up

VIP4=203.0.113.10:80/tcp
VIP6='[2001:db8:f::10]:443/tcp'

expect 2 "no command" 
expect 2 "unknown command" frobnicate
expect 0 "help" help
expect 1 "vip show before attach" vip show
expect 1 "status before attach" status
expect 2 "vip check without a VIP" vip check
expect 2 "vip check --min-up 0" vip check "$VIP4" --min-up 0
expect 2 "stats --prometheus with a VIP" stats "$VIP4" --prometheus
expect 1 "attach to a missing device" attach nosuchdev0
expect 2 "attach with a bad mode" attach v0 --mode turbo
expect 2 "attach with a bad seed" attach v0 --seed 123
expect 0 "attach" attach v0 --seed 000102030405060708090a0b0c0d0e0f
expect 0 "attach again is a no-op" attach v0
# jsonis NAME JSON PYEXPR: the output parses and PYEXPR holds of it (j).
jsonis() {
	if printf '%s' "$2" | /usr/bin/python3 -c 'import json, sys
j = json.load(sys.stdin)
sys.exit(0 if eval(sys.argv[1]) else 1)' "$3" 2>/dev/null; then
		pass "$1"
	else
		fail "$1: $2"
	fi
}
jsonis "attach -j again says so, with the mode" "$(x -j attach v0)" \
	'j == {"dev": "v0", "mode": "native", "already_attached": True}'
# Settings are made when attaching: attached already, the same values are
# a no-op and other values are refused, the maps untouched.
CFG0=$(bpftool -j map lookup pinned "$PIN/xlb_config" key 0 0 0 0)
expect 0 "attach again with the same seed and sources" attach v0 \
	--seed 000102030405060708090a0b0c0d0e0f --src4 192.0.2.1 --src6 2001:db8:1::1
expect 1 "attach again with another seed" attach v0 --seed 0f0e0d0c0b0a09080706050403020100
expect 1 "attach again with another --src4" attach v0 --src4 192.0.2.99
expect 1 "attach again with another --src6" attach v0 --src6 2001:db8:1::99
msg=$(x attach v0 --src4 192.0.2.99 2>&1)
case $msg in
"xlb: xlb is attached to v0 with another src4 value; it applies when attaching (detach first)")
	pass "the refusal names the option" ;;
*) fail "the refusal names the option ($msg)" ;;
esac
if [ "$(bpftool -j map lookup pinned "$PIN/xlb_config" key 0 0 0 0)" = "$CFG0" ]; then
	pass "refused settings change nothing"
else
	fail "refused settings changed xlb_config"
fi

# Maps of another layout (xlb_config.abi, bytes 36-39: an older or newer
# xlb made them) are refused by every command, never misread.
cfg_bytes() {
	bpftool -j map lookup pinned "$PIN/xlb_config" key 0 0 0 0 |
		/usr/bin/python3 -c 'import json, sys
print(" ".join(str(int(b, 16)) for b in json.load(sys.stdin)["value"]))'
}
cfg_write() { bpftool map update pinned "$PIN/xlb_config" key 0 0 0 0 value $1; }
CFG=$(cfg_bytes)
cfg_write "$(printf '%s\n' "$CFG" | /usr/bin/python3 -c 'import sys
v = sys.stdin.read().split(); v[36:40] = ["1", "0", "0", "0"]; print(" ".join(v))')"
expect 1 "stats on maps of another layout" stats
expect 1 "vip add on maps of another layout" vip add 203.0.113.99:80/tcp
expect 1 "attach over maps of another layout" attach v0
msg=$(x stats 2>&1 >/dev/null)
case $msg in
*"another map layout (1, this one's is "*) pass "the refusal names both layouts" ;;
*) fail "the refusal names both layouts ($msg)" ;;
esac
cfg_write "$CFG"
expect 0 "the same maps at this layout again" stats

# Maps of this layout but other capacities (an xlb built with other
# XLB_DEFS): the same maps pinned again in PIN2, one replaced by a map of
# another size, are refused, never indexed past their ends.
mkdir -p "$PIN2"
for f in "$PIN"/xlb_*; do
	id=$(bpftool -j map show pinned "$f" | /usr/bin/python3 -c \
		'import json, sys; print(json.load(sys.stdin)["id"])')
	bpftool map pin id "$id" "$PIN2/${f##*/}"
done
rm "$PIN2/xlb_vip_filter"
bpftool map create "$PIN2/xlb_vip_filter" type array key 4 value 512 entries 2 \
	name xlb_vip_filter
msg=$(nsenter --net=/run/netns/"$NS" "$XLB" --pin-dir "$PIN2" stats 2>&1 >/dev/null)
rc=$?
case "$rc:$msg" in
"1:xlb: $PIN2/xlb_vip_filter holds 2 entries where this xlb expects 1 (built with other XLB_DEFS?):"*)
	pass "maps of other capacities are refused, naming the map" ;;
*) fail "maps of other capacities: exit $rc: $msg" ;;
esac
msg=$(nsenter --net=/run/netns/"$NS" "$XLB" --pin-dir "$PIN2" attach v1 2>&1 >/dev/null)
rc=$?
case "$rc:$msg" in
"1:xlb: $PIN2/xlb_vip_filter holds 2 entries"*)
	pass "attach over maps of other capacities is refused before loading" ;;
*) fail "attach over maps of other capacities: exit $rc: $msg" ;;
esac
rm -rf "$PIN2"

expect 0 "vip add v4" vip add "$VIP4"
expect 0 "vip add v6 ring" vip add "$VIP6" --algo ring --table-size 4096 --src-prefix 24,64
expect 1 "vip add duplicate" vip add "$VIP4"

# filter_bit ADDR: 1 when ADDR's bit is set in xlb_vip_filter, else 0 (the
# bit computed here as include/xlb.h does, independently).
filter_bit() {
	bpftool -j map lookup pinned "$PIN/xlb_vip_filter" key 0 0 0 0 |
		/usr/bin/python3 -c 'import ipaddress, json, struct, sys
a = ipaddress.ip_address(sys.argv[1]).packed.ljust(16, b"\0")
w = struct.unpack("<4I", a)  # the words as this little-endian host stores them
lo, hi = w[0] | w[1] << 32, w[2] | w[3] << 32
m = (1 << 64) - 1
bit = (((lo * 0x9e3779b97f4a7c15) & m) ^ ((hi * 0xc2b2ae3d27d4eb4f) & m)) >> 52
v = bytes(int(b, 16) for b in json.load(sys.stdin)["value"])
print((v[bit // 8] >> (bit % 8)) & 1)' "$1"
}
if [ "$(filter_bit 203.0.113.10)$(filter_bit 2001:db8:f::10)$(filter_bit 198.51.100.77)" = 110 ]; then
	pass "vip add sets the VIP addresses' filter bits (not an unrelated one)"
else
	fail "filter bits after vip add: $(filter_bit 203.0.113.10)$(filter_bit 2001:db8:f::10)$(filter_bit 198.51.100.77)"
fi
expect 2 "vip add bad address" vip add 203.0.113.300:80/tcp
expect 2 "vip add port 0" vip add 203.0.113.10:0/tcp
expect 2 "vip add port out of range" vip add 203.0.113.10:65536/tcp
expect 2 "vip add bad protocol" vip add 203.0.113.10:80/sctp
expect 2 "vip add v6 without brackets" vip add 2001:db8::1:80/tcp
expect 2 "vip add non-prime maglev size" vip add 203.0.113.11:80/tcp --table-size 65536
expect 2 "vip add unknown algorithm" vip add 203.0.113.11:80/tcp --algo random
expect 2 "vip add bad prefix" vip add 203.0.113.11:80/tcp --src-prefix 33,64
expect 2 "vip add unknown option" vip add 203.0.113.11:80/tcp --colour red
expect 2 "vip add option without value" vip add 203.0.113.11:80/tcp --algo

# Addresses no packet can be balanced to or from are refused as VIPs and
# backends (usage errors: exit 2), naming their class; nothing is added.
classes=(0.0.0.0=unspecified 127.0.0.1=loopback 169.254.10.1=link-local
	224.0.0.5=multicast 255.255.255.255=broadcast ::=unspecified ::1=loopback
	fe80::1=link-local ff02::1=multicast ::ffff:203.0.113.10=IPv4-mapped)
before=$(snapshot)
for ac in "${classes[@]}"; do
	a=${ac%%=*} cls=${ac#*=}
	case $a in *:*) v="[$a]:80/tcp" vb=$VIP6 ;; *) v="$a:80/tcp" vb=$VIP4 ;; esac
	msg=$(x vip add "$v" 2>&1 >/dev/null)
	rc=$?
	case "$rc:$msg" in
	"2:xlb: VIP $a is a"*" $cls "*) pass "vip add $v refused ($cls)" ;;
	*) fail "vip add $v: exit $rc: $msg" ;;
	esac
	msg=$(x backend add "$vb" "$a" 2>&1 >/dev/null)
	rc=$?
	case "$rc:$msg" in
	"2:xlb: backend $a is a"*" $cls "*) pass "backend add $a refused ($cls)" ;;
	*) fail "backend add $a: exit $rc: $msg" ;;
	esac
done
msg=$(x backend add "$VIP4" 203.0.113.10 2>&1 >/dev/null)
rc=$?
case "$rc:$msg" in
"2:xlb: backend 203.0.113.10 is the address of its VIP $VIP4"*) pass "a backend at its VIP's address refused" ;;
*) fail "backend add at the VIP's address: exit $rc: $msg" ;;
esac
expect 2 "an IPv6 backend at its VIP's address refused" backend add "$VIP6" 2001:db8:f:0::10
if [ "$before" = "$(snapshot)" ]; then pass "refused addresses added nothing"; else fail "refused addresses changed state"; fi

for i in 11 12 13; do
	expect 0 "backend add 198.51.100.$i" backend add "$VIP4" 198.51.100.$i
done
expect 0 "backend add weighted" backend add "$VIP4" 198.51.100.14 --weight 3
before=$(snapshot)
expect 1 "backend add duplicate" backend add "$VIP4" 198.51.100.11
expect 2 "backend add weight out of range" backend add "$VIP4" 198.51.100.20 --weight 65536
expect 2 "backend add negative weight" backend add "$VIP4" 198.51.100.20 --weight -1
expect 2 "backend add bad address" backend add "$VIP4" 198.51.100
expect 1 "backend add to unknown VIP" backend add 203.0.113.99:80/tcp 198.51.100.20
expect 0 "vip add l2dsr" vip add 203.0.113.12:80/tcp --fwd l2dsr
expect 1 "v6 backend in l2dsr v4 VIP" backend add 203.0.113.12:80/tcp 2001:db8:2::1
expect 2 "backend set bad state" backend set "$VIP4" 198.51.100.11 --state sleepy
expect 1 "backend set unknown backend" backend set "$VIP4" 198.51.100.99 --state down
expect 1 "backend del unknown backend" backend del "$VIP4" 198.51.100.99
x vip del 203.0.113.12:80/tcp >/dev/null 2>&1
after=$(snapshot)
if [ "$before" = "$after" ]; then pass "bad input changed nothing"; else fail "bad input changed state"; fi

# Concurrent writers are serialised: 20 parallel adds, none lost.
x vip add 203.0.113.60:80/tcp >/dev/null 2>&1
pids=()
for i in $(seq 1 20); do
	x backend add 203.0.113.60:80/tcp 198.51.100.$((100 + i)) >/dev/null 2>&1 &
	pids+=($!)
done
rcs=0
for p in "${pids[@]}"; do wait "$p" || rcs=$((rcs + 1)); done
n=$(x -j vip show 203.0.113.60:80/tcp | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)[0]["backends"]))')
if [ "$rcs" -eq 0 ] && [ "$n" = 20 ]; then pass "20 concurrent writers, none lost"; else fail "concurrent writers: $rcs failed, $n of 20 backends"; fi
x vip del 203.0.113.60:80/tcp >/dev/null 2>&1

# JSON shapes.
out=$(x -j lookup "$VIP4" 198.18.0.1 198.18.0.2)
if printf '%s' "$out" | /usr/bin/python3 -c '
import json,sys
a=json.load(sys.stdin)
assert [e["client"] for e in a]==["198.18.0.1","198.18.0.2"]
for e in a: assert set(e)=={"client","primary","secondary"} and e["primary"] and e["secondary"]'; then
	pass "lookup -j shape"
else
	fail "lookup -j shape: $out"
fi
if x -j table "$VIP4" | /usr/bin/python3 -c '
import json,sys
t=json.load(sys.stdin)
assert t["size"]==65537 and len(t["primary"])==65537 and len(t["secondary"])==65537
assert len(t["backends"])==4 and t["state"]==["up"]*4
n=len(t["backends"]); c=[t["primary"].count(i) for i in range(n)]
assert all(p!=s for p,s in zip(t["primary"],t["secondary"]))
assert abs(c[3]/sum(c)-0.5)<0.01, c   # weight 3 of 6'; then
	pass "table -j shape and weights"
else
	fail "table -j shape and weights"
fi
expect 2 "lookup bad client" lookup "$VIP4" 198.18.0
expect 2 "lookup wrong family" lookup "$VIP4" 2001:db8::1
expect 1 "lookup unknown VIP" lookup 203.0.113.99:80/tcp 198.18.0.1
expect 2 "lookup without clients" lookup "$VIP4"

# DOWN: only that backend's slots change, each to its old secondary.
TMP=$(mktemp -d)
trap 'cleanup; rm -rf "$TMP"' EXIT INT TERM
x -j table "$VIP4" >"$TMP/t0"
expect 0 "backend set down" backend set "$VIP4" 198.51.100.12 --state down
x -j table "$VIP4" >"$TMP/t1"
if /usr/bin/python3 - "$TMP/t0" "$TMP/t1" <<'PY'
import json,sys
a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2]))
down=a["backends"].index("198.51.100.12")
assert b["state"][down]=="down"
for i,(p0,s0,p1) in enumerate(zip(a["primary"],a["secondary"],b["primary"])):
    assert (p1==p0) if p0!=down else (p1==s0), i
PY
then pass "down moves only its slots, to their secondaries"; else fail "down moved other slots"; fi
expect 0 "backend set up" backend set "$VIP4" 198.51.100.12 --state up
x -j table "$VIP4" >"$TMP/t2"
if cmp -s "$TMP/t0" "$TMP/t2"; then pass "up restores the same table"; else fail "up did not restore the table"; fi
expect 0 "backend set drain" backend set "$VIP4" 198.51.100.12 --state drain --drain-timeout 60
if grep -q '"state":"drain"' <<<"$(x -j vip show "$VIP4")"; then pass "vip show shows drain"; else fail "vip show shows drain"; fi
expect 0 "backend set weight" backend set "$VIP4" 198.51.100.12 --weight 2 --state up
expect 0 "backend del" backend del "$VIP4" 198.51.100.14
expect 0 "stats" stats
expect 0 "stats VIP" stats "$VIP4"
if x -j stats | /usr/bin/python3 -c 'import json,sys; s=json.load(sys.stdin); assert "rx" in s["global"] and s["vips"]'; then
	pass "stats -j shape"
else
	fail "stats -j shape"
fi
expect 1 "stats unknown VIP" stats 203.0.113.99:80/tcp
expect 0 "vip show VIP" vip show "$VIP6"
expect 1 "vip show unknown VIP" vip show 203.0.113.99:80/tcp
out=$(x -j vip show 203.0.113.99:80/tcp 2>/dev/null)
if [ "$out" = '{"error":"no VIP 203.0.113.99:80/tcp"}' ]; then pass "-j error object"; else fail "-j error object"; fi

if true; then
	expect 0 "simulate del" simulate "$VIP4" del 198.51.100.11
	expect 0 "simulate add" simulate "$VIP4" add 198.51.100.30
	expect 0 "simulate modulo" simulate "$VIP4" del 198.51.100.11 --algo modulo
	expect 2 "simulate bad change" simulate "$VIP4" explode 198.51.100.11
	expect 1 "simulate unknown VIP" simulate 203.0.113.99:80/tcp del 198.51.100.11
	m=$(x -j simulate "$VIP4" state 198.51.100.11 down | /usr/bin/python3 -c 'import json,sys; print(round(json.load(sys.stdin)["disruption"],2))')
	if [ "$m" = "1.0" ]; then pass "simulate down disruption 1.00x"; else fail "simulate down disruption $m"; fi
fi

# save / restore / apply: same tables byte for byte; a bad file changes nothing.
x save >"$TMP/saved.conf" 2>"$TMP/err"
if [ $? -eq 0 ] && grep -q 198.51.100.12 "$TMP/saved.conf"; then pass "save"; else fail "save: $(cat "$TMP/err")"; fi
x -j table "$VIP4" >"$TMP/s0"
x -j table "$VIP6" >"$TMP/s6"
x vip del "$VIP4" >/dev/null 2>&1
x vip add 203.0.113.50:53/udp >/dev/null 2>&1
expect 0 "restore" restore "$TMP/saved.conf"
x -j table "$VIP4" >"$TMP/s1"
x -j table "$VIP6" >"$TMP/s7"
if cmp -s "$TMP/s0" "$TMP/s1" && cmp -s "$TMP/s6" "$TMP/s7"; then pass "restore gives identical tables"; else fail "restore changed tables"; fi
if x vip show 203.0.113.50:53/udp >/dev/null 2>&1; then fail "restore kept a VIP absent from the file"; else pass "restore removes VIPs absent from the file"; fi
before=$(snapshot)
printf 'vips = ( { vip = "203.0.113.10:80/tcp"; backends = ( { addr = "198.51.100.300"; } ); } );\n' >"$TMP/bad.conf"
expect 1 "restore a file with a bad address" restore "$TMP/bad.conf"
printf 'vips = ( { vip = "203.0.113.10:80/tcp"; table_size = 65536; } );\n' >"$TMP/bad2.conf"
expect 1 "apply a file with a bad table size" apply -f "$TMP/bad2.conf"
printf 'vips = ( { vip = "203.0.113.10:80/tcp" ' >"$TMP/bad3.conf"
expect 1 "apply a file with a syntax error" apply -f "$TMP/bad3.conf"
out=$(x apply -f "$TMP/bad3.conf" 2>&1)
if grep -q 'bad3.conf:[0-9]' <<<"$out"; then pass "config error names FILE:LINE"; else fail "config error names FILE:LINE"; fi
expect 2 "apply without -f" apply "$TMP/saved.conf"
expect 1 "restore a missing file" restore "$TMP/none.conf"
after=$(snapshot)
if [ "$before" = "$after" ]; then pass "bad files changed nothing"; else fail "bad files changed state"; fi
expect 0 "apply -f" apply -f "$TMP/saved.conf"
expect 0 "simulate on a file" simulate "$VIP4" del 198.51.100.11 -f "$TMP/saved.conf"
# Applying what is already live rebuilds nothing and keeps the live table
# (whichever of the VIP's two table places it is in).
x backend set "$VIP4" 198.51.100.11 --weight 2 >/dev/null 2>&1
x -j table "$VIP4" >"$TMP/p0"
x save >"$TMP/cur.conf"
expect 0 "apply an unchanged file" apply -f "$TMP/cur.conf"
x -j table "$VIP4" >"$TMP/p1"
if cmp -s "$TMP/p0" "$TMP/p1" && ! cmp -s "$TMP/p0" "$TMP/s0"; then pass "unchanged apply keeps the live table"; else fail "unchanged apply changed the live table"; fi
x backend set "$VIP4" 198.51.100.11 --weight 1 >/dev/null 2>&1

# new_flow_limit: from the file into xlb_config (bpftool reads it by name),
# back out through save, and 0 again.
limit() {
	bpftool -j map dump pinned "$PIN/xlb_config" | /usr/bin/python3 -c \
		'import json,sys; print(json.load(sys.stdin)[0]["formatted"]["value"]["new_flow_limit"])'
}
x save | sed 's/^new_flow_limit = .*/new_flow_limit = 125000;/' >"$TMP/lim.conf"
expect 0 "apply new_flow_limit" apply -f "$TMP/lim.conf"
if [ "$(limit)" = 125000 ] && grep -qx 'new_flow_limit = 125000;' <<<"$(x save)"; then
	pass "new_flow_limit applied and saved"
else
	fail "new_flow_limit: map says '$(limit)'"
fi
sed -i 's/^new_flow_limit = .*/new_flow_limit = 0;/' "$TMP/lim.conf"
expect 0 "apply new_flow_limit 0" apply -f "$TMP/lim.conf"
if [ "$(limit)" = 0 ]; then pass "new_flow_limit back to 0"; else fail "new_flow_limit 0: map says '$(limit)'"; fi

# A file cut short (a full disk, an interrupted copy) never empties the
# balancer: cut at every line and inside tokens, `apply -f` refuses it
# (exit 1, "FILE:LINE: reason") or gives the whole file's state.
x save >"$TMP/full.conf"
ref=$(x save)
nl=$(wc -l <"$TMP/full.conf")
cuts=()
for ((n = 0; n < nl; n++)); do cuts+=("$(head -n "$n" "$TMP/full.conf" | wc -c)"); done
for tok in 'seed = "0001' 'tcp_timeout = 30' 'new_flow_limit = ' 'vips = (' 'addr = "198.51.1'; do
	pre=${ref%%"$tok"*}
	[ "$pre" != "$ref" ] && cuts+=($((${#pre} + ${#tok})))
done
bad=0
for n in "${cuts[@]}"; do
	head -c "$n" "$TMP/full.conf" >"$TMP/cut.conf"
	err=$(x apply -f "$TMP/cut.conf" 2>&1 >/dev/null)
	rc=$?
	if { [ $rc -eq 1 ] && [[ $err == "xlb: $TMP/cut.conf:"[0-9]*": "* ]]; } ||
		{ [ $rc -eq 0 ] && [ "$n" -ge $(($(wc -c <"$TMP/full.conf") - 2)) ]; }; then
		if [ "$(x save)" != "$ref" ]; then
			fail "cut at byte $n (exit $rc) changed the state"
			bad=$((bad + 1))
		fi
	else
		fail "cut at byte $n: exit $rc: $err"
		bad=$((bad + 1))
	fi
done
[ $bad -eq 0 ] && pass "${#cuts[@]} truncations of a saved file refused, state kept"
: >"$TMP/empty.conf"
msg=$(x restore "$TMP/empty.conf" 2>&1 >/dev/null)
rc=$?
case "$rc:$msg" in
"1:xlb: $TMP/empty.conf:1: no 'vips' setting"*"'vips = ();'"*) pass "restore of an empty file refused" ;;
*) fail "restore of an empty file: exit $rc: $msg" ;;
esac
if [ "$(x save)" = "$ref" ]; then pass "an empty file deleted nothing"; else fail "an empty file changed the state"; fi

# Settings made when attaching are not changed by a file under traffic:
# another seed, src4 or src6 is refused (exit 1, naming it and the option
# that allows it; the seed only by fingerprint) and changes nothing, until
# --reseed / --new-src let it through and stderr says what that breaks.
SEED0=000102030405060708090a0b0c0d0e0f
SEED1=f0e0d0c0b0a090807060504030201000
x save >"$TMP/fixed.conf"
ref=$(x save)
cfg0=$(bpftool -j map lookup pinned "$PIN/xlb_config" key 0 0 0 0)
unchanged() {
	if [ "$(x save)" = "$ref" ] &&
		[ "$(bpftool -j map lookup pinned "$PIN/xlb_config" key 0 0 0 0)" = "$cfg0" ]; then
		pass "$1: nothing changed"
	else
		fail "$1: the state changed"
	fi
}
# refused NAME WANT CMD...: exit 1 with WANT in the message, state kept.
refused() {
	local name=$1 want=$2 msg rc
	shift 2
	msg=$(x "$@" 2>&1 >/dev/null)
	rc=$?
	if [ $rc -eq 1 ] && [[ $msg == "xlb: "*"$want"* ]] && [[ $msg != *"$SEED1"* ]] &&
		[[ $msg != *"$SEED0"* ]]; then
		pass "$name ($msg)"
	else
		fail "$name: exit $rc: $msg"
	fi
	unchanged "$name"
}
sed "s/^seed = .*/seed = \"$SEED1\";/" "$TMP/fixed.conf" >"$TMP/seed1.conf"
refused "apply another seed" "$TMP/seed1.conf: seed (fingerprint " apply -f "$TMP/seed1.conf"
refused "restore another seed" "; --reseed (xlb apply, xlb restore) changes it" restore "$TMP/seed1.conf"
refused "--new-src does not reseed" "seed (fingerprint" apply --new-src -f "$TMP/seed1.conf"
tbl0=$(x -j table "$VIP4")
msg=$(x apply --reseed -f "$TMP/seed1.conf" 2>&1 >/dev/null)
rc=$?
# Every table is rebuilt with the new seed: the live one differs, and the
# old seed gives back the old table byte for byte.
tbl1=$(x -j table "$VIP4")
if [ -n "$tbl0" ] && [ "$tbl1" != "$tbl0" ]; then
	pass "apply --reseed rebuilds the tables with the new seed"
else
	fail "apply --reseed left the table as the old seed built it"
fi
if [ $rc -eq 0 ] && [[ $msg == "xlb: reseeded (fingerprint "*" -> "*"): every client has moved"* ]] &&
	grep -qx "seed = \"$SEED1\";" <<<"$(x save)"; then
	pass "apply --reseed changes the seed and says what it breaks"
else
	fail "apply --reseed: exit $rc: $msg"
fi
msg=$(x restore "$TMP/fixed.conf" --reseed 2>&1 >/dev/null)
rc=$?
if [ $rc -eq 0 ] && [[ $msg == "xlb: reseeded"* ]]; then pass "restore --reseed"; else fail "restore --reseed: exit $rc: $msg"; fi
# back() NAME: the saved state is the first one again (xlb_config's vip_gen
# has moved: it counts commits).
back() {
	if [ "$(x save)" = "$ref" ]; then pass "$1"; else fail "$1: $(diff <(x save) <(echo "$ref"))"; fi
	cfg0=$(bpftool -j map lookup pinned "$PIN/xlb_config" key 0 0 0 0)
}
back "reseeded back"
if [ "$(x -j table "$VIP4")" = "$tbl0" ]; then
	pass "the old seed gives back the old table"
else
	fail "the old seed does not give back the old table"
fi
sed 's/^src4 = .*/src4 = "192.0.2.99";/' "$TMP/fixed.conf" >"$TMP/src4.conf"
refused "apply another src4" \
	"src4 192.0.2.99 differs from the running balancer's 192.0.2.1; --new-src" apply -f "$TMP/src4.conf"
refused "--reseed does not change src4" "src4 192.0.2.99 differs" restore --reseed "$TMP/src4.conf"
sed 's/^src6 = .*/src6 = "2001:db8:1::99";/' "$TMP/fixed.conf" >"$TMP/src6.conf"
refused "restore another src6" \
	"src6 2001:db8:1::99 differs from the running balancer's 2001:db8:1::1; --new-src" restore "$TMP/src6.conf"
msg=$(x apply -f "$TMP/src6.conf" --new-src 2>&1 >/dev/null)
rc=$?
if [ $rc -eq 0 ] && [ "$msg" = "xlb: src6 changed 2001:db8:1::1 -> 2001:db8:1::99: backends that accept tunnelled packets only from 2001:db8:1::1 drop them" ] &&
	grep -qx 'src6 = "2001:db8:1::99";' <<<"$(x save)"; then
	pass "apply --new-src changes src6"
else
	fail "apply --new-src: exit $rc: $msg"
fi
expect 0 "restore --new-src" restore --new-src "$TMP/fixed.conf"
back "sources back"
{ echo "flows = 4096;"; cat "$TMP/fixed.conf"; } >"$TMP/flows.conf"
refused "a file with flows" \
	"flows.conf:1: flows sizes the flow table when the daemon attaches, so it needs 'interface'" \
	apply --reseed --new-src -f "$TMP/flows.conf"
{ echo 'interface = "v0";'; echo "flows = 4096;"; cat "$TMP/fixed.conf"; } >"$TMP/flows.conf"
refused "a file with another flows" \
	"flows.conf: flows 4096 differs from the flow table's 262144 entries" \
	apply --reseed --new-src -f "$TMP/flows.conf"
expect 2 "apply with an unknown option" apply --reseeed -f "$TMP/fixed.conf"
expect 2 "restore with two files" restore "$TMP/fixed.conf" "$TMP/fixed.conf"

# top: flows grouped by client source, entered by the data path itself: the
# program attached to v0 runs on a TCP ACK from 198.18.0.SRC:SPORT to the VIP,
# in a frame to v0's MAC (xlb forwards only frames to its device's).
PROG_ID=$(ip -n "$NS" -j link show v0 | /usr/bin/python3 -c \
	'import json, sys; print(json.load(sys.stdin)[0]["xdp"]["prog"]["id"])')
V0_MAC=$(ip -n "$NS" -j link show v0 | /usr/bin/python3 -c \
	'import json, sys; print(json.load(sys.stdin)[0]["address"])')
flow() { # SRC_LAST_OCTET SPORT
	/usr/bin/python3 "$(dirname "$0")/ack_frame.py" $((16#$1)) $((16#$2 + 40000)) \
		"$V0_MAC" >"$TMP/pkt"
	nsenter --net=/run/netns/"$NS" bpftool prog run id "$PROG_ID" \
		data_in "$TMP/pkt" repeat 1 >/dev/null
}
flow 01 10 && flow 01 11 && flow 01 12 && flow 02 10
out=$(x -j top "$VIP4" 2>&1)
if printf '%s' "$out" | /usr/bin/python3 -c '
import json,sys
t=json.load(sys.stdin)
assert t[0]["source"]=="198.18.0.1/32" and t[0]["flows"]==3, t
assert t[1]["source"]=="198.18.0.2/32" and t[1]["flows"]==1, t'; then pass "top groups flows by source"; else fail "top: $out"; fi
out=$(x -j top "$VIP4" --prefix 24 2>&1)
if grep -q '"source":"198.18.0.0/24","flows":4' <<<"$out"; then pass "top --prefix 24"; else fail "top --prefix: $out"; fi
expect 2 "top bad prefix" top "$VIP4" --prefix 33
expect 1 "top unknown VIP" top 203.0.113.99:80/tcp

# Another program on the interface: xlb refuses to displace it.
ip -n "$NS" addr add 192.0.2.2/24 dev v1
# decap: --from is required and every prefix checked before anything is
# loaded (exit 2, one line naming the bad value).
expect 2 "decap attach without --from" decap attach v1
msg=$(x decap attach v1 2>&1 >/dev/null)
case $msg in
*"--from PREFIX is required"*) pass "decap attach without --from says --from is required" ;;
*) fail "decap attach without --from: $msg" ;;
esac
expect 2 "decap attach --from without a value" decap attach v1 --from
expect 2 "decap attach --from not an address" decap attach v1 --from nonsense
expect 2 "decap attach --from IPv4 length 33" decap attach v1 --from 192.0.2.0/33
expect 2 "decap attach --from IPv6 length 129" decap attach v1 --from 2001:db8::/129
expect 2 "decap attach --from empty length" decap attach v1 --from 192.0.2.0/
expect 2 "decap attach --from host bits past the length" decap attach v1 --from 192.0.2.1/24
expect 2 "decap attach --from 17 IPv4 prefixes" decap attach v1 \
	$(for i in $(seq 1 17); do printf -- '--from 10.0.%d.0/24 ' "$i"; done)
msg=$(x decap attach v1 --from 192.0.2.1/24 2>&1 >/dev/null)
case $msg in
*"192.0.2.1/24"*"bits set past /24"*) pass "a bad --from is named with its fault" ;;
*) fail "a bad --from is named with its fault: $msg" ;;
esac
if x decap stats v1 >/dev/null 2>&1; then
	fail "bad decap attaches attached nothing"
else
	pass "bad decap attaches attached nothing"
fi
jsonis "decap attach -j" "$(x -j decap attach v1 --from 192.0.2.1 --from 2001:db8:1::/48)" \
	'j["dev"] == "v1" and j["mode"] == "native" and j["ipv4_addrs"] == 1 and not j["already_attached"] and j["from"] == ["192.0.2.1", "2001:db8:1::/48"]'
jsonis "decap attach -j again, same prefixes: already attached" \
	"$(x -j decap attach v1 --from 192.0.2.1 --from 2001:db8:1::/48)" \
	'j["already_attached"]'
expect 1 "decap attach again with other prefixes" decap attach v1 --from 192.0.2.0/24
msg=$(x decap attach v1 --from 192.0.2.0/24 2>&1 >/dev/null)
case $msg in
*"other addresses or --from prefixes"*"detach first"*) pass "other prefixes are refused, not ignored" ;;
*) fail "other prefixes are refused, not ignored: $msg" ;;
esac
jsonis "decap stats -j" "$(x -j decap stats v1)" \
	'j == {"dev": "v1", "decapsulated": 0, "drop_source": 0, "drop_head": 0}'
expect 2 "decap stats without DEV" decap stats
expect 1 "decap stats on a device without decap" decap stats v0
out=$(x attach v1 2>&1)
rc=$?
if [ $rc -eq 1 ] && grep -q 'already has an XDP program (xlb_decap)' <<<"$out"; then
	pass "attach refuses an interface another program owns"
else
	fail "attach over another program: exit $rc: $out"
fi
expect 1 "detach refuses another program" detach v1
expect 0 "decap detach" decap detach v1
out=$(x decap attach v1 --from 0.0.0.0/0 --from ::/0 2>&1)
rc=$?
if [ $rc -eq 0 ] && grep -q 'warning: decap on v1 accepts tunnels from any source' <<<"$out"; then
	pass "decap --from 0.0.0.0/0 attaches, with a warning"
else
	fail "decap --from 0.0.0.0/0: exit $rc: $out"
fi
expect 0 "decap detach after --from any" decap detach v1

expect 0 "vip del" vip del "$VIP6"
if [ "$(filter_bit 203.0.113.10)$(filter_bit 2001:db8:f::10)" = 10 ]; then
	pass "vip del clears the VIP address's filter bit"
else
	fail "filter bits after vip del: $(filter_bit 203.0.113.10)$(filter_bit 2001:db8:f::10)"
fi
expect 1 "vip del again" vip del "$VIP6"
expect 1 "detach a device without xlb" detach v1
expect 0 "detach" detach v0
expect 1 "detach again" detach v0

# A device without native XDP (a bridge): attach falls back to generic
# mode unless native is asked for, which fails naming the way out.
ip -n "$NS" link add xbr0 type bridge
ip -n "$NS" link set xbr0 up
out=$(x attach xbr0 --mode native 2>&1)
rc=$?
case "$rc:$out" in
"1:xlb: can't attach in native mode: the driver has no native XDP (try --mode generic)")
	pass "attach --mode native on a device without native XDP" ;;
*) fail "attach --mode native on a bridge: exit $rc: $out" ;;
esac
jsonis "attach falls back to generic mode" "$(x -j attach xbr0)" \
	'j["dev"] == "xbr0" and j["mode"] == "generic" and not j["already_attached"]'
if grep -q 'xdpgeneric' <<<"$(ip -n "$NS" link show xbr0)"; then
	pass "the kernel shows xdpgeneric"
else
	fail "no xdpgeneric on xbr0: $(ip -n "$NS" link show xbr0)"
fi
jsonis "attach -j again in generic mode" "$(x -j attach xbr0)" \
	'j["mode"] == "generic" and j["already_attached"]'
expect 0 "detach generic" detach xbr0
expect 0 "attach --mode generic on veth" attach v0 --mode generic
if grep -q 'xdpgeneric' <<<"$(ip -n "$NS" link show v0)"; then
	pass "veth in generic mode when asked"
else
	fail "no xdpgeneric on v0: $(ip -n "$NS" link show v0)"
fi
expect 0 "detach v0 (generic)" detach v0

# The flow table's size is chosen when its maps are made (--flows), kept
# by every later attach, and used by the data path and the readers alike.
x3() { nsenter --net=/run/netns/"$NS" "$XLB" --pin-dir "$PIN3" "$@"; }
for bad in 1000 512 33554432 lots; do
	out=$(x3 attach v0 --flows "$bad" 2>&1)
	rc=$?
	case "$rc:$out" in
	"2:xlb: invalid --flows '$bad' (want a power of two from 1024 to 16777216)"*)
		pass "attach --flows $bad refused" ;;
	*) fail "attach --flows $bad: exit $rc: $out" ;;
	esac
done
if [ -e "$PIN3" ]; then fail "a refused --flows made maps"; else pass "a refused --flows made nothing"; fi
if x3 attach v0 --flows 1048576 >/dev/null 2>&1 &&
	[ "$(bpftool -j map show pinned "$PIN3/xlb_flows" | /usr/bin/python3 -c \
		'import json, sys; print(json.load(sys.stdin)["max_entries"])')" = 262144 ]; then
	pass "attach --flows 1048576 makes a table of 262144 sets"
else
	fail "attach --flows 1048576: $(bpftool map show pinned "$PIN3/xlb_flows" 2>&1)"
fi
x3 restore "$TMP/cur.conf" >/dev/null 2>&1 || fail "restore into the larger table's maps"
# Maps without VIPs steer nothing yet: they take the file's seed.
if grep -qx "seed = \"$SEED0\";" <<<"$(x3 save)"; then
	pass "a balancer without VIPs takes the file's seed"
else
	fail "restore over a balancer without VIPs: $(x3 save | grep seed)"
fi
PROG_ID=$(ip -n "$NS" -j link show v0 | /usr/bin/python3 -c \
	'import json, sys; print(json.load(sys.stdin)[0]["xdp"]["prog"]["id"])')
flow 01 10 && flow 01 11 && flow 02 10
out=$(x3 -j top "$VIP4" 2>&1)
if printf '%s' "$out" | /usr/bin/python3 -c '
import json,sys
t=json.load(sys.stdin)
assert [(r["source"], r["flows"]) for r in t] == [("198.18.0.1/32", 2), ("198.18.0.2/32", 1)], t'; then
	pass "flows recorded and read back in the larger table"
else
	fail "top on the larger table: $out"
fi
jsonis "stats: the flow table's use and size" "$(x3 -j stats)" \
	'j["flow_table"] == {"entries": 3, "capacity": 1048576}'
expect_x3() { # CODE NAME CMD...
	local want=$1 name=$2 err rc
	shift 2
	err=$(x3 "$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" -eq "$want" ]; then pass "$name"; else fail "$name (exit $rc: $err)"; fi
}
expect_x3 0 "attach again with the same --flows" attach v0 --flows 1048576
expect_x3 1 "attach again with another --flows" attach v0 --flows 4096
expect_x3 0 "detach (larger table)" detach v0
msg=$(x3 attach v0 --flows 4096 2>&1 >/dev/null)
case $msg in
"xlb: the flow table in $PIN3 holds 1048576 flows; its size is chosen when it is made"*)
	pass "a kept table's size is not changed by a later attach" ;;
*) fail "re-attach with another --flows: $msg" ;;
esac
expect_x3 0 "re-attach without --flows keeps the table" attach v0
expect_x3 0 "detach (larger table, again)" detach v0
rm -rf "$PIN3"

# make install honours PREFIX and DESTDIR; the installed binary carries its
# BPF programs (attach works from / with nothing else installed), and the
# systemd unit names the installed path.
DEST=$(mktemp -d /tmp/"$RUN"inst.XXXXXX)
BIN=$DEST/opt/xlbt/sbin/xlb
UNIT=$DEST/opt/xlbt/lib/systemd/system/xlb.service
if ! out=$(make -s install PREFIX=/opt/xlbt DESTDIR="$DEST" 2>&1); then
	fail "make install: $out"
elif [ ! -x "$BIN" ] || ! grep -q '^ExecStart=/opt/xlbt/sbin/xlb ' "$UNIT"; then
	fail "make install: $(cd "$DEST" && find . -type f)"
elif ! (cd / && nsenter --net=/run/netns/"$NS" "$BIN" --pin-dir "$PIN" attach v0 &&
	nsenter --net=/run/netns/"$NS" "$BIN" --pin-dir "$PIN" detach v0) >/dev/null; then
	fail "the installed binary attaches and detaches from /"
else
	pass "make install PREFIX DESTDIR; the installed binary runs from /"
fi
rm -rf "$DEST"

# make install adds a commented sample /etc/xlb/xlb.conf that `xlb check`
# accepts, and never replaces one that exists; the unit is clean under
# `systemd-analyze verify` (which names unknown keys and missing binaries:
# a copy with a misspelt key must not pass).
DEST=$(mktemp -d /tmp/"$RUN"inst.XXXXXX)
if ! out=$(make -s install PREFIX=/opt/xlbt DESTDIR="$DEST" 2>&1); then
	fail "make install (sample): $out"
elif ! out=$(xn check "$DEST/etc/xlb/xlb.conf" 2>&1) ||
	[ "$out" != "$DEST/etc/xlb/xlb.conf: ok (0 VIPs, 0 backends)" ]; then
	fail "the sample configuration passes xlb check: $out"
elif echo 'vips = ();  # mine' >"$DEST/etc/xlb/xlb.conf" &&
	! make -s install PREFIX=/opt/xlbt DESTDIR="$DEST" >/dev/null 2>&1 ||
	[ "$(cat "$DEST/etc/xlb/xlb.conf")" != 'vips = ();  # mine' ]; then
	fail "make install keeps an existing /etc/xlb/xlb.conf"
else
	pass "make install: a sample xlb.conf that xlb check accepts, an existing one kept"
fi
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$DEST/u"
	sed "s|/opt/xlbt/sbin/xlb|$DEST/opt/xlbt/sbin/xlb|" \
		"$DEST/opt/xlbt/lib/systemd/system/xlb.service" >"$DEST/u/xlb.service"
	sed 's/^WatchdogSec=/WatchdogSecs=/' "$DEST/u/xlb.service" >"$DEST/u/xlbbad.service"
	out=$(systemd-analyze verify "$DEST/u/xlb.service" 2>&1)
	rc=$?
	bad=$(systemd-analyze verify "$DEST/u/xlbbad.service" 2>&1)
	if [ "$rc" -eq 0 ] && [ -z "$out" ] && [[ $bad == *WatchdogSecs* ]] &&
		grep -qx 'Type=notify' "$DEST/u/xlb.service" &&
		grep -q '^ExecReload=.*xlb check /etc/xlb/xlb.conf$' "$DEST/u/xlb.service"; then
		pass "systemd-analyze verify: the unit is clean (Type=notify, WatchdogSec, ExecReload pre-check)"
	else
		fail "systemd-analyze verify (exit $rc): $out / misspelt: $bad"
	fi
fi
rm -rf "$DEST"

# xlb check: exit 0 on a good file, 1 with FILE:LINE on a bad one, 2 on
# usage; a daemon-only setting (metrics) is validated too.
CK=$(mktemp -d /tmp/"$RUN"ck.XXXXXX)
printf 'metrics = "127.0.0.1:9469";\nvips = ( { vip = "%s"; backends = ( { addr = "192.0.2.11"; } ); } );\n' \
	"$VIP4" >"$CK/good.conf"
printf 'vips = ();\nmetrics = "localhost";\n' >"$CK/bad.conf"
out=$(xn check "$CK/good.conf" 2>&1)
rc=$?
err=$(xn check "$CK/bad.conf" 2>&1)
rc2=$?
xn check >/dev/null 2>&1
rc3=$?
if [ "$rc" -eq 0 ] && [ "$rc2" -eq 1 ] && [ "$rc3" -eq 2 ] &&
	[[ $err == "xlb: $CK/bad.conf:2: invalid metrics address 'localhost'"* ]] &&
	[ "$(xn -j check "$CK/good.conf" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ok"])')" = True ]; then
	pass "xlb check: 0 good ($out), 1 bad ($err), 2 usage; -j"
else
	fail "xlb check: $rc $rc2 $rc3: $out / $err"
fi
rm -rf "$CK"

echo "cli: $fails failed"
[ "$fails" -eq 0 ]
