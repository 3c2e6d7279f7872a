#!/usr/bin/env bash
# Builds and runs the data-path program tests and the packet fuzz (root).
#   tests/prog/run.sh                 all tests, TAP, one line per test
#   tests/prog/run.sh fuzz 5000000    fuzz only (seed printed; --seed S replays)
#   tests/prog/run.sh -f 'flow*'      a subset; -v shows libbpf/verifier output
# XLB_STRICT=1 turns the expected failures (known program bugs) into failures.
set -euo pipefail
cd "$(dirname "$0")/../.."
make -s build/tests/prog_test
exec build/tests/prog_test "$@"
