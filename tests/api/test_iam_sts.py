"""STS and IAM through the Debian aws CLI and boto3, against a real daemon."""
import html
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from berth_harness import Daemon, call_query, xml_code, BERTH  # noqa: E402

from botocore.exceptions import ClientError  # noqa: E402


class StsIam(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon().start()
        cls.iam = cls.d.client("iam")
        cls.account = cls.d.get("/_berth/health")[1].decode().split('"account":"')[1][:12]

    @classmethod
    def tearDownClass(cls):
        rc = cls.d.stop()
        cls.d.cleanup()
        assert rc == 0, rc

    def code(self, ctx):
        return ctx.exception.response["Error"]["Code"], ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"]

    def test_env_and_cli_get_caller_identity(self):
        env_text = subprocess.run([BERTH, "env", "--data-dir", self.d.data_dir], capture_output=True, text=True,
                                  check=True).stdout
        self.assertIn("export AWS_ENDPOINT_URL=http://%s:%d\n" % (self.d.host, self.d.bound_port), env_text)
        self.assertIn("export AWS_DEFAULT_REGION=us-east-1\n", env_text)
        # `eval "$(berth env)"` as a user does, then the CLI with nothing else.
        script = 'eval "$(%s env --data-dir %s)"; %s sts get-caller-identity --endpoint-url "$AWS_ENDPOINT_URL"' % (
            BERTH, self.d.data_dir, "/usr/bin/aws")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        p = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        import json
        ident = json.loads(p.stdout)
        self.assertEqual(ident["Account"], self.account)
        self.assertEqual(ident["Arn"], "arn:aws:iam::%s:user/administrator" % self.account)
        self.assertTrue(ident["UserId"].startswith("AIDA"))
        # files of the data dir are private
        for name in ("credentials", "state.db", "endpoint"):
            mode = os.stat(os.path.join(self.d.data_dir, name)).st_mode & 0o777
            self.assertEqual(mode, 0o600, name)

    def test_boto3_get_caller_identity(self):
        ident = self.d.client("sts").get_caller_identity()
        self.assertEqual(ident["Account"], self.account)
        self.assertEqual(ident["Arn"], "arn:aws:iam::%s:user/administrator" % self.account)
        self.assertEqual(len(ident["ResponseMetadata"]["RequestId"]), 36)

    def test_user_lifecycle_with_cli(self):
        rc, out, err = self.d.aws_result("iam", "create-user", "--user-name", "carol")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out["User"]["UserName"], "carol")
        self.assertEqual(out["User"]["Arn"], "arn:aws:iam::%s:user/carol" % self.account)
        self.assertEqual(out["User"]["Path"], "/")
        rc, out, err = self.d.aws_result("iam", "create-user", "--user-name", "carol")
        self.assertNotEqual(rc, 0)
        self.assertIn("(EntityAlreadyExists)", err)
        self.assertIn("User with name carol already exists.", err)
        rc, out, err = self.d.aws_result("iam", "attach-user-policy", "--user-name", "carol", "--policy-arn",
                                  "arn:aws:iam::aws:policy/AdministratorAccess")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.d.aws_result("iam", "list-attached-user-policies", "--user-name", "carol")
        self.assertEqual(out["AttachedPolicies"], [{"PolicyName": "AdministratorAccess",
                                                    "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}])
        rc, out, err = self.d.aws_result("iam", "create-access-key", "--user-name", "carol")
        self.assertEqual(rc, 0, err)
        key = out["AccessKey"]
        self.assertRegex(key["AccessKeyId"], r"^AKIA[A-Z2-7]{16}$")
        self.assertEqual(len(key["SecretAccessKey"]), 40)
        self.assertEqual(key["Status"], "Active")
        # the new key works at once, as carol
        rc, out, err = self.d.aws_result("sts", "get-caller-identity", access_key=key["AccessKeyId"],
                                  secret=key["SecretAccessKey"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(out["Arn"], "arn:aws:iam::%s:user/carol" % self.account)
        # DeleteConflict while keys and then policies are attached
        rc, out, err = self.d.aws_result("iam", "delete-user", "--user-name", "carol")
        self.assertIn("(DeleteConflict)", err)
        self.assertIn("must delete access keys first", err)
        rc, out, err = self.d.aws_result("iam", "delete-access-key", "--user-name", "carol", "--access-key-id",
                                  key["AccessKeyId"])
        self.assertEqual(rc, 0, err)
        rc, out, err = self.d.aws_result("sts", "get-caller-identity", access_key=key["AccessKeyId"],
                                  secret=key["SecretAccessKey"])
        self.assertIn("(InvalidClientTokenId)", err)
        rc, out, err = self.d.aws_result("iam", "delete-user", "--user-name", "carol")
        self.assertIn("must detach all policies first", err)
        rc, out, err = self.d.aws_result("iam", "detach-user-policy", "--user-name", "carol", "--policy-arn",
                                  "arn:aws:iam::aws:policy/AdministratorAccess")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.d.aws_result("iam", "delete-user", "--user-name", "carol")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.d.aws_result("iam", "get-user", "--user-name", "carol")
        self.assertIn("(NoSuchEntity)", err)
        self.assertIn("The user with name carol cannot be found.", err)

    def test_get_user_without_name_is_the_caller(self):
        u = self.iam.get_user()["User"]
        self.assertEqual(u["UserName"], "administrator")
        keys = self.iam.list_access_keys()["AccessKeyMetadata"]
        self.assertEqual([k["AccessKeyId"] for k in keys], [self.d.creds["AWS_ACCESS_KEY_ID"]])

    def test_boto3_errors(self):
        with self.assertRaises(ClientError) as c:
            self.iam.get_user(UserName="ghost")
        self.assertEqual(self.code(c), ("NoSuchEntity", 404))
        with self.assertRaises(ClientError) as c:
            self.iam.delete_user(UserName="ghost")
        self.assertEqual(self.code(c), ("NoSuchEntity", 404))
        self.iam.create_user(UserName="dave")
        with self.assertRaises(ClientError) as c:
            self.iam.create_user(UserName="DAVE")
        self.assertEqual(self.code(c), ("EntityAlreadyExists", 409))
        self.iam.create_access_key(UserName="dave")
        self.iam.create_access_key(UserName="dave")
        with self.assertRaises(ClientError) as c:
            self.iam.create_access_key(UserName="dave")
        self.assertEqual(self.code(c), ("LimitExceeded", 409))
        self.assertIn("AccessKeysPerUser: 2", c.exception.response["Error"]["Message"])
        with self.assertRaises(ClientError) as c:
            self.iam.delete_user(UserName="dave")
        self.assertEqual(self.code(c), ("DeleteConflict", 409))
        with self.assertRaises(ClientError) as c:
            self.iam.delete_access_key(UserName="dave", AccessKeyId="AKIAAAAAAAAAAAAAAAAA")
        self.assertEqual(self.code(c), ("NoSuchEntity", 404))
        with self.assertRaises(ClientError) as c:
            self.iam.attach_user_policy(UserName="dave", PolicyArn="arn:aws:iam::aws:policy/PowerUserAccess")
        self.assertEqual(self.code(c), ("NoSuchEntity", 404))
        with self.assertRaises(ClientError) as c:
            self.iam.detach_user_policy(UserName="dave", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
        self.assertEqual(self.code(c), ("NoSuchEntity", 404))
        with self.assertRaises(ClientError) as c:
            self.iam.attach_user_policy(UserName="ghost", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
        self.assertEqual(self.code(c), ("NoSuchEntity", 404))
        with self.assertRaises(ClientError) as c:
            self.iam.list_attached_user_policies(UserName="ghost")
        self.assertEqual(self.code(c), ("NoSuchEntity", 404))
        with self.assertRaises(ClientError) as c:
            self.iam.list_access_keys(UserName="ghost")
        self.assertEqual(self.code(c), ("NoSuchEntity", 404))

    def test_validation_errors_raw(self):
        # botocore validates client-side; a raw request reaches the server's checks.
        for body, needle in [
            ("Action=CreateUser&Version=2010-05-08", b"Value null at 'userName'"),
            ("Action=CreateUser&Version=2010-05-08&UserName=bad%20name", b"regular expression pattern"),
            ("Action=CreateUser&Version=2010-05-08&UserName=" + "x" * 65, b"length less than or equal to 64"),
            ("Action=CreateUser&Version=2010-05-08&UserName=ok&Path=nope", b"at 'path'"),
            ("Action=ListUsers&Version=2010-05-08&MaxItems=0", b"greater than or equal to 1"),
            ("Action=ListUsers&Version=2010-05-08&MaxItems=1001", b"less than or equal to 1000"),
            ("Action=ListUsers&Version=2010-05-08&MaxItems=abc", b"MaxItems"),
            ("Action=DeleteAccessKey&Version=2010-05-08", b"Value null at 'accessKeyId'"),
            ("Action=AttachUserPolicy&Version=2010-05-08&UserName=administrator", b"Value null at 'policyArn'"),
        ]:
            status, out, headers = call_query(self.d, "iam", body)
            self.assertEqual(status, 400, body)
            self.assertEqual(xml_code(out), "ValidationError", body)
            self.assertIn(needle, html.unescape(out.decode()).encode(), body)
            self.assertIn(b"<Type>Sender</Type>", out)
            self.assertIn("x-amzn-requestid", headers)

    def test_list_users_pagination(self):
        names = ["page-%02d" % i for i in range(7)]
        for n in names:
            self.iam.create_user(UserName=n, Path="/paged/")
        seen, marker, pages = [], None, 0
        while True:
            kw = {"PathPrefix": "/paged/", "MaxItems": 3}
            if marker:
                kw["Marker"] = marker
            r = self.iam.list_users(**kw)
            pages += 1
            seen += [u["UserName"] for u in r["Users"]]
            self.assertLessEqual(len(r["Users"]), 3)
            if not r["IsTruncated"]:
                self.assertNotIn("Marker", r)
                break
            marker = r["Marker"]
        self.assertEqual(seen, names)
        self.assertEqual(pages, 3)
        # the paginator, as the CLI uses it
        got = [u["UserName"] for p in self.iam.get_paginator("list_users").paginate(
            PathPrefix="/paged/", PaginationConfig={"PageSize": 2}) for u in p["Users"]]
        self.assertEqual(got, names)
        rc, out, err = self.d.aws_result("iam", "list-users", "--path-prefix", "/paged/", "--page-size", "2")
        self.assertEqual([u["UserName"] for u in out["Users"]], names)
        self.assertEqual(self.iam.get_user(UserName="page-00")["User"]["Arn"],
                         "arn:aws:iam::%s:user/paged/page-00" % self.account)


if __name__ == "__main__":
    import warnings
    warnings.simplefilter("ignore", ResourceWarning)
    unittest.main(verbosity=2)
