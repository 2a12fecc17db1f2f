#!/usr/bin/python3
"""The web console in Debian's chromium (npm's playwright-core drives it,
console_browser.mjs), against a daemon running the workshop's stack: the
outyet image pushed to ECR, 2 t2.nano instances, 3 tasks behind the ALB.

Python builds the stack through the API and checks, afterwards, that what
the browser did really happened; the browser script does everything a user
does in the console (docs/console.md) and fails on the first thing it does
not see, within a bound.

usage: console_browser_test.py ROOTFS_DIR ARTIFACTS_DIR  (run by ctest with BERTH_BIN set)
"""
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from berth_harness import BERTH, Daemon, missing_task_prerequisites  # noqa: E402
from oci_images import make_oci_layout  # noqa: E402

CONSOLE_DIR = os.path.join(HERE, "..", "..", "console")
CHROMIUM = "/usr/bin/chromium"
CLUSTER, SERVICE, FAMILY = "outyet-cluster", "outyet-service", "outyet-task"
ROOTFS_DIR = ARTIFACTS = None


def outyet_layout(out):
    """The outyet image as the Dockerfile builds it (FROM scratch, the staged
    root filesystem, USER outyet), without an image build tool."""
    files = []
    for root, dirs, names in os.walk(ROOTFS_DIR):
        rel = os.path.relpath(root, ROOTFS_DIR)
        for d in sorted(dirs):
            files.append((os.path.normpath(os.path.join(rel, d)), "dir", None, 0o755))
        for n in sorted(names):
            with open(os.path.join(root, n), "rb") as f:
                mode = os.stat(os.path.join(root, n)).st_mode & 0o777
                files.append((os.path.normpath(os.path.join(rel, n)), "file", f.read(), mode))
    return make_oci_layout(out, "latest", files, {
        "Entrypoint": ["/outyet"], "User": "outyet:outyet", "ExposedPorts": {"8080/tcp": {}},
        "Env": ["PATH=/", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"]})


class ConsoleBrowserTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        reason = missing_task_prerequisites()
        for path, what in ((CHROMIUM, "chromium"), (os.path.join(CONSOLE_DIR, "node_modules", "playwright-core"),
                                                    "console/node_modules (npm ci)")):
            if not reason and not os.path.exists(path):
                reason = "needs %s (scripts/install-deps.sh)" % what
        if not reason and not shutil.which("node"):
            reason = "needs node"
        if reason:
            raise RuntimeError(reason)
        cls.daemon = d = Daemon(address="127.%d.%d.1" % (random.randint(64, 250), random.randint(0, 255))).start()
        cls.work = tempfile.mkdtemp(prefix="berth-console-")
        try:
            cls.build_stack()
        except Exception:
            print(d.log()[-4000:], file=sys.stderr)
            cls.tearDownClass()
            raise

    @classmethod
    def build_stack(cls):
        d = cls.daemon
        ecr, ec2, ecs, elbv2, iam = (d.client(n) for n in ("ecr", "ec2", "ecs", "elbv2", "iam"))
        uri = ecr.create_repository(repositoryName="outyet-image")["repository"]["repositoryUri"]
        layout = os.path.join(cls.work, "layout")
        outyet_layout(layout)
        d.push_layout(layout, uri + ":latest")
        vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
        ec2.create_key_pair(KeyName="outyet")
        alb_sg = ec2.create_security_group(GroupName="outyet-alb-sg", Description="alb", VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=alb_sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        app_sg = ec2.create_security_group(GroupName="outyet-sg", Description="app", VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=app_sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 1, "ToPort": 65535, "UserIdGroupPairs": [{"GroupId": alb_sg}]}])
        ecs.create_cluster(clusterName=CLUSTER)
        ec2.run_instances(ImageId="ami-0c9a0d5a8b4e7f312", InstanceType="t2.nano", MinCount=2, MaxCount=2,
                          KeyName="outyet", SecurityGroupIds=[app_sg],
                          UserData="#!/bin/bash\necho ECS_CLUSTER=%s >> /etc/ecs/ecs.config" % CLUSTER,
                          TagSpecifications=[{"ResourceType": "instance",
                                              "Tags": [{"Key": "Name", "Value": "outyet-ecs"}]}])
        lb = elbv2.create_load_balancer(Name="outyet-alb", Subnets=subnets, SecurityGroups=[alb_sg])["LoadBalancers"][0]
        cls.dns = lb["DNSName"]
        tg = elbv2.create_target_group(Name="outyet-alb-target-group", Protocol="HTTP", Port=8080, VpcId=vpc,
                                       HealthCheckPath="/", HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
                                       HealthyThresholdCount=2, UnhealthyThresholdCount=2)["TargetGroups"][0]
        cls.tg_arn = tg["TargetGroupArn"]
        elbv2.modify_target_group_attributes(TargetGroupArn=cls.tg_arn, Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": "5"}])
        elbv2.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                              DefaultActions=[{"Type": "forward", "TargetGroupArn": cls.tg_arn}])
        deadline = time.monotonic() + 30
        while len(ecs.list_container_instances(cluster=CLUSTER)["containerInstanceArns"]) < 2:
            if time.monotonic() > deadline:
                raise RuntimeError("the two container instances did not join in 30 s")
            time.sleep(0.2)
        ecs.register_task_definition(family=FAMILY, networkMode="bridge", requiresCompatibilities=["EC2"],
                                     containerDefinitions=[{
                                         "name": "outyet", "image": uri + ":latest", "memory": 128, "essential": True,
                                         "stopTimeout": 2, "command": ["-http", ":8080", "-version", "1.4"],
                                         # outyet logs each failed poll (no network here): the log tail
                                         "logConfiguration": {"logDriver": "awslogs", "options": {
                                             "awslogs-group": "/ecs/outyet", "awslogs-region": "us-east-1",
                                             "awslogs-stream-prefix": "ecs", "awslogs-create-group": "true"}},
                                         "portMappings": [{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}]}])
        account = d.client("sts").get_caller_identity()["Account"]
        ecs.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition=FAMILY, desiredCount=3,
                           launchType="EC2",
                           role="arn:aws:iam::%s:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS" % account,
                           loadBalancers=[{"targetGroupArn": cls.tg_arn, "containerName": "outyet",
                                           "containerPort": 8080}],
                           deploymentConfiguration={"maximumPercent": 200, "minimumHealthyPercent": 100})
        iam.create_user(UserName="reader")
        iam.attach_user_policy(UserName="reader", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
        key = iam.create_access_key(UserName="reader")["AccessKey"]
        cls.reader = (key["AccessKeyId"], key["SecretAccessKey"])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)
        cls.daemon.cleanup()

    def console_url(self):
        p = subprocess.run([BERTH, "console-url", "--data-dir", self.daemon.data_dir], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(p.returncode, 0, "berth console-url: " + p.stderr)
        return p.stdout.strip()

    def test_unsigned_calls_get_aws_missing_authentication_answers(self):
        """A visitor without credentials gets the static page only: every data call answers as AWS does
        to an unsigned request (JSON 1.1: 400 MissingAuthenticationTokenException; query: 403)."""
        d = self.daemon
        status, body, headers = d.get("/console/")
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("Content-Type"), "text/html; charset=utf-8")
        self.assertIn("frame-ancestors 'none'", headers.get("Content-Security-Policy", ""))
        conn = http.client.HTTPConnection(d.host, d.bound_port, timeout=10)
        conn.request("POST", "/", body="{}", headers={"Content-Type": "application/x-amz-json-1.1",
                                                      "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListTasks"})
        r = conn.getresponse()
        self.assertEqual((r.status, json.loads(r.read())["__type"]), (400, "MissingAuthenticationTokenException"))
        conn.request("POST", "/", body="Action=DescribeTargetHealth&Version=2015-12-01&TargetGroupArn=" + self.tg_arn,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        r = conn.getresponse()
        self.assertEqual(r.status, 403)
        self.assertIn(b"<Code>MissingAuthenticationToken</Code>", r.read())
        conn.close()
        for path in ("/console/../_berth/health", "/console/%2e%2e/CMakeLists.txt", "/console/node_modules"):
            self.assertEqual(d.request("GET", path)[0], 404, "nothing but the console's files under " + path)
        self.assertEqual(d.request("POST", "/console/app.js", body=b"x")[0], 405, "assets are read-only")
        self.assertEqual(d.request("GET", "/console/sign-in")[0], 405, "a token is POSTed, never in a URL")
        self.assertEqual(d.request("POST", "/console/sign-in", body=b'{"token":"00"}')[0], 403)
        conn = http.client.HTTPConnection(d.host, d.bound_port, timeout=10)
        conn.request("GET", "/console/app.js", headers={"If-None-Match": d.get("/console/app.js")[2]["ETag"]})
        self.assertEqual(conn.getresponse().status, 304, "an unchanged asset is not sent again")
        conn.close()

    def test_the_console_in_a_browser(self):
        d = self.daemon
        links = [self.console_url()]
        # The aws CLI's environment too: the script makes one change from outside the console.
        env = dict(d.aws_env(), AWS_CLI="/usr/bin/aws", CONSOLE_URL="http://%s:%d/console/" % (d.host, d.bound_port),
                   ADMIN_KEY=d.creds["AWS_ACCESS_KEY_ID"], ADMIN_SECRET=d.creds["AWS_SECRET_ACCESS_KEY"],
                   READER_KEY=self.reader[0], READER_SECRET=self.reader[1], SIGN_IN_LINK=links[0],
                   DAEMON_ADDRESS=d.host, DNS_NAME=self.dns, CLUSTER=CLUSTER, SERVICE=SERVICE,
                   ARTIFACTS=ARTIFACTS, CHROMIUM=CHROMIUM, CONSOLE_DIR=os.path.abspath(CONSOLE_DIR))
        p = subprocess.run(["node", os.path.join(HERE, "console_browser.mjs")], env=env, capture_output=True,
                           text=True, timeout=330)
        print(p.stdout, file=sys.stderr)
        self.assertEqual(p.returncode, 0, "the browser script failed:\n%s\n%s\n--- daemon log ---\n%s"
                         % (p.stdout[-3000:], p.stderr[-3000:], d.log()[-3000:]))

        # What the browser did really happened (the API, not the page, says so).
        ecs = d.client("ecs")
        service = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
        self.assertEqual(service["desiredCount"], 3, "scaled to 4 and back to 3")
        stopped = ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE, desiredStatus="STOPPED")["taskArns"]
        self.assertGreaterEqual(len(stopped), 2, "one task stopped by hand, one by scaling in")
        reasons = [t.get("stoppedReason", "") for t in ecs.describe_tasks(cluster=CLUSTER, tasks=stopped)["tasks"]]
        self.assertIn("Stopped from the berth console", reasons)
        self.assertTrue(all("reader" not in r for r in reasons))
        for path in os.listdir(ARTIFACTS):
            self.assertGreater(os.path.getsize(os.path.join(ARTIFACTS, path)), 1000, path)
        shots = set(os.listdir(ARTIFACTS))
        for page in ("sign-in", "clusters", "cluster", "service-tasks", "service-events", "service-health",
                     "service-metrics", "task", "load-balancers", "target-groups", "ecr", "security-groups",
                     "key-pairs", "instances", "outyet"):
            for width in (1280, 390):
                self.assertIn("%s-%d.png" % (page, width), shots)


if __name__ == "__main__":
    ROOTFS_DIR, ARTIFACTS = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    del sys.argv[1:3]
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    os.makedirs(ARTIFACTS)
    unittest.main()
