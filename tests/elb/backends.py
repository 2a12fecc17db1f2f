"""Small HTTP targets for the load balancer's integration tests, on private
127.x addresses, and a plain HTTP/1.1 request helper.

  Backend(name, address, port)          a threaded HTTP/1.1 server in this process: says who it is and what it
                                        got (JSON); /health answers .health_status; /status/<code> answers <code>
  BackendProcess(name, address, port)   the same server in a process of its own, to kill
  RawBackend(address, answer, port)     answers every connection with fixed bytes (None: reads, never answers)
  request(address, port, host, ...)     one request on a fresh connection -> (status, headers, body)

Run as `python3 backends.py serve NAME ADDRESS PORT` it serves a Backend
until killed (what BackendProcess starts).
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from http_backend import HttpBackend  # noqa: E402


class Backend(HttpBackend):
    """An HTTP/1.1 server on address:port that says who it is and what it got."""

    def __init__(self, name, address, port=8080):
        self.name = name
        self.health_status = 200
        self.requests = 0
        super().__init__(address, self.answer, port)

    def answer(self, request):
        if request.path == "/health":
            return self.health_status, {"Content-Type": "application/json"}, b"ok"
        self.requests += 1
        status = int(request.path[len("/status/"):]) if request.path.startswith("/status/") else 200
        payload = json.dumps({
            "backend": self.name, "method": request.command, "path": request.path, "body": request.body.decode(),
            "headers": {k.lower(): v for k, v in request.headers.items()},
        }).encode()
        return status, {"Content-Type": "application/json"}, payload


class BackendProcess:
    """A Backend in a child process (python3 this file serve ...), so a test can kill it as a task dies."""

    def __init__(self, name, address, port=8080, timeout=10.0):
        self.name, self.address, self.port = name, address, port
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "serve", name, address, str(port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection((address, port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("backend %s on %s:%d did not start" % (name, address, port))
                time.sleep(0.02)

    def kill(self):
        """SIGKILL: the kernel closes its sockets, new connections are refused."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self):
        self.kill()


class RawBackend:
    """A TCP server that answers every connection with fixed bytes (None: read and never answer)."""

    def __init__(self, address, answer, port=8080):
        self.address = address
        self.port = port
        self.answer = answer
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((address, port))
        self.sock.listen(64)
        self.held = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn):
        try:
            conn.recv(65536)
            if self.answer is None:
                self.held.append(conn)  # hang: keep it open, say nothing
                return
            conn.sendall(self.answer)
            conn.close()
        except OSError:
            pass

    def stop(self):
        self.sock.close()
        for c in self.held:
            c.close()


def request(address, port, host, path="/", method="GET", headers=None, body=None, timeout=10):
    """One request on a fresh connection; returns (status, headers dict, body bytes)."""
    conn = http.client.HTTPConnection(address, port, timeout=timeout)
    try:
        h = {"Host": host}
        h.update(headers or {})
        conn.request(method, path, body=body, headers=h)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def read_until_close(sock):
    """Everything a peer sends on sock until it closes the connection."""
    chunks = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] != "serve":
        sys.exit("usage: backends.py serve NAME ADDRESS PORT")
    Backend(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    threading.Event().wait()  # until a signal ends the process
