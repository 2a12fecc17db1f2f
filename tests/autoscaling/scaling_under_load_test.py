#!/usr/bin/env python3
"""Services that scale themselves, for real: target tracking on
ALBRequestCountPerTarget scales out under a bounded wrk load through the
load balancer and back in after it stops; target tracking on
ECSServiceAverageCPUUtilization scales out while tasks burn CPU and back in
once they idle. The alarms (CloudWatch) and activities (Application Auto
Scaling) are read with the aws CLI, the desired count with DescribeServices.

The daemon runs with BERTH_TIME_SCALE=20: a 60 s period lasts 3 s, a 300 s
cooldown 15 s; every figure clients see keeps AWS's numbers."""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from berth_harness import Daemon, missing_task_prerequisites  # noqa: E402
from oci_images import make_busybox_layout  # noqa: E402

CLUSTER = "scaling"
PORT = 8086
AMI = "ami-0c9a0d5a8b4e7f312"


class ScalingUnderLoadTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        reason = missing_task_prerequisites()
        if reason:
            raise RuntimeError(reason)
        cls.d = Daemon(address="127.%d.%d.1" % (random.randint(64, 250), random.randint(0, 255)),
                       env={"BERTH_TIME_SCALE": "20"}).start()
        cls.work = tempfile.mkdtemp(prefix="berth-scaling-")
        d = cls.d
        cls.uri = d.aws("ecr", "create-repository", "--repository-name", "app")["repository"]["repositoryUri"]
        layout = os.path.join(cls.work, "layout")
        make_busybox_layout(layout, "latest")
        d.push_layout(layout, cls.uri + ":latest")
        cls.vpc = d.aws("ec2", "describe-vpcs")["Vpcs"][0]["VpcId"]
        subnets = [s["SubnetId"] for s in d.aws("ec2", "describe-subnets")["Subnets"]][:2]
        open_group = d.aws("ec2", "create-security-group", "--group-name", "open", "--description", "open",
                           "--vpc-id", cls.vpc)["GroupId"]
        d.aws("ec2", "authorize-security-group-ingress", "--group-id", open_group, "--protocol", "tcp", "--port",
              "1-65535", "--cidr", "0.0.0.0/0")
        d.aws("ecs", "create-cluster", "--cluster-name", CLUSTER)
        for _ in range(2):  # t2.medium: 2048 CPU units, 4 GiB each
            d.aws("ec2", "run-instances", "--image-id", AMI, "--instance-type", "t2.medium", "--security-group-ids",
                  open_group, "--user-data", "#!/bin/bash\necho ECS_CLUSTER=%s >> /etc/ecs/ecs.config" % CLUSTER)
        cls.wait_for(lambda: len(d.aws("ecs", "list-container-instances", "--cluster", CLUSTER)[
            "containerInstanceArns"]) == 2, 20, "two container instances")
        cls.lb = d.aws("elbv2", "create-load-balancer", "--name", "scaling-alb", "--subnets", *subnets,
                       "--security-groups", open_group)["LoadBalancers"][0]
        cls.tg = d.aws("elbv2", "create-target-group", "--name", "scaling-tg", "--protocol", "HTTP", "--port", "8080",
                       "--vpc-id", cls.vpc, "--health-check-interval-seconds", "5", "--health-check-timeout-seconds",
                       "2", "--healthy-threshold-count", "2", "--unhealthy-threshold-count", "2")["TargetGroups"][0]
        d.aws("elbv2", "modify-target-group-attributes", "--target-group-arn", cls.tg["TargetGroupArn"],
              "--attributes", "Key=deregistration_delay.timeout_seconds,Value=2")
        d.aws("elbv2", "create-listener", "--load-balancer-arn", cls.lb["LoadBalancerArn"], "--protocol", "HTTP",
              "--port", str(PORT), "--default-actions", "Type=forward,TargetGroupArn=" + cls.tg["TargetGroupArn"])

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.d.alive():
                cls.d.stop_all_tasks()
        finally:
            cls.d.cleanup()
            shutil.rmtree(cls.work, ignore_errors=True)

    @classmethod
    def wait_for(cls, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError("timed out after %d s waiting for %s\n%s" % (timeout, what, cls.d.log()[-3000:]))
            time.sleep(0.5)

    def service(self, name):
        return self.d.aws("ecs", "describe-services", "--cluster", CLUSTER, "--services", name)["services"][0]

    def create_service(self, name, command, cpu, load_balanced):
        container = {"name": "app", "image": self.uri + ":latest", "memory": 64, "cpu": cpu, "essential": True,
                     "stopTimeout": 2, "command": ["/bin/sh", "-c", command],
                     "portMappings": [{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}]}
        self.d.aws("ecs", "register-task-definition", "--family", name, "--network-mode", "bridge",
                   "--container-definitions", json.dumps([container]))
        extra = []
        if load_balanced:
            extra = ["--load-balancers", "targetGroupArn=%s,containerName=app,containerPort=8080"
                     % self.tg["TargetGroupArn"]]
        self.d.aws("ecs", "create-service", "--cluster", CLUSTER, "--service-name", name, "--task-definition", name,
                   "--desired-count", "1", *extra)
        self.d.aws("application-autoscaling", "register-scalable-target", "--service-namespace", "ecs",
                   "--resource-id", "service/%s/%s" % (CLUSTER, name), "--scalable-dimension",
                   "ecs:service:DesiredCount", "--min-capacity", "1", "--max-capacity", "3")

    def put_policy(self, service, name, configuration):
        return self.d.aws("application-autoscaling", "put-scaling-policy", "--service-namespace", "ecs",
                          "--resource-id", "service/%s/%s" % (CLUSTER, service), "--scalable-dimension",
                          "ecs:service:DesiredCount", "--policy-name", name, "--policy-type", "TargetTrackingScaling",
                          "--target-tracking-scaling-policy-configuration", json.dumps(configuration))

    def desired(self, service):
        return self.service(service)["desiredCount"]

    def alarm_states(self, policy):
        names = [a["AlarmName"] for a in policy["Alarms"]]
        alarms = self.d.aws("cloudwatch", "describe-alarms", "--alarm-names", *names)["MetricAlarms"]
        return {a["AlarmName"]: a["StateValue"] for a in alarms}

    def activities(self, service):
        return self.d.aws("application-autoscaling", "describe-scaling-activities", "--service-namespace", "ecs",
                          "--resource-id", "service/%s/%s" % (CLUSTER, service))["ScalingActivities"]

    def test_request_count_per_target_scales_out_under_load_and_back_in(self):
        self.create_service("web", "mkdir -p /v && echo hello > /v/index.html && exec /bin/busybox httpd -f -p 8080 -h /v",
                            cpu=128, load_balanced=True)
        label = "%s/%s" % (self.lb["LoadBalancerArn"].split(":loadbalancer/")[1],
                           self.tg["TargetGroupArn"].split(":")[-1])
        policy = self.put_policy("web", "requests-per-target", {
            "TargetValue": 300.0, "ScaleOutCooldown": 60, "ScaleInCooldown": 60,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "ALBRequestCountPerTarget",
                                              "ResourceLabel": label}})
        self.assertEqual(len(policy["Alarms"]), 2, policy)
        self.wait_for(lambda: any(h["TargetHealth"]["State"] == "healthy" for h in self.d.aws(
            "elbv2", "describe-target-health", "--target-group-arn", self.tg["TargetGroupArn"])[
            "TargetHealthDescriptions"]), 60, "a healthy target")
        # The daemon listens on its private address; the load balancer is chosen by Host.
        url = "http://%s:%d/" % (self.d.address, PORT)
        host = "%s:%d" % (self.lb["DNSName"], PORT)

        # Load well above 300 requests per target per (scaled) minute: 3 s of real time.
        wrk = subprocess.run(["wrk", "-t1", "-c4", "-d25s", "-H", "Host: " + host, url], capture_output=True, text=True, timeout=60)
        self.assertEqual(wrk.returncode, 0, wrk.stderr)
        self.assertIn("Requests/sec", wrk.stdout)
        out = self.wait_for(lambda: self.desired("web") > 1 and self.desired("web"), 30, "a scale-out")
        self.assertLessEqual(out, 3, "within the maximum capacity")
        # The high alarm went to ALARM (it may be OK again by now: the load is over).
        high = [a["AlarmName"] for a in policy["Alarms"] if "AlarmHigh" in a["AlarmName"]][0]
        history = self.d.aws("cloudwatch", "describe-alarm-history", "--alarm-name", high, "--history-item-type",
                             "StateUpdate")["AlarmHistoryItems"]
        self.assertTrue(any(json.loads(h["HistoryData"])["newState"]["stateValue"] == "ALARM" for h in history),
                        json.dumps(history, default=str)[:3000])
        scaled = [a for a in self.activities("web") if a["StatusCode"] == "Successful"]
        self.assertTrue(scaled, self.activities("web"))
        self.assertIn("AlarmHigh", scaled[0]["Cause"])
        self.assertIn("triggered policy requests-per-target", scaled[0]["Cause"])
        self.assertEqual(scaled[0]["Description"], "Setting desired count to %d." % out)

        # After the load, a light trickle (AWS publishes no datapoint for a
        # minute without requests, and an alarm without data does not act).
        deadline = time.monotonic() + 150
        while self.desired("web") > 1 and time.monotonic() < deadline:
            try:
                urllib.request.urlopen(urllib.request.Request(url, headers={"Host": host}), timeout=2).read()
            except OSError:
                pass
            time.sleep(0.5)
        self.assertEqual(self.desired("web"), 1, "scaled back in\n%s\n%s" % (
            json.dumps(self.activities("web"), default=str)[:3000], self.alarm_states(policy)))
        low = [a for a in self.activities("web") if "AlarmLow" in a["Cause"] and a["StatusCode"] == "Successful"]
        self.assertTrue(low, self.activities("web"))

        # The metric itself, as a user would graph it.
        stats = self.d.aws("cloudwatch", "get-metric-statistics", "--namespace", "AWS/ApplicationELB",
                           "--metric-name", "RequestCount", "--dimensions",
                           "Name=LoadBalancer,Value=" + label.split("/targetgroup")[0], "--statistics", "Sum",
                           "--start-time", str(int(time.time()) - 600), "--end-time", str(int(time.time()) + 60),
                           "--period", "60")["Datapoints"]
        self.assertGreater(sum(p["Sum"] for p in stats), 1000, stats)

    def test_cpu_utilization_scales_out_while_tasks_burn_and_back_in(self):
        # Each task burns one CPU for its first 20 s, then idles.
        burn = ("end=$(( $(date +%s) + 20 )); while [ $(date +%s) -lt $end ]; do :; done; "
                "exec /bin/busybox httpd -f -p 8080 -h /")
        self.create_service("cruncher", burn, cpu=512, load_balanced=False)
        policy = self.put_policy("cruncher", "cpu-tracking", {
            "TargetValue": 50.0, "ScaleOutCooldown": 60, "ScaleInCooldown": 60,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}})
        out = self.wait_for(lambda: self.desired("cruncher") > 1 and self.desired("cruncher"), 60,
                            "a scale-out on CPU")
        self.assertLessEqual(out, 3)
        stats = self.d.aws("cloudwatch", "get-metric-statistics", "--namespace", "AWS/ECS", "--metric-name",
                           "CPUUtilization", "--dimensions", "Name=ClusterName,Value=" + CLUSTER,
                           "Name=ServiceName,Value=cruncher", "--statistics", "Maximum", "--start-time",
                           str(int(time.time()) - 600), "--end-time", str(int(time.time()) + 60),
                           "--period", "60")["Datapoints"]
        self.assertTrue(stats and max(p["Maximum"] for p in stats) > 50, stats)
        self.wait_for(lambda: self.desired("cruncher") == 1, 150, "a scale-in once the tasks idle")
        causes = [a["Cause"] for a in self.activities("cruncher") if a["StatusCode"] == "Successful"]
        self.assertTrue(any("AlarmHigh" in c for c in causes) and any("AlarmLow" in c for c in causes), causes)
        self.assertTrue(all(v in ("OK", "ALARM", "INSUFFICIENT_DATA") for v in self.alarm_states(policy).values()))


if __name__ == "__main__":
    unittest.main()
