#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/e2e/ops.sh - running xlb as an operator would, in the standard lab
# of tests/lib.sh:
#
#   1. systemd's notify protocol, through a listener on NOTIFY_SOCKET (no
#      systemd as PID 1 here): READY=1 once the file is applied, STATUS=,
#      WATCHDOG=1 fed by the loop, RELOADING=1 then READY=1 around a
#      reload, a refused file in STATUS=; `xlb check` refuses the same file
#      (ExecReload's pre-check, which is what fails `systemctl reload`);
#   2. `xlb status` and `-j`: interface, mode, program id, layout, seed
#      fingerprint, flow table, daemon running, per-VIP summaries;
#   3. `xlb vip check VIP --min-up N` as a backend goes down;
#   4. /metrics served by the daemon (libmicrohttpd) and `xlb stats
#      --prometheus`, both clean under `promtool check metrics`, and a real
#      Prometheus server, started here on the LB's loopback, scraping the
#      daemon: one series of each kind through its HTTP API;
#   5. the daemon watches its data path: a program detached under a running
#      daemon is re-attached (error logged, traffic flows again), so is one
#      detached while no daemon ran; with another XDP program on the
#      interface the daemon exits 1; without `interface` it says so in its
#      log, `xlb status` and the metrics;
#   6. journald: with stderr as the journal's stream, lines go to the
#      journal socket with PRIORITY=, VIP=, BACKEND= (a listener on
#      /run/systemd/journal/socket in a private mount namespace).
#
# Run as root; prints PASS/FAIL per check and exits 1 if any failed.
set -u

. "$(dirname "$0")/../lib.sh"
# The map layout this build makes (include/xlb.h).
ABI=$(sed -n 's/^#define XLB_ABI \([0-9]*\).*/\1/p' "$(dirname "$0")/../../include/xlb.h")

VIP=203.0.113.10
PORT=80
MPORT=9469
PPORT=9090

for t in promtool prometheus curl; do
	command -v "$t" >/dev/null || lab_die "$t missing (bash scripts/deps.sh)"
done

lab_setup
OUT=$LAB_TMP/ops
mkdir -p "$OUT"
CONF=$OUT/xlb.conf
DLOG=$OUT/daemon.log
NLOG=$OUT/notify.log
DPID=

py() { "$LAB_PY" "$@"; }

# notify.py SOCKET LOG: systemd's side of sd_notify: one line per datagram
# ("TIME MESSAGE" with newlines as '|').
cat >"$OUT/notify.py" <<'PYEOF'
import os, socket, sys, time
path, log = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(log, "a", buffering=1) as f:
    while True:
        m = s.recv(4096).decode(errors="replace")
        f.write("%.3f %s\n" % (time.time(), m.replace("\n", "|")))
PYEOF

# journal.py SOCKET LOG: journald's native socket: one JSON object per
# datagram (KEY=VALUE lines).
cat >"$OUT/journal.py" <<'PYEOF'
import json, socket, sys
path, log = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(log, "a", buffering=1) as f:
    while True:
        m = s.recv(65536).decode(errors="replace")
        d = dict(l.split("=", 1) for l in m.split("\n") if "=" in l)
        f.write(json.dumps(d) + "\n")
PYEOF

write_conf() { # write_conf FILE [INTERFACE]
	local ifl=""
	[ -z "${2:-}" ] || ifl="interface = \"$2\";"
	cat >"$1" <<EOF
# tests/e2e/ops.sh
$ifl
metrics = "127.0.0.1:$MPORT";
vips = (
  { vip = "$VIP:$PORT/tcp";
    check = { type = "http"; path = "/health"; interval = 0.3; timeout = 0.2; rise = 1; fall = 2; };
    backends = ( { addr = "${LAB_BE4[0]}"; }, { addr = "${LAB_BE4[1]}"; }, { addr = "${LAB_BE4[2]}"; } ); }
);
EOF
}

start_daemon() { # start_daemon [ENV=VALUE...]
	echo "--- daemon start $(date +%T.%N)" >>"$DLOG"
	env "$@" nsenter --net="/run/netns/$(lab_nsname lb)" -- "$XLB" --pin-dir "$LAB_PIN_DIR" \
		daemon --config "$CONF" --log-level debug 2>>"$DLOG" &
	DPID=$!
	lab_track_pid "$DPID"
}
stop_daemon() {
	kill -TERM "$DPID" 2>/dev/null
	lab_wait 5 _lab_gone "$DPID" || kill -KILL "$DPID"
	wait "$DPID" 2>/dev/null
}
alive() { kill -0 "$DPID" 2>/dev/null; }
log_count() { grep -c -- "$1" "$DLOG"; }
show_log() { tail -n "${1:-15}" "$DLOG" | sed 's/^/    | /'; }
fail_log() {
	lab_fail "$1"
	show_log 20
}
status_json() { lab_xlb -j status; }
# sj EXPR: a field of `xlb -j status` (python expression over s).
sj() { status_json | py -c "import json,sys; s=json.load(sys.stdin); print($1)"; }
metrics() { lab_ns lb curl -sf --max-time 5 "http://127.0.0.1:$MPORT/metrics"; }
serves() { # serves: 30 clients all answered
	printf '%s\n' "${LAB_SRC4[@]:0:30}" | lab_connect "$VIP" "$PORT" --timeout 1 >"$OUT/serve"
	[ "$(grep -c ' be[123]$' "$OUT/serve")" -eq 30 ]
}
allup() { [ "$(sj "s['vips'][0]['backends_up']")" = 3 ]; }
# The log since the last daemon start.
last_run() { awk '/^--- daemon start/ { buf = "" } { buf = buf $0 "\n" } END { printf "%s", buf }' "$DLOG"; }

lab_lb_attach >/dev/null || lab_die "xlb attach failed"
write_conf "$CONF" "$LAB_DEV"

# ---------------------------------------------------------------------------
# 1. The notify protocol.

lab_ns lb "$LAB_PY" "$OUT/notify.py" "$OUT/notify.sock" "$NLOG" &
lab_track_pid $!
lab_wait 5 test -S "$OUT/notify.sock" || lab_die "notify listener"
start_daemon NOTIFY_SOCKET="$OUT/notify.sock" WATCHDOG_USEC=400000
if lab_wait 10 grep -q 'READY=1' "$NLOG" && lab_wait 10 allup; then
	lab_pass "READY=1 sent once the file is applied"
else
	fail_log "READY=1 sent once the file is applied"
fi
# Nothing is ready before the file is applied: READY=1 follows "started".
if [ "$(grep -m1 -o 'READY=1' "$NLOG")" = READY=1 ] &&
	[ "$(head -n1 "$NLOG" | grep -c 'READY=1')" -eq 1 ] && grep -q 'started with' "$DLOG"; then
	lab_pass "the first message is READY=1, after 'started with' was logged"
else
	lab_fail "the first message is READY=1 ($(head -n2 "$NLOG"))"
fi
if lab_wait 5 grep -q 'STATUS=1 VIPs, 3/3 backends up; data path on eth0 (native)' "$NLOG"; then
	lab_pass "STATUS= summarises: $(grep -o 'STATUS=1 VIPs, 3/3[^|]*' "$NLOG" | tail -n1)"
else
	lab_fail "STATUS= summarises VIPs, backends, data path ($(grep -o 'STATUS=[^|]*' "$NLOG" | tail -n3 | tr '\n' ';'))"
fi
sleep 1
n0=$(grep -c 'WATCHDOG=1' "$NLOG")
sleep 2
n1=$(grep -c 'WATCHDOG=1' "$NLOG")
gap=$(awk '/WATCHDOG=1/ { if (p) { g = $1 - p; if (g > m) m = g } p = $1 } END { printf "%.3f", m }' "$NLOG")
if [ $((n1 - n0)) -ge 8 ] && awk -v g="$gap" 'BEGIN { exit !(g < 0.4) }'; then
	lab_pass "WATCHDOG=1 every half period of WATCHDOG_USEC=400000 ($((n1 - n0)) in 2 s, longest gap ${gap}s)"
else
	lab_fail "WATCHDOG=1 every half period ($((n1 - n0)) in 2 s, longest gap $gap s)"
fi
kill -STOP "$DPID"
sleep 0.5
n2=$(grep -c 'WATCHDOG=1' "$NLOG")
sleep 0.5
n3=$(grep -c 'WATCHDOG=1' "$NLOG")
kill -CONT "$DPID"
more_wd() { [ "$(grep -c 'WATCHDOG=1' "$NLOG")" -gt "$n3" ]; }
if [ "$n3" -eq "$n2" ] && lab_wait 2 more_wd; then
	lab_pass "a stopped loop feeds no watchdog; it resumes after SIGCONT"
else
	lab_fail "a stopped loop feeds no watchdog ($n2 -> $n3)"
fi

# Reload: RELOADING=1 then READY=1; a refused file says so in STATUS=.
out=$(lab_xlb check "$CONF")
if [ $? -eq 0 ] && [[ $out == "$CONF: ok (1 VIPs, 3 backends; fits the running balancer)" ]]; then
	lab_pass "xlb check accepts the running file ($out)"
else
	lab_fail "xlb check accepts the running file ($out)"
fi
since() { tail -n +$((lines0 + 1)) "$NLOG"; }
lines0=$(wc -l <"$NLOG")
kill -HUP "$DPID"
ready_again() { since | grep -q READY=1; }
lab_wait 5 ready_again
seq=$(since | grep -o 'RELOADING=1\|READY=1' | tr '\n' ' ')
if [[ $seq == "RELOADING=1 READY=1 "* ]] && since | grep -q 'MONOTONIC_USEC='; then
	lab_pass "SIGHUP: RELOADING=1 (with MONOTONIC_USEC) then READY=1"
else
	lab_fail "SIGHUP: RELOADING=1 then READY=1 (got: $seq)"
fi
cp "$CONF" "$OUT/good.conf"
sed 's/{ addr = "'"${LAB_BE4[1]}"'"; }/{ addr = "'"${LAB_BE4[1]}"'"; weight = 70000; }/' \
	"$OUT/good.conf" >"$CONF"
badline=$(grep -n 'weight = 70000' "$CONF" | cut -d: -f1)
out=$(lab_xlb check "$CONF" 2>&1)
rc=$?
if [ "$rc" -eq 1 ] && [[ $out == *"$CONF:$badline: weight 70000 out of range"* ]]; then
	lab_pass "xlb check refuses a bad file: exit 1, $out"
else
	lab_fail "xlb check refuses a bad file (exit $rc: $out)"
fi
lines0=$(wc -l <"$NLOG")
kill -HUP "$DPID"
refused() { since | grep -q 'STATUS=.*reload refused'; }
if lab_wait 5 refused && since | grep -q 'READY=1' && alive; then
	lab_pass "a refused reload: READY=1 again, STATUS= says why ($(since | grep -o 'STATUS=.*reload refused[^|]*' | head -n1 | cut -c1-100)...)"
else
	fail_log "a refused reload: READY=1 again, STATUS= says why"
fi
if grep -q "error: reload failed, keeping the running configuration: $CONF:$badline" "$DLOG"; then
	lab_pass "the refused reload is logged at error priority"
else
	fail_log "the refused reload is logged at error priority"
fi
cp "$OUT/good.conf" "$CONF"
{
	echo 'seed = "00000000000000000000000000000001";'
	cat "$CONF"
} >"$OUT/seed.conf"
out=$(lab_xlb check "$OUT/seed.conf" 2>&1)
rc=$?
if [ "$rc" -eq 1 ] && [[ $out == *"seed (fingerprint "* ]]; then
	lab_pass "xlb check refuses what the running balancer would (another seed): $out"
else
	lab_fail "xlb check refuses another seed (exit $rc: $out)"
fi

# ---------------------------------------------------------------------------
# 2. xlb status.

out=$(lab_xlb status)
if [ $? -eq 0 ] && [[ $out == *"interface    eth0 (native mode), program id "* ]] &&
	[[ $out == *"daemon       running"* ]] && [[ $out == *"map_layout   $ABI"* ]] &&
	[[ $out == *"seed         fingerprint "* ]] &&
	[[ $out == *"$VIP:$PORT/tcp"*"yes"*"3/3 usable (3 up, 0 down, 0 draining)"* ]]; then
	lab_pass "xlb status: interface, mode, program id, layout, seed fingerprint, daemon, VIPs"
else
	lab_fail "xlb status"
	echo "$out" | sed 's/^/    | /'
fi
seed=$(lab_xlb save | grep -o '[0-9a-f]\{32\}' | head -n1)
if [ -n "$seed" ] && ! lab_xlb status | grep -q "$seed" && ! status_json | grep -q "$seed"; then
	lab_pass "xlb status never prints the seed itself"
else
	lab_fail "xlb status prints the seed"
fi
pid=$(sj "s['datapath']['prog_id']")
bpid=$(lab_ns lb ip -j link show dev "$LAB_DEV" | py -c "import json,sys; print(json.load(sys.stdin)[0]['xdp']['prog']['id'])")
if [ "$(sj "s['datapath']['interface'], s['datapath']['mode'], s['daemon']['running'], s['flow_table']['capacity']")" = "eth0 native True 262144" ] &&
	[ "$pid" = "$bpid" ]; then
	lab_pass "xlb -j status: the program id is the kernel's ($pid)"
else
	lab_fail "xlb -j status (prog id $pid, kernel $bpid): $(status_json)"
fi

# ---------------------------------------------------------------------------
# 3. xlb vip check.

lab_xlb vip check "$VIP:$PORT/tcp" --min-up 3 >/dev/null
r3=$?
lab_backend_stop 3
down3() { [ "$(sj "s['vips'][0]['backends_usable']")" = 2 ]; }
lab_wait 5 down3
lab_xlb vip check "$VIP:$PORT/tcp" --min-up 3 >/dev/null
r3b=$?
lab_xlb vip check "$VIP:$PORT/tcp" --min-up 2 >/dev/null
r2=$?
lab_xlb vip check "$VIP:$PORT/tcp" --min-up 0 >/dev/null 2>&1
ru=$?
if [ "$r3" -eq 0 ] && [ "$r3b" -eq 1 ] && [ "$r2" -eq 0 ] && [ "$ru" -eq 2 ]; then
	lab_pass "vip check --min-up 3: 0 with 3 up, 1 with 2 up; --min-up 2: 0; a bad N: 2"
else
	lab_fail "vip check (3 up: $r3; 2 up: --min-up 3 $r3b, --min-up 2 $r2; bad: $ru)"
fi
if grep -q "warning: backend ${LAB_BE4[2]} of $VIP:$PORT/tcp down:" "$DLOG"; then
	lab_pass "a backend going down is logged as a warning"
else
	fail_log "a backend going down is logged as a warning"
fi

# ---------------------------------------------------------------------------
# 4. Metrics.

serves
if metrics >"$OUT/m1" && promtool check metrics <"$OUT/m1" >"$OUT/lint" 2>&1; then
	lab_pass "/metrics is clean under promtool check metrics ($(grep -vc '^#' "$OUT/m1") samples)"
else
	lab_fail "/metrics under promtool check metrics ($(head -c 400 "$OUT/lint"))"
fi
want_m=(
	"xlb_vip_packets_total{vip=\"$VIP:$PORT/tcp\"}"
	"xlb_backend_state{vip=\"$VIP:$PORT/tcp\",backend=\"${LAB_BE4[2]}\",state=\"down\"} 1"
	"xlb_backend_check_up{vip=\"$VIP:$PORT/tcp\",backend=\"${LAB_BE4[2]}\"} 0"
	"xlb_backend_check_up{vip=\"$VIP:$PORT/tcp\",backend=\"${LAB_BE4[0]}\"} 1"
	"xlb_drops_total{reason=\"no_backend\"}"
	"xlb_xdp_attached 1"
	"xlb_map_layout $ABI"
	"xlb_backend_table_share_ratio{"
	"xlb_backend_new_flows_share_ratio{"
	"xlb_backend_check_duration_seconds{"
	"xlb_daemon_reloads_total{result=\"refused\"} 1"
)
miss=()
for w in "${want_m[@]}"; do
	grep -qF -- "$w" "$OUT/m1" || miss+=("$w")
done
if [ ${#miss[@]} -eq 0 ]; then
	lab_pass "/metrics has VIP and backend counters, states, checks, drops, attach, layout, shares, reloads"
else
	lab_fail "/metrics lacks: ${miss[*]}"
fi
sum=$(awk '/^xlb_backend_packets_total/ { s += $2 } END { print s + 0 }' "$OUT/m1")
vp=$(awk '/^xlb_vip_packets_total/ { print $2 }' "$OUT/m1")
if [ -n "$vp" ] && [ "$vp" -gt 0 ] && [ "$sum" = "$vp" ]; then
	lab_pass "backend packet counters add up to the VIP's ($vp)"
else
	lab_fail "backend packet counters add up to the VIP's ($sum vs $vp)"
fi
if lab_xlb stats --prometheus >"$OUT/m2" && promtool check metrics <"$OUT/m2" >"$OUT/lint2" 2>&1 &&
	grep -q '^xlb_vip_packets_total' "$OUT/m2" && ! grep -q 'xlb_backend_check_up' "$OUT/m2"; then
	lab_pass "xlb stats --prometheus: clean, data path counters, no daemon-only series"
else
	lab_fail "xlb stats --prometheus ($(head -c 300 "$OUT/lint2"))"
fi
code=$(lab_ns lb curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/nope")
if [ "$code" = 404 ]; then
	lab_pass "/nope: 404"
else
	lab_fail "/nope: $code"
fi

# A real Prometheus server on the LB's loopback scrapes the daemon.
mkdir -p "$OUT/prom"
cat >"$OUT/prom/prometheus.yml" <<EOF
global: { scrape_interval: 1s, scrape_timeout: 900ms }
scrape_configs:
  - job_name: xlb
    static_configs: [ { targets: [ "127.0.0.1:$MPORT" ] } ]
EOF
lab_ns lb prometheus --config.file="$OUT/prom/prometheus.yml" \
	--storage.tsdb.path="$OUT/prom/data" --web.listen-address="127.0.0.1:$PPORT" \
	>"$OUT/prom/log" 2>&1 &
PROM=$!
lab_track_pid "$PROM"
pq() { # pq QUERY: the number of series the query returns
	lab_ns lb curl -sf --max-time 3 "http://127.0.0.1:$PPORT/api/v1/query" \
		--data-urlencode "query=$1" |
		py -c "import json,sys; d=json.load(sys.stdin); print(len(d['data']['result']) if d['status']=='success' else -1)"
}
scraped() { [ "$(pq 'up{job="xlb"} == 1')" = 1 ]; }
if lab_wait 30 scraped; then
	lab_pass "Prometheus scrapes the daemon (up == 1)"
else
	lab_fail "Prometheus scrapes the daemon ($(tail -n 3 "$OUT/prom/log"))"
fi
sleep 3
miss=()
nq=0
for q in 'xlb_build_info' 'xlb_xdp_attached == 1' 'xlb_xdp_program_id' 'xlb_map_layout' \
	'xlb_flow_table_entries' 'xlb_flow_table_capacity' 'xlb_commits_total' \
	'xlb_packets_total' 'xlb_drops_total' 'xlb_datapath_events_total' \
	"xlb_vip_packets_total{vip=\"$VIP:$PORT/tcp\"} > 0" 'xlb_vip_bytes_total' \
	'xlb_vip_new_flows_total' 'xlb_vip_table_swaps_total' 'xlb_vip_backends_usable == 2' \
	'xlb_backend_packets_total' 'xlb_backend_bytes_total' 'xlb_backend_new_flows_total' \
	'xlb_backend_state{state="down"} == 1' 'xlb_backend_weight' \
	'xlb_backend_slow_start_ratio' 'xlb_backend_table_share_ratio' \
	'xlb_backend_new_flows_share_ratio' 'xlb_backend_flows' 'xlb_backend_flows_share_ratio' \
	'xlb_backend_check_up == 0' 'xlb_backend_check_duration_seconds' \
	'xlb_backend_check_last_transition_timestamp_seconds > 0' 'xlb_backend_checks_total' \
	'rate(xlb_backend_checks_total[5s]) > 0' 'xlb_daemon_start_time_seconds' \
	'xlb_daemon_commits_total' 'xlb_daemon_last_commit_duration_seconds' \
	'xlb_daemon_reloads_total' 'xlb_daemon_reattaches_total'; do
	nq=$((nq + 1))
	n=$(pq "$q")
	[ -n "$n" ] && [ "$n" -gt 0 ] || miss+=("$q")
done
if [ ${#miss[@]} -eq 0 ]; then
	lab_pass "Prometheus's API returns every kind of series ($nq queries)"
else
	lab_fail "Prometheus's API lacks: ${miss[*]}"
fi
kill "$PROM" 2>/dev/null
wait "$PROM" 2>/dev/null
lab_backend_start 3
lab_backend_wait 3
lab_wait 5 allup

# ---------------------------------------------------------------------------
# 5. The daemon watches its data path.

# Detached under a running daemon: re-attached within a watch period.
n0=$(log_count "re-attached to eth0")
lab_xlb detach "$LAB_DEV" >/dev/null
T0=$(date +%s.%N)
reatt() { [ "$(log_count "re-attached to eth0")" -gt "$n0" ]; }
if lab_wait 5 reatt && [ "$(sj "s['datapath']['attached']")" = True ] && serves; then
	lab_pass "a program detached under the daemon is re-attached in $(awk -v t="$T0" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - t }') s; traffic flows again"
else
	fail_log "a program detached under the daemon is re-attached"
fi
if grep -q "error: xlb's program is not attached to eth0: re-attaching it" "$DLOG"; then
	lab_pass "the detach is logged at error priority"
else
	fail_log "the detach is logged at error priority"
fi
if metrics | grep -qx 'xlb_daemon_reattaches_total 1'; then
	lab_pass "xlb_daemon_reattaches_total 1"
else
	lab_fail "xlb_daemon_reattaches_total 1 ($(metrics | grep reattaches_total | tail -n1))"
fi

# The issue's case: detached while no daemon runs, then a daemon starts.
stop_daemon
lab_xlb detach "$LAB_DEV" >/dev/null
start_daemon
started() { last_run | grep -q 'started with'; }
if lab_wait 10 started && alive && serves && [ "$(sj "s['datapath']['attached']")" = True ] &&
	last_run | grep -B1000 'started with' | grep -q "re-attached to eth0"; then
	lab_pass "a daemon started over a detached program re-attaches it before 'started'; traffic flows"
else
	fail_log "a daemon started over a detached program re-attaches it"
fi

# Another XDP program on the interface: not displaced; the daemon exits 1.
stop_daemon
lab_xlb detach "$LAB_DEV" >/dev/null
lab_xdp_pass lb "$LAB_DEV"
err=$(lab_ns lb timeout 10 "$XLB" --pin-dir "$LAB_PIN_DIR" daemon --config "$CONF" 2>&1 >/dev/null)
rc=$?
if [ "$rc" -eq 1 ] && [[ $err == *"eth0 runs another XDP program (lab_pass): not displacing it"* ]]; then
	lab_pass "another XDP program on its interface: the daemon exits 1 ($(echo "$err" | tail -n1))"
else
	lab_fail "another XDP program on its interface: exit $rc: $err"
fi
lab_ns lb ip link set dev "$LAB_DEV" xdp off

# No interface in the file: the daemon cannot re-attach; it says so.
write_conf "$CONF"
start_daemon
noif() { grep -q "error: xlb's program runs on no interface: the VIPs are not served" "$DLOG"; }
if lab_wait 10 noif && alive && [ "$(sj "s['datapath']['attached'], s['vips'][0]['serving']")" = "False False" ] &&
	metrics | grep -qx 'xlb_xdp_attached 0' && ! lab_xlb vip check "$VIP:$PORT/tcp" >/dev/null; then
	lab_pass "without 'interface': error logged, status and metrics say not attached, vip check fails"
else
	fail_log "without 'interface': error logged, status and metrics say not attached"
fi
lab_lb_attach >/dev/null
seen() { last_run | grep -q "data path: program [0-9]* on eth0 (native mode)"; }
if lab_wait 5 seen && metrics | grep -qx 'xlb_xdp_attached 1'; then
	lab_pass "attached again by an operator: seen and logged"
else
	fail_log "attached again by an operator: seen and logged"
fi
stop_daemon

# ---------------------------------------------------------------------------
# 6. journald: priorities and fields through the native protocol.

write_conf "$CONF" "$LAB_DEV"
lab_backend_stop 2
: >"$OUT/jerr"
JS=$(stat -c '%d:%i' "$OUT/jerr")
lab_ns lb unshare -m sh -c '
	mkdir -p /run/systemd/journal && mount -t tmpfs tmpfs /run/systemd/journal || exit 1
	"$0" "$1" /run/systemd/journal/socket "$2" & jp=$!
	i=0; while [ ! -S /run/systemd/journal/socket ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
	JOURNAL_STREAM="$3" timeout -s TERM 4 "$4" --pin-dir "$5" daemon --config "$6" 2>>"$7"
	kill $jp' "$LAB_PY" "$OUT/journal.py" "$OUT/journal.log" "$JS" "$XLB" "$LAB_PIN_DIR" "$CONF" "$OUT/jerr"
jq() { py -c "
import json, sys
rows = [json.loads(l) for l in open('$OUT/journal.log')]
$1"; }
if [ -s "$OUT/journal.log" ] &&
	jq "sys.exit(0 if any(r.get('PRIORITY') == '4' and r.get('VIP') == '$VIP:$PORT/tcp' and r.get('BACKEND') == '${LAB_BE4[1]}' and 'down' in r['MESSAGE'] for r in rows) else 1)" &&
	jq "sys.exit(0 if any(r.get('PRIORITY') == '5' and r['MESSAGE'].startswith('started with') for r in rows) and all(r.get('SYSLOG_IDENTIFIER') == 'xlb' for r in rows) else 1)" &&
	jq "sys.exit(0 if not any(r['MESSAGE'][:2] == '20' for r in rows) else 1)" &&
	[ ! -s "$OUT/jerr" ]; then
	lab_pass "journald: PRIORITY=4 with VIP= and BACKEND= for a backend going down, PRIORITY=5 for the start, no timestamps, nothing on stderr ($(wc -l <"$OUT/journal.log") entries)"
else
	lab_fail "journald fields ($(head -c 600 "$OUT/journal.log"); stderr: $(head -c 200 "$OUT/jerr"))"
fi
lab_backend_start 2

lab_summary
