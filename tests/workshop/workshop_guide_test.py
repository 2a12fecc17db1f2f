#!/usr/bin/python3
"""docs/workshop.md, run as written against a fresh `berth serve`.

The guide's ```sh blocks are taken out of the markdown (guide_runner.py
says the rules) and run in order in one bash with `set -euo pipefail`, from
the repository root, with `berth` and `aws` on PATH as a user has them.
After each section the test checks through its own aws CLI what should now
be true: the page served through the load balancer by 3 healthy targets,
the events of each exercise, zero failed requests while a new version rolls
out and while traffic moves to FARGATE, AWS's error codes when the teardown
goes in the wrong order, and nothing left after the right one.

The daemon runs on a private 127.x address, so that it cannot collide with
a berth the user runs on 127.0.0.1; the guide reaches the load balancer by
its DNS name through a .curlrc (CURL_HOME) that resolves port 80 there, as
the system resolver does for 127.0.0.1.

env: BERTH_BIN (the berth binary), WORKSHOP_AWS (the aws CLI the guide
uses; default /usr/bin/aws, Debian's 2.9), WORKSHOP_GUIDE_OUTPUT (a
directory to keep every block's code, stdout and stderr in). Needs root,
runc, umoci, podman, curl and build/image/rootfs (scripts/build.sh).
"""
import http.client
import os
import re
import shutil
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.normpath(os.path.join(HERE, "..", ".."))
GUIDE = os.path.join(SOURCE, "docs", "workshop.md")
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)
from berth_harness import BERTH, AwsError, Daemon, private_address  # noqa: E402
from guide_runner import BlockFailed, GuideShell, sections  # noqa: E402

CLUSTER = "outyet-cluster"
BLOCK_TIMEOUT = 300  # the guide bounds its own waits; this catches a hang


def missing_prerequisites():
    if os.geteuid() != 0:
        return "needs root (runc, network namespaces, the listener on port 80)"
    for tool in ("runc", "umoci", "podman", "curl"):
        if not shutil.which(tool):
            return "needs " + tool
    if not os.path.exists(os.path.join(SOURCE, "build", "image", "rootfs", "outyet")):
        return "needs build/image/rootfs/outyet, the outyet image's files (scripts/build.sh)"
    return None


class ExtractionTest(unittest.TestCase):
    def test_only_sh_blocks_run_in_order_under_their_sections(self):
        found = sections("# A\n```sh\na=1\n```\n```text\nout\n```\n## B\n```console\nx\n```\n```sh\necho $a\n"
                         "# not a heading inside a fence\n```\n")
        self.assertEqual([(s.title, [b.code for b in s.blocks]) for s in found],
                         [("A", ["a=1\n"]), ("B", ["echo $a\n# not a heading inside a fence\n"])])
        self.assertEqual(found[1].blocks[0].line, 13)

    def test_a_fence_of_another_language_or_unclosed_is_an_error(self):
        with self.assertRaisesRegex(ValueError, "line 2: a ```bash block"):
            sections("# A\n```bash\nls\n```\n")
        with self.assertRaisesRegex(ValueError, "not closed"):
            sections("# A\n```sh\nls\n")


class WorkshopGuideTest(unittest.TestCase):
    def setUp(self):
        reason = missing_prerequisites()
        if reason:
            raise RuntimeError(reason)
        with open(GUIDE) as f:
            self.sections = sections(f.read())
        self.tmp = tempfile.mkdtemp(prefix="berth-guide-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.d = Daemon(address=private_address()).start()
        self.addCleanup(self.d.cleanup)
        self.shell = GuideShell(SOURCE, self.guide_env(), self.work_dir())
        self.addCleanup(self.shell.close)
        self.account = self.d.aws("sts", "get-caller-identity")["Account"]

    def work_dir(self):
        keep = os.environ.get("WORKSHOP_GUIDE_OUTPUT")
        if keep:
            os.makedirs(keep, exist_ok=True)
            return keep
        return self.tmp

    def guide_env(self):
        """A user's shell: berth and one aws CLI on PATH, nothing of this machine's AWS config."""
        tools = os.path.join(self.tmp, "tools")
        os.makedirs(tools)
        os.symlink(os.path.abspath(BERTH), os.path.join(tools, "berth"))
        os.symlink(os.environ.get("WORKSHOP_AWS", "/usr/bin/aws"), os.path.join(tools, "aws"))
        curl_home = os.path.join(self.tmp, "curl")
        os.makedirs(curl_home)
        with open(os.path.join(curl_home, ".curlrc"), "w") as f:
            f.write('resolve = "*:80:%s"\n' % self.d.address)
        empty = os.path.join(self.tmp, "aws-config")
        open(empty, "w").close()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "BERTH_DATA_DIR"}
        env.update(PATH=tools + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                   BERTH_DATA_DIR=self.d.data_dir, CURL_HOME=curl_home,
                   REGISTRY_AUTH_FILE=os.path.join(self.tmp, "registry-auth.json"),
                   AWS_CONFIG_FILE=empty, AWS_SHARED_CREDENTIALS_FILE=empty, AWS_EC2_METADATA_DISABLED="true")
        return env

    # -- the run --------------------------------------------------------

    def test_the_guide_runs_as_written(self):
        checks = {
            "Point the shell at berth": self.check_shell,
            "Host the image on ECR": self.check_image,
            "Key pair and security groups": self.check_groups,
            "A cluster of two t2.nano instances": self.check_cluster,
            "The task definition": self.check_task_definition,
            "The load balancer": self.check_load_balancer,
            "The service": self.check_service,
            "Exercise: stop a task": self.check_stopped_task_replaced,
            "Exercise: scale up past capacity": self.check_capacity,
            "Exercise: release a new version": self.check_release,
            "Exercise: run it on FARGATE": self.check_fargate,
            "First in the wrong order": self.check_teardown_refused,
            "Then in the right order": self.check_teardown_done,
        }
        titles = [s.title for s in self.sections]
        self.assertEqual(sorted(set(checks) - set(titles)), [], "sections the test checks are missing from the guide")
        timings = []
        try:
            for section in self.sections:
                started = time.monotonic()
                try:
                    results = [self.shell.run(block, BLOCK_TIMEOUT) for block in section.blocks]
                except BlockFailed as e:
                    self.fail("%s\n--- berth serve's log (tail):\n%s" % (e, self.d.log()[-3000:]))
                check = checks.get(section.title)
                if check:
                    check(results)
                timings.append((section.title, time.monotonic() - started))
        finally:
            print("\n".join("%6.1f s  %s" % (t, title) for title, t in timings), file=sys.stderr)

    # -- helpers --------------------------------------------------------

    def aws(self, *args):
        return self.d.aws(*args)

    def value(self, expression):
        return self.shell.value(expression)

    def page(self):
        """GET / from the load balancer by its DNS name (the Host header), on the daemon's address."""
        dns = self.aws("elbv2", "describe-load-balancers", "--names", "outyet-alb")["LoadBalancers"][0]["DNSName"]
        conn = http.client.HTTPConnection(self.d.address, 80, timeout=10)
        try:
            conn.request("GET", "/", headers={"Host": dns})
            r = conn.getresponse()
            return r.status, r.read().decode(errors="replace")
        finally:
            conn.close()

    def service(self, name):
        return self.aws("ecs", "describe-services", "--cluster", CLUSTER, "--services", name)["services"][0]

    def events(self, name):
        return [e["message"] for e in self.service(name)["events"]]

    def target_group(self, name):
        return self.aws("elbv2", "describe-target-groups", "--names", name)["TargetGroups"][0]

    def healthy_targets(self, tg_arn):
        health = self.aws("elbv2", "describe-target-health", "--target-group-arn", tg_arn)["TargetHealthDescriptions"]
        return [h["Target"] for h in health if h["TargetHealth"]["State"] == "healthy"]

    def tasks(self, service):
        arns = self.aws("ecs", "list-tasks", "--cluster", CLUSTER, "--service-name", service)["taskArns"]
        return self.aws("ecs", "describe-tasks", "--cluster", CLUSTER, "--tasks", *arns)["tasks"] if arns else []

    def group(self, name):
        groups = self.aws("ec2", "describe-security-groups", "--filters", "Name=group-name,Values=" + name)
        return groups["SecurityGroups"][0] if groups["SecurityGroups"] else None

    def error_code(self, *args):
        with self.assertRaises(AwsError) as e:
            self.aws(*args)
        return e.exception.code

    def assert_load(self, results, v1, v2):
        """The load generator's count (the `cat "$ws/load.txt"` line) shows pages of the versions and none failed."""
        out = "".join(r.stdout for r in results)
        m = re.search(r"^(\d+) pages: (\d+) from v1, (\d+) from v2; (\d+) failed$", out, re.M)
        self.assertIsNotNone(m, "no load generator count in the section's output:\n" + out)
        pages, from_v1, from_v2, failed = map(int, m.groups())
        self.assertEqual(failed, 0, "failed requests: " + m.group(0))
        self.assertGreater(pages, 20, m.group(0))
        self.assertEqual(from_v1 > 0, v1, m.group(0))
        self.assertEqual(from_v2 > 0, v2, m.group(0))

    # -- after each section ---------------------------------------------

    def check_shell(self, results):
        self.assertEqual(self.value("$(command -v aws)"), os.path.join(self.d.data_dir, "bin", "aws"),
                         "after `berth env`, aws is berth's wrapper")
        self.assertIn(self.account, results[0].stdout, "get-caller-identity answered by this daemon")
        self.assertEqual(self.value("$ws"), os.path.join(self.d.data_dir, "workshop"))

    def check_image(self, results):
        images = self.aws("ecr", "describe-images", "--repository-name", "outyet-image")["imageDetails"]
        self.assertEqual([i.get("imageTags") for i in images], [["latest"]])
        self.assertIn("Login Succeeded", "".join(r.stdout + r.stderr for r in results))

    def check_groups(self, results):
        with open(os.path.join(self.d.data_dir, "workshop", "outyet.pem")) as f:
            self.assertTrue(f.read().startswith("-----BEGIN RSA PRIVATE KEY-----"))
        alb, instances = self.group("outyet-alb-sg"), self.group("outyet-sg")
        [http_rule] = alb["IpPermissions"]
        self.assertEqual((http_rule["IpProtocol"], http_rule["FromPort"], http_rule["ToPort"]), ("tcp", 80, 80))
        self.assertEqual([r["CidrIp"] for r in http_rule["IpRanges"]], ["0.0.0.0/0"])
        self.assertEqual([r["CidrIpv6"] for r in http_rule["Ipv6Ranges"]], ["::/0"])
        [from_alb] = instances["IpPermissions"]
        self.assertEqual((from_alb["IpProtocol"], from_alb["FromPort"], from_alb["ToPort"]), ("tcp", 1, 65535))
        self.assertEqual([p["GroupId"] for p in from_alb["UserIdGroupPairs"]], [alb["GroupId"]])
        self.assertEqual(self.value("$sg $alb_sg"), "%s %s" % (instances["GroupId"], alb["GroupId"]))

    def check_cluster(self, results):
        arns = self.aws("ecs", "list-container-instances", "--cluster", CLUSTER)["containerInstanceArns"]
        found = self.aws("ecs", "describe-container-instances", "--cluster", CLUSTER, "--container-instances",
                         *arns)["containerInstances"]
        self.assertEqual([(c["status"], c["agentConnected"]) for c in found], [("ACTIVE", True)] * 2)
        ids = [c["ec2InstanceId"] for c in found]
        instances = [i for r in self.aws("ec2", "describe-instances", "--instance-ids", *ids)["Reservations"]
                     for i in r["Instances"]]
        sg = self.group("outyet-sg")["GroupId"]
        for i in instances:
            self.assertEqual((i["InstanceType"], i["KeyName"], [g["GroupId"] for g in i["SecurityGroups"]]),
                             ("t2.nano", "outyet", [sg]))

    def check_task_definition(self, results):
        td = self.aws("ecs", "describe-task-definition", "--task-definition", "outyet-task:1")["taskDefinition"]
        self.assertEqual(td["networkMode"], "bridge")
        self.assertEqual(td["containerDefinitions"][0]["image"],
                         "%s.dkr.ecr.us-east-1.amazonaws.com/outyet-image:latest" % self.account)

    def check_load_balancer(self, results):
        lb = self.aws("elbv2", "describe-load-balancers", "--names", "outyet-alb")["LoadBalancers"][0]
        self.assertEqual(self.value("$dns"), lb["DNSName"])
        self.assertTrue(lb["DNSName"].endswith(".us-east-1.elb.localhost"), lb["DNSName"])
        [listener] = self.aws("elbv2", "describe-listeners", "--load-balancer-arn", lb["LoadBalancerArn"])["Listeners"]
        tg = self.target_group("outyet-alb-target-group")
        self.assertEqual((listener["Port"], listener["DefaultActions"][0]["TargetGroupArn"]), (80, tg["TargetGroupArn"]))
        self.assertEqual(tg["TargetType"], "instance")

    def check_service(self, results):
        s = self.service("outyet-service")
        self.assertEqual((s["status"], s["desiredCount"], s["runningCount"]), ("ACTIVE", 3, 3))
        self.assertTrue(s["roleArn"].endswith(":role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"))
        tg = self.target_group("outyet-alb-target-group")["TargetGroupArn"]
        self.assertEqual(len(self.healthy_targets(tg)), 3)
        self.assertIn("(service outyet-service) has reached a steady state.", self.events("outyet-service"))
        status, body = self.page()
        self.assertEqual(status, 200)
        self.assertIn("Is Go 1.4 out yet?", body)
        self.assertIn("Is Go 1.4 out yet?", results[-1].stdout, "the guide's curl by the DNS name got the page")

    def check_stopped_task_replaced(self, results):
        stopped = self.value("$task")
        t = self.aws("ecs", "describe-tasks", "--cluster", CLUSTER, "--tasks", stopped)["tasks"][0]
        self.assertEqual((t["lastStatus"], t["stopCode"], t["stoppedReason"]), ("STOPPED", "UserInitiated",
                                                                                 "stopped by hand"))
        running = [t["taskArn"] for t in self.tasks("outyet-service") if t["lastStatus"] == "RUNNING"]
        self.assertEqual(len(running), 3)
        self.assertNotIn(stopped, running)
        events = self.events("outyet-service")
        self.assertTrue(any(e.startswith("(service outyet-service) has started 1 tasks: (task ") for e in events), events)
        self.assertTrue(any("has begun draining connections on 1 tasks." in e for e in events), events)

    def check_capacity(self, results):
        events = self.events("outyet-service")
        self.assertTrue(any("was unable to place a task because no container instance met all of its requirements. "
                            "The closest matching (container-instance " in e and
                            "has insufficient memory available." in e for e in events), events)
        self.assertIn("has insufficient memory available.", results[0].stdout)
        newest_refusal = min(i for i, e in enumerate(events) if "was unable to place a task" in e)
        started = [re.match(r"\(service outyet-service\) has started (\d+) tasks: ", e) for e in events[:newest_refusal]]
        self.assertEqual(sum(int(m.group(1)) for m in started if m), 2,
                         "the two waiting tasks start once the third instance joins: %s" % events)
        arns = self.aws("ecs", "list-container-instances", "--cluster", CLUSTER)["containerInstanceArns"]
        self.assertEqual(len(arns), 3)
        s = self.service("outyet-service")
        self.assertEqual((s["desiredCount"], s["runningCount"]), (3, 3))

    def check_release(self, results):
        self.assert_load(results, v1=True, v2=True)
        s = self.service("outyet-service")
        self.assertTrue(s["taskDefinition"].endswith(":task-definition/outyet-task:2"), s["taskDefinition"])
        self.assertEqual(len(s["deployments"]), 1)
        self.assertEqual({t["taskDefinitionArn"] for t in self.tasks("outyet-service")}, {s["taskDefinition"]})
        for _ in range(6):
            status, body = self.page()
            self.assertEqual(status, 200)
            self.assertIn("Is Go 1.21 out yet?", body)
        tags = sorted(i["imageTags"][0] for i in self.aws("ecr", "describe-images", "--repository-name",
                                                          "outyet-image")["imageDetails"])
        self.assertEqual(tags, ["latest", "v2"])

    def check_fargate(self, results):
        self.assert_load(results, v1=False, v2=True)
        s = self.service("outyet-fargate-service")
        self.assertEqual((s["launchType"], s["desiredCount"], s["runningCount"]), ("FARGATE", 3, 3))
        tg = self.target_group("outyet-fargate-target-group")
        self.assertEqual(tg["TargetType"], "ip")
        addresses = set()
        for t in self.tasks("outyet-fargate-service"):
            details = {d["name"]: d["value"] for d in t["attachments"][0]["details"]}
            addresses.add(details["privateIPv4Address"])
        self.assertEqual({t["Id"] for t in self.healthy_targets(tg["TargetGroupArn"])}, addresses,
                         "the tasks are the targets, by their own addresses")
        lb = self.aws("elbv2", "describe-load-balancers", "--names", "outyet-alb")["LoadBalancers"][0]
        [listener] = self.aws("elbv2", "describe-listeners", "--load-balancer-arn", lb["LoadBalancerArn"])["Listeners"]
        self.assertEqual(listener["DefaultActions"][0].get("TargetGroupArn"), tg["TargetGroupArn"])
        self.assertEqual(self.service("outyet-service")["status"], "INACTIVE")
        self.assertEqual(self.aws("ecs", "list-container-instances", "--cluster", CLUSTER)["containerInstanceArns"], [])
        states = {i["State"]["Name"] for r in self.aws("ec2", "describe-instances")["Reservations"] for i in r["Instances"]}
        self.assertEqual(states, {"terminated"})
        self.assertIsNone(self.group("outyet-sg"))
        self.assertEqual(self.error_code("elbv2", "describe-target-groups", "--names", "outyet-alb-target-group"),
                         "TargetGroupNotFound")
        self.assertEqual(self.aws("ec2", "describe-key-pairs")["KeyPairs"], [])
        status, body = self.page()
        self.assertEqual(status, 200)
        self.assertIn("Is Go 1.21 out yet?", body)

    def check_teardown_refused(self, results):
        stderr = "".join(r.stderr for r in results)
        codes = re.findall(r"An error occurred \(([A-Za-z.]+)\)", stderr)
        self.assertEqual(codes, ["ClusterContainsServicesException", "InvalidParameterException", "ResourceInUse",
                                 "DependencyViolation", "DependencyViolation", "RepositoryNotEmptyException",
                                 "DeleteConflict"], stderr)
        # Nothing was removed.
        self.assertEqual(self.service("outyet-fargate-service")["status"], "ACTIVE")
        self.target_group("outyet-fargate-target-group")
        self.assertIsNotNone(self.group("outyet-alb-sg"))
        self.assertIsNotNone(self.group("outyet-fargate-sg"))
        self.aws("ecr", "describe-repositories", "--repository-names", "outyet-image")
        self.aws("iam", "get-role", "--role-name", "ecsTaskExecutionRole")

    def check_teardown_done(self, results):
        self.assertEqual(self.aws("elbv2", "describe-load-balancers")["LoadBalancers"], [])
        self.assertEqual(self.aws("elbv2", "describe-target-groups")["TargetGroups"], [])
        groups = self.aws("ec2", "describe-security-groups")["SecurityGroups"]
        self.assertEqual([g["GroupName"] for g in groups], ["default"])
        cluster = self.aws("ecs", "describe-clusters", "--clusters", CLUSTER)["clusters"]
        self.assertEqual([c["status"] for c in cluster], ["INACTIVE"])
        self.assertEqual(self.aws("ecr", "describe-repositories")["repositories"], [])
        self.assertEqual(self.error_code("iam", "get-role", "--role-name", "ecsTaskExecutionRole"), "NoSuchEntity")
        for family in ("outyet-task", "outyet-fargate-task"):
            self.assertEqual(self.aws("ecs", "list-task-definitions", "--family-prefix", family, "--status",
                                      "ACTIVE")["taskDefinitionArns"], [])
        self.assertEqual(results[-1].stdout.split(), ["default", "0", "0"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
