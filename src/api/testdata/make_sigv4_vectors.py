#!/usr/bin/env python3
"""Generate SigV4 test vectors with real botocore for src/api/sigv4_test.cpp.

Run: python3 src/api/testdata/make_sigv4_vectors.py > /tmp/vectors.inc
and paste the output into sigv4_test.cpp (kVectors). The clock is pinned so
the output is reproducible; botocore's version is printed as a comment.
"""
import datetime
from unittest import mock
from urllib.parse import urlsplit

import botocore
import botocore.auth as auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
NOW = datetime.datetime(2024, 3, 9, 12, 34, 56, tzinfo=datetime.timezone.utc)


def cxx(s):
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def emit(name, req, service, region):
    # What the server sees on the wire: the path and query of the URL, every
    # header (including Host, which the HTTP client adds), the body.
    parts = urlsplit(req.url)
    headers = list(req.headers.items())
    if not any(k.lower() == "host" for k, _ in headers):
        headers.insert(0, ("Host", auth._host_from_url(req.url)))
    body = req.body or b""
    if isinstance(body, str):
        body = body.encode()
    hdrs = ", ".join("{%s, %s}" % (cxx(k), cxx(v if isinstance(v, str) else v.decode())) for k, v in headers)
    print("    {%s, %s, %s, %s, %s, {%s}, %s, %s, %s}," % (
        cxx(name), cxx(service), cxx(region), cxx(req.method), cxx(parts.path or "/"),
        hdrs, cxx(parts.query), cxx(body.decode()),
        cxx(req.headers.get("Authorization", "") if not isinstance(req.headers.get("Authorization", ""), bytes) else req.headers["Authorization"].decode())))


def sign(name, method, url, headers, body, service, region="us-east-1", extra=None):
    req = AWSRequest(method=method, url=url, headers=headers, data=body)
    for k, v in (extra or []):
        req.headers[k] = v  # HTTPHeaders: assignment appends, so repeats stay
    req.context["payload_signing_enabled"] = True
    auth.SigV4Auth(Credentials(AKID, SECRET), service, region).add_auth(req)
    emit(name, req, service, region)


def presign(name, method, url, service, region="us-east-1", expires=900):
    req = AWSRequest(method=method, url=url, headers={}, data=b"")
    auth.SigV4QueryAuth(Credentials(AKID, SECRET), service, region, expires=expires).add_auth(req)
    emit(name, req, service, region)


def main():
    print("// botocore %s, clock %s, key %s / %s" % (botocore.__version__, NOW.isoformat(), AKID, SECRET))
    with mock.patch.object(auth, "get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        sign("json11_ecs", "POST", "http://127.0.0.1:4566/",
             {"X-Amz-Target": "AmazonEC2ContainerServiceV20141113.DescribeServices",
              "Content-Type": "application/x-amz-json-1.1"},
             b'{"cluster": "c", "services": ["s"]}', "ecs")
        sign("query_elbv2", "POST", "http://127.0.0.1:4566/",
             {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
             b"Action=DescribeTargetGroups&Version=2015-12-01&Names.member.1=tg-a&Names.member.2=tg%20b",
             "elasticloadbalancing", "eu-west-1")
        sign("ec2_describe_sgs", "POST", "http://localhost:4566/",
             {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
             b"Action=DescribeSecurityGroups&Version=2016-11-15&Filter.1.Name=vpc-id&Filter.1.Value.1=vpc-1&GroupId.1=sg-1",
             "ec2")
        sign("path_needing_encoding", "GET",
             "http://127.0.0.1:4566/a%20b/c$d/./e/../f//g~h%2Fi/%E2%82%AC?b=2&a=1&a=0&c=x%2Fy&d",
             {}, b"", "ecr")
        sign("repeated_headers_whitespace", "POST", "http://127.0.0.1:8080/",
             {"Content-Type": "application/x-amz-json-1.1"}, b"{}", "ecs",
             extra=[("X-Custom", "  first   value "), ("X-Custom", "\tsecond\t\tvalue"),
                    ("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"),
                    ("User-Agent", "aws-cli/1.45.11")])
        sign("content_sha256_header", "POST", "http://127.0.0.1:4566/",
             {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"},
             b"{}", "ecr")
        sign("date_header_instead_of_x_amz_date", "POST", "http://127.0.0.1:4566/",
             {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
              "Date": "Mon, 01 Jan 2024 00:00:00 GMT"},
             b"Action=GetCallerIdentity&Version=2011-06-15", "sts")
        presign("presigned_sts", "GET",
                "http://127.0.0.1:4566/?Action=GetCallerIdentity&Version=2011-06-15", "sts")


if __name__ == "__main__":
    main()
