#!/usr/bin/python3
"""Integration test of the outyet binary against a local fake tag server.

usage: outyet_integration_test.py PATH_TO_OUTYET [unittest args...]

Everything listens on 127.0.0.1 with free ports. The fake tag server stands
in for go.googlesource.com: it answers HEAD with 404 until the test tags the
version, then 200, and records when each HEAD arrived.
"""
import http.client
import http.server
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import unittest

OUTYET = None  # set from argv in main


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def page(version, change_url=None):
    """The page byte for byte as Go's html/template renders it."""
    if change_url is None:
        answer = "\t\tNo. :-(\n"
    else:
        answer = '\t\t<a href="%s">YES!</a>\n' % change_url
    return ("\n<!DOCTYPE html><html><body><center>\n"
            "\t<h2>Is Go %s out yet?</h2>\n"
            "\t<h1>\n\t\n%s\t\n\t</h1>\n"
            "</center></body></html>\n" % (version, answer))


def wait_until(predicate, timeout, step=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


class FakeTagServer:
    """HEAD /go<version>: 404 until tag() is called, then 200."""

    def __init__(self):
        self.tagged = threading.Event()
        self.heads = []  # (monotonic time, path)
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_HEAD(self):
                with outer.lock:
                    outer.heads.append((time.monotonic(), self.path))
                self.send_response(200 if outer.tagged.is_set() else 404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = "http://127.0.0.1:%d/" % self.port
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def tag(self):
        self.tagged.set()

    def head_times(self):
        with self.lock:
            return [t for t, _ in self.heads]

    def head_paths(self):
        with self.lock:
            return [p for _, p in self.heads]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Outyet:
    """One outyet process on 127.0.0.1:<free port>."""

    def __init__(self, *flags, port=None):
        self.port = port or free_port()
        self.argv = [OUTYET, "-http", "127.0.0.1:%d" % self.port] + list(flags)
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=self.stderr)
        if not wait_until(self._accepts, 10):
            self.stop_hard()
            raise AssertionError("outyet did not listen on port %d: %s" % (self.port, self.log()))

    def _accepts(self):
        if self.proc.poll() is not None:
            raise AssertionError("outyet exited with %s: %s" % (self.proc.returncode, self.log()))
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
            return True
        except OSError:
            return False

    def get(self, path="/", timeout=5):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read().decode()
        finally:
            conn.close()

    def vars(self):
        status, headers, body = self.get("/debug/vars")
        assert status == 200, (status, body)
        return json.loads(body)

    def connect(self, timeout=5):
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    def alive(self):
        return self.proc.poll() is None

    def log(self):
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")[-4000:]

    def stop_hard(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def close(self):
        self.stop_hard()
        self.stderr.close()


def read_all(sock, limit=1 << 20):
    """Reads until the peer closes (or the socket times out); returns bytes."""
    data = b""
    try:
        while len(data) < limit:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    return data


class OutyetTestCase(unittest.TestCase):
    def setUp(self):
        self.tags = FakeTagServer()
        self.addCleanup(self.tags.close)

    def start(self, *flags, **kw):
        o = Outyet(*flags, **kw)
        self.addCleanup(o.close)
        return o


class PageAndPolling(OutyetTestCase):
    def test_page_before_and_after_tagging(self):
        o = self.start("-version", "1.21", "-poll", "100ms", "-change-url-base", self.tags.base)
        self.assertTrue(wait_until(lambda: len(self.tags.heads) >= 1, 5), "no HEAD arrived")
        status, headers, body = o.get("/")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "text/html; charset=utf-8")
        self.assertEqual(body, page("1.21"))
        # Any path serves the page, as with Go's http.Handle("/", ...).
        self.assertEqual(o.get("/some/other/path")[2], page("1.21"))
        self.assertEqual(set(self.tags.head_paths()), {"/go1.21"})

        self.tags.tag()
        yes = page("1.21", self.tags.base + "go1.21")
        self.assertTrue(wait_until(lambda: o.get("/")[2] == yes, 5), o.get("/")[2])
        status, headers, body = o.get("/")
        self.assertEqual((status, body), (200, yes))

    def test_page_escapes_version(self):
        o = self.start("-version", "<1&2>", "-poll", "1h", "-change-url-base", self.tags.base)
        self.assertIn("<h2>Is Go &lt;1&amp;2&gt; out yet?</h2>", o.get("/")[2])

    def test_head_polling_at_the_period_and_stop_after_yes(self):
        period = 0.25
        o = self.start("-poll", "250ms", "-change-url-base", self.tags.base)
        self.assertTrue(wait_until(lambda: len(self.tags.heads) >= 7, 10),
                        "only %d HEADs in 10s" % len(self.tags.heads))
        times = self.tags.head_times()
        intervals = [b - a for a, b in zip(times, times[1:])]
        # The period is waited after each answer, so no interval is shorter
        # than the period (minus timer slack); a loaded 2-core machine may
        # stretch some, but the median stays close.
        for i in intervals:
            self.assertGreaterEqual(i, period * 0.9, intervals)
            self.assertLess(i, period + 0.75, intervals)
        self.assertLess(statistics.median(intervals), period * 1.4, intervals)

        self.tags.tag()
        self.assertTrue(wait_until(lambda: "YES!" in o.get("/")[2], 5))
        after_yes = len(self.tags.heads)
        time.sleep(period * 6)
        self.assertEqual(len(self.tags.heads), after_yes, "polling continued after YES")
        v = o.vars()
        self.assertEqual(v["pollCount"], after_yes)
        self.assertEqual(v["pollErrorCount"], 0)
        self.assertEqual(v["pollError"], "")

    def test_poll_errors_counted(self):
        closed = free_port()  # nothing listens there
        o = self.start("-poll", "100ms", "-change-url-base", "http://127.0.0.1:%d/" % closed)
        self.assertTrue(wait_until(lambda: o.vars()["pollErrorCount"] >= 3, 10), o.vars())
        v = o.vars()
        self.assertGreaterEqual(v["pollCount"], v["pollErrorCount"])
        self.assertLessEqual(v["pollCount"] - v["pollErrorCount"], 1)  # at most one in flight
        self.assertIsInstance(v["pollError"], str)
        self.assertNotEqual(v["pollError"], "")
        self.assertEqual(o.get("/")[2], page("1.4"))
        self.assertTrue(o.alive())


class DebugVars(OutyetTestCase):
    def test_keys_types_and_hit_count(self):
        o = self.start("-poll", "1h", "-version", "1.22", "-change-url-base", self.tags.base)
        self.assertTrue(wait_until(lambda: o.vars()["pollCount"] == 1, 5))
        status, headers, body = o.get("/debug/vars")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("application/json"), headers)
        v = json.loads(body)
        for key in ("hitCount", "pollCount", "pollErrorCount"):
            self.assertIs(type(v[key]), int, key)
        self.assertIs(type(v["pollError"]), str)
        self.assertEqual(v["cmdline"], o.argv)
        self.assertIsInstance(v["memstats"], dict)
        self.assertTrue(v["memstats"], "memstats is empty")
        for name, value in v["memstats"].items():
            self.assertIs(type(value), int, name)
        self.assertEqual(v["hitCount"], 0)
        for _ in range(5):
            o.get("/")
        self.assertEqual(o.vars()["hitCount"], 5)  # /debug/vars itself is not a hit


class Lifecycle(OutyetTestCase):
    def test_sigterm_exit_0_with_in_flight_request(self):
        o = self.start("-poll", "1h", "-change-url-base", self.tags.base)
        idle = o.connect()
        idle.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIn(b"200 OK", idle.recv(65536))  # now an idle keep-alive connection
        busy = o.connect()
        busy.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # header not finished: in flight
        time.sleep(0.2)
        o.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        self.assertTrue(o.alive(), "exited with a request in flight")
        busy.sendall(b"\r\n")
        reply = read_all(busy)
        self.assertTrue(reply.startswith(b"HTTP/1.1 200 OK\r\n"), reply)
        self.assertIn(b"No. :-(", reply)
        self.assertIn(b"connection: close", reply.lower())
        self.assertEqual(o.proc.wait(10), 0, o.log())
        self.assertEqual(read_all(idle), b"")  # the idle connection was closed
        with self.assertRaises(OSError):
            o.connect(timeout=1)
        idle.close()
        busy.close()

    def test_sigterm_idle_exits_promptly(self):
        o = self.start("-poll", "1h", "-change-url-base", self.tags.base)
        started = time.monotonic()
        o.proc.send_signal(signal.SIGTERM)
        self.assertEqual(o.proc.wait(10), 0, o.log())
        self.assertLess(time.monotonic() - started, 3)

    def test_bad_flags_exit_2_with_usage(self):
        cases = [
            (["-nosuchflag"], "flag provided but not defined: -nosuchflag"),
            (["-poll", "soon"], 'invalid value "soon" for flag -poll'),
            (["-poll"], "flag needs an argument: -poll"),
            (["-read-header-timeout=x"], 'invalid value "x" for flag -read-header-timeout'),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                r = subprocess.run([OUTYET] + args, capture_output=True, timeout=10, text=True)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(message, r.stderr)
                self.assertIn("Usage of ", r.stderr)
                for flag in ("-http", "-poll", "-version", "-change-url-base", "-read-header-timeout"):
                    self.assertIn("  %s " % flag, r.stderr)
        r = subprocess.run([OUTYET, "-h"], capture_output=True, timeout=10, text=True)
        self.assertEqual(r.returncode, 0)
        self.assertIn("Usage of ", r.stderr)

    def test_address_in_use_fails(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            port = s.getsockname()[1]
            r = subprocess.run([OUTYET, "-http", "127.0.0.1:%d" % port, "-change-url-base", self.tags.base],
                               capture_output=True, timeout=10, text=True)
            self.assertNotEqual(r.returncode, 0)


class BadClients(OutyetTestCase):
    def setUp(self):
        super().setUp()
        self.o = self.start("-poll", "1h", "-read-header-timeout", "1s", "-change-url-base", self.tags.base)

    def assert_serving(self):
        self.assertTrue(self.o.alive(), self.o.log())
        self.assertEqual(self.o.get("/")[:1], (200,))

    def exchange(self, data, timeout=5):
        s = self.o.connect(timeout=timeout)
        try:
            s.sendall(data)
            return read_all(s)
        finally:
            s.close()

    def test_binary_junk(self):
        junk = bytes(range(256)) * 8 + b"\r\n\r\n"
        reply = self.exchange(junk)
        self.assertTrue(reply == b"" or reply.startswith(b"HTTP/1.1 400"), reply[:200])
        self.exchange(b"\x00\xff\xfe\r\n\r\n" * 100)
        self.exchange(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(600))  # a TLS hello
        self.assert_serving()

    def test_huge_header_gets_431(self):
        reply = self.exchange(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 65536 + b"\r\n\r\n")
        self.assertTrue(reply.startswith(b"HTTP/1.1 431"), reply[:200])
        many = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 100) for i in range(400))
        reply = self.exchange(b"GET / HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
        self.assertTrue(reply.startswith(b"HTTP/1.1 431"), reply[:200])
        self.assert_serving()

    def test_invalid_request_lines_get_400(self):
        for line in (b"FOO BAR BAZ QUX\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/1.1 extra\r\n\r\n",
                     b"GET / XTTP/1.1\r\nHost: x\r\n\r\n", b"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
                     b"GET / HTTP/1.1\r\nContent-Length: zz\r\n\r\n"):
            with self.subTest(line=line):
                reply = self.exchange(line)
                self.assertTrue(reply.startswith(b"HTTP/1.1 400"), reply[:200])
        self.assert_serving()

    def test_abrupt_disconnects(self):
        for _ in range(50):
            s = self.o.connect()
            s.sendall(b"GET / HTTP/1.1\r\nHo")
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()  # RST
        self.assert_serving()

    def test_slow_header_client_is_cut_off(self):
        s = self.o.connect(timeout=10)
        self.addCleanup(s.close)
        s.sendall(b"GET / HTTP/1.1\r\n")
        started = time.monotonic()
        closed_after = None
        # Trickle a header byte every 100 ms: the connection stays busy
        # but the header never completes.
        for i in range(60):
            try:
                s.sendall(b"X-Slow: %d\r\n" % i)
                s.setblocking(False)
                try:
                    data = s.recv(4096)
                    if data == b"" or data:
                        closed_after = time.monotonic() - started
                        self.assertFalse(data.startswith(b"HTTP/1.1 200"), data)
                        break
                except BlockingIOError:
                    pass
                finally:
                    s.setblocking(True)
            except (BrokenPipeError, ConnectionResetError):
                closed_after = time.monotonic() - started
                break
            time.sleep(0.1)
        self.assertIsNotNone(closed_after, "a trickling client held the connection for 6s")
        self.assertGreaterEqual(closed_after, 0.8)
        self.assertLess(closed_after, 3.0)
        self.assert_serving()

    def test_silent_client_is_cut_off(self):
        s = self.o.connect(timeout=15)
        self.addCleanup(s.close)
        started = time.monotonic()
        data = read_all(s)
        elapsed = time.monotonic() - started
        self.assertFalse(data.startswith(b"HTTP/1.1 200"), data)
        self.assertLess(elapsed, 3.0, "a client that sends nothing held the connection for %.1fs" % elapsed)
        self.assert_serving()


if __name__ == "__main__":
    if len(sys.argv) < 2 or not os.access(sys.argv[1], os.X_OK):
        sys.exit("usage: %s PATH_TO_OUTYET [unittest args]" % sys.argv[0])
    OUTYET = os.path.abspath(sys.argv[1])
    unittest.main(argv=[sys.argv[0]] + sys.argv[2:], verbosity=2)
