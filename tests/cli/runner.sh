#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The suite's cleanup check and stale sweep judge only what their own run
# made: names of other software or other runs that appear meanwhile are
# neither failures nor removed; a leak of the run's own is both. Runs
# tests/run.sh on a stand-in build dir whose one "unit test" makes names.
# Everything made is named after this script's pid or its dead children.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
fails=0
pass() { printf 'PASS %s\n' "$1"; }
fail() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }

mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
B=$(mktemp -d /tmp/xr$$.XXXXXX)
dead=$(sh -c 'echo $$') # a pid no process has any more
dead2=$(sh -c 'echo $$')
FOREIGN_NS=other$$sw
FOREIGN_PIN=/sys/fs/bpf/other$$sw
LOOKALIKE=/sys/fs/bpf/xq$dead # another tool's, named like a test's
STALE_HEX=$(printf 'xl%x' "$dead2")
names_del() {
	ip netns del "$FOREIGN_NS" 2>/dev/null
	rm -rf "$FOREIGN_PIN" "$LOOKALIKE" "/sys/fs/bpf/$STALE_HEX" \
		/tmp/"$STALE_HEX".??????
}
trap 'names_del; rm -rf "$B"' EXIT

mkdir -p "$B/tests"
cat >"$B/tests/test_fake" <<EOF2
#!/usr/bin/env bash
# Others' names appear while this run goes on; with LEAK, one of its own.
ip netns add $FOREIGN_NS
mkdir $FOREIGN_PIN $LOOKALIKE
[ -z "\${LEAK:-}" ] || mkdir /sys/fs/bpf/xz\$\$leak
exit 0
EOF2
chmod +x "$B/tests/test_fake"

out=$(cd "$ROOT" && XLB_TEST_BUILD=$B TIERS=unit bash tests/run.sh 2>&1)
rc=$?
if [ "$rc" -eq 0 ]; then
	pass "others' names appearing during a run fail nothing"
else
	fail "others' names appearing during a run (exit $rc): $(printf '%s\n' "$out" | grep -A8 '=== cleanup')"
fi
if ip netns list | grep -qw "$FOREIGN_NS" && [ -d "$FOREIGN_PIN" ] && [ -d "$LOOKALIKE" ]; then
	pass "... and are left alone"
else
	fail "the runner removed names it does not own"
fi
names_del

out=$(cd "$ROOT" && LEAK=1 XLB_TEST_BUILD=$B TIERS=unit bash tests/run.sh 2>&1)
rc=$?
if [ "$rc" -eq 1 ] && [[ $out == *"left behind (removed): pin /sys/fs/bpf/xz"*leak* ]] &&
	! compgen -G "/sys/fs/bpf/xz*leak" >/dev/null; then
	pass "a leak of the run's own fails the cleanup tier and is removed"
else
	fail "a leak of the run's own (exit $rc): $(printf '%s\n' "$out" | grep -A8 '=== cleanup')"
fi
names_del

# lab_sweep_stale: a dead lab run's pin dir goes (its temp dir has lab_init's
# marker); a name that only looks like one stays.
mkdir "/sys/fs/bpf/$STALE_HEX" "$LOOKALIKE"
(cd "$ROOT" && bash -c '. tests/lib.sh && lab_sweep_stale') >/dev/null 2>&1
if [ -d "/sys/fs/bpf/$STALE_HEX" ] && [ -d "$LOOKALIKE" ]; then
	pass "the sweep leaves names without a lab marker alone"
else
	fail "the sweep removed /sys/fs/bpf/$STALE_HEX or $LOOKALIKE (no marker)"
fi
t=$(mktemp -d "/tmp/$STALE_HEX.XXXXXX")
echo "$dead2" >"$t/lab-run"
(cd "$ROOT" && bash -c '. tests/lib.sh && lab_sweep_stale') >/dev/null 2>&1
if [ ! -e "/sys/fs/bpf/$STALE_HEX" ] && [ ! -e "$t" ] && [ -d "$LOOKALIKE" ]; then
	pass "the sweep removes a dead lab run's pin and temp dirs"
else
	fail "the sweep left a dead lab run's /sys/fs/bpf/$STALE_HEX or $t"
fi

echo "runner: $fails failed"
[ "$fails" -eq 0 ]
