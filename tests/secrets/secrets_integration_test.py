#!/usr/bin/python3
"""SSM Parameter Store, Secrets Manager and IAM inline role policies through
`berth serve`, with the aws CLI and boto3; and no secret value in clear in
the data dir afterwards.

Usage: BERTH_BIN=<path to berth> [BERTH_TEST_AWS=<aws CLI>] secrets_integration_test.py [unittest args]
The aws CLI defaults to Debian's /usr/bin/aws (2.9); the pyenv aws CLI v1 works as well.
"""
import base64
import json
import os
import secrets as pysecrets
import subprocess
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from berth_harness import Daemon  # noqa: E402

AWS = os.environ.get("BERTH_TEST_AWS", "/usr/bin/aws")
D = None  # the daemon
# Values that must never be found in clear under the data dir: SecureString
# parameters and secrets. Each is unique to this run.
SECRET_VALUES = []


def secret_value(label):
    v = "%s-%s" % (label, pysecrets.token_hex(12))
    SECRET_VALUES.append(v)
    return v


def aws(*args, access_key=None, secret=None):
    """(exit code, parsed JSON or None, stderr) of one aws CLI call."""
    p = subprocess.run([AWS, *args, "--endpoint-url", D.endpoint, "--region", "us-east-1", "--output", "json"],
                       env=D.aws_env(access_key, secret), capture_output=True, text=True, timeout=120)
    out = json.loads(p.stdout) if p.returncode == 0 and p.stdout.strip() else None
    return p.returncode, out, p.stderr


class Secrets(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        global D
        D = Daemon(env={"BERTH_TASK_RUNTIME": "none"}).start()

    @classmethod
    def tearDownClass(cls):
        D.cleanup()

    def ok(self, *args, **kw):
        rc, out, err = aws(*args, **kw)
        self.assertEqual(rc, 0, "aws %s failed: %s" % (" ".join(args), err))
        return out if out is not None else {}

    def fails(self, code, *args, message=None, **kw):
        rc, out, err = aws(*args, **kw)
        self.assertNotEqual(rc, 0, "aws %s should fail with %s, answered %s" % (" ".join(args), code, out))
        self.assertIn("(%s)" % code, err, "aws %s: expected %s, got: %s" % (" ".join(args), code, err))
        if message is not None:
            self.assertIn(message, err, "aws %s: expected message %r, got: %s" % (" ".join(args), message, err))
        return err

    # ---- SSM Parameter Store ----

    def test_1_parameters_versions_labels_history(self):
        out = self.ok("ssm", "put-parameter", "--name", "/app/db/host", "--value", "db-1", "--type", "String",
                      "--description", "the database host", "--tags", "Key=team,Value=web")
        self.assertEqual(out.get("Version"), 1, out)
        self.assertEqual(out.get("Tier"), "Standard", out)
        self.fails("ParameterAlreadyExists", "ssm", "put-parameter", "--name", "/app/db/host", "--value", "db-2",
                   "--type", "String",
                   message="The parameter already exists. To overwrite this value, set the overwrite option")
        out = self.ok("ssm", "put-parameter", "--name", "/app/db/host", "--value", "db-2", "--overwrite")
        self.assertEqual(out.get("Version"), 2, out)
        p = self.ok("ssm", "get-parameter", "--name", "/app/db/host")["Parameter"]
        self.assertEqual((p["Value"], p["Version"], p["Type"]), ("db-2", 2, "String"), p)
        self.assertTrue(p["ARN"].startswith("arn:aws:ssm:us-east-1:") and p["ARN"].endswith(":parameter/app/db/host"), p)
        p = self.ok("ssm", "get-parameter", "--name", "/app/db/host:1")["Parameter"]
        self.assertEqual((p["Value"], p.get("Selector")), ("db-1", ":1"), p)

        out = self.ok("ssm", "label-parameter-version", "--name", "/app/db/host", "--parameter-version", "1",
                      "--labels", "stable", "9bad")
        self.assertEqual(out.get("InvalidLabels"), ["9bad"], out)
        self.assertEqual(out.get("ParameterVersion"), 1, out)
        p = self.ok("ssm", "get-parameter", "--name", "/app/db/host:stable")["Parameter"]
        self.assertEqual(p["Value"], "db-1", p)
        history = self.ok("ssm", "get-parameter-history", "--name", "/app/db/host")["Parameters"]
        self.assertEqual([(h["Version"], h["Value"], h["Labels"]) for h in history],
                         [(1, "db-1", ["stable"]), (2, "db-2", [])], history)
        self.assertEqual(history[1].get("Description"), "the database host", history)

        out = self.ok("ssm", "unlabel-parameter-version", "--name", "/app/db/host", "--parameter-version", "1",
                      "--labels", "stable", "never")
        self.assertEqual((out.get("RemovedLabels"), out.get("InvalidLabels")), (["stable"], ["never"]), out)
        self.fails("ParameterVersionNotFound", "ssm", "get-parameter", "--name", "/app/db/host:stable")
        out = self.ok("ssm", "get-parameters", "--names", "/app/db/host", "/app/none")
        self.assertEqual([p["Name"] for p in out["Parameters"]], ["/app/db/host"], out)
        self.assertEqual(out["InvalidParameters"], ["/app/none"], out)
        self.fails("ParameterNotFound", "ssm", "get-parameter", "--name", "/app/none")
        self.fails("ParameterVersionNotFound", "ssm", "get-parameter", "--name", "/app/db/host:7",
                   message="Systems Manager could not find version 7 of /app/db/host.")
        tags = self.ok("ssm", "list-tags-for-resource", "--resource-type", "Parameter", "--resource-id",
                       "/app/db/host")
        self.assertEqual(tags.get("TagList"), [{"Key": "team", "Value": "web"}], tags)

    def test_2_parameters_by_path_and_names(self):
        for name in ("/svc/a", "/svc/b", "/svc/c", "/svc/deep/d", "/elsewhere/e"):
            self.ok("ssm", "put-parameter", "--name", name, "--value", "v" + name, "--type", "String")
        # The CLI pages through NextToken by itself (MaxResults 10 at most per call).
        one_level = self.ok("ssm", "get-parameters-by-path", "--path", "/svc", "--max-items", "10")
        self.assertEqual([p["Name"] for p in one_level["Parameters"]], ["/svc/a", "/svc/b", "/svc/c"], one_level)
        recursive = self.ok("ssm", "get-parameters-by-path", "--path", "/svc/", "--recursive", "--page-size", "2")
        self.assertEqual([p["Name"] for p in recursive["Parameters"]],
                         ["/svc/a", "/svc/b", "/svc/c", "/svc/deep/d"], recursive)
        described = self.ok("ssm", "describe-parameters", "--parameter-filters",
                            "Key=Name,Option=BeginsWith,Values=/svc/")
        self.assertEqual(len(described["Parameters"]), 4, described)
        self.assertNotIn("Value", described["Parameters"][0], described)
        self.fails("ValidationException", "ssm", "put-parameter", "--name", "/ssm/mine", "--value", "x", "--type",
                   "String", message="Parameter name: can't be prefixed with \"ssm\" (case-insensitive).")
        self.fails("ValidationException", "ssm", "put-parameter", "--name", "a/b", "--value", "x", "--type", "String",
                   message="Parameter name must be a fully qualified name.")
        deep = "/" + "/".join("l%d" % i for i in range(16))
        self.fails("HierarchyLevelLimitExceededException", "ssm", "put-parameter", "--name", deep, "--value", "x",
                   "--type", "String")
        self.ok("ssm", "delete-parameter", "--name", "/svc/a")
        self.fails("ParameterNotFound", "ssm", "delete-parameter", "--name", "/svc/a")
        out = self.ok("ssm", "delete-parameters", "--names", "/svc/b", "/svc/zzz")
        self.assertEqual((out["DeletedParameters"], out["InvalidParameters"]), (["/svc/b"], ["/svc/zzz"]), out)

    def test_3_secure_string(self):
        value = secret_value("ssm-secure")
        self.ok("ssm", "put-parameter", "--name", "/app/db/password", "--value", value, "--type", "SecureString")
        hidden = self.ok("ssm", "get-parameter", "--name", "/app/db/password")["Parameter"]
        self.assertNotEqual(hidden["Value"], value, hidden)
        base64.b64decode(hidden["Value"], validate=True)  # the ciphertext, as AWS sends it without decryption
        shown = self.ok("ssm", "get-parameter", "--name", "/app/db/password", "--with-decryption")["Parameter"]
        self.assertEqual(shown["Value"], value, shown)
        ssm = D.client("ssm")
        got = ssm.get_parameters(Names=["/app/db/password"], WithDecryption=True)
        self.assertEqual(got["Parameters"][0]["Value"], value, got)
        by_path = ssm.get_parameters_by_path(Path="/app/db", WithDecryption=True)
        self.assertIn(value, [p["Value"] for p in by_path["Parameters"]], by_path)
        meta = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": ["/app/db/password"]}])
        self.assertEqual(meta["Parameters"][0].get("KeyId"), "alias/aws/ssm", meta)

    # ---- Secrets Manager ----

    def test_4_secret_lifecycle(self):
        first, second = secret_value("sm-first"), secret_value("sm-second")
        created = self.ok("secretsmanager", "create-secret", "--name", "prod/db", "--secret-string",
                          json.dumps({"password": first}), "--description", "db creds")
        arn = created["ARN"]
        self.assertRegex(arn, r"^arn:aws:secretsmanager:us-east-1:\d{12}:secret:prod/db-[A-Za-z0-9]{6}$", created)
        self.fails("ResourceExistsException", "secretsmanager", "create-secret", "--name", "prod/db",
                   "--secret-string", "x", message="The operation failed because the secret prod/db already exists.")
        got = self.ok("secretsmanager", "get-secret-value", "--secret-id", "prod/db")
        self.assertEqual(json.loads(got["SecretString"]), {"password": first}, got)
        self.assertEqual(got["VersionStages"], ["AWSCURRENT"], got)
        put = self.ok("secretsmanager", "put-secret-value", "--secret-id", arn, "--secret-string",
                      json.dumps({"password": second}))
        self.assertEqual(put["VersionStages"], ["AWSCURRENT"], put)
        current = self.ok("secretsmanager", "get-secret-value", "--secret-id", arn)
        previous = self.ok("secretsmanager", "get-secret-value", "--secret-id", "prod/db", "--version-stage",
                           "AWSPREVIOUS")
        self.assertEqual(json.loads(current["SecretString"])["password"], second, current)
        self.assertEqual(json.loads(previous["SecretString"])["password"], first, previous)
        versions = self.ok("secretsmanager", "list-secret-version-ids", "--secret-id", "prod/db")
        self.assertEqual(sorted(s for v in versions["Versions"] for s in v["VersionStages"]),
                         ["AWSCURRENT", "AWSPREVIOUS"], versions)
        partial = arn[:arn.rfind("-")]
        self.assertEqual(self.ok("secretsmanager", "get-secret-value", "--secret-id", partial)["ARN"], arn)
        self.ok("secretsmanager", "update-secret", "--secret-id", "prod/db", "--description", "rotated by hand")
        described = self.ok("secretsmanager", "describe-secret", "--secret-id", "prod/db")
        self.assertEqual(described.get("Description"), "rotated by hand", described)
        self.assertEqual(sorted(s for stages in described["VersionIdsToStages"].values() for s in stages),
                         ["AWSCURRENT", "AWSPREVIOUS"], described)
        listed = self.ok("secretsmanager", "list-secrets", "--filters", "Key=name,Values=prod/")
        self.assertEqual([s["Name"] for s in listed["SecretList"]], ["prod/db"], listed)

        deleted = self.ok("secretsmanager", "delete-secret", "--secret-id", "prod/db", "--recovery-window-in-days", "7")
        self.assertIn("DeletionDate", deleted, deleted)
        self.fails("InvalidRequestException", "secretsmanager", "get-secret-value", "--secret-id", "prod/db",
                   message="You can't perform this operation on the secret because it was marked for deletion.")
        self.assertIn("DeletedDate", self.ok("secretsmanager", "describe-secret", "--secret-id", "prod/db"))
        self.assertEqual(self.ok("secretsmanager", "list-secrets", "--filters", "Key=name,Values=prod/")["SecretList"],
                         [])
        self.fails("InvalidParameterException", "secretsmanager", "delete-secret", "--secret-id", "prod/db",
                   "--recovery-window-in-days", "3",
                   message="The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
        self.ok("secretsmanager", "restore-secret", "--secret-id", "prod/db")
        got = self.ok("secretsmanager", "get-secret-value", "--secret-id", "prod/db")
        self.assertEqual(json.loads(got["SecretString"])["password"], second, got)
        self.ok("secretsmanager", "delete-secret", "--secret-id", "prod/db", "--force-delete-without-recovery")
        self.fails("ResourceNotFoundException", "secretsmanager", "get-secret-value", "--secret-id", "prod/db",
                   message="Secrets Manager can't find the specified secret.")

    def test_5_secrets_with_boto3(self):
        from botocore.exceptions import ClientError
        sm = D.client("secretsmanager")
        raw = secret_value("sm-binary").encode()
        created = sm.create_secret(Name="bin/key", SecretBinary=raw, Tags=[{"Key": "env", "Value": "dev"}])
        got = sm.get_secret_value(SecretId=created["ARN"])
        self.assertEqual(got["SecretBinary"], raw, got)
        with self.assertRaises(ClientError) as e:
            sm.get_secret_value(SecretId="bin/key", VersionStage="AWSPREVIOUS")
        self.assertEqual(e.exception.response["Error"]["Code"], "ResourceNotFoundException", e.exception.response)
        token = "12345678-1234-1234-1234-123456789012"
        text = secret_value("sm-idempotent")
        first = sm.put_secret_value(SecretId="bin/key", SecretString=text, ClientRequestToken=token)
        again = sm.put_secret_value(SecretId="bin/key", SecretString=text, ClientRequestToken=token)
        self.assertEqual(first["VersionId"], again["VersionId"], (first, again))
        with self.assertRaises(ClientError) as e:
            sm.put_secret_value(SecretId="bin/key", SecretString=text + "x", ClientRequestToken=token)
        self.assertEqual(e.exception.response["Error"]["Code"], "ResourceExistsException", e.exception.response)
        sm.tag_resource(SecretId="bin/key", Tags=[{"Key": "owner", "Value": "me"}])
        sm.untag_resource(SecretId="bin/key", TagKeys=["env"])
        self.assertEqual(sm.describe_secret(SecretId="bin/key")["Tags"], [{"Key": "owner", "Value": "me"}])
        pages = list(sm.get_paginator("list_secrets").paginate(PaginationConfig={"PageSize": 1}))
        self.assertGreaterEqual(len(pages), 1, pages)

    def test_6_read_only_user_reads_parameters_not_secret_values(self):
        self.ok("iam", "create-user", "--user-name", "reader")
        self.ok("iam", "attach-user-policy", "--user-name", "reader", "--policy-arn",
                "arn:aws:iam::aws:policy/ReadOnlyAccess")
        key = self.ok("iam", "create-access-key", "--user-name", "reader")["AccessKey"]
        kid, secret = key["AccessKeyId"], key["SecretAccessKey"]
        self.ok("secretsmanager", "create-secret", "--name", "ro/test", "--secret-string", secret_value("sm-ro"))
        self.ok("ssm", "get-parameter", "--name", "/app/db/host", access_key=kid, secret=secret)
        self.ok("secretsmanager", "describe-secret", "--secret-id", "ro/test", access_key=kid, secret=secret)
        self.fails("AccessDeniedException", "secretsmanager", "get-secret-value", "--secret-id", "ro/test",
                   access_key=kid, secret=secret)
        self.fails("AccessDeniedException", "ssm", "put-parameter", "--name", "/ro", "--value", "x", "--type",
                   "String", access_key=kid, secret=secret)

    # ---- IAM inline role policies ----

    def test_7_role_inline_policies(self):
        trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
            "Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
        self.ok("iam", "create-role", "--role-name", "exec", "--assume-role-policy-document", trust)
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
            "ssm:GetParameters", "secretsmanager:GetSecretValue"], "Resource": "*"}]}
        self.ok("iam", "put-role-policy", "--role-name", "exec", "--policy-name", "read-secrets",
                "--policy-document", json.dumps(policy))
        got = self.ok("iam", "get-role-policy", "--role-name", "exec", "--policy-name", "read-secrets")
        self.assertEqual(got.get("PolicyDocument"), policy, got)
        listed = self.ok("iam", "list-role-policies", "--role-name", "exec")
        self.assertEqual(listed.get("PolicyNames"), ["read-secrets"], listed)
        self.fails("DeleteConflict", "iam", "delete-role", "--role-name", "exec",
                   message="Cannot delete entity, must delete policies first.")
        self.fails("MalformedPolicyDocument", "iam", "put-role-policy", "--role-name", "exec", "--policy-name", "bad",
                   "--policy-document", "{not json")
        self.fails("NoSuchEntity", "iam", "get-role-policy", "--role-name", "exec", "--policy-name", "other")
        self.ok("iam", "delete-role-policy", "--role-name", "exec", "--policy-name", "read-secrets")
        self.assertEqual(self.ok("iam", "list-role-policies", "--role-name", "exec").get("PolicyNames"), [])
        self.ok("iam", "delete-role", "--role-name", "exec")

    # ---- at rest ----

    def test_9_no_secret_value_in_clear_in_the_data_dir(self):
        self.assertGreaterEqual(len(SECRET_VALUES), 5, SECRET_VALUES)
        # The daemon's store is checkpointed or not: grep sees the database, its WAL and every log.
        for value in SECRET_VALUES:
            p = subprocess.run(["grep", "-r", "-l", "-a", "-F", value, D.data_dir], capture_output=True, text=True)
            self.assertEqual(p.returncode, 1, "%s found in clear in %s" % (value, p.stdout))
            for encoded in (base64.b64encode(value.encode()).decode(), urllib.parse.quote(value)):
                if encoded != value:
                    p = subprocess.run(["grep", "-r", "-l", "-a", "-F", encoded, D.data_dir], capture_output=True,
                                       text=True)
                    self.assertEqual(p.returncode, 1, "%s (as %s) found in %s" % (value, encoded, p.stdout))
        db = [f for f in os.listdir(D.data_dir) if f.endswith(".db") or f.endswith(".sqlite") or ".db-" in f]
        self.assertTrue(db, "no database file in %s: %s" % (D.data_dir, os.listdir(D.data_dir)))
        key = os.path.join(D.data_dir, "secrets", "values.key")
        self.assertEqual(os.stat(key).st_mode & 0o777, 0o600, key)
        # A String parameter's value is stored as written: the grep can find what is there.
        p = subprocess.run(["grep", "-r", "-l", "-a", "-F", "v/elsewhere/e", D.data_dir], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, "grep found no String parameter value; is it looking at the store?")


if __name__ == "__main__":
    unittest.main(verbosity=2)
