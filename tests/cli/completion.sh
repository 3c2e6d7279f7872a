#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# tests/cli/completion.sh - the bash completion (scripts/xlb.bash-completion)
# completes commands, subcommands, options and values, VIPs and backends
# read from `xlb -j vip show` (of a per-run pin directory), and the man
# pages render. Run as root from the repository root.
set -uo pipefail

XLB=${XLB:-$PWD/build/xlb}
RUN=xm$$
PIN=/sys/fs/bpf/$RUN
NS=${RUN}lb
fails=0
pass() { printf 'PASS %s\n' "$1"; }
fail() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }
cleanup() {
	ip netns del "$NS" 2>/dev/null
	rm -rf "$PIN"
}
trap cleanup EXIT INT TERM

if [ ! -r /usr/share/bash-completion/bash_completion ]; then
	echo "SKIP completion: no bash-completion (scripts/deps.sh installs it)"
	exit 0
fi

ip netns add "$NS"
ip -n "$NS" link add v0 index 10 type veth peer name v1 index 11
ip -n "$NS" link set v0 up
ip -n "$NS" link set v1 up
x() { nsenter --net=/run/netns/"$NS" "$XLB" --pin-dir "$PIN" "$@"; }
x attach v0 --src4 192.0.2.1 >/dev/null &&
	x vip add 203.0.113.10:80/tcp && x backend add 203.0.113.10:80/tcp 198.51.100.7 ||
	fail "setting up a VIP"

# complete LINE: the candidates bash would offer for LINE (cursor at end).
complete_line() {
	bash -c '
		. /usr/share/bash-completion/bash_completion
		. scripts/xlb.bash-completion
		xlb() { "$XLB" "$@"; }
		export -f xlb 2>/dev/null
		COMP_LINE=$1
		COMP_POINT=${#COMP_LINE}
		read -ra COMP_WORDS <<<"$COMP_LINE"
		[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_xlb xlb "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"
	' _ "$1" | sort | tr '\n' ' '
}
export XLB
# expect NAME LINE WORD...: every WORD is among the candidates.
expect() {
	local name=$1 line=$2 got w
	shift 2
	got=" $(complete_line "$line")"
	for w in "$@"; do
		if [[ $got != *" $w "* ]]; then
			fail "$name: '$line' offers [$got], not $w"
			return
		fi
	done
	pass "$name"
}
expect "commands" "xlb " attach vip backend status daemon help
expect "vip subcommands" "xlb vip " add del show check
expect "backend options" "xlb --pin-dir $PIN backend set 203.0.113.10:80/tcp 198.51.100.7 --" --weight --state --drain-timeout
expect "option values" "xlb vip add 203.0.113.9:80/tcp --algo " maglev stable
expect "VIPs from vip show" "xlb --pin-dir $PIN lookup " 203.0.113.10:80/tcp
expect "backends of a VIP" "xlb --pin-dir $PIN backend del 203.0.113.10:80/tcp " 198.51.100.7

# The man pages render without warnings.
for m in build/xlb.8 docs/man/xlb.conf.5; do
	if out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$m" 2>&1 >/dev/null) && [ -z "$out" ] &&
		[ "$(MANWIDTH=80 man -l "$m" 2>/dev/null | wc -l)" -gt 40 ]; then
		pass "man -l $m renders"
	else
		fail "man -l $m: $out"
	fi
done
x detach v0 >/dev/null
echo "completion: $fails failed"
[ "$fails" -eq 0 ]
