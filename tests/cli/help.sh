#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# tests/cli/help.sh - every command answers `xlb CMD --help` and `xlb help
# CMD` with its own grammar (exit 0, on stdout); an unknown one is a usage
# error. Needs no privileges and no maps.
set -uo pipefail

XLB=${XLB:-$PWD/build/xlb}
fails=0
pass() { printf 'PASS %s\n' "$1"; }
fail() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }

# The commands `xlb help` lists: the words before the first argument.
mapfile -t cmds < <("$XLB" help | sed -n '/^COMMAND := {/,/^}/p' | sed '1d;$d' |
	awk '{ w = $1; if ($2 ~ /^[a-z]+$/) w = w " " $2; print w }')
[ ${#cmds[@]} -ge 20 ] && pass "xlb help lists ${#cmds[@]} commands" ||
	fail "xlb help lists only ${#cmds[@]} commands"
for c in "${cmds[@]}"; do
	# shellcheck disable=SC2086
	out=$("$XLB" $c --help 2>/dev/null)
	rc=$?
	if [ $rc -eq 0 ] && [[ $out == "Usage: xlb [OPTIONS] $c "* ]]; then
		pass "xlb $c --help"
	else
		fail "xlb $c --help: exit $rc: ${out%%$'\n'*}"
	fi
	# shellcheck disable=SC2086
	if [ "$("$XLB" help $c 2>/dev/null)" = "$out" ]; then
		pass "xlb help $c"
	else
		fail "xlb help $c differs from xlb $c --help"
	fi
done
# Every command the dispatcher knows is in the help: an unknown word is not.
"$XLB" help frobnicate >/dev/null 2>&1
[ $? -eq 2 ] && pass "help of an unknown command: usage error" ||
	fail "help of an unknown command"
out=$("$XLB" lookup 203.0.113.1:80/tcp --help 2>/dev/null)
[[ $out == "Usage: xlb [OPTIONS] lookup "* ]] && pass "--help after arguments" ||
	fail "--help after arguments: $out"
# An option given twice is refused alike in every command (exit 2), before
# anything is opened.
for args in "apply --reseed --reseed -f /nonexistent" "restore --new-src --new-src /x" \
	"stats --watch 1 --watch 2" "node drain --wait --wait" "save --config a --config b" \
	"vip check 203.0.113.1:80/tcp --min-up 1 --min-up 2" "status -j -j"; do
	# shellcheck disable=SC2086
	msg=$("$XLB" --pin-dir /sys/fs/bpf/xh$$-none $args 2>&1 >/dev/null)
	rc=$?
	if [ $rc -eq 2 ] && [[ $msg == "xlb: "*" given twice"* ]]; then
		pass "xlb $args: refused"
	else
		fail "xlb $args: exit $rc: $msg"
	fi
done
out=$("$XLB" --version)
[[ $out =~ ^xlb\ [0-9.]+\ \(commit\ [0-9a-f]+(-dirty)?,\ map\ layout\ [0-9]+\)$ ]] &&
	pass "xlb --version: $out" || fail "xlb --version: $out"
echo "help: $fails failed"
[ "$fails" -eq 0 ]
