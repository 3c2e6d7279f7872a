#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/e2e/daemon.sh - `xlb daemon` end to end, in the standard lab of
# tests/lib.sh (client with 200 source addresses per family, LB, three
# DSR backends behind a bridge), with real TCP:
#
#   1. stickiness and spread of 200 clients (IPv4 and IPv6 VIPs);
#   2. failover: a backend's server stops; only its clients move, within
#      fall x interval + 1 s, and no other client sees a failed connection;
#   3. recovery with slow start: its clients come back in steps;
#   4. draining: a long-lived connection keeps exchanging data while new
#      connections go elsewhere; after the drain timeout the backend is gone;
#   5. SIGKILL during traffic: no connection fails; restarted, the daemon
#      adopts the live state and no client moves;
#   6. a bad config file: FILE:LINE error and exit 1; SIGHUP with a bad,
#      empty or truncated file, or one with another seed or src4: error
#      logged, state unchanged, daemon still running;
#   7. flap damping: a backend failing again soon after its comeback;
#   8. operator changes made with the CLI meanwhile are kept;
# and finally SIGTERM: exit 0, the data path keeps forwarding.
#
# Run as root from anywhere; prints PASS/FAIL per check and exits 1 if any
# failed. XLB=path overrides the binary.
set -u

. "$(dirname "$0")/../lib.sh"

VIP4=203.0.113.10
VIP6=2001:db8:f::10
VIPL=203.0.113.11 # long-lived connections (drain), port LPORT
PORT=80
LPORT=9000
INTERVAL=0.5
FALL=3
SLOW=5
SEED=0123456789abcdef0123456789abcdef

if "$XLB" daemon 2>&1 | grep -qE "unknown (sub)?command 'daemon'"; then
	lab_skip "daemon: $XLB has no daemon command (cmd_daemon not registered in user/main.c)"
	lab_summary
	exit 0
fi

lab_setup
OUT=$LAB_TMP/daemon
mkdir -p "$OUT"
CONF=$OUT/xlb.conf
DLOG=$OUT/daemon.log
DPID=

# ---------------------------------------------------------------------------
# Helpers.

# Echo server on LPORT in each backend: "who" gets the name and a close;
# anything else gets the name, then every line echoed back until EOF.
cp "$LAB_ROOT/tests/echo.py" "$OUT/echo.py"

# traffic.py HOST PORT SECONDS < sources: rounds of one connection per
# source until SECONDS pass; prints "TIME SRC ANSWER" per connection.
cp "$LAB_ROOT/tests/who.py" "$OUT/who.py"
cat >"$OUT/traffic.py" <<'EOF'
import sys, time
from concurrent.futures import ThreadPoolExecutor
from who import answer

host, port, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
srcs = [l.strip() for l in sys.stdin if l.strip()]


def one(src):
    t = time.time()
    return t, src, answer(host, port, src, 1.0)


end = time.time() + secs
with ThreadPoolExecutor(max_workers=48) as ex:
    while time.time() < end:
        for t, s, r in ex.map(one, srcs):
            print(f"{t:.3f} {s} {r}", flush=True)
EOF

# hold.py HOST PORT SRC SECONDS: one connection kept for SECONDS, a line
# exchanged every 0.1 s; prints the backend's name at once, then
# "exchanged N errors E first_error".
cat >"$OUT/hold.py" <<'EOF'
import socket, sys, time

host, port, src, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(1.0)
s.bind((src, 0))
s.connect((host, port))
f = s.makefile("rwb")
f.write(b"hold\n")
f.flush()
print(f.readline().decode().strip(), flush=True)
n = errs = 0
first = ""
end = time.time() + secs
while time.time() < end:
    msg = f"ping {n}\n".encode()
    try:
        f.write(msg)
        f.flush()
        if f.readline() != msg:
            raise OSError("bad echo")
        n += 1
    except OSError as e:
        errs += 1
        first = first or str(e).replace(" ", "_")
        break
    time.sleep(0.1)
print(f"exchanged {n} errors {errs} {first}", flush=True)
EOF

# check.py: analyses of client answers (see each command).
cat >"$OUT/check.py" <<'EOF'
import sys
from collections import Counter, defaultdict


def table(path):
    """lab_connect output: SRC ANSWER... -> {src: [answers]}"""
    out = {}
    for line in open(path):
        f = line.split()
        if f:
            out[f[0]] = f[1:]
    return out


def traffic(path):
    """traffic.py output -> [(t, src, answer)]"""
    out = []
    for line in open(path):
        f = line.split()
        if len(f) == 3:
            out.append((float(f[0]), f[1], f[2]))
    return out


cmd = sys.argv[1]
if cmd == "sticky":
    # sticky FILE BASE_OUT: every source always the same backend, no errors,
    # each backend within 20% of a fair share; writes "SRC BACKEND".
    t = table(sys.argv[2])
    bad = [s for s, a in t.items() if len(set(a)) != 1 or a[0].startswith("ERR")]
    cnt = Counter(a[0] for a in t.values() if a)
    fair = len(t) / 3
    print("spread", dict(sorted(cnt.items())), "fair %.1f" % fair,
          "non-sticky or failed", len(bad), bad[:3])
    with open(sys.argv[3], "w") as f:
        for s, a in t.items():
            f.write(f"{s} {a[0]}\n")
    ok = not bad and len(cnt) == 3 and all(abs(c - fair) <= 0.2 * fair for c in cnt.values())
    sys.exit(0 if ok else 1)

if cmd == "failover":
    # failover BASE TRAFFIC VICTIM T0 LIMIT: clients of other backends keep
    # their backend and never fail; the victim's clients are on another
    # backend from T0 + LIMIT on.
    base = {s: a[0] for s, a in table(sys.argv[2]).items()}
    tr, victim = traffic(sys.argv[3]), sys.argv[4]
    t0, limit = float(sys.argv[5]), float(sys.argv[6])
    others_bad, late_bad, moved_at = [], [], {}
    for t, s, r in tr:
        if base[s] != victim:
            if r != base[s]:
                others_bad.append((round(t - t0, 2), s, r))
        elif t >= t0:
            if r.startswith("ERR") or r == victim:
                if t >= t0 + limit:
                    late_bad.append((round(t - t0, 2), s, r))
            elif s not in moved_at:
                moved_at[s] = t - t0
    victims = [s for s in base if base[s] == victim]
    last = max(moved_at.values()) if moved_at else -1
    print("connections", len(tr), "victim clients", len(victims),
          "moved", len(moved_at), "last moved after %.2f s" % last,
          "others failed/moved", len(others_bad), others_bad[:3],
          "victims failing late", len(late_bad), late_bad[:3])
    ok = not others_bad and not late_bad and len(moved_at) == len(victims) and victims
    sys.exit(0 if ok else 1)

if cmd == "stable":
    # stable BASE SAMPLE VICTIM: prints how many clients the victim has and
    # how many clients of other backends are not on their own backend.
    base = {s: a[0] for s, a in table(sys.argv[2]).items()}
    cur = table(sys.argv[3])
    victim = sys.argv[4]
    n = sum(1 for a in cur.values() if a and a[0] == victim)
    bad = sum(1 for s, a in cur.items() if base[s] != victim and (not a or a[0] != base[s]))
    print(n, bad)
    sys.exit(0)

if cmd == "nofail":
    # nofail BASE TRAFFIC: every connection succeeded on the base backend.
    base = {s: a[0] for s, a in table(sys.argv[2]).items()}
    tr = traffic(sys.argv[3])
    bad = [(s, r) for t, s, r in tr if r != base[s]]
    print("connections", len(tr), "failed or moved", len(bad), bad[:3])
    sys.exit(0 if tr and not bad else 1)

if cmd == "without":
    # without FILE NAME: no answer is NAME and none failed.
    t = table(sys.argv[2])
    hit = [s for s, a in t.items() if sys.argv[3] in a]
    err = [s for s, a in t.items() if any(x.startswith("ERR") for x in a)]
    print("to", sys.argv[3], len(hit), "failed", len(err), err[:3])
    sys.exit(0 if not hit and not err else 1)
sys.exit(2)
EOF

# vipjson.py: reads `xlb -j vip show` on stdin.
cat >"$OUT/vipjson.py" <<'EOF'
import json, sys

vips = json.load(sys.stdin)
cmd = sys.argv[1]
if cmd == "states":
    # One line per backend: VIP ADDR STATE RAMP WEIGHT; and the generation.
    for v in vips:
        print(v["vip"], "gen", v["generation"])
        for b in v["backends"]:
            print(v["vip"], b["addr"], b["state"], b["ramp"], b["weight"])
elif cmd == "allup":
    # allup: every backend up at full ramp, and at least one backend.
    bes = [b for v in vips for b in v["backends"]]
    sys.exit(0 if bes and all(b["state"] == "up" and b["ramp"] == 1000 for b in bes) else 1)
elif cmd == "be":
    # be VIP ADDR FIELD...: a backend's fields (from one reading), "absent"
    # when not there.
    for v in vips:
        if v["vip"] == sys.argv[2]:
            for b in v["backends"]:
                if b["addr"] == sys.argv[3]:
                    print(" ".join(str(b[f]) for f in sys.argv[4:]))
                    sys.exit(0)
    print("absent")
EOF

py() { "$LAB_PY" "$@"; }
vipjson() { lab_xlb -j vip show | py "$OUT/vipjson.py" "$@"; }
now() { date +%s.%N; }

# write_conf FILE [BACKEND...]: the test configuration into FILE.tmp;
# BACKENDs (default all three) serve the long-lived VIP.
write_conf() {
	local out=$1 i
	shift
	local lbe=("$@")
	[ ${#lbe[@]} -gt 0 ] || lbe=("${LAB_BE4[@]}")
	{
		cat <<EOF
# xlb e2e configuration (tests/e2e/daemon.sh)
seed = "$SEED";
vips = (
  { vip = "$VIP4:$PORT/tcp";
    check = { type = "http"; path = "/health"; interval = $INTERVAL; timeout = 0.3; rise = 2; fall = $FALL; };
    slow_start = $SLOW; drain_timeout = 30;
    backends = ( { addr = "${LAB_BE4[0]}"; }, { addr = "${LAB_BE4[1]}"; }, { addr = "${LAB_BE4[2]}"; } ); },
  { vip = "[$VIP6]:$PORT/tcp";
    check = { type = "http"; interval = $INTERVAL; timeout = 0.3; fall = $FALL; };
    slow_start = $SLOW;
    backends = ( { addr = "${LAB_BE6[0]}"; }, { addr = "${LAB_BE6[1]}"; }, { addr = "${LAB_BE6[2]}"; } ); },
  { vip = "$VIPL:$LPORT/tcp";
    check = { type = "tcp"; interval = $INTERVAL; timeout = 0.3; };
    drain_timeout = 30;
    backends = (
EOF
		for ((i = 0; i < ${#lbe[@]}; i++)); do
			printf '      { addr = "%s"; }%s\n' "${lbe[i]}" \
				"$([ $i -lt $((${#lbe[@]} - 1)) ] && echo ,)"
		done
		echo "    ); }"
		echo ");"
	} >"$out.tmp"
}

start_daemon() {
	echo "--- daemon start $(date +%T.%N)" >>"$DLOG"
	nsenter --net="/run/netns/$(lab_nsname lb)" -- "$XLB" --pin-dir "$LAB_PIN_DIR" \
		daemon --config "$CONF" 2>>"$DLOG" &
	DPID=$!
	lab_track_pid "$DPID"
}
alive() { kill -0 "$DPID" 2>/dev/null; }
allup() { vipjson allup; }
sources4() { printf '%s\n' "${LAB_SRC4[@]}"; }
sources6() { printf '%s\n' "${LAB_SRC6[@]}"; }
log_has() { grep -q -- "$1" "$DLOG"; }
show_log() { sed 's/^/    | /' "$DLOG" | tail -n "${1:-15}"; }
fail_log() {
	lab_fail "$1"
	show_log 25
}

# ---------------------------------------------------------------------------
# Setup: echo servers, config, daemon.

for i in 1 2 3; do
	nsenter --net="/run/netns/$(lab_nsname "b$i")" -- "$LAB_PY" "$OUT/echo.py" \
		"${LAB_BE_NAMES[i - 1]}" "$LPORT" >>"$OUT/echo$i.log" 2>&1 &
	lab_track_pid $!
done
lab_lb_attach >/dev/null || lab_die "xlb attach failed"
write_conf "$OUT/conf"
mv "$OUT/conf.tmp" "$CONF"
start_daemon
if lab_wait 10 allup; then
	lab_pass "daemon starts and brings every backend up ($(grep -c ' up: ' "$DLOG") rises)"
else
	fail_log "daemon starts and brings every backend up"
	lab_summary
	exit 1
fi

# ---------------------------------------------------------------------------
# 1. Stickiness and spread.

sources4 | lab_connect "$VIP4" "$PORT" --rounds 3 >"$OUT/c1-v4"
if py "$OUT/check.py" sticky "$OUT/c1-v4" "$OUT/base4" >"$OUT/c1-v4.txt"; then
	lab_pass "IPv4: 200 clients sticky over 3 connections, spread within 20% ($(cat "$OUT/c1-v4.txt"))"
else
	lab_fail "IPv4: 200 clients sticky, spread within 20% ($(cat "$OUT/c1-v4.txt"))"
fi
sources6 | lab_connect "$VIP6" "$PORT" --rounds 3 >"$OUT/c1-v6"
if py "$OUT/check.py" sticky "$OUT/c1-v6" "$OUT/base6" >"$OUT/c1-v6.txt"; then
	lab_pass "IPv6: 200 clients sticky over 3 connections, spread within 20% ($(cat "$OUT/c1-v6.txt"))"
else
	lab_fail "IPv6: 200 clients sticky, spread within 20% ($(cat "$OUT/c1-v6.txt"))"
fi

# ---------------------------------------------------------------------------
# 2. Failover: b1's server stops while every client keeps connecting.

LIMIT=$(awk -v f=$FALL -v i=$INTERVAL 'BEGIN { print f * i + 1 }')
sources4 | lab_ns c timeout 30 "$LAB_PY" "$OUT/traffic.py" "$VIP4" "$PORT" 6 >"$OUT/t2-v4" &
T4=$!
sources6 | lab_ns c timeout 30 "$LAB_PY" "$OUT/traffic.py" "$VIP6" "$PORT" 6 >"$OUT/t2-v6" &
T6=$!
sleep 1
T0=$(now)
lab_backend_stop 1
wait "$T4" "$T6"
for fam in 4 6; do
	if py "$OUT/check.py" failover "$OUT/base$fam" "$OUT/t2-v$fam" be1 "$T0" "$LIMIT" \
		>"$OUT/c2-v$fam.txt"; then
		lab_pass "IPv$fam failover: only be1's clients move, within ${LIMIT}s ($(cat "$OUT/c2-v$fam.txt"))"
	else
		fail_log "IPv$fam failover ($(cat "$OUT/c2-v$fam.txt"))"
	fi
done
FLIP=$(grep -o 'state flipped in [0-9.]* us' "$DLOG" | head -n1)
if log_has "${LAB_BE4[0]} of $VIP4:$PORT/tcp down: $FALL failed checks (connect: connection refused); state flipped in"; then
	lab_pass "the daemon logs the transition with its reason ($FLIP)"
else
	fail_log "the daemon logs the transition with its reason"
fi

# ---------------------------------------------------------------------------
# 3. Recovery with slow start: be1's clients come back in steps.

lab_backend_start 1
lab_backend_wait 1 || lab_fail "be1 server restarts"
ramps=()
counts=()
moved_others=0
end=$(($(date +%s) + SLOW + 10))
while [ "$(date +%s)" -lt "$end" ]; do
	read -r s r < <(vipjson be "$VIP4:$PORT/tcp" "${LAB_BE4[0]}" state ramp)
	sources4 | lab_connect "$VIP4" "$PORT" --timeout 1 >"$OUT/c3-sample"
	read -r n bad < <(py "$OUT/check.py" stable "$OUT/base4" "$OUT/c3-sample" be1)
	moved_others=$((moved_others + bad))
	[ "$s" = up ] && ramps+=("$r") && counts+=("$n")
	[ "$s" = up ] && [ "$r" = 1000 ] && break
	sleep 0.2
done
want=$(awk '$2 == "be1"' "$OUT/base4" | wc -l)
inter=$(printf '%s\n' "${counts[@]}" | awk -v w="$want" '$1 > 0 && $1 < w' | sort -u | wc -l)
rinter=$(printf '%s\n' "${ramps[@]}" | awk '$1 > 0 && $1 < 1000' | sort -u | wc -l)
sources4 | lab_connect "$VIP4" "$PORT" --rounds 2 >"$OUT/c3-final"
read -r final bad < <(py "$OUT/check.py" stable "$OUT/base4" "$OUT/c3-final" be1)
echo "ramps: ${ramps[*]}; be1 clients: ${counts[*]} (of $want)" >"$OUT/c3.txt"
if [ "$inter" -ge 2 ] && [ "$rinter" -ge 3 ] && [ "$final" -eq "$want" ] &&
	[ "$bad" -eq 0 ] && [ "$moved_others" -eq 0 ]; then
	lab_pass "recovery with slow start: be1's clients return gradually ($(cat "$OUT/c3.txt"))"
else
	fail_log "recovery with slow start ($(cat "$OUT/c3.txt"); final $final, others moved $moved_others/$bad)"
fi
sources6 | lab_connect "$VIP6" "$PORT" --rounds 2 >"$OUT/c3-final6"
lab_wait 8 allup
sources6 | lab_connect "$VIP6" "$PORT" >"$OUT/c3-final6"
read -r final6 bad6 < <(py "$OUT/check.py" stable "$OUT/base6" "$OUT/c3-final6" be1)
want6=$(awk '$2 == "be1"' "$OUT/base6" | wc -l)
if [ "$final6" -eq "$want6" ] && [ "$bad6" -eq 0 ]; then
	lab_pass "IPv6 clients back on their backends after recovery"
else
	fail_log "IPv6 clients back on their backends after recovery ($final6 of $want6, $bad6 others moved)"
fi

# ---------------------------------------------------------------------------
# 4. Draining: a long-lived connection survives, new ones go elsewhere.

src=${LAB_SRC4[0]}
lab_ns c timeout 20 "$LAB_PY" "$OUT/hold.py" "$VIPL" "$LPORT" "$src" 5 >"$OUT/c4-hold" 2>&1 &
H=$!
lab_wait 3 test -s "$OUT/c4-hold"
victim=$(head -n1 "$OUT/c4-hold")
vaddr=${LAB_BE4[${victim#be} - 1]}
sleep 0.5
TD=$(date +%s)
lab_xlb backend set "$VIPL:$LPORT/tcp" "$vaddr" --state drain --drain-timeout 6 ||
	lab_fail "xlb backend set --state drain"
sleep 0.5
sources4 | lab_connect "$VIPL" "$LPORT" --timeout 2 >"$OUT/c4-new"
if py "$OUT/check.py" without "$OUT/c4-new" "$victim" >"$OUT/c4-new.txt"; then
	lab_pass "draining $victim: new connections go elsewhere ($(cat "$OUT/c4-new.txt"))"
else
	lab_fail "draining $victim: new connections go elsewhere ($(cat "$OUT/c4-new.txt"))"
fi
wait "$H"
hold=$(tail -n1 "$OUT/c4-hold")
if [[ $hold =~ ^exchanged\ ([0-9]+)\ errors\ 0 ]] && [ "${BASH_REMATCH[1]}" -ge 30 ]; then
	lab_pass "draining $victim: the long-lived connection kept exchanging data ($hold)"
else
	lab_fail "draining $victim: the long-lived connection kept exchanging data ($hold)"
fi
gone() { [ "$(vipjson be "$VIPL:$LPORT/tcp" "$vaddr" state)" = absent ]; }
if lab_wait 10 gone; then
	lab_pass "draining $victim: removed after the drain timeout ($(($(date +%s) - TD)) s; log: $(grep -o "$vaddr of $VIPL:$LPORT/tcp drained: [a-z ]*" "$DLOG" | head -n1))"
else
	fail_log "draining $victim: removed after the drain timeout"
fi

# The file follows (else a restart would add it back); SIGHUP reloads.
others=()
for a in "${LAB_BE4[@]}"; do
	[ "$a" = "$vaddr" ] || others+=("$a")
done
write_conf "$CONF" "${others[@]}"
mv "$CONF.tmp" "$CONF"
n0=$(grep -c 'reloaded' "$DLOG")
kill -HUP "$DPID"
reloaded() { [ "$(grep -c 'reloaded' "$DLOG")" -gt "$n0" ]; }
if lab_wait 5 reloaded && alive; then
	lab_pass "SIGHUP reloads the file ($(grep 'reloaded' "$DLOG" | tail -n1 | cut -d' ' -f3-))"
else
	fail_log "SIGHUP reloads the file"
fi

# ---------------------------------------------------------------------------
# 5. SIGKILL during traffic, then a restart: nothing fails, nothing moves.

lab_wait 8 allup
vipjson states >"$OUT/c5-before"
sources4 | lab_ns c timeout 30 "$LAB_PY" "$OUT/traffic.py" "$VIP4" "$PORT" 5 >"$OUT/t5-v4" &
T4=$!
sources6 | lab_ns c timeout 30 "$LAB_PY" "$OUT/traffic.py" "$VIP6" "$PORT" 5 >"$OUT/t5-v6" &
T6=$!
sleep 1
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null
sleep 1
start_daemon
wait "$T4" "$T6"
for fam in 4 6; do
	if py "$OUT/check.py" nofail "$OUT/base$fam" "$OUT/t5-v$fam" >"$OUT/c5-v$fam.txt"; then
		lab_pass "IPv$fam: daemon killed and restarted during traffic, no connection failed or moved ($(cat "$OUT/c5-v$fam.txt"))"
	else
		fail_log "IPv$fam: daemon killed and restarted during traffic ($(cat "$OUT/c5-v$fam.txt"))"
	fi
done
sleep 1.5
vipjson states >"$OUT/c5-after"
if alive && log_has 'live state already matches' && cmp -s "$OUT/c5-before" "$OUT/c5-after"; then
	lab_pass "restarted daemon adopts the live state: no table swapped, no state changed"
else
	diff "$OUT/c5-before" "$OUT/c5-after" | sed 's/^/    | /'
	fail_log "restarted daemon adopts the live state"
fi

# ---------------------------------------------------------------------------
# 6. Bad files: refused whole, with FILE:LINE.

cp "$CONF" "$OUT/good.conf"
sed 's/{ addr = "'"${LAB_BE4[1]}"'"; }/{ addr = "'"${LAB_BE4[1]}"'"; weight = 70000; }/' \
	"$OUT/good.conf" >"$OUT/bad.conf"
badline=$(grep -n 'weight = 70000' "$OUT/bad.conf" | cut -d: -f1)
err=$(lab_ns lb timeout 10 "$XLB" --pin-dir "$LAB_PIN_DIR" daemon --config "$OUT/bad.conf" 2>&1 >/dev/null)
rc=$?
if [ "$rc" -eq 1 ] && [[ $err == *"$OUT/bad.conf:$badline: weight 70000 out of range"* ]]; then
	lab_pass "bad config: exit 1 with FILE:LINE ($err)"
else
	lab_fail "bad config: exit 1 with FILE:LINE (exit $rc: $err)"
fi
printf 'vips = (\n  { vip = "%s:%s/tcp"; backends = ( { addr = "%s"; weight = ; } ); } );\n' \
	"$VIP4" "$PORT" "${LAB_BE4[0]}" >"$OUT/syntax.conf"
err=$(lab_ns lb timeout 10 "$XLB" --pin-dir "$LAB_PIN_DIR" daemon --config "$OUT/syntax.conf" 2>&1 >/dev/null)
rc=$?
if [ "$rc" -eq 1 ] && [[ $err == *"$OUT/syntax.conf:2: "* ]]; then
	lab_pass "config syntax error: exit 1 with FILE:LINE ($err)"
else
	lab_fail "config syntax error: exit 1 with FILE:LINE (exit $rc: $err)"
fi

err=$(lab_ns lb timeout 10 "$XLB" --pin-dir "$LAB_PIN_DIR" daemon --config "$CONF" 2>&1 >/dev/null)
rc=$?
if [ "$rc" -eq 1 ] && [[ $err == *"another xlb daemon runs for $LAB_PIN_DIR"* ]] && alive; then
	lab_pass "a second daemon for the same maps is refused ($err)"
else
	lab_fail "a second daemon for the same maps is refused (exit $rc: $err)"
fi

vipjson states >"$OUT/c6-before"
cp "$OUT/bad.conf" "$CONF"
n0=$(grep -c 'reload failed' "$DLOG")
kill -HUP "$DPID"
refused() { [ "$(grep -c 'reload failed' "$DLOG")" -gt "$n0" ]; }
lab_wait 5 refused
sleep 1
vipjson states >"$OUT/c6-after"
if refused && alive && cmp -s "$OUT/c6-before" "$OUT/c6-after" &&
	grep 'reload failed' "$DLOG" | tail -n1 | grep -q "$CONF:$badline: weight 70000"; then
	lab_pass "SIGHUP with a bad file: error logged, state unchanged, still running ($(grep 'reload failed' "$DLOG" | tail -n1 | cut -d' ' -f3-))"
else
	fail_log "SIGHUP with a bad file: error logged, state unchanged, still running"
fi
cp "$OUT/good.conf" "$CONF"

# refused_reload NAME FILE WANT: SIGHUP with FILE as the configuration is
# refused, logged as an error naming WANT; the live state and the seed
# stay, the daemon runs on.
refused_err() { [ "$(grep -c 'error: reload failed' "$DLOG")" -gt "$n0" ]; }
refused_reload() {
	local name=$1 file=$2 want=$3 seed0
	vipjson states >"$OUT/r-before"
	seed0=$(lab_xlb save | grep '^seed')
	cp "$file" "$CONF"
	n0=$(grep -c 'error: reload failed' "$DLOG")
	kill -HUP "$DPID"
	lab_wait 5 refused_err
	sleep 1
	vipjson states >"$OUT/r-after"
	if [ "$(grep -c 'error: reload failed' "$DLOG")" -gt "$n0" ] && alive &&
		cmp -s "$OUT/r-before" "$OUT/r-after" &&
		[ "$(lab_xlb save | grep '^seed')" = "$seed0" ] &&
		grep 'error: reload failed' "$DLOG" | tail -n1 | grep -qF -- "$want"; then
		lab_pass "$name: refused, logged as an error, state kept ($(grep 'reload failed' "$DLOG" | tail -n1 | cut -d' ' -f3-))"
	else
		fail_log "$name: refused, logged as an error, state kept"
	fi
	cp "$OUT/good.conf" "$CONF"
}
: >"$OUT/empty.conf"
refused_reload "SIGHUP with an empty file" "$OUT/empty.conf" "$CONF:1: no 'vips' setting"
head -n 4 "$OUT/good.conf" >"$OUT/cut.conf"
refused_reload "SIGHUP with a truncated file" "$OUT/cut.conf" "$CONF:"
sed 's/^seed = .*/seed = "00000000000000000000000000000001";/' "$OUT/good.conf" >"$OUT/seed.conf"
refused_reload "SIGHUP with another seed" "$OUT/seed.conf" \
	"$CONF: seed (fingerprint "
{ echo 'src4 = "192.0.2.254";'; cat "$OUT/good.conf"; } >"$OUT/src4.conf"
refused_reload "SIGHUP with another src4" "$OUT/src4.conf" \
	"$CONF: src4 192.0.2.254 differs from the running balancer's"

# Health still acts after the failed reload: b2 turns unhealthy (HTTP 503).
lab_backend_health 2 down
down2() { [ "$(vipjson be "$VIP4:$PORT/tcp" "${LAB_BE4[1]}" state)" = down ]; }
if lab_wait 5 down2; then
	lab_pass "checks still act after the failed reload (b2 down on HTTP 503)"
else
	fail_log "checks still act after the failed reload"
fi
lab_backend_health 2 up
lab_wait 10 allup

# ---------------------------------------------------------------------------
# 7. Flap damping: b2 fails again soon after coming back: held down.

lab_backend_health 2 down
lab_wait 5 down2
lab_backend_health 2 up
if lab_wait 10 allup && log_has "${LAB_BE4[1]} of $VIP4:$PORT/tcp flapping"; then
	lab_pass "flap damping: $(grep -o "${LAB_BE4[1]} of $VIP4:$PORT/tcp flapping.*" "$DLOG" | tail -n1 | cut -d' ' -f4-)"
else
	fail_log "flap damping"
fi

# ---------------------------------------------------------------------------
# 8. Operator changes while the daemon runs are kept.

lab_xlb backend set "$VIP4:$PORT/tcp" "${LAB_BE4[2]}" --state down
sleep 2.5
st=$(vipjson be "$VIP4:$PORT/tcp" "${LAB_BE4[2]}" state)
if [ "$st" = down ] && log_has "${LAB_BE4[2]} of $VIP4:$PORT/tcp: state up -> down (not by the daemon)"; then
	lab_pass "an operator's 'backend set --state down' of a healthy backend is kept"
else
	fail_log "an operator's 'backend set --state down' is kept (state $st)"
fi
lab_xlb backend set "$VIP4:$PORT/tcp" "${LAB_BE4[2]}" --state up
sleep 1.5
st=$(vipjson be "$VIP4:$PORT/tcp" "${LAB_BE4[2]}" state)
if [ "$st" = up ] && alive; then
	lab_pass "and so is '--state up'"
else
	fail_log "and so is '--state up' (state $st)"
fi

# SIGTERM: exit 0, data path untouched.
kill -TERM "$DPID"
if lab_wait 5 _lab_gone "$DPID"; then
	wait "$DPID"
	rc=$?
else
	kill -KILL "$DPID"
	rc=124
fi
sources4 | lab_connect "$VIP4" "$PORT" >"$OUT/c6-after-term"
read -r n bad < <(py "$OUT/check.py" stable "$OUT/base4" "$OUT/c6-after-term" be1)
if [ "$rc" -eq 0 ] && [ "$bad" -eq 0 ] && ! grep -q ERR "$OUT/c6-after-term"; then
	lab_pass "SIGTERM: exit 0, the data path keeps forwarding"
else
	lab_fail "SIGTERM: exit 0 (got $rc), the data path keeps forwarding ($bad moved)"
fi

# A daemon started over a balancer with VIPs does not change its seed or
# sources either, and an empty file is no configuration.
for f in seed.conf:"$OUT/seed.conf: seed (fingerprint " empty.conf:"$OUT/empty.conf:1: no 'vips' setting"; do
	err=$(lab_ns lb timeout 10 "$XLB" --pin-dir "$LAB_PIN_DIR" daemon --config "$OUT/${f%%:*}" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" -eq 1 ] && [[ $err == *"${f#*:}"* ]] && lab_xlb save | grep -qx "seed = \"$SEED\";"; then
		lab_pass "a daemon started with ${f%%:*} exits 1, changing nothing ($err)"
	else
		lab_fail "a daemon started with ${f%%:*}: exit $rc: $err"
	fi
done

lab_summary
