"""A generated corpus of malformed requests against a live daemon (issue 16):
at least 1,000 per protocol (JSON 1.1, JSON 1.0, query, EC2, CBOR, the
registry, raw HTTP framing), made from valid requests by seeded mutations:
truncated and oversized bodies, wrong types, unknown fields, invalid UTF-8,
deep nesting, huge numbers, duplicate parameters, missing and forged
signatures, bad Content-Length / Transfer-Encoding combinations and request
smuggling attempts.

Every answer is a 4xx in the protocol's error shape (or a 2xx when the
mutation happened to stay valid), never a 5xx; a smuggled request is never
answered; the daemon's RSS comes back to its level; what exists afterwards
was acknowledged and is whole (integrity_check, every listed resource
describes); and the workshop's calls succeed afterwards.

BERTH_FLOOD_PER_PROTOCOL sets the count (default 1000); BERTH_FLOOD_SEED the seed.
"""
import datetime
import glob
import hashlib
import http.client
import json
import os
import random
import re
import socket
import sqlite3
import sys
import time
import unittest
import urllib.parse

import cbor2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "export"))
from berth_harness import Daemon, sign, xml_code  # noqa: E402

PER_PROTOCOL = int(os.environ.get("BERTH_FLOOD_PER_PROTOCOL", "1000"))
SEED = int(os.environ.get("BERTH_FLOOD_SEED", str(int(time.time()))))
ECS = "AmazonEC2ContainerServiceV20141113."
ECR = "AmazonEC2ContainerRegistry_V20150921."
SSM = "AmazonSSM."
LOGS = "Logs_20140328."
CW = "GraniteServiceVersion20100801"

# Valid requests the mutations start from: (service, X-Amz-Target, body).
JSON11_SEEDS = [
    ("ecs", ECS + "CreateCluster", {"clusterName": "flood-c", "tags": [{"key": "k", "value": "v"}]}),
    ("ecs", ECS + "DescribeClusters", {"clusters": ["default", "flood-c"], "include": ["TAGS"]}),
    ("ecs", ECS + "ListTasks", {"cluster": "default", "maxResults": 10, "desiredStatus": "RUNNING"}),
    ("ecs", ECS + "RegisterTaskDefinition", {"family": "flood", "containerDefinitions": [
        {"name": "web", "image": "busybox", "memory": 64, "portMappings": [{"containerPort": 80}],
         "environment": [{"name": "A", "value": "b"}], "healthCheck": {"command": ["CMD", "true"]}}]}),
    ("ecr", ECR + "CreateRepository", {"repositoryName": "flood/repo", "imageTagMutability": "MUTABLE"}),
    ("ecr", ECR + "DescribeRepositories", {"maxResults": 5}),
    ("ecr", ECR + "PutImage", {"repositoryName": "flood/repo", "imageManifest": "{}", "imageTag": "t"}),
    ("ssm", SSM + "PutParameter", {"Name": "/flood/p", "Value": "v", "Type": "String", "Overwrite": True}),
    ("ssm", SSM + "GetParametersByPath", {"Path": "/flood", "Recursive": True, "MaxResults": 3}),
    ("logs", LOGS + "CreateLogGroup", {"logGroupName": "/flood/g"}),
    ("logs", LOGS + "PutLogEvents", {"logGroupName": "/flood/g", "logStreamName": "s",
                                     "logEvents": [{"timestamp": 1764900000000, "message": "m"}]}),
    ("logs", LOGS + "FilterLogEvents", {"logGroupName": "/flood/g", "filterPattern": "{ $.a = 1 }"}),
]
JSON10_SEEDS = [
    ("monitoring", CW + ".PutMetricData", {"Namespace": "Flood", "MetricData": [
        {"MetricName": "M", "Value": 1.5, "Unit": "Count", "Dimensions": [{"Name": "D", "Value": "v"}]}]}),
    ("monitoring", CW + ".ListMetrics", {"Namespace": "Flood"}),
    ("monitoring", CW + ".PutMetricAlarm", {"AlarmName": "flood-a", "MetricName": "M", "Namespace": "Flood",
                                            "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1,
                                            "Threshold": 1.0, "ComparisonOperator": "GreaterThanThreshold"}),
]
QUERY_SEEDS = [
    ("iam", [("Action", "CreateUser"), ("Version", "2010-05-08"), ("UserName", "flood-u"), ("Path", "/")]),
    ("iam", [("Action", "ListUsers"), ("Version", "2010-05-08"), ("MaxItems", "5")]),
    ("sts", [("Action", "GetCallerIdentity"), ("Version", "2011-06-15")]),
    ("elasticloadbalancing", [("Action", "CreateTargetGroup"), ("Version", "2015-12-01"), ("Name", "flood-tg"),
                              ("Protocol", "HTTP"), ("Port", "80"), ("TargetType", "ip")]),
    ("elasticloadbalancing", [("Action", "DescribeTargetGroups"), ("Version", "2015-12-01"),
                              ("Names.member.1", "flood-tg"), ("PageSize", "5")]),
    ("monitoring", [("Action", "GetMetricStatistics"), ("Version", "2010-08-01"), ("Namespace", "Flood"),
                    ("MetricName", "M"), ("StartTime", "2026-01-01T00:00:00Z"), ("EndTime", "2026-01-02T00:00:00Z"),
                    ("Period", "60"), ("Statistics.member.1", "Sum")]),
]
EC2_SEEDS = [
    ("ec2", [("Action", "CreateSecurityGroup"), ("Version", "2016-11-15"), ("GroupName", "flood-g"),
             ("GroupDescription", "d")]),
    ("ec2", [("Action", "AuthorizeSecurityGroupIngress"), ("Version", "2016-11-15"), ("GroupName", "flood-g"),
             ("IpPermissions.1.IpProtocol", "tcp"), ("IpPermissions.1.FromPort", "80"),
             ("IpPermissions.1.ToPort", "80"), ("IpPermissions.1.IpRanges.1.CidrIp", "10.0.0.0/8")]),
    ("ec2", [("Action", "DescribeSecurityGroups"), ("Version", "2016-11-15"), ("Filter.1.Name", "group-name"),
             ("Filter.1.Value.1", "flood-g"), ("MaxResults", "5")]),
    ("ec2", [("Action", "ImportKeyPair"), ("Version", "2016-11-15"), ("KeyName", "flood-k"),
             ("PublicKeyMaterial", "c3NoLWVkMjU1MTkgQUFBQUMzTnphQzFsWkRJMU5URTVBQUFBSUVoNnh3d3h4")]),
    ("ec2", [("Action", "DescribeInstances"), ("Version", "2016-11-15"), ("MaxResults", "5")]),
]
CBOR_SEEDS = [
    ("PutMetricData", {"Namespace": "Flood", "MetricData": [{"MetricName": "C", "Value": 2.0, "Unit": "Count"}]}),
    ("GetMetricStatistics", {"Namespace": "Flood", "MetricName": "C", "Period": 60, "Statistics": ["Sum"],
                             "StartTime": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
                             "EndTime": datetime.datetime(2026, 1, 2, tzinfo=datetime.timezone.utc)}),
    ("ListMetrics", {"Namespace": "Flood"}),
]
WEIRD_VALUES = [None, True, False, 0, -1, 2 ** 63, -(2 ** 64), 10 ** 40, 1.5, 1e308, float("inf"), float("nan"),
                "", "x" * 70000, "\u0000", "\ud800", "é" * 300, [], {}, [[[[]]]], {"a": {"b": {"c": {}}}},
                ["a"] * 3000, "${jndi}", "../../etc/passwd", "' OR 1=1 --", "%s%s%n"]


def deep(n, open_, close_, inner=b"1"):
    return open_ * n + inner + close_ * n


class Mutator:
    def __init__(self, rng):
        self.rng = rng

    def value(self):
        return self.rng.choice(WEIRD_VALUES)

    def mutate_tree(self, doc, depth=0):
        """A copy of a JSON-like document with one node's value, key or type changed."""
        rng = self.rng
        if isinstance(doc, dict) and doc and depth < 6:
            doc = dict(doc)
            key = rng.choice(sorted(doc))
            op = rng.random()
            if op < 0.15:
                del doc[key]
            elif op < 0.3:
                doc["unknown%d" % rng.randint(0, 99)] = self.value()
            elif op < 0.45:
                doc[key] = self.value()
            else:
                doc[key] = self.mutate_tree(doc[key], depth + 1)
            return doc
        if isinstance(doc, list) and doc and depth < 6:
            doc = list(doc)
            i = rng.randrange(len(doc))
            op = rng.random()
            if op < 0.2:
                doc.append(self.value())
            elif op < 0.4:
                doc = doc * rng.randint(2, 200)
            else:
                doc[i] = self.mutate_tree(doc[i], depth + 1)
            return doc
        return self.value()

    def mutate_bytes(self, data):
        rng = self.rng
        op = rng.randrange(7)
        if op == 0 and data:
            return data[:rng.randrange(len(data))]                       # truncated
        if op == 1 and data:
            i = rng.randrange(len(data))
            return data[:i] + bytes([rng.randrange(256)]) + data[i + 1:]  # one byte changed
        if op == 2:
            return data + data                                            # two documents
        if op == 3:
            return b"\xff\xfe" + data                                     # invalid UTF-8 / CBOR head
        if op == 4 and data:
            i = rng.randrange(len(data))
            return data[:i] + b"\xc3\x28\xed\xa0\x80" + data[i:]          # invalid UTF-8 inside
        if op == 5:
            return data + b" " * rng.randint(1, 3000)
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))

    def json_body(self, seed):
        rng = self.rng
        op = rng.random()
        if op < 0.55:
            return json.dumps(self.mutate_tree(seed), allow_nan=True).encode(errors="surrogatepass")
        if op < 0.8:
            return self.mutate_bytes(json.dumps(seed).encode())
        if op < 0.9:
            return b'{"a":' + deep(rng.choice([100, 1000, 100000]), b"[", b"]") + b"}"
        key = rng.choice(sorted(seed))
        return b'{"%s": %s, "%s": %s}' % (key.encode(), json.dumps(seed[key]).encode(), key.encode(),
                                         json.dumps(self.value(), allow_nan=True).encode(errors="surrogatepass"))

    def form_body(self, params):
        rng = self.rng
        params = list(params)
        for _ in range(rng.randint(1, 3)):
            op = rng.randrange(9)
            i = rng.randrange(len(params))
            k, v = params[i]
            if op == 0:
                del params[i]
                if not params:
                    params = [("Action", "")]
            elif op == 1:
                params.append((k, str(self.value())))                      # duplicate parameter
            elif op == 2:
                params[i] = (k, str(self.value()))
            elif op == 3:
                params.append((re.sub(r"\.1\b", ".%d" % rng.choice([0, 99999, -1]), k) + ".x", "v"))
            elif op == 4:
                params[i] = (k, str(rng.choice([10 ** 30, -(10 ** 30), "1e999", "0x10", "NaN", "-0"])))
            elif op == 5:
                params.append(("Unknown%d" % rng.randint(0, 9), "v"))
            elif op == 6:
                params.append((".".join("m%d" % j for j in range(rng.randint(50, 500))), "1"))
            elif op == 7:
                params.extend(("Filter.%d.Name" % j, "x") for j in range(rng.randint(100, 2000)))
            else:  # a long value; bounded, as mutations compound (oversize bodies: tests/api)
                params[i] = (k, (v * rng.randint(100, 20000))[:100000])
        body = urllib.parse.urlencode(params, safe="", errors="surrogatepass").encode()
        if rng.random() < 0.25:
            body = self.mutate_bytes(body) if rng.random() < 0.5 else body + rng.choice(
                [b"&%zz=1", b"&a=%", b"&=&&", b"&\xff\xfe=\xc3\x28", b"&a=%00"])
        return body

    def cbor_body(self, seed):
        rng = self.rng
        op = rng.random()
        if op < 0.5:
            try:
                return cbor2.dumps(self.mutate_tree(seed), datetime_as_timestamp=True)
            except (ValueError, TypeError, UnicodeEncodeError):
                return b"\xa0"
        if op < 0.8:
            return self.mutate_bytes(cbor2.dumps(seed, datetime_as_timestamp=True))
        return rng.choice([
            b"\x81" * rng.choice([100, 10000, 100000]) + b"\x01",          # deep arrays
            b"\xa1\x61a" * 5000 + b"\x01",                                 # deep maps
            b"\x9f" * 2000,                                                 # unterminated indefinite arrays
            b"\x5b\xff\xff\xff\xff\xff\xff\xff\xff",                       # a byte string of 2^64-1 bytes
            b"\x7a\x7f\xff\xff\xff" + b"a",                                 # a 2 GiB text string, 1 byte sent
            b"\xc1\xfb\x7f\xf8\x00\x00\x00\x00\x00\x00",                   # a NaN timestamp
            b"\xa2\x69Namespace\x61a\x69Namespace\x61b",                   # a duplicate key
        ])


class BadInputFlood(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(env={"BERTH_TASK_RUNTIME": "none"}).start()
        cls.rng = random.Random(SEED)
        cls.m = Mutator(cls.rng)
        print("bad input flood: %d per protocol, seed %d" % (PER_PROTOCOL, SEED), file=sys.stderr)
        cls.acknowledged = {"repositories": set(), "clusters": set()}
        cls.d.client("ecs").list_clusters()  # every module touched once before the baseline
        cls.rss_before = cls.rss_mib(cls)

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    # ---- sending ----

    def send(self, method, path, body, headers, signing_service=None, forge=False):
        """One request on a connection of its own; returns (status, body
        bytes, headers). The answer is read even when the daemon answers
        before taking the whole body and closes (a client's send then fails)."""
        d = self.d
        host = "%s:%d" % (d.host, d.bound_port)
        if signing_service and not forge:
            headers = sign(method, host, signing_service, body, headers, d.creds["AWS_ACCESS_KEY_ID"],
                           d.creds["AWS_SECRET_ACCESS_KEY"], path=path.split("?")[0])
        elif signing_service:
            headers = self.forged(method, host, signing_service, body, headers, path)
        # A forged header may carry bytes HTTP forbids: the server then
        # refuses the message itself (a plain 400) before any protocol.
        self.head_malformed = any(ord(c) < 0x20 and c != "\t" or ord(c) == 0x7f
                                  for v in headers.values() for c in str(v))
        head = "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n" % (method, path, host, len(body))
        head += "".join("%s: %s\r\n" % (k, v) for k, v in headers.items() if k.lower() != "host")
        s = socket.create_connection((d.host, d.bound_port), timeout=30)
        try:
            try:
                s.sendall(head.encode("latin-1", errors="replace") + b"\r\n" + body)
            except OSError:
                pass  # answered and closed before the body was read: the answer is still there
            r = http.client.HTTPResponse(s, method=method)
            r.begin()
            return r.status, r.read(), {k.lower(): v for k, v in r.getheaders()}
        except (OSError, http.client.HTTPException) as e:
            raise AssertionError("no answer to %s %s %r (body %d bytes: %r): %r\n%s" % (
                method, path[:100], headers, len(body), body[:200], e, d.log()[-1500:])) from e
        finally:
            s.close()

    def forged(self, method, host, service, body, headers, path):
        rng = self.rng
        d = self.d
        kind = rng.randrange(5)
        if kind == 0:
            return dict(headers)  # no signature at all
        if kind == 1:
            return sign(method, host, service, body, headers, d.creds["AWS_ACCESS_KEY_ID"], "wrong-secret", path=path)
        if kind == 2:
            return sign(method, host, service, body, headers, "AKIAFORGED0000000000", "x", path=path)
        signed = sign(method, host, service, body, headers, d.creds["AWS_ACCESS_KEY_ID"],
                      d.creds["AWS_SECRET_ACCESS_KEY"], path=path,
                      when=datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=2))
        if kind == 3:
            return signed  # a signature two hours old
        signed["Authorization"] = self.m.mutate_bytes(signed["Authorization"].encode()).decode("latin-1")
        return signed

    def check(self, label, status, body, headers, shape):
        self.assertLess(status, 500, "%s: a server error for a client's request: %r" % (label, body[:300]))
        if status < 300:
            return
        self.assertGreaterEqual(status, 400, label)
        if self.head_malformed:
            self.assertEqual(status, 400, (label, "a header HTTP forbids"))
            return
        if shape == "json":
            try:
                doc = json.loads(body)
            except ValueError as e:
                raise AssertionError("%s: the error is not JSON (%s): %r" % (label, e, body[:300])) from e
            self.assertIn("__type", doc, label)
            self.assertIn("x-amzn-requestid", headers, label)
        elif shape == "xml":
            self.assertIsNotNone(xml_code(body), (label, body[:300]))
        elif shape == "cbor":
            if headers.get("content-type") == "application/cbor":
                self.assertIn("__type", cbor2.loads(body), label)
            else:  # refused before the protocol was known (auth): AWS's JSON shape
                self.assertIn("__type", json.loads(body), label)
        elif shape == "registry":
            if body:
                self.assertIn("errors", json.loads(body), (label, body[:300]))

    def note_acknowledged(self, target, status, body):
        if status != 200:
            return
        doc = json.loads(body) if body[:1] == b"{" else None
        if target.endswith("CreateRepository") and doc:
            self.acknowledged["repositories"].add(doc["repository"]["repositoryName"])
        elif target.endswith("CreateCluster") and doc:
            self.acknowledged["clusters"].add(doc["cluster"]["clusterName"])

    # ---- the corpus, one protocol per test (run in order: test_9 checks what they left) ----

    def test_1_json_1_1(self):
        for i in range(PER_PROTOCOL):
            service, target, seed = self.rng.choice(JSON11_SEEDS)
            body = self.m.json_body(seed)
            forge = self.rng.random() < 0.1
            status, out, headers = self.send("POST", "/", body, {"Content-Type": "application/x-amz-json-1.1",
                                                                 "X-Amz-Target": target}, service, forge)
            self.check(("json1.1", i, target, body[:80]), status, out, headers, "json")
            if forge:
                self.assertIn(status, (400, 403), ("a forged signature was accepted", target, body[:80]))
            self.note_acknowledged(target, status, out)

    def test_2_json_1_0(self):
        for i in range(PER_PROTOCOL):
            service, target, seed = self.rng.choice(JSON10_SEEDS)
            body = self.m.json_body(seed)
            status, out, headers = self.send("POST", "/", body, {"Content-Type": "application/x-amz-json-1.0",
                                                                 "X-Amz-Target": target}, service)
            self.check(("json1.0", i, target, body[:80]), status, out, headers, "json")

    def test_3_query(self):
        for i in range(PER_PROTOCOL):
            service, params = self.rng.choice(QUERY_SEEDS)
            body = self.m.form_body(params)
            forge = self.rng.random() < 0.1
            status, out, headers = self.send("POST", "/", body, {"Content-Type": "application/x-www-form-urlencoded"},
                                             service, forge)
            self.check(("query", i, service, body[:80]), status, out, headers, "xml")
            if forge:
                self.assertIn(status, (400, 403), ("a forged signature was accepted", service, body[:80]))

    def test_4_ec2(self):
        for i in range(PER_PROTOCOL):
            service, params = self.rng.choice(EC2_SEEDS)
            body = self.m.form_body(params)
            status, out, headers = self.send("POST", "/", body, {"Content-Type": "application/x-www-form-urlencoded"},
                                             service)
            self.check(("ec2", i, body[:80]), status, out, headers, "xml")

    def test_5_cbor(self):
        for i in range(PER_PROTOCOL):
            operation, seed = self.rng.choice(CBOR_SEEDS)
            body = self.m.cbor_body(seed)
            path = "/service/%s/operation/%s" % (CW, operation)
            status, out, headers = self.send("POST", path, body, {"Content-Type": "application/cbor",
                                                                  "Accept": "application/cbor",
                                                                  "smithy-protocol": "rpc-v2-cbor"}, "monitoring")
            self.check(("cbor", i, operation, body[:60]), status, out, headers, "cbor")

    def test_6_registry(self):
        import base64
        rc, password, err = self.d.aws_result("ecr", "get-login-password")
        self.assertEqual(rc, 0, err)
        self.d.aws("ecr", "create-repository", "--repository-name", "flood-registry")
        auth = {"Authorization": "Basic " + base64.b64encode(("AWS:" + password).encode()).decode()}
        rng = self.rng
        digest = "sha256:" + hashlib.sha256(b"x").hexdigest()
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest, "size": 1},
                    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest, "size": 1}]}
        for i in range(PER_PROTOCOL):
            repo = rng.choice(["flood-registry", "nope", "../etc", "a" * 300, "Flood_Registry", "flood-registry/x"])
            kind = rng.randrange(6)
            headers = dict(auth) if rng.random() > 0.1 else {"Authorization": rng.choice(
                ["Basic Zm9vOmJhcg==", "Bearer x", "Basic %%%", "Digest a"])}
            if kind == 0:
                method, path, body = "PUT", "/v2/%s/manifests/%s" % (repo, rng.choice(["t", "a" * 200, "-", digest])), \
                    self.m.json_body(manifest)
                headers["Content-Type"] = rng.choice(["application/vnd.oci.image.manifest.v1+json",
                                                      "application/vnd.docker.distribution.manifest.v2+json",
                                                      "text/plain", ""])
            elif kind == 1:
                method, path, body = "PUT", "/v2/%s/blobs/uploads/%s?digest=%s" % (
                    repo, rng.choice(["abc", "../../x", "0" * 40]), rng.choice(
                        [digest, "sha256:zz", "md5:1", "", "sha256:" + "0" * 63])), b"x"
            elif kind == 2:
                method, path, body = "PATCH", "/v2/%s/blobs/uploads/%s" % (repo, "0" * 32), b"data"
                headers["Content-Range"] = rng.choice(["0-3", "5-2", "-1-4", "0-99999999999999999999", "a-b", ""])
            elif kind == 3:
                method, path, body = rng.choice(["GET", "HEAD", "DELETE"]), "/v2/%s/blobs/%s" % (
                    repo, rng.choice([digest, "sha256:", "sha512:" + "0" * 128, "%2e%2e"])), b""
            elif kind == 4:
                method, path, body = "POST", "/v2/%s/blobs/uploads/?mount=%s&from=%s" % (
                    repo, rng.choice([digest, "x"]), rng.choice(["flood-registry", "nope", ""])), b""
            else:
                method, path, body = rng.choice(["GET", "PUT", "OPTIONS", "TRACE"]), rng.choice(
                    ["/v2/", "/v2/_catalog?n=-1", "/v2/%s/tags/list?n=99999999999&last=%%ff" % repo,
                     "/v2/%s/manifests/" % repo, "/v2/" + "/".join(["a"] * 100)]), b""
            status, out, got = self.send(method, path, body, headers)
            self.check(("registry", i, method, path[:80]), status, out, got, "registry")

    def raw(self, data, timeout=5.0):
        s = socket.create_connection((self.d.host, self.d.bound_port), timeout=timeout)
        try:
            try:
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the daemon answered and closed before reading it all
            chunks = []
            while True:
                try:
                    c = s.recv(65536)
                except (socket.timeout, ConnectionResetError):
                    break
                if not c:
                    break
                chunks.append(c)
            return b"".join(chunks)
        finally:
            s.close()

    def test_7_http_framing_and_smuggling(self):
        rng = self.rng
        host = "Host: %s:%d\r\n" % (self.d.host, self.d.bound_port)
        smuggled = b"GET /_berth/health HTTP/1.1\r\n" + host.encode() + b"\r\n"
        templates = [
            lambda: b"POST / HTTP/1.1\r\n" + host.encode() + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"0\r\n\r\n" + smuggled,                                   # CL.TE
            lambda: b"POST / HTTP/1.1\r\n" + host.encode() + b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"
                    b"5c\r\n" + smuggled + b"\r\n0\r\n\r\n",                   # TE.CL
            lambda: b"POST / HTTP/1.1\r\n" + host.encode() + b"Content-Length: 0\r\nContent-Length: %d\r\n\r\n"
                    % len(smuggled) + smuggled,                                # duplicate Content-Length
            lambda: b"POST / HTTP/1.1\r\n" + host.encode() + b"Transfer-Encoding: xchunked\r\n\r\n" + smuggled,
            lambda: b"POST / HTTP/1.1\r\n" + host.encode() + b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n" + smuggled,
            lambda: b"POST / HTTP/1.1\r\n" + host.encode() + b"Transfer-Encoding: chunked, identity\r\n\r\n"
                    b"0\r\n\r\n" + smuggled,
            lambda: b"POST / HTTP/1.1\r\n" + host.encode() + b"Content-Length: %s\r\n\r\nabc" % rng.choice(
                [b"-1", b"+3", b"3 3", b"0x3", b"99999999999999999999999", b"", b"3\x00"]),
            lambda: b"POST / HTTP/1.1\r\n" + host.encode() + b"Transfer-Encoding: chunked\r\n\r\n" + rng.choice(
                [b"fffffffffffffffff\r\n", b"-1\r\n", b"5;" + b"e" * 10000 + b"\r\nabcde\r\n0\r\n\r\n", b"zz\r\n",
                 b"5\r\nabc", b"3\r\nabcde\r\n0\r\n\r\n"]),
            lambda: b"GET / HTTP/1.1\r\n" + host.encode() + b"X: a\r\n b\r\n\r\n",  # obsolete line folding
            lambda: b"GET / HTTP/1.1\r\n" + host.encode() + (b"X-%d: y\r\n" * 1) % 1 * rng.choice([200, 2000]) +
                    b"\r\n",
            lambda: b"GET /" + b"a" * rng.choice([10000, 100000]) + b" HTTP/1.1\r\n" + host.encode() + b"\r\n",
            lambda: rng.choice([b"GET / HTTP/1.1\n\n", b"GET / HTTP/1.1\r\r\n\r\n", b"\r\n" * 1000,
                                b"GET\x00/ HTTP/1.1\r\n\r\n", b"G\xffT / HTTP/1.1\r\n\r\n", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"]),
            lambda: self.m.mutate_bytes(b"POST / HTTP/1.1\r\n" + host.encode() +
                                        b"Content-Type: application/x-amz-json-1.1\r\nContent-Length: 2\r\n\r\n{}"),
        ]
        for i in range(PER_PROTOCOL):
            which = rng.randrange(len(templates))
            data = templates[which]()
            reply = self.raw(data)
            statuses = [int(m) for m in re.findall(rb"^HTTP/1\.[01] (\d{3})", reply, re.M)]
            label = ("framing", i, which, data[:100], reply[:200])
            for status in statuses:
                self.assertLess(status, 500, label)
            # A request hidden in an ambiguous body is never answered as a second one.
            self.assertLessEqual(len(statuses), 1, ("two answers to one request", label))

    # ---- afterwards ----

    def test_9_afterwards_memory_state_and_the_workshop(self):
        d = self.d
        # The flood's leftovers: what exists was acknowledged and is whole.
        repos = {r["repositoryName"] for r in d.client("ecr").describe_repositories()["repositories"]}
        self.assertEqual(repos - {"flood-registry"}, self.acknowledged["repositories"],
                         "repositories no answer acknowledged")
        clusters = [a.rsplit("/", 1)[-1] for a in d.client("ecs").list_clusters()["clusterArns"]]
        self.assertTrue(set(clusters) >= self.acknowledged["clusters"])
        described = d.client("ecs").describe_clusters(clusters=clusters)
        self.assertEqual(described["failures"], [], "listed clusters %s" % clusters)
        for path in glob.glob(os.path.join(d.data_dir, "**", "*.db"), recursive=True):
            db = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10)
            try:
                self.assertEqual(db.execute("PRAGMA integrity_check").fetchall(), [("ok",)], path)
            finally:
                db.close()
        # Memory: back to its level once the requests are answered (the
        # allocator may keep some of what it freed: a bound, not equality).
        rss = self.rss_mib()
        print("bad input flood: RSS %.1f MiB before, %.1f MiB after" % (self.rss_before, rss), file=sys.stderr)
        self.assertLess(rss, self.rss_before + 64, "berth's RSS grew from %.0f to %.0f MiB" % (self.rss_before, rss))
        # The workshop's calls, as scripts/workshop_stack.py makes them.
        from export_stack import WorkshopWithoutContainers
        saved = dict(os.environ)
        try:
            for k in [k for k in os.environ if k.startswith("AWS_")]:
                del os.environ[k]
            os.environ.update(d.creds)
            os.environ["AWS_CONFIG_FILE"] = os.environ["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null"
            WorkshopWithoutContainers(d.data_dir, "/nonexistent").build()
        finally:
            os.environ.clear()
            os.environ.update(saved)
        self.assertEqual(d.client("ecs").describe_services(cluster="outyet-cluster", services=["outyet-service"])[
            "services"][0]["desiredCount"], 3)

    def rss_mib(cls):
        with open("/proc/%d/status" % cls.d.proc.pid) as f:
            return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1)) / 1024


if __name__ == "__main__":
    unittest.main(verbosity=2)
