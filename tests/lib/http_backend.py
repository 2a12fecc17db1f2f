"""A loopback HTTP/1.1 backend for tests that put a load balancer or
a slow client in front of a server of their own: a threaded http.server
in this process on a private 127.x address, answering each request with
what the test's function returns.

    backend = HttpBackend("127.64.3.10", lambda request: (200, {}, b"ok"))
    ...
    backend.stop()
"""
import http.server
import threading


class HttpBackend:
    """A threaded HTTP/1.1 server on address:port. Each request (GET, HEAD,
    POST, PUT, DELETE) is answered with answer(request) -> (status,
    {header: value}, body bytes), where request is the http.server handler
    (.command, .path, .headers) with the request's body read into .body;
    Content-Length is added after the given headers, and a HEAD gets no body."""

    def __init__(self, address, answer, port=8080):
        self.address, self.port = address, port

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass  # one line a request would bury the test's own output

            def handle_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.body = self.rfile.read(length) if length else b""
                status, headers, body = answer(self)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = handle_any

        self.server = http.server.ThreadingHTTPServer((address, port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
