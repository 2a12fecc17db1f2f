#!/usr/bin/python3
"""Load and faults through a real load balancer, bounded in count and time:

- 10,000 concurrent idle client connections are held open to one listener
  (none reset or closed, every one still answers) while other requests
  succeed; `berth serve` raises its own soft RLIMIT_NOFILE to the hard one.
- A target process killed under keep-alive load costs no request: the load
  balancer retries a refused (or closed before answering) connection on
  another target.
"""
import http.client
import json
import os
import random
import resource
import select
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from berth_harness import Daemon  # noqa: E402
from backends import Backend, BackendProcess, RawBackend, read_until_close, request  # noqa: E402

IDLE_CONNECTIONS = 10_000
KILL_TEST_REQUESTS = 3_000
NOFILE_NEEDED = IDLE_CONNECTIONS + 2_000


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(next(line for line in f if line.startswith("VmRSS:")).split()[1])


def metric(daemon, name, **labels):
    """One series of /_berth/metrics (exact labels), or None."""
    from prometheus_client.parser import text_string_to_metric_families
    _, body, _ = daemon.signed_get("/_berth/metrics")
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            if s.name == name and s.labels == labels:
                return s.value
    return None


class ElbLoadTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and hard < NOFILE_NEEDED:
            hard = NOFILE_NEEDED  # root may raise the hard limit; anyone else gets the error
        # The daemon starts with a low soft limit (as under a login shell) and must raise it itself.
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))
        cls.hard = hard
        cls.prefix = "127.%d.%d" % (random.randint(64, 250), random.randint(0, 255))
        try:
            cls.daemon = Daemon(address=cls.prefix + ".1").start()
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # this process holds the 10,000 clients
        d = cls.daemon
        cls.vpc = d.aws("ec2", "describe-vpcs")["Vpcs"][0]["VpcId"]
        cls.subnets = [s["SubnetId"] for s in d.aws("ec2", "describe-subnets")["Subnets"]][:2]
        cls.cleanups = []

    @classmethod
    def tearDownClass(cls):
        for fn in reversed(cls.cleanups):
            try:
                fn()
            except Exception as e:  # keep cleaning up
                print("cleanup:", e, file=sys.stderr)
        cls.daemon.cleanup()

    def load_balancer(self, name, port, backends, idle_timeout=60, wait_healthy=True):
        """An internet-facing ALB on port forwarding to the backends (IP targets); returns (lb, tg)."""
        d = self.daemon
        lb = d.aws("elbv2", "create-load-balancer", "--name", name, "--subnets", *self.subnets)["LoadBalancers"][0]
        for sg in lb["SecurityGroups"]:
            d.aws("ec2", "authorize-security-group-ingress", "--group-id", sg, "--protocol", "tcp", "--port",
                  str(port), "--cidr", "0.0.0.0/0")
        d.aws("elbv2", "modify-load-balancer-attributes", "--load-balancer-arn", lb["LoadBalancerArn"],
              "--attributes", "Key=idle_timeout.timeout_seconds,Value=%d" % idle_timeout)
        tg = d.aws("elbv2", "create-target-group", "--name", name, "--protocol", "HTTP", "--port", "8080",
                   "--vpc-id", self.vpc, "--target-type", "ip", "--health-check-path", "/health",
                   "--health-check-interval-seconds", "5", "--health-check-timeout-seconds", "2",
                   "--healthy-threshold-count", "2", "--unhealthy-threshold-count", "2")["TargetGroups"][0]
        d.aws("elbv2", "register-targets", "--target-group-arn", tg["TargetGroupArn"], "--targets",
              *["Id=%s,Port=%d" % (b.address, b.port) for b in backends])
        d.aws("elbv2", "create-listener", "--load-balancer-arn", lb["LoadBalancerArn"], "--protocol", "HTTP",
              "--port", str(port), "--default-actions", "Type=forward,TargetGroupArn=" + tg["TargetGroupArn"])
        deadline = time.monotonic() + 40
        while wait_healthy:
            h = d.aws("elbv2", "describe-target-health", "--target-group-arn", tg["TargetGroupArn"])
            states = [t["TargetHealth"]["State"] for t in h["TargetHealthDescriptions"]]
            if states == ["healthy"] * len(backends):
                break
            self.assertLess(time.monotonic(), deadline, "targets never healthy: %s" % states)
            time.sleep(0.5)
        return lb, tg

    def test_daemon_raises_its_open_file_limit(self):
        with open("/proc/%d/limits" % self.daemon.proc.pid) as f:
            line = next(l for l in f if l.startswith("Max open files"))
        soft, hard = line.split()[3:5]
        self.assertEqual(soft, hard, line)
        self.assertGreaterEqual(int(soft), NOFILE_NEEDED, line)

    def test_ten_thousand_idle_connections(self):
        port = 8091
        backends = [Backend("idle-%d" % i, "%s.%d" % (self.prefix, 10 + i)) for i in range(3)]
        for b in backends:
            self.cleanups.append(b.stop)
        lb, _ = self.load_balancer("idle", port, backends, idle_timeout=600)
        dns = lb["DNSName"]
        labels = {"load_balancer": lb["LoadBalancerArn"].split(":loadbalancer/")[1]}
        address = self.daemon.address

        held = []
        rss_before = rss_kib(self.daemon.proc.pid)
        started = time.monotonic()
        try:
            for _ in range(IDLE_CONNECTIONS):
                self.assertLess(time.monotonic() - started, 120, "opening took too long (%d open)" % len(held))
                held.append(socket.create_connection((address, port), timeout=10))
            opened_in = time.monotonic() - started
            # The daemon holds every one of them (not just the kernel's accept queue).
            deadline = time.monotonic() + 60
            while metric(self.daemon, "berth_alb_active_connection_count", **labels) != IDLE_CONNECTIONS:
                self.assertLess(time.monotonic(), deadline, "active: %s" % metric(
                    self.daemon, "berth_alb_active_connection_count", **labels))
                time.sleep(0.2)
            per_connection = (rss_kib(self.daemon.proc.pid) - rss_before) / IDLE_CONNECTIONS
            self.assertLess(per_connection, 64, "KiB of daemon memory per idle connection")  # 7.6 when written

            # Meanwhile other clients are served: new connections and keep-alive.
            for i in range(200):
                status, _, body = request(address, port, dns, "/n%d" % i)
                self.assertEqual(status, 200, body)
            conn = http.client.HTTPConnection(address, port, timeout=10)
            for i in range(200):
                conn.request("GET", "/k%d" % i, headers={"Host": dns})
                resp = conn.getresponse()
                resp.read()
                self.assertEqual(resp.status, 200)
            conn.close()

            # None of the idle connections was closed or reset meanwhile ...
            poller = select.poll()
            for s in held:
                poller.register(s, select.POLLIN | select.POLLERR | select.POLLHUP)
            events = poller.poll(0)
            self.assertEqual(events, [], "%d idle connections had events" % len(events))
            # ... and any of them still carries a request.
            sample = random.sample(held, 100)
            for s in sample:
                s.sendall(b"GET /late HTTP/1.1\r\nHost: " + dns.encode() + b"\r\nConnection: close\r\n\r\n")
            for s in sample:
                answer = read_until_close(s)
                self.assertTrue(answer.startswith(b"HTTP/1.1 200 "), answer[:200])
            self.assertNotIn("Too many open files", self.daemon.log())
            print("\n%d idle connections opened in %.1f s, daemon RSS %.1f KiB per connection" % (
                IDLE_CONNECTIONS, opened_in, per_connection), file=sys.stderr)
        finally:
            for s in held:
                s.close()
        deadline = time.monotonic() + 60
        while metric(self.daemon, "berth_alb_active_connection_count", **labels) != 0:
            self.assertLess(time.monotonic(), deadline, "connections not released")
            time.sleep(0.2)

    def test_target_closing_without_an_answer(self):
        """A target that takes the request and closes without a byte (it died
        holding it): an idempotent request is sent to another target once, a
        POST gets ALB's 502 (it may have been acted on)."""
        port = 8093
        good = Backend("good", "%s.30" % self.prefix)
        closer = RawBackend("%s.31" % self.prefix, b"")
        self.cleanups += [good.stop, closer.stop]
        # While both are initial (no check has passed or failed yet) both get traffic.
        lb, tg = self.load_balancer("closer", port, [good, closer], wait_healthy=False)
        dns = lb["DNSName"]
        for method in ("GET", "HEAD", "PUT", "DELETE", "GET", "GET", "GET", "GET"):
            status, _, _ = request(self.daemon.address, port, dns, "/x", method=method, body=b"")
            self.assertEqual(status, 200, method)
        posted = [request(self.daemon.address, port, dns, "/x", method="POST", body=b"b")[0] for _ in range(4)]
        self.assertIn(502, posted)  # round robin sends some to the closer
        self.assertEqual(set(posted), {200, 502})
        h = self.daemon.aws("elbv2", "describe-target-health", "--target-group-arn", tg["TargetGroupArn"])
        self.assertEqual({t["TargetHealth"]["State"] for t in h["TargetHealthDescriptions"]}, {"initial"})

    def test_target_killed_under_load_costs_nothing(self):
        port = 8092
        procs = [BackendProcess("kill-%d" % i, "%s.%d" % (self.prefix, 20 + i)) for i in range(3)]
        for p in procs:
            self.cleanups.append(p.stop)
        lb, tg = self.load_balancer("kill", port, procs)
        dns = lb["DNSName"]
        labels = {"load_balancer": lb["LoadBalancerArn"].split(":loadbalancer/")[1]}
        address = self.daemon.address
        before_5xx = metric(self.daemon, "berth_alb_httpcode_elb_5xx_count_total", **labels)
        before_requests = metric(self.daemon, "berth_alb_request_count_total", **labels)

        threads_n = 4
        per_thread = KILL_TEST_REQUESTS // threads_n
        done = [0]
        lock = threading.Lock()
        killed = threading.Event()
        failures = []
        served = {}
        deadline = time.monotonic() + 120

        def client(index):
            conn = http.client.HTTPConnection(address, port, timeout=10)
            for i in range(per_thread):
                if time.monotonic() > deadline:
                    failures.append("deadline")
                    return
                try:
                    conn.request("GET", "/c%d/%d" % (index, i), headers={"Host": dns})
                    resp = conn.getresponse()
                    body = resp.read()
                    if resp.status != 200:
                        failures.append((resp.status, body[:80]))
                        conn.close()
                        conn = http.client.HTTPConnection(address, port, timeout=10)
                        continue
                    name = json.loads(body)["backend"]
                    with lock:
                        served[name] = served.get(name, 0) + 1
                        done[0] += 1
                        if done[0] == KILL_TEST_REQUESTS // 3:
                            killed.set()
                except (OSError, http.client.HTTPException) as e:
                    failures.append(repr(e))
                    conn.close()
                    conn = http.client.HTTPConnection(address, port, timeout=10)
            conn.close()

        threads = [threading.Thread(target=client, args=(i,)) for i in range(threads_n)]
        for t in threads:
            t.start()
        self.assertTrue(killed.wait(60), "load never reached a third")
        procs[0].kill()  # mid-way, while requests are in flight
        with lock:
            at_kill = dict(served)
        for t in threads:
            t.join(150)
        self.assertEqual(failures, [])
        self.assertEqual(sum(served.values()), threads_n * per_thread)
        self.assertGreater(at_kill.get("kill-0", 0), 0, "the killed target had served before")
        for name in ("kill-1", "kill-2"):
            self.assertGreater(served.get(name, 0), served.get("kill-0", 0) // 2, served)
        # The metrics agree: every request reached a target, none was the load balancer's 5XX.
        self.assertEqual(metric(self.daemon, "berth_alb_httpcode_elb_5xx_count_total", **labels), before_5xx)
        self.assertEqual(metric(self.daemon, "berth_alb_request_count_total", **labels) - before_requests,
                         threads_n * per_thread)
        print("\nserved %s; killed kill-0 after %d requests" % (served, sum(at_kill.values())), file=sys.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
