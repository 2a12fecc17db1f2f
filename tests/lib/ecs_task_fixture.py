"""The fixture of the ECS task tests that run real containers
(ecs_tasks_test.py, ecs_task_definition_test.py): one daemon, a busybox image
pushed to its ECR with skopeo, the default VPC's group open to the host on
unprivileged TCP ports, container instances from `ec2 run-instances`, and
at the end nothing of any task left on the machine. Needs root, runc,
umoci, skopeo and busybox-static (scripts/install-deps.sh).
"""
import json
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

from berth_harness import Daemon, missing_task_prerequisites
from ecs_setup import join_instances, push_busybox

OOM_REASON = "OutOfMemoryError: Container killed due to memory usage"


def http_get(ip, port, timeout=2.0):
    """(status, body) of GET http://ip:port/, or the exception it raised."""
    try:
        with urllib.request.urlopen("http://%s:%d/" % (ip, port), timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (OSError, urllib.error.URLError) as e:
        return e


def wait_http(ip, port, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        got = http_get(ip, port, timeout=1.0)
        if isinstance(got, tuple) or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


def is_timeout(result):
    if isinstance(result, (socket.timeout, TimeoutError)):
        return True
    return isinstance(result, urllib.error.URLError) and isinstance(result.reason, (socket.timeout, TimeoutError))


def dump(value):
    return json.dumps(value, default=str)


def free_port():
    """A port nothing listens on for any 127.x address, for static host ports."""
    for _ in range(100):
        port = random.randint(20000, 32000)
        out = subprocess.run(["ss", "-Hltn", "sport = :%d" % port], capture_output=True, text=True).stdout
        if not out.strip():
            return port
    raise RuntimeError("no free TCP port in 20000-32000 after 100 tries")


def listeners():
    """Listening TCP sockets as 'ip:port' strings."""
    out = subprocess.run(["ss", "-Hltn"], capture_output=True, text=True, check=True).stdout
    return {line.split()[3] for line in out.splitlines() if line.strip()}


class TaskFixture(unittest.TestCase):
    """No tests of its own: the daemon, image and helpers the task tests share."""
    @classmethod
    def setUpClass(cls):
        # scripts/install-deps.sh brings all of these; a missing one is a
        # broken set-up, reported as a failure rather than a skip.
        missing = missing_task_prerequisites()
        if missing:
            raise RuntimeError(missing)
        cls.d = Daemon().start()
        cls.work = tempfile.mkdtemp(prefix="berth-ecs-tasks-")
        cls.clusters = {}  # cluster -> [task arns] for the final clean-up
        cls.ecs = cls.d.client("ecs")
        cls.ec2 = cls.d.client("ec2")
        cls.image = push_busybox(cls.d, "busybox", cls.work)
        vpc = cls.ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
        cls.vpc_id = vpc["VpcId"]
        cls.subnet = sorted(cls.ec2.describe_subnets()["Subnets"], key=lambda s: s["AvailabilityZone"])[0]
        # Instances get the VPC's default group; the host may reach their
        # unprivileged ports (the admission test uses a group of its own).
        cls.default_group = cls.ec2.describe_security_groups(
            Filters=[{"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]["GroupId"]
        cls.ec2.authorize_security_group_ingress(GroupId=cls.default_group, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": 1024, "ToPort": 65535, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])

    @classmethod
    def tearDownClass(cls):
        # Containers outlive the daemon (the next one adopts them): stop what
        # a failed test may have left running, then the daemon.
        left, log = [], ""
        try:
            if cls.d.alive():
                cls.d.stop_all_tasks()
            # Every task of the run is gone from the machine, whatever the
            # tests did (a task's last clean-up may follow its STOPPED).
            deadline = time.monotonic() + 10
            while True:
                left = cls.task_leftovers()
                if not left or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            if left:
                log = cls.d.log()[-4000:]
        finally:
            cls.d.cleanup()
            shutil.rmtree(cls.work, ignore_errors=True)
        if left:
            raise AssertionError("left behind after the run: %s\n%s" % (left, log))

    @classmethod
    def task_leftovers(cls):
        """What of any task is on the machine: runc containers, task
        directories of the runtime, the tasks' network namespaces."""
        runc = subprocess.run(["runc", "--root", os.path.join(cls.d.data_dir, "runtime", "runc"), "list", "-q"],
                              capture_output=True, text=True).stdout.split()
        tasks_dir = os.path.join(cls.d.data_dir, "runtime", "tasks")
        left = ["runc " + c for c in runc]
        left += ["runtime/tasks/" + t for t in (os.listdir(tasks_dir) if os.path.isdir(tasks_dir) else [])]
        if os.path.isdir("/run/netns"):
            ids = {a.rsplit("/", 1)[-1] for arns in cls.clusters.values() for a in arns}
            left += ["netns " + n for n in os.listdir("/run/netns") if n.startswith("berth-") and n[6:] in ids]
        return left

    # ---- helpers ----

    def cluster_with_instance(self, name, instance_type="t2.micro", groups=None):
        """A cluster with one registered container instance; returns
        (container instance arn, the EC2 instance as DescribeInstances shows it)."""
        self.ecs.create_cluster(clusterName=name)
        self.clusters.setdefault(name, [])
        launched, arns = join_instances(self.d, name, instance_type=instance_type,
                                        **({"SecurityGroupIds": groups} if groups else {}))
        instance_id = launched[0]["InstanceId"]
        instance = self.ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
        self.assertTrue(instance.get("PublicIpAddress"), instance)
        self.assertEqual([g["GroupId"] for g in instance["SecurityGroups"]], groups or [self.default_group])
        return arns[0], instance

    def register(self, family, containers, network_mode="bridge", **extra):
        for c in containers:
            c.setdefault("image", self.image)
            c.setdefault("essential", True)
            # httpd as PID 1 ignores SIGTERM: SIGKILL after 2 s, not 30.
            c.setdefault("stopTimeout", 2)
        return self.ecs.register_task_definition(family=family, networkMode=network_mode,
                                                 containerDefinitions=containers, **extra)["taskDefinition"]

    def run_task(self, cluster, family, **extra):
        out = self.ecs.run_task(cluster=cluster, taskDefinition=family, **extra)
        self.clusters.setdefault(cluster, []).extend(t["taskArn"] for t in out["tasks"])
        return out

    def describe(self, cluster, arn):
        return self.ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0]

    def wait_task(self, cluster, arn, status, timeout=30.0, until=None):
        """Polls DescribeTasks until lastStatus is `status` (or STOPPED), or until(task) holds."""
        deadline = time.monotonic() + timeout
        while True:
            task = self.describe(cluster, arn)
            if until is not None:
                if until(task):
                    return task
            elif task["lastStatus"] == status or task["lastStatus"] == "STOPPED":
                return task
            if time.monotonic() > deadline:
                self.fail("task %s: not %s within %.0f s: %s\n%s" % (arn, status, timeout, dump(task),
                                                                   self.d.log()[-3000:]))
            time.sleep(0.1)

    def stop_and_wait(self, cluster, arn, reason="test done", timeout=40.0):
        self.ecs.stop_task(cluster=cluster, task=arn, reason=reason)
        return self.wait_task(cluster, arn, "STOPPED", timeout)

    def leftovers(self, arn, ports=()):
        """What a stopped task left on the machine (empty when nothing)."""
        task_id = arn.rsplit("/", 1)[-1]
        found = []
        if os.path.exists("/run/netns/berth-" + task_id):
            found.append("netns berth-" + task_id)
        for controller in os.listdir("/sys/fs/cgroup"):
            path = os.path.join("/sys/fs/cgroup", controller, "berth", task_id)
            if os.path.exists(path):
                found.append("cgroup " + path)
        with open("/proc/self/mountinfo") as f:
            found += ["mount " + line.split()[4] for line in f if task_id in line]
        runc = subprocess.run(["runc", "--root", os.path.join(self.d.data_dir, "runtime", "runc"), "list", "-q"],
                              capture_output=True, text=True).stdout.split()
        found += ["runc container " + c for c in runc if c.startswith(task_id)]
        if os.path.exists(os.path.join(self.d.data_dir, "runtime", "tasks", task_id)):
            found.append("runtime/tasks/" + task_id)
        open_ports = listeners()
        found += ["listener " + p for p in ports if p in open_ports]
        return found

    def assert_nothing_left(self, arn, ports=()):
        # The runtime releases a task before it reports it STOPPED, but give
        # the last unmount a moment.
        deadline = time.monotonic() + 5
        while True:
            left = self.leftovers(arn, ports)
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(left, [], "task %s left these behind" % arn)

    def berth_logs(self, *args):
        return subprocess.run([os.environ.get("BERTH_BIN", "berth"), "logs", *args, "--data-dir", self.d.data_dir],
                              capture_output=True, text=True, timeout=30)
