#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/e2e/frag.sh - IP fragments through xlb in the standard lab
# (tests/lib.sh). The backends listen on ports 80 and 22; only port 80 is
# a VIP's (203.0.113.10:80/tcp, 2001:db8:f::10:80/tcp, over ipip). From the
# client, scapy sends SYNs cut into fragments whose first one holds little
# more than the ports (the backend reassembles them after xlb decap) and
# listens for the SYN-ACK:
#   - a fragmented SYN to port 80 gets its SYN-ACK (fragments still work),
#   - a fragmented SYN to port 22 gets none: xlb drops its first fragment
#     (drop_frag_port), so no backend ever sees a whole SYN,
# for IPv4 and IPv6. Prints PASS/FAIL per check; exits 1 if any failed.
set -u
export LC_ALL=C

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

LAB_PORTS="80 22" # read by lab_setup: port 22 answers, if reached
LAB_NCLIENTS=1
VIP4=203.0.113.10
VIP6=2001:db8:f::10

lab_init

global_stat() {
	lab_xlb -j stats 2>/dev/null | "$LAB_PY" -c \
		'import json,sys; print(json.load(sys.stdin)["global"][sys.argv[1]])' \
		"$1" 2>/dev/null
}

# syn_answered FAMILY(4|6) DST PORT : sends a SYN in 8-byte fragments
# (IPv4) or in two fragments whose first holds the ports (IPv6) from the
# client and prints "synack" if DST:PORT answered with a SYN-ACK within
# 2 s, else "none".
syn_answered() {
	lab_ns c "$LAB_PY" - "$@" "$LB_MAC" <<'EOF'
import random, sys, time
from scapy.all import (Ether, IP, IPv6, IPv6ExtHdrFragment, TCP, Raw, conf,
                       fragment, fragment6, sendp, AsyncSniffer)
conf.verb = 0
fam, dst, port, lbmac = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
src = "192.0.2.100" if fam == "4" else "2001:db8:1::100"
sport = random.randint(20000, 60000)
seg = TCP(sport=sport, dport=port, flags="S", seq=1000) / Raw(b"x" * 40)
if fam == "4":
    frags = fragment(IP(src=src, dst=dst, id=random.randint(1, 65535)) / seg,
                     fragsize=8)
else:
    pkt = (IPv6(src=src, dst=dst) /
           IPv6ExtHdrFragment(id=random.randint(1, 1 << 30)) / seg)
    frags = fragment6(pkt, 40 + 8 + 24)
sn = AsyncSniffer(iface="eth0", store=True,
                  lfilter=lambda p: TCP in p and p[TCP].dport == sport and
                  p[TCP].sport == port and p[TCP].flags & 0x12 == 0x12)
sn.start()
time.sleep(0.3)
for f in frags: # to the LB's MAC: its route to the VIPs, resolved
    sendp(Ether(dst=lbmac) / f, iface="eth0")
time.sleep(2)
sn.stop()
print("synack" if sn.results else "none")
EOF
}

lab_setup
if out=$(lab_lb_attach 2>&1); then
	lab_pass "xlb attach: $out"
else
	lab_fail "xlb attach: $out"
	lab_summary
	exit 1
fi
for vip in "$VIP4:80/tcp" "[$VIP6]:80/tcp"; do
	lab_xlb vip add "$vip" --fwd ipip >/dev/null || lab_fail "vip add $vip"
done
for i in 0 1 2; do
	lab_xlb backend add "$VIP4:80/tcp" "${LAB_BE4[i]}" >/dev/null ||
		lab_fail "backend add ${LAB_BE4[i]}"
	lab_xlb backend add "[$VIP6]:80/tcp" "${LAB_BE6[i]}" >/dev/null ||
		lab_fail "backend add ${LAB_BE6[i]}"
done
LB_MAC=$(lab_ns lb ip -j link show "$LAB_DEV" | "$LAB_PY" -c \
	'import json,sys; print(json.load(sys.stdin)[0]["address"])')
for i in 1 2 3; do
	lab_backend_wait "$i" || lab_fail "backend b$i not listening"
done

for fam in 4 6; do
	if [ "$fam" = 4 ]; then vip=$VIP4; else vip=$VIP6; fi
	got=$(syn_answered "$fam" "$vip" 80)
	if [ "$got" = synack ]; then
		lab_pass "IPv$fam: fragmented SYN to the VIP's port 80 answered"
	else
		lab_fail "IPv$fam: fragmented SYN to the VIP's port 80: $got"
	fi
	before=$(global_stat drop_frag_port)
	got=$(syn_answered "$fam" "$vip" 22)
	after=$(global_stat drop_frag_port)
	if [ "$got" = none ]; then
		lab_pass "IPv$fam: fragmented SYN to port 22 of the VIP address: no handshake"
	else
		lab_fail "IPv$fam: fragmented SYN to port 22 of the VIP address: $got"
	fi
	if [ "${after:-0}" -gt "${before:-0}" ] 2>/dev/null; then
		lab_pass "IPv$fam: its first fragment counted drop_frag_port"
	else
		lab_fail "IPv$fam: drop_frag_port ${before:-?} -> ${after:-?}"
	fi
done
lab_summary
