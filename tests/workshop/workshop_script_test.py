#!/usr/bin/python3
"""The README's first command, after the build: scripts/workshop.sh on a clean
data dir starts berth and builds the workshop's stack with its names; the
page is served by 3 tasks behind the ALB; a second run changes nothing;
`berth env` points Debian's aws CLI (which ignores AWS_ENDPOINT_URL) at
berth; `berth status` and `berth logs` show the stack; `berth down` removes
it in order, and a second `berth down` has nothing to do.

Needs root, runc, umoci, podman (scripts/install-deps.sh). Run by ctest with
BERTH_BIN set.
"""
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from berth_harness import BERTH, Daemon, private_address  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def run(args, env=None, timeout=300):
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout, cwd=ROOT)


class WorkshopScriptTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0 or not all(shutil.which(t) for t in ("runc", "umoci", "podman")):
            raise RuntimeError("needs root, runc, umoci and podman (scripts/install-deps.sh)")
        cls.tmp = tempfile.mkdtemp(prefix="berth-workshop-")
        cls.data_dir = os.path.join(cls.tmp, "data")
        cls.address = private_address()
        cls.env = dict(os.environ, BERTH_DATA_DIR=cls.data_dir, BERTH_BIN=BERTH, BERTH_ADDRESS=cls.address,
                       BERTH_PODMAN_ROOT=os.path.join(cls.tmp, "podman"))
        cls.daemon = None
        started = time.monotonic()
        cls.first = run(["scripts/workshop.sh"], env=cls.env)
        cls.first_seconds = time.monotonic() - started
        pid_file = os.path.join(cls.data_dir, "serve.pid")
        if os.path.exists(pid_file):
            with open(pid_file) as f:
                cls.daemon = Daemon(address=cls.address, data_dir=cls.data_dir).adopt(int(f.read()))

    @classmethod
    def tearDownClass(cls):
        if cls.daemon:
            cls.daemon.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.assertEqual(self.first.returncode, 0, "workshop.sh failed:\n" + self.first.stdout + self.first.stderr)
        self.assertIsNotNone(self.daemon, "workshop.sh left no serve.pid")

    def berth(self, *args):
        p = run([BERTH, *args, "--data-dir", self.data_dir], timeout=180)
        self.assertEqual(p.returncode, 0, "berth %s: %s%s" % (" ".join(args), p.stdout, p.stderr))
        return p.stdout

    def fetch_page(self, dns):
        c = http.client.HTTPConnection(self.address, 80, timeout=10)
        try:
            c.request("GET", "/", headers={"Host": dns})
            r = c.getresponse()
            return r.status, r.read().decode(errors="replace")
        finally:
            c.close()

    def test_1_the_stack_serves_outyet_with_the_workshops_names(self):
        print("workshop.sh on a clean data dir: %.1f s" % self.first_seconds, file=sys.stderr)
        m = re.search(r"outyet is served by the load balancer at: http://(outyet-alb-\d+\.us-east-1\.elb\.localhost)/",
                      self.first.stdout)
        self.assertIsNotNone(m, self.first.stdout)
        dns = m.group(1)
        for step in ("ECR: repository outyet-image", "EC2: key pair outyet", "ECS: cluster outyet-cluster",
                     "ECS: task definition outyet-task", "ALB: outyet-alb", "ECS: service outyet-service"):
            self.assertIn("== " + step, self.first.stdout)
        self.assertIn('eval "$(%s env --data-dir %s)"' % (BERTH, self.data_dir), self.first.stdout)
        status, body = self.fetch_page(dns)
        self.assertEqual(status, 200, body)
        self.assertIn("Go 1.4", body)
        # The name resolves for every program on the machine, not only curl.
        addresses = {a[4][0] for a in socket.getaddrinfo(dns, 80, proto=socket.IPPROTO_TCP)}
        self.assertTrue(addresses & {"127.0.0.1", "::1"}, addresses)

        ec2, ecs, elbv2 = (self.daemon.client(s) for s in ("ec2", "ecs", "elbv2"))
        self.assertEqual([k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]], ["outyet"])
        groups = {g["GroupName"]: g for g in ec2.describe_security_groups()["SecurityGroups"]}
        alb_rule = groups["outyet-alb-sg"]["IpPermissions"][0]
        self.assertEqual((alb_rule["FromPort"], alb_rule["ToPort"]), (80, 80))
        self.assertEqual(alb_rule["IpRanges"][0]["CidrIp"], "0.0.0.0/0")
        self.assertEqual(alb_rule["Ipv6Ranges"][0]["CidrIpv6"], "::/0")
        instance_rule = groups["outyet-sg"]["IpPermissions"][0]
        self.assertEqual((instance_rule["FromPort"], instance_rule["ToPort"]), (1, 65535))
        self.assertEqual(instance_rule["UserIdGroupPairs"][0]["GroupId"], groups["outyet-alb-sg"]["GroupId"])
        instances = [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]
        self.assertEqual(sorted(i["InstanceType"] for i in instances), ["t2.nano", "t2.nano"])
        service = ecs.describe_services(cluster="outyet-cluster", services=["outyet-service"])["services"][0]
        self.assertEqual((service["desiredCount"], service["runningCount"]), (3, 3))
        self.assertTrue(service["taskDefinition"].endswith(":task-definition/outyet-task:1"), service)
        tg = elbv2.describe_target_groups(Names=["outyet-alb-target-group"])["TargetGroups"][0]
        health = elbv2.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]
        self.assertEqual([t["TargetHealth"]["State"] for t in health], ["healthy"] * 3)
        listeners = elbv2.describe_listeners(LoadBalancerArn=tg["LoadBalancerArns"][0])["Listeners"]
        self.assertEqual([l["Port"] for l in listeners], [80])

    def test_2_a_second_run_changes_nothing(self):
        ecs = self.daemon.client("ecs")
        tasks_before = sorted(ecs.list_tasks(cluster="outyet-cluster")["taskArns"])
        again = run(["scripts/workshop.sh"], env=self.env)
        self.assertEqual(again.returncode, 0, again.stdout + again.stderr)
        self.assertNotIn("== berth serve", again.stdout)  # the running daemon is used
        self.assertEqual(sorted(ecs.list_tasks(cluster="outyet-cluster")["taskArns"]), tasks_before)
        self.assertEqual(len(ecs.list_container_instances(cluster="outyet-cluster")["containerInstanceArns"]), 2)
        self.assertEqual(len(ecs.list_task_definitions(familyPrefix="outyet-task")["taskDefinitionArns"]), 1)
        service = ecs.describe_services(cluster="outyet-cluster", services=["outyet-service"])["services"][0]
        self.assertEqual(len(service["deployments"]), 1, service["deployments"])

    def test_3_berth_env_points_debians_aws_cli_at_berth_and_unset_undoes_it(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null", PATH="/usr/bin:/bin")
        script = ('eval "$(%s env --data-dir %s)"\n'
                  'aws ecs list-services --cluster outyet-cluster --output text\n'
                  'eval "$(%s env --unset --data-dir %s)"\n'
                  'echo "PATH=$PATH endpoint=${AWS_ENDPOINT_URL:-none}"\n') % (BERTH, self.data_dir, BERTH,
                                                                               self.data_dir)
        for shell in ("/bin/bash", "/usr/bin/zsh"):
            p = subprocess.run([shell, "-c", script], capture_output=True, text=True, env=env, timeout=60)
            self.assertEqual(p.returncode, 0, shell + ": " + p.stderr)
            self.assertIn("service/outyet-cluster/outyet-service", p.stdout, shell)
            self.assertIn("PATH=/usr/bin:/bin endpoint=none", p.stdout, shell)

    def test_4_status_and_logs_show_the_stack(self):
        status = self.berth("status")
        self.assertRegex(status, r"outyet-service\s+3\s+3\s+0\s+PRIMARY outyet-task:1 COMPLETED 3/3")
        self.assertEqual(len(re.findall(r"outyet-task:1\s+RUNNING\s+\S+\s+service:outyet-service\s+i-\w+ \d+->8080",
                                        status)), 3, status)
        self.assertEqual(len(re.findall(r"i-\w+:\d+\s+healthy", status)), 3, status)
        self.assertRegex(status, r"load balancer outyet-alb \(active\)\s+http://outyet-alb-\d+\.us-east-1\.elb\.localhost/")
        # outyet logs each poll of the Go repository (every 5 s); lines are prefixed with their task.
        deadline = time.monotonic() + 20
        while True:
            logs = self.berth("logs", "outyet-service")
            prefixes = set(re.findall(r"^([0-9a-f]{8})/outyet \| ", logs, re.M))
            if len(prefixes) == 3 or time.monotonic() > deadline:
                break
            time.sleep(1)
        self.assertEqual(len(prefixes), 3, logs)
        p = run([BERTH, "logs", "no-such-service", "--data-dir", self.data_dir])
        self.assertEqual(p.returncode, 1)
        self.assertIn("no task or service named no-such-service", p.stderr)

    def test_5_down_removes_the_stack_in_order(self):
        out = self.berth("down")
        order = ["removing service outyet-service", "removing listener HTTP:80 of outyet-alb",
                 "removing load balancer outyet-alb", "removing target group outyet-alb-target-group",
                 "deregistering task definition outyet-task:1", "terminating the cluster's instances",
                 "removing cluster outyet-cluster", "removing security group outyet-sg",
                 "removing security group outyet-alb-sg", "removing key pair outyet",
                 "removing repository outyet-image"]
        positions = [out.find(step) for step in order]
        self.assertNotIn(-1, positions, out)
        self.assertEqual(positions, sorted(positions), out)
        ec2, ecs, elbv2, ecr = (self.daemon.client(s) for s in ("ec2", "ecs", "elbv2", "ecr"))
        self.assertEqual(ecs.describe_clusters(clusters=["outyet-cluster"])["clusters"][0]["status"], "INACTIVE")
        self.assertEqual(elbv2.describe_load_balancers()["LoadBalancers"], [])
        self.assertEqual(elbv2.describe_target_groups()["TargetGroups"], [])
        names = {g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"]}
        self.assertFalse(names & {"outyet-sg", "outyet-alb-sg"}, names)
        self.assertEqual(ec2.describe_key_pairs()["KeyPairs"], [])
        self.assertEqual(ecr.describe_repositories()["repositories"], [])
        states = {i["State"]["Name"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]}
        self.assertLessEqual(states, {"shutting-down", "terminated"})
        # Nothing left to remove: a second run says so and succeeds.
        again = self.berth("down")
        self.assertNotIn("removing", again)
        self.assertIn("the workshop stack is removed", again)


if __name__ == "__main__":
    unittest.main(verbosity=2)
