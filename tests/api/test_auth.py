"""Authentication and authorization failures, per protocol, against a real daemon."""
import datetime
import os
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from berth_harness import Daemon, call_query, call_json, xml_code, FORM  # noqa: E402

from botocore.exceptions import ClientError  # noqa: E402

GCI = "Action=GetCallerIdentity&Version=2011-06-15"
LIST_USERS = "Action=ListUsers&Version=2010-05-08"
CREATE_USER = "Action=CreateUser&Version=2010-05-08&UserName=%s"


class Auth(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon().start()
        cls.iam = cls.d.client("iam")
        cls.account = cls.d.client("sts").get_caller_identity()["Account"]

        def user(name, policy):
            cls.iam.create_user(UserName=name)
            if policy:
                cls.iam.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/" + policy)
            k = cls.iam.create_access_key(UserName=name)["AccessKey"]
            return k["AccessKeyId"], k["SecretAccessKey"]
        cls.nobody = user("nobody", None)
        cls.reader = user("reader", "ReadOnlyAccess")

    @classmethod
    def tearDownClass(cls):
        rc = cls.d.stop()
        cls.d.cleanup()
        assert rc == 0, rc

    def test_unsigned(self):
        status, body, h = self.d.request("POST", "/", GCI.encode(), {"Content-Type": FORM})
        self.assertEqual((status, xml_code(body)), (403, "MissingAuthenticationToken"))
        self.assertIn(b"Request is missing Authentication Token", body)
        status, body, h = self.d.request("POST", "/", b"Action=DescribeSecurityGroups&Version=2016-11-15",
                                         {"Content-Type": FORM})
        self.assertEqual((status, xml_code(body)), (401, "MissingAuthenticationToken"))
        self.assertIn(b"<Response><Errors>", body)
        status, body, h = self.d.request("POST", "/", b"{}", {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListClusters"})
        self.assertEqual(status, 400)
        self.assertIn(b'"__type":"MissingAuthenticationTokenException"', body)
        # the CLI with --no-sign-request
        rc, out, err = self.d.aws_result("sts", "get-caller-identity", "--no-sign-request")
        self.assertIn("(MissingAuthenticationToken)", err)

    def test_wrong_secret(self):
        status, body, _ = call_query(self.d, "sts", GCI, secret="x" * 40)
        self.assertEqual((status, xml_code(body)), (403, "SignatureDoesNotMatch"))
        self.assertIn(b"The request signature we calculated does not match", body)
        rc, out, err = self.d.aws_result("sts", "get-caller-identity", access_key=self.d.creds["AWS_ACCESS_KEY_ID"],
                                  secret="y" * 40)
        self.assertIn("(SignatureDoesNotMatch)", err)
        with self.assertRaises(ClientError) as c:
            self.d.client("iam", secret="z" * 40).list_users()
        self.assertEqual(c.exception.response["Error"]["Code"], "SignatureDoesNotMatch")

    def test_unsigned_payload_does_not_authenticate_a_body(self):
        """A request signed over x-amz-content-sha256: UNSIGNED-PAYLOAD (S3's convention, which no
        JSON, query or EC2 API of AWS takes) carries a body nobody signed: a man in the middle
        could swap it. AWS's endpoints for these APIs hash the body themselves, so the signature
        does not match; berth must answer the same and run nothing."""
        from berth_harness import sign, JSON11
        host = "%s:%d" % (self.d.host, self.d.bound_port)
        key, secret = self.d.creds["AWS_ACCESS_KEY_ID"], self.d.creds["AWS_SECRET_ACCESS_KEY"]
        for declared in ("UNSIGNED-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"):
            # Query (IAM): the signed body would list users, the body sent creates one.
            body = (CREATE_USER % "smuggled").encode()
            h = sign("POST", host, "iam", b"", {"Content-Type": FORM, "X-Amz-Content-SHA256": declared},
                     key, secret, payload_hash=declared)
            status, answer, _ = self.d.request("POST", "/", body, h)
            self.assertEqual((status, xml_code(answer)), (403, "SignatureDoesNotMatch"), msg=answer)
            # JSON 1.1 (ECS).
            body = b'{"clusterName":"smuggled"}'
            h = sign("POST", host, "ecs", b"", {"Content-Type": JSON11, "X-Amz-Content-SHA256": declared,
                                                "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.CreateCluster"},
                     key, secret, payload_hash=declared)
            status, answer, _ = self.d.request("POST", "/", body, h)
            self.assertEqual(status, 400, msg=answer)
            self.assertIn(b'"__type":"InvalidSignatureException"', answer)
            self.assertIn(b"The request signature we calculated does not match the signature you provided", answer)
        users = [u["UserName"] for u in self.iam.list_users()["Users"]]
        self.assertNotIn("smuggled", users, msg="an unsigned body was run")
        clusters = self.d.client("ecs").list_clusters()["clusterArns"]
        self.assertFalse([c for c in clusters if c.endswith("/smuggled")], msg="an unsigned body was run")
        # The same request signed over its real body hash is fine, header or not.
        body = (CREATE_USER % "signed").encode()
        h = sign("POST", host, "iam", body, {"Content-Type": FORM, "X-Amz-Content-SHA256":
                                             __import__("hashlib").sha256(body).hexdigest()}, key, secret)
        status, answer, _ = self.d.request("POST", "/", body, h)
        self.assertEqual(status, 200, msg=answer)

    def test_unknown_key(self):
        status, body, _ = call_query(self.d, "sts", GCI, access_key="AKIAAAAAAAAAAAAAAAAA", secret="x" * 40)
        self.assertEqual((status, xml_code(body)), (403, "InvalidClientTokenId"))
        self.assertIn(b"The security token included in the request is invalid.", body)
        status, body, _ = call_query(self.d, "ec2", "Action=DescribeSecurityGroups&Version=2016-11-15",
                                     access_key="AKIAAAAAAAAAAAAAAAAA", secret="x" * 40)
        # ec2 answers AuthFailure when it is served; otherwise the query shape is used
        self.assertIn(status, (401, 403))
        rc, out, err = self.d.aws_result("sts", "get-caller-identity", access_key="AKIAAAAAAAAAAAAAAAAA", secret="x" * 40)
        self.assertIn("(InvalidClientTokenId)", err)

    def test_skewed_clock(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        status, body, _ = call_query(self.d, "sts", GCI, when=now - datetime.timedelta(minutes=6))
        self.assertEqual((status, xml_code(body)), (403, "SignatureDoesNotMatch"))
        self.assertIn(b"Signature expired: ", body)
        self.assertIn(b" - 5 min.)", body)
        status, body, _ = call_query(self.d, "sts", GCI, when=now + datetime.timedelta(minutes=6))
        self.assertEqual((status, xml_code(body)), (403, "SignatureDoesNotMatch"))
        self.assertIn(b"Signature not yet current: ", body)
        # within the window it works
        status, body, _ = call_query(self.d, "sts", GCI, when=now - datetime.timedelta(minutes=4))
        self.assertEqual(status, 200, body)

    def test_presigned_url(self):
        sts = self.d.client("sts")
        # GET, as aws-iam-authenticator and Vault use it
        url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")
        u = urllib.parse.urlparse(url)
        status, body, _ = self.d.request("GET", u.path + "?" + u.query)
        self.assertEqual(status, 200, body)
        self.assertIn(("<Arn>arn:aws:iam::%s:user/administrator</Arn>" % self.account).encode(), body)
        # botocore's default presigns the operation's own method, POST
        url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=60)
        u = urllib.parse.urlparse(url)
        status, body, _ = self.d.request("POST", u.path + "?" + u.query)
        self.assertEqual(status, 200, body)
        url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=1, HttpMethod="GET")
        time.sleep(2.1)
        u = urllib.parse.urlparse(url)
        status, body, _ = self.d.request("GET", u.path + "?" + u.query)
        self.assertEqual((status, xml_code(body)), (403, "SignatureDoesNotMatch"), body)
        self.assertIn(b"Signature expired", body)
        # tampering with a signed parameter breaks the signature
        status, body, _ = self.d.request("GET", u.path + "?" + u.query.replace("GetCallerIdentity", "ListUsers"))
        self.assertEqual(status, 403)

    def test_user_without_policy_is_denied(self):
        status, body, _ = call_query(self.d, "iam", LIST_USERS, *self.nobody)
        self.assertEqual((status, xml_code(body)), (403, "AccessDenied"))
        self.assertIn(("User: arn:aws:iam::%s:user/nobody is not authorized to perform: iam:ListUsers"
                       % self.account).encode(), body)
        rc, out, err = self.d.aws_result("iam", "create-user", "--user-name", "x1", access_key=self.nobody[0],
                                  secret=self.nobody[1])
        self.assertIn("(AccessDenied)", err)
        self.assertIn("is not authorized to perform: iam:CreateUser", err)
        # ...but may always ask who it is
        ident = self.d.client("sts", *self.nobody).get_caller_identity()
        self.assertEqual(ident["Arn"], "arn:aws:iam::%s:user/nobody" % self.account)

    def test_read_only_user_reads_but_cannot_write(self):
        iam = self.d.client("iam", *self.reader)
        self.assertIn("nobody", [u["UserName"] for u in iam.list_users()["Users"]])
        self.assertEqual(iam.get_user()["User"]["UserName"], "reader")
        with self.assertRaises(ClientError) as c:
            iam.create_user(UserName="sneaky")
        self.assertEqual(c.exception.response["Error"]["Code"], "AccessDenied")
        self.assertEqual(c.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)
        with self.assertRaises(ClientError) as c:
            iam.attach_user_policy(UserName="reader", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        self.assertEqual(c.exception.response["Error"]["Code"], "AccessDenied")
        # ec2: UnauthorizedOperation when ec2 is served
        status, body, _ = call_query(self.d, "ec2", "Action=CreateSecurityGroup&Version=2016-11-15"
                                     "&GroupName=g&GroupDescription=d", *self.reader)
        if status != 400 or xml_code(body) != "InvalidAction":
            self.assertEqual((status, xml_code(body)), (403, "UnauthorizedOperation"), body)
        # json: AccessDeniedException when ecs is served
        status, body, _ = call_json(self.d, "AmazonEC2ContainerServiceV20141113.CreateCluster", "{}",
                                    access_key=self.reader[0], secret=self.reader[1])
        if b"UnknownOperationException" not in body:
            self.assertEqual(status, 400, body)
            self.assertIn(b'"__type":"AccessDeniedException"', body)

    def test_malformed_authorization(self):
        for auth in ["AWS4-HMAC-SHA256", "AWS4-HMAC-SHA256 Credential=AKIA/2020/us-east-1",
                     "AWS4-HMAC-SHA256 Credential=%s/20200101/us-east-1/sts/aws4_request, SignedHeaders=host"
                     % self.d.creds["AWS_ACCESS_KEY_ID"], "Basic Zm9vOmJhcg=="]:
            status, body, _ = self.d.request("POST", "/", GCI.encode(), {
                "Content-Type": FORM, "Authorization": auth, "X-Amz-Date": "20200101T000000Z"})
            self.assertIn(status, (400, 403), (auth, body))
            self.assertIn(xml_code(body), ("IncompleteSignature", "MissingAuthenticationToken",
                                           "SignatureDoesNotMatch", "InvalidClientTokenId"), (auth, body))


if __name__ == "__main__":
    import warnings
    warnings.simplefilter("ignore", ResourceWarning)
    unittest.main(verbosity=2)
