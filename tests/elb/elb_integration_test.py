#!/usr/bin/python3
"""ELBv2 through `berth serve` with the unmodified aws CLI (/usr/bin/aws) and boto3,
and HTTP through the load balancer's listeners to small backends.

Run by ctest with BERTH_BIN set (tests/lib/berth_harness.py starts the daemon).
"""
import http.client
import json
import os
import random
import socket
import sys
import time
import unittest

import botocore.exceptions

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from berth_harness import Daemon  # noqa: E402
from backends import Backend, RawBackend, read_until_close, request  # noqa: E402


class ElbIntegrationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # The daemon on <prefix>.1, backends on other addresses of the same /16.
        cls.prefix = "127.%d.%d" % (random.randint(64, 250), random.randint(0, 255))
        cls.daemon = Daemon(address=cls.prefix + ".1").start()
        cls.elb = cls.daemon.client("elbv2")
        cls.ec2 = cls.daemon.client("ec2")
        cls.vpc = cls.ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        cls.subnets = [s["SubnetId"] for s in cls.ec2.describe_subnets()["Subnets"]][:2]
        cls.backends = []

    @classmethod
    def tearDownClass(cls):
        for b in cls.backends:
            try:
                b.stop()
            except Exception:
                pass
        cls.daemon.cleanup()

    def backend(self, name, host_octet, port=8080):
        b = Backend(name, "%s.%d" % (self.prefix, host_octet), port)
        self.backends.append(b)
        return b

    def create_lb(self, name, *extra):
        lb = self.cli("elbv2", "create-load-balancer", "--name", name, "--subnets", *self.subnets,
                             *extra)["LoadBalancers"][0]
        return lb

    def open_listener_port(self, lb, port):
        """The default security group admits only itself: let this machine in on the listener port."""
        for sg in lb["SecurityGroups"]:
            self.cli("ec2", "authorize-security-group-ingress", "--group-id", sg, "--protocol", "tcp",
                            "--port", str(port), "--cidr", "0.0.0.0/0")

    def create_tg(self, name, *extra):
        return self.cli("elbv2", "create-target-group", "--name", name, "--protocol", "HTTP", "--port",
                               "8080", "--vpc-id", self.vpc, "--target-type", "ip", "--health-check-path",
                               "/health", "--health-check-interval-seconds", "5", "--health-check-timeout-seconds",
                               "2", "--healthy-threshold-count", "2", "--unhealthy-threshold-count", "2",
                               *extra)["TargetGroups"][0]

    def health(self, tg_arn):
        out = self.elb.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]
        return {d["Target"]["Id"]: d["TargetHealth"] for d in out}

    def wait_health(self, tg_arn, wanted, timeout=30):
        deadline = time.time() + timeout
        while True:
            h = self.health(tg_arn)
            if all(h.get(t, {}).get("State") == s for t, s in wanted.items()):
                return h
            if time.time() > deadline:
                transitions = [line for line in self.daemon.log().splitlines() if "health of " in line]
                self.fail("target health %s never reached %s; the checker's transitions:\n%s" % (
                    h, wanted, "\n".join(transitions[-40:])))
            time.sleep(0.5)

    def cli(self, *args, check=True):
        """The aws CLI: parsed JSON, or with check=False (exit code, stderr) for assertCode."""
        if check:
            return self.daemon.aws(*args)
        rc, _, err = self.daemon.aws_result(*args)
        return rc, err

    def assertCode(self, result, code):
        rc, err = result
        self.assertNotEqual(rc, 0, err)
        self.assertIn("(%s)" % code, err)

    # ------------------------------------------------------------------ API

    def test_api_shapes_defaults_and_errors(self):
        lb = self.create_lb("api-shapes")
        self.assertEqual(lb["State"]["Code"], "provisioning")
        self.assertEqual(lb["Scheme"], "internet-facing")
        self.assertEqual(lb["Type"], "application")
        self.assertRegex(lb["LoadBalancerArn"],
                         r"^arn:aws:elasticloadbalancing:us-east-1:\d{12}:loadbalancer/app/api-shapes/[0-9a-f]{16}$")
        self.assertRegex(lb["DNSName"], r"^api-shapes-\d+\.us-east-1\.elb\.localhost$")
        self.assertEqual(len(lb["AvailabilityZones"]), 2)
        default_sg = self.ec2.describe_security_groups(
            Filters=[{"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]["GroupId"]
        self.assertEqual(lb["SecurityGroups"], [default_sg])
        # Idempotent for identical settings; same name, other settings: DuplicateLoadBalancerName.
        again = self.create_lb("api-shapes")
        self.assertEqual(again["LoadBalancerArn"], lb["LoadBalancerArn"])
        self.assertCode(self.cli("elbv2", "create-load-balancer", "--name", "api-shapes", "--subnets",
                                        *self.subnets, "--scheme", "internal", check=False),
                        "DuplicateLoadBalancerName")
        self.assertCode(self.cli("elbv2", "create-load-balancer", "--name", "one-subnet", "--subnets",
                                        self.subnets[0], check=False), "ValidationError")
        internal = self.create_lb("api-internal", "--scheme", "internal")
        self.assertTrue(internal["DNSName"].startswith("internal-api-internal-"))
        # The waiter sees provisioning -> active.
        self.cli("elbv2", "wait", "load-balancer-available", "--load-balancer-arns", lb["LoadBalancerArn"])
        self.assertEqual(self.elb.describe_load_balancers(Names=["api-shapes"])["LoadBalancers"][0]["State"]["Code"],
                         "active")
        # Paging with PageSize / Marker.
        page = self.elb.describe_load_balancers(PageSize=1)
        self.assertEqual(len(page["LoadBalancers"]), 1)
        self.assertIn("NextMarker", page)
        rest = self.elb.describe_load_balancers(PageSize=400, Marker=page["NextMarker"])
        self.assertNotIn("NextMarker", rest)
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.elb.describe_load_balancers(Names=["nope"])
        self.assertEqual(e.exception.response["Error"]["Code"], "LoadBalancerNotFound")
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)

        # Target group defaults (§3.2) and errors.
        tg = self.cli("elbv2", "create-target-group", "--name", "api-defaults", "--protocol", "HTTP",
                             "--port", "80", "--vpc-id", self.vpc)["TargetGroups"][0]
        for key, value in {"TargetType": "instance", "HealthCheckProtocol": "HTTP", "HealthCheckPort": "traffic-port",
                           "HealthCheckEnabled": True, "HealthCheckIntervalSeconds": 30,
                           "HealthCheckTimeoutSeconds": 5, "HealthyThresholdCount": 5, "UnhealthyThresholdCount": 2,
                           "HealthCheckPath": "/", "Matcher": {"HttpCode": "200"}, "ProtocolVersion": "HTTP1",
                           "LoadBalancerArns": []}.items():
            self.assertEqual(tg[key], value, key)
        self.assertCode(self.cli("elbv2", "create-target-group", "--name", "api-defaults", "--protocol",
                                        "HTTP", "--port", "81", "--vpc-id", self.vpc, check=False),
                        "DuplicateTargetGroupName")
        self.assertCode(self.cli("elbv2", "create-target-group", "--name", "bad-interval", "--protocol",
                                        "HTTP", "--port", "81", "--vpc-id", self.vpc,
                                        "--health-check-interval-seconds", "10", "--health-check-timeout-seconds",
                                        "10", check=False), "ValidationError")
        attrs = {a["Key"]: a["Value"] for a in self.elb.describe_target_group_attributes(
            TargetGroupArn=tg["TargetGroupArn"])["Attributes"]}
        self.assertEqual(attrs["deregistration_delay.timeout_seconds"], "300")
        self.assertEqual(attrs["load_balancing.algorithm.type"], "round_robin")
        self.elb.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"], Attributes=[
            {"Key": "load_balancing.algorithm.type", "Value": "least_outstanding_requests"}])
        modified = self.elb.modify_target_group(TargetGroupArn=tg["TargetGroupArn"], HealthCheckPath="/ping",
                                                Matcher={"HttpCode": "200-299"})["TargetGroups"][0]
        self.assertEqual(modified["HealthCheckPath"], "/ping")
        self.assertEqual(modified["Matcher"]["HttpCode"], "200-299")

        # Listeners, rules, in-use and protection errors.
        listener = self.cli("elbv2", "create-listener", "--load-balancer-arn", lb["LoadBalancerArn"],
                                   "--protocol", "HTTP", "--port", "9100", "--default-actions",
                                   "Type=forward,TargetGroupArn=" + tg["TargetGroupArn"])["Listeners"][0]
        self.assertEqual(listener["DefaultActions"][0]["ForwardConfig"]["TargetGroups"][0]["Weight"], 1)
        self.assertCode(self.cli("elbv2", "create-listener", "--load-balancer-arn", lb["LoadBalancerArn"],
                                        "--protocol", "HTTP", "--port", "9100", "--default-actions",
                                        "Type=fixed-response,FixedResponseConfig={StatusCode=404}", check=False),
                        "DuplicateListener")
        self.assertEqual(self.elb.describe_target_groups(Names=["api-defaults"])["TargetGroups"][0]
                         ["LoadBalancerArns"], [lb["LoadBalancerArn"]])
        self.assertCode(self.cli("elbv2", "delete-target-group", "--target-group-arn", tg["TargetGroupArn"],
                                        check=False), "ResourceInUse")
        cond = json.dumps([{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/a/*"]}}])
        fixed = "Type=fixed-response,FixedResponseConfig={StatusCode=200,ContentType=text/plain,MessageBody=a}"
        r1 = self.cli("elbv2", "create-rule", "--listener-arn", listener["ListenerArn"], "--priority", "10",
                             "--conditions", cond, "--actions", fixed)["Rules"][0]
        self.assertRegex(r1["RuleArn"], r":listener-rule/app/api-shapes/[0-9a-f]{16}/[0-9a-f]{16}/[0-9a-f]{16}$")
        self.assertCode(self.cli("elbv2", "create-rule", "--listener-arn", listener["ListenerArn"],
                                        "--priority", "10", "--conditions", cond, "--actions", fixed, check=False),
                        "PriorityInUse")
        r2 = self.cli("elbv2", "create-rule", "--listener-arn", listener["ListenerArn"], "--priority", "20",
                             "--conditions", cond, "--actions", fixed)["Rules"][0]
        self.cli("elbv2", "set-rule-priorities", "--rule-priorities",
                        "RuleArn=%s,Priority=30" % r1["RuleArn"], "RuleArn=%s,Priority=5" % r2["RuleArn"])
        rules = self.elb.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
        self.assertEqual([r["Priority"] for r in rules], ["5", "30", "default"])
        self.assertEqual([r["IsDefault"] for r in rules], [False, False, True])
        self.assertCode(self.cli("elbv2", "delete-rule", "--rule-arn", rules[-1]["RuleArn"], check=False),
                        "OperationNotPermitted")
        self.cli("elbv2", "delete-rule", "--rule-arn", r1["RuleArn"])
        self.assertCode(self.cli("elbv2", "delete-rule", "--rule-arn", r1["RuleArn"], check=False),
                        "RuleNotFound")

        # Tags.
        self.cli("elbv2", "add-tags", "--resource-arns", lb["LoadBalancerArn"], tg["TargetGroupArn"],
                        "--tags", "Key=env,Value=test", "Key=team,Value=berth")
        self.cli("elbv2", "remove-tags", "--resource-arns", lb["LoadBalancerArn"], "--tag-keys", "team")
        tags = self.elb.describe_tags(ResourceArns=[lb["LoadBalancerArn"], tg["TargetGroupArn"]])["TagDescriptions"]
        self.assertEqual(tags[0]["Tags"], [{"Key": "env", "Value": "test"}])
        self.assertEqual(len(tags[1]["Tags"]), 2)

        # Deletion protection, then delete (listeners go with the load balancer).
        self.elb.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[
            {"Key": "deletion_protection.enabled", "Value": "true"}])
        self.assertCode(self.cli("elbv2", "delete-load-balancer", "--load-balancer-arn",
                                        lb["LoadBalancerArn"], check=False), "OperationNotPermitted")
        self.elb.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[
            {"Key": "deletion_protection.enabled", "Value": "false"}])
        # The load balancer holds its security group: EC2 refuses to delete it meanwhile.
        sg = self.ec2.create_security_group(GroupName="api-shapes-sg", Description="x", VpcId=self.vpc)["GroupId"]
        self.cli("elbv2", "set-security-groups", "--load-balancer-arn", lb["LoadBalancerArn"],
                        "--security-groups", sg)
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.ec2.delete_security_group(GroupId=sg)
        self.assertEqual(e.exception.response["Error"]["Code"], "DependencyViolation")
        self.cli("elbv2", "delete-load-balancer", "--load-balancer-arn", lb["LoadBalancerArn"])
        self.cli("elbv2", "delete-load-balancer", "--load-balancer-arn", lb["LoadBalancerArn"])  # absent: ok
        self.ec2.delete_security_group(GroupId=sg)
        self.assertCode(self.cli("elbv2", "describe-listeners", "--listener-arns", listener["ListenerArn"],
                                        check=False), "ListenerNotFound")
        self.cli("elbv2", "delete-target-group", "--target-group-arn", tg["TargetGroupArn"])
        self.cli("elbv2", "wait", "load-balancers-deleted", "--load-balancer-arns", lb["LoadBalancerArn"])

    # ------------------------------------------------------------------ data plane

    def test_routing_health_and_failures(self):
        blue = self.backend("blue", 10)
        green = self.backend("green", 11)
        lb = self.create_lb("routing")
        dns = lb["DNSName"]
        port = 8080
        tg_blue = self.create_tg("blue")
        tg_green = self.create_tg("green")
        tg_empty = self.create_tg("empty")
        listener = self.cli("elbv2", "create-listener", "--load-balancer-arn", lb["LoadBalancerArn"],
                                   "--protocol", "HTTP", "--port", str(port), "--default-actions",
                                   "Type=forward,TargetGroupArn=" + tg_blue["TargetGroupArn"])["Listeners"][0]
        self.cli("elbv2", "register-targets", "--target-group-arn", tg_blue["TargetGroupArn"], "--targets",
                        "Id=%s" % blue.address)
        self.assertEqual(self.health(tg_blue["TargetGroupArn"])[blue.address]["State"], "initial")
        self.cli("elbv2", "register-targets", "--target-group-arn", tg_green["TargetGroupArn"], "--targets",
                        "Id=%s,Port=8080" % green.address)
        la = listener["ListenerArn"]

        def rule(priority, conditions, action):
            self.cli("elbv2", "create-rule", "--listener-arn", la, "--priority", str(priority),
                            "--conditions", json.dumps(conditions), "--actions", json.dumps(action))

        fwd = lambda tg: [{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}]
        rule(10, [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/green/*"]}}], fwd(tg_green))
        rule(20, [{"Field": "host-header", "HostHeaderConfig": {"Values": ["green.example.com"]}}], fwd(tg_green))
        rule(30, [{"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Color", "Values": ["gr*"]}}],
             fwd(tg_green))
        rule(40, [{"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["PUT"]}}], fwd(tg_green))
        rule(50, [{"Field": "query-string", "QueryStringConfig": {"Values": [{"Key": "color", "Value": "green"}]}}],
             fwd(tg_green))
        rule(60, [{"Field": "source-ip", "SourceIpConfig": {"Values": ["10.0.0.0/8"]}}], fwd(tg_green))
        rule(70, [{"Field": "path-pattern", "Values": ["/fixed"]}],
             [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "418", "ContentType": "text/plain",
                                                                  "MessageBody": "teapot"}}])
        rule(80, [{"Field": "path-pattern", "Values": ["/old/*"]}],
             [{"Type": "redirect", "RedirectConfig": {"Path": "/new/#{path}", "StatusCode": "HTTP_301"}}])
        rule(90, [{"Field": "path-pattern", "Values": ["/empty"]}], fwd(tg_empty))

        # Security groups: the default group admits only itself, so this machine is dropped (no answer).
        with self.assertRaises((ConnectionError, http.client.RemoteDisconnected)):
            request(self.daemon.address, port, dns)
        self.open_listener_port(lb, port)

        # Health: initial -> healthy; the CLI waiter sees it.
        self.cli("elbv2", "wait", "target-in-service", "--target-group-arn", tg_blue["TargetGroupArn"])
        self.wait_health(tg_green["TargetGroupArn"], {green.address: "healthy"})

        def who(path="/", host=dns, **kw):
            status, headers, body = request(self.daemon.address, port, host, path, **kw)
            self.assertEqual(status, 200, body)
            return json.loads(body)

        self.assertEqual(who()["backend"], "blue")
        got = who("/x?y=1", headers={"X-Forwarded-For": "203.0.113.7"})
        h = got["headers"]
        self.assertEqual(got["path"], "/x?y=1")
        self.assertEqual(h["x-forwarded-for"], "203.0.113.7, 127.0.0.1")
        self.assertEqual(h["x-forwarded-proto"], "http")
        self.assertEqual(h["x-forwarded-port"], str(port))
        self.assertRegex(h["x-amzn-trace-id"], r"^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$")
        self.assertEqual(h["host"], dns)
        self.assertEqual(who("/green/page")["backend"], "green")
        self.assertEqual(who("/", host="green.example.com")["backend"], "green")
        self.assertEqual(who("/", headers={"X-Color": "GREEN"})["backend"], "green")
        self.assertEqual(who("/", headers={"X-Color": "blue"})["backend"], "blue")
        self.assertEqual(who("/", method="PUT", body=b"x")["backend"], "green")
        posted = who("/", method="POST", body=b"hello")
        self.assertEqual((posted["backend"], posted["body"]), ("blue", "hello"))
        self.assertEqual(who("/?color=green")["backend"], "green")
        self.assertEqual(who("/?color=red")["backend"], "blue")
        status, headers, body = request(self.daemon.address, port, dns, "/fixed")
        self.assertEqual((status, body, headers["content-type"]), (418, b"teapot", "text/plain"))
        status, headers, body = request(self.daemon.address, port, dns + ":8080", "/old/a/b?q=1")
        self.assertEqual(status, 301)
        self.assertEqual(headers["location"], "http://%s:8080/new/old/a/b?q=1" % dns)
        # No registered target: ALB's own 503.
        status, headers, body = request(self.daemon.address, port, dns, "/empty")
        self.assertEqual(status, 503)
        self.assertEqual(headers["server"], "awselb/2.0")
        self.assertEqual(len(body), 162)
        self.assertIn(b"503 Service Temporarily Unavailable", body)

        # Keep-alive through the proxy: several requests on one client connection.
        conn = http.client.HTTPConnection(self.daemon.address, port, timeout=10)
        for _ in range(5):
            conn.request("GET", "/", headers={"Host": dns})
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            resp.read()
        conn.close()

        # A target that refuses connections costs the client nothing (retry on another target);
        # it turns unhealthy (connection refused), a 500 health answer too, then fail open.
        dead = "%s.12" % self.prefix
        self.cli("elbv2", "register-targets", "--target-group-arn", tg_blue["TargetGroupArn"], "--targets",
                        "Id=%s" % dead, "Id=%s" % green.address)
        for _ in range(10):
            self.assertIn(who()["backend"], ("blue", "green"))
        self.wait_health(tg_blue["TargetGroupArn"], {dead: "unhealthy", green.address: "healthy",
                                                     blue.address: "healthy"})
        h = self.health(tg_blue["TargetGroupArn"])[dead]
        self.assertEqual((h["Reason"], h["Description"]), ("Target.FailedHealthChecks", "Health checks failed"))
        blue.health_status = 500
        h = self.wait_health(tg_blue["TargetGroupArn"], {blue.address: "unhealthy"})[blue.address]
        self.assertEqual(h["Reason"], "Target.ResponseCodeMismatch")
        self.assertEqual(h["Description"], "Health checks failed with these codes: [500]")
        seen = {who()["backend"] for _ in range(6)}
        self.assertEqual(seen, {"green"})  # only the healthy target gets traffic
        green.health_status = 500
        self.wait_health(tg_blue["TargetGroupArn"], {green.address: "unhealthy"})
        # Fail open, and the dead one is retried elsewhere: every answer is
        # blue's or green's (who() asserts a 200), and soon both answer.
        seen = []
        while set(seen) != {"blue", "green"} and len(seen) < 30:
            seen.append(who()["backend"])
        self.assertEqual(set(seen), {"blue", "green"}, "answers in order: %s; health: %s" % (
            seen, self.health(tg_blue["TargetGroupArn"])))
        blue.health_status = green.health_status = 200

        # Draining: no new requests; described as draining; then unused after the delay.
        self.elb.modify_target_group_attributes(TargetGroupArn=tg_blue["TargetGroupArn"], Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": "2"}])
        self.cli("elbv2", "deregister-targets", "--target-group-arn", tg_blue["TargetGroupArn"], "--targets",
                        "Id=%s" % green.address, "Id=%s" % dead)
        h = self.health(tg_blue["TargetGroupArn"])[green.address]
        self.assertEqual((h["State"], h["Reason"]), ("draining", "Target.DeregistrationInProgress"))
        self.assertEqual({who()["backend"] for _ in range(4)}, {"blue"})
        time.sleep(2.2)
        out = self.elb.describe_target_health(TargetGroupArn=tg_blue["TargetGroupArn"],
                                              Targets=[{"Id": green.address}])["TargetHealthDescriptions"]
        self.assertEqual(out[0]["TargetHealth"]["State"], "unused")
        self.assertEqual(out[0]["TargetHealth"]["Reason"], "Target.NotRegistered")
        self.cli("elbv2", "wait", "target-deregistered", "--target-group-arn", tg_blue["TargetGroupArn"],
                        "--targets", "Id=%s" % green.address)

        # A stopped backend behind a forward action: 502 from ALB when every target refuses.
        self.cli("elbv2", "modify-listener", "--listener-arn", la, "--default-actions",
                        "Type=forward,TargetGroupArn=" + tg_empty["TargetGroupArn"])
        self.cli("elbv2", "register-targets", "--target-group-arn", tg_empty["TargetGroupArn"], "--targets",
                        "Id=%s" % dead)
        status, headers, body = request(self.daemon.address, port, dns, "/")
        self.assertEqual(status, 502)
        self.assertIn(b"502 Bad Gateway", body)

    def test_faulty_backends_and_bad_requests(self):
        hang = RawBackend("%s.30" % self.prefix, None)
        garbage = RawBackend("%s.31" % self.prefix, b"this is not http\r\n\r\n")
        short = RawBackend("%s.32" % self.prefix,
                           b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part")
        self.backends.extend([hang, garbage, short])
        port = 8070
        lb = self.create_lb("faults")
        self.open_listener_port(lb, port)
        groups = {}
        for name, backend in (("hang", hang), ("garbage", garbage), ("short", short)):
            groups[name] = self.create_tg("fault-" + name)
            self.cli("elbv2", "register-targets", "--target-group-arn", groups[name]["TargetGroupArn"],
                            "--targets", "Id=%s" % backend.address)
        listener = self.cli("elbv2", "create-listener", "--load-balancer-arn", lb["LoadBalancerArn"],
                                   "--protocol", "HTTP", "--port", str(port), "--default-actions",
                                   "Type=forward,TargetGroupArn=" + groups["garbage"]["TargetGroupArn"])["Listeners"][0]
        for priority, name in ((1, "hang"), (2, "short")):
            self.cli("elbv2", "create-rule", "--listener-arn", listener["ListenerArn"], "--priority",
                            str(priority), "--conditions", "Field=path-pattern,Values=/%s" % name, "--actions",
                            "Type=forward,TargetGroupArn=" + groups[name]["TargetGroupArn"])
        self.elb.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[
            {"Key": "idle_timeout.timeout_seconds", "Value": "1"}])
        dns = lb["DNSName"]
        time.sleep(0.2)
        # Garbage: 502; a body shorter than its Content-Length: 504; no answer within the idle timeout: 504.
        status, headers, body = request(self.daemon.address, port, dns, "/")
        self.assertEqual((status, headers["server"]), (502, "awselb/2.0"))
        self.assertEqual(len(body), 122)
        status, _, _ = request(self.daemon.address, port, dns, "/short")
        self.assertEqual(status, 504)
        started = time.time()
        status, _, body = request(self.daemon.address, port, dns, "/hang")
        self.assertEqual(status, 504)
        self.assertIn(b"504 Gateway Time-out", body)
        self.assertLess(time.time() - started, 5)
        # Health reasons: a hanging target times out, garbage fails the checks.
        h = self.wait_health(groups["hang"]["TargetGroupArn"], {hang.address: "unhealthy"})[hang.address]
        self.assertEqual((h["Reason"], h["Description"]), ("Target.Timeout", "Request timed out"))
        h = self.wait_health(groups["garbage"]["TargetGroupArn"], {garbage.address: "unhealthy"})[garbage.address]
        self.assertEqual(h["Reason"], "Target.FailedHealthChecks")
        # Bad requests: an oversized header and a smuggling attempt get 400 and a closed connection.
        for raw in (b"GET / HTTP/1.1\r\nHost: " + dns.encode() + b"\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n",
                    b"POST / HTTP/1.1\r\nHost: " + dns.encode() +
                    b"\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"):
            with socket.create_connection((self.daemon.address, port), timeout=5) as c:
                c.sendall(raw)
                got = read_until_close(c)
            self.assertTrue(got.startswith(b"HTTP/1.1 400 Bad Request\r\n"), got[:200])
            self.assertIn(b"Server: awselb/2.0", got)

    def test_instance_target_reached_through_source_group(self):
        # The seed's pattern: the instances' group admits the ALB's group only.
        alb_sg = self.ec2.create_security_group(GroupName="inst-alb-sg", Description="alb", VpcId=self.vpc)["GroupId"]
        app_sg = self.ec2.create_security_group(GroupName="inst-app-sg", Description="app", VpcId=self.vpc)["GroupId"]
        port = random.randint(20000, 60000)
        self.ec2.authorize_security_group_ingress(GroupId=alb_sg, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": 8060, "ToPort": 8060, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        run = self.cli("ec2", "run-instances", "--image-id", "ami-05c13eab67c5d8861", "--instance-type",
                              "t2.micro", "--security-group-ids", app_sg)
        instance = run["Instances"][0]
        self.cli("ec2", "wait", "instance-running", "--instance-ids", instance["InstanceId"])
        app = Backend("instance", instance["PublicIpAddress"], port)
        self.backends.append(app)
        lb = self.create_lb("inst", "--security-groups", alb_sg)
        tg = self.cli("elbv2", "create-target-group", "--name", "inst", "--protocol", "HTTP", "--port",
                             str(port), "--vpc-id", self.vpc, "--health-check-path", "/health",
                             "--health-check-interval-seconds", "5", "--health-check-timeout-seconds", "2",
                             "--healthy-threshold-count", "2")["TargetGroups"][0]
        self.cli("elbv2", "create-listener", "--load-balancer-arn", lb["LoadBalancerArn"], "--protocol",
                        "HTTP", "--port", "8060", "--default-actions",
                        "Type=forward,TargetGroupArn=" + tg["TargetGroupArn"])
        self.assertCode(self.cli("elbv2", "register-targets", "--target-group-arn", tg["TargetGroupArn"],
                                        "--targets", "Id=i-0123456789abcdef0", check=False), "InvalidTarget")
        self.cli("elbv2", "register-targets", "--target-group-arn", tg["TargetGroupArn"], "--targets",
                        "Id=" + instance["InstanceId"])
        # No rule admits the load balancer's group yet: checks time out, requests get 504.
        h = self.wait_health(tg["TargetGroupArn"], {instance["InstanceId"]: "unhealthy"})[instance["InstanceId"]]
        self.assertEqual(h["Reason"], "Target.Timeout")
        status, _, _ = request(self.daemon.address, 8060, lb["DNSName"])
        self.assertEqual(status, 504)
        self.assertEqual(app.requests, 0)
        self.ec2.authorize_security_group_ingress(GroupId=app_sg, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": port, "ToPort": port, "UserIdGroupPairs": [{"GroupId": alb_sg}]}])
        self.wait_health(tg["TargetGroupArn"], {instance["InstanceId"]: "healthy"})
        status, _, body = request(self.daemon.address, 8060, lb["DNSName"])
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["backend"], "instance")
        self.ec2.stop_instances(InstanceIds=[instance["InstanceId"]])
        h = self.health(tg["TargetGroupArn"])[instance["InstanceId"]]
        self.assertEqual((h["State"], h["Reason"]), ("unused", "Target.InvalidState"))
        self.assertEqual(h["Description"], "Target is in the stopped state")

    def test_shared_port_by_host_and_security_group_admit(self):
        a_backend = self.backend("a", 20)
        b_backend = self.backend("b", 21)
        port = 8090
        sg = self.ec2.create_security_group(GroupName="shared-port", Description="lb", VpcId=self.vpc)["GroupId"]
        lbs = []
        for name, backend in (("share-a", a_backend), ("share-b", b_backend)):
            lb = self.create_lb(name, "--security-groups", sg)
            tg = self.create_tg(name)
            self.cli("elbv2", "create-listener", "--load-balancer-arn", lb["LoadBalancerArn"], "--protocol",
                            "HTTP", "--port", str(port), "--default-actions",
                            "Type=forward,TargetGroupArn=" + tg["TargetGroupArn"])
            self.cli("elbv2", "register-targets", "--target-group-arn", tg["TargetGroupArn"], "--targets",
                            "Id=%s" % backend.address)
            lbs.append(lb)
        # No ingress rule yet: dropped.
        with self.assertRaises((ConnectionError, http.client.RemoteDisconnected)):
            request(self.daemon.address, port, lbs[0]["DNSName"])
        self.ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "127.0.0.0/8"}]}])
        # Initial targets already get traffic while none is healthy (fail open).
        for lb, expected in zip(lbs, ("a", "b")):
            status, _, body = request(self.daemon.address, port, lb["DNSName"])
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(body)["backend"], expected)
        # Revoking the rule drops new connections again.
        self.ec2.revoke_security_group_ingress(GroupId=sg, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "127.0.0.0/8"}]}])
        time.sleep(0.2)
        with self.assertRaises((ConnectionError, http.client.RemoteDisconnected)):
            request(self.daemon.address, port, lbs[1]["DNSName"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
