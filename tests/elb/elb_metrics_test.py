#!/usr/bin/python3
"""GET /_berth/metrics on the daemon's API port: CloudWatch's ALB metrics in
Prometheus text format, moving with traffic through a real load balancer
(IP targets: small HTTP servers on 127.x addresses). A scrape is SigV4-signed
with the API's credentials (the series name load balancers and target groups);
`berth serve --metrics-unauthenticated` opens it.

The exposition is read with the Prometheus project's own Python parser
(python3-prometheus-client), so a malformed line fails the test.
"""
import http.client
import json
import os
import random
import socket
import sys
import time
import unittest

from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from berth_harness import Daemon  # noqa: E402
from backends import Backend, request  # noqa: E402

PORT = 8081


class Scrape:
    """One scrape, parsed: value(name, **labels) -> float, or None when the series is absent."""

    def __init__(self, daemon):
        self.status, body, headers = daemon.signed_get("/_berth/metrics")
        self.content_type = headers.get("content-type")
        self.text = body.decode()
        self.samples = {}
        self.types = {}
        for family in text_string_to_metric_families(self.text):
            for s in family.samples:
                self.types[s.name] = family.type
                self.samples[(s.name, tuple(sorted(s.labels.items())))] = s.value

    def value(self, name, **labels):
        return self.samples.get((name, tuple(sorted(labels.items()))))


class ElbMetricsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.prefix = "127.%d.%d" % (random.randint(64, 250), random.randint(0, 255))
        cls.daemon = Daemon(address=cls.prefix + ".1").start()
        cls.backends = []

    @classmethod
    def tearDownClass(cls):
        for b in cls.backends:
            b.stop()
        cls.daemon.cleanup()

    def backend(self, name, octet):
        b = Backend(name, "%s.%d" % (self.prefix, octet))
        self.backends.append(b)
        return b

    def scrape(self):
        s = Scrape(self.daemon)
        self.assertEqual(s.status, 200)
        return s

    def wait_for(self, what, predicate, timeout=30):
        """Scrapes until predicate(scrape) holds; returns that scrape."""
        deadline = time.monotonic() + timeout
        while True:
            s = self.scrape()
            if predicate(s):
                return s
            if time.monotonic() > deadline:
                self.fail("%s never held; last scrape:\n%s" % (what, s.text))
            time.sleep(0.2)

    def test_metrics_follow_traffic_errors_and_health(self):
        d = self.daemon
        a = self.backend("a", 10)
        b = self.backend("b", 11)
        vpc = d.aws("ec2", "describe-vpcs")["Vpcs"][0]["VpcId"]
        subnets = [s["SubnetId"] for s in d.aws("ec2", "describe-subnets")["Subnets"]][:2]
        lb = d.aws("elbv2", "create-load-balancer", "--name", "metrics", "--subnets", *subnets)["LoadBalancers"][0]
        for sg in lb["SecurityGroups"]:
            d.aws("ec2", "authorize-security-group-ingress", "--group-id", sg, "--protocol", "tcp", "--port",
                  str(PORT), "--cidr", "0.0.0.0/0")

        def target_group(name):
            return d.aws("elbv2", "create-target-group", "--name", name, "--protocol", "HTTP", "--port", "8080",
                         "--vpc-id", vpc, "--target-type", "ip", "--health-check-path", "/health",
                         "--health-check-interval-seconds", "5", "--health-check-timeout-seconds", "2",
                         "--healthy-threshold-count", "2", "--unhealthy-threshold-count", "2")["TargetGroups"][0]

        tg = target_group("metrics-web")
        empty = target_group("metrics-empty")
        listener = d.aws("elbv2", "create-listener", "--load-balancer-arn", lb["LoadBalancerArn"], "--protocol",
                         "HTTP", "--port", str(PORT), "--default-actions",
                         "Type=forward,TargetGroupArn=" + tg["TargetGroupArn"])["Listeners"][0]
        la = listener["ListenerArn"]
        d.aws("elbv2", "create-rule", "--listener-arn", la, "--priority", "1", "--conditions",
              "Field=path-pattern,Values=/empty", "--actions", "Type=forward,TargetGroupArn=" + empty["TargetGroupArn"])
        d.aws("elbv2", "create-rule", "--listener-arn", la, "--priority", "2", "--conditions",
              "Field=path-pattern,Values=/teapot", "--actions",
              "Type=fixed-response,FixedResponseConfig={StatusCode=418,ContentType=text/plain,MessageBody=tea}")
        d.aws("elbv2", "create-rule", "--listener-arn", la, "--priority", "3", "--conditions",
              "Field=path-pattern,Values=/old", "--actions",
              "Type=redirect,RedirectConfig={Path=/new,StatusCode=HTTP_302}")
        d.aws("elbv2", "register-targets", "--target-group-arn", tg["TargetGroupArn"], "--targets",
              "Id=" + a.address, "Id=" + b.address)

        # CloudWatch's dimension values, from the ARNs.
        lbl = {"load_balancer": lb["LoadBalancerArn"].split(":loadbalancer/")[1]}
        self.assertRegex(lbl["load_balancer"], r"^app/metrics/[0-9a-f]{16}$")
        tgl = dict(lbl, target_group=tg["TargetGroupArn"].split(":")[-1])
        self.assertRegex(tgl["target_group"], r"^targetgroup/metrics-web/[0-9a-f]{16}$")
        emptyl = dict(lbl, target_group=empty["TargetGroupArn"].split(":")[-1])

        # Before any traffic: the series exist at zero; health moves initial -> healthy.
        first = self.scrape()
        self.assertEqual(first.content_type, "text/plain; version=0.0.4; charset=utf-8")
        self.assertEqual(first.types["berth_alb_request_count_total"], "counter")
        self.assertEqual(first.types["berth_alb_healthy_host_count"], "gauge")
        self.assertEqual(first.types["berth_alb_target_response_time_seconds_bucket"], "histogram")
        self.assertEqual(first.value("berth_alb_request_count_total", **lbl), 0)
        self.assertEqual(first.value("berth_alb_httpcode_elb_5xx_count_total", **lbl), 0)
        self.assertEqual(first.value("berth_alb_healthy_host_count", **emptyl), 0)
        self.wait_for("2 healthy hosts", lambda s: s.value("berth_alb_healthy_host_count", **tgl) == 2)
        self.assertEqual(self.scrape().value("berth_alb_unhealthy_host_count", **tgl), 0)

        dns = lb["DNSName"]
        base = self.scrape()

        def moved(scrape, name, labels):
            return scrape.value(name, **labels) - base.value(name, **labels)

        # 5 requests on one keep-alive connection, and one a target answers 500.
        conn = http.client.HTTPConnection(d.address, PORT, timeout=10)
        for _ in range(5):
            conn.request("GET", "/", headers={"Host": dns})
            resp = conn.getresponse()
            resp.read()
            self.assertEqual(resp.status, 200)
        conn.request("GET", "/status/500", headers={"Host": dns})
        resp = conn.getresponse()
        resp.read()
        self.assertEqual(resp.status, 500)
        conn.close()
        status, _, _ = request(d.address, PORT, dns, "/status/404")
        self.assertEqual(status, 404)
        s = self.scrape()
        self.assertEqual(moved(s, "berth_alb_request_count_total", lbl), 7)
        self.assertEqual(moved(s, "berth_alb_request_count_total", tgl), 7)
        self.assertEqual(moved(s, "berth_alb_httpcode_target_2xx_count_total", tgl), 5)
        self.assertEqual(moved(s, "berth_alb_httpcode_target_4xx_count_total", tgl), 1)
        self.assertEqual(moved(s, "berth_alb_httpcode_target_5xx_count_total", tgl), 1)
        self.assertEqual(moved(s, "berth_alb_httpcode_target_5xx_count_total", lbl), 1)
        self.assertEqual(moved(s, "berth_alb_httpcode_elb_5xx_count_total", lbl), 0)  # the target's 500 is not ALB's
        self.assertEqual(moved(s, "berth_alb_target_response_time_seconds_count", tgl), 7)
        self.assertGreater(moved(s, "berth_alb_target_response_time_seconds_sum", tgl), 0)
        self.assertLess(moved(s, "berth_alb_target_response_time_seconds_sum", tgl), 7 * 5)
        self.assertEqual(s.value("berth_alb_target_response_time_seconds_bucket", le="+Inf", **tgl),
                         s.value("berth_alb_target_response_time_seconds_count", **tgl))
        self.assertEqual(a.requests + b.requests, 7)
        # Two client connections so far (the keep-alive one and the single request's).
        self.assertEqual(moved(s, "berth_alb_new_connection_count_total", lbl), 2)

        # No registered target: ALB's 503, counted as ELB_5XX and not as a request to a target.
        base = self.scrape()
        for _ in range(2):
            status, headers, _ = request(d.address, PORT, dns, "/empty")
            self.assertEqual((status, headers["server"]), (503, "awselb/2.0"))
        s = self.scrape()
        self.assertEqual(moved(s, "berth_alb_httpcode_elb_5xx_count_total", lbl), 2)
        self.assertEqual(moved(s, "berth_alb_request_count_total", lbl), 0)
        self.assertEqual(moved(s, "berth_alb_request_count_total", emptyl), 0)

        # Fixed response, redirect and a malformed request are the load balancer's own answers.
        base = self.scrape()
        self.assertEqual(request(d.address, PORT, dns, "/teapot")[0], 418)
        self.assertEqual(request(d.address, PORT, dns, "/old")[0], 302)
        with socket.create_connection((d.address, PORT), timeout=5) as c:
            c.sendall(b"GET / HTTP/1.1\r\nHost: " + dns.encode() + b"\r\nBad Header: x\r\n\r\n")
            self.assertTrue(c.recv(65536).startswith(b"HTTP/1.1 400 "))
        s = self.scrape()
        self.assertEqual(moved(s, "berth_alb_http_fixed_response_count_total", lbl), 1)
        self.assertEqual(moved(s, "berth_alb_http_redirect_count_total", lbl), 1)
        self.assertEqual(moved(s, "berth_alb_httpcode_elb_3xx_count_total", lbl), 1)
        self.assertEqual(moved(s, "berth_alb_httpcode_elb_4xx_count_total", lbl), 2)  # 418 and 400
        self.assertEqual(moved(s, "berth_alb_request_count_total", lbl), 0)

        # Connections: three held open are active; closed, they are not.
        self.wait_for("no active connection", lambda s: s.value("berth_alb_active_connection_count", **lbl) == 0)
        held = [socket.create_connection((d.address, PORT), timeout=5) for _ in range(3)]
        try:
            self.wait_for("3 active connections",
                          lambda s: s.value("berth_alb_active_connection_count", **lbl) == 3)
        finally:
            for c in held:
                c.close()
        self.wait_for("connections closed", lambda s: s.value("berth_alb_active_connection_count", **lbl) == 0)

        # Health gauges follow the health checker: one target answers its check with 500.
        b.health_status = 500
        s = self.wait_for("1 unhealthy host", lambda s: s.value("berth_alb_unhealthy_host_count", **tgl) == 1)
        self.assertEqual(s.value("berth_alb_healthy_host_count", **tgl), 1)
        h = d.aws("elbv2", "describe-target-health", "--target-group-arn", tg["TargetGroupArn"])
        states = {t["Target"]["Id"]: t["TargetHealth"]["State"] for t in h["TargetHealthDescriptions"]}
        self.assertEqual(states, {a.address: "healthy", b.address: "unhealthy"})
        b.health_status = 200
        self.wait_for("2 healthy again", lambda s: s.value("berth_alb_healthy_host_count", **tgl) == 2)

        # A deleted load balancer leaves the scrape.
        d.aws("elbv2", "delete-load-balancer", "--load-balancer-arn", lb["LoadBalancerArn"])
        self.wait_for("deleted load balancer gone", lambda s: s.value("berth_alb_request_count_total", **lbl) is None)

    def test_endpoint_methods(self):
        status, body, _ = self.daemon.request("POST", "/_berth/metrics", b"x")
        self.assertEqual(status, 405)
        status, body, headers = self.daemon.signed_get("/_berth/metrics", method="HEAD")
        self.assertEqual(status, 200)
        self.assertEqual(body, b"")

    def test_scrape_needs_the_apis_credentials_and_health_tells_only_that_it_is_up(self):
        d = self.daemon
        status, body, _ = d.request("GET", "/_berth/metrics")
        self.assertEqual(status, 403, msg="an unsigned scrape must be refused: %r" % body[:300])
        self.assertEqual(json.loads(body)["__type"], "MissingAuthenticationTokenException", msg=body)
        self.assertNotIn(b"berth_alb", body)
        status, body, _ = d.signed_get("/_berth/metrics", secret="x" * 40)
        self.assertEqual((status, json.loads(body)["__type"]), (403, "InvalidSignatureException"), msg=body)
        # A user without a policy is denied; ReadOnlyAccess may read metrics.
        iam = d.client("iam")
        iam.create_user(UserName="scraper")
        key = iam.create_access_key(UserName="scraper")["AccessKey"]
        status, body, _ = d.signed_get("/_berth/metrics", access_key=key["AccessKeyId"],
                                       secret=key["SecretAccessKey"])
        self.assertEqual((status, json.loads(body)["__type"]), (403, "AccessDeniedException"), msg=body)
        iam.attach_user_policy(UserName="scraper", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
        status, body, _ = d.signed_get("/_berth/metrics", access_key=key["AccessKeyId"],
                                       secret=key["SecretAccessKey"])
        self.assertEqual(status, 200, msg=body[:300])
        self.assertIn(b"# TYPE berth_alb_request_count_total counter", body)

        status, body, _ = d.get("/_berth/health")
        self.assertEqual((status, json.loads(body)), (200, {"status": "ok"}))
        account = d.account_id()
        self.assertNotIn(account.encode(), body, msg="health must not give the account id")

    def test_metrics_unauthenticated_opens_the_scrape(self):
        d = Daemon(address=self.prefix + ".2", args=["--metrics-unauthenticated"]).start()
        try:
            status, body, headers = d.request("GET", "/_berth/metrics")
            self.assertEqual(status, 200, msg=body[:300])
            self.assertTrue(headers["content-type"].startswith("text/plain; version=0.0.4"), msg=headers)
            list(text_string_to_metric_families(body.decode()))
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
