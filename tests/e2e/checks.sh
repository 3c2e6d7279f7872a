#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/e2e/checks.sh - the daemon's health checks against real services,
# in the standard lab of tests/lib.sh: b1 and b2 run an HTTP server and an
# HTTPS server (Python's http.server wrapped in TLS, with a certificate for
# www.example.test made here by openssl); b3 runs neither.
#
#   1. HTTPS with verify off passes; verify on fails on the self-signed
#      certificate, and passes with `ca` and the certificate's `host`;
#   2. HTTP: a status outside `expect` fails, one inside passes (a code,
#      a range, a per-backend override), a missing `body` fails, the
#      `host` header reaches the server (and a wrong one fails);
#   3. defaults: a TCP VIP without a check block is checked by a TCP
#      connect to its port (b1 up, b3 refused); a UDP VIP is not checked;
#   4. a backend added with the CLI while the daemon runs starts down
#      until its checks pass: one that fails never comes up, one that
#      passes comes up;
#   5. `xlb save --config FILE` writes the checks: saved twice it is the
#      same text, and a daemon started on the saved file takes the live
#      state as it is and reaches the same verdicts; a reload removes what
#      the CLI added and the file does not list, saying so.
#
# Run as root from anywhere; prints PASS/FAIL per check and exits 1 if any
# failed. XLB=path overrides the binary.
set -u

LAB_NCLIENTS=${LAB_NCLIENTS:-4}
. "$(dirname "$0")/../lib.sh"

V=203.0.113.12
V6=2001:db8:f::12
B1=${LAB_BE4[0]}
B2=${LAB_BE4[1]}
B3=${LAB_BE4[2]}
B1_6=${LAB_BE6[0]}
SEED=0123456789abcdef0123456789abcdef
T="interval = 0.4; timeout = 0.3; rise = 1; fall = 1;"

command -v openssl >/dev/null || {
	lab_skip "checks: no openssl (scripts/deps.sh installs it)"
	lab_summary
	exit 0
}

lab_setup
OUT=$LAB_TMP/checks
mkdir -p "$OUT"
CONF=$OUT/xlb.conf
DLOG=$OUT/daemon.log
DPID=

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-days 2 -subj "/CN=www.example.test" \
	-addext "subjectAltName=DNS:www.example.test" \
	-keyout "$OUT/key.pem" -out "$OUT/cert.pem" 2>"$OUT/openssl.log" ||
	lab_die "openssl could not make a certificate: $(cat "$OUT/openssl.log")"

# hs.py NAME CERT KEY: HTTP on 8081 and HTTPS on 8443, paths:
#   /ok 200 "all good from NAME"; /204 204; /503 503; /body 200 without
#   "all good"; /host 200 when the Host header is www.example.test, else 421.
cat >"$OUT/hs.py" <<'EOF'
import http.server, socket, socketserver, ssl, sys, threading

name, cert, key = sys.argv[1:4]


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *a):
        pass

    def do_GET(self):
        host = self.headers.get("Host", "").split(":")[0]
        code, body = {
            "/ok": (200, "all good from " + name),
            "/204": (204, ""),
            "/503": (503, "down"),
            "/body": (200, "nothing to see"),
        }.get(self.path, (404, "no such page"))
        if self.path == "/host":
            code, body = (200, "vhost") if host == "www.example.test" else (421, "host " + host)
        b = body.encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        if code != 204:
            self.wfile.write(b)


class S(socketserver.ThreadingMixIn, socketserver.TCPServer):
    address_family = socket.AF_INET6
    allow_reuse_address = True
    daemon_threads = True

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


plain = S(("::", 8081), H)
tls = S(("::", 8443), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
threading.Thread(target=plain.serve_forever, daemon=True).start()
tls.serve_forever()
EOF

# vipjson.py be VIP ADDR: a backend's state ("absent" when not there).
cat >"$OUT/vipjson.py" <<'EOF'
import json, sys
vips = json.load(sys.stdin)
for v in vips:
    if v["vip"] == sys.argv[1]:
        for b in v["backends"]:
            if b["addr"] == sys.argv[2]:
                print(b["state"])
                sys.exit(0)
print("absent")
EOF

state() { lab_xlb -j vip show | "$LAB_PY" "$OUT/vipjson.py" "$1" "$2"; }
is() { [ "$(state "$2" "$3")" = "$1" ]; }
log_has() { grep -qF -- "$1" "$DLOG"; }
show_log() { sed 's/^/    | /' "$DLOG" | tail -n "${1:-20}"; }

start_daemon() {
	echo "--- daemon start $(date +%T.%N) $1" >>"$DLOG"
	nsenter --net="/run/netns/$(lab_nsname lb)" -- "$XLB" --pin-dir "$LAB_PIN_DIR" \
		daemon --config "$1" --log-level info 2>>"$DLOG" &
	DPID=$!
	lab_track_pid "$DPID"
}
stop_daemon() {
	kill -TERM "$DPID" 2>/dev/null
	lab_wait 5 _lab_gone "$DPID" || kill -KILL "$DPID"
	wait "$DPID" 2>/dev/null
}

cat >"$CONF" <<EOF
seed = "$SEED";
vips = (
  { vip = "$V:1001/tcp";
    check = { type = "https"; port = 8443; path = "/ok"; body = "all good"; verify = false; $T };
    backends = ( { addr = "$B1"; }, { addr = "$B3"; } ); },
  { vip = "$V:1002/tcp";
    check = { type = "https"; port = 8443; path = "/ok"; host = "www.example.test"; $T };
    backends = ( { addr = "$B1"; } ); },
  { vip = "$V:1003/tcp";
    check = { type = "https"; port = 8443; path = "/host"; host = "www.example.test";
              ca = "$OUT/cert.pem"; $T };
    backends = ( { addr = "$B1"; } ); },
  { vip = "$V:1004/tcp";
    check = { type = "http"; port = 8081; path = "/503"; $T };
    backends = ( { addr = "$B1"; }, { addr = "$B2"; check = { expect = [200, 503]; }; } ); },
  { vip = "$V:1005/tcp";
    check = { type = "http"; port = 8081; path = "/204"; expect = "200-204"; $T };
    backends = ( { addr = "$B1"; } ); },
  { vip = "$V:1006/tcp";
    check = { type = "http"; port = 8081; path = "/body"; body = "all good"; $T };
    backends = ( { addr = "$B1"; } ); },
  { vip = "$V:1007/tcp";
    check = { type = "http"; port = 8081; path = "/host"; host = "www.example.test"; $T };
    backends = ( { addr = "$B1"; }, { addr = "$B2"; check = { host = "other.example.test"; }; } ); },
  { vip = "[$V6]:1008/tcp";
    check = { type = "https"; port = 8443; path = "/ok"; verify = false; $T };
    backends = ( { addr = "$B1_6"; } ); },
  { vip = "$V:8081/tcp";
    backends = ( { addr = "$B1"; }, { addr = "$B3"; } ); },
  { vip = "$V:8081/udp";
    backends = ( { addr = "$B3"; } ); }
);
EOF

for i in 1 2; do
	nsenter --net="/run/netns/$(lab_nsname "b$i")" -- "$LAB_PY" "$OUT/hs.py" \
		"${LAB_BE_NAMES[i - 1]}" "$OUT/cert.pem" "$OUT/key.pem" >>"$OUT/hs$i.log" 2>&1 &
	lab_track_pid $!
done
hs_up() { lab_ns "b$1" ss -Hltn "sport = :8443" | grep -q . && lab_ns "b$1" ss -Hltn "sport = :8081" | grep -q .; }
lab_wait 5 hs_up 1 && lab_wait 5 hs_up 2 || lab_die "the HTTP(S) servers do not listen"
lab_lb_attach >/dev/null || lab_die "xlb attach failed"
lab_xlb check "$CONF" >/dev/null || lab_die "xlb check refuses the test's file: $(lab_xlb check "$CONF" 2>&1)"

# Up: every backend whose check passes. Down, with the reason logged.
UPS=("$V:1001/tcp $B1" "$V:1003/tcp $B1" "$V:1004/tcp $B2" "$V:1005/tcp $B1"
	"$V:1007/tcp $B1" "[$V6]:1008/tcp $B1_6" "$V:8081/tcp $B1" "$V:8081/udp $B3")
DOWNS=("$V:1001/tcp $B3|connect: connection refused"
	"$V:1002/tcp $B1|https: SSL certificate problem: self-signed certificate"
	"$V:1004/tcp $B1|http: status 503"
	"$V:1006/tcp $B1|http: status 200, body without \"all good\""
	"$V:1007/tcp $B2|http: status 421")
failed_checks() {
	lab_ns lb curl -sf --max-time 2 http://127.0.0.1:9469/metrics |
		grep -q "^xlb_backend_checks_total{vip=\"$1\",backend=\"$2\",result=\"failed\"} [1-9]"
}
all_up() {
	local u
	for u in "${UPS[@]}"; do
		# shellcheck disable=SC2086 # VIP and address
		is up $u || return 1
	done
}
verdicts() {
	local what=$1 u d ok=0
	if lab_wait 10 all_up; then
		lab_pass "$what: passing checks bring their backends up (${#UPS[@]}: https verify off and on with ca+host, IPv6, expect code and range, override, host, default TCP, UDP unchecked)"
	else
		for u in "${UPS[@]}"; do
			# shellcheck disable=SC2086
			is up $u || lab_fail "$what: $u up (is $(state $u))"
		done
		show_log
		ok=1
	fi
	sleep 1 # a few more check rounds: the failing ones must stay down
	for d in "${DOWNS[@]}"; do
		u=${d%%|*}
		# shellcheck disable=SC2086
		if is down $u && log_has "${u#* } of ${u%% *} still down: 1 failed checks (${d#*|}"; then
			lab_pass "$what: $u down (${d#*|})"
		else
			# shellcheck disable=SC2086
			lab_fail "$what: $u down, logged as '${d#*|}' (is $(state $u)); log: $(grep -F "${u#* } of ${u%% *}" "$DLOG" | tail -n1)"
			ok=1
		fi
	done
	# The default check (interval 5 s, fall 3) logs late: ask /metrics.
	if is down "$V:8081/tcp" "$B3" && lab_wait 8 failed_checks "$V:8081/tcp" "$B3"; then
		lab_pass "$what: $V:8081/tcp $B3 down, its default TCP check failing"
	else
		lab_fail "$what: $V:8081/tcp $B3 down, its default TCP check failing (is $(state "$V:8081/tcp" "$B3"))"
		ok=1
	fi
	return $ok
}

# ---------------------------------------------------------------------------
# 1-3. Verdicts.
start_daemon "$CONF"
verdicts "start"

# Dozens of HTTP(S) checks a second: the daemon's descriptors stay flat
# (curl's sockets are closed and unwatched when a check ends).
# BPF program descriptors, which nothing holds for long, stay level too
# through the self-watch (every second) and metrics scrapes (libxdp 1.3
# leaked one per look at a legacy attach).
nfd() { ls "/proc/$DPID/fd" | wc -l; }
nprog() { ls -l "/proc/$DPID/fd" | grep -c 'bpf-prog'; }
fd0=$(nfd)
p0=$(nprog)
sleep 2
for _ in 1 2 3 4 5; do
	lab_ns lb curl -sf --max-time 2 http://127.0.0.1:9469/metrics >/dev/null
done
sleep 1
fd1=$(nfd)
p1=$(nprog)
if [ "$fd1" -le $((fd0 + 3)) ] && [ "$p1" = "$p0" ]; then
	lab_pass "no descriptor leak over 3 s of checks, self-watch and 5 scrapes ($fd0 -> $fd1 open, $p0 -> $p1 programs)"
else
	lab_fail "descriptor leak over 3 s of checks, self-watch and 5 scrapes ($fd0 -> $fd1 open, $p0 -> $p1 programs)"
fi

# The loop never blocked on a check: the metrics it serves answered throughout.
if lab_ns lb curl -sf --max-time 2 http://127.0.0.1:9469/metrics | grep -q '^xlb_backend_check_up{.*} 1$'; then
	lab_pass "the daemon's /metrics answers while HTTPS checks run"
else
	lab_fail "the daemon's /metrics answers while HTTPS checks run"
fi

# ---------------------------------------------------------------------------
# 4. Backends added with the CLI while the daemon runs: to a VIP the daemon
# checks they start DOWN (never a moment UP) and come up when their checks
# pass.
: >"$OUT/samples"
msg=$(lab_xlb backend add "$V:1004/tcp" "$B3" 2>&1) || lab_fail "xlb backend add $V:1004/tcp $B3: $msg"
lab_xlb backend add "$V:1001/tcp" "$B2" 2>/dev/null || lab_fail "xlb backend add $V:1001/tcp $B2"
T0=$(date +%s%N)
for _ in $(seq 40); do
	echo "$(($(date +%s%N) - T0)) $(state "$V:1004/tcp" "$B3")" >>"$OUT/samples"
	sleep 0.05
done
ups=$(awk '$2 == "up"' "$OUT/samples" | wc -l)
last=$(tail -n1 "$OUT/samples" | cut -d' ' -f2)
if [ "$ups" -eq 0 ] && [ "$last" = down ] &&
	[[ $msg == *"starts down: the daemon brings it up when its checks pass"* ]] &&
	log_has "$B3 of $V:1004/tcp added (not by the daemon): down until its checks pass"; then
	lab_pass "a CLI-added backend of a checked VIP starts down and, its check failing, stays down (0 of 40 samples up)"
else
	lab_fail "a CLI-added backend starts down and stays down ($ups samples up, last $last, said: $msg)"
	show_log 10
fi
if lab_wait 5 is up "$V:1001/tcp" "$B2" &&
	log_has "$B2 of $V:1001/tcp added (not by the daemon): down until its checks pass" &&
	log_has "backend $B2 of $V:1001/tcp up: 1 successful checks"; then
	lab_pass "a CLI-added backend whose check passes comes up after its check"
else
	lab_fail "a CLI-added backend whose check passes comes up after its check (is $(state "$V:1001/tcp" "$B2"))"
	show_log 10
fi

# The same through `apply -f`: a file that adds a backend (nothing listens
# at 198.51.100.250) to a checked VIP while the daemon runs.
lab_xlb save >"$OUT/plus.conf" 2>/dev/null
python3 - "$OUT/plus.conf" "$V:1004/tcp" <<'PY'
import sys
p, vip = sys.argv[1], sys.argv[2]
s = open(p).read()
i = s.index('backends = (', s.index('vip = "%s";' % vip)) + len('backends = (')
open(p, "w").write(s[:i] + ' { addr = "198.51.100.250"; },' + s[i:])
PY
msg=$(lab_xlb apply -f "$OUT/plus.conf" 2>&1) || lab_fail "apply -f a file adding a backend: $msg"
: >"$OUT/samples"
for _ in $(seq 20); do
	state "$V:1004/tcp" 198.51.100.250 >>"$OUT/samples"
	sleep 0.05
done
if ! grep -qv '^down$' "$OUT/samples" &&
	[[ $msg == *"198.51.100.250 of $V:1004/tcp starts down: the daemon brings it up when its checks pass"* ]]; then
	lab_pass "a backend a CLI apply -f adds to a checked VIP starts down (0 of 20 samples up)"
else
	lab_fail "a backend apply -f adds starts down (samples: $(sort "$OUT/samples" | uniq -c | tr '\n' ' '), said: $msg)"
fi
lab_xlb backend del "$V:1004/tcp" 198.51.100.250 2>/dev/null

# ---------------------------------------------------------------------------
# 5. save --config FILE -> daemon configuration.
lab_xlb save --config "$CONF" >"$OUT/saved.conf" 2>"$OUT/save.err" ||
	lab_fail "xlb save --config: $(cat "$OUT/save.err")"
lab_xlb save --config "$OUT/saved.conf" >"$OUT/saved2.conf" 2>>"$OUT/save.err"
if cmp -s "$OUT/saved.conf" "$OUT/saved2.conf" &&
	grep -q 'type = "https"; port = 8443; path = "/host";' "$OUT/saved.conf" &&
	grep -qF "ca = \"$OUT/cert.pem\"" "$OUT/saved.conf" &&
	grep -qF 'expect = ["200", "503"]' "$OUT/saved.conf" &&
	grep -qF "{ addr = \"$B3\"; weight = 1; }" "$OUT/saved.conf" &&
	! grep -q 'state = "down"' "$OUT/saved.conf"; then
	lab_pass "save --config writes the checks and overrides, and leaves health-down states to the checks (saved twice: same text)"
else
	lab_fail "save --config writes the checks (see $OUT/saved.conf)"
	diff "$OUT/saved.conf" "$OUT/saved2.conf" | head -n 10 | sed 's/^/    | /'
fi
if lab_xlb save >"$OUT/plain.conf" && ! grep -q 'check = ' "$OUT/plain.conf" &&
	grep -qF "{ addr = \"$B3\"; weight = 1; state = \"down\"; }" "$OUT/plain.conf"; then
	lab_pass "save without --config writes no checks and every state, as before"
else
	lab_fail "save without --config writes no checks and every state"
fi

stop_daemon
# The old daemon's log lines must not count: a new log from here.
mv "$DLOG" "$DLOG.1"
start_daemon "$OUT/saved.conf"
if lab_wait 5 log_has "started with $OUT/saved.conf" && log_has "live state already matches"; then
	lab_pass "a daemon started on the saved file finds the live state as it is (no commit)"
else
	lab_fail "a daemon started on the saved file finds the live state as it is"
	show_log 10
fi
UPS+=("$V:1001/tcp $B2")
DOWNS+=("$V:1004/tcp $B3|connect: connection refused")
verdicts "restarted on the saved file"

# A reload: the file wins for what it lists. What the CLI added and the
# file does not list goes (logged); what the saved file took in stays.
lab_xlb backend add "$V:1005/tcp" "$B2" || lab_fail "xlb backend add $V:1005/tcp $B2"
lab_wait 5 log_has "$B2 of $V:1005/tcp added (not by the daemon)"
kill -HUP "$DPID"
if lab_wait 5 log_has "backend $B2 of $V:1005/tcp removed: not in the file" &&
	lab_wait 5 is absent "$V:1005/tcp" "$B2" && is down "$V:1004/tcp" "$B3" &&
	is up "$V:1001/tcp" "$B2"; then
	lab_pass "a reload removes a CLI-added backend the file does not list, logged; saved ones stay"
else
	lab_fail "a reload removes a CLI-added backend the file does not list ($V:1005/tcp $B2 is $(state "$V:1005/tcp" "$B2"))"
	show_log 10
fi
stop_daemon

lab_summary
