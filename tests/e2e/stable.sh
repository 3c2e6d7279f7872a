#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/e2e/stable.sh - `--algo stable` end to end with real TCP: the
# operator's own changes move only the clients they must.
#
# The standard lab (tests/lib.sh) plus three more backends (b4..b6, made
# here the way lab_setup makes b1..b3), each running a small server on
# port 7000: "who" gets the backend's name and a close, "HOLD" keeps the
# connection open and answers every further line with "NAME LINE".
# Eight VIPs on port 7000 share the five backends b1..b5: per family
# (IPv4 and IPv6 clients, same-family backends, ipip), two under test
# (--algo stable, at the default table size and at 251 slots) and two
# maglev at the same sizes, for contrast. Per VIP:
#   1. every client address (ST_CLIENTS per family) connects twice:
#      all succeed, each client sticks to one backend, all five are used;
#   2. long-lived connections (every ST_HOLD_EVERY-th client, on the
#      default-size VIPs under test) exchange a line every 0.2 s through
#      steps 3 and 4;
#   3. `xlb backend del` removes b2: every client of another backend still
#      reaches the same backend on a new connection (0 moved), and every
#      client of b2 now reaches a live backend;
#   4. `xlb backend add` adds b6: the only clients that move are those that
#      now reach b6 (0 others moved), and their number is within +-50% of
#      clients / 5;
#   5. every long-lived connection to a backend other than b2 kept
#      exchanging through both changes, without an error.
# The maglev VIPs go through the same changes; only their figures are
# printed (clients moved that had nothing to do with the change). At five
# backends maglev's refill of a 65,537-slot table moves almost nobody else
# (its extra disruption grows with the number of backends: README), so the
# small tables are where it shows, and where ST_ALGO=maglev fails.
# Prints PASS/FAIL per check and a line of figures; exits 1 on any failure.
#
# Environment: ST_CLIENTS (client addresses per family, default 240),
# ST_ALGO (the algorithm of the VIPs under test, default stable; run with
# ST_ALGO=maglev to see the test fail), ST_HOLD_EVERY (default 5),
# ST_SMALL_TABLE (the small table size, a prime, default 251).
set -u
export LC_ALL=C

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

ST_CLIENTS=${ST_CLIENTS:-240}
ST_ALGO=${ST_ALGO:-stable}
ST_HOLD_EVERY=${ST_HOLD_EVERY:-5}
LAB_NCLIENTS=$ST_CLIENTS # read by lab_init
PORT=7000
NBE=6 # b1..b5 from the start, b6 added in step 4
DEL=2 # the backend removed in step 3
ADD=6 # the backend added in step 4
# Addresses and names of b4..b6, beside lib.sh's b1..b3.
LAB_BE4+=(192.0.2.14 192.0.2.15 192.0.2.16)
LAB_BE6+=(2001:db8:1::14 2001:db8:1::15 2001:db8:1::16)
LAB_BE_NAMES+=(be4 be5 be6)

lab_init
OUT=$LAB_TMP/st
mkdir -p "$OUT"

# --- the backends' server and the long-lived client ---------------------------

cp "$LAB_ROOT/tests/echo.py" "$LAB_TMP/echo.py"

cat >"$LAB_TMP/hold.py" <<'EOF'
# hold.py HOST PORT READY STOP MAXSECS < sources : one long-lived connection
# per source; each sends a numbered line every 0.2 s and checks the echo,
# until the file STOP exists or MAXSECS pass. Writes READY once every
# connection has its first answer (or failed). Prints per connection:
# "SRC BACKEND OK LAST_OK ERR_TIME REASON" (times in epoch seconds; ERR_TIME
# 0 and REASON "-" if it never failed).
import os, socket, sys, threading, time

host, port, ready, stop, maxsecs = sys.argv[1:6]
port, maxsecs = int(port), float(maxsecs)
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
srcs = [l.strip() for l in sys.stdin if l.strip()]
end = time.time() + maxsecs
res = {}


def opened(src):
    try:
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(3)
        s.bind((src, 0))
        s.connect((host, port))
        s.sendall(b"HOLD\n")
        f = s.makefile("rb")
        be = f.readline().decode().strip()
        if not be:
            raise OSError(0, "closed")
        res[src] = [be, 0, 0.0, 0.0, "-"]
        return s, f
    except OSError as e:
        res[src] = ["ERR", 0, 0.0, time.time(), "connect:" + str(e).replace(" ", "_")]
        return None, None


def run(src, s, f):
    r, n = res[src], 0
    try:
        while time.time() < end and not os.path.exists(stop):
            n += 1
            s.sendall(b"%d\n" % n)
            got = f.readline().decode().split()
            if got != [r[0], str(n)]:
                raise OSError(0, "answer_" + "_".join(got)[:40] if got else "closed")
            r[1] += 1
            r[2] = time.time()
            time.sleep(0.2)
    except OSError as e:
        r[3] = time.time()
        r[4] = (str(e) or "timeout").replace(" ", "_")
    s.close()


conns = [(src,) + opened(src) for src in srcs]
open(ready, "w").close()
ts = [threading.Thread(target=run, args=c) for c in conns if c[1]]
for t in ts:
    t.start()
for t in ts:
    t.join()
for src in srcs:
    be, ok, last, err, why = res[src]
    print(src, be, ok, "%.3f" % last, "%.3f" % err, why)
EOF

# --- helpers -------------------------------------------------------------------

# add_backend N : backend bN (N > 3) as lab_setup makes b1..b3, but running
# only the port-$PORT server (started for every backend by start_servers).
add_backend() {
	local i=$1
	lab_ns_add "b$i"
	lab_veth "b$i" "$LAB_DEV" 10 sw "p-b$i" $((102 + i)) "$LAB_MTU"
	lab_bridge_port sw br0 "p-b$i"
	lab_backend_addr "$i"
	lab_wait_up "b$i" "$LAB_DEV"
	lab_wait_up sw "p-b$i"
	lab_ns "b$i" "$XLB" decap attach "$LAB_DEV" \
		--from "$LAB_LB4" --from "$LAB_LB6" >/dev/null ||
		lab_die "xlb decap attach failed on b$i"
}

start_servers() {
	local i pid
	for ((i = 1; i <= NBE; i++)); do
		nsenter --net="/run/netns/$(lab_nsname "b$i")" -- \
			"$LAB_PY" "$LAB_TMP/echo.py" "${LAB_BE_NAMES[i - 1]}" \
			"$PORT" --tag >>"$LAB_TMP/hold-b$i.log" 2>&1 &
		pid=$!
		lab_track_pid "$pid"
	done
	for ((i = 1; i <= NBE; i++)); do
		lab_wait 5 _st_listening "$i" ||
			lab_die "backend b$i: nothing listens on port $PORT"
	done
}
_st_listening() { lab_ns "b$1" ss -Hltn "sport = :$PORT" | grep -q .; }

prime_neigh() {
	local i
	for ((i = 0; i < NBE; i++)); do
		lab_wait 3 _lab_neigh_ok "${LAB_BE4[i]}" ||
			lab_die "LB has no neighbour entry for ${LAB_BE4[i]}"
		lab_wait 3 _lab_neigh_ok "${LAB_BE6[i]}" ||
			lab_die "LB has no neighbour entry for ${LAB_BE6[i]}"
	done
}

# probe KEY PHASE ROUNDS : every client of VIP KEY connects ROUNDS times;
# writes $OUT/KEY.PHASE (lab_connect's lines) and .map ("SRC NAME", the
# first answer); FAILs if a connection failed or a client did not stick.
probe() {
	local key=$1 phase=$2 rounds=$3 f=$OUT/$1.$2 n bad
	srcs_of "$key" |
		lab_connect "$(host_of "$key")" "$PORT" --rounds "$rounds" \
			--parallel 48 >"$f"
	awk '{print $1, $2}' "$f" >"$f.map"
	n=$(wc -l <"$f")
	bad=$(grep -c ERR "$f")
	if [ "$n" -ne "$ST_CLIENTS" ] || [ "$bad" -ne 0 ]; then
		lab_fail "$key $phase: $bad of $((ST_CLIENTS * rounds)) connections failed ($n clients answered), e.g. $(grep -m1 ERR "$f")"
		return 1
	fi
	if ! awk '{ for (i = 3; i <= NF; i++) if ($i != $2) bad = 1 } END { exit bad }' "$f"; then
		lab_fail "$key $phase: a client reached two backends: $(awk '{for(i=3;i<=NF;i++) if($i!=$2){print;exit}}' "$f")"
		return 1
	fi
	return 0
}

# spread FILE.map : "be1=48 be2=50 ...".
spread() {
	awk '{print $2}' "$1" | sort | uniq -c |
		awk '{printf "%s%s=%s", sep, $2, $1; sep=" "}'
}

# VIP keys: FAMILY-independent name + 4|6. "s" and "t": the algorithm
# under test, at the default table size and at a small one (SMALL slots);
# "m" and "n": maglev at the same two sizes. Maglev's refill moves more
# unrelated keys in a small table, so "n" shows its disruption clearly
# even at five backends, and "t" is where ST_ALGO=maglev fails for sure.
SMALL=${ST_SMALL_TABLE:-251}
KEYS="s4 s6 t4 t6 m4 m6 n4 n6"
_vidx() { case $1 in s*) echo 0 ;; t*) echo 1 ;; m*) echo 2 ;; n*) echo 3 ;; esac; }
vip_of() {
	case $1 in
	*4) echo "${LAB_VIP4S[$(_vidx "$1")]}:$PORT/tcp" ;;
	*6) echo "[${LAB_VIP6S[$(_vidx "$1")]}]:$PORT/tcp" ;;
	esac
}
host_of() {
	case $1 in
	*4) echo "${LAB_VIP4S[$(_vidx "$1")]}" ;;
	*6) echo "${LAB_VIP6S[$(_vidx "$1")]}" ;;
	esac
}
algo_of() { case $1 in s* | t*) echo "$ST_ALGO" ;; *) echo maglev ;; esac; }
size_args() { case $1 in t* | n*) echo "--table-size $SMALL" ;; esac; }
under_test() { [[ $1 == [st]* ]]; }
be_of() { # KEY N : backend N's address in the VIP's family
	case $1 in
	*4) echo "${LAB_BE4[$2 - 1]}" ;;
	*6) echo "${LAB_BE6[$2 - 1]}" ;;
	esac
}
srcs_of() {
	case $1 in
	*4) printf '%s\n' "${LAB_SRC4[@]}" ;;
	*6) printf '%s\n' "${LAB_SRC6[@]}" ;;
	esac
}

# --- main ------------------------------------------------------------------------

start=$(date +%s.%N)
lab_setup
for ((i = 4; i <= NBE; i++)); do
	add_backend "$i"
done
start_servers
prime_neigh
if out=$(lab_lb_attach 2>&1); then
	lab_pass "xlb attach: $out"
else
	lab_fail "xlb attach: $out"
	lab_summary
	exit 1
fi
DEL_NAME=${LAB_BE_NAMES[DEL - 1]}
ADD_NAME=${LAB_BE_NAMES[ADD - 1]}
for k in $KEYS; do
	echo "== $k: $(vip_of "$k") --algo $(algo_of "$k") $(size_args "$k")"
done
echo "== $ST_CLIENTS clients per family, backends be1..be5, then $DEL_NAME removed, then $ADD_NAME added"

# 1. The VIPs and where every client goes.
for k in $KEYS; do
	ok=1
	# shellcheck disable=SC2046 # size_args is a list
	lab_xlb vip add "$(vip_of "$k")" --algo "$(algo_of "$k")" \
		$(size_args "$k") >/dev/null || ok=0
	for ((i = 1; i < NBE; i++)); do
		lab_xlb backend add "$(vip_of "$k")" "$(be_of "$k" "$i")" >/dev/null || ok=0
	done
	[ "$ok" = 1 ] || lab_fail "$k: vip add --algo $(algo_of "$k") $(size_args "$k") with 5 backends"
done
for k in $KEYS; do
	if probe "$k" a 2; then
		used=$(awk '{print $2}' "$OUT/$k.a.map" | sort -u | wc -l)
		if [ "$used" -eq $((NBE - 1)) ]; then
			lab_pass "$k: $((ST_CLIENTS * 2)) connections, every client sticks to one backend, all 5 used ($(spread "$OUT/$k.a.map"))"
		else
			lab_fail "$k: backends used: $(spread "$OUT/$k.a.map")"
		fi
	fi
done

# 2. Long-lived connections on the VIPs under test, kept through 3 and 4.
HOLD_SECS=90 # bound: the client stops by itself after this
for k in s4 s6; do
	srcs_of "$k" | awk -v e="$ST_HOLD_EVERY" 'NR % e == 1' >"$OUT/$k.hold.src"
	nsenter --net="/run/netns/$(lab_nsname c)" -- timeout $((HOLD_SECS + 10)) \
		"$LAB_PY" "$LAB_TMP/hold.py" "$(host_of "$k")" "$PORT" \
		"$OUT/$k.hold.ready" "$OUT/hold.stop" "$HOLD_SECS" \
		<"$OUT/$k.hold.src" >"$OUT/$k.hold" 2>"$OUT/$k.hold.err" &
	echo $! >"$OUT/$k.hold.pid"
	lab_track_pid "$(cat "$OUT/$k.hold.pid")"
done
for k in s4 s6; do
	lab_wait 15 test -e "$OUT/$k.hold.ready" ||
		lab_fail "$k: long-lived connections not open after 15 s"
done
sleep 1 # a few exchanges before the change

# moved_unrelated KEY FROM TO CHANGED : clients that reached another
# backend than CHANGED in FROM and some other backend in TO.
moved_unrelated() {
	join <(sort "$OUT/$1.$2.map") <(sort "$OUT/$1.$3.map") |
		awk -v c="$4" '$2 != c && $3 != c && $2 != $3' | wc -l
}

# 3. Remove b2 under traffic.
for k in $KEYS; do
	lab_xlb backend del "$(vip_of "$k")" "$(be_of "$k" "$DEL")" \
		>/dev/null 2>>"$OUT/changes.err" ||
		lab_fail "$k: backend del $(be_of "$k" "$DEL")"
done
declare -A DEL_MOVED ADD_MOVED ADD_TOOK DEL_HAD
for k in $KEYS; do
	probe "$k" b 1 || continue
	DEL_HAD[$k]=$(awk -v d="$DEL_NAME" '$2 == d' "$OUT/$k.a.map" | wc -l)
	DEL_MOVED[$k]=$(moved_unrelated "$k" a b "$DEL_NAME")
	still=$(join <(sort "$OUT/$k.a.map") <(sort "$OUT/$k.b.map") |
		awk -v d="$DEL_NAME" '$3 == d' | wc -l)
	under_test "$k" || continue
	if [ "${DEL_MOVED[$k]}" -eq 0 ]; then
		lab_pass "$k: $DEL_NAME removed: 0 of $((ST_CLIENTS - DEL_HAD[$k])) clients of other backends moved"
	else
		lab_fail "$k: $DEL_NAME removed: ${DEL_MOVED[$k]} of $((ST_CLIENTS - DEL_HAD[$k])) clients of other backends moved, e.g. $(join <(sort "$OUT/$k.a.map") <(sort "$OUT/$k.b.map") | awk -v c="$DEL_NAME" '$2 != c && $2 != $3' | head -2 | tr '\n' ';')"
	fi
	if [ "$still" -eq 0 ] && [ "${DEL_HAD[$k]}" -gt 0 ]; then
		lab_pass "$k: $DEL_NAME removed: all its ${DEL_HAD[$k]} clients moved to live backends ($(spread "$OUT/$k.b.map"))"
	else
		lab_fail "$k: $DEL_NAME removed: $still of its ${DEL_HAD[$k]} clients still reach it"
	fi
done

# 4. Add b6 under traffic.
for k in $KEYS; do
	lab_xlb backend add "$(vip_of "$k")" "$(be_of "$k" "$ADD")" \
		>/dev/null 2>>"$OUT/changes.err" ||
		lab_fail "$k: backend add $(be_of "$k" "$ADD")"
done
T_ADDED=$(date +%s.%N)
lo=$((ST_CLIENTS / (NBE - 1) / 2))
hi=$((ST_CLIENTS * 3 / (NBE - 1) / 2))
for k in $KEYS; do
	probe "$k" c 1 || continue
	ADD_MOVED[$k]=$(moved_unrelated "$k" b c "$ADD_NAME")
	ADD_TOOK[$k]=$(awk -v a="$ADD_NAME" '$2 == a' "$OUT/$k.c.map" | wc -l)
	under_test "$k" || continue
	if [ "${ADD_MOVED[$k]}" -eq 0 ]; then
		lab_pass "$k: $ADD_NAME added: the only clients that moved are its ${ADD_TOOK[$k]}"
	else
		lab_fail "$k: $ADD_NAME added: ${ADD_MOVED[$k]} clients moved between other backends, e.g. $(join <(sort "$OUT/$k.b.map") <(sort "$OUT/$k.c.map") | awk -v c="$ADD_NAME" '$3 != c && $2 != $3' | head -2 | tr '\n' ';')"
	fi
	if [ "${ADD_TOOK[$k]}" -ge "$lo" ] && [ "${ADD_TOOK[$k]}" -le "$hi" ]; then
		lab_pass "$k: $ADD_NAME took ${ADD_TOOK[$k]} clients (share $((ST_CLIENTS / (NBE - 1))), allowed $lo..$hi; $(spread "$OUT/$k.c.map"))"
	else
		lab_fail "$k: $ADD_NAME took ${ADD_TOOK[$k]} clients, outside $lo..$hi ($(spread "$OUT/$k.c.map"))"
	fi
done

# Both changes continued each VIP's history (a restart would move clients
# and is said on stderr).
if [ -s "$OUT/changes.err" ]; then
	lab_fail "the changes said: $(head -c 400 "$OUT/changes.err")"
else
	lab_pass "backend del and add said nothing on stderr (no history restarted)"
fi

# 5. The long-lived connections: stop them and judge.
sleep 1 # exchanges after the last change
: >"$OUT/hold.stop"
for k in s4 s6; do
	pid=$(cat "$OUT/$k.hold.pid")
	lab_wait 10 _lab_gone "$pid" || lab_fail "$k: long-lived client did not stop"
	wait "$pid" 2>/dev/null
	f=$OUT/$k.hold
	total=$(wc -l <"$f")
	# Survivors: connected, on a backend other than the removed one.
	bad=$(awk -v d="$DEL_NAME" -v t="$T_ADDED" '
		$2 == "ERR" || ($2 != d && ($6 != "-" || $4 <= t || $3 < 10))' "$f" | wc -l)
	surv=$(awk -v d="$DEL_NAME" '$2 != "ERR" && $2 != d' "$f" | wc -l)
	gone=$(awk -v d="$DEL_NAME" '$2 == d' "$f" | wc -l)
	gone_err=$(awk -v d="$DEL_NAME" '$2 == d && $6 != "-" {print $6}' "$f" |
		sort | uniq -c | awk '{printf "%s%s x%s", sep, $2, $1; sep=", "}')
	exch=$(awk '{s += $3} END {print s + 0}' "$f")
	if [ "$total" -gt 0 ] && [ "$bad" -eq 0 ] && [ "$surv" -gt 0 ]; then
		lab_pass "$k: $surv long-lived connections to surviving backends kept exchanging through both changes ($exch exchanges in all; the $gone to $DEL_NAME ended: ${gone_err:-none})"
	else
		lab_fail "$k: long-lived connections: $bad of $total broken or stalled, e.g. $(awk -v d="$DEL_NAME" -v t="$T_ADDED" '$2 == "ERR" || ($2 != d && ($6 != "-" || $4 <= t || $3 < 10))' "$f" | head -2 | tr '\n' ';')"
	fi
done

# Figures: the algorithm under test against maglev, same changes, sizes.
fig() { echo "${DEL_MOVED[$1]:-?} / ${ADD_MOVED[$1]:-?} (took ${ADD_TOOK[$1]:-?})"; }
echo "== unrelated clients moved on remove / on add, of $ST_CLIENTS per family:"
for f in 4 6; do
	echo "==   IPv$f, default table: $ST_ALGO $(fig "s$f"), maglev $(fig "m$f")"
	echo "==   IPv$f, $SMALL slots:   $ST_ALGO $(fig "t$f"), maglev $(fig "n$f")"
done
echo "== $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
lab_summary
