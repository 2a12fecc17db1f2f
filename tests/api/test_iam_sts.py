"""STS and IAM through the Debian aws CLI and boto3, against a real daemon."""
import html
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from berth_harness import Daemon, call_query, xml_code, BERTH  # noqa: E402

from botocore.exceptions import ClientError  # noqa: E402


class StsIam(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon().start()
        cls.iam = cls.d.client("iam")
        cls.account = cls.d.account_id()

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
        self.assertIn("export AWS_ENDPOINT_URL='http://%s:%d'\n" % (self.d.host, self.d.bound_port), env_text)
        self.assertIn("export AWS_DEFAULT_REGION='us-east-1'\n", env_text)
        # `eval "$(berth env)"` as a user does, then Debian's aws CLI (2.9,
        # which ignores AWS_ENDPOINT_URL) with nothing else: berth's wrapper,
        # first in PATH, gives it the endpoint.
        script = 'eval "$(%s env --data-dir %s)"; aws sts get-caller-identity' % (BERTH, self.d.data_dir)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null", PATH="/usr/bin:/bin")
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

    # --- roles --------------------------------------------------------------

    ECS_TRUST = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    SLR_ARN = "arn:aws:iam::%s:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"
    PROTECTED = ("Cannot perform the operation on the protected role 'AWSServiceRoleForECS' - "
                 "this role is only modifiable by AWS")

    def trust_file(self, service):
        """A trust policy file as the workshop writes it (indented, with a Sid)."""
        doc = {"Version": "2012-10-17", "Statement": [
            {"Sid": "", "Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}
        f = tempfile.NamedTemporaryFile("w", suffix=".json", dir=self.d.data_dir, delete=False)
        json.dump(doc, f, indent=2)
        f.close()
        return doc, f.name

    def test_ecs_service_linked_role_with_cli(self):
        rc, out, err = self.d.aws_result("iam", "get-role", "--role-name", "AWSServiceRoleForECS")
        self.assertEqual(rc, 0, err)
        role = out["Role"]
        self.assertEqual(role["Path"], "/aws-service-role/ecs.amazonaws.com/")
        self.assertEqual(role["RoleName"], "AWSServiceRoleForECS")
        self.assertEqual(role["Arn"], self.SLR_ARN % self.account)
        self.assertRegex(role["RoleId"], r"^AROA[A-Z2-7]{17}$")
        self.assertEqual(role["AssumeRolePolicyDocument"], self.ECS_TRUST)
        self.assertEqual(role["Description"], "Role to enable Amazon ECS to manage your cluster.")
        self.assertEqual(role["MaxSessionDuration"], 3600)
        self.assertEqual(role["RoleLastUsed"], {})
        self.assertRegex(role["CreateDate"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$")

        rc, out, err = self.d.aws_result("iam", "list-roles", "--path-prefix", "/aws-service-role/")
        self.assertEqual(rc, 0, err)
        self.assertEqual([r["RoleName"] for r in out["Roles"]], ["AWSServiceRoleForECS"])
        listed = out["Roles"][0]
        for key in ("Path", "RoleId", "Arn", "CreateDate", "AssumeRolePolicyDocument", "Description",
                    "MaxSessionDuration"):
            self.assertEqual(listed[key], role[key], key)
        self.assertNotIn("RoleLastUsed", listed)
        rc, out, err = self.d.aws_result("iam", "list-roles")
        self.assertIn("AWSServiceRoleForECS", [r["RoleName"] for r in out["Roles"]])

        rc, out, err = self.d.aws_result("iam", "list-attached-role-policies", "--role-name", "AWSServiceRoleForECS")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out["AttachedPolicies"], [{
            "PolicyName": "AmazonECSServiceRolePolicy",
            "PolicyArn": "arn:aws:iam::aws:policy/aws-service-role/AmazonECSServiceRolePolicy"}])

        rc, out, err = self.d.aws_result("iam", "delete-role", "--role-name", "AWSServiceRoleForECS")
        self.assertNotEqual(rc, 0)
        self.assertIn("(UnmodifiableEntity)", err)
        self.assertIn(self.PROTECTED, err)
        rc, out, err = self.d.aws_result("iam", "create-service-linked-role", "--aws-service-name",
                                         "ecs.amazonaws.com")
        self.assertNotEqual(rc, 0)
        self.assertIn("An error occurred (InvalidInput) when calling the CreateServiceLinkedRole operation: "
                      "Service role name AWSServiceRoleForECS has been taken in this account, please try a "
                      "different suffix.", err)
        rc, out, err = self.d.aws_result("iam", "attach-role-policy", "--role-name", "AWSServiceRoleForECS",
                                         "--policy-arn", "arn:aws:iam::aws:policy/AdministratorAccess")
        self.assertIn("(UnmodifiableEntity)", err)
        # all of that left it as it was
        rc, out, err = self.d.aws_result("iam", "get-role", "--role-name", "AWSServiceRoleForECS")
        self.assertEqual(out["Role"], role)

    def test_workshop_roles_with_cli(self):
        exec_trust, exec_file = self.trust_file("ecs-tasks.amazonaws.com")
        rc, out, err = self.d.aws_result("iam", "create-role", "--role-name", "ecsTaskExecutionRole",
                                         "--assume-role-policy-document", "file://" + exec_file)
        self.assertEqual(rc, 0, err)
        created = out["Role"]
        self.assertEqual(created["Arn"], "arn:aws:iam::%s:role/ecsTaskExecutionRole" % self.account)
        self.assertEqual(created["Path"], "/")
        self.assertRegex(created["RoleId"], r"^AROA[A-Z2-7]{17}$")
        self.assertEqual(created["AssumeRolePolicyDocument"], exec_trust)
        rc, out, err = self.d.aws_result("iam", "create-role", "--role-name", "ecsTaskExecutionRole",
                                         "--assume-role-policy-document", "file://" + exec_file)
        self.assertIn("(EntityAlreadyExists)", err)
        self.assertIn("Role with name ecsTaskExecutionRole already exists.", err)
        exec_policy = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
        rc, out, err = self.d.aws_result("iam", "attach-role-policy", "--role-name", "ecsTaskExecutionRole",
                                         "--policy-arn", exec_policy)
        self.assertEqual(rc, 0, err)
        rc, out, err = self.d.aws_result("iam", "get-role", "--role-name", "ecsTaskExecutionRole")
        self.assertEqual(rc, 0, err)
        role = out["Role"]
        self.assertEqual((role["RoleId"], role["CreateDate"], role["MaxSessionDuration"], role["RoleLastUsed"]),
                         (created["RoleId"], created["CreateDate"], 3600, {}))
        self.assertEqual(role["AssumeRolePolicyDocument"], exec_trust)
        rc, out, err = self.d.aws_result("iam", "list-attached-role-policies", "--role-name", "ecsTaskExecutionRole")
        self.assertEqual(out["AttachedPolicies"], [{"PolicyName": "AmazonECSTaskExecutionRolePolicy",
                                                    "PolicyArn": exec_policy}])

        # the container instances' role and its instance profile
        ec2_trust, ec2_file = self.trust_file("ec2.amazonaws.com")
        instance_policy = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
        self.d.aws("iam", "create-role", "--role-name", "ecsInstanceRole", "--assume-role-policy-document",
                   "file://" + ec2_file)
        self.d.aws("iam", "attach-role-policy", "--role-name", "ecsInstanceRole", "--policy-arn", instance_policy)
        profile = self.d.aws("iam", "create-instance-profile", "--instance-profile-name", "ecsInstanceRole")
        self.assertEqual(profile["InstanceProfile"]["Roles"], [])
        self.assertEqual(profile["InstanceProfile"]["Arn"],
                         "arn:aws:iam::%s:instance-profile/ecsInstanceRole" % self.account)
        self.assertRegex(profile["InstanceProfile"]["InstanceProfileId"], r"^AIPA[A-Z2-7]{17}$")
        self.d.aws("iam", "add-role-to-instance-profile", "--instance-profile-name", "ecsInstanceRole",
                   "--role-name", "ecsInstanceRole")
        rc, out, err = self.d.aws_result("iam", "add-role-to-instance-profile", "--instance-profile-name",
                                         "ecsInstanceRole", "--role-name", "ecsInstanceRole")
        self.assertIn("(LimitExceeded)", err)
        self.assertIn("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1", err)
        got = self.d.aws("iam", "get-instance-profile", "--instance-profile-name", "ecsInstanceRole")
        roles = got["InstanceProfile"]["Roles"]
        self.assertEqual([r["RoleName"] for r in roles], ["ecsInstanceRole"])
        self.assertEqual(roles[0]["AssumeRolePolicyDocument"], ec2_trust)
        self.assertEqual(roles[0]["Arn"], "arn:aws:iam::%s:role/ecsInstanceRole" % self.account)
        listed = self.d.aws("iam", "list-instance-profiles-for-role", "--role-name", "ecsInstanceRole")
        self.assertEqual([p["InstanceProfileName"] for p in listed["InstanceProfiles"]], ["ecsInstanceRole"])

        # tearing down out of order gives AWS's errors
        rc, out, err = self.d.aws_result("iam", "delete-role", "--role-name", "ecsInstanceRole")
        self.assertIn("(DeleteConflict)", err)
        self.assertIn("Cannot delete entity, must remove roles from instance profile first.", err)
        rc, out, err = self.d.aws_result("iam", "delete-instance-profile", "--instance-profile-name",
                                         "ecsInstanceRole")
        self.assertIn("(DeleteConflict)", err)
        self.d.aws("iam", "remove-role-from-instance-profile", "--instance-profile-name", "ecsInstanceRole",
                   "--role-name", "ecsInstanceRole")
        self.d.aws("iam", "delete-instance-profile", "--instance-profile-name", "ecsInstanceRole")
        rc, out, err = self.d.aws_result("iam", "delete-role", "--role-name", "ecsInstanceRole")
        self.assertIn("(DeleteConflict)", err)
        self.assertIn("Cannot delete entity, must detach all policies first.", err)
        self.d.aws("iam", "detach-role-policy", "--role-name", "ecsInstanceRole", "--policy-arn", instance_policy)
        self.d.aws("iam", "delete-role", "--role-name", "ecsInstanceRole")
        rc, out, err = self.d.aws_result("iam", "get-role", "--role-name", "ecsInstanceRole")
        self.assertIn("(NoSuchEntity)", err)
        self.assertIn("The role with name ecsInstanceRole cannot be found.", err)
        rc, out, err = self.d.aws_result("iam", "get-instance-profile", "--instance-profile-name", "ecsInstanceRole")
        self.assertIn("Instance Profile ecsInstanceRole cannot be found.", err)

        self.d.aws("iam", "detach-role-policy", "--role-name", "ecsTaskExecutionRole", "--policy-arn", exec_policy)
        rc, out, err = self.d.aws_result("iam", "detach-role-policy", "--role-name", "ecsTaskExecutionRole",
                                         "--policy-arn", exec_policy)
        self.assertIn("(NoSuchEntity)", err)
        self.d.aws("iam", "delete-role", "--role-name", "ecsTaskExecutionRole")

    def test_boto3_role_shapes(self):
        trust = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
        r = self.iam.create_role(RoleName="shaped", Path="/svc/", AssumeRolePolicyDocument=trust,
                                 Description="caf\u00e9 role", MaxSessionDuration=7200,
                                 Tags=[{"Key": "team", "Value": "web"}])["Role"]
        self.assertEqual(r["Arn"], "arn:aws:iam::%s:role/svc/shaped" % self.account)
        self.assertEqual(r["AssumeRolePolicyDocument"], json.loads(trust))
        self.assertEqual(r["Description"], "caf\u00e9 role")
        self.assertEqual(r["MaxSessionDuration"], 7200)
        self.assertEqual(r["Tags"], [{"Key": "team", "Value": "web"}])
        g = self.iam.get_role(RoleName="SHAPED")["Role"]  # names ignore case
        self.assertEqual(g["RoleName"], "shaped")
        self.assertEqual(g["Tags"], [{"Key": "team", "Value": "web"}])
        self.assertEqual(g["MaxSessionDuration"], 7200)
        self.assertEqual(g["RoleLastUsed"], {})
        self.assertEqual(g["CreateDate"], r["CreateDate"])
        listed = self.iam.list_roles(PathPrefix="/svc/")["Roles"]
        self.assertEqual([x["RoleName"] for x in listed], ["shaped"])
        self.assertNotIn("Tags", listed[0])
        self.assertEqual(self.iam.list_role_policies(RoleName="shaped")["PolicyNames"], [])
        self.iam.delete_role(RoleName="shaped")

    def test_boto3_role_errors(self):
        trust = json.dumps(self.ECS_TRUST)
        with self.assertRaises(ClientError) as c:
            self.iam.create_role(RoleName="bad-trust", AssumeRolePolicyDocument="{not json")
        self.assertEqual(self.code(c), ("MalformedPolicyDocument", 400))
        self.assertEqual(c.exception.response["Error"]["Message"], "This policy contains invalid Json")
        with self.assertRaises(ClientError) as c:
            self.iam.create_role(RoleName="sneaky", Path="/aws-service-role/ecs.amazonaws.com/",
                                 AssumeRolePolicyDocument=trust)
        self.assertEqual(self.code(c), ("InvalidInput", 400))
        with self.assertRaises(ClientError) as c:
            self.iam.get_role(RoleName="ghost")
        self.assertEqual(self.code(c), ("NoSuchEntity", 404))
        self.assertEqual(c.exception.response["Error"]["Message"], "The role with name ghost cannot be found.")
        with self.assertRaises(ClientError) as c:
            self.iam.delete_role(RoleName="ghost")
        self.assertEqual(self.code(c), ("NoSuchEntity", 404))
        self.iam.create_role(RoleName="errs", AssumeRolePolicyDocument=trust)
        with self.assertRaises(ClientError) as c:
            self.iam.create_role(RoleName="ERRS", AssumeRolePolicyDocument=trust)
        self.assertEqual(self.code(c), ("EntityAlreadyExists", 409))
        with self.assertRaises(ClientError) as c:
            self.iam.attach_role_policy(RoleName="errs", PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicy")
        self.assertEqual(self.code(c), ("NoSuchEntity", 404))
        self.assertEqual(c.exception.response["Error"]["Message"],
                         "Policy arn:aws:iam::aws:policy/NoSuchPolicy does not exist or is not attachable.")
        with self.assertRaises(ClientError) as c:
            self.iam.attach_role_policy(RoleName="errs",
                                        PolicyArn="arn:aws:iam::aws:policy/aws-service-role/AmazonECSServiceRolePolicy")
        self.assertEqual(self.code(c), ("PolicyNotAttachable", 400))
        with self.assertRaises(ClientError) as c:
            self.iam.detach_role_policy(RoleName="errs", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
        self.assertEqual(self.code(c), ("NoSuchEntity", 404))
        with self.assertRaises(ClientError) as c:
            self.iam.list_attached_role_policies(RoleName="ghost")
        self.assertEqual(self.code(c), ("NoSuchEntity", 404))
        with self.assertRaises(ClientError) as c:
            self.iam.create_service_linked_role(AWSServiceName="ecs.amazonaws.com")
        self.assertEqual(self.code(c), ("InvalidInput", 400))
        with self.assertRaises(ClientError) as c:
            self.iam.delete_role(RoleName="AWSServiceRoleForECS")
        self.assertEqual(self.code(c), ("UnmodifiableEntity", 400))
        self.assertEqual(c.exception.response["Error"]["Message"], self.PROTECTED)
        self.iam.create_instance_profile(InstanceProfileName="errs-profile")
        with self.assertRaises(ClientError) as c:
            self.iam.create_instance_profile(InstanceProfileName="errs-profile")
        self.assertEqual(self.code(c), ("EntityAlreadyExists", 409))
        with self.assertRaises(ClientError) as c:
            self.iam.add_role_to_instance_profile(InstanceProfileName="errs-profile", RoleName="ghost")
        self.assertEqual(self.code(c), ("NoSuchEntity", 404))
        with self.assertRaises(ClientError) as c:
            self.iam.get_instance_profile(InstanceProfileName="ghost")
        self.assertEqual(self.code(c), ("NoSuchEntity", 404))
        self.assertEqual(c.exception.response["Error"]["Message"], "Instance Profile ghost cannot be found.")
        self.iam.delete_instance_profile(InstanceProfileName="errs-profile")
        self.iam.delete_role(RoleName="errs")

    def test_role_validation_errors_raw(self):
        trust = "AssumeRolePolicyDocument=%7B%7D"
        for body, needle in [
            ("Action=CreateRole&Version=2010-05-08&RoleName=r", b"Value null at 'assumeRolePolicyDocument'"),
            ("Action=CreateRole&Version=2010-05-08&" + trust, b"Value null at 'roleName'"),
            ("Action=CreateRole&Version=2010-05-08&RoleName=bad%20name&" + trust, b"regular expression pattern"),
            ("Action=CreateRole&Version=2010-05-08&RoleName=" + "x" * 65 + "&" + trust,
             b"length less than or equal to 64"),
            ("Action=CreateRole&Version=2010-05-08&RoleName=r&MaxSessionDuration=100&" + trust,
             b"Value '100' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater "
             b"than or equal to 3600"),
            ("Action=CreateRole&Version=2010-05-08&RoleName=r&Path=nope&" + trust, b"at 'path'"),
            ("Action=GetRole&Version=2010-05-08", b"Value null at 'roleName'"),
            ("Action=ListRoles&Version=2010-05-08&MaxItems=0", b"greater than or equal to 1"),
            ("Action=GetInstanceProfile&Version=2010-05-08", b"Value null at 'instanceProfileName'"),
        ]:
            status, out, headers = call_query(self.d, "iam", body)
            self.assertEqual(status, 400, body)
            self.assertEqual(xml_code(out), "ValidationError", body)
            self.assertIn(needle, html.unescape(out.decode()).encode(), body)
        status, out, headers = call_query(self.d, "iam", "Action=GetRole&Version=2010-05-08&RoleName=r")
        self.assertEqual((status, xml_code(out)), (404, "NoSuchEntity"))  # none of them created it

    def test_list_roles_pagination(self):
        trust = json.dumps(self.ECS_TRUST)
        names = ["role-%02d" % i for i in range(5)]
        for n in names:
            self.iam.create_role(RoleName=n, Path="/paged-roles/", AssumeRolePolicyDocument=trust)
        got = [r["RoleName"] for p in self.iam.get_paginator("list_roles").paginate(
            PathPrefix="/paged-roles/", PaginationConfig={"PageSize": 2}) for r in p["Roles"]]
        self.assertEqual(got, names)
        first = self.iam.list_roles(PathPrefix="/paged-roles/", MaxItems=2)
        self.assertTrue(first["IsTruncated"])
        self.assertEqual(len(first["Roles"]), 2)
        rc, out, err = self.d.aws_result("iam", "list-roles", "--path-prefix", "/paged-roles/", "--page-size", "2")
        self.assertEqual(rc, 0, err)
        self.assertEqual([r["RoleName"] for r in out["Roles"]], names)
        for n in names:
            self.iam.delete_role(RoleName=n)


if __name__ == "__main__":
    import warnings
    warnings.simplefilter("ignore", ResourceWarning)
    unittest.main(verbosity=2)
