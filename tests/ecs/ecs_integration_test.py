#!/usr/bin/python3
"""ECS through `berth serve` with the unmodified aws CLI (/usr/bin/aws) and boto3.

Usage: ecs_integration_test.py <path to berth> [unittest args]
"""
import base64
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import boto3
from botocore.config import Config

BERTH = None
ECS_AMI = "ami-0c9a0d5a8b4e7f312"
AL2_AMI = "ami-05c13eab67c5d8861"
ACCOUNT_RE = r"\d{12}"


class Daemon:
    """A berth daemon on its own loopback address and data dir."""

    def __init__(self):
        self.data_dir = tempfile.mkdtemp(prefix="berth-ecs-it-")
        self.address = "127.%d.%d.%d" % (random.randint(64, 250), random.randint(0, 255), random.randint(2, 250))
        self.port = 4566
        self.proc = None
        self.log = None
        self.env = {}

    def start(self):
        if self.log:
            self.log.close()
        self.log = open(os.path.join(self.data_dir, "serve.log"), "ab")
        self.proc = subprocess.Popen(
            [BERTH, "serve", "--data-dir", self.data_dir, "--bind", self.address, "--port", str(self.port)],
            stdout=self.log, stderr=self.log)
        deadline = time.time() + 15
        while time.time() < deadline:
            try:
                with urllib.request.urlopen("http://%s:%d/_berth/health" % (self.address, self.port), timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("berth did not become healthy")
        out = subprocess.run([BERTH, "env", "--data-dir", self.data_dir], check=True, capture_output=True,
                             text=True).stdout
        for line in out.splitlines():
            key, _, value = line.removeprefix("export ").partition("=")
            self.env[key] = value.strip("'\"")

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=15)
        self.proc = None

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                print("warning: berth serve ignored SIGTERM for 10 s; killing it", file=sys.stderr)
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        if self.log:
            self.log.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    @property
    def endpoint(self):
        return self.env["AWS_ENDPOINT_URL"]

    def aws(self, service, *args, check=True):
        """Runs /usr/bin/aws <service> <args>; parsed JSON, or the CompletedProcess when check=False."""
        env = dict(os.environ)
        env.update(AWS_ACCESS_KEY_ID=self.env["AWS_ACCESS_KEY_ID"],
                   AWS_SECRET_ACCESS_KEY=self.env["AWS_SECRET_ACCESS_KEY"],
                   AWS_DEFAULT_REGION=self.env["AWS_DEFAULT_REGION"], AWS_PAGER="",
                   AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        proc = subprocess.run(["/usr/bin/aws", "--endpoint-url", self.endpoint, "--output", "json", service, *args],
                              capture_output=True, text=True, env=env, timeout=120)
        if not check:
            return proc
        if proc.returncode != 0:
            raise AssertionError("aws %s %s failed (%d): %s" % (service, " ".join(args), proc.returncode, proc.stderr))
        return json.loads(proc.stdout) if proc.stdout.strip() else {}

    def ecs(self, *args, check=True):
        return self.aws("ecs", *args, check=check)

    def ec2(self, *args, check=True):
        return self.aws("ec2", *args, check=check)

    def raw_call(self, operation, payload):
        """A SigV4-signed JSON 1.1 ECS call built by hand; (HTTP status, parsed body)."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        request = AWSRequest(method="POST", url=self.endpoint + "/", data=json.dumps(payload).encode(), headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AmazonEC2ContainerServiceV20141113." + operation})
        SigV4Auth(Credentials(self.env["AWS_ACCESS_KEY_ID"], self.env["AWS_SECRET_ACCESS_KEY"]), "ecs",
                  self.env["AWS_DEFAULT_REGION"]).add_auth(request)
        prepared = request.prepare()
        req = urllib.request.Request(prepared.url, data=prepared.body, headers=dict(prepared.headers), method="POST")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def boto3(self, service):
        return boto3.client(service, endpoint_url=self.endpoint, region_name=self.env["AWS_DEFAULT_REGION"],
                            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
                            config=Config(retries={"max_attempts": 1}))


def write_json(directory, name, value):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        json.dump(value, f)
    return "file://" + path


OUTYET_TASK = {
    "family": "outyet",
    "containerDefinitions": [{
        "name": "outyet",
        "image": "outyet-image",
        "memory": 128,
        "cpu": 256,
        "essential": True,
        "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
    }],
}


class EcsIntegrationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon()
        cls.daemon.start()
        cls.ecs = cls.daemon.boto3("ecs")
        cls.files = tempfile.mkdtemp(prefix="berth-ecs-it-files-")

    @classmethod
    def tearDownClass(cls):
        cls.daemon.cleanup()
        shutil.rmtree(cls.files, ignore_errors=True)

    def cli_error(self, proc):
        self.assertNotEqual(proc.returncode, 0)
        return proc.stderr.strip()

    def test_cluster_lifecycle(self):
        c = self.daemon.ecs("create-cluster", "--cluster-name", "life",
                            "--tags", "key=team,value=web")["cluster"]
        self.assertRegex(c["clusterArn"], r"^arn:aws:ecs:us-east-1:%s:cluster/life$" % ACCOUNT_RE)
        self.assertEqual(c["status"], "ACTIVE")
        self.assertEqual(c["tags"], [{"key": "team", "value": "web"}])
        arns = self.daemon.ecs("list-clusters")["clusterArns"]
        self.assertIn(c["clusterArn"], arns)
        d = self.daemon.ecs("describe-clusters", "--clusters", "life", "nope", "--include", "TAGS")
        self.assertEqual(d["clusters"][0]["registeredContainerInstancesCount"], 0)
        self.assertEqual(d["clusters"][0]["tags"], [{"key": "team", "value": "web"}])
        self.assertEqual(d["failures"], [{"arn": c["clusterArn"].replace("life", "nope"), "reason": "MISSING"}])
        p = self.daemon.ecs("put-cluster-capacity-providers", "--cluster", "life",
                            "--capacity-providers", "FARGATE", "FARGATE_SPOT",
                            "--default-capacity-provider-strategy", "capacityProvider=FARGATE,weight=1")["cluster"]
        self.assertEqual(p["capacityProviders"], ["FARGATE", "FARGATE_SPOT"])
        gone = self.daemon.ecs("delete-cluster", "--cluster", "life")["cluster"]
        self.assertEqual(gone["status"], "INACTIVE")
        err = self.cli_error(self.daemon.ecs("delete-cluster", "--cluster", "life", check=False))
        self.assertIn("An error occurred (ClusterNotFoundException) when calling the DeleteCluster operation: "
                      "Cluster not found.", err)

    def test_cluster_pagination_with_boto3(self):
        for i in range(7):
            self.ecs.create_cluster(clusterName="page-%d" % i)
        pages = list(self.ecs.get_paginator("list_clusters").paginate(PaginationConfig={"PageSize": 3}))
        self.assertGreaterEqual(len(pages), 3)
        names = [a.rsplit("/", 1)[1] for p in pages for a in p["clusterArns"]]
        for i in range(7):
            self.assertEqual(names.count("page-%d" % i), 1)

    def test_register_task_definition_from_file(self):
        uri = write_json(self.files, "task-definition.json", OUTYET_TASK)
        r1 = self.daemon.ecs("register-task-definition", "--cli-input-json", uri)["taskDefinition"]
        r2 = self.daemon.ecs("register-task-definition", "--cli-input-json", uri)["taskDefinition"]
        self.assertEqual(r2["revision"], r1["revision"] + 1)
        self.assertRegex(r1["taskDefinitionArn"], r"^arn:aws:ecs:us-east-1:%s:task-definition/outyet:%d$" %
                         (ACCOUNT_RE, r1["revision"]))
        self.assertEqual(r1["networkMode"], "bridge")
        self.assertEqual(r1["containerDefinitions"][0]["portMappings"],
                         [{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}])
        d = self.daemon.ecs("describe-task-definition", "--task-definition", "outyet")["taskDefinition"]
        self.assertEqual(d["revision"], r2["revision"])
        self.assertIsInstance(d["registeredAt"], str)  # the CLI prints timestamps as ISO text
        dereg = self.daemon.ecs("deregister-task-definition", "--task-definition",
                                "outyet:%d" % r2["revision"])["taskDefinition"]
        self.assertEqual(dereg["status"], "INACTIVE")
        listed = self.daemon.ecs("list-task-definitions", "--family-prefix", "outyet")["taskDefinitionArns"]
        self.assertEqual(listed, [r1["taskDefinitionArn"]])
        fams = self.daemon.ecs("list-task-definition-families", "--family-prefix", "outy")["families"]
        self.assertEqual(fams, ["outyet"])
        # Debian's aws CLI and botocore predate DeleteTaskDefinitions: a hand-signed request.
        status, deleted = self.daemon.raw_call("DeleteTaskDefinitions",
                                               {"taskDefinitions": ["outyet:%d" % r2["revision"]]})
        self.assertEqual(status, 200)
        self.assertEqual(deleted["taskDefinitions"][0]["status"], "DELETE_IN_PROGRESS")

    def test_invalid_task_definitions_get_aws_texts(self):
        cases = [
            ({"family": "bad.family", "containerDefinitions": [{"name": "a", "image": "i", "memory": 64}]},
             "Family contains invalid characters."),
            ({"family": "f", "containerDefinitions": [{"name": "web", "image": "i"}]},
             "Invalid setting for container 'web'. At least one of 'memory' or 'memoryReservation' must be "
             "specified."),
            ({"family": "f", "networkMode": "awsvpc",
              "containerDefinitions": [{"name": "a", "image": "i", "memory": 64,
                                        "portMappings": [{"containerPort": 80, "hostPort": 81}]}]},
             "When networkMode=awsvpc, the host ports and container ports in port mappings must match."),
            ({"family": "f", "requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": "256",
              "memory": "4GB", "containerDefinitions": [{"name": "a", "image": "i"}]},
             "No Fargate configuration exists for given values."),
            ({"family": "f", "memory": "512",
              "containerDefinitions": [{"name": "w", "image": "i", "memory": 1024}]},
             "The 'memory' setting for container 'w' is greater than for the task."),
        ]
        for i, (td, message) in enumerate(cases):
            uri = write_json(self.files, "bad-%d.json" % i, td)
            err = self.cli_error(self.daemon.ecs("register-task-definition", "--cli-input-json", uri, check=False))
            self.assertIn("An error occurred (ClientException) when calling the RegisterTaskDefinition operation: "
                          + message, err)
        # boto3 sees the same code.
        with self.assertRaises(self.ecs.exceptions.ClientException):
            self.ecs.register_task_definition(family="f", containerDefinitions=[{"name": "x y", "image": "i",
                                                                                 "memory": 64}])

    def test_fargate_task_definition_with_size_strings(self):
        td = self.ecs.register_task_definition(
            family="fg", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="1 vCPU", memory="2 GB",
            containerDefinitions=[{"name": "a", "image": "i", "portMappings": [{"containerPort": 8080}]}],
            tags=[{"key": "k", "value": "v"}])
        self.assertEqual(td["taskDefinition"]["cpu"], "1024")
        self.assertEqual(td["taskDefinition"]["memory"], "2048")
        self.assertEqual(td["taskDefinition"]["compatibilities"], ["EC2", "FARGATE"])
        self.assertEqual(td["taskDefinition"]["containerDefinitions"][0]["portMappings"][0]["hostPort"], 8080)
        desc = self.ecs.describe_task_definition(taskDefinition="fg:1", include=["TAGS"])
        self.assertEqual(desc["tags"], [{"key": "k", "value": "v"}])


if __name__ == "__main__":
    BERTH = sys.argv.pop(1)
    unittest.main(verbosity=2)
