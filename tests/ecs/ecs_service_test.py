#!/usr/bin/python3
"""ECS services end to end, as the workshop drives them with the aws CLI:
a service of 3 bridge-mode tasks (dynamic host ports) on two t2.nano
container instances behind a real Application Load Balancer, created from
`--cli-input-json` as the seed's ecs-service.json does, then every exercise:
a stopped task is replaced, so is a task whose container is killed, the
desired count above capacity waits for an instance, a new revision rolls out
under continuous HTTP load with no failed request, a crashing revision trips the circuit breaker and rolls back, the
daemon SIGKILLed mid-deployment converges, and teardown out of order gets
AWS's errors.

Needs root, runc, umoci, skopeo, busybox-static (scripts/install-deps.sh).
Run by ctest with BERTH_BIN set.
"""
import http.client
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from berth_harness import Daemon, AwsError, missing_task_prerequisites  # noqa: E402
from oci_images import make_busybox_layout  # noqa: E402

CLUSTER = "outyet-cluster"
SERVICE = "outyet-service"
FAMILY = "outyet-task"
PORT = 8090  # the listener


def web_container(uri, version, exit_code=None):
    """busybox httpd answering "<version> <random>" (so answers tell tasks apart), or a container that exits."""
    script = ("exit %d" % exit_code if exit_code is not None else
              "mkdir -p /v && echo %s-$RANDOM$RANDOM > /v/index.html && exec /bin/busybox httpd -f -p 8080 -h /v"
              % version)
    return {"name": "outyet", "image": uri + ":latest", "memory": 128, "essential": True, "stopTimeout": 2,
            "command": ["/bin/sh", "-c", script],
            "portMappings": [{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}]}


class Load:
    """Continuous GETs through the load balancer on a few keep-alive connections,
    counting every answer; bounded in time (stop() or 300 s) and count."""

    def __init__(self, address, port, host, connections=4, max_requests=200000):
        self.address, self.port, self.host = address, port, host
        self.ok, self.failed, self.bodies, self.errors = 0, 0, {}, []
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.max_requests = max_requests
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(connections)]
        for t in self.threads:
            t.start()

    def run(self):
        deadline = time.time() + 300
        conn = None
        while not self.done.is_set() and time.time() < deadline:
            with self.lock:
                if self.ok + self.failed >= self.max_requests:
                    return
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(self.address, self.port, timeout=10)
                conn.request("GET", "/", headers={"Host": self.host})
                r = conn.getresponse()
                body = r.read().decode(errors="replace").strip()
                with self.lock:
                    if r.status == 200:
                        self.ok += 1
                        version = body.split("-")[0]
                        self.bodies[version] = self.bodies.get(version, 0) + 1
                    else:
                        self.failed += 1
                        self.errors.append("%d %s" % (r.status, body[:100]))
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                with self.lock:
                    self.failed += 1
                    self.errors.append(repr(e))
                if conn:
                    conn.close()
                conn = None
            time.sleep(0.005)
        self.close(conn)

    def stop(self):
        self.done.set()
        for t in self.threads:
            t.join(timeout=15)
        return self

    def close(self, conn):
        if conn:
            conn.close()


class ServiceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        reason = missing_task_prerequisites()
        if reason:
            raise RuntimeError(reason)
        cls.daemon = Daemon(address="127.%d.%d.1" % (random.randint(64, 250), random.randint(0, 255))).start()
        cls.work = tempfile.mkdtemp(prefix="berth-service-")
        d = cls.daemon
        cls.uri = d.aws("ecr", "create-repository", "--repository-name", "outyet-image")["repository"]["repositoryUri"]
        layout = os.path.join(cls.work, "layout")
        make_busybox_layout(layout, "latest")
        d.push_layout(layout, cls.uri + ":latest")
        cls.vpc = d.aws("ec2", "describe-vpcs")["Vpcs"][0]["VpcId"]
        cls.subnets = [s["SubnetId"] for s in d.aws("ec2", "describe-subnets")["Subnets"]][:2]
        # The seed's groups: the ALB's open on its port, the instances' open to the ALB's group only.
        cls.alb_sg = d.aws("ec2", "create-security-group", "--group-name", "outyet-alb-sg", "--description", "alb",
                           "--vpc-id", cls.vpc)["GroupId"]
        d.aws("ec2", "authorize-security-group-ingress", "--group-id", cls.alb_sg, "--protocol", "tcp", "--port",
              str(PORT), "--cidr", "0.0.0.0/0")
        cls.app_sg = d.aws("ec2", "create-security-group", "--group-name", "outyet-sg", "--description", "app",
                           "--vpc-id", cls.vpc)["GroupId"]
        d.aws("ec2", "authorize-security-group-ingress", "--group-id", cls.app_sg, "--protocol", "tcp", "--port",
              "1-65535", "--source-group", cls.alb_sg)
        d.aws("ecs", "create-cluster", "--cluster-name", CLUSTER)
        cls.instances = [cls.run_instance() for _ in range(2)]
        cls.wait_for(lambda: len(d.aws("ecs", "list-container-instances", "--cluster", CLUSTER)[
            "containerInstanceArns"]) == 2, 20, "two container instances")
        cls.lb = d.aws("elbv2", "create-load-balancer", "--name", "outyet-alb", "--subnets", *cls.subnets,
                       "--security-groups", cls.alb_sg)["LoadBalancers"][0]
        cls.tg = d.aws("elbv2", "create-target-group", "--name", "outyet-alb-target-group", "--protocol", "HTTP",
                       "--port", "8080", "--vpc-id", cls.vpc, "--health-check-interval-seconds", "5",
                       "--health-check-timeout-seconds", "2", "--healthy-threshold-count", "2",
                       "--unhealthy-threshold-count", "2")["TargetGroups"][0]
        cls.tg_arn = cls.tg["TargetGroupArn"]
        d.aws("elbv2", "modify-target-group-attributes", "--target-group-arn", cls.tg_arn, "--attributes",
              "Key=deregistration_delay.timeout_seconds,Value=5")
        d.aws("elbv2", "create-listener", "--load-balancer-arn", cls.lb["LoadBalancerArn"], "--protocol", "HTTP",
              "--port", str(PORT), "--default-actions", "Type=forward,TargetGroupArn=" + cls.tg_arn)
        cls.revision = {}
        for version in ("v1", "v2"):
            cls.revision[version] = cls.register(web_container(cls.uri, version))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)
        cls.daemon.cleanup()

    @classmethod
    def run_instance(cls):
        return cls.daemon.aws("ec2", "run-instances", "--image-id", "ami-0c9a0d5a8b4e7f312", "--instance-type",
                              "t2.nano", "--security-group-ids", cls.app_sg, "--user-data",
                              "#!/bin/bash\necho ECS_CLUSTER=%s >> /etc/ecs/ecs.config" % CLUSTER)["Instances"][0][
            "InstanceId"]

    @classmethod
    def register(cls, container):
        return cls.daemon.aws("ecs", "register-task-definition", "--family", FAMILY, "--network-mode", "bridge",
                              "--requires-compatibilities", "EC2", "--container-definitions",
                              json.dumps([container]))["taskDefinition"]["taskDefinitionArn"]

    @classmethod
    def wait_for(cls, predicate, timeout, what):
        deadline = time.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.time() > deadline:
                raise AssertionError("timed out after %d s waiting for %s\n%s" % (timeout, what, cls.diagnosis()))
            time.sleep(0.25)

    @classmethod
    def diagnosis(cls):
        """The service's deployments and events, its tasks' states, the daemon's log tail."""
        d = cls.daemon
        try:
            s = d.aws("ecs", "describe-services", "--cluster", CLUSTER, "--services", SERVICE)["services"]
            out = json.dumps([{k: v for k, v in x.items() if k in ("deployments", "events", "runningCount")}
                              for x in s], indent=1, default=str)[:8000]
            for status in ("RUNNING", "STOPPED"):
                arns = d.aws("ecs", "list-tasks", "--cluster", CLUSTER, "--desired-status", status)["taskArns"][:20]
                if arns:
                    tasks = d.aws("ecs", "describe-tasks", "--cluster", CLUSTER, "--tasks", *arns)["tasks"]
                    out += "\n" + "\n".join("%s %s/%s %s %s %s" % (t["taskArn"][-8:], t["lastStatus"], t["desiredStatus"],
                                                                   t.get("startedBy"), t.get("stopCode"),
                                                                   t.get("stoppedReason")) for t in tasks)
        except Exception as e:  # the daemon may be down: say so
            out = "(no answer: %s)" % e
        return out + "\n" + d.log()[-3000:]

    # -- helpers --------------------------------------------------------

    def service(self):
        return self.daemon.aws("ecs", "describe-services", "--cluster", CLUSTER, "--services", SERVICE)["services"][0]

    def events(self):
        return [e["message"] for e in self.service()["events"]]

    def wait_stable(self, timeout=90, revision=None):
        """services-stable's condition (one deployment, runningCount == desiredCount), the deployment
        COMPLETED and every target healthy."""
        def stable():
            s = self.service()
            d = s["deployments"]
            healthy = [h for h in self.target_health() if h["TargetHealth"]["State"] == "healthy"]
            return (len(d) == 1 and d[0]["rolloutState"] == "COMPLETED" and s["runningCount"] == s["desiredCount"]
                    and len(healthy) == s["desiredCount"] and (revision is None or s["taskDefinition"] == revision))
        try:
            self.wait_for(stable, timeout, "a steady service")
        except AssertionError as e:
            self.fail("%s\ntarget health: %s" % (e, json.dumps(self.target_health())))

    def target_health(self):
        return self.daemon.aws("elbv2", "describe-target-health", "--target-group-arn", self.tg_arn)[
            "TargetHealthDescriptions"]

    def running_tasks(self):
        arns = self.daemon.aws("ecs", "list-tasks", "--cluster", CLUSTER, "--service-name", SERVICE)["taskArns"]
        if not arns:
            return []
        return self.daemon.aws("ecs", "describe-tasks", "--cluster", CLUSTER, "--tasks", *arns)["tasks"]

    def get(self):
        conn = http.client.HTTPConnection(self.daemon.address, PORT, timeout=10)
        try:
            conn.request("GET", "/", headers={"Host": self.lb["DNSName"]})
            r = conn.getresponse()
            return r.status, r.read().decode().strip()
        finally:
            conn.close()

    # -- FARGATE: awsvpc tasks as IP targets ----------------------------

    def test_fargate_service_with_ip_targets_behind_a_path_rule(self):
        d = self.daemon
        tg = d.aws("elbv2", "create-target-group", "--name", "outyet-fargate", "--protocol", "HTTP", "--port", "8080",
                   "--vpc-id", self.vpc, "--target-type", "ip", "--health-check-path", "/fargate/",
                   "--health-check-interval-seconds", "5", "--health-check-timeout-seconds", "2",
                   "--healthy-threshold-count", "2")["TargetGroups"][0]["TargetGroupArn"]
        listener = d.aws("elbv2", "describe-listeners", "--load-balancer-arn", self.lb["LoadBalancerArn"])[
            "Listeners"][0]["ListenerArn"]
        d.aws("elbv2", "create-rule", "--listener-arn", listener, "--priority", "10", "--conditions",
              "Field=path-pattern,Values=/fargate/*", "--actions", "Type=forward,TargetGroupArn=" + tg)
        container = {"name": "web", "image": self.uri + ":latest", "essential": True, "stopTimeout": 2,
                     "command": ["/bin/sh", "-c", "mkdir -p /v/fargate && echo fargate-$RANDOM$RANDOM > "
                                 "/v/fargate/index.html && exec /bin/busybox httpd -f -p 8080 -h /v"],
                     "portMappings": [{"containerPort": 8080, "protocol": "tcp"}]}
        revision = d.aws("ecs", "register-task-definition", "--family", "outyet-fargate", "--network-mode", "awsvpc",
                         "--requires-compatibilities", "FARGATE", "--cpu", "256", "--memory", "512",
                         "--container-definitions", json.dumps([container]))["taskDefinition"]["taskDefinitionArn"]
        with self.assertRaises(AwsError) as e:  # awsvpc services take no role (the service-linked role is used)
            d.aws("ecs", "create-service", "--cluster", CLUSTER, "--service-name", "outyet-fargate",
                  "--task-definition", revision, "--desired-count", "2", "--launch-type", "FARGATE", "--role", "ecsRole",
                  "--network-configuration", "awsvpcConfiguration={subnets=[%s],securityGroups=[%s]}" % (
                      ",".join(self.subnets), self.app_sg),
                  "--load-balancers", "targetGroupArn=%s,containerName=web,containerPort=8080" % tg)
        self.assertIn("You cannot specify an IAM role for services that require a service linked role.",
                      e.exception.stderr)
        d.aws("ecs", "create-service", "--cluster", CLUSTER, "--service-name", "outyet-fargate",
              "--task-definition", revision, "--desired-count", "2", "--launch-type", "FARGATE",
              "--network-configuration", "awsvpcConfiguration={subnets=[%s],securityGroups=[%s]}" % (
                  ",".join(self.subnets), self.app_sg),
              "--load-balancers", "targetGroupArn=%s,containerName=web,containerPort=8080" % tg)

        def serving():
            s = d.aws("ecs", "describe-services", "--cluster", CLUSTER, "--services", "outyet-fargate")["services"][0]
            health = d.aws("elbv2", "describe-target-health", "--target-group-arn", tg)["TargetHealthDescriptions"]
            healthy = [h for h in health if h["TargetHealth"]["State"] == "healthy"]
            return s["runningCount"] == 2 and len(s["deployments"]) == 1 and len(healthy) == 2 and health
        health = self.wait_for(serving, 90, "the FARGATE service serving")
        arns = d.aws("ecs", "list-tasks", "--cluster", CLUSTER, "--service-name", "outyet-fargate")["taskArns"]
        tasks = d.aws("ecs", "describe-tasks", "--cluster", CLUSTER, "--tasks", *arns)["tasks"]
        addresses = set()
        for t in tasks:
            self.assertEqual(t["launchType"], "FARGATE")
            details = {x["name"]: x["value"] for x in t["attachments"][0]["details"]}
            addresses.add(details["privateIPv4Address"])
        self.assertEqual({h["Target"]["Id"] for h in health}, addresses, "registered by the ENIs' addresses")
        subnets = {t["attachments"][0]["details"][0]["value"] for t in tasks}
        self.assertEqual(len(subnets), 2, "spread over the listed subnets")
        answers = set()
        for _ in range(8):
            conn = http.client.HTTPConnection(d.address, PORT, timeout=10)
            conn.request("GET", "/fargate/", headers={"Host": self.lb["DNSName"]})
            r = conn.getresponse()
            answers.add((r.status, r.read().decode().split("-")[0]))
            conn.close()
        self.assertEqual(answers, {(200, "fargate")})
        d.aws("ecs", "delete-service", "--cluster", CLUSTER, "--service", "outyet-fargate", "--force")
        self.wait_for(lambda: d.aws("ecs", "describe-services", "--cluster", CLUSTER, "--services", "outyet-fargate")[
            "services"][0]["status"] == "INACTIVE", 60, "the FARGATE service INACTIVE")

    # -- the workshop, in order -----------------------------------------

    def test_workshop_exercises(self):
        self.create_service_serves_through_the_load_balancer()
        self.stopped_task_is_replaced_without_a_failed_request()
        self.killed_container_is_replaced()
        self.desired_count_above_capacity_waits_for_an_instance()
        self.new_revision_rolls_out_under_load_with_no_failed_request()
        self.crashing_revision_trips_the_circuit_breaker_and_rolls_back()
        self.daemon_killed_mid_deployment_converges()
        self.teardown_out_of_order_gets_aws_errors()

    def create_service_serves_through_the_load_balancer(self):
        d = self.daemon
        role = "arn:aws:iam::%s:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS" % (
            d.aws("sts", "get-caller-identity")["Account"])
        spec = {"cluster": CLUSTER, "serviceName": SERVICE, "taskDefinition": FAMILY + ":1", "desiredCount": 3,
                "launchType": "EC2", "role": role,
                "loadBalancers": [{"targetGroupArn": self.tg_arn, "containerName": "outyet", "containerPort": 8080}],
                "deploymentConfiguration": {"maximumPercent": 200, "minimumHealthyPercent": 100}}
        path = os.path.join(self.work, "ecs-service.json")
        with open(path, "w") as f:
            json.dump(spec, f)
        created = d.aws("ecs", "create-service", "--cli-input-json", "file://" + path)["service"]
        self.assertEqual(created["status"], "ACTIVE")
        self.assertEqual(created["roleArn"], role)
        self.assertEqual(created["loadBalancers"][0]["targetGroupArn"], self.tg_arn)
        self.wait_stable()
        tasks = self.running_tasks()
        self.assertEqual(len(tasks), 3)
        for t in tasks:
            self.assertEqual(t["group"], "service:" + SERVICE)
            self.assertTrue(t["startedBy"].startswith("ecs-svc/"), t["startedBy"])
        self.assertEqual(len({t["containerInstanceArn"] for t in tasks}), 2, "spread over both instances")
        targets = {(h["Target"]["Id"], h["Target"]["Port"]) for h in self.target_health()}
        bindings = set()
        instance_of = {ci["containerInstanceArn"]: ci["ec2InstanceId"] for ci in d.aws(
            "ecs", "describe-container-instances", "--cluster", CLUSTER, "--container-instances",
            *d.aws("ecs", "list-container-instances", "--cluster", CLUSTER)["containerInstanceArns"])[
            "containerInstances"]}
        for t in tasks:
            bindings.add((instance_of[t["containerInstanceArn"]], t["containers"][0]["networkBindings"][0]["hostPort"]))
        self.assertEqual(targets, bindings, "each task registered by instance id and its dynamic host port")
        answers = {self.get() for _ in range(12)}
        self.assertTrue(all(status == 200 and body.startswith("v1-") for status, body in answers), answers)
        self.assertEqual(len(answers), 3, "round robin over the 3 tasks: %s" % answers)
        events = self.events()
        self.assertEqual(events[0], "(service %s) has reached a steady state." % SERVICE)
        self.assertTrue(any(e.startswith("(service %s) has started 3 tasks: (task " % SERVICE) for e in events), events)
        registered = [int(m.group(1)) for m in (re.match(r"\(service %s\) registered (\d+) targets in \(target-group %s\)$"
                                                         % (SERVICE, re.escape(self.tg_arn)), e) for e in events) if m]
        self.assertEqual(sum(registered), 3, events)

    def stopped_task_is_replaced_without_a_failed_request(self):
        d = self.daemon
        victim = self.running_tasks()[0]["taskArn"]
        load = Load(d.address, PORT, self.lb["DNSName"])
        d.aws("ecs", "stop-task", "--cluster", CLUSTER, "--task", victim)
        self.wait_for(lambda: victim not in [t["taskArn"] for t in self.running_tasks()] and
                      len(self.running_tasks()) == 3, 60, "a replacement task")
        self.wait_stable()
        load.stop()
        self.assertEqual(load.failed, 0, load.errors[:5])
        self.assertGreater(load.ok, 0)
        stopped = d.aws("ecs", "describe-tasks", "--cluster", CLUSTER, "--tasks", victim)["tasks"][0]
        self.assertEqual(stopped["lastStatus"], "STOPPED")
        self.assertEqual(stopped["stopCode"], "UserInitiated")
        events = self.events()
        victim_id = victim.rsplit("/", 1)[1]
        self.assertTrue(any(e.startswith("(service %s) has started 1 tasks: (task " % SERVICE) for e in events), events)
        self.assertIn("(service %s) deregistered 1 targets in (target-group %s)" % (SERVICE, self.tg_arn), events)
        self.assertTrue(any("has begun draining connections on 1 tasks." in e for e in events), events)
        self.assertNotIn(victim_id, json.dumps(self.target_health()))

    def killed_container_is_replaced(self):
        d = self.daemon
        victim = self.running_tasks()[0]
        victim_id = victim["taskArn"].rsplit("/", 1)[1]
        # As if the process died: runc kills it under the daemon's feet.
        kill = subprocess.run(["runc", "--root", os.path.join(d.data_dir, "runtime", "runc"), "kill",
                               victim_id + "_outyet", "KILL"], capture_output=True, text=True, timeout=30)
        self.assertEqual(kill.returncode, 0, kill.stderr)
        self.wait_for(lambda: d.aws("ecs", "describe-tasks", "--cluster", CLUSTER, "--tasks", victim["taskArn"])[
            "tasks"][0]["lastStatus"] == "STOPPED", 30, "the killed task STOPPED")
        stopped = d.aws("ecs", "describe-tasks", "--cluster", CLUSTER, "--tasks", victim["taskArn"])["tasks"][0]
        self.assertEqual(stopped["stopCode"], "EssentialContainerExited")
        self.assertEqual(stopped["containers"][0]["exitCode"], 137)
        self.wait_stable()
        self.assertNotIn(victim["taskArn"], [t["taskArn"] for t in self.running_tasks()])

    def desired_count_above_capacity_waits_for_an_instance(self):
        d = self.daemon
        # 483 MiB per t2.nano: three 128 MiB tasks each, six in all.
        d.aws("ecs", "update-service", "--cluster", CLUSTER, "--service", SERVICE, "--desired-count", "7")
        self.wait_for(lambda: any("was unable to place a task because no container instance met all of its "
                                  "requirements. The closest matching (container-instance " in e and
                                  "has insufficient memory available." in e for e in self.events()), 30,
                      "the placement event")
        self.assertEqual(len(self.running_tasks()), 6)
        self.instances.append(self.run_instance())
        self.wait_stable()
        self.assertEqual(len(self.running_tasks()), 7)
        d.aws("ecs", "update-service", "--cluster", CLUSTER, "--service", SERVICE, "--desired-count", "3")
        self.wait_for(lambda: len(self.running_tasks()) == 3, 60, "scale-in to 3")
        self.wait_stable()

    def new_revision_rolls_out_under_load_with_no_failed_request(self):
        d = self.daemon
        load = Load(d.address, PORT, self.lb["DNSName"])
        time.sleep(1)
        d.aws("ecs", "update-service", "--cluster", CLUSTER, "--service", SERVICE, "--task-definition",
              self.revision["v2"])
        self.wait_stable(revision=self.revision["v2"], timeout=120)
        time.sleep(1)
        load.stop()
        self.assertEqual(load.failed, 0, "failed requests during the rollout: %s" % load.errors[:5])
        self.assertGreater(load.bodies.get("v1", 0), 0)
        self.assertGreater(load.bodies.get("v2", 0), 0)
        answers = {self.get()[1].split("-")[0] for _ in range(9)}
        self.assertEqual(answers, {"v2"}, "only the new revision answers at the end")
        events = self.events()
        deployment = self.service()["deployments"][0]["id"]
        self.assertIn("(service %s) (deployment %s) deployment completed." % (SERVICE, deployment), events)
        # AWS's order within the rollout: started, registered, stopped, deregistered, draining, completed, steady.
        newest_first = [e.split(")", 1)[1].strip().split(" ")[:2] for e in events]
        order = [" ".join(w) for w in reversed(newest_first)]
        last = {k: max(i for i, e in enumerate(order) if e.startswith(k)) for k in
                ("has started", "registered", "has stopped", "deregistered", "(deployment")}
        self.assertLess(last["has started"], last["has stopped"], order)
        self.assertLess(last["registered"], last["deregistered"], order)

    def crashing_revision_trips_the_circuit_breaker_and_rolls_back(self):
        d = self.daemon
        broken = self.register(web_container(self.uri, "v3", exit_code=1))
        # The deployment's id from the answer: the breaker may trip before another call.
        failing = d.aws("ecs", "update-service", "--cluster", CLUSTER, "--service", SERVICE, "--task-definition", broken,
                        "--deployment-configuration",
                        "deploymentCircuitBreaker={enable=true,rollback=true},maximumPercent=200,minimumHealthyPercent=100"
                        )["service"]["deployments"][0]["id"]
        self.wait_for(lambda: any("(deployment %s) deployment failed: tasks failed to start." % failing in e
                                  for e in self.events()), 90, "the circuit breaker")
        self.wait_stable(revision=self.revision["v2"], timeout=120)
        self.assertTrue(any(e.startswith("(service %s) rolling back to deployment ecs-svc/" % SERVICE)
                            for e in self.events()))
        self.assertEqual({self.get()[1].split("-")[0] for _ in range(6)}, {"v2"})

    def daemon_killed_mid_deployment_converges(self):
        d = self.daemon
        d.aws("ecs", "update-service", "--cluster", CLUSTER, "--service", SERVICE, "--task-definition",
              self.revision["v1"])
        self.wait_for(lambda: len(self.running_tasks()) > 3, 30, "the rollout to begin")
        d.kill()
        d.start()
        self.wait_stable(revision=self.revision["v1"], timeout=120)
        tasks = self.running_tasks()
        self.assertEqual(len(tasks), 3)
        self.assertTrue(all(t["taskDefinitionArn"] == self.revision["v1"] for t in tasks))
        healthy = [h for h in self.target_health() if h["TargetHealth"]["State"] == "healthy"]
        self.assertEqual(len(healthy), 3)

    def teardown_out_of_order_gets_aws_errors(self):
        d = self.daemon
        with self.assertRaises(AwsError) as e:
            d.aws("ecs", "delete-service", "--cluster", CLUSTER, "--service", SERVICE)
        self.assertEqual(e.exception.code, "InvalidParameterException")
        self.assertIn("The service cannot be stopped while it is scaled above 0.", e.exception.stderr)
        with self.assertRaises(AwsError) as e:
            d.aws("ecs", "delete-cluster", "--cluster", CLUSTER)
        self.assertEqual(e.exception.code, "ClusterContainsServicesException")
        d.aws("ecs", "update-service", "--cluster", CLUSTER, "--service", SERVICE, "--desired-count", "0")
        deleted = d.aws("ecs", "delete-service", "--cluster", CLUSTER, "--service", SERVICE)["service"]
        self.assertEqual(deleted["status"], "DRAINING")
        self.wait_for(lambda: self.service()["status"] == "INACTIVE", 60, "INACTIVE")
        self.assertEqual(self.target_health(), [])
        self.assertEqual(d.aws("ecs", "list-services", "--cluster", CLUSTER)["serviceArns"], [])
        with self.assertRaises(AwsError) as e:
            d.aws("ecs", "update-service", "--cluster", CLUSTER, "--service", SERVICE, "--desired-count", "1")
        self.assertEqual(e.exception.code, "ServiceNotActiveException")


if __name__ == "__main__":
    unittest.main(verbosity=2)
