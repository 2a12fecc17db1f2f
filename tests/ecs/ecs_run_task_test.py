#!/usr/bin/python3
"""`aws ecs run-task` really runs: a busybox httpd image pushed to berth's ECR
with skopeo, an ECS container instance from run-instances, a bridge-mode task
with a dynamic host port that answers HTTP on the instance's public IP, then
stop-task; a task whose image does not exist stops with
CannotPullContainerError; and so does one whose stored manifest an older
berth accepted without descriptor media types (issue 16: the daemon aborted
then, and again at every start). Needs root, runc, umoci, skopeo and /bin/busybox
(busybox-static).

Usage: BERTH_BIN=<path to berth> ecs_run_task_test.py [unittest args]
"""
import base64
import hashlib
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from berth_harness import Daemon, missing_task_prerequisites  # noqa: E402
from oci_images import BUSYBOX_INDEX_HTML, make_busybox_layout  # noqa: E402

ECS_AMI = "ami-0c9a0d5a8b4e7f312"


def netns_names():
    try:
        return set(os.listdir("/run/netns"))
    except OSError:
        return set()


class RunTask(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        missing = missing_task_prerequisites()
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
        if cls.daemon.alive() and cls.task_ids:
            cls.daemon.stop_all_tasks(timeout=20)
        try:
            cls.daemon.stop()
            stop_error = None
        except RuntimeError as e:
            stop_error = str(e)
        leftovers = sorted(n for n in netns_names() for t in cls.task_ids if n == "berth-" + t)
        log = cls.daemon.log()[-4000:]
        shutil.rmtree(cls.work, ignore_errors=True)
        cls.daemon.cleanup()
        if stop_error:
            raise AssertionError(stop_error + "\n" + log)
        if leftovers:
            raise AssertionError("network namespaces left behind: %s" % leftovers)

    def wait_task(self, cluster, arn, status, timeout=60):
        deadline = time.time() + timeout
        task = None
        while time.time() < deadline:
            task = self.daemon.aws("ecs", "describe-tasks", "--cluster", cluster, "--tasks", arn)["tasks"][0]
            if task["lastStatus"] == status or (task["lastStatus"] == "STOPPED" and status != "STOPPED"):
                return task
            time.sleep(0.2)
        self.fail("task %s not %s within %d s: %s\n%s" % (arn, status, timeout, json.dumps(task),
                                                          self.daemon.log()[-4000:]))

    def test_run_task_answers_http_then_stops(self):
        d = self.daemon
        # ECR: a busybox httpd image, pushed with skopeo.
        repo = d.aws("ecr", "create-repository", "--repository-name", "busybox-httpd")["repository"]
        uri = repo["repositoryUri"]
        layout = os.path.join(self.work, "layout")
        make_busybox_layout(layout, "latest")
        d.push_layout(layout, uri + ":latest")

        # A cluster with one container instance.
        d.aws("ecs", "create-cluster", "--cluster-name", "web")
        instance = d.aws("ec2", "run-instances", "--image-id", ECS_AMI, "--instance-type", "t2.micro",
                         "--user-data", "ECS_CLUSTER=web")["Instances"][0]
        instance_id = instance["InstanceId"]
        deadline = time.time() + 15
        while time.time() < deadline:
            arns = d.aws("ecs", "list-container-instances", "--cluster", "web")["containerInstanceArns"]
            if arns:
                break
            time.sleep(0.2)
        self.assertEqual(len(arns), 1, "no container instance registered")
        described = d.aws("ec2", "describe-instances", "--instance-ids", instance_id)["Reservations"][0]["Instances"][0]
        public_ip = described.get("PublicIpAddress")
        self.assertTrue(public_ip, "the instance has no public IP: %s" % described)
        groups = [g["GroupId"] for g in described["SecurityGroups"]]
        self.assertTrue(groups)
        # Dynamic host ports are 49153-65535, as the ECS agent's.
        d.aws("ec2", "authorize-security-group-ingress", "--group-id", groups[0], "--ip-permissions",
              json.dumps([{"IpProtocol": "tcp", "FromPort": 49153, "ToPort": 65535,
                           "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]))

        web = {"name": "web", "image": uri + ":latest", "memory": 64, "essential": True,
               "command": ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"],
               "portMappings": [{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}]}
        d.aws("ecs", "register-task-definition", "--family", "web", "--network-mode", "bridge",
              "--requires-compatibilities", "EC2", "--container-definitions", json.dumps([web]))
        missing = dict(web, image=uri + ":no-such-tag")
        d.aws("ecs", "register-task-definition", "--family", "missing", "--network-mode", "bridge",
              "--requires-compatibilities", "EC2", "--container-definitions", json.dumps([missing]))

        # run-task: RUNNING with a dynamic host port that answers HTTP.
        task = d.aws("ecs", "run-task", "--cluster", "web", "--task-definition", "web")["tasks"][0]
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
        self.assertIsNotNone(body, "http://%s:%d/ did not answer\n%s" % (public_ip, host_port, d.log()[-4000:]))
        self.assertEqual(body, (200, BUSYBOX_INDEX_HTML))

        # stop-task: STOPPED with the reason given.
        d.aws("ecs", "stop-task", "--cluster", "web", "--task", arn, "--reason", "done with it")
        stopped = self.wait_task("web", arn, "STOPPED")
        self.assertEqual(stopped["lastStatus"], "STOPPED")
        self.assertEqual(stopped.get("stoppedReason"), "done with it")
        self.assertEqual(stopped.get("stopCode"), "UserInitiated")
        deadline = time.time() + 10
        while "berth-" + self.task_ids[-1] in netns_names() and time.time() < deadline:
            time.sleep(0.2)
        self.assertNotIn("berth-" + self.task_ids[-1], netns_names())

        # An image that is not in the registry: TaskFailedToStart, CannotPullContainerError.
        task = d.aws("ecs", "run-task", "--cluster", "web", "--task-definition", "missing")["tasks"][0]
        self.task_ids.append(task["taskArn"].rsplit("/", 1)[-1])
        failed = self.wait_task("web", task["taskArn"], "STOPPED")
        self.assertEqual(failed["lastStatus"], "STOPPED")
        self.assertEqual(failed.get("stopCode"), "TaskFailedToStart", json.dumps(failed))
        self.assertTrue(failed.get("stoppedReason", "").startswith("CannotPullContainerError"), json.dumps(failed))
        self.assertTrue(failed["containers"][0].get("reason", "").startswith("CannotPullContainerError"),
                        json.dumps(failed))

    def cluster_with_instance(self, name):
        d = self.daemon
        d.aws("ecs", "create-cluster", "--cluster-name", name)
        d.aws("ec2", "run-instances", "--image-id", ECS_AMI, "--instance-type", "t2.micro",
              "--user-data", "ECS_CLUSTER=" + name)
        deadline = time.time() + 15
        while time.time() < deadline:
            if d.aws("ecs", "list-container-instances", "--cluster", name)["containerInstanceArns"]:
                return
            time.sleep(0.2)
        self.fail("no container instance registered in " + name)

    def test_stored_manifest_without_media_types_fails_the_pull(self):
        d = self.daemon
        repo = d.aws("ecr", "create-repository", "--repository-name", "legacy")["repository"]
        uri = repo["repositoryUri"]
        layout = os.path.join(self.work, "legacy-layout")
        make_busybox_layout(layout, "good")
        d.push_layout(layout, uri + ":good")
        good = json.loads(d.aws("ecr", "batch-get-image", "--repository-name", "legacy",
                                "--image-ids", "imageTag=good")["images"][0]["imageManifest"])

        # A Docker schema 2 manifest over the same blobs, its descriptors
        # without mediaType, stored as an older berth stored what it accepted:
        # the blob file and the catalog rows, written behind the API's back.
        bad = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
               "config": {"digest": good["config"]["digest"], "size": good["config"]["size"]},
               "layers": [{"digest": l["digest"], "size": l["size"]} for l in good["layers"]]}
        data = json.dumps(bad).encode()
        hexdigest = hashlib.sha256(data).hexdigest()
        blob_dir = os.path.join(d.data_dir, "ecr", "blobs", "sha256", hexdigest[:2])
        os.makedirs(blob_dir, exist_ok=True)
        with open(os.path.join(blob_dir, hexdigest), "wb") as f:
            f.write(data)
        digest = "sha256:" + hexdigest
        db = sqlite3.connect(os.path.join(d.data_dir, "state.db"), timeout=30)
        with db:
            db.execute("INSERT INTO ecr_images VALUES (?, ?, ?, ?, ?, ?, ?)",
                       ("legacy", digest, bad["mediaType"], "", len(data), 1, time.time()))
            db.execute("INSERT INTO ecr_image_tags VALUES (?, ?, ?)", ("legacy", "bad", digest))
            for ref in [bad["config"]["digest"]] + [l["digest"] for l in bad["layers"]]:
                db.execute("INSERT OR IGNORE INTO ecr_image_refs VALUES (?, ?, ?, 0)", ("legacy", digest, ref))
        db.close()
        # The registry itself refuses such a manifest today.
        put = d.request("PUT", "/v2/legacy/manifests/again", data,
                        {"Content-Type": bad["mediaType"], "Authorization": "Basic " +
                         base64.b64encode(("AWS:" + d.ecr_password()).encode()).decode()})
        self.assertEqual(put[0], 400, put)

        self.cluster_with_instance("legacy")
        bad_td = {"name": "app", "image": uri + ":bad", "memory": 64, "essential": True,
                  "command": ["/bin/busybox", "sleep", "600"]}
        d.aws("ecs", "register-task-definition", "--family", "legacy-bad", "--network-mode", "bridge",
              "--container-definitions", json.dumps([bad_td]))
        task = d.aws("ecs", "run-task", "--cluster", "legacy", "--task-definition", "legacy-bad")["tasks"][0]
        arn, task_id = task["taskArn"], task["taskArn"].rsplit("/", 1)[-1]
        self.task_ids.append(task_id)

        def assert_failed_to_pull(why):
            failed = self.wait_task("legacy", arn, "STOPPED")
            self.assertEqual(failed["lastStatus"], "STOPPED", why)
            self.assertEqual(failed.get("stopCode"), "TaskFailedToStart", "%s: %s" % (why, json.dumps(failed)))
            reason = failed.get("stoppedReason", "")
            self.assertTrue(reason.startswith("CannotPullContainerError"), "%s: %s" % (why, json.dumps(failed)))
            self.assertIn("mediaType", reason, why)
            self.assertTrue(d.alive(), "%s: the daemon ended\n%s" % (why, d.log()[-4000:]))

        assert_failed_to_pull("first run")
        # It keeps serving: the good image of the same repository runs.
        good_td = dict(bad_td, image=uri + ":good")
        d.aws("ecs", "register-task-definition", "--family", "legacy-good", "--network-mode", "bridge",
              "--container-definitions", json.dumps([good_td]))
        ok = d.aws("ecs", "run-task", "--cluster", "legacy", "--task-definition", "legacy-good")["tasks"][0]
        self.task_ids.append(ok["taskArn"].rsplit("/", 1)[-1])
        running = self.wait_task("legacy", ok["taskArn"], "RUNNING")
        self.assertEqual(running["lastStatus"], "RUNNING", json.dumps(running))
        d.aws("ecs", "stop-task", "--cluster", "legacy", "--task", ok["taskArn"])
        self.wait_task("legacy", ok["taskArn"], "STOPPED")

        # The state the old daemon died in: the task launched, still PENDING.
        # Every start relaunches it; each start must fail the task, not itself.
        for attempt in range(2):
            d.stop()
            db = sqlite3.connect(os.path.join(d.data_dir, "state.db"), timeout=30)
            with db:
                db.execute("UPDATE ecs_tasks SET last_status = 'PENDING', desired_status = 'RUNNING', launched = 1, "
                           "stopped_at = NULL, doc = json_remove(json_set(doc, '$.lastStatus', 'PENDING', "
                           "'$.desiredStatus', 'RUNNING'), '$.stopCode', '$.stoppedReason', '$.stoppedAt', "
                           "'$.stoppingAt', '$.executionStoppedAt') WHERE id = ?", (task_id,))
            db.close()
            d.start()
            assert_failed_to_pull("start %d" % (attempt + 1))
        status, _, _ = d.get("/_berth/health")
        self.assertEqual(status, 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
