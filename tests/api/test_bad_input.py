"""A corpus of bad requests replayed, signed, against a real daemon: each one
gets an AWS-shaped error (never a 5xx), and the daemon keeps answering."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from berth_harness import Daemon, call_query, call_json, xml_code  # noqa: E402

ECS = "AmazonEC2ContainerServiceV20141113."
ECR = "AmazonEC2ContainerRegistry_V20150921."

QUERY_CORPUS = [
    ("sts", b"Action=GetCallerIdentity&Version=2011-06-15&bad=%zz"),
    ("sts", b"Action=GetCallerIdentity&Version=2011-06-15&bad=%4"),
    ("sts", b"Action=&Version=2011-06-15"),
    ("sts", b"Version=2011-06-15"),
    ("sts", b"&&&==&&="),
    ("sts", b"Action=AssumeRoleWithMagic&Version=2011-06-15"),
    ("iam", b"Action=CreateUser&Version=2010-05-08&UserName=%ff%fe"),
    ("iam", b"Action=CreateUser&Version=2010-05-08&UserName=\xff\xfe\xfd"),
    ("iam", b"Action=CreateUser&Version=2010-05-08&UserName=a%00b"),
    ("iam", b"Action=CreateUser&Version=2010-05-08&UserName=" + b"x" * 200000),
    ("iam", b"Action=ListUsers&Version=2010-05-08&MaxItems=99999999999999999999999999999"),
    ("iam", b"Action=ListUsers&Version=2010-05-08&MaxItems=-1"),
    ("iam", b"Action=ListUsers&Version=2010-05-08&MaxItems=1e3"),
    ("iam", b"Action=ListUsers&Version=2010-05-08&Marker="),
    ("iam", b"Action=ListUsers&Version=2010-05-08&PathPrefix=nope"),
    ("iam", b"Action=AttachUserPolicy&Version=2010-05-08&UserName=administrator&PolicyArn=x"),
    ("iam", b"Action=DeleteAccessKey&Version=2010-05-08&AccessKeyId=" + b"A" * 5000),
    ("iam", b"Action=CreateUser&Version=2010-05-08&" + b"&".join(b"UserName=u%d" % i for i in range(2000))),
    ("iam", b"Action=GetUser&Version=2010-05-08&" + b".".join(b"a%d" % i for i in range(3000)) + b"=1"),
    ("iam", b"Action=Create%55ser&Version=2010-05-08"),
    ("iam", b"Action=CreateUser&Action=DeleteUser&Version=2010-05-08&UserName=x-dup"),
    ("ec2", b"Action=DescribeSecurityGroups&Version=2016-11-15&GroupId.0=sg-1"),
    ("ec2", b"Action=DescribeSecurityGroups&Version=2016-11-15&GroupId.01=sg-1"),
    ("ec2", b"Action=DescribeSecurityGroups&Version=2016-11-15&Filter.1.Name=group-name&Filter.x.Value.1=a"),
    ("ec2", b"Action=DescribeSecurityGroups&Version=2016-11-15&MaxResults=99999999999999999999999"),
    ("ec2", b"Action=AuthorizeSecurityGroupIngress&Version=2016-11-15&GroupId=sg-1&IpPermissions.1.FromPort=abc"),
    ("ec2", b"Action=RunInstances&Version=2016-11-15&MinCount=-5&MaxCount=1e99&ImageId=%ff"),
    ("ec2", b"Action=NoSuchEc2Thing&Version=2016-11-15"),
    ("elasticloadbalancing", b"Action=DescribeLoadBalancers&Version=2015-12-01&Names.member.0=x"),
    ("nosuchservice", b"Action=Anything&Version=2011-06-15"),
]

JSON_BODIES = [
    b"", b"{", b"}", b"[]", b"null", b"1", b'"str"', b"{}{}", b'{"a":1}{"b":2}',
    b'{"a":' + b"[" * 20000 + b"]" * 20000 + b"}",
    b'{"a":' + b'{"b":' * 5000 + b"1" + b"}" * 5000 + b"}",
    b'{"n": 1e999999}', b'{"n": 123456789012345678901234567890123456789}', b'{"n": -1e-999999}',
    b'{"a":"\xff\xfe"}', b'{"a":"\\ud800"}', b'{"\xc3\x28":1}', b'{"a":"\x00"}',
    b'{"a":tru}', b'{"a":1,}', b"{'a':1}", b'{"a":NaN}',
    b'{"repositoryNames": 5}', b'{"repositoryNames": [1, 2, {}]}', b'{"maxResults": "ten"}',
    b'{"maxResults": 99999999999999999999}', b'{"maxResults": -3}', b'{"nextToken": {"x": 1}}',
    b'{"clusters": "not-a-list"}', b'{"cluster": 12}', b'{"unknownField": true}',
    b'{"repositoryName": "' + b"a" * 100000 + b'"}',
]
JSON_TARGETS = [
    ("ecr", ECR + "DescribeRepositories"), ("ecr", ECR + "CreateRepository"), ("ecr", ECR + "GetAuthorizationToken"),
    ("ecs", ECS + "ListClusters"), ("ecs", ECS + "DescribeClusters"), ("ecs", ECS + "CreateCluster"),
    ("ecr", ECR + "NoSuchOperation"), ("ecr", "WrongPrefix.DescribeRepositories"), ("ecr", ""),
]


class BadInput(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon().start()

    @classmethod
    def tearDownClass(cls):
        alive = cls.d.alive()
        rc = cls.d.stop()
        cls.d.cleanup()
        assert alive and rc == 0, (alive, rc)

    def assert_alive(self):
        status, body, _ = self.d.get("/_berth/health")
        self.assertEqual(status, 200)

    def assert_xml_error(self, status, body, label):
        self.assertGreaterEqual(status, 400, label)
        self.assertLess(status, 500, (label, body[:300]))
        self.assertIsNotNone(xml_code(body), (label, body[:300]))

    def test_query_corpus(self):
        for service, body in QUERY_CORPUS:
            label = (service, body[:80])
            status, out, headers = call_query(self.d, service, body)
            if status == 200:
                continue  # a few entries are legal for some services (e.g. duplicate keys); only faults matter
            self.assert_xml_error(status, out, label)
            self.assertIn("x-amzn-requestid", headers, label)
        self.assert_alive()

    def test_json_corpus(self):
        for service, target in JSON_TARGETS:
            for body in JSON_BODIES:
                label = (target, body[:60])
                status, out, headers = call_json(self.d, target, body, service=service)
                if status == 200:
                    continue
                self.assertGreaterEqual(status, 400, label)
                self.assertLess(status, 500, (label, out[:300]))
                doc = json.loads(out)
                self.assertIn("__type", doc, label)
        self.assert_alive()

    def test_serialization_exception_for_a_served_json_service(self):
        served = call_json(self.d, ECR + "DescribeRepositories", b"{}", service="ecr")[0] == 200
        status, out, _ = call_json(self.d, ECR + "DescribeRepositories", b"{", service="ecr")
        self.assertEqual(status, 400)
        # With no JSON service built in, the JSON shape still answers UnknownOperationException.
        self.assertEqual(json.loads(out)["__type"], "SerializationException" if served else "UnknownOperationException")
        if served:
            for body in (b'{"a":' + b"[" * 100 + b"]" * 100 + b"}", b'{"a":"\xff"}', b"[]", b"null"):
                status, out, _ = call_json(self.d, ECR + "DescribeRepositories", body, service="ecr")
                self.assertEqual((status, json.loads(out)["__type"]), (400, "SerializationException"), body)

    def test_oversized_bodies(self):
        big = b"Action=CreateUser&Version=2010-05-08&UserName=" + b"x" * (10 * 1024 * 1024 + 10)
        status, out, _ = call_query(self.d, "iam", big)
        self.assertEqual(status, 413)
        self.assertEqual(xml_code(out), "RequestEntityTooLarge")
        status, out, _ = call_json(self.d, ECR + "DescribeRepositories", b"{" + b" " * (10 * 1024 * 1024) + b"}",
                                   service="ecr")
        self.assertEqual(status, 413)
        self.assertEqual(json.loads(out)["__type"], "RequestEntityTooLargeException")
        # a lying Content-Length far beyond the limit: answered, connection closed
        reply = self.d.raw(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                           b"Content-Length: 999999999999\r\n\r\nAction=GetCallerIdentity")
        self.assertTrue(reply.startswith(b"HTTP/1.1 413"), reply[:200])
        self.assert_alive()

    def test_http_garbage(self):
        for data in [b"GARBAGE\r\n\r\n", b"POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                     b"POST / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\n",
                     b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                     b"\x00\x01\x02\x03", b"GET /_berth/health HTTP/9.9\r\n\r\n"]:
            reply = self.d.raw(data, timeout=3)
            if reply:
                status = int(reply.split(b" ", 2)[1])
                self.assertLess(status, 500, (data[:40], reply[:200]))
        self.assert_alive()

    def test_unsigned_and_odd_methods(self):
        for method, path in [("GET", "/"), ("PUT", "/"), ("DELETE", "/x"), ("POST", "/some/path?Action=ListUsers")]:
            status, out, _ = self.d.request(method, path)
            self.assertGreaterEqual(status, 400, (method, path))
            self.assertLess(status, 500, (method, path, out))
        self.assert_alive()


if __name__ == "__main__":
    import warnings
    warnings.simplefilter("ignore", ResourceWarning)
    unittest.main(verbosity=2)
