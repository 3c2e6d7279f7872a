"""echo.py NAME PORT [--tag] - a lab backend's server for long-lived
connections, on PORT of every address (IPv4 and IPv6). A first line "who"
gets NAME and a close; any other gets NAME, then every further line echoed
until the client closes (as "NAME LINE" with --tag, so that each answer
says which backend gave it). Used by tests/e2e/daemon.sh, fleet.sh and
stable.sh, which copy it next to themselves."""
import socket
import socketserver
import sys

name, port = sys.argv[1], int(sys.argv[2])
tag = "--tag" in sys.argv[3:]


class H(socketserver.StreamRequestHandler):
    def handle(self):
        try:
            first = self.rfile.readline(256)
            self.wfile.write((name + "\n").encode())
            if first.startswith(b"who"):
                return
            self.wfile.flush()
            for line in self.rfile:
                if tag:
                    line = f"{name} {line.decode().strip()}\n".encode()
                self.wfile.write(line)
                self.wfile.flush()
        except (OSError, UnicodeDecodeError):
            pass


class S(socketserver.ThreadingTCPServer):
    address_family = socket.AF_INET6
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 1024

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


S(("::", port), H).serve_forever()
