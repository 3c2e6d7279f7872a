#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - `make bench`: runs every benchmark binary in build/tests/, the
# data-path benchmark (bench_xdp) first, each under a heading. A missing or
# failing benchmark is reported and the others still run; the exit status
# is non-zero if any of them could not run. Then every tests/bench/bench_*.sh
# script (lab benchmarks, root only), each under a heading and a time limit.
#
#   BUILD=dir      build directory (default: build)
#   BENCH_ARGS=..  extra arguments for bench_xdp (e.g. "-L -r 3")
#   V=1            print each command before running it
#   SCRIPT_TIMEOUT=s  time limit per bench_*.sh script (default 300)

set -u

cd "$(dirname "$0")/../.." || exit 2
BUILD=${BUILD:-build}
BIN=$BUILD/tests
BENCH_ARGS=${BENCH_ARGS:-}
failed=()
ran=0

heading() {
	printf '\n==== %s ====\n\n' "$1"
}

run_one() {
	local bin=$1 name rc
	shift
	name=$(basename "$bin")
	heading "$name"
	if [[ ! -x $bin ]]; then
		echo "$name: not built ($bin missing); skipped"
		failed+=("$name (not built)")
		return
	fi
	[[ ${V:-0} == 1 ]] && echo "+ $bin $*"
	"$bin" "$@"
	rc=$?
	ran=$((ran + 1))
	if ((rc != 0)); then
		echo "$name: exited with status $rc"
		failed+=("$name (status $rc)")
	fi
}

if ((EUID != 0)); then
	echo "bench: the data-path benchmark loads XDP programs and creates a" \
		"network namespace: run as root" >&2
fi

# shellcheck disable=SC2086 # BENCH_ARGS is a list of words on purpose
run_one "$BIN/bench_xdp" $BENCH_ARGS

shopt -s nullglob
for bin in "$BIN"/bench_*; do
	[[ $(basename "$bin") == bench_xdp ]] && continue
	[[ -f $bin && -x $bin ]] || continue
	case $bin in *.o | *.d | *.txt | *.log) continue ;; esac
	run_one "$bin"
done

# Scripts: namespace labs, as root; xlb from $BUILD.
XLB=${XLB:-$(cd "$BUILD" 2>/dev/null && pwd)/xlb}
export XLB
for script in tests/bench/bench_*.sh; do
	name=$(basename "$script")
	heading "$name"
	if ((EUID != 0)); then
		echo "$name: needs root; skipped"
		failed+=("$name (not root)")
		continue
	fi
	[[ ${V:-0} == 1 ]] && echo "+ bash $script"
	timeout -k 10 "${SCRIPT_TIMEOUT:-300}" bash "$script"
	rc=$?
	ran=$((ran + 1))
	if ((rc != 0)); then
		echo "$name: exited with status $rc"
		failed+=("$name (status $rc)")
	fi
done

echo
if ((${#failed[@]})); then
	echo "bench: ${#failed[@]} did not complete: ${failed[*]}"
	exit 1
fi
echo "bench: $ran benchmark(s) ran"
exit 0
