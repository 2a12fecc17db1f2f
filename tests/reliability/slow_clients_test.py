"""Slow and abusive clients against a live daemon (issue 16): slowloris on
the API port and on a load balancer's listener, 10,000 idle connections on
the API port, and a client reading a large blob one byte at a time. The
daemon's memory stays bounded, the slow connections are closed once the
header timeout (the API port's --header-timeout, the load balancer's
idle_timeout.timeout_seconds) has passed, and everyone else is served
promptly meanwhile.

The figures (RSS, descriptors, latencies of the normal calls during each
attack) are printed to stderr. BERTH_SLOW_IDLE_CONNECTIONS sets the idle
count (default 10000); the test process raises its own RLIMIT_NOFILE.
"""
import base64
import hashlib
import http.client
import os
import random
import re
import resource
import select
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from berth_harness import Daemon  # noqa: E402
from http_backend import HttpBackend  # noqa: E402

HEADER_TIMEOUT = 3        # seconds: the API daemon's --header-timeout and the load balancer's idle timeout
SLOW_CONNECTIONS = 500    # slowloris connections per attack
DRIBBLE_INTERVAL = 0.5    # seconds between two bytes of a slow request head
DRIBBLE_LIMIT = 20.0      # seconds: the slowloris gives up after this (the daemon should have closed all long before)
IDLE_CONNECTIONS = int(os.environ.get("BERTH_SLOW_IDLE_CONNECTIONS", "10000"))
FD_SLACK = 8              # the daemon's descriptors besides the idle connections move by a few (keep-alive, SQLite)
IDLE_RSS_GROWTH_MIB = 48  # bound on the daemon's RSS growth for the idle connections
BLOB_MIB = 64
BLOB_RSS_GROWTH_MIB = 24  # well under the blob: a slow reader must not make the daemon hold it
SLOW_READ_SECONDS = 5.0


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1)) / 1024


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def timed(fn):
    """fn()'s result and how long it took, in seconds."""
    started = time.monotonic()
    out = fn()
    return out, time.monotonic() - started


class Slowloris:
    """`count` connections to address:port, each sending `head` one byte every
    DRIBBLE_INTERVAL from one thread, never finishing it. Records, per
    connection, how long after its connect the server closed it."""

    def __init__(self, address, port, head, count):
        self.head = head
        self.socks, self.opened, self.sent = [], {}, {}
        self.closed_after = {}   # fd -> seconds from connect to the server's close
        self.answered = {}       # fd -> bytes the server sent before closing
        for _ in range(count):
            s = socket.create_connection((address, port), timeout=5)
            s.setblocking(False)
            self.socks.append(s)
            self.opened[s.fileno()] = time.monotonic()
            self.sent[s.fileno()] = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        poller = select.poll()
        by_fd = {s.fileno(): s for s in self.socks}
        for fd in by_fd:
            poller.register(fd, select.POLLIN)
        started = time.monotonic()
        next_byte = started
        while by_fd and not self.stop.is_set() and time.monotonic() - started < DRIBBLE_LIMIT:
            now = time.monotonic()
            if now >= next_byte:
                for fd, s in list(by_fd.items()):
                    if self.sent[fd] < len(self.head) - 1:  # never the last byte
                        try:
                            s.send(self.head[self.sent[fd]:self.sent[fd] + 1])
                            self.sent[fd] += 1
                        except OSError:
                            self.note_closed(fd, by_fd, poller)
                next_byte = now + DRIBBLE_INTERVAL
            for fd, _ in poller.poll(100):
                if fd not in by_fd:
                    continue
                try:
                    data = by_fd[fd].recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if data:
                    self.answered[fd] = self.answered.get(fd, b"") + data
                else:
                    self.note_closed(fd, by_fd, poller)

    def note_closed(self, fd, by_fd, poller):
        self.closed_after[fd] = time.monotonic() - self.opened[fd]
        poller.unregister(fd)
        del by_fd[fd]

    def finish(self):
        self.stop.set()
        self.thread.join(DRIBBLE_LIMIT + 5)
        for s in self.socks:
            s.close()


class SlowClients(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        cls.fd_limit = hard
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        cls.prefix = "127.%d.%d" % (random.randint(64, 250), random.randint(0, 255))
        cls.d = Daemon(address=cls.prefix + ".1", env={"BERTH_TASK_RUNTIME": "none"},
                       args=["--header-timeout", str(HEADER_TIMEOUT)]).start()
        cls.backend = None
        print("slow clients: load average %s" % loadavg(), file=sys.stderr)

    @classmethod
    def tearDownClass(cls):
        if cls.backend:
            cls.backend.stop()
        cls.d.cleanup()

    def normal_calls(self, daemon, rounds):
        """boto3 and aws CLI calls (while an attack runs); returns their latencies in seconds,
        {"boto3": [...], "cli": [...]} (the CLI's include its own start-up, a second or more here)."""
        ecs = daemon.client("ecs")
        latencies = {"boto3": [], "cli": []}
        for i in range(rounds):
            out, took = timed(lambda: ecs.list_clusters())
            self.assertIn("clusterArns", out)
            latencies["boto3"].append(took)
            out, took = timed(lambda: daemon.aws("ecs", "describe-clusters", "--clusters", "default"))
            self.assertIn("clusters", out)
            latencies["cli"].append(took)
        return latencies

    def assert_prompt(self, what, latencies, bound, baseline=None):
        """Every call of `latencies` (a list, or normal_calls' dict) took less than `bound` seconds."""
        groups = latencies if isinstance(latencies, dict) else {"calls": latencies}
        for kind, values in groups.items():
            base = ""
            if baseline and baseline.get(kind):
                base = ", without the attack max %.2f s" % max(baseline[kind])
            print("slow clients: %s: %d %s, latency max %.2f s, mean %.2f s%s (load %s)"
                  % (what, len(values), kind, max(values), sum(values) / len(values), base, loadavg()),
                  file=sys.stderr)
            # The aws CLI's own start-up takes seconds on a loaded machine; boto3 shows the daemon's answer time.
            limit = max(bound, 30) if kind == "cli" else bound
            self.assertLess(max(values), limit, "%s: a normal call (%s) took %.1f s" % (what, kind, max(values)))

    def assert_all_cut_off(self, what, attack, timeout):
        self.assertEqual(len(attack.closed_after), len(attack.socks),
                         "%s: %d of %d slow connections still open after %.0f s"
                         % (what, len(attack.socks) - len(attack.closed_after), len(attack.socks), DRIBBLE_LIMIT))
        latest = max(attack.closed_after.values())
        earliest = min(attack.closed_after.values())
        print("slow clients: %s: %d slow connections closed by the server %.1f to %.1f s after connecting "
              "(timeout %d s), longest head sent %d bytes" % (what, len(attack.socks), earliest, latest, timeout,
                                                               max(attack.sent.values())), file=sys.stderr)
        # A head must be complete within the timeout; the sweeper's resolution and a loaded machine add a little.
        self.assertLess(latest, timeout + 4, "%s: a slow connection lived %.1f s" % (what, latest))
        self.assertGreater(earliest, timeout - 1, "%s: a slow connection was closed before the timeout" % what)
        for fd, data in attack.answered.items():
            self.assertFalse(data.startswith(b"HTTP/1.1 2"), "%s: an unfinished head was answered: %r" % (what, data))

    # ---- slowloris on the API port ----

    def test_1_slowloris_on_the_api_port(self):
        d = self.d
        baseline = self.normal_calls(d, 2)
        before = rss_mib(d.proc.pid)
        head = b"POST / HTTP/1.1\r\nHost: " + d.host.encode() + b"\r\nX-Amz-Target: slow\r\nX-Pad: " + b"a" * 64
        attack = Slowloris(d.host, d.bound_port, head, SLOW_CONNECTIONS)
        try:
            latencies = self.normal_calls(d, 3)
            during = rss_mib(d.proc.pid)
            attack.thread.join(DRIBBLE_LIMIT + 5)
        finally:
            attack.finish()
        print("slow clients: API slowloris: RSS %.1f MiB before, %.1f MiB during" % (before, during), file=sys.stderr)
        self.assert_prompt("API port under slowloris", latencies, 5, baseline)
        self.assert_all_cut_off("API port", attack, HEADER_TIMEOUT)

    # ---- slowloris on a load balancer's listener ----

    def test_2_slowloris_on_a_listener(self):
        d = self.d
        ec2, elb = d.client("ec2"), d.client("elbv2")
        vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
        # A plain HTTP/1.1 server on address:8080 answering "ok".
        type(self).backend = HttpBackend(self.prefix + ".10", lambda request: (200, {}, b"ok"))
        sg = ec2.create_security_group(GroupName="slow", Description="slow", VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": 8201, "ToPort": 8201, "IpRanges": [{"CidrIp": "127.0.0.0/8"}]}])
        lb = elb.create_load_balancer(Name="slow", Subnets=subnets, SecurityGroups=[sg])["LoadBalancers"][0]
        elb.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[
            {"Key": "idle_timeout.timeout_seconds", "Value": str(HEADER_TIMEOUT)}])
        tg = elb.create_target_group(Name="slow", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip",
                                     HealthCheckPath="/", HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
                                     HealthyThresholdCount=2)["TargetGroups"][0]
        elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=8201,
                            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
        elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": self.backend.address}])
        deadline = time.monotonic() + 40
        while True:
            states = [t["TargetHealth"]["State"] for t in
                      elb.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]]
            if states == ["healthy"]:
                break
            self.assertLess(time.monotonic(), deadline, "the target never became healthy: %s" % states)
            time.sleep(0.2)

        def through_listener():
            c = http.client.HTTPConnection(d.host, 8201, timeout=10)
            try:
                c.request("GET", "/", headers={"Host": lb["DNSName"]})
                r = c.getresponse()
                return r.status, r.read()
            finally:
                c.close()

        baseline = []
        for _ in range(5):
            out, took = timed(through_listener)
            self.assertEqual(out, (200, b"ok"))
            baseline.append(took)
        before = rss_mib(d.proc.pid)
        head = b"GET / HTTP/1.1\r\nHost: " + lb["DNSName"].encode() + b"\r\nX-Pad: " + b"a" * 64
        attack = Slowloris(d.host, 8201, head, SLOW_CONNECTIONS)
        latencies = []
        try:
            for _ in range(20):
                out, took = timed(through_listener)
                self.assertEqual(out, (200, b"ok"), "the listener stopped forwarding under slowloris")
                latencies.append(took)
                time.sleep(0.1)
            during = rss_mib(d.proc.pid)
            attack.thread.join(DRIBBLE_LIMIT + 5)
        finally:
            attack.finish()
        print("slow clients: listener slowloris: RSS %.1f MiB before, %.1f MiB during" % (before, during),
              file=sys.stderr)
        self.assert_prompt("listener under slowloris", latencies, 5, {"calls": baseline})
        self.assert_all_cut_off("listener", attack, HEADER_TIMEOUT)

    # ---- 10,000 idle connections on the API port ----

    def test_3_idle_connections_on_the_api_port(self):
        self.assertGreaterEqual(self.fd_limit, IDLE_CONNECTIONS + 1000,
                                "RLIMIT_NOFILE's hard limit (%d) is too low for %d connections"
                                % (self.fd_limit, IDLE_CONNECTIONS))
        # Its own daemon, whose header timeout outlasts the measurement: a
        # connection that has sent nothing is otherwise cut off after 3 s.
        d = Daemon(address=self.prefix + ".2", env={"BERTH_TASK_RUNTIME": "none"},
                   args=["--header-timeout", "120"]).start()
        socks = []
        try:
            baseline = self.normal_calls(d, 1)  # also touches every module once before the RSS baseline
            rss_before, fds_before = rss_mib(d.proc.pid), fd_count(d.proc.pid)
            deadline = time.monotonic() + 60
            opened = time.monotonic()
            while len(socks) < IDLE_CONNECTIONS and time.monotonic() < deadline:
                socks.append(socket.create_connection((d.host, d.bound_port), timeout=5))
            opened = time.monotonic() - opened
            self.assertEqual(len(socks), IDLE_CONNECTIONS, "opened only %d connections in 60 s" % len(socks))
            # The daemon has accepted them all once it holds a descriptor for
            # each (give or take the warm-up calls' keep-alive connections).
            deadline = time.monotonic() + 30
            while fd_count(d.proc.pid) < fds_before + IDLE_CONNECTIONS - FD_SLACK and time.monotonic() < deadline:
                time.sleep(0.1)
            fds_during = fd_count(d.proc.pid)
            latencies = self.normal_calls(d, 2)
            rss_during = rss_mib(d.proc.pid)
        finally:
            for s in socks:
                s.close()
        try:
            deadline = time.monotonic() + 30
            while fd_count(d.proc.pid) > fds_before + FD_SLACK and time.monotonic() < deadline:
                time.sleep(0.1)
            fds_after, rss_after = fd_count(d.proc.pid), rss_mib(d.proc.pid)
        finally:
            d.cleanup()
        growth = rss_during - rss_before
        print("slow clients: %d idle connections opened in %.1f s: daemon fds %d before, %d during, %d after; "
              "RSS %.1f MiB before, %.1f during (+%.1f MiB, %.1f KiB per connection), %.1f after"
              % (IDLE_CONNECTIONS, opened, fds_before, fds_during, fds_after, rss_before, rss_during, growth,
                 growth * 1024 / IDLE_CONNECTIONS, rss_after), file=sys.stderr)
        self.assertGreaterEqual(fds_during, fds_before + IDLE_CONNECTIONS - FD_SLACK,
                                "the daemon did not accept them all")
        self.assert_prompt("API port with %d idle connections" % IDLE_CONNECTIONS, latencies, 5, baseline)
        self.assertLess(growth, IDLE_RSS_GROWTH_MIB, "the idle connections cost %.1f MiB" % growth)
        self.assertLessEqual(fds_after, fds_before + FD_SLACK, "descriptors not returned after the clients left")

    # ---- a slow reader of a large blob ----

    def test_4_slow_blob_reader(self):
        d = self.d
        d.aws("ecr", "create-repository", "--repository-name", "slow/blob")
        password = d.aws("ecr", "get-login-password")
        data = os.urandom(BLOB_MIB << 20)
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        status, body, start = d.registry(password, "POST", "/v2/slow/blob/blobs/uploads/")
        self.assertEqual(status, 202, body)
        status, body, _ = d.registry(password, "PUT", start.getheader("Location") + "?digest=" + digest, data,
                                     timeout=120)
        self.assertEqual(status, 201, body)
        del data
        path = "/v2/slow/blob/blobs/" + digest
        rss_before = rss_mib(d.proc.pid)

        auth = "Basic " + base64.b64encode(("AWS:" + password).encode()).decode()
        slow = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)  # before connect: the window stays tiny
        slow.settimeout(5)
        slow.connect((d.host, d.bound_port))
        try:
            slow.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\n\r\n"
                          % (path, d.host, auth)).encode())
            got, peak = b"", rss_before
            stop_at = time.monotonic() + SLOW_READ_SECONDS
            latencies = []
            while time.monotonic() < stop_at and len(got) < 1 << 20:
                byte = slow.recv(1)
                self.assertTrue(byte, "the daemon closed the slow reader after %d bytes" % len(got))
                got += byte
                if len(got) % 1000 == 0:
                    peak = max(peak, rss_mib(d.proc.pid))
                    # Others are served meanwhile: an API call and another (fast) read of the same blob.
                    _, took = timed(lambda: d.client("ecr").describe_repositories(repositoryNames=["slow/blob"]))
                    latencies.append(took)
                    if len(latencies) == 1:
                        (status, whole, _), took = timed(lambda: d.registry(password, "GET", path, timeout=60))
                        self.assertEqual(status, 200)
                        self.assertEqual("sha256:" + hashlib.sha256(whole).hexdigest(), digest)
                        del whole
                        print("slow clients: a fast reader got the %d MiB blob in %.2f s meanwhile"
                              % (BLOB_MIB, took), file=sys.stderr)
                time.sleep(0.001)
            peak = max(peak, rss_mib(d.proc.pid))
            self.assertTrue(got.startswith(b"HTTP/1.1 200"), got[:200])
        finally:
            slow.close()
        print("slow clients: a reader took %d bytes one at a time in %.0f s; daemon RSS %.1f MiB before, "
              "peak %.1f MiB" % (len(got), SLOW_READ_SECONDS, rss_before, peak), file=sys.stderr)
        self.assertTrue(latencies, "no call was made while the slow reader read")
        self.assert_prompt("API port with a slow blob reader", latencies, 5)
        self.assertLess(peak - rss_before, BLOB_RSS_GROWTH_MIB,
                        "the daemon's RSS grew %.1f MiB for a slow reader of a %d MiB blob"
                        % (peak - rss_before, BLOB_MIB))


if __name__ == "__main__":
    unittest.main(verbosity=2)
