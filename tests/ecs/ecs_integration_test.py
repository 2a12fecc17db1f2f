#!/usr/bin/python3
"""ECS through `berth serve` with the unmodified aws CLI (/usr/bin/aws) and boto3.

Usage: BERTH_BIN=<path to berth> ecs_integration_test.py [unittest args]
"""
import json
import os
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from berth_harness import Daemon, call_json  # noqa: E402

ECS_AMI = "ami-0c9a0d5a8b4e7f312"
AL2_AMI = "ami-05c13eab67c5d8861"
ACCOUNT_RE = r"\d{12}"


def ecs_call(daemon, operation, payload):
    """An ECS JSON 1.1 call signed by hand, so any payload gets through; (HTTP status, parsed body)."""
    status, body, _ = call_json(daemon, "AmazonEC2ContainerServiceV20141113." + operation, json.dumps(payload))
    return status, json.loads(body)


def api_only_daemon():
    """API and placement only: without the task runtime, placed tasks stay
    PENDING (ecs_run_task_test.py runs them)."""
    return Daemon(env={"BERTH_TASK_RUNTIME": "none"})


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
        cls.daemon = api_only_daemon()
        cls.daemon.start()
        cls.ecs = cls.daemon.client("ecs")
        cls.files = tempfile.mkdtemp(prefix="berth-ecs-it-files-")

    @classmethod
    def tearDownClass(cls):
        cls.daemon.cleanup()
        shutil.rmtree(cls.files, ignore_errors=True)

    def cli_error(self, *args):
        rc, out, err = self.daemon.aws_result(*args)
        self.assertNotEqual(rc, 0, out)
        return err.strip()

    def test_cluster_lifecycle(self):
        c = self.daemon.aws("ecs", "create-cluster", "--cluster-name", "life",
                            "--tags", "key=team,value=web")["cluster"]
        self.assertRegex(c["clusterArn"], r"^arn:aws:ecs:us-east-1:%s:cluster/life$" % ACCOUNT_RE)
        self.assertEqual(c["status"], "ACTIVE")
        self.assertEqual(c["tags"], [{"key": "team", "value": "web"}])
        arns = self.daemon.aws("ecs", "list-clusters")["clusterArns"]
        self.assertIn(c["clusterArn"], arns)
        d = self.daemon.aws("ecs", "describe-clusters", "--clusters", "life", "nope", "--include", "TAGS")
        self.assertEqual(d["clusters"][0]["registeredContainerInstancesCount"], 0)
        self.assertEqual(d["clusters"][0]["tags"], [{"key": "team", "value": "web"}])
        self.assertEqual(d["failures"], [{"arn": c["clusterArn"].replace("life", "nope"), "reason": "MISSING"}])
        p = self.daemon.aws("ecs", "put-cluster-capacity-providers", "--cluster", "life",
                            "--capacity-providers", "FARGATE", "FARGATE_SPOT",
                            "--default-capacity-provider-strategy", "capacityProvider=FARGATE,weight=1")["cluster"]
        self.assertEqual(p["capacityProviders"], ["FARGATE", "FARGATE_SPOT"])
        gone = self.daemon.aws("ecs", "delete-cluster", "--cluster", "life")["cluster"]
        self.assertEqual(gone["status"], "INACTIVE")
        err = self.cli_error("ecs", "delete-cluster", "--cluster", "life")
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
        r1 = self.daemon.aws("ecs", "register-task-definition", "--cli-input-json", uri)["taskDefinition"]
        r2 = self.daemon.aws("ecs", "register-task-definition", "--cli-input-json", uri)["taskDefinition"]
        self.assertEqual(r2["revision"], r1["revision"] + 1)
        self.assertRegex(r1["taskDefinitionArn"], r"^arn:aws:ecs:us-east-1:%s:task-definition/outyet:%d$" %
                         (ACCOUNT_RE, r1["revision"]))
        self.assertEqual(r1["networkMode"], "bridge")
        self.assertEqual(r1["containerDefinitions"][0]["portMappings"],
                         [{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}])
        d = self.daemon.aws("ecs", "describe-task-definition", "--task-definition", "outyet")["taskDefinition"]
        self.assertEqual(d["revision"], r2["revision"])
        self.assertIsInstance(d["registeredAt"], str)  # the CLI prints timestamps as ISO text
        dereg = self.daemon.aws("ecs", "deregister-task-definition", "--task-definition",
                                "outyet:%d" % r2["revision"])["taskDefinition"]
        self.assertEqual(dereg["status"], "INACTIVE")
        listed = self.daemon.aws("ecs", "list-task-definitions", "--family-prefix", "outyet")["taskDefinitionArns"]
        self.assertEqual(listed, [r1["taskDefinitionArn"]])
        fams = self.daemon.aws("ecs", "list-task-definition-families", "--family-prefix", "outy")["families"]
        self.assertEqual(fams, ["outyet"])
        # Debian's aws CLI and botocore predate DeleteTaskDefinitions: a hand-signed request.
        status, deleted = ecs_call(self.daemon, "DeleteTaskDefinitions",
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
            err = self.cli_error("ecs", "register-task-definition", "--cli-input-json", uri)
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

    def wait_for_instances(self, cluster, n, timeout=5.0):
        """Polls list-container-instances until n are there; returns (arns, seconds waited)."""
        start = time.time()
        while True:
            arns = self.ecs.list_container_instances(cluster=cluster)["containerInstanceArns"]
            if len(arns) >= n or time.time() - start > timeout:
                return arns, time.time() - start
            time.sleep(0.1)

    def test_container_instances_from_run_instances(self):
        self.daemon.aws("ecs", "create-cluster", "--cluster-name", "cap")
        run = self.daemon.aws("ec2", "run-instances", "--image-id", ECS_AMI, "--instance-type", "t2.micro",
                              "--user-data", "#!/bin/bash\necho ECS_CLUSTER=cap >> /etc/ecs/ecs.config")
        instance_id = run["Instances"][0]["InstanceId"]
        # A plain AL2 instance has no agent: it never registers.
        self.daemon.aws("ec2", "run-instances", "--image-id", AL2_AMI, "--instance-type", "t2.micro",
                        "--user-data", "ECS_CLUSTER=cap")
        arns, waited = self.wait_for_instances("cap", 1)
        self.assertEqual(len(arns), 1, "no container instance within 5 s")
        self.assertLess(waited, 5.0)
        time.sleep(1.5)
        self.assertEqual(len(self.ecs.list_container_instances(cluster="cap")["containerInstanceArns"]), 1)
        self.assertRegex(arns[0], r"^arn:aws:ecs:us-east-1:%s:container-instance/cap/[0-9a-f]{32}$" % ACCOUNT_RE)
        ci = self.daemon.aws("ecs", "describe-container-instances", "--cluster", "cap",
                             "--container-instances", arns[0])["containerInstances"][0]
        self.assertEqual(ci["ec2InstanceId"], instance_id)
        self.assertEqual(ci["status"], "ACTIVE")
        self.assertTrue(ci["agentConnected"])
        registered = {r["name"]: r for r in ci["registeredResources"]}
        self.assertEqual(registered["CPU"]["integerValue"], 1024)
        self.assertEqual(registered["MEMORY"]["integerValue"], 993)
        self.assertEqual(sorted(registered["PORTS"]["stringSetValue"]), ["22", "2375", "2376", "51678", "51679"])
        self.assertEqual(registered["PORTS_UDP"]["stringSetValue"], [])
        attributes = {a["name"]: a.get("value") for a in ci["attributes"]}
        self.assertEqual(attributes["ecs.instance-type"], "t2.micro")
        self.assertEqual(attributes["ecs.ami-id"], ECS_AMI)
        self.assertEqual(attributes["ecs.os-type"], "linux")
        self.assertEqual(attributes["ecs.availability-zone"], run["Instances"][0]["Placement"]["AvailabilityZone"])
        self.assertIn("com.amazonaws.ecs.capability.docker-remote-api.1.18", attributes)
        cluster = self.daemon.aws("ecs", "describe-clusters", "--clusters", "cap")["clusters"][0]
        self.assertEqual(cluster["registeredContainerInstancesCount"], 1)

        # Teardown out of order gives AWS's errors; in order it works.
        err = self.cli_error("ecs", "delete-cluster", "--cluster", "cap")
        self.assertIn("(ClusterContainsContainerInstancesException) when calling the DeleteCluster operation: "
                      "The Cluster cannot be deleted while Container Instances are active or draining.", err)
        self.daemon.aws("ec2", "terminate-instances", "--instance-ids", instance_id)
        deadline = time.time() + 5
        while self.ecs.list_container_instances(cluster="cap")["containerInstanceArns"] and time.time() < deadline:
            time.sleep(0.1)
        self.assertEqual(self.ecs.list_container_instances(cluster="cap")["containerInstanceArns"], [])
        gone = self.ecs.describe_container_instances(cluster="cap", containerInstances=arns)["containerInstances"][0]
        self.assertEqual(gone["status"], "INACTIVE")
        self.assertFalse(gone["agentConnected"])
        self.assertEqual(self.daemon.aws("ecs", "delete-cluster", "--cluster", "cap")["cluster"]["status"], "INACTIVE")

    def test_run_task_placement_and_teardown(self):
        self.ecs.create_cluster(clusterName="run")
        err = self.cli_error("ecs", "run-task", "--cluster", "run", "--task-definition", "never-registered")
        self.assertIn("TaskDefinition not found.", err)
        td = json.loads(json.dumps(OUTYET_TASK))
        td["family"] = "outyet-run"
        td["containerDefinitions"][0]["cpu"] = 64
        uri = write_json(self.files, "outyet-run.json", td)
        self.daemon.aws("ecs", "register-task-definition", "--cli-input-json", uri)
        err = self.cli_error("ecs", "run-task", "--cluster", "run", "--task-definition", "outyet-run")
        self.assertIn("(InvalidParameterException) when calling the RunTask operation: No Container Instances "
                      "were found in your cluster.", err)
        run = self.daemon.aws("ec2", "run-instances", "--image-id", ECS_AMI, "--instance-type", "t2.micro",
                              "--user-data", "ECS_CLUSTER=run")
        instance_id = run["Instances"][0]["InstanceId"]
        arns, _ = self.wait_for_instances("run", 1)
        self.assertEqual(len(arns), 1)
        # 993 MiB: seven tasks of 128 fit, the eighth does not.
        placed = self.daemon.aws("ecs", "run-task", "--cluster", "run", "--task-definition", "outyet-run", "--count", "7")
        self.assertEqual(len(placed["tasks"]), 7)
        self.assertEqual(placed["failures"], [])
        self.assertEqual({t["lastStatus"] for t in placed["tasks"]}, {"PENDING"})
        full = self.daemon.aws("ecs", "run-task", "--cluster", "run", "--task-definition", "outyet-run")
        self.assertEqual(full["tasks"], [])
        self.assertEqual(full["failures"], [{"arn": arns[0], "reason": "RESOURCE:MEMORY"}])
        ci = self.ecs.describe_container_instances(cluster="run", containerInstances=arns)["containerInstances"][0]
        remaining = {r["name"]: r for r in ci["remainingResources"]}
        self.assertEqual(remaining["MEMORY"]["integerValue"], 993 - 7 * 128)
        self.assertEqual(remaining["CPU"]["integerValue"], 1024 - 7 * 64)
        self.assertEqual(ci["pendingTasksCount"], 7)
        listed = self.daemon.aws("ecs", "list-tasks", "--cluster", "run")["taskArns"]
        self.assertEqual(sorted(listed), sorted(t["taskArn"] for t in placed["tasks"]))
        described = self.daemon.aws("ecs", "describe-tasks", "--cluster", "run", "--tasks", listed[0])["tasks"][0]
        self.assertEqual(described["desiredStatus"], "RUNNING")
        self.assertEqual(described["containerInstanceArn"], arns[0])

        stopped = self.daemon.aws("ecs", "stop-task", "--cluster", "run", "--task", listed[0], "--reason", "done")["task"]
        self.assertEqual(stopped["desiredStatus"], "STOPPED")
        self.assertEqual(stopped["stoppedReason"], "done")
        self.assertEqual(stopped["stopCode"], "UserInitiated")
        self.daemon.aws("ec2", "terminate-instances", "--instance-ids", instance_id)
        deadline = time.time() + 5
        while self.ecs.list_tasks(cluster="run")["taskArns"] and time.time() < deadline:
            time.sleep(0.1)
        self.assertEqual(self.ecs.list_tasks(cluster="run")["taskArns"], [])
        reasons = {t["stoppedReason"] for t in self.ecs.describe_tasks(cluster="run", tasks=listed[1:])["tasks"]}
        self.assertEqual(reasons, {"Host EC2 (instance %s) terminated." % instance_id})
        self.assertEqual(self.ecs.delete_cluster(cluster="run")["cluster"]["status"], "INACTIVE")

    def test_wrongly_typed_input_is_a_400_never_a_500(self):
        """Every top-level member (and every container definition member) replaced by every JSON type."""
        self.ecs.create_cluster(clusterName="fuzz")
        self.ecs.register_task_definition(family="fuzz", containerDefinitions=[
            {"name": "a", "image": "i", "memory": 64, "portMappings": [{"containerPort": 80}]}])
        samples = {
            "CreateCluster": {"clusterName": "fuzz2", "tags": [{"key": "k", "value": "v"}],
                              "settings": [{"name": "containerInsights", "value": "enabled"}],
                              "capacityProviders": ["FARGATE"],
                              "defaultCapacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1}]},
            "DescribeClusters": {"clusters": ["fuzz"], "include": ["TAGS"]},
            "ListClusters": {"maxResults": 5, "nextToken": "b1.0"},
            "UpdateCluster": {"cluster": "fuzz", "settings": [{"name": "containerInsights", "value": "enabled"}]},
            "PutClusterCapacityProviders": {"cluster": "fuzz", "capacityProviders": ["FARGATE"],
                                            "defaultCapacityProviderStrategy": []},
            "RegisterTaskDefinition": {"family": "fuzz", "networkMode": "bridge", "cpu": "256", "memory": "512",
                                       "requiresCompatibilities": ["EC2"], "placementConstraints": [],
                                       "volumes": [], "tags": [{"key": "k", "value": "v"}],
                                       "containerDefinitions": [{
                                           "name": "a", "image": "i", "memory": 64, "memoryReservation": 32,
                                           "cpu": 10, "essential": True, "command": ["x"],
                                           "environment": [{"name": "A", "value": "1"}],
                                           "portMappings": [{"containerPort": 80, "hostPort": 0}],
                                           "healthCheck": {"command": ["CMD", "true"], "interval": 10}}]},
            "DescribeTaskDefinition": {"taskDefinition": "fuzz", "include": ["TAGS"]},
            "ListTaskDefinitions": {"familyPrefix": "fuzz", "status": "ACTIVE", "sort": "DESC", "maxResults": 2},
            "ListTaskDefinitionFamilies": {"familyPrefix": "f", "status": "ALL"},
            "DeregisterTaskDefinition": {"taskDefinition": "fuzz:1"},
            "TagResource": {"resourceArn": "arn:aws:ecs:us-east-1:000000000000:cluster/fuzz",
                            "tags": [{"key": "k", "value": "v"}]},
            "ListContainerInstances": {"cluster": "fuzz", "filter": "attribute:ecs.os-type == linux",
                                       "status": "ACTIVE", "maxResults": 3},
            "DescribeContainerInstances": {"cluster": "fuzz", "containerInstances": ["x"], "include": ["TAGS"]},
            "UpdateContainerInstancesState": {"cluster": "fuzz", "containerInstances": ["x"], "status": "DRAINING"},
            "DeregisterContainerInstance": {"cluster": "fuzz", "containerInstance": "x", "force": True},
            "RunTask": {"cluster": "fuzz", "taskDefinition": "fuzz", "count": 1, "startedBy": "me", "group": "g",
                        "overrides": {"containerOverrides": [{"name": "a", "memory": 32, "command": ["y"]}]},
                        "placementConstraints": [{"type": "distinctInstance"}],
                        "placementStrategy": [{"type": "binpack", "field": "memory"}],
                        "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"]}},
                        "tags": [{"key": "k", "value": "v"}]},
            "StartTask": {"cluster": "fuzz", "taskDefinition": "fuzz", "containerInstances": ["x"]},
            "StopTask": {"cluster": "fuzz", "task": "x", "reason": "r"},
            "DescribeTasks": {"cluster": "fuzz", "tasks": ["x"], "include": ["TAGS"]},
            "ListTasks": {"cluster": "fuzz", "family": "fuzz", "desiredStatus": "RUNNING", "maxResults": 2},
        }
        values = [None, 7, -1, 2 ** 63, "x", "", True, [], [7], [None], ["x"], [{}], {}, {"a": 1}]
        problems = []
        for op, sample in samples.items():
            variants = []
            for key in sample:
                for v in values:
                    variants.append(dict(sample, **{key: v}))
            if op == "RegisterTaskDefinition":
                container = sample["containerDefinitions"][0]
                for key in container:
                    for v in values:
                        variants.append(dict(sample, containerDefinitions=[dict(container, **{key: v})]))
            if op == "RunTask":
                override = sample["overrides"]["containerOverrides"][0]
                for key in ["memory", "cpu", "memoryReservation", "command", "environment"]:
                    for v in values:
                        variants.append(dict(sample, overrides={"containerOverrides": [dict(override, **{key: v})]}))
                for key in ["cpu", "memory"]:
                    for v in values:
                        variants.append(dict(sample, overrides={key: v}))
            # One level down: members of objects, and of the first object of lists.
            for key, value in sample.items():
                inner = value[0] if isinstance(value, list) and value and isinstance(value[0], dict) else value
                if not isinstance(inner, dict):
                    continue
                for k2 in inner:
                    for v in values:
                        changed = dict(inner, **{k2: v})
                        variants.append(dict(sample, **{key: [changed] if isinstance(value, list) else changed}))
            container = sample.get("containerDefinitions", [{}])[0]
            for key in ("portMappings", "healthCheck", "environment"):
                if key not in container:
                    continue
                inner = container[key][0] if isinstance(container[key], list) else container[key]
                for k2 in inner:
                    for v in values:
                        changed = dict(inner, **{k2: v})
                        variants.append(dict(sample, containerDefinitions=[
                            dict(container, **{key: [changed] if isinstance(container[key], list) else changed})]))
            for payload in variants:
                status, answer = ecs_call(self.daemon, op, payload)
                if status not in (200, 400) or (status == 400 and "__type" not in answer):
                    problems.append((op, payload, status, answer))
        self.assertEqual(problems[:5], [], "%d problems" % len(problems))

    def test_registration_survives_sigkill(self):
        daemon = api_only_daemon()
        daemon.start()
        try:
            daemon.aws("ecs", "create-cluster", "--cluster-name", "k")
            daemon.aws("ec2", "run-instances", "--image-id", ECS_AMI, "--instance-type", "t3.small", "--user-data",
                       "ECS_CLUSTER=k")
            ecs = daemon.client("ecs")
            deadline = time.time() + 5
            while not ecs.list_container_instances(cluster="k")["containerInstanceArns"] and time.time() < deadline:
                time.sleep(0.1)
            before = ecs.list_container_instances(cluster="k")["containerInstanceArns"]
            self.assertEqual(len(before), 1)
            daemon.kill()
            daemon.start()
            time.sleep(1.5)
            after = daemon.client("ecs").list_container_instances(cluster="k")["containerInstanceArns"]
            self.assertEqual(after, before)  # neither lost nor registered twice
        finally:
            daemon.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
