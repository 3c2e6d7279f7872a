#!/usr/bin/env bash
# Install the Debian 12 packages that building, testing and the demo need.
# Idempotent: does nothing when every package is already present.
set -euo pipefail

PKGS=(
	make gcc clang llvm pkg-config
	libbpf-dev libxdp-dev bpftool libelf-dev zlib1g-dev linux-libc-dev
	libjson-c-dev libconfig-dev libcmocka-dev libclang-rt-14-dev
	iproute2 ethtool socat procps util-linux python3-scapy strace
	bird2 frr
	libmicrohttpd-dev libsystemd-dev libcurl4-openssl-dev openssl
	prometheus systemd curl bash-completion groff-base man-db
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages (${missing[*]}); run as root" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
