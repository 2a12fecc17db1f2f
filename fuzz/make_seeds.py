#!/usr/bin/env python3
"""Writes the seed corpora of fuzz/seeds/<target>/ from real requests:
bodies serialized by botocore from its service models (as the aws CLI and
boto3 send them), requests signed by botocore's SigV4 signers, and
manifests, patterns and expressions as clients and the tests send them.
Run once; the fuzzer adds what it finds (fuzz/run.sh), -merge=1 keeps it small.

    python3 fuzz/make_seeds.py     (botocore from Debian or pyenv)
"""
import datetime
import hashlib
import json
import os
import sys
from unittest import mock

import botocore.auth
import botocore.session
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.serialize import create_serializer

HERE = os.path.dirname(os.path.abspath(__file__))
SESSION = botocore.session.get_session()
KEY = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
# fuzz/sigv4.cpp verifies at this instant (2025-12-05T02:00:00Z).
SIGNED_AT = datetime.datetime(2025, 12, 5, 2, 0, 0)


def write(target, name, data):
    d = os.path.join(HERE, "seeds", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def serialize(service, operation, params, protocol=None):
    model = SESSION.get_service_model(service)
    op = model.operation_model(operation)
    ser = create_serializer(protocol or model.metadata["protocol"])
    return ser.serialize_to_request(params, op)


def body_of(req):
    b = req["body"]
    if isinstance(b, dict):  # query: botocore leaves the form as a dict
        from urllib.parse import urlencode
        return urlencode(b).encode()
    return b if isinstance(b, bytes) else b.encode()


TASK_DEFS = [
    {"family": "web", "containerDefinitions": [{"name": "web", "image": "nginx:latest", "memory": 128,
                                                 "portMappings": [{"containerPort": 80, "hostPort": 8080}],
                                                 "essential": True}]},
    {"family": "app", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512",
     "containerDefinitions": [{"name": "app", "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1",
                               "environment": [{"name": "A", "value": "1"}], "command": ["sh", "-c", "sleep 1"],
                               "healthCheck": {"command": ["CMD-SHELL", "true"], "interval": 5, "retries": 2},
                               "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "g",
                                                    "awslogs-region": "us-east-1", "awslogs-stream-prefix": "p"}}}]},
    {"family": "multi", "containerDefinitions": [
        {"name": "a", "image": "busybox", "cpu": 128, "memoryReservation": 64, "links": ["b"],
         "dependsOn": [{"containerName": "b", "condition": "HEALTHY"}], "mountPoints": [{"sourceVolume": "v",
         "containerPath": "/data"}], "ulimits": [{"name": "nofile", "softLimit": 1024, "hardLimit": 2048}]},
        {"name": "b", "image": "busybox", "memory": 64, "essential": False, "user": "1000:1000",
         "healthCheck": {"command": ["CMD", "true"]}}],
     "volumes": [{"name": "v", "host": {"sourcePath": "/tmp"}}], "placementConstraints": [
        {"type": "memberOf", "expression": "attribute:ecs.instance-type == t2.micro"}],
     "tags": [{"key": "k", "value": "v"}]},
]


def main():
    # ---- JSON 1.1 bodies (ECS, ECR, Logs) and task definitions
    for i, td in enumerate(TASK_DEFS):
        body = body_of(serialize("ecs", "RegisterTaskDefinition", td))
        write("task_definition", f"register-{i}.json", body)
        write("json_input", f"ecs-register-{i}.json", body)
    write("json_input", "ecs-runtask.json", body_of(serialize("ecs", "RunTask", {
        "cluster": "default", "taskDefinition": "web:1", "count": 2,
        "placementConstraints": [{"type": "memberOf", "expression": "attribute:stack == prod"}],
        "placementStrategy": [{"type": "spread", "field": "attribute:ecs.availability-zone"}],
        "overrides": {"containerOverrides": [{"name": "web", "environment": [{"name": "X", "value": "é\u2603"}]}]}})))
    write("json_input", "ecr-put-image.json", body_of(serialize("ecr", "PutImage", {
        "repositoryName": "app", "imageTag": "v1", "imageManifest": json.dumps({"schemaVersion": 2})})))
    write("json_input", "logs-filter.json", body_of(serialize("logs", "FilterLogEvents", {
        "logGroupName": "/ecs/app", "filterPattern": "{ $.level = \"error\" }", "startTime": 1764900000000,
        "limit": 100})))
    write("json_input", "empty.json", b"")
    write("json_input", "deep.json", b"[" * 60 + b"1.5e300" + b"]" * 60)

    # ---- query protocol (ELBv2, STS, CloudWatch's query form)
    write("query", "elb-create-lb.txt", body_of(serialize("elbv2", "CreateLoadBalancer", {
        "Name": "web", "Subnets": ["subnet-1", "subnet-2"], "SecurityGroups": ["sg-1"],
        "Tags": [{"Key": "env", "Value": "prod"}]})))
    write("query", "elb-create-rule.txt", body_of(serialize("elbv2", "CreateRule", {
        "ListenerArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/1/2", "Priority": 10,
        "Conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}},
                       {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-A", "Values": ["b"]}}],
        "Actions": [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": "arn:tg/1", "Weight": 3}, {"TargetGroupArn": "arn:tg/2", "Weight": 1}]}}]})))
    write("query", "cw-put-metric-data.txt", body_of(serialize("cloudwatch", "PutMetricData", {
        "Namespace": "App", "MetricData": [{"MetricName": "Hits", "Value": 1.5, "Unit": "Count",
                                             "Dimensions": [{"Name": "Host", "Value": "a"}]}]}, "query")))
    write("query", "sts-assume-role.txt", body_of(serialize("sts", "AssumeRole", {
        "RoleArn": "arn:aws:iam::123456789012:role/r", "RoleSessionName": "session"})))
    write("query", "entries.txt", "Action=X&Attributes.entry.1.key=a&Attributes.entry.1.value=b&L=&M.member.2=x%2By+z")

    # ---- EC2
    write("ec2_input", "authorize-ingress.txt", body_of(serialize("ec2", "AuthorizeSecurityGroupIngress", {
        "GroupId": "sg-0123456789abcdef0", "IpPermissions": [
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0",
                                                                              "Description": "https"}]},
            {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": "sg-1"}]},
            {"IpProtocol": "icmpv6", "FromPort": -1, "ToPort": -1, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}]})))
    write("ec2_input", "describe-sgs.txt", body_of(serialize("ec2", "DescribeSecurityGroups", {
        "Filters": [{"Name": "vpc-id", "Values": ["vpc-1", "vpc-*"]}, {"Name": "tag:Name", "Values": ["w?b"]}],
        "MaxResults": 10, "NextToken": "5", "DryRun": False})))
    write("ec2_input", "run-instances.txt", body_of(serialize("ec2", "RunInstances", {
        "ImageId": "ami-1", "MinCount": 1, "MaxCount": 1, "SecurityGroupIds": ["sg-1"],
        "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "web"}]},
                              {"ResourceType": "volume", "Tags": [{"Key": "a", "Value": "b"}]}]})))
    # botocore writes UserIdGroupPairs as Groups on the wire; kept as sent.
    write("ec2_input", "revoke-egress.txt", "Action=RevokeSecurityGroupEgress&Version=2016-11-15&GroupId=sg-1&"
          "IpPermissions.1.IpProtocol=udp&IpPermissions.1.FromPort=53&IpPermissions.1.ToPort=53&"
          "IpPermissions.1.IpRanges.1.CidrIp=10.0.0.0%2F8&IpPermissions.1.Groups.1.GroupId=sg-2&"
          "IpPermissions.1.Groups.1.UserId=123456789012")

    # ---- CBOR (CloudWatch, smithy-rpc-v2-cbor)
    model = SESSION.get_service_model("cloudwatch")
    if "smithy-rpc-v2-cbor" in model.metadata.get("protocols", []):
        for name, op, params in [
            ("put-metric-data", "PutMetricData", {"Namespace": "App", "MetricData": [
                {"MetricName": "Hits", "Values": [1.0, 2.5], "Counts": [1, 3],
                 "Timestamp": datetime.datetime(2025, 12, 5, 2, 0, 0), "Dimensions": [{"Name": "H", "Value": "a"}]}]}),
            ("get-metric-data", "GetMetricData", {"MetricDataQueries": [
                {"Id": "m1", "Expression": "SUM(METRICS())", "Label": "x"}],
                "StartTime": datetime.datetime(2025, 12, 5), "EndTime": datetime.datetime(2025, 12, 5, 1)}),
            ("put-metric-alarm", "PutMetricAlarm", {"AlarmName": "a", "EvaluationPeriods": 1, "Threshold": 0.5,
                "ComparisonOperator": "GreaterThanThreshold", "MetricName": "Hits", "Namespace": "App",
                "Period": 60, "Statistic": "Sum", "ActionsEnabled": True})]:
            write("cbor", name + ".cbor", body_of(serialize("cloudwatch", op, params, "smithy-rpc-v2-cbor")))
    else:
        print("botocore without CloudWatch CBOR: no cbor seeds", file=sys.stderr)

    # ---- SigV4: requests signed by botocore (header and presigned forms)
    def sigv4_seed(name, method, url, body, headers, presign=False, service="ecs"):
        req = AWSRequest(method=method, url=url, data=body, headers=headers)
        # botocore 1.29 reads datetime.datetime.utcnow(), newer ones get_current_datetime().
        patches = [mock.patch("botocore.auth.datetime")]
        if hasattr(botocore.auth, "get_current_datetime"):
            patches.append(mock.patch("botocore.auth.get_current_datetime", return_value=SIGNED_AT))
        with patches[0] as dt, (patches[1] if len(patches) > 1 else mock.MagicMock()):
            dt.datetime.utcnow.return_value = SIGNED_AT
            dt.datetime.strptime = datetime.datetime.strptime
            if presign:
                SigV4QueryAuth(KEY, service, "us-east-1", expires=300).add_auth(req)
            else:
                SigV4Auth(KEY, service, "us-east-1").add_auth(req)
        from urllib.parse import urlsplit
        u = urlsplit(req.url)
        target = u.path or "/"
        if u.query:
            target += "?" + u.query
        lines = [method, target, "Host: " + u.netloc]
        lines += [f"{k}: {v}" for k, v in req.headers.items()]
        data = ("\n".join(lines) + "\n\n").encode() + (body or b"")
        write("sigv4", name, data)

    b = b'{"cluster":"default"}'
    sigv4_seed("ecs-header.txt", "POST", "http://127.0.0.1:4566/", b,
               {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListTasks"})
    sigv4_seed("ecr-presigned.txt", "GET", "http://127.0.0.1:4566/v2/app/manifests/latest?a=b%20c&x=", b"",
               {}, presign=True, service="ecr")
    sigv4_seed("ec2-form.txt", "POST", "http://127.0.0.1:4566/",
               b"Action=DescribeVpcs&Version=2016-11-15", {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
               service="ec2")
    sigv4_seed("path-escapes.txt", "GET", "http://127.0.0.1:4566/a%2Fb/./c/../d%20e?b=2&a=1&a=0", b"",
               {"X-Amz-Content-SHA256": hashlib.sha256(b"").hexdigest()}, service="elasticloadbalancing")

    # ---- the HTTP server (raw requests as clients send them)
    write("http_server", "get.txt", "GET /_berth/health HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: curl/7.88.1\r\n\r\n")
    write("http_server", "post.txt", "POST /?x=1 HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-amz-json-1.1\r\n"
          "Content-Length: 21\r\n\r\n{\"cluster\":\"default\"}")
    write("http_server", "chunked.txt", "PATCH /v2/app/blobs/uploads/1 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
          "Content-Range: 0-9\r\n\r\n5\r\nhello\r\n5;ext=1\r\nworld\r\n0\r\nTrailer: x\r\n\r\n")
    write("http_server", "pipelined.txt", "GET /a HTTP/1.1\r\nHost: a\r\n\r\nHEAD /b HTTP/1.1\r\nHost: a\r\n\r\n"
          "PUT /c HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc"
          "GET /d HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    write("http_server", "smuggle.txt", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
          "0\r\n\r\nGET /x HTTP/1.1\r\n\r\n")

    # ---- the load balancer's head parsers: byte 0 even = request, odd = response
    write("http_heads", "request.txt", b"\x10GET /api/users?id=1 HTTP/1.1\r\nHost: web.example.com\r\n"
          b"X-Forwarded-For: 10.0.0.1\r\nX-Amzn-Trace-Id: Root=1-abc\r\nConnection: keep-alive, x-hop\r\n"
          b"Bad_Name: 1\r\nContent-Length: 5\r\n\r\nhello")
    write("http_heads", "request-chunked.txt", b"\x40POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
          b"Expect: 100-continue\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: v\r\n\r\n")
    write("http_heads", "response.txt", b"\x21HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nKeep-Alive: timeout=5\r\n"
          b"Content-Length: 4\r\n\r\nbody")
    write("http_heads", "response-chunked.txt", b"\x01HTTP/1.0 302 Found\r\nLocation: /x\r\nTransfer-Encoding: chunked\r\n"
          b"\r\n2\r\nok\r\n0\r\n\r\n")

    # ---- the cluster query language
    for i, e in enumerate(["attribute:ecs.instance-type == t2.micro",
                           "attribute:ecs.os-type != windows and agentConnected == true",
                           "attribute:stack in [prod, staging] or runningTasksCount == 3",
                           "attribute:ecs.availability-zone not_in [us-east-1a, us-east-1b]",
                           "attribute:com.amazonaws.ecs.capability.docker-remote-api.1.17 exists",
                           "ec2InstanceId == i-0123456789abcdef0", "(attribute:a == b)", "attribute:x =~ t2.*"]):
        write("placement", f"expr-{i}.txt", e)

    # ---- manifests (byte 0 picks the Content-Type) and image configs
    digest = "sha256:" + hashlib.sha256(b"x").hexdigest()
    docker = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
              "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1469, "digest": digest},
              "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 2811969,
                          "digest": digest}]}
    oci = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 7023, "digest": digest},
           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": 32654, "digest": digest,
                       "urls": ["https://example.com/l"], "annotations": {"a": "b"}}],
           "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 1, "digest": digest},
           "annotations": {"org.opencontainers.image.created": "2025-12-05T02:00:00Z"}}
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 7143, "digest": digest,
         "platform": {"architecture": "amd64", "os": "linux"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 7682, "digest": digest,
         "platform": {"architecture": "arm64", "os": "linux", "variant": "v8", "os.features": ["x"]}}]}
    docker_list = dict(index, mediaType="application/vnd.docker.distribution.manifest.list.v2+json")
    config = {"architecture": "amd64", "os": "linux", "config": {"Env": ["PATH=/usr/bin"], "Entrypoint": ["/init"],
              "Cmd": ["serve", "--port", "80"], "WorkingDir": "/app", "User": "1000:1000", "StopSignal": "SIGTERM"},
              "rootfs": {"type": "layers", "diff_ids": [digest]}}
    write("manifest", "docker-v2.json", b"\x01" + json.dumps(docker).encode())
    write("manifest", "oci.json", b"\x03" + json.dumps(oci).encode())
    write("manifest", "oci-no-type.json", b"\x00" + json.dumps({k: v for k, v in oci.items() if k != "mediaType"}).encode())
    write("manifest", "index.json", b"\x04" + json.dumps(index).encode())
    write("manifest", "docker-list.json", b"\x02" + json.dumps(docker_list).encode())
    write("manifest", "config.json", b"\x05" + json.dumps(config).encode())

    # ---- registry uploads: "range\nquery\nbody"
    write("registry_upload", "patch.txt", "0-5\n\nhello ")
    write("registry_upload", "put.txt", "bytes=6-\ndigest=" + "sha256%3A" + hashlib.sha256(b"hello world").hexdigest()
          + "\nworld")
    write("registry_upload", "mount.txt", "0-0\nmount=" + digest + "&from=other%2Frepo\n")

    # ---- log filter patterns: "pattern\nmessage"
    for i, (p, m) in enumerate([
            ("ERROR \"bad thing\"", "ERROR a bad thing"), ("?ERROR ?WARN -Exiting", "WARN x"),
            ("%[Ee]rror|[Ff]ail%", "Failure"),
            ('{ $.a.b[0] = "x*" && ($.n > 5 || $.f IS TRUE) }', '{"a":{"b":["xy"]},"n":7}'),
            ("{ $.s IS NULL || $.missing NOT EXISTS || $.user != \"bob\" }", '{"s":null}'),
            ("[ip, user, ..., status = 5* || status = 4*, bytes > 100]", "1.2.3.4 u x y 404 200"),
            ("[..., status=200, size]", '127.0.0.1 - - "GET /" 200 2326'), ("", "anything")]):
        write("filter_pattern", f"pattern-{i}.txt", p + "\n" + m)


if __name__ == "__main__":
    main()
