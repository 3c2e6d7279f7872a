# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/lib.sh - shared helpers for xlb's network-namespace tests and demo.
# Source it from bash (as root):
#
#	. "$(dirname "$0")/../lib.sh"
#	lab_init                  # per-run prefix, temp dir, pin dir, traps
#	lab_setup                 # the standard lab (below)
#	lab_lb_attach             # xlb attach on the LB's interface
#	lab_xlb vip add 203.0.113.10:80/tcp
#	lab_xlb backend add 203.0.113.10:80/tcp 192.0.2.11
#	printf '%s\n' "${LAB_SRC4[@]:0:20}" |
#		lab_connect 203.0.113.10 80 --rounds 3   # "SRC be2 be2 be2" lines
#
# Everything a run creates (namespaces, processes started in them, the pin
# directory /sys/fs/bpf/$LAB_PREFIX, the temp dir) is removed on EXIT, INT
# and TERM. lib.sh owns those traps: register your own cleanup with
# `lab_on_exit CMD...` instead of calling `trap`.
#
# The standard lab (lab_setup). One Ethernet segment, a bridge in the
# switch namespace; backends answer clients directly (DSR):
#
#	client  eth0 192.0.2.100 2001:db8:1::100  + sources LAB_SRC4 / LAB_SRC6
#	        routes 203.0.113.0/24 and 2001:db8:f::/64 (the VIPs) via the LB
#	lb      eth0 192.0.2.1   2001:db8:1::1    xlb attaches here, XDP_TX
#	b1..b3  eth0 192.0.2.1N  2001:db8:1::1N   (N = 1..3), xlb decap on eth0,
#	        VIPs 203.0.113.10-19 and 2001:db8:f::10-19 on lo, routes back
#	        to 198.18.0.0/15 and 2001:db8:c::/64 via the client
#	sw      br0 with ports p-c, p-lb, p-b1..p-b3 (bridge netfilter off)
#
# Interfaces inside the nodes are all called eth0 (LAB_DEV). XDP_TX out of
# a veth reaches the peer only if the peer runs a native XDP program, so
# the LB's bridge port p-lb gets a trivial native XDP_PASS program
# (compiled from a heredoc here; `xlb decap` could not be used there since
# it refuses an interface without addresses; it accepts multi-buffer
# frames, as xlb does, for jumbo MTUs). Links toward the LB and the
# backends have MTU 1600 (LAB_MTU) so encapsulated full-size frames pass;
# the client's eth0 stays at 1500 (LAB_CLIENT_MTU) and has TX checksum
# offload off (XDP_TX'd CHECKSUM_PARTIAL packets would arrive with bad
# checksums otherwise).
# lab_setup ends by making the LB resolve its neighbours for every backend
# (lab_prime_neigh): xlb's bpf_fib_lookup never triggers resolution, and
# without an entry the data path drops (drop_no_neigh).
#
# Each backend runs a small Python server (LAB_PORTS, TCP and UDP, dual
# stack): "GET /health" gets HTTP 200 (503 after `lab_backend_health N
# down`), any other HTTP GET gets 200 with the backend's name as body,
# "SINK N" then N bytes gets "NAME N", any other line (or EOF) gets the name
# and a newline; a UDP datagram gets the name back.
#
# Commands that touch pinned BPF objects must run with nsenter (lab_ns,
# lab_xlb), never `ip netns exec` / `ip -n`, which remount /sys and hide
# /sys/fs/bpf. Within nsenter, /sys/class/net still shows the root
# namespace: ask netlink (`ip -j link show DEV`) for interface facts.

# ---------------------------------------------------------------------------
# Configuration (override before lab_init/lab_setup if needed).

LAB_ROOT=${LAB_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
XLB=${XLB:-$LAB_ROOT/build/xlb}
LAB_PY=${LAB_PY:-/usr/bin/python3} # Debian's python (scapy lives there)
LAB_NCLIENTS=${LAB_NCLIENTS:-200}  # source addresses per family on the client
LAB_PORTS=${LAB_PORTS:-"80 8080"}  # ports every backend server listens on
# shellcheck disable=SC2034 # for scripts sourcing this file
LAB_NBE=3                          # backends b1..b3
LAB_DEV=eth0                       # node-side interface in every namespace
LAB_MTU=${LAB_MTU:-1600}           # LB, backend and bridge links
LAB_CLIENT_MTU=${LAB_CLIENT_MTU:-1500} # the client's eth0

LAB_LB4=192.0.2.1
LAB_LB6=2001:db8:1::1
LAB_CLIENT4=192.0.2.100
LAB_CLIENT6=2001:db8:1::100
LAB_BE4=(192.0.2.11 192.0.2.12 192.0.2.13)
LAB_BE6=(2001:db8:1::11 2001:db8:1::12 2001:db8:1::13)
LAB_BE_NAMES=(be1 be2 be3)   # what each backend's server answers
LAB_VIP4_NET=203.0.113.0/24  # routed to the LB by the client
LAB_VIP6_NET=2001:db8:f::/64
LAB_VIP4S=(203.0.113.10 203.0.113.11 203.0.113.12 203.0.113.13 203.0.113.14
	203.0.113.15 203.0.113.16 203.0.113.17 203.0.113.18 203.0.113.19)
LAB_VIP6S=(2001:db8:f::10 2001:db8:f::11 2001:db8:f::12 2001:db8:f::13
	2001:db8:f::14 2001:db8:f::15 2001:db8:f::16 2001:db8:f::17
	2001:db8:f::18 2001:db8:f::19)
LAB_SRC4_NET=198.18.0.0/15
LAB_SRC6_NET=2001:db8:c::/64
LAB_SRC4=() # filled by lab_init: 198.18.0.1 ... (LAB_NCLIENTS of them)
LAB_SRC6=() # 2001:db8:c::1 ...

# Set by lab_init.
LAB_PREFIX=   # "xl<pid in hex>", unique while this run lives
LAB_TMP=      # per-run temp dir (logs, pid files, scripts)
LAB_PIN_DIR=  # /sys/fs/bpf/$LAB_PREFIX, pass as xlb --pin-dir
LAB_NAMESPACES=() # full names of the namespaces this run created
_LAB_EXIT_HOOKS=()
_LAB_CLEANED=0

# ---------------------------------------------------------------------------
# Messages and results.

lab_log() { printf '[lab] %s\n' "$*" >&2; }
lab_die() {
	printf '[lab] ERROR: %s\n' "$*" >&2
	exit 1
}

# Per-case results, in one format for every test script.
LAB_NPASS=0
LAB_NFAIL=0
LAB_NSKIP=0
lab_pass() {
	LAB_NPASS=$((LAB_NPASS + 1))
	printf 'PASS: %s\n' "$*"
}
lab_fail() {
	LAB_NFAIL=$((LAB_NFAIL + 1))
	printf 'FAIL: %s\n' "$*"
}
lab_skip() {
	LAB_NSKIP=$((LAB_NSKIP + 1))
	printf 'SKIP: %s\n' "$*"
}
# Checks a condition: lab_check NAME CMD... -> PASS/FAIL line, status of CMD.
lab_check() {
	local name=$1
	shift
	if "$@"; then
		lab_pass "$name"
	else
		lab_fail "$name"
		return 1
	fi
}
# Prints the totals; returns 1 if anything failed.
lab_summary() {
	printf '%d passed, %d failed, %d skipped\n' "$LAB_NPASS" "$LAB_NFAIL" \
		"$LAB_NSKIP"
	[ "$LAB_NFAIL" -eq 0 ]
}

# ---------------------------------------------------------------------------
# Bounded waiting.

# lab_wait SECONDS CMD... : runs CMD every 0.05 s until it succeeds; 1 on
# timeout. CMD's output is discarded.
lab_wait() {
	local secs=$1 end
	shift
	end=$(($(date +%s%N) + secs * 1000000000))
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -lt "$end" ] || return 1
		sleep 0.05
	done
	return 0
}

# ---------------------------------------------------------------------------
# Run setup and cleanup.

lab_require_root() {
	[ "$(id -u)" -eq 0 ] || lab_die "needs root"
}

# Mounts bpffs on /sys/fs/bpf if nothing is mounted there.
lab_mount_bpffs() {
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
}

# lab_init: prefix, temp dir, pin dir name, client source lists and the
# cleanup traps. Call once, before creating anything.
lab_init() {
	local i
	[ -z "$LAB_PREFIX" ] || return 0
	lab_require_root
	lab_mount_bpffs || lab_die "can't mount bpffs"
	LAB_PREFIX=$(printf 'xl%x' $$)
	LAB_TMP=$(mktemp -d "/tmp/$LAB_PREFIX.XXXXXX") || lab_die "mktemp failed"
	LAB_PIN_DIR=/sys/fs/bpf/$LAB_PREFIX
	: >"$LAB_TMP/pids"
	# What lab_sweep_stale trusts: only a prefix with this marker is ours.
	echo "$$" >"$LAB_TMP/lab-run"
	LAB_SRC4=()
	LAB_SRC6=()
	for ((i = 1; i <= LAB_NCLIENTS; i++)); do
		LAB_SRC4+=("198.18.$((i / 250)).$((i % 250 + 1))")
		LAB_SRC6+=("$(printf '2001:db8:c::%x' "$i")")
	done
	trap lab_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# lab_on_exit CMD... : run CMD during cleanup (last registered runs first),
# before namespaces and pins are removed. Its stderr is discarded.
lab_on_exit() {
	local q
	printf -v q '%q ' "$@"
	_LAB_EXIT_HOOKS=("$q" "${_LAB_EXIT_HOOKS[@]}")
}

# Records a pid to be killed at cleanup.
lab_track_pid() { echo "$1" >>"$LAB_TMP/pids"; }

# Removes everything this run created. Safe to call more than once.
lab_cleanup() {
	local rc=$? h pid ns
	[ "$_LAB_CLEANED" -eq 0 ] || return "$rc"
	_LAB_CLEANED=1
	trap - INT TERM
	for h in "${_LAB_EXIT_HOOKS[@]}"; do
		eval "$h" 2>/dev/null || true
	done
	# Processes started in our namespaces (servers, clients, daemons).
	if [ -n "$LAB_TMP" ] && [ -f "$LAB_TMP/pids" ]; then
		while read -r pid; do
			[ -n "$pid" ] && kill "$pid" 2>/dev/null
		done <"$LAB_TMP/pids"
	fi
	for ns in "${LAB_NAMESPACES[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill "$pid" 2>/dev/null
		done
	done
	for ns in "${LAB_NAMESPACES[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			lab_wait 2 _lab_gone "$pid" || kill -9 "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	LAB_NAMESPACES=()
	if [ -n "$LAB_PIN_DIR" ] && [ -d "$LAB_PIN_DIR" ]; then
		rm -rf "$LAB_PIN_DIR"
	fi
	if [ -n "$LAB_TMP" ] && [ -d "$LAB_TMP" ]; then
		rm -rf "$LAB_TMP"
	fi
	return "$rc"
}
_lab_gone() { ! kill -0 "$1" 2>/dev/null; }

# Whether pid is neither this shell nor a live process.
_lab_pid_dead() { [ "$1" -ne $$ ] && ! kill -0 "$1" 2>/dev/null; }

# Removes what dead lab runs left: for each temp dir /tmp/xl<hex pid>.XXXXXX
# holding lab_init's marker (lab-run) whose pid no longer exists, the
# namespaces "xl<hex pid>-*", the pin dir /sys/fs/bpf/xl<hex pid> and the
# temp dir. A name without such a marker is not the lab's, however it looks
# (another tool's /sys/fs/bpf/xlbad, or xlb's own /sys/fs/bpf/xlb), and is
# never touched; runs still alive are left alone. The suite runner calls this.
lab_sweep_stale() {
	local t pfx pid ns p
	for t in /tmp/xl*.??????; do
		[ -d "$t" ] && [ ! -L "$t" ] && [ -O "$t" ] && [ -f "$t/lab-run" ] || continue
		pfx=${t##*/}
		# A pid has at most 7 hex digits (pid_max <= 2^22).
		[[ $pfx =~ ^xl([0-9a-f]{1,7})\.[A-Za-z0-9]{6}$ ]] || continue
		pid=$((16#${BASH_REMATCH[1]}))
		[ "$(cat "$t/lab-run" 2>/dev/null)" = "$pid" ] || continue
		_lab_pid_dead "$pid" || continue
		pfx=xl${BASH_REMATCH[1]}
		for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
			[[ $ns == "$pfx"-* ]] || continue
			for p in $(ip netns pids "$ns" 2>/dev/null); do
				kill "$p" 2>/dev/null
			done
			ip netns del "$ns" 2>/dev/null && lab_log "removed stale namespace $ns"
		done
		if [ -d "/sys/fs/bpf/$pfx" ]; then
			rm -rf "/sys/fs/bpf/$pfx" && lab_log "removed stale pin dir /sys/fs/bpf/$pfx"
		fi
		rm -rf "$t"
	done
}

# ---------------------------------------------------------------------------
# Namespaces, links, bridges.

# Full name of a namespace of this run: lab_nsname lb -> xl1a2b-lb.
lab_nsname() { printf '%s-%s' "$LAB_PREFIX" "$1"; }

# lab_ns NAME CMD... : runs CMD in the run's namespace NAME (short name)
# with nsenter, which keeps /sys/fs/bpf visible.
lab_ns() {
	local ns
	ns=$(lab_nsname "$1")
	shift
	nsenter --net="/run/netns/$ns" -- "$@"
}

# lab_ns_add NAME : creates namespace NAME with lo up, no IPv6 DAD and no
# reverse-path filtering.
lab_ns_add() {
	local ns
	ns=$(lab_nsname "$1")
	ip netns add "$ns" || lab_die "can't create namespace $ns"
	LAB_NAMESPACES+=("$ns")
	ip -n "$ns" link set lo up
	lab_ns "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv6.conf.default.accept_ra=0 >/dev/null
}

# lab_veth NS_A DEV_A IDX_A NS_B DEV_B IDX_B [MTU_A [MTU_B]] : a veth pair
# with explicit ifindexes (a fresh namespace may otherwise give both ends
# the same index, leaving one DOWN for a second), both ends up.
lab_veth() {
	local na nb
	na=$(lab_nsname "$1")
	nb=$(lab_nsname "$4")
	ip link add "$2" netns "$na" index "$3" mtu "${7:-1500}" type veth \
		peer name "$5" netns "$nb" index "$6" mtu "${8:-${7:-1500}}" ||
		lab_die "can't create veth $1/$2 - $4/$5"
	ip -n "$na" link set "$2" up
	ip -n "$nb" link set "$5" up
}

# lab_link_up NS DEV : succeeds when DEV's operstate is UP.
lab_link_up() {
	ip -n "$(lab_nsname "$1")" -j link show dev "$2" 2>/dev/null |
		grep -q '"operstate":"UP"'
}

# lab_wait_up NS DEV [SECONDS] : waits (default 5 s) until DEV is UP.
lab_wait_up() {
	lab_wait "${3:-5}" lab_link_up "$1" "$2" ||
		lab_die "link $1/$2 not UP after ${3:-5}s"
}

# lab_ifindex NS DEV : DEV's ifindex, from netlink.
lab_ifindex() {
	ip -n "$(lab_nsname "$1")" -j link show dev "$2" |
		sed -n 's/.*"ifindex":\([0-9]*\).*/\1/p'
}

# lab_bridge_add NS BR [IDX] : a bridge without STP, multicast snooping or
# bridge netfilter (which would silently drop malformed frames).
lab_bridge_add() {
	local ns
	ns=$(lab_nsname "$1")
	ip -n "$ns" link add "$2" ${3:+index "$3"} type bridge stp_state 0 \
		mcast_snooping 0 forward_delay 0 || lab_die "can't create bridge"
	lab_ns "$1" sysctl -qw net.bridge.bridge-nf-call-iptables=0 \
		net.bridge.bridge-nf-call-ip6tables=0 \
		net.bridge.bridge-nf-call-arptables=0 >/dev/null 2>&1 || true
	ip -n "$ns" link set "$2" up
}

# lab_bridge_port NS BR DEV : enslaves DEV to BR.
lab_bridge_port() {
	ip -n "$(lab_nsname "$1")" link set "$3" master "$2" up ||
		lab_die "can't add $3 to $2"
}

# lab_xdp_pass NS DEV : a native XDP program returning XDP_PASS on DEV,
# so frames XDP_TX'd by DEV's veth peer are received. Loaded with bpftool
# under the lab's pin directory and unpinned once attached: iproute2's own
# loader would create its tc/xdp directories in /sys/fs/bpf, which outlive
# the lab.
lab_xdp_pass() {
	local obj=$LAB_TMP/xdp_pass.o pin=$LAB_PIN_DIR/pass-$1-$2
	if [ ! -f "$obj" ]; then
		cat >"$LAB_TMP/xdp_pass.c" <<'EOF'
#include <linux/bpf.h>
__attribute__((section("xdp.frags"), used)) int lab_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}
char _license[] __attribute__((section("license"), used)) = "GPL";
EOF
		${CLANG:-clang} -O2 -g -target bpf \
			-I"/usr/include/$(uname -m)-linux-gnu" \
			-c "$LAB_TMP/xdp_pass.c" -o "$obj" ||
			lab_die "can't compile the XDP pass program"
	fi
	mkdir -p "$LAB_PIN_DIR" && bpftool prog load "$obj" "$pin" ||
		lab_die "can't load the XDP pass program"
	lab_ns "$1" bpftool net attach xdpdrv pinned "$pin" dev "$2" ||
		lab_die "can't attach XDP pass on $1/$2"
	rm -f "$pin"
}

# ---------------------------------------------------------------------------
# The standard lab.

# Writes the backend server and the client into $LAB_TMP.
_lab_write_scripts() {
	cat >"$LAB_TMP/server.py" <<'EOF'
# server.py NAME UNHEALTHY_FLAG_FILE PORT... : the lab's backend server.
import os, socket, socketserver, sys, threading

name, flag, ports = sys.argv[1], sys.argv[2], [int(p) for p in sys.argv[3:]]
reply = (name + "\n").encode()


def http(code, body):
    reason = {200: "OK", 503: "Service Unavailable"}[code]
    return (f"HTTP/1.0 {code} {reason}\r\nContent-Type: text/plain\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            f"{body}").encode()


class TCP(socketserver.StreamRequestHandler):
    timeout = 3

    def handle(self):
        try:
            line = self.rfile.readline(1024)
        except OSError:
            line = b""
        if line.startswith(b"SINK "):
            want, got = int(line.split()[1]), 0
            try:
                while got < want:
                    b = self.rfile.read1(min(65536, want - got))
                    if not b:
                        break
                    got += len(b)
            except OSError:
                pass
            out = f"{name} {got}\n".encode()
        elif line.startswith(b"GET /health"):
            out = http(503, "down\n") if os.path.exists(flag) else http(200, "ok\n")
        elif line.startswith(b"GET "):
            out = http(200, name + "\n")
        else:
            out = reply
        try:
            self.wfile.write(out)
        except OSError:
            pass


class UDP(socketserver.BaseRequestHandler):
    def handle(self):
        self.request[1].sendto(reply, self.client_address)


class Dual:
    address_family = socket.AF_INET6
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 512

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


class TCPServer(Dual, socketserver.ThreadingTCPServer):
    pass


class UDPServer(Dual, socketserver.ThreadingUDPServer):
    pass


servers = [TCPServer(("::", p), TCP) for p in ports]
servers += [UDPServer(("::", p), UDP) for p in ports]
for s in servers[1:]:
    threading.Thread(target=s.serve_forever, daemon=True).start()
servers[0].serve_forever()
EOF
	cp "$LAB_ROOT/tests/who.py" "$LAB_TMP/who.py"
	cat >"$LAB_TMP/client.py" <<'EOF'
# client.py HOST PORT ROUNDS PARALLEL TIMEOUT PROTO SINK SPORT < sources
# One connection per (source, round), each bound to its source address;
# prints "SRC R1 R2 ..." per source, Ri being the backend's answer or
# ERR:<reason>. SINK > 0: upload that many bytes first (TCP), the backend
# must confirm the count. SPORT > 0 (UDP): round r uses source port
# SPORT + r instead of an ephemeral one, so callers can keep 5-tuples of
# different phases apart (a reused one would find its old flow entry).
import socket, sys
from concurrent.futures import ThreadPoolExecutor
from who import ask, error

host, port, rounds, par, tmo, proto, sink, sport = sys.argv[1:9]
port, rounds, par, tmo, sink = int(port), int(rounds), int(par), float(tmo), int(sink)
sport = int(sport)
srcs = [l.strip() for l in sys.stdin if l.strip()]
fam = socket.AF_INET6 if ":" in host else socket.AF_INET


def one(src, r):
    try:
        if proto == "udp":
            s = socket.socket(fam, socket.SOCK_DGRAM)
            s.settimeout(tmo)
            s.bind((src, sport + r if sport else 0))
            s.sendto(b"who\n", (host, port))
            out = s.recv(256).decode(errors="replace").split()
            s.close()
        else:
            out = ask(host, port, src, tmo, sink)
        if not out:
            return "ERR:empty"
        if sink and out[1:2] != [str(sink)]:
            return "ERR:short_upload_" + "_".join(out[1:2])
        return out[0]
    except OSError as e:
        return error(e)


res = {s: [] for s in srcs}
with ThreadPoolExecutor(max_workers=par) as ex:
    for r in range(rounds):
        for s, out in zip(srcs, ex.map(one, srcs, [r] * len(srcs))):
            res[s].append(out)
for s in srcs:
    print(s, " ".join(res[s]))
EOF
}

# lab_backend_addr N: backend bN's addresses, the VIPs on its lo, the direct
# server return sysctls and its routes back to the clients.
lab_backend_addr() {
	local i=$1 ns b
	ns=$(lab_nsname "b$i")
	{
		echo "address add ${LAB_BE4[i - 1]}/24 dev $LAB_DEV"
		echo "address add ${LAB_BE6[i - 1]}/64 dev $LAB_DEV nodad"
		for b in "${LAB_VIP4S[@]}"; do
			echo "address add $b/32 dev lo"
		done
		for b in "${LAB_VIP6S[@]}"; do
			echo "address add $b/128 dev lo nodad"
		done
		echo "route add $LAB_SRC4_NET via $LAB_CLIENT4"
		echo "route add $LAB_SRC6_NET via $LAB_CLIENT6"
	} | ip -n "$ns" -batch - || lab_die "backend b$i addressing failed"
	lab_ns "b$i" sysctl -qw net.ipv4.conf.all.arp_ignore=1 \
		net.ipv4.conf.all.arp_announce=2 \
		"net.ipv4.conf.$LAB_DEV.arp_ignore=1" \
		"net.ipv4.conf.$LAB_DEV.arp_announce=2" \
		net.ipv4.conf.all.rp_filter=0 \
		"net.ipv4.conf.$LAB_DEV.rp_filter=0" \
		net.ipv4.conf.lo.rp_filter=0 >/dev/null
}

# lab_setup : builds the standard lab (see the top of this file). Needs
# build/xlb (for `xlb decap`) and clang (for the pass program).
lab_setup() {
	local i n ns b
	lab_init
	[ -x "$XLB" ] || lab_die "$XLB not built"
	_lab_write_scripts
	for n in sw c lb b1 b2 b3; do
		lab_ns_add "$n"
	done
	lab_bridge_add sw br0 100
	lab_veth c "$LAB_DEV" 10 sw p-c 101 "$LAB_CLIENT_MTU" "$LAB_MTU"
	lab_veth lb "$LAB_DEV" 10 sw p-lb 102 "$LAB_MTU"
	for i in 1 2 3; do
		lab_veth "b$i" "$LAB_DEV" 10 sw "p-b$i" $((102 + i)) "$LAB_MTU"
	done
	for b in p-c p-lb p-b1 p-b2 p-b3; do
		lab_bridge_port sw br0 "$b"
	done

	# Client: its segment address, the sources, routes to the VIPs.
	ns=$(lab_nsname c)
	{
		echo "address add $LAB_CLIENT4/24 dev $LAB_DEV"
		echo "address add $LAB_CLIENT6/64 dev $LAB_DEV nodad"
		for i in "${LAB_SRC4[@]}"; do
			echo "address add $i/32 dev $LAB_DEV"
		done
		for i in "${LAB_SRC6[@]}"; do
			echo "address add $i/128 dev $LAB_DEV nodad"
		done
		echo "route add $LAB_VIP4_NET via $LAB_LB4"
		echo "route add $LAB_VIP6_NET via $LAB_LB6"
	} | ip -n "$ns" -batch - || lab_die "client addressing failed"
	lab_ns c ethtool -K "$LAB_DEV" tx off >/dev/null ||
		lab_die "can't turn TX checksum offload off on the client"

	# Load balancer.
	ns=$(lab_nsname lb)
	printf '%s\n' "address add $LAB_LB4/24 dev $LAB_DEV" \
		"address add $LAB_LB6/64 dev $LAB_DEV nodad" |
		ip -n "$ns" -batch - || lab_die "LB addressing failed"

	# Backends: addresses, VIPs on lo, DSR sysctls, routes to the client.
	for i in 1 2 3; do
		lab_backend_addr "$i"
	done

	for n in c lb b1 b2 b3; do
		lab_wait_up "$n" "$LAB_DEV"
	done
	for b in p-c p-lb p-b1 p-b2 p-b3; do
		lab_wait_up sw "$b"
	done

	# XDP_TX from the LB's eth0 must be received by its bridge port.
	lab_xdp_pass sw p-lb
	for i in 1 2 3; do
		lab_ns "b$i" "$XLB" decap attach "$LAB_DEV" \
			--from "$LAB_LB4" --from "$LAB_LB6" >/dev/null ||
			lab_die "xlb decap attach failed on b$i"
		lab_backend_start "$i"
	done
	for i in 1 2 3; do
		lab_wait 5 _lab_listening "$i" ||
			lab_die "backend b$i server not listening"
	done
	lab_prime_neigh
}

# lab_prime_neigh : resolves the LB's neighbour entries for every backend
# (IPv4 and IPv6). xlb's data path uses bpf_fib_lookup, which never
# triggers resolution itself: without an entry it drops (drop_no_neigh).
# Call it again after anything that flushes the LB's neighbours.
lab_prime_neigh() {
	local i
	for i in 0 1 2; do
		_lab_poke "${LAB_BE4[i]}"
		_lab_poke "${LAB_BE6[i]}"
	done
	for i in 0 1 2; do
		lab_wait 3 _lab_neigh_ok "${LAB_BE4[i]}" ||
			lab_die "LB has no neighbour entry for ${LAB_BE4[i]}"
		lab_wait 3 _lab_neigh_ok "${LAB_BE6[i]}" ||
			lab_die "LB has no neighbour entry for ${LAB_BE6[i]}"
	done
}
# A UDP datagram from the LB to port 9 (discard) makes the kernel resolve
# the address (no ping in the Debian package set).
_lab_poke() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	lab_ns lb bash -c 'echo >"/dev/udp/$1/9"' _ "$1" 2>/dev/null
}
_lab_neigh_ok() {
	_lab_poke "$1"

	ip -n "$(lab_nsname lb)" neigh show "$1" dev "$LAB_DEV" |
		grep -Eq 'REACHABLE|STALE|DELAY|PROBE|PERMANENT'
}

_lab_listening() {
	local p
	for p in $LAB_PORTS; do
		lab_ns "b$1" ss -Hltn "sport = :$p" | grep -q . || return 1
	done
}

# lab_backend_start N : starts backend N's server (N = 1..3).
lab_backend_start() {
	local n=$1 pid
	# nsenter directly (not lab_ns) so $! is the server itself.
	# shellcheck disable=SC2086 # LAB_PORTS is a list
	nsenter --net="/run/netns/$(lab_nsname "b$n")" -- \
		"$LAB_PY" "$LAB_TMP/server.py" "${LAB_BE_NAMES[n - 1]}" \
		"$LAB_TMP/b$n.unhealthy" $LAB_PORTS \
		>>"$LAB_TMP/b$n.log" 2>&1 &
	pid=$!
	echo "$pid" >"$LAB_TMP/b$n.pid"
	lab_track_pid "$pid"
}

# lab_backend_stop N : stops backend N's server (connections then fail).
lab_backend_stop() {
	local pid
	pid=$(cat "$LAB_TMP/b$1.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null
	lab_wait 3 _lab_gone "$pid"
	rm -f "$LAB_TMP/b$1.pid"
}

# lab_backend_wait N : waits until backend N's server listens.
lab_backend_wait() { lab_wait "${2:-5}" _lab_listening "$1"; }

# lab_backend_health N up|down : what backend N answers to GET /health.
lab_backend_health() {
	case $2 in
	up) rm -f "$LAB_TMP/b$1.unhealthy" ;;
	down) : >"$LAB_TMP/b$1.unhealthy" ;;
	*) lab_die "lab_backend_health: want up or down" ;;
	esac
}

# lab_xlb ARGS... : build/xlb in the LB namespace with the run's pin dir.
lab_xlb() { lab_ns lb "$XLB" --pin-dir "$LAB_PIN_DIR" "$@"; }

# lab_lb_attach [ATTACH OPTIONS] : xlb attach on the LB's eth0 (outer
# sources become 192.0.2.1 and 2001:db8:1::1).
lab_lb_attach() { lab_xlb attach "$LAB_DEV" "$@"; }

# lab_attach_pair VIP4 VIP6 BE4 BE6: xlb attached on the LB, VIP4:80/tcp
# with backend BE4 and [VIP6]:80/tcp with BE6. A failed attach ends the
# test (FAIL and the summary); the rest is checked as it goes.
lab_attach_pair() {
	local out
	if ! out=$(lab_lb_attach 2>&1); then
		lab_fail "xlb attach: $out"
		lab_summary
		exit 1
	fi
	lab_xlb vip add "$1:80/tcp" >/dev/null &&
		lab_xlb vip add "[$2]:80/tcp" >/dev/null || lab_fail "vip add"
	lab_xlb backend add "$1:80/tcp" "$3" >/dev/null &&
		lab_xlb backend add "[$2]:80/tcp" "$4" >/dev/null ||
		lab_fail "backend add"
}

# lab_connect HOST PORT [--rounds N] [--parallel N] [--timeout S] [--udp]
#             [--deadline S] [--upload BYTES] [--sport BASE]
# Reads source addresses on stdin; from the client namespace, makes N
# connections (default 1) per source to HOST:PORT, each bound to the
# source (per-connection timeout S, default 3; whole run at most --deadline,
# default 120 s); prints "SRC ANSWER1 ... ANSWERN" per source, an answer being the
# backend name or ERR:<reason>. --upload sends BYTES first (full-size
# segments through the tunnel); the answer is an error unless the backend
# received them all. --sport (UDP): round r from source port BASE + r.
lab_connect() {
	local host=$1 port=$2 rounds=1 par=32 tmo=3 proto=tcp deadline=120 sink=0
	local sport=0
	shift 2
	while [ $# -gt 0 ]; do
		case $1 in
		--rounds) rounds=$2 && shift ;;
		--parallel) par=$2 && shift ;;
		--timeout) tmo=$2 && shift ;;
		--udp) proto=udp ;;
		--deadline) deadline=$2 && shift ;;
		--upload) sink=$2 && shift ;;
		--sport) sport=$2 && shift ;;
		*) lab_die "lab_connect: unknown option $1" ;;
		esac
		shift
	done
	lab_ns c timeout "$deadline" "$LAB_PY" \
		"$LAB_TMP/client.py" "$host" "$port" "$rounds" "$par" "$tmo" "$proto" \
		"$sink" "$sport"
}
