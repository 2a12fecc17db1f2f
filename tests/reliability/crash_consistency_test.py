"""Crash consistency (issue 16): `berth serve` SIGKILLed at random moments
while clients push images, run and stop task bursts, register and
deregister targets, scale and redeploy a service and write security
groups. After every restart:

- every SQLite file in the data dir passes PRAGMA integrity_check;
- every acknowledged write is there: images (manifest and blobs byte for
  byte), tasks RunTask returned, StopTask's desired status, targets,
  the service's desired count, groups and their rules;
- no blob in the store differs from its digest (nothing half-written);
- once the daemon settles, each runc container belongs to a task ECS shows
  as not STOPPED, and each such RUNNING task has its container once.
At the end, with everything stopped, no container, network namespace,
mount or cgroup of the run is left on the machine.

BERTH_CRASH_KILLS sets the number of kills (default 50). Needs root, runc,
umoci, skopeo (scripts/install-deps.sh).
"""
import glob
import hashlib
import json
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ecs_task_fixture import TaskFixture, dump  # noqa: E402

KILLS = int(os.environ.get("BERTH_CRASH_KILLS", "50"))
SEED = int(os.environ.get("BERTH_CRASH_SEED", str(int(time.time()))))
CLUSTER = "crash"
FAMILY = "sleeper"
SERVICE = "steady"
MAX_LIVE_TASKS = 6


class Acked:
    """What clients were told succeeded, and the one call each worker had in
    flight when the daemon died (it may or may not have been applied)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.images = {}          # (repo, tag) -> (manifest digest, {blob digest: sha256 of bytes})
        self.tasks = set()        # task ARNs RunTask returned
        self.stopped = set()      # task ARNs StopTask acknowledged
        self.targets = {}         # port -> True registered / False deregistered (last acknowledged)
        self.targets_in_doubt = set()
        self.desired = None       # the service's last acknowledged desired count
        self.desired_in_doubt = set()
        self.groups = {}          # group id -> set of acknowledged ingress ports
        self.errors = []          # unexpected answers (not a dead connection)


def dead_connection(e):
    """True for what a client sees when the daemon dies under it."""
    text = "%s %r" % (e, e)
    return any(s in text for s in ("Connection", "connection", "RemoteDisconnected", "BrokenPipe", "reset",
                                   "refused", "EndpointConnectionError", "timed out", "IncompleteRead"))


class CrashConsistencyTest(TaskFixture):
    def test_sigkill_at_random_moments_loses_nothing_acknowledged(self):
        rng = random.Random(SEED)
        print("crash consistency: %d kills, seed %d" % (KILLS, SEED), file=sys.stderr)
        instance_arn, instance = self.cluster_with_instance(CLUSTER)
        self.register(FAMILY, [{"name": "sleep", "memory": 16, "command": ["/bin/sleep", "3600"], "stopTimeout": 1}])
        self.ecs.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition=FAMILY, desiredCount=1)
        elb = self.d.client("elbv2")
        tg = elb.create_target_group(Name="crash-tg", Protocol="HTTP", Port=80, VpcId=self.vpc_id,
                                     TargetType="instance")["TargetGroups"][0]["TargetGroupArn"]
        acked = Acked()
        acked.desired = 1
        self.instance_id = instance["InstanceId"]
        self.tg = tg
        self.ecr_password = self.d.aws("ecr", "get-login-password")
        for repo in ("crash-a", "crash-b"):
            self.d.aws("ecr", "create-repository", "--repository-name", repo)

        for round_no in range(KILLS):
            stop = threading.Event()
            workers = [threading.Thread(target=w, args=(acked, stop, random.Random(rng.random())), daemon=True)
                       for w in (self.pusher, self.runner, self.registrar, self.scaler, self.grouper)]
            for w in workers:
                w.start()
            time.sleep(rng.uniform(0.2, 2.0))
            self.d.kill()
            stop.set()
            for w in workers:
                w.join(60)
                self.assertFalse(w.is_alive(), "a worker hung after the kill in round %d" % round_no)
            self.assertEqual(acked.errors, [], "unexpected answers before the kill in round %d" % round_no)
            self.d.start()
            self.check_databases(round_no)
            self.check_blob_store(round_no)
            self.check_acknowledged(acked, round_no)
            self.check_runtime_matches_ecs(round_no)

        print("crash consistency: acknowledged %d images, %d RunTask tasks (%d stopped), %d target changes, "
              "%d groups with %d rules" % (len(acked.images), len(acked.tasks), len(acked.stopped),
                                           len(acked.targets), len(acked.groups),
                                           sum(len(p) for p in acked.groups.values())), file=sys.stderr)
        self.wind_down_and_check_nothing_left(acked)

    # ---- workers: each makes calls until the daemon dies, recording what was acknowledged ----

    def worker(self, acked, stop, step):
        while not stop.is_set():
            try:
                step()
            except Exception as e:  # noqa: BLE001 - every failure is classified below
                if stop.is_set() or dead_connection(e):
                    return
                with acked.lock:
                    acked.errors.append("%s: %s" % (type(e).__name__, e))
                return

    def registry(self, method, path, body=b"", headers=None):
        return self.d.registry(self.ecr_password, method, path, body, headers, timeout=10)

    def upload(self, repo, data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        status, body, start = self.registry("POST", "/v2/%s/blobs/uploads/" % repo)
        if status != 202:
            raise AssertionError("upload start: %d %s" % (status, body[:300]))
        status, body, _ = self.registry("PUT", start.getheader("Location") + "?digest=" + digest, data)
        if status != 201:
            raise AssertionError("upload: %d %s" % (status, body[:300]))
        return digest

    def pusher(self, acked, stop, rng):
        def push():
            repo, tag = rng.choice(["crash-a", "crash-b"]), "t%d" % rng.randint(0, 30)
            layer = os.urandom(rng.randint(100, 64 * 1024))
            config = json.dumps({"architecture": "amd64", "os": "linux", "created": "%d" % rng.random(),
                                 "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "0" * 64]}}).encode()
            blobs = {self.upload(repo, layer): layer, self.upload(repo, config): config}
            layer_d, config_d = list(blobs)
            manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                                   "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                              "digest": config_d, "size": len(config)},
                                   "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                                               "digest": layer_d, "size": len(layer)}]}).encode()
            with acked.lock:  # until acknowledged, the tag may name the old image or this one
                acked.images.pop((repo, tag), None)
            status, body, _ = self.registry("PUT", "/v2/%s/manifests/%s" % (repo, tag), manifest,
                                            {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
            if status != 201:
                raise AssertionError("manifest put: %d %s" % (status, body[:300]))
            with acked.lock:
                acked.images[(repo, tag)] = ("sha256:" + hashlib.sha256(manifest).hexdigest(),
                                             {d: hashlib.sha256(b).hexdigest() for d, b in blobs.items()})
        self.worker(acked, stop, push)

    def runner(self, acked, stop, rng):
        ecs = self.d.client("ecs")

        def burst():
            with acked.lock:
                live = sorted(acked.tasks - acked.stopped)
            if len(live) >= MAX_LIVE_TASKS:
                victim = rng.choice(live)
                ecs.stop_task(cluster=CLUSTER, task=victim, reason="crash test")
                with acked.lock:
                    acked.stopped.add(victim)
                return
            out = ecs.run_task(cluster=CLUSTER, taskDefinition=FAMILY, count=rng.randint(1, 2))
            with acked.lock:
                acked.tasks.update(t["taskArn"] for t in out["tasks"])
        self.worker(acked, stop, burst)

    def registrar(self, acked, stop, rng):
        elb = self.d.client("elbv2")

        def flip():
            port = rng.randint(20000, 20009)
            register = rng.random() < 0.6
            with acked.lock:
                acked.targets_in_doubt.add(port)
            target = [{"Id": self.instance_id, "Port": port}]
            if register:
                elb.register_targets(TargetGroupArn=self.tg, Targets=target)
            else:
                elb.deregister_targets(TargetGroupArn=self.tg, Targets=target)
            with acked.lock:
                acked.targets[port] = register
                acked.targets_in_doubt.discard(port)
        self.worker(acked, stop, flip)

    def scaler(self, acked, stop, rng):
        ecs = self.d.client("ecs")

        def scale():
            count = rng.randint(0, 2)
            with acked.lock:
                acked.desired_in_doubt.add(count)
            ecs.update_service(cluster=CLUSTER, service=SERVICE, desiredCount=count,
                               forceNewDeployment=rng.random() < 0.3)
            with acked.lock:
                acked.desired = count
                acked.desired_in_doubt.clear()
            time.sleep(0.1)
        self.worker(acked, stop, scale)

    def grouper(self, acked, stop, rng):
        ec2 = self.d.client("ec2")

        def write():
            if not acked.groups or rng.random() < 0.3:
                gid = ec2.create_security_group(GroupName="crash-%08x" % rng.getrandbits(32),
                                                Description="crash test", VpcId=self.vpc_id)["GroupId"]
                with acked.lock:
                    acked.groups[gid] = set()
                return
            gid = rng.choice(sorted(acked.groups))
            port = rng.randint(1, 60000)
            if port in acked.groups[gid]:
                return
            ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[{
                "IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
            with acked.lock:
                acked.groups[gid].add(port)
        self.worker(acked, stop, write)

    # ---- checks after each restart ----

    def check_databases(self, round_no):
        files = sorted(glob.glob(os.path.join(self.d.data_dir, "**", "*.db"), recursive=True))
        self.assertTrue(any(f.endswith("state.db") for f in files), files)
        for path in files:
            db = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10)
            try:
                result = db.execute("PRAGMA integrity_check").fetchall()
            finally:
                db.close()
            self.assertEqual(result, [("ok",)], "round %d: %s is damaged" % (round_no, path))

    def check_blob_store(self, round_no):
        bad = []
        for path in glob.glob(os.path.join(self.d.data_dir, "**", "blobs", "sha256", "*", "*"), recursive=True):
            with open(path, "rb") as f:
                if hashlib.sha256(f.read()).hexdigest() != os.path.basename(path):
                    bad.append(path)
        self.assertEqual(bad, [], "round %d: blobs whose bytes differ from their digest" % round_no)

    def check_acknowledged(self, acked, round_no):
        where = "round %d" % round_no
        for (repo, tag), (digest, blobs) in sorted(acked.images.items()):
            status, body, r = self.registry("GET", "/v2/%s/manifests/%s" % (repo, tag),
                                            headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
            self.assertEqual(status, 200, "%s: acknowledged image %s:%s is gone: %s" % (where, repo, tag, body[:200]))
            self.assertEqual("sha256:" + hashlib.sha256(body).hexdigest(), digest, "%s: %s:%s" % (where, repo, tag))
            for blob, sha in blobs.items():
                status, data, _ = self.registry("GET", "/v2/%s/blobs/%s" % (repo, blob))
                self.assertEqual(status, 200, "%s: blob %s of %s:%s" % (where, blob, repo, tag))
                self.assertEqual(hashlib.sha256(data).hexdigest(), sha, "%s: blob %s half-written" % (where, blob))

        arns = sorted(acked.tasks)
        for i in range(0, len(arns), 100):
            out = self.ecs.describe_tasks(cluster=CLUSTER, tasks=arns[i:i + 100])
            self.assertEqual(out["failures"], [], "%s: acknowledged tasks are missing" % where)
            for t in out["tasks"]:
                if t["taskArn"] in acked.stopped:
                    self.assertEqual(t["desiredStatus"], "STOPPED", "%s: acknowledged StopTask lost: %s"
                                     % (where, dump(t)))

        health = self.d.client("elbv2").describe_target_health(TargetGroupArn=self.tg)["TargetHealthDescriptions"]
        # A deregistered target drains (300 s by default) before it leaves.
        present = {h["Target"]["Port"] for h in health if h.get("TargetHealth", {}).get("State") != "draining"}
        for port, registered in sorted(acked.targets.items()):
            if port in acked.targets_in_doubt:
                continue
            if registered:
                self.assertIn(port, present, "%s: acknowledged registration of port %d lost" % (where, port))
            else:
                self.assertNotIn(port, present, "%s: acknowledged deregistration of %d lost" % (where, port))

        service = self.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
        allowed = {acked.desired} | acked.desired_in_doubt
        self.assertIn(service["desiredCount"], allowed, "%s: the service's desired count" % where)
        acked.desired = service["desiredCount"]  # what stands now, for the next round
        acked.desired_in_doubt.clear()

        if acked.groups:
            groups = self.ec2.describe_security_groups(GroupIds=sorted(acked.groups))["SecurityGroups"]
            self.assertEqual(len(groups), len(acked.groups), "%s: acknowledged groups lost" % where)
            for g in groups:
                ports = {p["FromPort"] for p in g["IpPermissions"]}
                self.assertTrue(acked.groups[g["GroupId"]] <= ports, "%s: rules of %s lost: %s"
                                % (where, g["GroupId"], sorted(acked.groups[g["GroupId"]] - ports)))

    def runc_containers(self):
        """The created and running containers of the daemon's runc root.
        RuntimeError when `runc list` fails: Debian's runc 1.1 does when a
        container's directory goes between its readdir and lstat (a delete)."""
        p = subprocess.run(["runc", "--root", os.path.join(self.d.data_dir, "runtime", "runc"), "list",
                            "--format", "json"], capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError("runc list failed (%d): %s" % (p.returncode, p.stderr.strip()))
        return [c for c in (json.loads(p.stdout) or []) if c["status"] in ("created", "running")]

    def check_runtime_matches_ecs(self, round_no):
        """The runtime and ECS agree once the daemon has settled: starting
        and stopping tasks finish, so the check waits (bounded) for it."""
        deadline = time.monotonic() + 45
        while True:
            problems = []
            by_task = {}
            try:
                containers = self.runc_containers()
            except RuntimeError as e:  # a container mid-create or mid-delete: not settled yet
                problems.append(str(e))
                containers = []
            for c in containers:
                by_task.setdefault(c["id"].split("_", 1)[0], []).append(c["id"])
            arns = [a for page in self.ecs.get_paginator("list_tasks").paginate(cluster=CLUSTER)
                    for a in page["taskArns"]]
            tasks = {}
            for i in range(0, len(arns), 100):
                for t in self.ecs.describe_tasks(cluster=CLUSTER, tasks=arns[i:i + 100])["tasks"]:
                    tasks[t["taskArn"].rsplit("/", 1)[-1]] = t
            for task_id, ids in sorted(by_task.items()):
                t = tasks.get(task_id)
                if t is None or t["lastStatus"] == "STOPPED":
                    problems.append("container %s runs for a task ECS has %s" % (ids, "not" if t is None else "STOPPED"))
                elif len(ids) != 1:
                    problems.append("task %s runs %d containers: %s" % (task_id, len(ids), ids))
            for task_id, t in sorted(tasks.items()):
                if t["lastStatus"] == "RUNNING" and t["desiredStatus"] == "RUNNING" and task_id not in by_task:
                    problems.append("task %s is RUNNING in ECS with no container" % task_id)
                if t["lastStatus"] not in ("RUNNING", "STOPPED"):
                    problems.append("task %s still %s" % (task_id, t["lastStatus"]))
            if not problems:
                return
            if time.monotonic() > deadline:
                self.fail("round %d: runtime and ECS disagree: %s\n%s" % (round_no, problems, self.d.log()[-3000:]))
            time.sleep(0.2)

    def wind_down_and_check_nothing_left(self, acked):
        self.ecs.update_service(cluster=CLUSTER, service=SERVICE, desiredCount=0)
        self.ecs.delete_service(cluster=CLUSTER, service=SERVICE, force=True)
        self.d.stop_all_tasks()
        deadline = time.monotonic() + 10
        while True:
            try:
                containers = self.runc_containers()
            except RuntimeError as e:  # the last deletes may still run
                containers = [str(e)]
            if not containers or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(containers, [], "containers left after every task stopped")
        ids = {a.rsplit("/", 1)[-1] for a in acked.tasks}
        arns = [a for page in self.ecs.get_paginator("list_tasks").paginate(cluster=CLUSTER, desiredStatus="STOPPED")
                for a in page["taskArns"]]
        ids |= {a.rsplit("/", 1)[-1] for a in arns}
        deadline = time.monotonic() + 10
        while True:
            left = ["netns " + n for n in (os.listdir("/run/netns") if os.path.isdir("/run/netns") else [])
                    if n.startswith("berth-") and n[len("berth-"):] in ids]
            left += ["cgroup " + p for p in glob.glob("/sys/fs/cgroup/*/berth/*") if os.path.basename(p) in ids]
            with open("/proc/self/mountinfo") as f:
                left += ["mount " + line.split()[4] for line in f if self.d.data_dir in line.split()[4]]
            tasks_dir = os.path.join(self.d.data_dir, "runtime", "tasks")
            left += ["runtime/tasks/" + n for n in (os.listdir(tasks_dir) if os.path.isdir(tasks_dir) else [])]
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(left, [], "left on the machine after %d kills" % KILLS)


if __name__ == "__main__":
    unittest.main(verbosity=2)
