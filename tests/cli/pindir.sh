#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The pin directory, its lock and the daemon's guard are root's alone
# (/sys/fs/bpf is mode 1777: anyone may make names there), and the command
# line refuses what it cannot mean. Unprivileged steps run as nobody
# (setpriv). Everything is made under this run's names (xp<pid>...): one
# namespace with a veth pair, pin directories /sys/fs/bpf/xp<pid>*, a temp
# dir. Run as root from the repository root.
set -uo pipefail

XLB=${XLB:-$PWD/build/xlb}
RUN=xp$$
NS=${RUN}lb
PIN=/sys/fs/bpf/$RUN
TMP=$(mktemp -d /tmp/"$RUN".XXXXXX)
VIP=203.0.113.10:80/tcp
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fails=0
BG=() # pids of background processes this run started

cleanup() {
	local p
	for p in "${BG[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${BG[@]}"; do
		wait "$p" 2>/dev/null
	done
	nsenter --net=/run/netns/"$NS" "$XLB" detach v0 >/dev/null 2>&1
	nsenter --net=/run/netns/"$NS" "$XLB" detach v1 >/dev/null 2>&1
	ip netns del "$NS" 2>/dev/null
	rm -rf "$PIN" "$PIN"-* "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pass() { printf 'PASS %s\n' "$1"; }
fail() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }

# xd DIR ARGS...: xlb with pin directory DIR in the namespace.
xd() {
	local d=$1
	shift
	timeout 30 nsenter --net=/run/netns/"$NS" "$XLB" --pin-dir "$d" "$@"
}
x() { xd "$PIN" "$@"; }

# check NAME CODE WANT CMD...: CMD exits CODE and its stderr contains WANT.
check() {
	local name=$1 code=$2 want=$3 err rc
	shift 3
	err=$("$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" -eq "$code" ] && [[ $err == *"$want"* ]]; then
		pass "$name"
	else
		fail "$name (exit $rc, want $code and '$want': $err)"
	fi
}

ip netns add "$NS" || exit 1
ip -n "$NS" link add v0 index 10 type veth peer name v1 index 11
ip -n "$NS" addr add 192.0.2.1/24 dev v0
ip -n "$NS" link set v0 up
ip -n "$NS" link set v1 up
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

# --- a pin directory someone else made -------------------------------------

"${NOBODY[@]}" mkdir "$PIN-nobody"
check "a pin directory made by nobody is refused by attach" 1 \
	"refusing pin directory $PIN-nobody: $PIN-nobody is owned by uid 65534" \
	xd "$PIN-nobody" attach v0
if [ -z "$(ls -A "$PIN-nobody")" ]; then
	pass "nothing pinned in nobody's directory"
else
	fail "xlb pinned into nobody's directory: $(ls "$PIN-nobody")"
fi
check "a reader refuses it too" 1 "is owned by uid 65534" xd "$PIN-nobody" vip show
# An xlb that adopts such a directory attaches to v0: undo it, so that
# what follows runs on its own (a no-op when refused, as it must be).
x detach v0 >/dev/null 2>&1
mkdir -m 0777 "$PIN-open"
chmod 0777 "$PIN-open"
check "a pin directory others may write is refused" 1 \
	"$PIN-open is writable by others (mode 0777)" xd "$PIN-open" attach v0
x detach v0 >/dev/null 2>&1
mkdir -m 0700 "$PIN-deep" && chown 65534 "$PIN-deep"
check "a parent below the bpffs mount owned by nobody is refused" 1 \
	"$PIN-deep is owned by uid 65534" xd "$PIN-deep/sub" attach v0
x detach v0 >/dev/null 2>&1
[ ! -e "$PIN-deep/sub" ] && pass "nothing made under nobody's parent" ||
	fail "a directory was made under nobody's parent"

# --- symlinks ----------------------------------------------------------------

check "attach" 0 "" x attach v0
check "vip add" 0 "" x vip add "$VIP"
"${NOBODY[@]}" ln -s "$PIN" "$PIN-link"
check "a symlinked pin directory is refused" 1 \
	"refusing pin directory $PIN-link: $PIN-link is a symbolic link" \
	xd "$PIN-link" vip show
check "... by writers as well" 1 "is a symbolic link" \
	xd "$PIN-link" vip add 203.0.113.11:80/tcp
check "the pin directory is made 0700" 0 "" test "$(stat -c %a "$PIN")" = 700

# --- one directory however spelled; bad --pin-dir --------------------------

check "--pin-dir DIR/ is DIR" 0 "" xd "$PIN/" vip show
check "--pin-dir DIR// is DIR" 0 "" xd "$PIN//" vip show
check '--pin-dir "" is refused' 2 '--pin-dir needs a directory' xd "" vip show
check "a relative --pin-dir is refused" 2 "give an absolute path" \
	xd "sys/fs/bpf/$RUN" vip show
check "--pin-dir given twice is refused" 2 "--pin-dir given twice" \
	nsenter --net=/run/netns/"$NS" "$XLB" --pin-dir "$PIN" --pin-dir /sys/fs/bpf/x vip show
check "attach --pin-dir outside bpffs is refused" 1 \
	"pin directory $TMP/a/b is not on a bpf filesystem" xd "$TMP/a/b" attach v1
[ ! -e "$TMP/a" ] && pass "... before any directory is made" ||
	fail "attach outside bpffs made $TMP/a"

# --- the commit lock ---------------------------------------------------------

# Nobody cannot even open root's pin directory to lock it.
if "${NOBODY[@]}" flock -n "$PIN" true 2>/dev/null; then
	fail "nobody can take the lock on $PIN"
else
	pass "nobody cannot take the lock"
fi
# Another holder (as a hung xlb would): writers give up within the bound.
flock --no-fork -n "$PIN" sleep 60 &
HOLDER=$!
BG+=("$HOLDER")
sleep 0.3
t0=$(date +%s%N)
check "vip add while another holds the lock exits 1 naming it" 1 \
	"another xlb holds the lock on $PIN (pid $HOLDER)" \
	x vip add 203.0.113.12:80/tcp
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$ms" -ge 4500 ] && [ "$ms" -lt 9000 ]; then
	pass "... after the default 5 s bound (${ms} ms)"
else
	fail "... after the default 5 s bound (${ms} ms)"
fi
t0=$(date +%s%N)
check "--lock-timeout 1" 1 "gave up after 1000 ms" \
	x --lock-timeout 1 backend add "$VIP" 192.0.2.11
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 3000 ] && pass "... within 1 s (${ms} ms)" || fail "... within 1 s (${ms} ms)"
check "readers do not wait for the lock" 0 "" x vip show
kill "$HOLDER"
wait "$HOLDER" 2>/dev/null
check "the lock free again, vip add works" 0 "" x vip add 203.0.113.12:80/tcp

# --- the daemon's single-instance guard -------------------------------------

# daemon_bg LOG: a daemon on $PIN in the background, its pid in $! (nsenter
# execs xlb: the pid is the daemon's).
daemon_bg() {
	nsenter --net=/run/netns/"$NS" "$XLB" --pin-dir "$PIN" daemon \
		--config "$TMP/xlb.conf" >"$1" 2>&1 &
}
printf 'vips = (\n  { vip = "%s"; backends = (); }\n);\n' "$VIP" >"$TMP/xlb.conf"
# The old guard was the abstract socket name "xlb-daemon:DIR", which anyone
# in the namespace could bind first.
nsenter --net=/run/netns/"$NS" "${NOBODY[@]}" /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(b"\0xlb-daemon:" + sys.argv[1].encode())
time.sleep(60)' "$PIN" &
BG+=("$!")
sleep 0.5
daemon_bg "$TMP/daemon.log"
DPID=$!
BG+=("$DPID")
sleep 1
if kill -0 "$DPID" 2>/dev/null; then
	pass "the daemon starts though nobody holds the old abstract name"
else
	fail "the daemon starts though nobody holds the old abstract name: $(cat "$TMP/daemon.log")"
fi
check "a second daemon is refused, naming the first" 1 \
	"another xlb daemon runs for $PIN (pid $DPID)" x daemon --config "$TMP/xlb.conf"
check "... also through --pin-dir DIR/" 1 "another xlb daemon runs for $PIN" \
	xd "$PIN/" daemon --config "$TMP/xlb.conf"
if "${NOBODY[@]}" flock -n "$PIN/xlb_daemon_lock" true 2>/dev/null; then
	fail "nobody can take the daemon's guard"
else
	pass "nobody cannot take the daemon's guard"
fi
check "the CLI still writes beside the daemon" 0 "" x vip add 203.0.113.13:80/tcp
kill "$DPID"
wait "$DPID" 2>/dev/null
daemon_bg "$TMP/daemon2.log"
DPID=$!
BG+=("$DPID")
sleep 1
kill -0 "$DPID" 2>/dev/null && pass "a daemon starts again once the first ended" ||
	fail "a daemon starts again once the first ended: $(cat "$TMP/daemon2.log")"
kill "$DPID"
wait "$DPID" 2>/dev/null

# --- input that must not be accepted -----------------------------------------

check "--weight with a leading space and a sign that wraps" 2 \
	"invalid --weight ' -18446744073709551615'" \
	x backend add "$VIP" 192.0.2.11 --weight ' -18446744073709551615'
check "--weight ' 5'" 2 "invalid --weight ' 5'" x backend add "$VIP" 192.0.2.11 --weight ' 5'
check "--weight '+5'" 2 "invalid --weight '+5'" x backend add "$VIP" 192.0.2.11 --weight '+5'
check "--weight '5 '" 2 "invalid --weight '5 '" x backend add "$VIP" 192.0.2.11 --weight '5 '
check "--table-size ' 7'" 2 "invalid --table-size ' 7'" x vip add 203.0.113.14:80/tcp --table-size ' 7'
check "top -n ' 3'" 2 "invalid -n ' 3'" x top "$VIP" -n ' 3'
check "attach --flows ' 4096'" 2 "invalid --flows ' 4096'" x attach v0 --flows ' 4096'
check "--lock-timeout -1" 2 "invalid --lock-timeout '-1'" x --lock-timeout -1 vip show
check "backend add --weight twice" 2 "--weight given twice" \
	x backend add "$VIP" 192.0.2.11 --weight 1 --weight 2
check "backend set --state twice" 2 "--state given twice" \
	x backend set "$VIP" 192.0.2.11 --state up --state down
check "vip add --algo twice" 2 "--algo given twice" \
	x vip add 203.0.113.14:80/tcp --algo maglev --algo ring
check "attach --mode twice" 2 "--mode given twice" x attach v1 --mode native --mode generic
x detach v1 >/dev/null 2>&1 # had it been taken
check "top -n twice" 2 "-n given twice" x top "$VIP" -n 1 -n 2
check "simulate --algo twice" 2 "--algo given twice" \
	x simulate "$VIP" del 192.0.2.11 --algo ring --algo maglev
check "daemon --config twice" 2 "--config given twice" \
	x daemon --config "$TMP/xlb.conf" --config "$TMP/xlb.conf"
check "-v twice" 2 "--verbose given twice" x -v -v vip show
out=$(x -j vip show)
if [[ $out != *192.0.2.11* ]] && [[ $out != *203.0.113.14* ]]; then
	pass "refused input changed nothing"
else
	fail "refused input changed the maps: $(x -j vip show)"
fi

# --- read-only views of the pins ---------------------------------------------

# A read-only bind mount of the pin directory in a private mount namespace:
# readers work, writers are refused (bpf_obj_get alone would let them write).
mkdir "$PIN-ro"
out=$(nsenter --net=/run/netns/"$NS" unshare -m bash -c '
	mount --bind "$1" "$2" && mount -o remount,ro,bind "$2" || exit 9
	for c in "vip show" "stats" "table '"$VIP"'" "top '"$VIP"'" "save" \
		"lookup '"$VIP"' 198.18.0.1"; do
		"$3" --pin-dir "$2" $c >/dev/null 2>"$4/err" || {
			echo "reader $c: $(cat "$4/err")"; exit 1; }
	done
	"$3" --pin-dir "$2" vip add 203.0.113.20:80/tcp 2>&1 && exit 2
	exit 0' _ "$PIN" "$PIN-ro" "$XLB" "$TMP" 2>&1)
rc=$?
case "$rc:$out" in
"0:xlb: the pin directory $PIN-ro is read-only here"*)
	pass "read-only bind mount: readers work, writers refused ($out)" ;;
*) fail "read-only bind mount (exit $rc): $out" ;;
esac
check "... and nothing was written through it" 1 "no VIP" x table 203.0.113.20:80/tcp
# A bpffs mounted read-only (its superblock): even opening a map for
# writing fails there, so readers must open read-only.
mkdir "$TMP/bpf"
out=$(nsenter --net=/run/netns/"$NS" unshare -m bash -c '
	mount -t bpf bpf "$1" || exit 9
	"$2" --pin-dir "$1/p" attach v1 >/dev/null || exit 8
	"$2" --pin-dir "$1/p" vip add "$3" || exit 7
	mount -o remount,ro "$1" || exit 6
	"$2" --pin-dir "$1/p" vip show >/dev/null || exit 5
	"$2" --pin-dir "$1/p" stats >/dev/null || exit 4
	"$2" --pin-dir "$1/p" top "$3" >/dev/null || exit 3
	"$2" --pin-dir "$1/p" vip del "$3" && exit 2
	exit 0' _ "$TMP/bpf" "$XLB" "$VIP" 2>&1)
rc=$?
x detach v1 >/dev/null 2>&1
if [ "$rc" -eq 0 ]; then
	pass "read-only bpffs: vip show, stats and top work, vip del refused"
else
	fail "read-only bpffs (exit $rc): $out"
fi

echo "pindir: $fails failed"
[ "$fails" -eq 0 ]
