#!/usr/bin/env python3
"""Feed the envelopes api_test dumps to botocore's own response parsers.

  mkdir -p /tmp/env && BERTH_API_ENVELOPE_DIR=/tmp/env ./build-api/src/api/api_test \
      --gtest_filter=Envelope.DumpForBotocoreCheck
  python3 src/api/testdata/check_envelopes.py /tmp/env
"""
import os
import sys

import botocore.session
from botocore import parsers

d = sys.argv[1]
session = botocore.session.get_session()


def read(name):
    with open(os.path.join(d, name), "rb") as f:
        return f.read()


def parse(protocol, service, op, body, status):
    model = session.get_service_model(service)
    shape = model.operation_model(op).output_shape
    resp = {"body": body, "headers": {"x-amzn-requestid": "rid-json"}, "status_code": status}
    return parsers.create_parser(protocol).parse(resp, shape)


ok = True


def check(label, got, expected):
    global ok
    for path, want in expected.items():
        cur = got
        for k in path.split("/"):
            cur = cur[int(k)] if isinstance(cur, list) else cur.get(k)
        if cur != want:
            ok = False
            print(f"FAIL {label}: {path} = {cur!r}, want {want!r}")
    print(f"{label}: {'ok' if ok else 'checked'}")


r = parse("query", "elbv2", "DescribeTargetGroups", read("query_success.xml"), 200)
check("query success", r, {"TargetGroups/0/TargetGroupName": "web&api", "TargetGroups/0/Port": 80,
                           "ResponseMetadata/RequestId": "11111111-2222-3333-4444-555555555555"})
r = parse("query", "elbv2", "DescribeTargetGroups", read("query_error.xml"), 400)
check("query error", r, {"Error/Code": "TargetGroupNotFound", "Error/Type": "Sender",
                         "Error/Message": "One or more <target> groups not found",
                         "ResponseMetadata/RequestId": "rid-q"})
# DeleteSecurityGroup has an output (Return) only in newer models; Debian's
# botocore 1.29 has none, so parse with an operation whose output has Return
# in every version (the parser reads the children, not the root's name).
r = parse("ec2", "ec2", "AuthorizeSecurityGroupIngress", read("ec2_success.xml"), 200)
check("ec2 success", r, {"Return": True, "ResponseMetadata/RequestId": "req-1"})
r = parse("ec2", "ec2", "DeleteSecurityGroup", read("ec2_error.xml"), 400)
check("ec2 error", r, {"Error/Code": "InvalidGroup.NotFound",
                       "Error/Message": "The security group 'sg-1' does not exist",
                       "ResponseMetadata/RequestId": "rid-e"})
r = parse("json", "ecs", "DescribeClusters", read("json_error.json"), 400)
check("json error", r, {"Error/Code": "ClusterNotFoundException", "Error/Message": "Cluster not found."})
sys.exit(0 if ok else 1)
