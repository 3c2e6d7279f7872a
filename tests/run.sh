#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/run.sh - xlb's whole test suite; `make test` builds everything and
# runs this (as root). Tiers, in order:
#
#   unit     build/tests/test_*, *_test    (cmocka unit and model tests)
#   prog     build/tests/prog_test          (BPF_PROG_TEST_RUN on the XDP program)
#   fuzz     build/tests/fuzz_*             (libFuzzer, short bounded runs)
#   cli      tests/cli/*.sh                 (the xlb command line; crash.sh
#                                           kills writers mid-commit)
#   e2e      tests/e2e/*.sh                 (network namespaces, real traffic)
#   bench    build/tests/bench_xdp, briefly (the benchmark still runs and
#            every case gets its verdict and counters; no figure is judged)
#   cleanup  no namespace or bpffs pin left behind by the run
#
# Every tier runs even if an earlier one failed; each item is bounded by a
# timeout. Prints a heading and PASS/FAIL/SKIP per item and per tier, and
# exits 1 if anything failed. Logs go to build/test-logs/.
#
# Environment:
#   TIERS="unit prog fuzz cli e2e bench"  tiers to run (cleanup always runs)
#   FUZZ_RUNS=20000 FUZZ_TIME=20    libFuzzer -runs / -max_total_time per target
#   V=1                             print every item's full output
set -u
export LC_ALL=C

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
BUILD=${XLB_TEST_BUILD:-$ROOT/build} # another build dir (tests of this runner)
LOGS=$BUILD/test-logs
TIERS=${TIERS:-"unit prog fuzz cli e2e bench"}
FUZZ_RUNS=${FUZZ_RUNS:-20000}
FUZZ_TIME=${FUZZ_TIME:-20}
V=${V:-0}

mkdir -p "$LOGS"
IS_ROOT=0
[ "$(id -u)" -eq 0 ] && IS_ROOT=1

declare -A TIER_RESULT
TIER_ORDER=()
NFAIL=0

say() { printf '%s\n' "$*"; }
heading() { printf '\n=== %s ===\n' "$*"; }

# run_item TIER NAME TIMEOUT CMD... : runs CMD with a timeout, logging to
# build/test-logs/TIER-NAME.log; prints the item's result. e2e and cli
# scripts' own PASS/FAIL/SKIP lines are shown as they come.
run_item() {
	local tier=$1 name=$2 tmo=$3 log rc start secs
	shift 3
	log=$LOGS/$tier-$name.log
	start=$(date +%s)
	# The item runs as the pid that `owned` records (exec keeps it): the
	# names it makes from its pid are this run's.
	set -- bash -c 'echo "$$" >>"$0" && exec "$@"' "$OWNED" "$@"
	if [ "$V" = 1 ]; then
		timeout --kill-after=15 "$tmo" "$@" 2>&1 | tee "$log"
		rc=${PIPESTATUS[0]}
	elif [ "$tier" = e2e ] || [ "$tier" = cli ]; then
		timeout --kill-after=15 "$tmo" "$@" 2>&1 | tee "$log" |
			grep --line-buffered -E '^(PASS|FAIL|SKIP)' | sed -u 's/^/    /'
		rc=${PIPESTATUS[0]}
	else
		timeout --kill-after=15 "$tmo" "$@" >"$log" 2>&1
		rc=$?
	fi
	secs=$(($(date +%s) - start))
	if [ "$rc" -eq 0 ]; then
		say "PASS: $tier/$name (${secs}s)"
		return 0
	fi
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		say "FAIL: $tier/$name (timed out after ${tmo}s; log $log)"
	else
		say "FAIL: $tier/$name (exit $rc, ${secs}s; log $log)"
	fi
	[ "$V" = 1 ] || tail -n 25 "$log" | sed 's/^/    | /'
	return 1
}

# tier_result TIER STATUS(pass|fail|skip) [WHY]
tier_result() {
	TIER_ORDER+=("$1")
	case $2 in
	pass) TIER_RESULT[$1]=PASS ;;
	skip) TIER_RESULT[$1]="SKIP${3:+ ($3)}" ;;
	*)
		TIER_RESULT[$1]=FAIL
		NFAIL=$((NFAIL + 1))
		;;
	esac
	say "${TIER_RESULT[$1]%% *}: tier $1${3:+ - $3}"
}

want() { [[ " $TIERS " == *" $1 "* ]]; }

# binary_tier TIER HEADING TIMEOUT BIN [ARGS...]: a tier of one root-only
# binary, skipped when it is not built or not root.
binary_tier() {
	local tier=$1 title=$2 tmo=$3 bin=$4 st=pass
	shift 4
	heading "$title"
	if [ ! -x "$bin" ]; then
		tier_result "$tier" skip "no ${bin#"$ROOT"/}"
	elif [ "$IS_ROOT" != 1 ]; then
		tier_result "$tier" skip "needs root"
	else
		run_item "$tier" "${bin##*/}" "$tmo" "$bin" "$@" || st=fail
		tier_result "$tier" "$st"
	fi
}

# What exists in the shared places tests write to: namespaces and bpffs.
# libxdp makes /sys/fs/bpf/xdp on first use (its lock, and its dispatchers'
# pins) and shares it with every libxdp user, so the directory itself is
# not a leak; what a test leaves inside it is.
snapshot() {
	{
		ip netns list 2>/dev/null | awk '{print "netns " $1}'
		find /sys/fs/bpf -mindepth 1 -maxdepth 1 ! -path /sys/fs/bpf/xdp \
			2>/dev/null | sed 's/^/pin /'
		find /sys/fs/bpf/xdp -mindepth 1 -maxdepth 1 2>/dev/null |
			sed 's/^/pin /'
	} | sort
}

# Whether a leftover's name is this run's: test scripts and binaries name
# what they make after their own pid (tests/lib.sh: xl<hex pid>[-node];
# others x<letters><decimal pid>..., e.g. xc1234lb, xlbmt1234), and run_item
# records the pid of every item it started in $OWNED. Anything else on the
# machine (other software, another person's run) is not ours to judge.
owned_by_run() {
	local n=${1##*/} p
	if [[ $n =~ ^xl([0-9a-f]{1,7})(-.*)?$ ]]; then
		p=$((16#${BASH_REMATCH[1]}))
		grep -qx "$p" "$OWNED" && return 0
	fi
	if [[ $n =~ ^x[a-z]*([0-9]{1,7}) ]]; then
		p=$((10#${BASH_REMATCH[1]}))
		grep -qx "$p" "$OWNED" && return 0
	fi
	return 1
}

# --- preparation ---------------------------------------------------------------

if [ "$IS_ROOT" = 1 ]; then
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf ||
		say "warning: can't mount bpffs on /sys/fs/bpf"
	# Leftovers of earlier, killed runs of the lab.
	bash -c '. tests/lib.sh && lab_sweep_stale' 2>&1 | sed 's/^/  /'
fi
BEFORE=$(snapshot)
OWNED=$LOGS/owned-pids
: >"$OWNED"

# --- unit ------------------------------------------------------------------------

if want unit; then
	heading "unit tests"
	bins=()
	for b in "$BUILD"/tests/test_* "$BUILD"/tests/*_test; do
		[ -x "$b" ] && [ "${b##*/}" != prog_test ] && bins+=("$b")
	done
	if [ ${#bins[@]} -eq 0 ]; then
		tier_result unit skip "no build/tests/test_* (run make)"
	else
		st=pass
		for b in "${bins[@]}"; do
			[ -x "$b" ] || continue
			run_item unit "${b##*/}" 120 "$b" || st=fail
		done
		tier_result unit "$st"
	fi
fi

# --- prog ------------------------------------------------------------------------

want prog && binary_tier prog "program tests" 300 "$BUILD/tests/prog_test"

# --- fuzz ------------------------------------------------------------------------

if want fuzz; then
	heading "fuzz runs (-runs=$FUZZ_RUNS, at most ${FUZZ_TIME}s each)"
	bins=("$BUILD"/tests/fuzz_*)
	if [ ! -e "${bins[0]}" ]; then
		tier_result fuzz skip "no build/tests/fuzz_* (make fuzz)"
	else
		st=pass
		for b in "${bins[@]}"; do
			[ -x "$b" ] || continue
			n=${b##*/}
			corpus=$BUILD/fuzz-corpus/$n
			arts=$BUILD/fuzz-artifacts
			mkdir -p "$corpus" "$arts"
			seeds=()
			[ -d "tests/fuzz/corpus/$n" ] && seeds=("tests/fuzz/corpus/$n")
			[ -d "tests/fuzz/corpus/${n#fuzz_}" ] && seeds+=("tests/fuzz/corpus/${n#fuzz_}")
			run_item fuzz "$n" $((FUZZ_TIME + 60)) "$b" \
				-runs="$FUZZ_RUNS" -max_total_time="$FUZZ_TIME" \
				-timeout=10 -print_final_stats=1 \
				-artifact_prefix="$arts/$n-" "$corpus" "${seeds[@]}" || st=fail
		done
		tier_result fuzz "$st"
	fi
fi

# --- cli -------------------------------------------------------------------------

if want cli; then
	heading "CLI tests"
	scripts=(tests/cli/*.sh)
	if [ ! -e "${scripts[0]}" ]; then
		tier_result cli skip "no tests/cli/*.sh"
	elif [ "$IS_ROOT" != 1 ]; then
		tier_result cli skip "needs root"
	else
		st=pass
		for s in "${scripts[@]}"; do
			n=${s##*/}
			run_item cli "${n%.sh}" 900 bash "$s" || st=fail
		done
		tier_result cli "$st"
	fi
fi

# --- e2e -------------------------------------------------------------------------

if want e2e; then
	heading "end-to-end tests"
	scripts=(tests/e2e/*.sh)
	if [ ! -e "${scripts[0]}" ]; then
		tier_result e2e skip "no tests/e2e/*.sh"
	elif [ "$IS_ROOT" != 1 ]; then
		tier_result e2e skip "needs root"
	elif [ ! -x "$BUILD/xlb" ]; then
		say "FAIL: e2e needs build/xlb (run make)"
		tier_result e2e fail
	else
		st=pass
		for s in "${scripts[@]}"; do
			n=${s##*/}
			run_item e2e "${n%.sh}" 600 bash "$s" || st=fail
		done
		tier_result e2e "$st"
	fi
fi

# --- bench ---------------------------------------------------------------------

# bench_xdp exits 1 when a case saw another verdict or counter than its own.
want bench && binary_tier bench "benchmark smoke run (figures not judged)" \
	300 "$BUILD/tests/bench_xdp" -r 1 -n 500 -R 1 -l 100000

# --- cleanup check -----------------------------------------------------------------

heading "cleanup"
left=$(comm -13 <(printf '%s\n' "$BEFORE") <(snapshot))
if [ -n "$left" ]; then
	sleep 1 # let asynchronous teardown finish
	left=$(comm -13 <(printf '%s\n' "$BEFORE") <(snapshot))
fi
# What is new and named after one of this run's items is a leak: removed,
# and the tier fails. What is new but not ours (other software, another
# run beside this one) is only mentioned: never removed, never a failure.
leaks=0
while read -r kind what; do
	[ -n "$what" ] || continue
	if owned_by_run "$what"; then
		if [ "$kind" = netns ]; then
			ip netns pids "$what" 2>/dev/null | xargs -r kill 2>/dev/null
			ip netns del "$what" 2>/dev/null
		else
			rm -rf "$what"
		fi
		say "  left behind (removed): $kind $what"
		leaks=$((leaks + 1))
	else
		say "  (not made by this run, left alone: $kind $what)"
	fi
done <<<"$left"
if [ "$leaks" -eq 0 ]; then
	tier_result cleanup pass "no namespace or pin left behind"
else
	tier_result cleanup fail "tests left $leaks namespaces or pins behind"
fi

# --- summary --------------------------------------------------------------------

heading "summary"
for t in "${TIER_ORDER[@]}"; do
	printf '  %-8s %s\n' "$t" "${TIER_RESULT[$t]}"
done
if [ "$NFAIL" -gt 0 ]; then
	say "FAILED: $NFAIL tier(s)"
	exit 1
fi
say "ALL PASSED"
