#!/usr/bin/python3
"""Application Auto Scaling of ECS services through `berth serve`, driven as
users drive it: register-scalable-target (the service's desired count follows
a new minimum), step scaling and target tracking policies, a scheduled
action a few seconds ahead raising the minimum (DescribeServices shows the
desired count follow), tags, deregistration, and AWS's error answers.

Tasks stay PENDING (BERTH_TASK_RUNTIME=none): no runc or root needed.
Usage: BERTH_BIN=<path to berth> [BERTH_TEST_AWS=<aws CLI>] autoscaling_integration_test.py [unittest args]
"""
import datetime
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from berth_harness import Daemon, call_json  # noqa: E402

AWS = os.environ.get("BERTH_TEST_AWS", "/usr/bin/aws")
D = None  # the daemon
CLUSTER = "web"
DIMENSION = "ecs:service:DesiredCount"


def aws(*args):
    """(exit code, parsed JSON or None, stderr) of one aws CLI call."""
    p = subprocess.run([AWS, *args, "--endpoint-url", D.endpoint, "--region", "us-east-1", "--output", "json"],
                       env=D.aws_env(), capture_output=True, text=True, timeout=120)
    out = json.loads(p.stdout) if p.returncode == 0 and p.stdout.strip() else None
    return p.returncode, out, p.stderr


def resource(service):
    return "service/%s/%s" % (CLUSTER, service)


def target_args(service):
    return ["--service-namespace", "ecs", "--resource-id", resource(service), "--scalable-dimension", DIMENSION]


class AutoScaling(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        global D
        # Cooldowns divided by 60: a 300 s cooldown lasts 5 s.
        D = Daemon(env={"BERTH_TASK_RUNTIME": "none", "BERTH_TIME_SCALE": "60"}).start()
        D.aws("ecs", "create-cluster", "--cluster-name", CLUSTER)
        D.aws("ecs", "register-task-definition", "--family", "outyet", "--container-definitions",
              json.dumps([{"name": "outyet", "image": "outyet-image", "memory": 128}]))
        cls.scaling = D.client("application-autoscaling")
        cls.ecs = D.client("ecs")

    @classmethod
    def tearDownClass(cls):
        D.cleanup()

    def ok(self, *args):
        rc, out, err = aws(*args)
        self.assertEqual(rc, 0, "aws %s failed: %s" % (" ".join(args), err))
        return out if out is not None else {}

    def fails(self, code, *args, message=None):
        rc, out, err = aws(*args)
        self.assertNotEqual(rc, 0, "aws %s should fail with %s, answered %s" % (" ".join(args), code, out))
        self.assertIn("(%s)" % code, err, "aws %s: expected %s, got: %s" % (" ".join(args), code, err))
        if message is not None:
            self.assertIn(message, err, "aws %s: expected message %r, got: %s" % (" ".join(args), message, err))
        return err

    def create_service(self, name, desired=1):
        self.ecs.create_service(cluster=CLUSTER, serviceName=name, taskDefinition="outyet", desiredCount=desired)

    def desired_count(self, name):
        return self.ecs.describe_services(cluster=CLUSTER, services=[name])["services"][0]["desiredCount"]

    def register(self, name, low, high):
        return self.ok("application-autoscaling", "register-scalable-target", *target_args(name),
                       "--min-capacity", str(low), "--max-capacity", str(high))

    def raw(self, op, body):
        """A signed JSON 1.1 call, as newer SDKs send it: Debian's CLI and boto3 predate the tagging
        operations and ScalableTargetARN. (HTTP status, parsed body)."""
        status, raw, _ = call_json(D, "AnyScaleFrontendService." + op, json.dumps(body),
                                   service="application-autoscaling")
        return status, json.loads(raw)

    def target_arn(self, name):
        status, out = self.raw("DescribeScalableTargets", {"ServiceNamespace": "ecs", "ResourceIds": [resource(name)]})
        self.assertEqual(status, 200, out)
        return out["ScalableTargets"][0]["ScalableTargetARN"]

    def wait_for_desired(self, name, wanted, seconds=30):
        """Polls DescribeServices (bounded in time) until desiredCount is `wanted`; returns the last value."""
        deadline = time.time() + seconds
        value = self.desired_count(name)
        while value != wanted and time.time() < deadline:
            time.sleep(0.25)
            value = self.desired_count(name)
        return value

    def test_register_describe_and_minimum_scaling_out(self):
        self.create_service("reg", desired=1)
        self.register("reg", 2, 5)
        arn = self.target_arn("reg")
        self.assertRegex(arn, r"^arn:aws:application-autoscaling:us-east-1:\d{12}:scalable-target/[0-9a-f]{36}$")
        self.assertEqual(self.desired_count("reg"), 2, "a minimum above the desired count raises it")
        targets = self.ok("application-autoscaling", "describe-scalable-targets", "--service-namespace", "ecs",
                          "--resource-ids", resource("reg"))["ScalableTargets"]
        self.assertEqual(len(targets), 1, targets)
        t = targets[0]
        self.assertEqual((t["ResourceId"], t["ScalableDimension"], t["MinCapacity"], t["MaxCapacity"]),
                         (resource("reg"), DIMENSION, 2, 5), t)
        self.assertEqual(t["SuspendedState"], {"DynamicScalingInSuspended": False,
                                               "DynamicScalingOutSuspended": False,
                                               "ScheduledScalingSuspended": False}, t)
        activities = self.ok("application-autoscaling", "describe-scaling-activities", *target_args("reg")[:4])
        a = activities["ScalingActivities"][0]
        self.assertEqual(a["Description"], "Setting desired count to 2.", a)
        self.assertEqual(a["Cause"], "minimum capacity was set to 2", a)
        self.assertEqual(a["StatusCode"], "Successful", a)
        self.assertEqual(a["StatusMessage"], "Successfully set desired count to 2. Change successfully fulfilled by ecs.")

        # boto3 sees the same target; an update changes the maximum and suspends scale in.
        self.scaling.register_scalable_target(ServiceNamespace="ecs", ResourceId=resource("reg"),
                                              ScalableDimension=DIMENSION, MaxCapacity=8,
                                              SuspendedState={"DynamicScalingInSuspended": True})
        t = self.scaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource("reg")])
        t = t["ScalableTargets"][0]
        self.assertEqual((t["MinCapacity"], t["MaxCapacity"]), (2, 8), t)
        self.assertTrue(t["SuspendedState"]["DynamicScalingInSuspended"], t)
        self.assertIsInstance(t["CreationTime"], datetime.datetime)

    def test_errors_as_aws_answers_them(self):
        self.fails("ValidationException", "application-autoscaling", "register-scalable-target",
                   *target_args("missing"), "--min-capacity", "1", "--max-capacity", "2",
                   message="ECS service doesn't exist: service/web/missing")
        self.fails("ValidationException", "application-autoscaling", "register-scalable-target",
                   "--service-namespace", "dynamodb", "--resource-id", "table/t", "--scalable-dimension",
                   "dynamodb:table:ReadCapacityUnits", "--min-capacity", "1", "--max-capacity", "2",
                   message="berth scales only ECS services")
        self.create_service("err")
        self.fails("ValidationException", "application-autoscaling", "register-scalable-target",
                   *target_args("err"), "--min-capacity", "5", "--max-capacity", "2")
        self.fails("ObjectNotFoundException", "application-autoscaling", "put-scaling-policy", *target_args("err"),
                   "--policy-name", "p", "--policy-type", "StepScaling", "--step-scaling-policy-configuration",
                   json.dumps({"AdjustmentType": "ChangeInCapacity",
                               "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}]}),
                   message="No scalable target registered for service namespace: ecs, resource ID: service/web/err, "
                           "scalable dimension: ecs:service:DesiredCount")
        self.fails("ObjectNotFoundException", "application-autoscaling", "deregister-scalable-target",
                   *target_args("err"), message="No scalable target registered for service namespace: ecs")
        with self.assertRaises(self.scaling.exceptions.ObjectNotFoundException) as caught:
            self.scaling.delete_scheduled_action(ServiceNamespace="ecs", ResourceId=resource("err"),
                                                 ScalableDimension=DIMENSION, ScheduledActionName="none")
        self.assertEqual(caught.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertEqual(len(self.scaling.describe_scalable_targets(ServiceNamespace="ecs",
                                                                    ResourceIds=[resource("err")])["ScalableTargets"]),
                         0, "a refused registration leaves nothing")

    def test_policies_step_and_target_tracking(self):
        self.create_service("pol")
        self.register("pol", 1, 10)
        step = {"AdjustmentType": "PercentChangeInCapacity", "MinAdjustmentMagnitude": 2, "Cooldown": 120,
                "MetricAggregationType": "Maximum",
                "StepAdjustments": [{"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 15,
                                     "ScalingAdjustment": 10},
                                    {"MetricIntervalLowerBound": 15, "ScalingAdjustment": 30}]}
        out = self.ok("application-autoscaling", "put-scaling-policy", *target_args("pol"), "--policy-name",
                      "cpu-step", "--policy-type", "StepScaling", "--step-scaling-policy-configuration",
                      json.dumps(step))
        arn = out["PolicyARN"]
        self.assertTrue(arn.startswith("arn:aws:autoscaling:us-east-1:") and
                        arn.endswith(":resource/ecs/service/web/pol:policyName/cpu-step"), arn)
        policies = self.scaling.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource("pol"))
        self.assertEqual(len(policies["ScalingPolicies"]), 1, policies)
        p = policies["ScalingPolicies"][0]
        self.assertEqual((p["PolicyName"], p["PolicyType"], p["PolicyARN"]), ("cpu-step", "StepScaling", arn), p)
        self.assertEqual(p["StepScalingPolicyConfiguration"], step, p)
        self.assertEqual(p["Alarms"], [], p)

        # Until CloudWatch is wired the alarms of a target tracking policy cannot be made.
        tracking = {"TargetValue": 50.0, "ScaleOutCooldown": 60, "ScaleInCooldown": 120,
                    "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}}
        rc, out, err = aws("application-autoscaling", "put-scaling-policy", *target_args("pol"), "--policy-name",
                           "cpu-tracking", "--policy-type", "TargetTrackingScaling",
                           "--target-tracking-scaling-policy-configuration", json.dumps(tracking))
        if rc == 0:  # CloudWatch wired: the policy owns its two alarms
            names = [a["AlarmName"] for a in out["Alarms"]]
            self.assertEqual(len(names), 2, out)
            self.assertTrue(names[0].startswith("TargetTracking-service/web/pol-AlarmHigh-"), names)
            self.assertTrue(names[1].startswith("TargetTracking-service/web/pol-AlarmLow-"), names)
        else:
            self.assertIn("(FailedResourceAccessException)", err)
            self.assertIn("CloudWatch is not available", err)
        self.fails("ValidationException", "application-autoscaling", "put-scaling-policy", *target_args("pol"),
                   "--policy-name", "alb", "--policy-type", "TargetTrackingScaling",
                   "--target-tracking-scaling-policy-configuration",
                   json.dumps({"TargetValue": 100.0, "PredefinedMetricSpecification": {
                       "PredefinedMetricType": "ALBRequestCountPerTarget"}}))
        self.fails("ValidationException", "application-autoscaling", "put-scaling-policy", *target_args("pol"),
                   "--policy-name", "gap", "--policy-type", "StepScaling", "--step-scaling-policy-configuration",
                   json.dumps({"AdjustmentType": "ChangeInCapacity", "StepAdjustments": [
                       {"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 10, "ScalingAdjustment": 1},
                       {"MetricIntervalLowerBound": 20, "ScalingAdjustment": 2}]}))

        self.ok("application-autoscaling", "delete-scaling-policy", *target_args("pol"), "--policy-name", "cpu-step")
        self.fails("ObjectNotFoundException", "application-autoscaling", "delete-scaling-policy", *target_args("pol"),
                   "--policy-name", "cpu-step", message="policy name: cpu-step")

    def test_scheduled_action_raises_the_minimum_and_the_desired_count_follows(self):
        self.create_service("sched", desired=1)
        self.register("sched", 1, 10)
        # A few seconds ahead, leaving room for a slow CLI start: an at() already past never runs.
        when = datetime.datetime.utcnow().replace(microsecond=0) + datetime.timedelta(seconds=15)
        at = "at(%s)" % when.strftime("%Y-%m-%dT%H:%M:%S")
        self.ok("application-autoscaling", "put-scheduled-action", *target_args("sched"),
                "--scheduled-action-name", "rush", "--schedule", at,
                "--scalable-target-action", "MinCapacity=4,MaxCapacity=10")
        # A cron in a time zone is accepted and described as given.
        self.scaling.put_scheduled_action(ServiceNamespace="ecs", ResourceId=resource("sched"),
                                          ScalableDimension=DIMENSION, ScheduledActionName="nightly",
                                          Schedule="cron(0 22 ? * MON-FRI *)", Timezone="Europe/Paris",
                                          ScalableTargetAction={"MaxCapacity": 2})
        actions = {a["ScheduledActionName"]: a for a in self.scaling.describe_scheduled_actions(
            ServiceNamespace="ecs", ResourceId=resource("sched"))["ScheduledActions"]}
        self.assertEqual(set(actions), {"rush", "nightly"}, actions)
        self.assertEqual(actions["rush"]["Schedule"], at)
        self.assertEqual(actions["rush"]["ScalableTargetAction"], {"MinCapacity": 4, "MaxCapacity": 10})
        self.assertEqual(actions["nightly"]["Timezone"], "Europe/Paris")
        self.assertIn(":scheduledAction:", actions["rush"]["ScheduledActionARN"])

        self.assertEqual(self.desired_count("sched"), 1, "nothing changes before the action's time")
        self.assertEqual(self.wait_for_desired("sched", 4, seconds=60), 4, "desiredCount follows the scheduled minimum")
        t = self.scaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource("sched")])
        self.assertEqual(t["ScalableTargets"][0]["MinCapacity"], 4, t)
        causes = [a["Cause"] for a in self.scaling.describe_scaling_activities(
            ServiceNamespace="ecs", ResourceId=resource("sched"))["ScalingActivities"]]
        self.assertIn("minimum capacity was set to 4", causes)

        self.fails("ValidationException", "application-autoscaling", "put-scheduled-action", *target_args("sched"),
                   "--scheduled-action-name", "bad", "--schedule", "rate(5 weeks)")
        self.ok("application-autoscaling", "delete-scheduled-action", *target_args("sched"),
                "--scheduled-action-name", "nightly")
        self.fails("ObjectNotFoundException", "application-autoscaling", "delete-scheduled-action",
                   *target_args("sched"), "--scheduled-action-name", "nightly")

    def test_tags_of_a_scalable_target(self):
        self.create_service("tags")
        self.register("tags", 1, 2)
        arn = self.target_arn("tags")
        call = self.raw

        self.assertEqual(call("TagResource", {"ResourceARN": arn, "Tags": {"team": "web", "env": "test"}})[0], 200)
        self.assertEqual(call("UntagResource", {"ResourceARN": arn, "TagKeys": ["env"]})[0], 200)
        status, out = call("ListTagsForResource", {"ResourceARN": arn})
        self.assertEqual((status, out), (200, {"Tags": {"team": "web"}}))
        status, out = call("ListTagsForResource", {"ResourceARN": arn[:-4] + "zzzz"})
        self.assertEqual(status, 400, out)
        self.assertTrue(out.get("__type", "").endswith("ResourceNotFoundException"), out)

    def test_deregister_removes_policies_and_scheduled_actions(self):
        self.create_service("dereg")
        self.register("dereg", 1, 3)
        self.ok("application-autoscaling", "put-scaling-policy", *target_args("dereg"), "--policy-name", "s",
                "--policy-type", "StepScaling", "--step-scaling-policy-configuration",
                json.dumps({"AdjustmentType": "ExactCapacity",
                            "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 3}]}))
        self.ok("application-autoscaling", "put-scheduled-action", *target_args("dereg"),
                "--scheduled-action-name", "m", "--schedule", "rate(1 day)", "--scalable-target-action", "MinCapacity=2")
        self.ok("application-autoscaling", "deregister-scalable-target", *target_args("dereg"))
        self.assertEqual(self.scaling.describe_scalable_targets(
            ServiceNamespace="ecs", ResourceIds=[resource("dereg")])["ScalableTargets"], [])
        self.assertEqual(self.scaling.describe_scaling_policies(
            ServiceNamespace="ecs", ResourceId=resource("dereg"))["ScalingPolicies"], [])
        self.assertEqual(self.scaling.describe_scheduled_actions(
            ServiceNamespace="ecs", ResourceId=resource("dereg"))["ScheduledActions"], [])
        self.assertEqual(self.desired_count("dereg"), 1, "deregistering leaves the desired count as it is")


if __name__ == "__main__":
    unittest.main()
