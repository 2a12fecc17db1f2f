#!/usr/bin/python3
"""Task definitions run as written (issue 12), through the aws CLI and boto3
against `berth serve` with real containers: volumes (a host sourcePath and a
shared Docker volume seen from two tasks, a task volume gone with its task),
volumesFrom, dependsOn (a HEALTHY dependency gating the start, a SUCCESS
dependency that fails and its stop reason), linuxParameters as the container
sees them, and a UDP echo task reached through its host port and dropped by
its security group until a UDP rule admits it; secrets from SSM Parameter
Store and Secrets Manager in the container's environment, read with the
execution role's permissions, and in no API answer, log or file.

Needs root, runc, umoci, skopeo and busybox-static (scripts/install-deps.sh);
BERTH_UDP_ECHO names the static UDP echo server built with berth.
"""
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ecs_task_fixture import TaskFixture, dump  # noqa: E402


def udp_exchange(ip, port, payload, timeout=1.0):
    """One datagram to ip:port and its answer; None when nothing comes back."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(payload, (ip, port))
        try:
            return s.recv(2048)
        except socket.timeout:
            return None


class TaskDefinitionFeatures(TaskFixture):
    def register_cli(self, family, containers, **task):
        """RegisterTaskDefinition through the aws CLI, as a user would."""
        for c in containers:
            c.setdefault("image", self.image)
            c.setdefault("stopTimeout", 2)
        request = dict(task, family=family, containerDefinitions=containers)
        request.setdefault("networkMode", "bridge")
        return self.d.aws("ecs", "register-task-definition", "--cli-input-json", json.dumps(request))["taskDefinition"]

    def run_to_end(self, cluster, family, timeout=30.0):
        arn = self.run_task(cluster, family)["tasks"][0]["taskArn"]
        return self.wait_task(cluster, arn, "STOPPED", timeout)

    def container(self, task, name):
        return next(c for c in task["containers"] if c["name"] == name)

    def output(self, task, container=None):
        args = [task["taskArn"].rsplit("/", 1)[-1]] + (["--container", container] if container else [])
        r = self.berth_logs(*args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_host_path_and_shared_docker_volume_seen_from_two_tasks(self):
        self.cluster_with_instance("volumes")
        host_dir = tempfile.mkdtemp(prefix="berth-host-volume-", dir=self.work)
        volumes = [{"name": "shared", "dockerVolumeConfiguration": {"scope": "shared", "autoprovision": True,
                                                                     "driver": "local"}},
                   {"name": "host", "host": {"sourcePath": host_dir}},
                   {"name": "scratch", "host": {}}]
        self.register_cli("writer", [{"name": "w", "memory": 16, "command": [
            "sh", "-c", "echo kept > /shared/note; echo on-host > /host/note; echo gone > /scratch/note"],
            "mountPoints": [{"sourceVolume": v, "containerPath": "/" + v} for v in ("shared", "host", "scratch")]}],
            volumes=volumes)
        self.register_cli("reader", [{"name": "r", "memory": 16, "command": [
            "sh", "-c", "cat /shared/note /host/note; ls /scratch | wc -l; touch /shared/x 2>/dev/null || echo shared-ro"],
            "mountPoints": [{"sourceVolume": "shared", "containerPath": "/shared", "readOnly": True},
                            {"sourceVolume": "host", "containerPath": "/host"},
                            {"sourceVolume": "scratch", "containerPath": "/scratch"}]}],
            volumes=volumes)
        first = self.run_to_end("volumes", "writer")
        self.assertEqual(self.container(first, "w").get("exitCode"), 0, dump(first) + self.output(first))
        with open(os.path.join(host_dir, "note")) as f:
            self.assertEqual(f.read(), "on-host\n")  # the host's own directory
        second = self.run_to_end("volumes", "reader")
        self.assertEqual(self.output(second).split("\n")[:4], ["kept", "on-host", "0", "shared-ro"],
                         self.output(second))
        self.assert_nothing_left(first["taskArn"])

    def test_missing_shared_volume_stops_the_task_with_the_agents_reason(self):
        self.cluster_with_instance("novolume")
        self.register_cli("needs-db", [{"name": "app", "memory": 16, "command": ["true"],
                                        "mountPoints": [{"sourceVolume": "db", "containerPath": "/db"}]}],
                          volumes=[{"name": "db", "dockerVolumeConfiguration": {"scope": "shared",
                                                                                 "autoprovision": False}}])
        task = self.run_to_end("novolume", "needs-db")
        self.assertEqual(task.get("stopCode"), "TaskFailedToStart", dump(task))
        self.assertIn("volume 'db' does not exist and autoprovision is set to false", task.get("stoppedReason", ""))
        self.assertTrue(task["stoppedReason"].startswith("resource cannot be initialized for task " + task["taskArn"]),
                        task["stoppedReason"])

    def test_volumes_from_after_a_complete_dependency(self):
        self.cluster_with_instance("from")
        self.register_cli("from", [
            {"name": "seed", "memory": 16, "essential": False, "command": ["sh", "-c", "echo seeded > /data/f"],
             "mountPoints": [{"sourceVolume": "data", "containerPath": "/data"}]},
            {"name": "app", "memory": 16, "command": ["sh", "-c", "cat /data/f; touch /data/g 2>/dev/null || echo ro"],
             "volumesFrom": [{"sourceContainer": "seed", "readOnly": True}],
             "dependsOn": [{"containerName": "seed", "condition": "COMPLETE"}]}],
            volumes=[{"name": "data", "host": {}}])
        task = self.run_to_end("from", "from")
        self.assertEqual(self.output(task, "app"), "seeded\nro\n", dump(task))
        self.assertEqual(self.container(task, "app").get("exitCode"), 0, dump(task))

    def test_healthy_dependency_gates_the_start(self):
        self.cluster_with_instance("healthy")
        self.register_cli("gated", [
            {"name": "db", "memory": 16, "command": ["sh", "-c", "sleep 2; touch /tmp/ready; exec sleep 600"],
             "healthCheck": {"command": ["CMD-SHELL", "test -f /tmp/ready"], "interval": 5, "timeout": 2,
                             "retries": 3, "startPeriod": 0}},
            {"name": "app", "memory": 16, "command": ["sh", "-c", "date +%s; exec sleep 600"],
             "dependsOn": [{"containerName": "db", "condition": "HEALTHY"}]}])
        arn = self.run_task("healthy", "gated")["tasks"][0]["taskArn"]
        # db runs, app waits: the task stays PENDING, app's container PENDING.
        waiting = self.wait_task("healthy", arn, None, until=lambda t: self.container(t, "db")["lastStatus"] ==
                                 "RUNNING")
        self.assertEqual(waiting["lastStatus"], "PENDING", dump(waiting))
        self.assertEqual(self.container(waiting, "app")["lastStatus"], "PENDING", dump(waiting))
        running = self.wait_task("healthy", arn, "RUNNING", timeout=30)
        self.assertEqual(running["lastStatus"], "RUNNING", dump(running))
        self.assertEqual(self.container(running, "db")["healthStatus"], "HEALTHY", dump(running))
        self.assertEqual(self.container(running, "app")["lastStatus"], "RUNNING", dump(running))
        stopped = self.stop_and_wait("healthy", arn)
        self.assertEqual(stopped["lastStatus"], "STOPPED")
        self.assert_nothing_left(arn)

    def test_failed_success_dependency_stops_the_task(self):
        self.cluster_with_instance("failing")
        self.register_cli("migrate-then-app", [
            {"name": "migrate", "memory": 16, "essential": False, "command": ["sh", "-c", "exit 3"]},
            {"name": "app", "memory": 16, "command": ["sleep", "600"],
             "dependsOn": [{"containerName": "migrate", "condition": "SUCCESS"}]}])
        task = self.run_to_end("failing", "migrate-then-app")
        self.assertEqual(task.get("stopCode"), "EssentialContainerExited", dump(task))
        self.assertEqual(task.get("stoppedReason"), "Essential container in task exited", dump(task))
        app = self.container(task, "app")
        self.assertEqual(app.get("exitCode"), 143, dump(task))
        self.assertEqual(app.get("reason"), "CannotStartContainerError: dependency graph: failed to resolve container "
                         "ordering dependency [migrate] for target [app] as dependency did not exit successfully.")
        self.assertEqual(self.container(task, "migrate").get("exitCode"), 3)

    def test_registration_refuses_what_ecs_refuses(self):
        rc, _, err = self.d.aws_result("ecs", "register-task-definition", "--cli-input-json", json.dumps({
            "family": "bad", "containerDefinitions": [{"name": "c", "image": self.image, "memory": 16,
                                                       "mountPoints": [{"sourceVolume": "nope",
                                                                        "containerPath": "/x"}]}]}))
        self.assertNotEqual(rc, 0)
        self.assertIn("(ClientException)", err)
        self.assertIn("Unknown volume 'nope'.", err)
        rc, _, err = self.d.aws_result("ecs", "register-task-definition", "--cli-input-json", json.dumps({
            "family": "bad", "containerDefinitions": [
                {"name": "init", "image": self.image, "memory": 16},
                {"name": "app", "image": self.image, "memory": 16,
                 "dependsOn": [{"containerName": "init", "condition": "SUCCESS"}]}]}))
        self.assertNotEqual(rc, 0)
        self.assertIn("A dependency container with SUCCESS or COMPLETE condition cannot be an essential container",
                      err)
        self.assertEqual(self.ecs.list_task_definitions(familyPrefix="bad")["taskDefinitionArns"], [])

    def test_linux_parameters_as_the_container_sees_them(self):
        self.cluster_with_instance("linux")
        self.register_cli("probe", [{"name": "probe", "memory": 32, "command": [
            "sh", "-c", "grep CapEff /proc/self/status; grep ' /scratch ' /proc/mounts; "
                        "echo shm=$(grep ' /dev/shm ' /proc/mounts | grep -o 'size=[0-9]*k'); "
                        "echo somaxconn=$(cat /proc/sys/net/core/somaxconn); grep db.internal /etc/hosts; "
                        "echo pid1=$(tr '\\0' ' ' < /proc/1/cmdline)"],
            "linuxParameters": {"capabilities": {"add": ["NET_ADMIN"], "drop": ["CHOWN"]},
                                "tmpfs": [{"containerPath": "/scratch", "size": 8}],
                                "sharedMemorySize": 128, "initProcessEnabled": True},
            "systemControls": [{"namespace": "net.core.somaxconn", "value": "512"}],
            "extraHosts": [{"hostname": "db.internal", "ipAddress": "10.1.2.3"}]}])
        task = self.run_to_end("linux", "probe")
        out = self.output(task)
        eff = int(out.split("CapEff:")[1].split()[0], 16)
        self.assertTrue(eff & (1 << 12), out)       # CAP_NET_ADMIN added
        self.assertFalse(eff & (1 << 0), out)       # CAP_CHOWN dropped
        self.assertFalse(eff & (1 << 21), out)      # no CAP_SYS_ADMIN
        self.assertIn("tmpfs /scratch tmpfs rw,nosuid,nodev,noexec", out)
        self.assertIn("size=8192k", out)
        self.assertIn("shm=size=131072k", out)
        self.assertIn("somaxconn=512", out)
        self.assertIn("10.1.2.3\tdb.internal", out)
        self.assertIn("pid1=/sbin/docker-init -- sh -c", out)

    def test_udp_echo_through_its_host_port_and_its_security_group(self):
        echo = os.environ.get("BERTH_UDP_ECHO")
        self.assertTrue(echo and os.path.exists(echo), "BERTH_UDP_ECHO names no file: %r" % echo)
        group = self.ec2.create_security_group(GroupName="udp-%d" % os.getpid(), Description="udp",
                                               VpcId=self.vpc_id)["GroupId"]
        _, instance = self.cluster_with_instance("udp", groups=[group])
        tools = os.path.dirname(echo)
        self.register_cli("udp-echo", [{"name": "echo", "memory": 16,
                                        "command": ["/tools/" + os.path.basename(echo), "5353"],
                                        "mountPoints": [{"sourceVolume": "tools", "containerPath": "/tools",
                                                         "readOnly": True}],
                                        "portMappings": [{"containerPort": 5353, "hostPort": 0,
                                                          "protocol": "udp"}]}],
                          volumes=[{"name": "tools", "host": {"sourcePath": tools}}])
        arn = self.run_task("udp", "udp-echo")["tasks"][0]["taskArn"]
        task = self.wait_task("udp", arn, "RUNNING")
        bindings = self.container(task, "echo")["networkBindings"]
        self.assertEqual(len(bindings), 1, dump(task))
        self.assertEqual(bindings[0]["protocol"], "udp")
        self.assertEqual(bindings[0]["containerPort"], 5353)
        port = bindings[0]["hostPort"]
        ip = instance["PublicIpAddress"]
        self.assertIsNone(udp_exchange(ip, port, b"ping", 0.5), "answered without a UDP rule")
        self.ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        self.assertIsNone(udp_exchange(ip, port, b"ping", 0.5), "a TCP rule admitted UDP")
        self.ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{
            "IpProtocol": "udp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        answer = None
        deadline = time.monotonic() + 10
        while answer is None and time.monotonic() < deadline:  # the group change takes effect within a moment
            answer = udp_exchange(ip, port, b"ping", 0.3)
        self.assertEqual(answer, b"echo:ping")
        self.stop_and_wait("udp", arn)
        self.assert_nothing_left(arn)

    # ---- secrets ----

    def execution_role(self, name, allow):
        """An execution role; `allow` lists the actions its inline policy grants (none: no policy)."""
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                         "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]}
        arn = self.d.aws("iam", "create-role", "--role-name", name, "--assume-role-policy-document",
                         json.dumps(trust))["Role"]["Arn"]
        if allow:
            self.d.aws("iam", "put-role-policy", "--role-name", name, "--policy-name", "secrets", "--policy-document",
                       json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": allow,
                                                                            "Resource": "*"}]}))
        return arn

    def test_secrets_from_both_stores_reach_the_environment_and_nothing_else(self):
        self.cluster_with_instance("secrets")
        password, token = "pw-%s" % uuid.uuid4().hex, "tok-%s" % uuid.uuid4().hex
        self.d.aws("ssm", "put-parameter", "--name", "/app/db/password", "--type", "SecureString",
                   "--value", password)
        secret_arn = self.d.aws("secretsmanager", "create-secret", "--name", "app/api",
                                "--secret-string", json.dumps({"token": token, "user": "app"}))["ARN"]
        role = self.execution_role("app-exec", ["ssm:GetParameters", "secretsmanager:GetSecretValue"])
        # The container shows digests of what it got: the values are in no command line.
        self.register_cli("with-secrets", [{"name": "app", "memory": 16, "command": [
            "sh", "-c", 'printf %s "$DB_PASSWORD" | md5sum; printf %s "$API_TOKEN" | md5sum'],
            "secrets": [{"name": "DB_PASSWORD", "valueFrom": "/app/db/password"},
                        {"name": "API_TOKEN", "valueFrom": secret_arn + ":token::"}]}],
            executionRoleArn=role)
        task = self.run_to_end("secrets", "with-secrets")
        self.assertEqual(self.container(task, "app").get("exitCode"), 0, dump(task))
        out = self.output(task)
        self.assertEqual(out.split(), [hashlib.md5(password.encode()).hexdigest(), "-",
                                       hashlib.md5(token.encode()).hexdigest(), "-"], out)
        # Absent from every API answer, the daemon's log and the data dir.
        answers = json.dumps(self.ecs.describe_tasks(cluster="secrets", tasks=[task["taskArn"]]), default=str)
        answers += json.dumps(self.ecs.describe_task_definition(taskDefinition="with-secrets"), default=str)
        answers += json.dumps(self.d.aws("ecs", "describe-tasks", "--cluster", "secrets", "--tasks", task["taskArn"]))
        for value in (password, token):
            self.assertNotIn(value, answers)
            self.assertNotIn(value, self.d.log())
            found = subprocess.run(["grep", "-rl", "--binary-files=text", value, self.d.data_dir],
                                   capture_output=True, text=True)
            self.assertEqual(found.stdout, "", "the value is in these files")

    def test_missing_or_forbidden_secret_stops_the_task_with_the_agents_reason(self):
        self.cluster_with_instance("nosecret")
        allowed = self.execution_role("exec-allowed", ["ssm:GetParameters", "secretsmanager:GetSecretValue"])
        forbidden = self.execution_role("exec-forbidden", [])
        self.d.aws("ssm", "put-parameter", "--name", "/present", "--type", "String", "--value", "v")
        self.register_cli("missing", [{"name": "app", "memory": 16, "command": ["true"],
                                       "secrets": [{"name": "X", "valueFrom": "/not/there"}]}],
                          executionRoleArn=allowed)
        self.register_cli("forbidden", [{"name": "app", "memory": 16, "command": ["true"],
                                         "secrets": [{"name": "X", "valueFrom": "/present"}]}],
                          executionRoleArn=forbidden)
        prefix = ("ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
                  "retrieval failed: unable to retrieve secrets from ssm: service call has been retried 1 time(s): ")
        missing = self.run_to_end("nosecret", "missing")
        self.assertEqual(missing.get("stopCode"), "TaskFailedToStart", dump(missing))
        self.assertEqual(missing.get("stoppedReason"), prefix + "invalid parameters: /not/there")
        forbidden_task = self.run_to_end("nosecret", "forbidden")
        self.assertEqual(forbidden_task.get("stopCode"), "TaskFailedToStart", dump(forbidden_task))
        self.assertTrue(forbidden_task["stoppedReason"].startswith(prefix + "AccessDeniedException: User: "),
                        forbidden_task["stoppedReason"])
        self.assertIn("is not authorized to perform: ssm:GetParameters", forbidden_task["stoppedReason"])
        self.assert_nothing_left(missing["taskArn"])


if __name__ == "__main__":
    unittest.main()
