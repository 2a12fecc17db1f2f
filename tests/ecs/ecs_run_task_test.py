#!/usr/bin/python3
"""`aws ecs run-task` really runs: a busybox httpd image pushed to berth's ECR
with skopeo, an ECS container instance from run-instances, a bridge-mode task
with a dynamic host port that answers HTTP on the instance's public IP, then
stop-task; and a task whose image does not exist stops with
CannotPullContainerError. Needs root, runc, umoci, skopeo and /bin/busybox
(busybox-static).

Usage: ecs_run_task_test.py <path to berth> [unittest args]
"""
import gzip
import hashlib
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import unittest
import urllib.error
import urllib.request

BERTH = None
ECS_AMI = "ami-0c9a0d5a8b4e7f312"
INDEX_HTML = b"hello from a berth task\n"


def make_busybox_layout(out, tag):
    """An OCI layout of one layer: /bin/busybox (static), /bin/sh, /www/index.html. No network needed."""
    blobs = os.path.join(out, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)

    def put(data):
        d = hashlib.sha256(data).hexdigest()
        with open(os.path.join(blobs, d), "wb") as f:
            f.write(data)
        return "sha256:" + d, len(data)

    def add_dir(tf, name):
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 0
        tf.addfile(info)

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for d in ("bin", "www", "tmp"):
            add_dir(tf, d)
        with open("/bin/busybox", "rb") as f:
            busybox = f.read()
        info = tarfile.TarInfo("bin/busybox")
        info.size, info.mode, info.mtime = len(busybox), 0o755, 0
        tf.addfile(info, io.BytesIO(busybox))
        link = tarfile.TarInfo("bin/sh")
        link.type, link.linkname, link.mode, link.mtime = tarfile.SYMTYPE, "busybox", 0o777, 0
        tf.addfile(link)
        info = tarfile.TarInfo("www/index.html")
        info.size, info.mode, info.mtime = len(INDEX_HTML), 0o644, 0
        tf.addfile(info, io.BytesIO(INDEX_HTML))
    raw = raw.getvalue()
    layer, layer_size = put(gzip.compress(raw, mtime=0))
    config = {"architecture": "amd64", "os": "linux",
              "config": {"Env": ["PATH=/bin"], "Cmd": ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]},
              "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(raw).hexdigest()]}}
    cdg, csz = put(json.dumps(config, sort_keys=True).encode())
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cdg, "size": csz},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer,
                            "size": layer_size}]}
    mdg, msz = put(json.dumps(manifest, sort_keys=True).encode())
    index = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                                "digest": mdg, "size": msz,
                                                "annotations": {"org.opencontainers.image.ref.name": tag}}]}
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    return mdg


class Daemon:
    """A berth daemon on its own loopback address and data dir."""

    def __init__(self):
        self.data_dir = tempfile.mkdtemp(prefix="berth-ecs-run-")
        self.address = "127.%d.%d.%d" % (random.randint(64, 250), random.randint(0, 255), random.randint(2, 250))
        self.port = 4566
        self.proc = None
        self.log = None
        self.env = {}

    def start(self):
        self.log = open(os.path.join(self.data_dir, "serve.log"), "ab")
        self.proc = subprocess.Popen(
            [BERTH, "serve", "--data-dir", self.data_dir, "--bind", self.address, "--port", str(self.port)],
            stdout=self.log, stderr=self.log)
        deadline = time.time() + 15
        while time.time() < deadline:
            try:
                with urllib.request.urlopen("http://%s:%d/_berth/health" % (self.address, self.port), timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("berth did not become healthy")
        out = subprocess.run([BERTH, "env", "--data-dir", self.data_dir], check=True, capture_output=True,
                             text=True).stdout
        for line in out.splitlines():
            key, _, value = line.removeprefix("export ").partition("=")
            self.env[key] = value.strip("'\"")

    def stop(self):
        """SIGTERM; True when it exited by itself within 10 s."""
        clean = True
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                print("warning: berth serve ignored SIGTERM for 10 s; killing it", file=sys.stderr)
                clean = False
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        if self.log:
            self.log.close()
            self.log = None
        return clean

    def serve_log(self):
        try:
            with open(os.path.join(self.data_dir, "serve.log"), errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def aws(self, service, *args, check=True):
        env = dict(os.environ)
        env.update(AWS_ACCESS_KEY_ID=self.env["AWS_ACCESS_KEY_ID"],
                   AWS_SECRET_ACCESS_KEY=self.env["AWS_SECRET_ACCESS_KEY"],
                   AWS_DEFAULT_REGION=self.env["AWS_DEFAULT_REGION"], AWS_PAGER="",
                   AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        proc = subprocess.run(["/usr/bin/aws", "--endpoint-url", self.env["AWS_ENDPOINT_URL"], "--output", "json",
                               service, *args], capture_output=True, text=True, env=env, timeout=120)
        if not check:
            return proc
        if proc.returncode != 0:
            raise AssertionError("aws %s %s failed (%d): %s" % (service, " ".join(args), proc.returncode, proc.stderr))
        return json.loads(proc.stdout) if proc.stdout.strip() else {}

    def ecs(self, *args):
        return self.aws("ecs", *args)

    def ec2(self, *args):
        return self.aws("ec2", *args)


def netns_names():
    try:
        return set(os.listdir("/run/netns"))
    except OSError:
        return set()


def missing_prerequisites():
    if os.geteuid() != 0:
        return "needs root (runc, network namespaces)"
    for tool in ("runc", "umoci", "skopeo"):
        if not shutil.which(tool):
            return "needs " + tool
    if not os.path.exists("/bin/busybox") or not os.path.exists("/usr/bin/aws"):
        return "needs /bin/busybox (busybox-static) and /usr/bin/aws"
    return None


class RunTask(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # scripts/install-deps.sh brings all of these; missing ones are a
        # broken set-up, reported as a failure rather than skipped.
        missing = missing_prerequisites()
        if missing:
            raise RuntimeError(missing)
        cls.daemon = Daemon()
        cls.work = tempfile.mkdtemp(prefix="berth-ecs-run-work-")
        cls.task_ids = []
        cls.daemon.start()

    @classmethod
    def tearDownClass(cls):
        # Containers outlive a daemon stop (the next one adopts them): stop
        # what a failed test may have left running first.
        if cls.daemon.proc and cls.task_ids:
            deadline = time.time() + 20
            for t in cls.task_ids:
                cls.daemon.aws("ecs", "stop-task", "--cluster", "web", "--task", t, check=False)
            while time.time() < deadline:
                tasks = cls.daemon.aws("ecs", "describe-tasks", "--cluster", "web", "--tasks", *cls.task_ids,
                                       check=False)
                if tasks.returncode != 0 or all(x["lastStatus"] == "STOPPED"
                                                for x in json.loads(tasks.stdout).get("tasks", [])):
                    break
                time.sleep(0.2)
        clean = cls.daemon.stop()
        leftovers = sorted(n for n in netns_names() for t in cls.task_ids if n == "berth-" + t)
        log = cls.daemon.serve_log()
        shutil.rmtree(cls.work, ignore_errors=True)
        shutil.rmtree(cls.daemon.data_dir, ignore_errors=True)
        if not clean:
            raise AssertionError("berth serve did not stop on SIGTERM\n" + log)
        if leftovers:
            raise AssertionError("network namespaces left behind: %s" % leftovers)

    def wait_task(self, cluster, arn, status, timeout=60):
        deadline = time.time() + timeout
        task = None
        while time.time() < deadline:
            task = self.daemon.ecs("describe-tasks", "--cluster", cluster, "--tasks", arn)["tasks"][0]
            if task["lastStatus"] == status or (task["lastStatus"] == "STOPPED" and status != "STOPPED"):
                return task
            time.sleep(0.2)
        self.fail("task %s not %s within %d s: %s\n%s" % (arn, status, timeout, json.dumps(task),
                                                          self.daemon.serve_log()))

    def test_run_task_answers_http_then_stops(self):
        d = self.daemon
        # ECR: a busybox httpd image, pushed with skopeo.
        repo = d.aws("ecr", "create-repository", "--repository-name", "busybox-httpd")["repository"]
        uri = repo["repositoryUri"]
        layout = os.path.join(self.work, "layout")
        make_busybox_layout(layout, "latest")
        password = d.aws("ecr", "get-login-password", check=False).stdout.strip()
        push = subprocess.run(["skopeo", "copy", "-q", "--dest-tls-verify=false", "--dest-creds", "AWS:" + password,
                               "oci:%s:latest" % layout, "docker://%s:latest" % uri],
                              capture_output=True, text=True, timeout=120)
        self.assertEqual(push.returncode, 0, push.stderr)

        # A cluster with one container instance.
        d.ecs("create-cluster", "--cluster-name", "web")
        instance = d.ec2("run-instances", "--image-id", ECS_AMI, "--instance-type", "t2.micro",
                         "--user-data", "ECS_CLUSTER=web")["Instances"][0]
        instance_id = instance["InstanceId"]
        deadline = time.time() + 15
        while time.time() < deadline:
            arns = d.ecs("list-container-instances", "--cluster", "web")["containerInstanceArns"]
            if arns:
                break
            time.sleep(0.2)
        self.assertEqual(len(arns), 1, "no container instance registered")
        described = d.ec2("describe-instances", "--instance-ids", instance_id)["Reservations"][0]["Instances"][0]
        public_ip = described.get("PublicIpAddress")
        self.assertTrue(public_ip, "the instance has no public IP: %s" % described)
        groups = [g["GroupId"] for g in described["SecurityGroups"]]
        self.assertTrue(groups)
        # Dynamic host ports are 49153-65535, as the ECS agent's.
        d.ec2("authorize-security-group-ingress", "--group-id", groups[0], "--ip-permissions",
              json.dumps([{"IpProtocol": "tcp", "FromPort": 49153, "ToPort": 65535,
                           "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]))

        web = {"name": "web", "image": uri + ":latest", "memory": 64, "essential": True,
               "command": ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"],
               "portMappings": [{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}]}
        d.ecs("register-task-definition", "--family", "web", "--network-mode", "bridge",
              "--requires-compatibilities", "EC2", "--container-definitions", json.dumps([web]))
        missing = dict(web, image=uri + ":no-such-tag")
        d.ecs("register-task-definition", "--family", "missing", "--network-mode", "bridge",
              "--requires-compatibilities", "EC2", "--container-definitions", json.dumps([missing]))

        # run-task: RUNNING with a dynamic host port that answers HTTP.
        task = d.ecs("run-task", "--cluster", "web", "--task-definition", "web")["tasks"][0]
        arn = task["taskArn"]
        self.task_ids.append(arn.rsplit("/", 1)[-1])
        running = self.wait_task("web", arn, "RUNNING")
        self.assertEqual(running["lastStatus"], "RUNNING", json.dumps(running))
        bindings = running["containers"][0].get("networkBindings", [])
        self.assertEqual(len(bindings), 1, json.dumps(running))
        self.assertEqual(bindings[0]["containerPort"], 8080)
        host_port = bindings[0]["hostPort"]
        self.assertTrue(49153 <= host_port <= 65535, host_port)
        body = None
        deadline = time.time() + 15
        while time.time() < deadline:
            try:
                with urllib.request.urlopen("http://%s:%d/" % (public_ip, host_port), timeout=2) as r:
                    body = (r.status, r.read())
                    break
            except urllib.error.HTTPError as e:  # an HTTP answer from httpd all the same
                body = (e.code, e.read())
                break
            except OSError:
                time.sleep(0.2)
        self.assertIsNotNone(body, "http://%s:%d/ did not answer\n%s" % (public_ip, host_port, d.serve_log()))
        self.assertEqual(body, (200, INDEX_HTML))

        # stop-task: STOPPED with the reason given.
        d.ecs("stop-task", "--cluster", "web", "--task", arn, "--reason", "done with it")
        stopped = self.wait_task("web", arn, "STOPPED")
        self.assertEqual(stopped["lastStatus"], "STOPPED")
        self.assertEqual(stopped.get("stoppedReason"), "done with it")
        self.assertEqual(stopped.get("stopCode"), "UserInitiated")
        deadline = time.time() + 10
        while "berth-" + self.task_ids[-1] in netns_names() and time.time() < deadline:
            time.sleep(0.2)
        self.assertNotIn("berth-" + self.task_ids[-1], netns_names())

        # An image that is not in the registry: TaskFailedToStart, CannotPullContainerError.
        task = d.ecs("run-task", "--cluster", "web", "--task-definition", "missing")["tasks"][0]
        self.task_ids.append(task["taskArn"].rsplit("/", 1)[-1])
        failed = self.wait_task("web", task["taskArn"], "STOPPED")
        self.assertEqual(failed["lastStatus"], "STOPPED")
        self.assertEqual(failed.get("stopCode"), "TaskFailedToStart", json.dumps(failed))
        self.assertTrue(failed.get("stoppedReason", "").startswith("CannotPullContainerError"), json.dumps(failed))
        self.assertTrue(failed["containers"][0].get("reason", "").startswith("CannotPullContainerError"),
                        json.dumps(failed))


if __name__ == "__main__":
    BERTH = sys.argv.pop(1)
    unittest.main(verbosity=2)
