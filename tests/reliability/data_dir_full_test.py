"""A full and a read-only data directory (issue 16). The data dir is a
small tmpfs. When it fills up, every write gets 503 ServiceUnavailable in
its protocol's shape (the registry's UNAVAILABLE), saying the data
directory is full; reads go on, nothing already stored is damaged and
nothing half-written is left; once space returns the same calls succeed.
A read-only data dir stops `berth serve` at start with a message that says
so. Needs root (mount).
"""
import glob
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from berth_harness import BERTH, AwsError, Daemon, private_address  # noqa: E402

SIZE = "64m"


class DataDirFullTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise RuntimeError("needs root: the data dir is a tmpfs mounted for the test")
        cls.mount = tempfile.mkdtemp(prefix="berth-full-")
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=" + SIZE, "tmpfs", cls.mount], check=True)
        cls.filler = os.path.join(cls.mount, "filler")
        cls.d = Daemon(data_dir=os.path.join(cls.mount, "data"), env={"BERTH_TASK_RUNTIME": "none"})
        os.makedirs(cls.d.data_dir)
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.d.cleanup()
        finally:
            subprocess.run(["umount", "-l", cls.mount])
            os.rmdir(cls.mount)

    def registry(self, method, path, body=b"", headers=None):
        return self.d.registry(self.password, method, path, body, headers, timeout=30)

    def push_blob(self, repo, data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        status, body, start = self.registry("POST", "/v2/%s/blobs/uploads/" % repo)
        if status != 202:
            return status, body, digest
        status, body, _ = self.registry("PUT", start.getheader("Location") + "?digest=" + digest, data)
        return status, body, digest

    def fill_up(self):
        with open(self.filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass

    def expect_unavailable(self, *args):
        try:
            self.d.aws(*args)
        except AwsError as e:
            self.assertEqual(e.code, "ServiceUnavailable", "aws %s on a full disk: %s" % (" ".join(args), e.stderr))
            self.assertIn("data directory is full", e.stderr)
            return
        self.fail("aws %s succeeded on a full disk" % " ".join(args))

    def check_store(self):
        for path in glob.glob(os.path.join(self.d.data_dir, "**", "*.db"), recursive=True):
            db = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10)
            try:
                self.assertEqual(db.execute("PRAGMA integrity_check").fetchall(), [("ok",)], path)
            finally:
                db.close()
        for path in glob.glob(os.path.join(self.d.data_dir, "ecr", "blobs", "sha256", "*", "*")):
            with open(path, "rb") as f:
                self.assertEqual(hashlib.sha256(f.read()).hexdigest(), os.path.basename(path), path)
        self.assertEqual(os.listdir(os.path.join(self.d.data_dir, "ecr", "blobs", "tmp")), [],
                         "a failed upload left its temp file")

    def test_1_full_disk_refuses_writes_keeps_state_and_resumes(self):
        d = self.d
        d.aws("ecs", "create-cluster", "--cluster-name", "before")
        d.aws("ecr", "create-repository", "--repository-name", "images")
        d.aws("ssm", "put-parameter", "--name", "/app/before", "--value", "v1", "--type", "String")
        vpc = d.aws("ec2", "describe-vpcs")["Vpcs"][0]["VpcId"]
        self.password = d.aws("ecr", "get-login-password")
        status, body, kept_blob = self.push_blob("images", os.urandom(100000))
        self.assertEqual(status, 201, body)

        self.fill_up()
        try:
            self.expect_unavailable("ecs", "create-cluster", "--cluster-name", "during")          # JSON 1.1
            self.expect_unavailable("ssm", "put-parameter", "--name", "/app/during", "--value", "v",
                                    "--type", "String")
            self.expect_unavailable("ec2", "create-security-group", "--group-name", "during",     # EC2 query
                                    "--description", "d", "--vpc-id", vpc)
            self.expect_unavailable("elbv2", "create-target-group", "--name", "during",           # query
                                    "--protocol", "HTTP", "--port", "80", "--vpc-id", vpc)
            status, body, _ = self.push_blob("images", os.urandom(2 * 1024 * 1024))
            self.assertEqual(status, 503, body)
            self.assertEqual(json.loads(body)["errors"][0]["code"], "UNAVAILABLE", body)
            # Reads go on, and what was stored before is there.
            clusters = d.aws("ecs", "describe-clusters", "--clusters", "before", "during")
            self.assertEqual([c["clusterName"] for c in clusters["clusters"]], ["before"])
            self.assertEqual([f["arn"].rsplit("/", 1)[-1] for f in clusters["failures"]], ["during"])
            self.assertEqual(d.aws("ssm", "get-parameter", "--name", "/app/before")["Parameter"]["Value"], "v1")
            status, _, _ = self.registry("HEAD", "/v2/images/blobs/" + kept_blob)
            self.assertEqual(status, 200)
            self.assertTrue(d.alive(), "the daemon died on a full disk:\n" + d.log()[-2000:])
        finally:
            os.unlink(self.filler)

        # Room again: the same calls succeed, nothing damaged.
        d.aws("ecs", "create-cluster", "--cluster-name", "during")
        d.aws("ssm", "put-parameter", "--name", "/app/during", "--value", "v", "--type", "String")
        d.aws("ec2", "create-security-group", "--group-name", "during", "--description", "d", "--vpc-id", vpc)
        status, body, _ = self.push_blob("images", os.urandom(2 * 1024 * 1024))
        self.assertEqual(status, 201, body)
        self.check_store()

    def test_2_read_only_data_dir_stops_the_start_with_a_clear_message(self):
        self.d.stop()
        subprocess.run(["mount", "-o", "remount,ro", self.mount], check=True)
        try:
            p = subprocess.run([BERTH, "serve", "--data-dir", self.d.data_dir, "--bind", private_address(),
                                "--port", "0"], capture_output=True, text=True, timeout=30)
        finally:
            subprocess.run(["mount", "-o", "remount,rw", self.mount], check=True)
        self.assertNotEqual(p.returncode, 0, "berth serve ran on a read-only data dir")
        self.assertIn("is not writable: Read-only file system", p.stderr + p.stdout)
        # Writable again: it starts on the same state.
        self.d.start()
        self.assertEqual([c["clusterName"] for c in self.d.aws("ecs", "describe-clusters", "--clusters",
                                                               "before")["clusters"]], ["before"])
        self.check_store()


if __name__ == "__main__":
    unittest.main(verbosity=2)
