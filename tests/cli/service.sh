#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The systemd unit: systemd-analyze verify accepts it (pointed at the built
# binary), and it keeps the daemon to the capabilities and file system xlb
# needs. SKIP when systemd-analyze cannot run here. Makes only a temp dir.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
XLB=${XLB:-$ROOT/build/xlb}
UNIT=$ROOT/scripts/xlb.service
fails=0
pass() { printf 'PASS %s\n' "$1"; }
fail() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }

if ! command -v systemd-analyze >/dev/null ||
	! systemd-analyze --version >/dev/null 2>&1; then
	echo "SKIP service: no working systemd-analyze (scripts/deps.sh installs systemd)"
	exit 0
fi
TMP=$(mktemp -d /tmp/xs$$.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
sed "s|/usr/local/sbin/xlb|$XLB|" "$UNIT" >"$TMP/xlb.service"

if ! out=$(cd "$TMP" && systemd-analyze verify ./xlb.service 2>&1); then
	case $out in
	*"Failed to connect"* | *"System has not been booted with systemd"* | *"Failed to initialize manager"*)
		echo "SKIP service: systemd-analyze verify cannot run in this container ($out)"
		exit 0 ;;
	esac
	fail "systemd-analyze verify: $out"
elif [ -n "$out" ]; then
	fail "systemd-analyze verify warns: $out"
else
	pass "systemd-analyze verify accepts the unit"
fi

# want LINE: the unit has this exact setting line.
want() {
	if grep -qxF "$1" "$UNIT"; then pass "unit: $1"; else fail "unit lacks '$1'"; fi
}
want "CapabilityBoundingSet=CAP_BPF CAP_NET_ADMIN CAP_SYS_ADMIN CAP_NET_RAW"
want "NoNewPrivileges=yes"
want "ProtectSystem=strict"
want "ReadWritePaths=/sys/fs/bpf"
want "ProtectHome=yes"
want "PrivateTmp=yes"
want "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK"

# systemd's own judgement of the sandbox, offline (no running manager).
if out=$(cd "$TMP" && systemd-analyze security --offline=true ./xlb.service 2>&1); then
	level=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for xlb.service: \([0-9.]*\).*/\1/p')
	if [ -n "$level" ] && awk -v l="$level" 'BEGIN { exit !(l < 5.0) }'; then
		pass "systemd-analyze security: exposure $level (under 5.0)"
	else
		fail "systemd-analyze security: exposure '${level:-?}' (want under 5.0)"
	fi
else
	echo "SKIP service: systemd-analyze security --offline unavailable"
fi

echo "service: $fails failed"
[ "$fails" -eq 0 ]
