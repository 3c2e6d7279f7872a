#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/bench/bench_daemon.sh - figures (not pass/fail) for `xlb daemon`
# and the forwarding path, in the standard lab of tests/lib.sh:
#
#   1. failover: a backend's server is killed, or its /health turns 503, at
#      T0; detection = T0 -> the daemon's "down" log line, switch = the
#      state-map flip the daemon times itself, clients = T0 -> the first
#      answer from another backend to a probe client (one new connection
#      every 10 ms from a source whose primary is the victim). Median of
#      several repetitions, beside fall x interval and the 1 ms target;
#   2. daemon CPU with 1000 backends TCP-checked every second (addresses
#      of a local route on b1's lo, one listening socket answers them all):
#      utime+stime from /proc/PID/stat over a steady window;
#   3. short TCP connections per second through the balancer (VIP, one
#      backend) beside the same client straight to that backend.
#
# Run as root: bash tests/bench/bench_daemon.sh (make bench runs it).
# About a minute. Exit 0 when every part measured, 1 when a part
# could not (or the lab could not be built). XLB=path overrides the binary;
# REPS=N failover repetitions per kind (default 4).
set -u
export LC_ALL=C # "." in $EPOCHREALTIME and printf

. "$(dirname "$0")/../lib.sh"

VIP=203.0.113.10 # failover
PORT=80
KVIP=203.0.113.19 # 1000 backends
KPORT=9200
KNET=10.99.0.0/22
NK=1000
CVIP=203.0.113.12 # connections per second
CPORT=9300
INTERVAL=0.3
TIMEOUT=0.2
FALL=3
RISE=2
REPS=${REPS:-4}
KWARM=${KWARM:-4}   # s after all UP before the CPU window
KWIN=${KWIN:-15}    # s of CPU window
CSECS=${CSECS:-3}   # s per conn/s run (three runs each way, alternated)
CWORKERS=${CWORKERS:-4}
SEED=0123456789abcdef0123456789abcdef

echo "daemon and failover"
echo "-------------------"

if ! "$XLB" daemon 2>&1 | grep -q -- '--config'; then
	echo "cannot run: $XLB has no daemon command (or is not built)"
	exit 1
fi

missing=0
lab_setup
lab_lb_attach >/dev/null || lab_die "xlb attach failed"

OUT=$LAB_TMP/bench
mkdir -p "$OUT"
DLOG=$OUT/daemon.log
DPID=
py() { "$LAB_PY" "$@"; }

# ---------------------------------------------------------------------------
# Helper programs.

# probe.py VIP PORT SRC VICTIM DEADLINE: a new connection every 10 ms from
# SRC; prints "START_EPOCH ANSWER" per connection; stops after 3 answers in
# a row from a backend other than VICTIM, or at DEADLINE seconds.
cp "$LAB_ROOT/tests/who.py" "$OUT/who.py"
cat >"$OUT/probe.py" <<'EOF'
import sys, time
from who import answer
host, port, src, victim, dl = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5])
start = time.time()
end, k, other = start + dl, 0, 0
while time.time() < end and other < 3:
    t = time.time()
    ans = answer(host, port, src, 0.2)
    print(f"{t:.6f} {ans}", flush=True)
    other = other + 1 if ans != victim and not ans.startswith("ERR") else 0
    k += 1
    nxt = start + k * 0.01
    while nxt < time.time():
        k += 1
        nxt = start + k * 0.01
    time.sleep(max(0.0, nxt - time.time()))
EOF

# acceptor.py PORT: accepts on 0.0.0.0:PORT and closes at once; prints
# "EPOCH ACCEPTED_SO_FAR" every second.
cat >"$OUT/acceptor.py" <<'EOF'
import select, socket, sys, time
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", int(sys.argv[1])))
ls.listen(4096)
ls.setblocking(False)
n, nxt = 0, time.time()
while True:
    select.select([ls], [], [], 0.2)
    while True:
        try:
            c, _ = ls.accept()
        except BlockingIOError:
            break
        c.close()
        n += 1
    t = time.time()
    if t >= nxt:
        print(f"{t:.3f} {n}", flush=True)
        nxt = t + 1.0
EOF

# fastsrv.py NAME PORT NPROC: answers the first line of a connection with
# NAME and closes; NPROC epoll loops on one SO_REUSEPORT port, dual stack.
cat >"$OUT/fastsrv.py" <<'EOF'
import os, select, socket, sys
name, port, nproc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
reply = (name + "\n").encode()
for _ in range(nproc - 1):
    if os.fork() == 0:
        break
ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
ls.bind(("::", port))
ls.listen(4096)
ls.setblocking(False)
ep = select.epoll()
ep.register(ls.fileno(), select.EPOLLIN)
conns, lfd = {}, ls.fileno()
while True:
    for fd, ev in ep.poll():
        if fd == lfd:
            while True:
                try:
                    c, _ = ls.accept()
                except BlockingIOError:
                    break
                c.setblocking(False)
                conns[c.fileno()] = c
                ep.register(c.fileno(), select.EPOLLIN)
        else:
            c = conns.pop(fd)
            ep.unregister(fd)
            try:
                if c.recv(256):
                    c.send(reply)
            except OSError:
                pass
            c.close()
EOF

# cps.py HOST PORT SECONDS WORKERS SRC...: WORKERS processes make short TCP
# connections (connect, one line, read to EOF, close) for SECONDS, bound to
# the SRC addresses in turn; prints "OK ERRORS SECONDS NAME:COUNT,...".
cat >"$OUT/cps.py" <<'EOF'
import os, sys, time
from who import ask
host, port, secs, nw = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
srcs = sys.argv[5:] or [""]
r, w = os.pipe()
start = time.time() + 0.2
for i in range(nw):
    if os.fork() == 0:
        os.close(r)
        ok = err = 0
        names = {}
        time.sleep(max(0.0, start - time.time()))
        end, k = start + secs, i
        while time.time() < end:
            src = srcs[k % len(srcs)]
            k += nw
            try:
                out = ask(host, port, src, 1.0, no_port=True)
            except OSError:
                out = []
            if out:
                ok += 1
                names[out[0]] = names.get(out[0], 0) + 1
            else:
                err += 1
        os.write(w, (f"{ok} {err} " + ",".join(f"{a}:{b}" for a, b in names.items()) + "\n").encode())
        os._exit(0)
os.close(w)
with os.fdopen(r, "rb") as f:
    out = f.read()
for _ in range(nw):
    os.wait()
ok = err = 0
names = {}
for line in out.decode().splitlines():
    f = line.split()
    ok += int(f[0])
    err += int(f[1])
    for kv in (f[2].split(",") if len(f) > 2 else []):
        a, b = kv.split(":")
        names[a] = names.get(a, 0) + int(b)
print(ok, err, secs, ",".join(f"{a}:{b}" for a, b in sorted(names.items())) or "-")
EOF

# calc.py: small computations (see each command).
cat >"$OUT/calc.py" <<'EOF'
import json, statistics, sys
from datetime import datetime

cmd = sys.argv[1]
if cmd == "rep":
    # rep T0 PROBE_FILE LOG_LINE VICTIM: "DETECT_MS FLIP_US CLIENT_MS LANDED"
    # (- when unknown).
    t0, probe, line, victim = float(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    det = flip = cli = "-"
    landed = "-"
    if line:
        ts = line.split()[0]
        try:
            det = "%.1f" % ((datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%f").timestamp() - t0) * 1000)
        except ValueError:
            pass
        if "state flipped in " in line:
            flip = line.split("state flipped in ")[1].split()[0]
    for l in open(probe):
        f = l.split()
        if len(f) == 2 and float(f[0]) >= t0 and f[1] != victim and not f[1].startswith("ERR"):
            cli = "%.1f" % ((float(f[0]) - t0) * 1000)
            landed = f[1]
            break
    print(det, flip, cli, landed)
elif cmd == "median":
    # median COLUMN FILE: median of a column's numbers ("-" skipped), "n/a".
    col = int(sys.argv[2])
    v = [float(l.split()[col]) for l in open(sys.argv[3])
         if len(l.split()) > col and l.split()[col] != "-"]
    print(("%.1f" % statistics.median(v)) if v else "n/a")
elif cmd == "max":
    col = int(sys.argv[2])
    v = [float(l.split()[col]) for l in open(sys.argv[3])
         if len(l.split()) > col and l.split()[col] != "-"]
    print(("%.1f" % max(v)) if v else "n/a")
elif cmd == "up":
    # up VIP < vip show json: number of UP backends of VIP
    print(sum(b["state"] == "up" for v in json.load(sys.stdin) if v["vip"] == sys.argv[2]
              for b in v["backends"]))
elif cmd == "allup":
    vips = json.load(sys.stdin)
    bes = [b for v in vips if v["vip"] == sys.argv[2] for b in v["backends"]]
    sys.exit(0 if bes and all(b["state"] == "up" and b["ramp"] == 1000 for b in bes) else 1)
elif cmd == "lookup":
    # lookup < lookup json: "CLIENT PRIMARY SECONDARY" lines
    for e in json.load(sys.stdin):
        print(e["client"], e["primary"], e["secondary"])
elif cmd == "rate":
    # rate ACC_LOG T1 T2: accepted per second between T1 and T2 (nearest lines)
    pts = [tuple(map(float, l.split())) for l in open(sys.argv[2]) if len(l.split()) == 2]
    t1, t2 = float(sys.argv[3]), float(sys.argv[4])
    a = min(pts, key=lambda p: abs(p[0] - t1))
    b = min(pts, key=lambda p: abs(p[0] - t2))
    print("%.0f" % ((b[1] - a[1]) / (b[0] - a[0])) if b[0] > a[0] else "n/a")
else:
    sys.exit(2)
EOF

start_daemon() { # CONF
	echo "--- daemon start $(date +%T.%N) $1" >>"$DLOG"
	nsenter --net="/run/netns/$(lab_nsname lb)" -- "$XLB" --pin-dir "$LAB_PIN_DIR" \
		daemon --config "$1" 2>>"$DLOG" &
	DPID=$!
	lab_track_pid "$DPID"
}
stop_daemon() {
	[ -n "$DPID" ] || return 0
	kill -TERM "$DPID" 2>/dev/null
	lab_wait 5 _lab_gone "$DPID" || kill -KILL "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	DPID=
}
alive() { [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; }
allup() { lab_xlb -j vip show | py "$OUT/calc.py" allup "$1"; }
nup() { lab_xlb -j vip show | py "$OUT/calc.py" up "$1"; }
cputicks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null; }
show_log() { tail -n "${1:-8}" "$DLOG" | sed 's/^/    | /'; }

# ---------------------------------------------------------------------------
# 1. Failover.

echo
echo "1. failover: VIP $VIP:$PORT/tcp on 3 backends; http check every ${INTERVAL} s"
echo "   (timeout ${TIMEOUT} s, fall $FALL, rise $RISE); at T0 (random phase) the victim's"
echo "   server is killed, or its /health turns 503; a probe client whose primary"
echo "   is the victim opens a new connection every 10 ms; $REPS repetitions per"
echo "   kind, victims in turn, a fresh daemon per kind"

CONF1=$OUT/failover.conf
cat >"$CONF1" <<EOC
seed = "$SEED";
vips = (
  { vip = "$VIP:$PORT/tcp";
    check = { type = "http"; path = "/health"; interval = $INTERVAL; timeout = $TIMEOUT; rise = $RISE; fall = $FALL; };
    backends = ( { addr = "${LAB_BE4[0]}"; }, { addr = "${LAB_BE4[1]}"; }, { addr = "${LAB_BE4[2]}"; } ); }
);
EOC
name_of() { # ADDR -> be1..3
	local i
	for i in 0 1 2; do
		[ "${LAB_BE4[i]}" = "$1" ] && echo "${LAB_BE_NAMES[i]}" && return
	done
	echo "?"
}
newdown() { [ "$(grep -c " down: " "$DLOG")" -gt "$n0" ]; }
declare -A PSRC=() PSEC=()
DEADLINE=$(awk -v f=$FALL -v i=$INTERVAL 'BEGIN { print f * i * 1.1 + 2.5 }')
fo_ok=0
for kind in kill health; do
	: >"$OUT/fo-$kind"
	start_daemon "$CONF1"
	if ! lab_wait 10 allup "$VIP:$PORT/tcp"; then
		echo "   $kind: the daemon did not bring the backends up"
		show_log
		stop_daemon
		continue
	fi
	if [ ${#PSRC[@]} -eq 0 ]; then
		# One probe source per backend (its primary), and its secondary.
		lab_xlb -j lookup "$VIP:$PORT/tcp" "${LAB_SRC4[@]:0:60}" |
			py "$OUT/calc.py" lookup >"$OUT/lookup"
		for i in 0 1 2; do
			read -r s _ sec < <(awk -v b="${LAB_BE4[i]}" '$2 == b' "$OUT/lookup" | head -n1)
			PSRC[$i]=${s:-}
			PSEC[$i]=${sec:-}
		done
	fi
	for ((r = 0; r < REPS; r++)); do
		i=$((r % 3))
		n=$((i + 1))
		victim=${LAB_BE_NAMES[i]}
		src=${PSRC[$i]}
		if [ -z "$src" ]; then
			echo "   no client source maps to ${LAB_BE4[i]}; repetition skipped"
			continue
		fi
		if ! lab_wait 12 allup "$VIP:$PORT/tcp"; then
			echo "   $kind: backends not all up again after 12 s; no more repetitions"
			show_log 4
			break
		fi
		n0=$(grep -c " down: " "$DLOG")
		lab_ns c timeout 10 "$LAB_PY" "$OUT/probe.py" "$VIP" "$PORT" "$src" \
			"$victim" "$DEADLINE" >"$OUT/probe-$kind-$r" 2>&1 &
		P=$!
		# T0 at a random phase of the check interval.
		sleep "$(awk -v x=$RANDOM -v i=$INTERVAL 'BEGIN { printf "%.3f", 0.3 + x / 32768 * i }')"
		if [ $kind = kill ]; then
			pid=$(cat "$LAB_TMP/b$n.pid")
			T0=$EPOCHREALTIME
			kill "$pid"
		else
			T0=$EPOCHREALTIME
			lab_backend_health "$n" down
		fi
		wait "$P"
		lab_wait 3 newdown
		line=$(grep " down: " "$DLOG" | sed -n "$((n0 + 1))p")
		read -r det flip cli landed < <(py "$OUT/calc.py" rep "$T0" \
			"$OUT/probe-$kind-$r" "$line" "$victim")
		printf '%s %s %s %s %s %s\n' "$det" "$flip" "$cli" "$victim" "$landed" \
			"$(name_of "${PSEC[$i]}")" >>"$OUT/fo-$kind"
		# The victim comes back.
		if [ $kind = kill ]; then
			lab_wait 3 _lab_gone "$pid"
			lab_backend_start "$n"
			lab_backend_wait "$n" || echo "   $victim's server did not restart"
		else
			lab_backend_health "$n" up
		fi
	done
	lab_wait 12 allup "$VIP:$PORT/tcp"
	stop_daemon
done

echo
printf '   %-34s %12s %12s %12s\n' "repetition (victim -> landed on)" \
	"detection" "switch" "client saw"
for kind in kill health; do
	r=0
	while read -r det flip cli victim landed want; do
		note=""
		[ "$landed" = "$want" ] || note="  (its secondary is $want)"
		printf '   %-34s %9s ms %9s us %9s ms%s\n' \
			"$kind #$((r + 1)) ($victim -> $landed)" "$det" "$flip" "$cli" "$note"
		r=$((r + 1))
	done <"$OUT/fo-$kind"
done
BOUND=$(awk -v f=$FALL -v i=$INTERVAL 'BEGIN { printf "%.0f", f * i * 1000 }')
BOUNDJ=$(awk -v f=$FALL -v i=$INTERVAL 'BEGIN { printf "%.0f", f * i * 1100 }')
echo
printf '   %-40s %12s   %s\n' "median" "measured" "baseline / target"
for kind in kill health; do
	[ -s "$OUT/fo-$kind" ] || continue
	case $kind in
	kill) echo "   server killed" ;;
	health) echo "   /health answers 503" ;;
	esac
	det=$(py "$OUT/calc.py" median 0 "$OUT/fo-$kind")
	flip=$(py "$OUT/calc.py" median 1 "$OUT/fo-$kind")
	flipmax=$(py "$OUT/calc.py" max 1 "$OUT/fo-$kind")
	cli=$(py "$OUT/calc.py" median 2 "$OUT/fo-$kind")
	nrep=$(wc -l <"$OUT/fo-$kind")
	printf '   %-40s %9s ms   <= %s ms = fall x interval (%s ms with the +10%% check jitter)\n' \
		"  detection: T0 -> daemon's down" "$det" "$BOUND" "$BOUNDJ"
	printf '   %-40s %9s us   < 1000 us (max of %s: %s us)\n' \
		"  switch: state-map flip" "$flip" "$nrep" "$flipmax"
	printf '   %-40s %9s ms   = detection + switch, to the 10 ms probe step\n' \
		"  failover seen by the client" "$cli"
	[ "$det" != n/a ] && fo_ok=1
done
[ "$fo_ok" = 1 ] || missing=$((missing + 1))

# ---------------------------------------------------------------------------
# 2. Daemon CPU with 1000 TCP-checked backends.

echo
echo "2. daemon CPU: one VIP, $NK backends, tcp check every 1 s (timeout 0.5 s);"
echo "   backends are addresses of a local route $KNET on b1's lo, one socket"
echo "   accepts them all"

lab_xlb vip del "$VIP:$PORT/tcp" >/dev/null 2>&1
ip -n "$(lab_nsname b1)" route add local "$KNET" dev lo &&
	ip -n "$(lab_nsname lb)" route add "$KNET" via "${LAB_BE4[0]}" ||
	lab_die "can't route $KNET"
nsenter --net="/run/netns/$(lab_nsname b1)" -- "$LAB_PY" "$OUT/acceptor.py" "$KPORT" \
	>"$OUT/acceptor.log" 2>&1 &
lab_track_pid $!
CONF2=$OUT/k.conf
{
	echo "seed = \"$SEED\";"
	echo "vips = ( { vip = \"$KVIP:$KPORT/tcp\";"
	echo "  check = { type = \"tcp\"; interval = 1.0; timeout = 0.5; rise = 2; fall = 3; };"
	echo "  backends = ("
	for ((k = 1; k <= NK; k++)); do
		printf '    { addr = "10.99.%d.%d"; }%s\n' $((k / 256)) $((k % 256)) \
			"$([ $k -lt $NK ] && echo ,)"
	done
	echo "  ); } );"
} >"$CONF2"
lab_wait 3 test -s "$OUT/acceptor.log"
ts=$EPOCHREALTIME
start_daemon "$CONF2"
allk() { [ "$(nup "$KVIP:$KPORT/tcp")" -ge "$NK" ]; }
if lab_wait 15 allk; then
	tup=$EPOCHREALTIME
	c_up=$(cputicks "$DPID")
	sleep "$KWARM"
	c1=$(cputicks "$DPID")
	t1=$EPOCHREALTIME
	sleep "$KWIN"
	c2=$(cputicks "$DPID")
	t2=$EPOCHREALTIME
	n_up=$(nup "$KVIP:$KPORT/tcp")
	if alive && [ -n "$c1" ] && [ -n "$c2" ]; then
		hz=$(getconf CLK_TCK)
		rate=$(py "$OUT/calc.py" rate "$OUT/acceptor.log" "$t1" "$t2")
		read -r pct us startms upms < <(awk -v a="$c1" -v b="$c2" -v t1="$t1" \
			-v t2="$t2" -v hz="$hz" -v n="$NK" -v cu="$c_up" -v ts="$ts" -v tu="$tup" \
			'BEGIN { cpu = (b - a) / hz; dt = t2 - t1;
				printf "%.1f %.1f %.0f %.0f\n", 100 * cpu / dt, 1e6 * cpu / (n * dt),
					1000 * cu / hz, 1000 * (tu - ts) }')
		echo
		printf '   %-40s %12s   %s\n' "" "measured" "baseline / target"
		printf '   %-40s %9s %%    (a figure; window %s s)\n' "daemon CPU, % of one core" "$pct" "$KWIN"
		printf '   %-40s %9s us   (CPU / (%s backends x 1 check/s))\n' "daemon CPU per check" "$us" "$NK"
		printf '   %-40s %9s /s   %s/s expected\n' "checks answered (accepts on b1)" "$rate" "$NK"
		printf '   %-40s %9s      of %s\n' "backends UP at the end" "$n_up" "$NK"
		printf '   %-40s %9s ms   (start -> all UP in %s ms, rise 2)\n' "daemon CPU to load and bring all up" "$startms" "$upms"
	else
		echo "   could not measure: the daemon exited"
		show_log
		missing=$((missing + 1))
	fi
else
	echo "   could not measure: only $(nup "$KVIP:$KPORT/tcp") of $NK backends UP after 15 s"
	show_log
	missing=$((missing + 1))
fi
stop_daemon

# ---------------------------------------------------------------------------
# 3. Connections per second, through the balancer and without it.

echo
echo "3. short TCP connections (connect, one line, answer, close), $CWORKERS client"
echo "   processes (python) from the client namespace, 16 sources; server: 2 epoll"
echo "   processes on b1; through xlb = VIP $CVIP:$CPORT/tcp with b1 alone (ipip,"
echo "   XDP_TX, DSR), direct = b1's own address; ${CSECS} s runs, alternated, 3 each way"

lab_xlb vip add "$CVIP:$CPORT/tcp" >/dev/null &&
	lab_xlb backend add "$CVIP:$CPORT/tcp" "${LAB_BE4[0]}" >/dev/null ||
	lab_die "can't add the conn/s VIP"
nsenter --net="/run/netns/$(lab_nsname b1)" -- "$LAB_PY" "$OUT/fastsrv.py" be1 "$CPORT" 2 \
	>"$OUT/fastsrv.log" 2>&1 &
lab_track_pid $!
fastup() { lab_ns b1 ss -Hltn "sport = :$CPORT" | grep -q .; }
lab_wait 5 fastup || lab_die "conn/s server not listening"
lab_prime_neigh
SRCS=("${LAB_SRC4[@]:100:16}")
: >"$OUT/cps"
for round in 1 2 3; do
	for way in direct xlb; do
		host=${LAB_BE4[0]}
		[ $way = xlb ] && host=$CVIP
		res=$(lab_ns c timeout 30 "$LAB_PY" "$OUT/cps.py" "$host" "$CPORT" "$CSECS" \
			"$CWORKERS" "${SRCS[@]}")
		echo "$way $round $res" >>"$OUT/cps"
	done
done
read -r d_ok d_err x_ok x_err d_s x_s < <(awk '
	$1 == "direct" { dok += $3; derr += $4; ds += $5 }
	$1 == "xlb" { xok += $3; xerr += $4; xs += $5 }
	END { print dok + 0, derr + 0, xok + 0, xerr + 0, ds + 0, xs + 0 }' "$OUT/cps")
nf=$(lab_xlb -j stats "$CVIP:$CPORT/tcp" | "$LAB_PY" -c \
	'import json,sys; print(json.load(sys.stdin)["vips"][0]["new_flows"])' 2>/dev/null)
if awk -v a="$d_s" -v b="$x_s" -v c="$d_ok" -v d="$x_ok" 'BEGIN { exit !(a > 0 && b > 0 && c > 0 && d > 0) }'; then
	read -r d_r x_r ratio < <(awk -v a="$d_ok" -v b="$x_ok" -v da="$d_s" -v xa="$x_s" \
		'BEGIN { printf "%.0f %.0f %.3f\n", a / da, b / xa, (b / xa) / (a / da) }')
	echo
	printf '   %-40s %12s   %s\n' "" "measured" "baseline"
	printf '   %-40s %9s /s   %s /s direct (ratio %s)\n' "conn/s through xlb" "$x_r" "$d_r" "$ratio"
	printf '   %-40s %9s      %s direct\n' "failed connections" "$x_err" "$d_err"
	printf '   %-40s %9s      (xlb new_flows counter, for %s conns)\n' "flows the balancer saw" "${nf:-?}" "$((x_ok + x_err))"
	awk '{ printf "     %-6s run %s: %7d ok %4d failed in %s s (%.0f /s; answers %s)\n", $1, $2, $3, $4, $5, $3 / $5, $6 }' "$OUT/cps"
else
	echo "   could not measure: $(tr '\n' ';' <"$OUT/cps")"
	missing=$((missing + 1))
fi

echo
if [ "$missing" -gt 0 ]; then
	echo "daemon and failover: $missing part(s) could not be measured"
	exit 1
fi
exit 0
