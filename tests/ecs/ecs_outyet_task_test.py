"""The outyet image as an ECS task, the workshop's way: podman builds the
repository's Dockerfile, podman pushes it to berth's ECR (logged in with
`aws ecr get-login-password`), and `berth serve` runs it under runc as the
image's non-root user; the page answers on the task's dynamic host port,
and on a FARGATE task's public IP.

usage: ecs_outyet_task_test.py SOURCE_DIR ROOTFS_DIR [unittest args...]
ROOTFS_DIR is the outyet root filesystem the build staged (<build>/image/rootfs,
inside SOURCE_DIR). The binary comes from $BERTH_BIN. Needs root, runc,
umoci, podman.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from berth_harness import Daemon  # noqa: E402
from ecs_setup import join_instances  # noqa: E402

SOURCE_DIR = ROOTFS_DIR = None


def get_page(ip, port, timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen("http://%s:%d/" % (ip, port), timeout=2) as r:
                return r.status, r.read().decode()
        except (OSError, urllib.error.URLError) as e:
            if time.monotonic() > deadline:
                return e
            time.sleep(0.1)


class OutyetTask(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise RuntimeError("needs root (runc, podman --isolation=chroot)")
        for tool in ("runc", "umoci", "podman"):
            if not shutil.which(tool):
                raise RuntimeError("needs " + tool)
        cls.tmp = tempfile.mkdtemp(prefix="berth-ecs-outyet-")
        cls.d = Daemon().start()
        cls.ecs, cls.ec2 = cls.d.client("ecs"), cls.d.client("ec2")

    @classmethod
    def tearDownClass(cls):
        try:
            cls.d.cleanup()  # stops the tasks a failed test left running first
        finally:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def podman(self, *args, check=True):
        p = subprocess.run(["podman", "--root", os.path.join(self.tmp, "root"), "--runroot",
                            os.path.join(self.tmp, "run"), "--storage-driver", "vfs", "--events-backend", "none",
                            *args], capture_output=True, text=True, timeout=300)
        if check and p.returncode != 0:
            self.fail("podman %s: %s" % (" ".join(args), p.stderr[-2000:]))
        return p

    def wait_task(self, arn, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            t = self.ecs.describe_tasks(cluster="outyet", tasks=[arn])["tasks"][0]
            if t["lastStatus"] in ("RUNNING", "STOPPED") or time.monotonic() > deadline:
                return t
            time.sleep(0.1)

    def test_outyet_task_serves_its_page(self):
        repo = self.d.aws("ecr", "create-repository", "--repository-name", "outyet-image")["repository"]
        uri = repo["repositoryUri"]
        registry = uri.split("/")[0]
        password = subprocess.run(["/usr/bin/aws", "ecr", "get-login-password", "--endpoint-url", self.d.endpoint],
                                  env=self.d.aws_env(), capture_output=True, text=True, check=True).stdout.strip()
        login = subprocess.run(["podman", "login", "--tls-verify=false", "--authfile",
                                os.path.join(self.tmp, "auth.json"), "-u", "AWS", "--password-stdin", registry],
                               input=password, capture_output=True, text=True, timeout=60)
        self.assertEqual(login.returncode, 0, login.stderr)
        rootfs = os.path.relpath(ROOTFS_DIR, SOURCE_DIR)
        self.podman("build", "--isolation=chroot", "-q", "--build-arg", "ROOTFS=" + rootfs, "-t", "outyet-image",
                    "-f", os.path.join(SOURCE_DIR, "Dockerfile"), SOURCE_DIR)
        self.podman("push", "-q", "--tls-verify=false", "--authfile", os.path.join(self.tmp, "auth.json"),
                    "outyet-image", "docker://%s:latest" % uri)
        images = self.d.aws("ecr", "describe-images", "--repository-name", "outyet-image")["imageDetails"]
        self.assertEqual([i.get("imageTags") for i in images], [["latest"]])

        self.ecs.create_cluster(clusterName="outyet")
        join_instances(self.d, "outyet", instance_type="t2.small")
        instance = self.ec2.describe_instances()["Reservations"][0]["Instances"][0]
        group = instance["SecurityGroups"][0]["GroupId"]
        self.ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": 1024, "ToPort": 65535, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        container = {"name": "outyet", "image": uri + ":latest", "essential": True, "stopTimeout": 5,
                     "portMappings": [{"containerPort": 8080}]}
        self.ecs.register_task_definition(family="outyet", networkMode="bridge",
                                          containerDefinitions=[dict(container, memory=128)])
        self.ecs.register_task_definition(family="outyet-fargate", networkMode="awsvpc",
                                          requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
                                          containerDefinitions=[container])

        bridge = self.ecs.run_task(cluster="outyet", taskDefinition="outyet")["tasks"][0]["taskArn"]
        fargate = self.ecs.run_task(cluster="outyet", taskDefinition="outyet-fargate", launchType="FARGATE",
                                    networkConfiguration={"awsvpcConfiguration": {
                                        "subnets": [instance["SubnetId"]], "securityGroups": [group],
                                        "assignPublicIp": "ENABLED"}})["tasks"][0]["taskArn"]
        running = self.wait_task(bridge)
        self.assertEqual(running["lastStatus"], "RUNNING", json.dumps(running, default=str))
        port = running["containers"][0]["networkBindings"][0]["hostPort"]
        got = get_page(instance["PublicIpAddress"], port)
        self.assertIsInstance(got, tuple, "outyet did not answer: %s\n%s" % (got, self.d.log()[-3000:]))
        self.assertEqual(got[0], 200)
        self.assertIn("<h2>Is Go", got[1])

        # It runs as the image's user (outyet, uid 65532), not root.
        runc = os.path.join(self.d.data_dir, "runtime", "runc")
        state = json.loads(subprocess.run(["runc", "--root", runc, "state", running["containers"][0]["runtimeId"]],
                                          capture_output=True, text=True, check=True).stdout)
        with open("/proc/%d/status" % state["pid"]) as f:
            uid_line = [line for line in f if line.startswith("Uid:")][0]
        self.assertEqual(uid_line.split()[1], "65532")

        on_fargate = self.wait_task(fargate)
        self.assertEqual(on_fargate["lastStatus"], "RUNNING", json.dumps(on_fargate, default=str))
        eni_id = {d["name"]: d["value"] for d in on_fargate["attachments"][0]["details"]}["networkInterfaceId"]
        eni = self.ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"][0]
        got = get_page(eni["Association"]["PublicIp"], 8080)
        self.assertIsInstance(got, tuple, "outyet on FARGATE did not answer: %s" % (got,))
        self.assertIn("<h2>Is Go", got[1])


if __name__ == "__main__":
    SOURCE_DIR, ROOTFS_DIR = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    del sys.argv[1:3]
    unittest.main(verbosity=2)
