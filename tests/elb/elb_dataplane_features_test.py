#!/usr/bin/python3
"""Load balancer and target group attributes the data plane honours, set with
the aws CLI and observed through a listener: routing.http.drop_invalid_header_fields.enabled,
stickiness (lb_cookie: AWSALB / AWSALBCORS) and slow_start.duration_seconds.
And ECS tasks reached by the load balancer on private addresses, admitted
only by a --source-group rule naming the load balancer's group: a bridge task
on a container instance (instance target, the instance's private address) and
a FARGATE task (IP target, its ENI's private address) (needs root, runc,
umoci, skopeo, busybox-static).

Run by ctest with BERTH_BIN set (tests/lib/berth_harness.py starts the daemon).
"""
import email.utils
import http.client
import shutil
import socket
import tempfile
import json
import os
import random
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from berth_harness import Daemon  # noqa: E402
from http_backend import HttpBackend  # noqa: E402
from oci_images import BUSYBOX_INDEX_HTML, make_busybox_layout  # noqa: E402


class Target(HttpBackend):
    """An HTTP/1.1 server on address:8080 that answers its name and the headers it got (JSON)."""

    def __init__(self, name, address):
        self.name, self.hits = name, 0
        super().__init__(address, self.answer)

    def answer(self, request):
        if request.path != "/health":
            self.hits += 1
        body = json.dumps({"target": self.name,
                           "headers": [[k, v] for k, v in request.headers.items()]}).encode()
        return 200, {"Content-Type": "application/json"}, body


class DataPlaneFeaturesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.prefix = "127.%d.%d" % (random.randint(64, 250), random.randint(0, 255))
        cls.daemon = Daemon(address=cls.prefix + ".1", env={"BERTH_TASK_RUNTIME": "none"}).start()
        cls.elb = cls.daemon.client("elbv2")
        cls.ec2 = cls.daemon.client("ec2")
        cls.vpc = cls.ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        cls.subnets = [s["SubnetId"] for s in cls.ec2.describe_subnets()["Subnets"]][:2]
        cls.targets = []

    @classmethod
    def tearDownClass(cls):
        for t in cls.targets:
            t.stop()
        cls.daemon.cleanup()

    def target(self, name, octet):
        t = Target(name, "%s.%d" % (self.prefix, octet))
        self.targets.append(t)
        return t

    def load_balancer(self, name, port, targets, **group_attributes):
        """A load balancer open to this machine on `port`, forwarding to an ip target group of `targets`."""
        sg = self.ec2.create_security_group(GroupName=name, Description=name, VpcId=self.vpc)["GroupId"]
        self.ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "127.0.0.0/8"}]}])
        lb = self.daemon.aws("elbv2", "create-load-balancer", "--name", name, "--subnets", *self.subnets,
                             "--security-groups", sg)["LoadBalancers"][0]
        tg = self.daemon.aws("elbv2", "create-target-group", "--name", name, "--protocol", "HTTP", "--port", "8080",
                             "--vpc-id", self.vpc, "--target-type", "ip", "--health-check-path", "/health",
                             "--health-check-interval-seconds", "5", "--health-check-timeout-seconds", "2",
                             "--healthy-threshold-count", "2")["TargetGroups"][0]
        if group_attributes:
            self.elb.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"], Attributes=[
                {"Key": k, "Value": v} for k, v in group_attributes.items()])
        self.daemon.aws("elbv2", "create-listener", "--load-balancer-arn", lb["LoadBalancerArn"], "--protocol",
                        "HTTP", "--port", str(port), "--default-actions",
                        "Type=forward,TargetGroupArn=" + tg["TargetGroupArn"])
        if targets:
            self.elb.register_targets(TargetGroupArn=tg["TargetGroupArn"],
                                      Targets=[{"Id": t.address} for t in targets])
            self.wait_healthy(tg, targets)
        return lb, tg

    def wait_healthy(self, tg, targets, timeout=40):
        deadline = time.time() + timeout
        while True:
            out = self.elb.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]
            states = {d["Target"]["Id"]: d["TargetHealth"]["State"] for d in out}
            if all(states.get(t.address) == "healthy" for t in targets):
                return
            if time.time() > deadline:
                self.fail("targets never healthy: %s" % states)
            time.sleep(0.2)

    def get(self, lb, port, headers=None):
        """GET / on a fresh connection: (status, response headers as a list of pairs, JSON body)."""
        conn = http.client.HTTPConnection(self.daemon.address, port, timeout=10)
        try:
            conn.request("GET", "/", headers=dict({"Host": lb["DNSName"]}, **(headers or {})))
            r = conn.getresponse()
            return r.status, r.getheaders(), json.loads(r.read())
        finally:
            conn.close()

    def test_drop_invalid_header_fields(self):
        t = self.target("headers", 10)
        port = 8101
        lb, _ = self.load_balancer("drop-invalid", port, [t])
        sent = {"X_Under_Score": "1", "X.Dotted": "2", "X-Valid-Name": "3"}

        def received():
            status, _, body = self.get(lb, port, sent)
            self.assertEqual(status, 200)
            return {k.lower(): v for k, v in body["headers"]}

        # Off by default: every field reaches the target as sent.
        got = received()
        self.assertEqual((got.get("x_under_score"), got.get("x.dotted"), got.get("x-valid-name")), ("1", "2", "3"))
        self.elb.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[
            {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"}])
        deadline = time.time() + 5
        while "x_under_score" in received() and time.time() < deadline:
            time.sleep(0.1)
        # On: names with anything but letters, digits and hyphens are dropped, the request still served.
        got = received()
        self.assertNotIn("x_under_score", got)
        self.assertNotIn("x.dotted", got)
        self.assertEqual(got.get("x-valid-name"), "3")
        self.assertEqual(got.get("host"), lb["DNSName"])

    def test_stickiness_lb_cookie(self):
        a, b = self.target("sticky-a", 20), self.target("sticky-b", 21)
        port = 8102
        lb, tg = self.load_balancer("sticky", port, [a, b], **{
            "stickiness.enabled": "true", "stickiness.type": "lb_cookie",
            "stickiness.lb_cookie.duration_seconds": "120"})
        status, headers, body = self.get(lb, port)
        self.assertEqual(status, 200)
        cookies = [v for k, v in headers if k.lower() == "set-cookie"]
        self.assertEqual(len(cookies), 2, headers)
        awsalb = next(c for c in cookies if c.startswith("AWSALB="))
        cors = next(c for c in cookies if c.startswith("AWSALBCORS="))
        value = awsalb.split(";")[0][len("AWSALB="):]
        self.assertEqual(cors.split(";")[0], "AWSALBCORS=" + value)
        self.assertIn("SameSite=None", cors)
        self.assertIn("Path=/", awsalb)
        expires = email.utils.parsedate_to_datetime(awsalb.split("Expires=")[1].split(";")[0]).timestamp()
        self.assertAlmostEqual(expires, time.time() + 120, delta=10)
        pinned = body["target"]
        # With the cookie every request goes to the same target; without it, both share the load.
        for _ in range(10):
            _, _, body = self.get(lb, port, {"Cookie": "session=1; AWSALB=" + value})
            self.assertEqual(body["target"], pinned)
        seen = {self.get(lb, port)[2]["target"] for _ in range(6)}
        self.assertEqual(seen, {"sticky-a", "sticky-b"})
        # Stickiness off: no cookie is set.
        self.elb.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"], Attributes=[
            {"Key": "stickiness.enabled", "Value": "false"}])
        deadline = time.time() + 5
        while any(k.lower() == "set-cookie" for k, _ in self.get(lb, port)[1]) and time.time() < deadline:
            time.sleep(0.1)
        self.assertFalse(any(k.lower() == "set-cookie" for k, _ in self.get(lb, port)[1]))

    def test_slow_start_ramps_a_new_target_in(self):
        old, new = self.target("settled", 30), self.target("newcomer", 31)
        port = 8103
        lb, tg = self.load_balancer("slow-start", port, [old], **{"slow_start.duration_seconds": "30"})
        self.elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": new.address}])
        self.wait_healthy(tg, [new])
        # Healthy for at most a second or two of a 30 s ramp: a few percent of the requests.
        new.hits = old.hits = 0
        for _ in range(60):
            self.get(lb, port)
        self.assertLessEqual(new.hits, 9, (new.hits, old.hits))
        self.assertEqual(new.hits + old.hits, 60)
        # Without slow start, a newly healthy target takes its full share at once.
        self.elb.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"], Attributes=[
            {"Key": "slow_start.duration_seconds", "Value": "0"}])
        time.sleep(0.3)
        new.hits = old.hits = 0
        for _ in range(60):
            self.get(lb, port)
        self.assertEqual(new.hits + old.hits, 60)
        self.assertGreaterEqual(new.hits, 20, (new.hits, old.hits))  # round robin per event loop: about half


class InstanceTargetThroughPrivateRoute(unittest.TestCase):
    """The workshop's pattern with real tasks: the target's group admits only the ALB's group."""

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise RuntimeError("needs root (runc, network namespaces)")
        for tool in ("runc", "umoci", "skopeo"):
            if not shutil.which(tool):
                raise RuntimeError("needs " + tool)
        cls.prefix = "127.%d.%d" % (random.randint(64, 250), random.randint(0, 255))
        cls.daemon = Daemon(address=cls.prefix + ".1").start()
        cls.work = tempfile.mkdtemp(prefix="berth-elb-private-")
        cls.task_arns = []

    @classmethod
    def tearDownClass(cls):
        # Containers outlive a daemon stop (the next one adopts them): stop them first.
        d = cls.daemon
        for arn in cls.task_arns:
            d.aws_result("ecs", "stop-task", "--cluster", "private", "--task", arn)
        deadline = time.time() + 20
        while cls.task_arns and time.time() < deadline:
            rc, out, _ = d.aws_result("ecs", "describe-tasks", "--cluster", "private", "--tasks", *cls.task_arns)
            if rc != 0 or all(t["lastStatus"] == "STOPPED" for t in out.get("tasks", [])):
                break
            time.sleep(0.2)
        shutil.rmtree(cls.work, ignore_errors=True)
        d.cleanup()

    def health(self, tg_arn):
        out = self.daemon.aws("elbv2", "describe-target-health", "--target-group-arn", tg_arn)
        return out["TargetHealthDescriptions"][0]["TargetHealth"]

    def wait_state(self, tg_arn, state, timeout=40):
        deadline = time.time() + timeout
        while True:
            h = self.health(tg_arn)
            if h["State"] == state:
                return h
            if time.time() > deadline:
                self.fail("target never %s: %s\n%s" % (state, h, self.daemon.log()[-3000:]))
            time.sleep(0.5)

    def get(self, dns, port):
        conn = http.client.HTTPConnection(self.daemon.address, port, timeout=15)
        try:
            conn.request("GET", "/", headers={"Host": dns})
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def image(self):
        """busybox in the registry (once for the class): its repository URI."""
        cls = type(self)
        if getattr(cls, "uri", None):
            return cls.uri
        d = self.daemon
        uri = d.aws("ecr", "create-repository", "--repository-name", "private-httpd")["repository"]["repositoryUri"]
        layout = os.path.join(self.work, "layout")
        make_busybox_layout(layout, "latest")
        d.push_layout(layout, uri + ":latest")
        cls.uri = uri
        return uri

    def wait_running(self, arn):
        deadline = time.time() + 60
        while True:
            task = self.daemon.aws("ecs", "describe-tasks", "--cluster", "private", "--tasks", arn)["tasks"][0]
            if task["lastStatus"] in ("RUNNING", "STOPPED"):
                break
            self.assertLess(time.time(), deadline, "task never RUNNING")
            time.sleep(0.2)
        self.assertEqual(task["lastStatus"], "RUNNING", json.dumps(task))
        return task

    def test_source_group_rule_admits_the_load_balancer_through_the_private_route(self):
        d = self.daemon
        uri = self.image()
        vpc = d.aws("ec2", "describe-vpcs")["Vpcs"][0]["VpcId"]
        subnets = [s["SubnetId"] for s in d.aws("ec2", "describe-subnets")["Subnets"]][:2]
        port = 8104
        alb_sg = d.aws("ec2", "create-security-group", "--group-name", "private-alb", "--description", "alb",
                       "--vpc-id", vpc)["GroupId"]
        d.aws("ec2", "authorize-security-group-ingress", "--group-id", alb_sg, "--protocol", "tcp", "--port",
              str(port), "--cidr", "127.0.0.0/8")
        app_sg = d.aws("ec2", "create-security-group", "--group-name", "private-app", "--description", "app",
                       "--vpc-id", vpc)["GroupId"]
        d.aws("ecs", "create-cluster", "--cluster-name", "private")
        instance = d.aws("ec2", "run-instances", "--image-id", "ami-0c9a0d5a8b4e7f312", "--instance-type",
                         "t2.micro", "--security-group-ids", app_sg, "--user-data",
                         "ECS_CLUSTER=private")["Instances"][0]
        deadline = time.time() + 15
        while not d.aws("ecs", "list-container-instances", "--cluster", "private")["containerInstanceArns"]:
            self.assertLess(time.time(), deadline, "no container instance registered")
            time.sleep(0.2)
        web = {"name": "web", "image": uri + ":latest", "memory": 64, "essential": True, "stopTimeout": 2,
               "command": ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"],
               "portMappings": [{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}]}
        d.aws("ecs", "register-task-definition", "--family", "private-web", "--network-mode", "bridge",
              "--requires-compatibilities", "EC2", "--container-definitions", json.dumps([web]))
        arn = d.aws("ecs", "run-task", "--cluster", "private", "--task-definition", "private-web")["tasks"][0]["taskArn"]
        self.task_arns.append(arn)
        task = self.wait_running(arn)
        host_port = task["containers"][0]["networkBindings"][0]["hostPort"]
        public_ip = d.aws("ec2", "describe-instances", "--instance-ids", instance["InstanceId"])[
            "Reservations"][0]["Instances"][0]["PublicIpAddress"]

        lb = d.aws("elbv2", "create-load-balancer", "--name", "private", "--subnets", *subnets,
                   "--security-groups", alb_sg)["LoadBalancers"][0]
        tg = d.aws("elbv2", "create-target-group", "--name", "private", "--protocol", "HTTP", "--port", "8080",
                   "--vpc-id", vpc, "--target-type", "instance", "--health-check-interval-seconds", "5",
                   "--health-check-timeout-seconds", "2", "--healthy-threshold-count", "2")["TargetGroups"][0]
        d.aws("elbv2", "create-listener", "--load-balancer-arn", lb["LoadBalancerArn"], "--protocol", "HTTP",
              "--port", str(port), "--default-actions", "Type=forward,TargetGroupArn=" + tg["TargetGroupArn"])
        d.aws("elbv2", "register-targets", "--target-group-arn", tg["TargetGroupArn"], "--targets",
              "Id=%s,Port=%d" % (instance["InstanceId"], host_port))
        # The instance's group admits nobody: the checks time out, requests get 504.
        h = self.wait_state(tg["TargetGroupArn"], "unhealthy")
        self.assertEqual((h["Reason"], h["Description"]), ("Target.Timeout", "Request timed out"))
        self.assertEqual(self.get(lb["DNSName"], port)[0], 504)
        # A rule naming the load balancer's group: healthy, and the task answers through the load balancer.
        d.aws("ec2", "authorize-security-group-ingress", "--group-id", app_sg, "--protocol", "tcp", "--port",
              str(host_port), "--source-group", alb_sg)
        self.wait_state(tg["TargetGroupArn"], "healthy")
        self.assertEqual(self.get(lb["DNSName"], port), (200, BUSYBOX_INDEX_HTML))
        # The host itself is still not admitted on the instance's public address: dropped, no answer.
        with socket.create_connection((public_ip, host_port), timeout=5) as c:
            c.settimeout(1.5)
            c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                answer = c.recv(100)
            except socket.timeout:
                answer = None
        self.assertIn(answer, (None, b""))

    def test_ip_target_of_a_fargate_task_is_reached_through_the_private_route(self):
        d = self.daemon
        uri = self.image()
        vpc = d.aws("ec2", "describe-vpcs")["Vpcs"][0]["VpcId"]
        subnets = [s["SubnetId"] for s in d.aws("ec2", "describe-subnets")["Subnets"]][:2]
        port = 8105
        alb_sg = d.aws("ec2", "create-security-group", "--group-name", "fargate-alb", "--description", "alb",
                       "--vpc-id", vpc)["GroupId"]
        d.aws("ec2", "authorize-security-group-ingress", "--group-id", alb_sg, "--protocol", "tcp", "--port",
              str(port), "--cidr", "127.0.0.0/8")
        task_sg = d.aws("ec2", "create-security-group", "--group-name", "fargate-task", "--description", "task",
                        "--vpc-id", vpc)["GroupId"]
        d.aws("ecs", "create-cluster", "--cluster-name", "private")
        web = {"name": "web", "image": uri + ":latest", "essential": True, "stopTimeout": 2,
               "command": ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"],
               "portMappings": [{"containerPort": 8080, "protocol": "tcp"}]}
        d.aws("ecs", "register-task-definition", "--family", "private-fargate", "--network-mode", "awsvpc",
              "--requires-compatibilities", "FARGATE", "--cpu", "256", "--memory", "512",
              "--container-definitions", json.dumps([web]))
        network = {"awsvpcConfiguration": {"subnets": subnets[:1], "securityGroups": [task_sg],
                                           "assignPublicIp": "DISABLED"}}
        arn = d.aws("ecs", "run-task", "--cluster", "private", "--task-definition", "private-fargate",
                    "--launch-type", "FARGATE", "--network-configuration", json.dumps(network))["tasks"][0]["taskArn"]
        self.task_arns.append(arn)
        task = self.wait_running(arn)
        details = {x["name"]: x["value"] for x in task["attachments"][0]["details"]}
        private_ip = details["privateIPv4Address"]
        self.assertFalse(private_ip.startswith("127."), private_ip)  # a VPC address: no socket on this host

        lb = d.aws("elbv2", "create-load-balancer", "--name", "fargate", "--subnets", *subnets,
                   "--security-groups", alb_sg)["LoadBalancers"][0]
        tg = d.aws("elbv2", "create-target-group", "--name", "fargate", "--protocol", "HTTP", "--port", "8080",
                   "--vpc-id", vpc, "--target-type", "ip", "--health-check-interval-seconds", "5",
                   "--health-check-timeout-seconds", "2", "--healthy-threshold-count", "2")["TargetGroups"][0]
        d.aws("elbv2", "create-listener", "--load-balancer-arn", lb["LoadBalancerArn"], "--protocol", "HTTP",
              "--port", str(port), "--default-actions", "Type=forward,TargetGroupArn=" + tg["TargetGroupArn"])
        d.aws("elbv2", "register-targets", "--target-group-arn", tg["TargetGroupArn"], "--targets",
              "Id=%s,Port=8080" % private_ip)
        # The task's group admits nobody, not the load balancer either: the checks time out, requests get 504.
        h = self.wait_state(tg["TargetGroupArn"], "unhealthy")
        self.assertEqual((h["Reason"], h["Description"]), ("Target.Timeout", "Request timed out"))
        self.assertEqual(self.get(lb["DNSName"], port)[0], 504)
        # A rule naming the load balancer's group: healthy, and the task answers through the load balancer.
        d.aws("ec2", "authorize-security-group-ingress", "--group-id", task_sg, "--protocol", "tcp", "--port",
              "8080", "--source-group", alb_sg)
        self.wait_state(tg["TargetGroupArn"], "healthy")
        self.assertEqual(self.get(lb["DNSName"], port), (200, BUSYBOX_INDEX_HTML))


if __name__ == "__main__":
    unittest.main(verbosity=2)
