#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/e2e/hooks.sh - the daemon's notify_up / notify_down hooks, in the
# standard lab of tests/lib.sh:
#
#   1. nothing runs at start (the VIP's first state is not a transition);
#   2. a VIP losing one of two backends runs nothing; losing its last
#      (`xlb backend set --state down`) runs notify_down with its argv taken
#      literally (no shell: "$(touch FILE)" stays text), XLB_VIP and
#      XLB_EVENT; gaining one back runs notify_up;
#   3. a TCP check failing takes the last backend down: notify_down again;
#   4. a hook that sleeps past notify_timeout is killed with what it
#      started (its process group), a failure logged; meanwhile the daemon
#      keeps checking, committing and answering /metrics, and the
#      transition seen during the slow hook runs after it, in order.
#
# Run as root; prints PASS/FAIL per check and exits 1 if any failed.
set -u

. "$(dirname "$0")/../lib.sh"

VIP=203.0.113.10
PORT=80
MPORT=9471

lab_setup
OUT=$LAB_TMP/hooks
mkdir -p "$OUT"
CONF=$OUT/xlb.conf
DLOG=$OUT/daemon.log
HLOG=$OUT/hooks.log
: >"$HLOG"
DPID=
BE0=${LAB_BE4[0]}
BE1=${LAB_BE4[1]}

# The hook: one line per run, the environment and argv as it got them.
cat >"$OUT/hook.sh" <<EOF
#!/bin/sh
echo "\$XLB_EVENT \$XLB_VIP [\$*] pid=\$\$" >>"$HLOG"
EOF
# The slow hook: starts a child, then outlives its timeout.
cat >"$OUT/slow.sh" <<EOF
#!/bin/sh
sleep 60 &
echo "slow \$XLB_EVENT pgid=\$\$ child=\$!" >>"$HLOG"
wait
echo "slow finished" >>"$HLOG"
EOF
chmod +x "$OUT/hook.sh" "$OUT/slow.sh"

write_conf() { # write_conf DOWN_ARGV TIMEOUT [CHECK]
	local check=${3:-'{ type = "none"; }'}
	cat >"$CONF" <<EOF
metrics = "127.0.0.1:$MPORT";
vips = (
  { vip = "$VIP:$PORT/tcp";
    check = $check;
    notify_up = ["$OUT/hook.sh", "up-arg"];
    notify_down = $1;
    notify_timeout = $2;
    backends = ( { addr = "$BE0"; }, { addr = "$BE1"; } ); }
);
EOF
}

start_daemon() {
	nsenter --net="/run/netns/$(lab_nsname lb)" -- "$XLB" --pin-dir "$LAB_PIN_DIR" \
		daemon --config "$CONF" --log-level debug 2>>"$DLOG" &
	DPID=$!
	lab_track_pid "$DPID"
}
alive() { kill -0 "$DPID" 2>/dev/null; }
show_log() { tail -n "${1:-15}" "$DLOG" | sed 's/^/    | /'; sed 's/^/    hooks| /' "$HLOG"; }
fail_log() {
	lab_fail "$1"
	show_log 20
}
hook_lines() { wc -l <"$HLOG"; }
has_line() { grep -q -- "$1" "$HLOG"; }
has_text() { grep -qF -- "$1" "$HLOG"; }
set_state() { lab_xlb backend set "$VIP:$PORT/tcp" "$1" --state "$2" >/dev/null; }
up_count() { lab_xlb -j status | "$LAB_PY" -c "import json,sys; print(json.load(sys.stdin)['vips'][0]['backends_up'])"; }

lab_lb_attach >/dev/null || lab_die "xlb attach failed"
write_conf "[\"$OUT/hook.sh\", \"down-arg\", \"\$(touch $OUT/pwned)\"]" 5
start_daemon
lab_wait 10 grep -q 'started with' "$DLOG" || { show_log; lab_die "daemon did not start"; }

# 1. Nothing at start.
sleep 1.5
if [ "$(hook_lines)" -eq 0 ]; then
	lab_pass "no hook runs for the state a VIP starts in"
else
	fail_log "no hook runs at start"
fi

# 2. Last backend lost through the CLI, then one back.
set_state "$BE0" down
sleep 2
if [ "$(hook_lines)" -eq 0 ]; then
	lab_pass "one backend of two down: no hook"
else
	fail_log "one backend of two down: no hook"
fi
set_state "$BE1" down
want="down $VIP:$PORT/tcp [down-arg \$(touch $OUT/pwned)] pid="
if lab_wait 5 has_text "$want" && [ ! -e "$OUT/pwned" ] && [ "$(hook_lines)" -eq 1 ]; then
	lab_pass "last backend down: notify_down with XLB_EVENT, XLB_VIP and its argv untouched by any shell"
else
	fail_log "last backend down: notify_down ($want)"
fi
if lab_wait 5 grep -q 'notify_down hook done in' "$DLOG"; then
	lab_pass "the hook is reaped and its end logged"
else
	fail_log "the hook is reaped"
fi
set_state "$BE0" up
if lab_wait 5 has_line "^up $VIP:$PORT/tcp \[up-arg\] pid=" && [ "$(hook_lines)" -eq 2 ]; then
	lab_pass "a backend back: notify_up"
else
	fail_log "a backend back: notify_up"
fi
set_state "$BE1" up
sleep 1.5
if [ "$(hook_lines)" -eq 2 ] && ! ls /proc/*/stat 2>/dev/null | xargs -r cat 2>/dev/null |
	grep -q "(hook.sh) Z"; then
	lab_pass "a second backend back: no hook; no zombie left"
else
	fail_log "a second backend back: no hook, no zombie"
fi

# 3. A check failing takes the last backend down. Nothing listens on
# port 9 of the backends, so a TCP check there fails.
write_conf "[\"$OUT/hook.sh\", \"down-arg\"]" 5 \
	'{ type = "tcp"; port = 9; interval = 0.2; timeout = 0.1; rise = 1; fall = 1; }'
n0=$(hook_lines)
kill -HUP "$DPID"
if lab_wait 10 has_line "^down $VIP:$PORT/tcp \[down-arg\]" && [ "$(hook_lines)" -eq $((n0 + 1)) ]; then
	lab_pass "failing checks take the last backend down: notify_down once"
else
	fail_log "failing checks: notify_down"
fi

# 4. A slow hook: killed at its timeout with its child, the daemon going on.
write_conf "[\"$OUT/slow.sh\"]" 1.5
kill -HUP "$DPID"
lab_wait 5 grep -q 'reload' "$DLOG"
sleep 1
set_state "$BE0" up
set_state "$BE1" up
lab_wait 5 has_line "^up .*pid=" || true
n0=$(hook_lines)
t0=$(date +%s.%N)
set_state "$BE0" down
set_state "$BE1" down
if lab_wait 5 has_line '^slow down pgid='; then
	lab_pass "the slow notify_down started"
else
	fail_log "the slow notify_down started"
fi
line=$(grep '^slow down pgid=' "$HLOG" | tail -n1)
pgid=${line#*pgid=}
pgid=${pgid%% *}
child=${line#*child=}
# While it runs: the loop answers, commits, and queues the next transition.
set_state "$BE0" up
ok_metrics=0
lab_ns lb curl -sf --max-time 2 "http://127.0.0.1:$MPORT/metrics" | grep -q '^xlb_daemon_hooks_running 1$' &&
	ok_metrics=1
if [ "$ok_metrics" = 1 ]; then
	lab_pass "/metrics answers while the hook runs (xlb_daemon_hooks_running 1)"
else
	fail_log "/metrics answers while the hook runs"
fi
gone() { ! kill -0 "$pgid" 2>/dev/null && ! kill -0 "$child" 2>/dev/null; }
if lab_wait 5 gone && grep -q "notify_down hook (pid $pgid) still running after" "$DLOG" &&
	! has_line 'slow finished'; then
	t1=$(date +%s.%N)
	lab_pass "killed after notify_timeout with its child ($(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s)"
else
	fail_log "slow hook killed with its child (pgid $pgid child $child)"
fi
if lab_wait 5 has_line "^up $VIP:$PORT/tcp \[up-arg\]" &&
	[ "$(tail -n1 "$HLOG" | cut -d' ' -f1)" = up ]; then
	lab_pass "the transition seen meanwhile runs after the killed hook: notify_up"
else
	fail_log "the queued notify_up after the killed hook"
fi
failures=$(lab_ns lb curl -sf --max-time 2 "http://127.0.0.1:$MPORT/metrics" |
	awk '/^xlb_daemon_hook_failures_total / { print $2 }')
if alive && [ "${failures:-0}" -ge 1 ] && [ "$(up_count)" = 1 ]; then
	lab_pass "the daemon keeps running (hook failures counted: $failures; 1 backend up)"
else
	fail_log "daemon alive after the killed hook (failures ${failures:-?})"
fi

kill -TERM "$DPID"
lab_wait 5 _lab_gone "$DPID"
lab_summary
