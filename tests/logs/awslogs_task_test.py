#!/usr/bin/env python3
"""Tasks with the awslogs log driver, read back with the aws CLI as on AWS:
a container's output in CloudWatch Logs (get-log-events, filter-log-events,
tail --follow), the stream named prefix/container/task, awslogs-create-group,
a missing group stopping the task with the agent's reason on EC2 and
Fargate's on FARGATE, and a daemon killed with SIGKILL while a container
writes: after the restart every line is there exactly once."""
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from ecs_task_fixture import TaskFixture  # noqa: E402

AWS = os.environ.get("BERTH_TEST_AWS", "/usr/bin/aws")


class AwslogsTaskTest(TaskFixture):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.logs = cls.d.client("logs")

    def awslogs(self, group, prefix="ecs", **options):
        config = {"awslogs-group": group, "awslogs-region": "us-east-1"}
        if prefix:
            config["awslogs-stream-prefix"] = prefix
        config.update(options)
        return {"logDriver": "awslogs", "options": config}

    def events(self, group, stream):
        out = self.d.aws("logs", "get-log-events", "--log-group-name", group, "--log-stream-name", stream,
                         "--start-from-head")
        return [e["message"] for e in out["events"]]

    def wait_events(self, group, stream, count, timeout=20.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                got = self.events(group, stream)
            except AssertionError:  # the stream may not be there yet
                got = []
            if len(got) >= count or time.monotonic() > deadline:
                return got
            time.sleep(0.2)

    def test_output_reaches_cloudwatch_logs_as_on_aws(self):
        self.cluster_with_instance("awslogs")
        self.d.aws("logs", "create-log-group", "--log-group-name", "/ecs/printer")
        self.register("printer", [{
            "name": "app", "memory": 64,
            "command": ["/bin/sh", "-c", "for i in 1 2 3; do echo line $i; done; echo oops >&2; echo "
                        "'{\"level\":\"error\",\"code\":7}'; sleep 600"],
            "logConfiguration": self.awslogs("/ecs/printer")}])
        arn = self.run_task("awslogs", "printer")["tasks"][0]["taskArn"]
        task_id = arn.rsplit("/", 1)[-1]
        self.wait_task("awslogs", arn, "RUNNING")
        stream = "ecs/app/" + task_id  # prefix/container-name/task-id
        streams = self.d.aws("logs", "describe-log-streams", "--log-group-name", "/ecs/printer")["logStreams"]
        self.assertEqual([s["logStreamName"] for s in streams], [stream])
        got = self.wait_events("/ecs/printer", stream, 5)
        self.assertEqual(got, ["line 1", "line 2", "line 3", "oops", '{"level":"error","code":7}'],
                         "stdout and stderr, one event per line, newline removed\n" + self.d.log()[-2000:])

        # filter-log-events with a term, and with a JSON pattern.
        found = self.d.aws("logs", "filter-log-events", "--log-group-name", "/ecs/printer",
                           "--filter-pattern", "line")["events"]
        self.assertEqual([e["message"] for e in found], ["line 1", "line 2", "line 3"])
        self.assertEqual({e["logStreamName"] for e in found}, {stream})
        found = self.d.aws("logs", "filter-log-events", "--log-group-name", "/ecs/printer",
                           "--filter-pattern", '{ $.code = 7 }')["events"]
        self.assertEqual([e["message"] for e in found], ['{"level":"error","code":7}'])

        # berth logs still reads the same output.
        berth = subprocess.run([os.environ["BERTH_BIN"], "logs", task_id, "--data-dir", self.d.data_dir],
                               capture_output=True, text=True, timeout=30)
        self.assertIn("line 3", berth.stdout, berth.stderr)

        if self.tail_follow_supported():
            # aws logs tail --follow (CLI v2) sees a line written after it started.
            tail = subprocess.Popen([AWS, "logs", "tail", "/ecs/printer", "--follow", "--since", "5m",
                                     "--endpoint-url", self.d.endpoint], env=self.d.aws_env(),
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                self.ecs.stop_task(cluster="awslogs", task=arn, reason="to see the follow")
                time.sleep(0.5)
                self.register("printer", [{
                    "name": "app", "memory": 64, "command": ["/bin/sh", "-c", "echo late arrival; sleep 600"],
                    "logConfiguration": self.awslogs("/ecs/printer")}])
                late = self.run_task("awslogs", "printer")["tasks"][0]["taskArn"]
                self.wait_task("awslogs", late, "RUNNING")
                seen = ""
                deadline = time.monotonic() + 30
                os.set_blocking(tail.stdout.fileno(), False)
                while "late arrival" not in seen and time.monotonic() < deadline:
                    chunk = tail.stdout.read()  # bytes; None when nothing is ready
                    if chunk:
                        seen += chunk.decode(errors="replace")
                    time.sleep(0.2)
                self.assertIn("late arrival", seen, "tail --follow: " + seen[-2000:])
                self.assertIn("line 1", seen, "--since 5m shows the earlier task's lines too")
            finally:
                tail.kill()
                tail.communicate(timeout=10)
            self.stop_and_wait("awslogs", late)
        else:
            self.stop_and_wait("awslogs", arn)

    def tail_follow_supported(self):
        help_text = subprocess.run([AWS, "logs", "tail", "help"], capture_output=True, text=True,
                                   env=dict(os.environ, PAGER="cat"))
        return help_text.returncode == 0

    def test_a_missing_group_stops_the_task_with_the_agents_reason(self):
        self.cluster_with_instance("nogroup")
        self.register("lost", [{"name": "app", "memory": 64, "command": ["/bin/sh", "-c", "echo hi; sleep 600"],
                                "logConfiguration": self.awslogs("/ecs/nowhere")}])
        arn = self.run_task("nogroup", "lost")["tasks"][0]["taskArn"]
        task = self.wait_task("nogroup", arn, "STOPPED")
        self.assertEqual(task["lastStatus"], "STOPPED", json.dumps(task, default=str))
        self.assertEqual(task["stopCode"], "TaskFailedToStart")
        reason = ("CannotStartContainerError: Error response from daemon: failed to initialize logging driver: "
                  "failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group "
                  "does not exist.")
        self.assertEqual(task["stoppedReason"], reason)
        self.assertEqual(task["containers"][0]["reason"], reason)
        self.assertEqual(self.leftovers(arn), [])

    def test_fargate_says_it_in_its_own_words(self):
        self.ecs.create_cluster(clusterName="fargate-logs")
        role = self.d.aws("iam", "create-role", "--role-name", "awslogsExecution", "--assume-role-policy-document",
                          json.dumps({"Version": "2012-10-17", "Statement": [{
                              "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                              "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
        self.register("lost-fargate", [{"name": "app", "command": ["/bin/sh", "-c", "sleep 600"],
                                        "logConfiguration": self.awslogs("/ecs/nowhere")}],
                      network_mode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
                      executionRoleArn=role)
        arn = self.run_task("fargate-logs", "lost-fargate", launchType="FARGATE", networkConfiguration={
            "awsvpcConfiguration": {"subnets": [self.subnet["SubnetId"]], "assignPublicIp": "ENABLED"}})[
            "tasks"][0]["taskArn"]
        task = self.wait_task("fargate-logs", arn, "STOPPED")
        self.assertEqual(task["stoppedReason"],
                         "ResourceInitializationError: failed to validate logger args: create stream has been "
                         "retried 1 times: failed to create Cloudwatch log stream: ResourceNotFoundException: The "
                         "specified log group does not exist. : exit status 1")

    def test_create_group_and_a_stream_without_prefix(self):
        self.cluster_with_instance("creategroup")
        self.register("maker", [{"name": "app", "memory": 64, "command": ["/bin/sh", "-c", "echo made; sleep 600"],
                                 "logConfiguration": self.awslogs("/ecs/made-for-me", prefix=None,
                                                                  **{"awslogs-create-group": "true"})}])
        arn = self.run_task("creategroup", "maker")["tasks"][0]["taskArn"]
        task = self.wait_task("creategroup", arn, "RUNNING")
        self.assertEqual(task["lastStatus"], "RUNNING", json.dumps(task, default=str))
        groups = self.d.aws("logs", "describe-log-groups", "--log-group-name-prefix", "/ecs/made")["logGroups"]
        self.assertEqual([g["logGroupName"] for g in groups], ["/ecs/made-for-me"])
        # Without a prefix the stream is named after the container's id (runtimeId).
        stream = task["containers"][0]["runtimeId"]
        self.assertEqual(self.wait_events("/ecs/made-for-me", stream, 1), ["made"])
        self.stop_and_wait("creategroup", arn)

    def test_a_daemon_killed_while_a_container_writes_loses_and_repeats_nothing(self):
        self.cluster_with_instance("crash")
        self.d.aws("logs", "create-log-group", "--log-group-name", "/ecs/counter")
        # 3000 numbered lines over about 3 s, then idle.
        self.register("counter", [{
            "name": "app", "memory": 64,
            "command": ["/bin/sh", "-c", "i=0; while [ $i -lt 3000 ]; do echo n$i; i=$((i+1)); "
                        "[ $((i % 100)) -eq 0 ] && sleep 0.1; done; sleep 600"],
            "logConfiguration": self.awslogs("/ecs/counter", mode="blocking")}])
        arn = self.run_task("crash", "counter")["tasks"][0]["taskArn"]
        stream = "ecs/app/" + arn.rsplit("/", 1)[-1]
        self.wait_task("crash", arn, "RUNNING")
        # Killed while lines are being shipped.
        self.wait_events("/ecs/counter", stream, 300)
        self.d.kill()
        time.sleep(1)  # the container writes on meanwhile
        self.d.start()
        got = self.wait_events("/ecs/counter", stream, 3000, timeout=40)
        self.assertEqual(len(got), 3000, "lines after the restart: %d\n%s" % (len(got), self.d.log()[-3000:]))
        self.assertEqual(got, ["n%d" % i for i in range(3000)], "in order, each once")
        self.stop_and_wait("crash", arn)


if __name__ == "__main__":
    unittest.main()
