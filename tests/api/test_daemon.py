"""The daemon's contract: health, env, side-by-side daemons, SIGTERM, SIGKILL and restart."""
import json
import os
import signal
import subprocess
import sys
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from berth_harness import Daemon, BERTH, call_query  # noqa: E402


class DaemonContract(unittest.TestCase):
    def setUp(self):
        self.daemons = []

    def tearDown(self):
        for d in self.daemons:
            d.cleanup()

    def start(self, **kw):
        kw.setdefault("port", 0)
        d = Daemon(**kw)
        self.daemons.append(d)
        return d.start()

    def test_health(self):
        d = self.start()
        status, body, headers = d.get("/_berth/health")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["status"], "ok")
        status, body, headers = d.get("/_berth/nothing")
        self.assertEqual(status, 404)
        self.assertEqual(d.stop(), 0)

    def assert_refuses_to_start(self, module, blocker, env=None):
        """A data dir where `blocker` (a module's subdirectory) is a file: that module cannot
        start, so `berth serve` must exit non-zero saying which, and never answer."""
        import tempfile
        with tempfile.TemporaryDirectory(prefix="berth-it-") as data:
            with open(os.path.join(data, blocker), "w") as f:
                f.write("not a directory\n")
            from berth_harness import private_address
            try:
                p = subprocess.run([BERTH, "serve", "--data-dir", data, "--bind", private_address(), "--port", "0"],
                                   capture_output=True, text=True, timeout=60, env=dict(os.environ, **(env or {})))
            except subprocess.TimeoutExpired:
                self.fail("berth serve kept running with %s unable to start" % module)
            self.assertNotEqual(p.returncode, 0, msg="berth serve started without %s:\n%s" % (module, p.stderr))
            self.assertIn("cannot start " + module, p.stderr, msg=p.stderr)
            self.assertFalse(os.path.exists(os.path.join(data, "endpoint")),
                             msg="a daemon that refused to start must not advertise an endpoint")

    def test_a_module_that_cannot_start_stops_the_start(self):
        self.assert_refuses_to_start("ecr", "ecr", env={"BERTH_TASK_RUNTIME": "none"})
        self.assert_refuses_to_start("logs", "logs", env={"BERTH_TASK_RUNTIME": "none"})

    def test_a_task_runtime_that_cannot_start_stops_the_start(self):
        from berth_harness import missing_task_prerequisites
        reason = missing_task_prerequisites()
        if reason:
            self.fail("this test runs the task runtime, which " + reason)
        self.assert_refuses_to_start("the task runtime", "runtime")

    def test_env_without_a_daemon_fails(self):
        import tempfile
        with tempfile.TemporaryDirectory() as empty:
            p = subprocess.run([BERTH, "env", "--data-dir", empty], capture_output=True, text=True)
            self.assertNotEqual(p.returncode, 0)
            self.assertEqual(p.stdout, "")
        p = subprocess.run([BERTH, "serve", "--port", "notaport"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("usage:", p.stderr)

    def test_two_daemons_side_by_side(self):
        a = self.start(address="127.0.0.2")
        b = self.start(address="127.0.0.3")
        self.assertTrue(a.endpoint.startswith("http://127.0.0.2:"))
        self.assertTrue(b.endpoint.startswith("http://127.0.0.3:"))
        ia = a.client("sts").get_caller_identity()
        ib = b.client("sts").get_caller_identity()
        self.assertNotEqual(ia["Account"], ib["Account"])
        a.client("iam").create_user(UserName="only-on-a")
        self.assertIn("only-on-a", [u["UserName"] for u in a.client("iam").list_users()["Users"]])
        self.assertNotIn("only-on-a", [u["UserName"] for u in b.client("iam").list_users()["Users"]])
        # a's key means nothing to b
        rc, out, err = b.aws_result("sts", "get-caller-identity", access_key=a.creds["AWS_ACCESS_KEY_ID"],
                             secret=a.creds["AWS_SECRET_ACCESS_KEY"])
        self.assertIn("(InvalidClientTokenId)", err)
        self.assertEqual(a.stop(), 0)
        self.assertEqual(b.stop(), 0)

    def test_sigterm_is_graceful(self):
        d = self.start()
        d.client("sts").get_caller_identity()
        self.assertEqual(d.stop(signal.SIGTERM), 0)
        self.assertIn("stopped", d.log())

    def test_restart_after_sigkill_keeps_everything(self):
        d = self.start()
        account = d.client("sts").get_caller_identity()["Account"]
        admin = dict(d.creds)
        iam = d.client("iam")
        names = ["user-%03d" % i for i in range(60)]
        errors = []
        keys = {}

        def writer(chunk):
            try:
                c = d.client("iam")
                for n in chunk:
                    c.create_user(UserName=n)
                    if n.endswith("0"):
                        k = c.create_access_key(UserName=n)["AccessKey"]
                        keys[n] = (k["AccessKeyId"], k["SecretAccessKey"])
                        c.attach_user_policy(UserName=n, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
            except Exception as e:  # noqa: BLE001
                errors.append(e)
        threads = [threading.Thread(target=writer, args=(names[i::4],)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        iam.delete_user(UserName="user-001")
        d.stop(signal.SIGKILL)
        d.start()
        admin.pop("AWS_ENDPOINT_URL")
        self.assertEqual({k: v for k, v in d.creds.items() if k != "AWS_ENDPOINT_URL"}, admin)
        self.assertEqual(d.client("sts").get_caller_identity()["Account"], account)
        users = [u["UserName"] for p in d.client("iam").get_paginator("list_users").paginate() for u in p["Users"]]
        self.assertEqual(sorted(users), sorted(["administrator"] + [n for n in names if n != "user-001"]))
        for n, (kid, secret) in keys.items():
            ident = d.client("sts", kid, secret).get_caller_identity()
            self.assertEqual(ident["Arn"], "arn:aws:iam::%s:user/%s" % (account, n))
            pols = d.client("iam").list_attached_user_policies(UserName=n)["AttachedPolicies"]
            self.assertEqual([p["PolicyName"] for p in pols], ["ReadOnlyAccess"])
        self.assertEqual(d.stop(), 0)

    def test_access_log(self):
        d = self.start()
        call_query(d, "sts", "Action=GetCallerIdentity&Version=2011-06-15")
        self.assertEqual(d.stop(), 0)
        with open(os.path.join(d.data_dir, "access.log")) as f:
            lines = f.read().splitlines()
        self.assertTrue(any('"POST /" 200' in line for line in lines), lines)
        self.assertTrue(any('"GET /_berth/health" 200' in line for line in lines), lines)


if __name__ == "__main__":
    import warnings
    warnings.simplefilter("ignore", ResourceWarning)
    unittest.main(verbosity=2)
