"""who.py - a lab client's exchange with a lab backend: connect from a
source address, say "who" (or upload SINK bytes), read the backend's
answer until it closes. Shared by the traffic scripts of tests/lib.sh,
tests/e2e/daemon.sh and tests/bench/bench_daemon.sh, which copy it next
to themselves."""
import socket

IP_BIND_ADDRESS_NO_PORT = 24  # linux/in.h: no port chosen at bind()


def ask(host, port, src, tmo, sink=0, no_port=False):
    """One TCP exchange; the answer's words. Raises OSError on failure."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    try:
        s.settimeout(tmo)
        if no_port:
            s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        if src:
            s.bind((src, 0))
        s.connect((host, port))
        if sink:
            s.sendall(b"SINK %d\n" % sink + b"x" * sink)
        else:
            s.sendall(b"who\n")
        data = b""
        while True:
            b = s.recv(256)
            if not b:
                break
            data += b
    finally:
        s.close()
    return data.decode(errors="replace").split()


def error(e):
    """ERR:<reason> for a failed exchange."""
    if isinstance(e, socket.timeout):
        return "ERR:timeout"
    return "ERR:" + (e.strerror or str(e)).replace(" ", "_")


def answer(host, port, src, tmo):
    """The answering backend's name, or ERR:<reason>."""
    try:
        out = ask(host, port, src, tmo)
    except OSError as e:
        return error(e)
    return out[0] if out else "ERR:empty"
