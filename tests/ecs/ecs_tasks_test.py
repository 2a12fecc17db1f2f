"""ECS tasks really running, driven as users drive them: the aws CLI and
boto3 against `berth serve` (runc runtime), a busybox image pushed with
skopeo, container instances from `ec2 run-instances`. Each test checks what
a user sees (DescribeTasks, answers on the bindings) and that a stopped task
leaves nothing behind on the machine (network namespaces, cgroups, mounts,
runc state, listening forwarders).

Needs root, runc, umoci, skopeo and busybox-static (scripts/install-deps.sh).
"""
import json
import os
import random
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ecs_task_fixture import (OOM_REASON, TaskFixture, dump, free_port, http_get, is_timeout,  # noqa: E402
                              listeners, wait_http)
from oci_images import BUSYBOX_INDEX_HTML  # noqa: E402


class Tasks(TaskFixture):
    # ---- network modes ----

    def test_bridge_and_host_modes_answer_on_their_bindings(self):
        ci, instance = self.cluster_with_instance("modes")
        public_ip = instance["PublicIpAddress"]
        host_port = free_port()
        self.register("bridge-web", [{"name": "web", "memory": 32, "portMappings": [{"containerPort": 8080}]}])
        self.register("host-web", [{"name": "web", "memory": 32,
                                    "command": ["/bin/busybox", "httpd", "-f", "-p", str(host_port), "-h", "/www"],
                                    "portMappings": [{"containerPort": host_port}]}], network_mode="host")
        bridge = self.run_task("modes", "bridge-web")["tasks"][0]
        host = self.run_task("modes", "host-web")["tasks"][0]
        self.assertEqual(bridge["containerInstanceArn"], ci)
        bridge = self.wait_task("modes", bridge["taskArn"], "RUNNING")
        host = self.wait_task("modes", host["taskArn"], "RUNNING")
        self.assertEqual(bridge["lastStatus"], "RUNNING", dump(bridge))
        self.assertEqual(host["lastStatus"], "RUNNING", dump(host))

        [b] = bridge["containers"][0]["networkBindings"]
        self.assertEqual((b["bindIP"], b["containerPort"], b["protocol"]), ("0.0.0.0", 8080, "tcp"))
        self.assertTrue(49153 <= b["hostPort"] <= 65535, b)
        self.assertEqual(wait_http(public_ip, b["hostPort"]), (200, BUSYBOX_INDEX_HTML))
        [h] = host["containers"][0]["networkBindings"]
        self.assertEqual((h["containerPort"], h["hostPort"]), (host_port, host_port))
        self.assertEqual(wait_http(public_ip, host_port), (200, BUSYBOX_INDEX_HTML))
        self.assertEqual(host["containers"][0]["lastStatus"], "RUNNING")
        self.assertTrue(host["containers"][0]["runtimeId"])

        # The instance's remaining resources count the running tasks and the
        # static port.
        described = self.ecs.describe_container_instances(cluster="modes", containerInstances=[ci])
        remaining = {r["name"]: r for r in described["containerInstances"][0]["remainingResources"]}
        self.assertEqual(remaining["MEMORY"]["integerValue"], 993 - 64)
        self.assertIn(str(host_port), remaining["PORTS"]["stringSetValue"])
        self.assertEqual(described["containerInstances"][0]["runningTasksCount"], 2)

        for t, port in ((bridge, b["hostPort"]), (host, host_port)):
            stopped = self.stop_and_wait("modes", t["taskArn"])
            self.assertEqual(stopped["stopCode"], "UserInitiated")
            self.assertEqual(stopped["stoppedReason"], "test done")
            self.assert_nothing_left(t["taskArn"], ["%s:%d" % (public_ip, port)])
            self.assertIsInstance(http_get(public_ip, port, timeout=1), OSError)

    def eni_of(self, task):
        """The task's ENI attachment details as a dict, checked for AWS's shape."""
        [attachment] = task["attachments"]
        self.assertEqual(attachment["type"], "ElasticNetworkInterface")
        self.assertEqual(attachment["status"], "ATTACHED", dump(task))
        self.assertRegex(attachment["id"], r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
        details = {d["name"]: d["value"] for d in attachment["details"]}
        self.assertEqual(sorted(details), ["macAddress", "networkInterfaceId", "privateDnsName",
                                           "privateIPv4Address", "subnetId"])
        self.assertEqual(details["subnetId"], self.subnet["SubnetId"])
        self.assertRegex(details["networkInterfaceId"], r"^eni-[0-9a-f]{17}$")
        self.assertRegex(details["macAddress"], r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")
        ip = details["privateIPv4Address"]
        net = self.subnet["CidrBlock"].split("/")[0].rsplit(".", 2)[0]  # 172.31.0.0/20 -> 172.31
        self.assertTrue(ip.startswith(net + "."), (ip, self.subnet["CidrBlock"]))
        self.assertEqual(details["privateDnsName"], "ip-%s.ec2.internal" % ip.replace(".", "-"))
        for c in task["containers"]:
            self.assertEqual(c["networkInterfaces"], [{"attachmentId": attachment["id"], "privateIpv4Address": ip}])
            self.assertEqual(c["networkBindings"], [])  # the ENI's ports, not the host's
        return details

    def test_awsvpc_task_on_an_instance_gets_its_own_network_interface(self):
        # t2.micro: two ENIs, the instance's own and one for a task.
        ci, instance = self.cluster_with_instance("vpc", instance_type="t2.micro")
        port = free_port()
        self.register("vpc-web", [{"name": "web", "memory": 32,
                                   "command": ["/bin/busybox", "httpd", "-f", "-p", str(port), "-h", "/www"],
                                   "portMappings": [{"containerPort": port}]}], network_mode="awsvpc")
        vpc_config = {"subnets": [self.subnet["SubnetId"]]}
        refused = self.d.aws_result("ecs", "run-task", "--cluster", "vpc", "--task-definition", "vpc-web",
                                    "--network-configuration", json.dumps({"awsvpcConfiguration": dict(
                                        vpc_config, assignPublicIp="ENABLED")}))
        self.assertNotEqual(refused[0], 0)
        self.assertIn("(InvalidParameterException) when calling the RunTask operation: Assign public IP is not "
                      "supported for this launch type.", refused[2])
        missing = self.d.aws_result("ecs", "run-task", "--cluster", "vpc", "--task-definition", "vpc-web",
                                    "--network-configuration", json.dumps({"awsvpcConfiguration": {
                                        "subnets": ["subnet-0123456789abcdef0"]}}))
        self.assertIn("InvalidParameterException", missing[2])
        self.assertIn("subnet-0123456789abcdef0", missing[2])

        out = self.run_task("vpc", "vpc-web", networkConfiguration={"awsvpcConfiguration": vpc_config})
        [task] = out["tasks"]
        self.assertEqual(task["lastStatus"], "PROVISIONING")
        self.assertEqual(task["attachments"][0]["status"], "PRECREATED")
        self.assertEqual(task["attachments"][0]["details"], [{"name": "subnetId", "value": self.subnet["SubnetId"]}])
        running = self.wait_task("vpc", task["taskArn"], "RUNNING")
        self.assertEqual(running["lastStatus"], "RUNNING", dump(running))
        details = self.eni_of(running)
        self.assertNotEqual(details["privateIPv4Address"], instance["PrivateIpAddress"])
        full = self.run_task("vpc", "vpc-web", networkConfiguration={"awsvpcConfiguration": vpc_config})
        self.assertEqual((full["tasks"], full["failures"]), ([], [{"arn": ci, "reason": "RESOURCE:ENI"}]))
        eni = self.ec2.describe_network_interfaces(
            NetworkInterfaceIds=[details["networkInterfaceId"]])["NetworkInterfaces"][0]
        self.assertEqual(eni["PrivateIpAddress"], details["privateIPv4Address"])
        self.assertEqual(eni["MacAddress"], details["macAddress"])
        self.assertEqual(eni["SubnetId"], self.subnet["SubnetId"])
        self.assertNotIn("Association", eni)  # no public IP on EC2
        self.assertEqual([g["GroupId"] for g in eni["Groups"]], [self.default_group])
        # Its port is its own ENI's, not published on the instance.
        time.sleep(0.3)
        self.assertIsInstance(http_get(instance["PublicIpAddress"], port, timeout=1), OSError)
        self.assertNotIn("%s:%d" % (instance["PublicIpAddress"], port), listeners())

        stopped = self.stop_and_wait("vpc", task["taskArn"])
        self.assertEqual(stopped["attachments"][0]["status"], "DELETED")
        gone = self.d.aws_result("ec2", "describe-network-interfaces", "--network-interface-ids",
                                 details["networkInterfaceId"])
        self.assertIn("InvalidNetworkInterfaceID.NotFound", gone[2])
        self.assert_nothing_left(task["taskArn"])

    def test_fargate_task_with_public_ip_and_security_group_admission(self):
        self.ecs.create_cluster(clusterName="fargate")
        self.clusters.setdefault("fargate", [])
        group = self.ec2.create_security_group(GroupName="fargate-web-%d" % random.randint(0, 1 << 30),
                                               Description="web", VpcId=self.vpc_id)["GroupId"]
        port = free_port()
        self.register("fargate-web", [{"name": "web", "command": ["/bin/busybox", "httpd", "-f", "-p", str(port), "-h", "/www"],
                                       "portMappings": [{"containerPort": port}]}],
                      network_mode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512")
        out = self.run_task("fargate", "fargate-web", launchType="FARGATE", networkConfiguration={
            "awsvpcConfiguration": {"subnets": [self.subnet["SubnetId"]], "securityGroups": [group],
                                    "assignPublicIp": "ENABLED"}})
        [task] = out["tasks"]
        self.assertEqual(task["launchType"], "FARGATE")
        self.assertNotIn("containerInstanceArn", task)
        running = self.wait_task("fargate", task["taskArn"], "RUNNING")
        self.assertEqual(running["lastStatus"], "RUNNING", dump(running))
        self.assertEqual(running["availabilityZone"], self.subnet["AvailabilityZone"])
        details = self.eni_of(running)
        # Where users find a Fargate task's public IP: its ENI.
        eni = self.ec2.describe_network_interfaces(
            NetworkInterfaceIds=[details["networkInterfaceId"]])["NetworkInterfaces"][0]
        public_ip = eni["Association"]["PublicIp"]
        self.assertTrue(public_ip.startswith("127."), public_ip)
        self.assertEqual([g["GroupId"] for g in eni["Groups"]], [group])
        # Task memory is the cgroup limit around its containers.
        task_id = task["taskArn"].rsplit("/", 1)[-1]
        with open("/sys/fs/cgroup/memory/berth/%s/memory.limit_in_bytes" % task_id) as f:
            self.assertEqual(int(f.read()), 512 << 20)
        with open("/sys/fs/cgroup/cpu/berth/%s/cpu.shares" % task_id) as f:
            self.assertEqual(int(f.read()), 256)

        # No ingress rule yet: the connection gets no answer at all.
        self.assertTrue(is_timeout(http_get(public_ip, port, timeout=2)), "answered before an ingress rule")
        self.ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        self.assertEqual(wait_http(public_ip, port, timeout=5), (200, BUSYBOX_INDEX_HTML))
        # Deleting a group an ENI uses is refused while the task runs.
        in_use = self.d.aws_result("ec2", "delete-security-group", "--group-id", group)
        self.assertIn("DependencyViolation", in_use[2])

        self.stop_and_wait("fargate", task["taskArn"])
        self.assert_nothing_left(task["taskArn"], ["%s:%d" % (public_ip, port)])
        self.ec2.delete_security_group(GroupId=group)

    def test_instance_ports_follow_the_instance_security_groups(self):
        group = self.ec2.create_security_group(GroupName="instance-%d" % random.randint(0, 1 << 30),
                                               Description="instances", VpcId=self.vpc_id)["GroupId"]
        _, instance = self.cluster_with_instance("guarded", groups=[group])
        self.register("guarded-web", [{"name": "web", "memory": 32, "portMappings": [{"containerPort": 8080}]}])
        arn = self.run_task("guarded", "guarded-web")["tasks"][0]["taskArn"]
        task = self.wait_task("guarded", arn, "RUNNING")
        port = task["containers"][0]["networkBindings"][0]["hostPort"]
        ip = instance["PublicIpAddress"]
        # The port listens, but the instance's group admits nobody: no answer.
        self.assertIn("%s:%d" % (ip, port), listeners())
        self.assertTrue(is_timeout(http_get(ip, port, timeout=2)), "answered without an ingress rule")
        rule = [{"IpProtocol": "tcp", "FromPort": 49153, "ToPort": 65535, "IpRanges": [{"CidrIp": "127.0.0.0/8"}]}]
        self.ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=rule)
        self.assertEqual(wait_http(ip, port, timeout=5), (200, BUSYBOX_INDEX_HTML))
        # Revoked: new connections are dropped again.
        self.ec2.revoke_security_group_ingress(GroupId=group, IpPermissions=rule)
        time.sleep(0.2)
        self.assertTrue(is_timeout(http_get(ip, port, timeout=2)), "answered after the rule was revoked")
        self.stop_and_wait("guarded", arn)
        self.assert_nothing_left(arn, ["%s:%d" % (ip, port)])

    # ---- limits, health, stop ----

    def test_memory_limit_oom_kills_the_container(self):
        self.cluster_with_instance("oom")
        # tail keeps a line that never ends in memory: far past 16 MiB.
        self.register("oom", [{"name": "hog", "memory": 16,
                               "command": ["sh", "-c", "echo filling; tail /dev/zero"]}])
        task = self.run_task("oom", "oom")["tasks"][0]
        stopped = self.wait_task("oom", task["taskArn"], "STOPPED", timeout=40)
        self.assertEqual(stopped["lastStatus"], "STOPPED", dump(stopped))
        self.assertEqual(stopped["stopCode"], "EssentialContainerExited")
        self.assertEqual(stopped["stoppedReason"], "Essential container in task exited")
        container = stopped["containers"][0]
        self.assertEqual(container["reason"], OOM_REASON)
        self.assertEqual(container["exitCode"], 137)
        self.assertEqual(container["lastStatus"], "STOPPED")
        self.assert_nothing_left(task["taskArn"])

    def test_container_health_checks(self):
        self.cluster_with_instance("health")
        self.register("healthy", [{"name": "web", "memory": 32, "healthCheck": {
            "command": ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/"],
            "interval": 5, "timeout": 2, "retries": 1}}])
        self.register("unhealthy", [{"name": "web", "memory": 32, "healthCheck": {
            "command": ["CMD", "test", "-f", "/no/such/file"], "interval": 5, "timeout": 2, "retries": 1}}])
        good = self.run_task("health", "healthy")["tasks"][0]
        bad = self.run_task("health", "unhealthy")["tasks"][0]
        for t in (good, bad):
            self.assertEqual(t["healthStatus"], "UNKNOWN")
        good = self.wait_task("health", good["taskArn"], None, timeout=20,
                              until=lambda t: t["healthStatus"] != "UNKNOWN" or t["lastStatus"] == "STOPPED")
        bad = self.wait_task("health", bad["taskArn"], None, timeout=20,
                             until=lambda t: t["healthStatus"] != "UNKNOWN" or t["lastStatus"] == "STOPPED")
        self.assertEqual((good["healthStatus"], good["containers"][0]["healthStatus"]), ("HEALTHY", "HEALTHY"),
                         dump(good))
        self.assertEqual((bad["healthStatus"], bad["containers"][0]["healthStatus"]), ("UNHEALTHY", "UNHEALTHY"),
                         dump(bad))
        # A standalone task is not stopped for being unhealthy.
        time.sleep(1)
        self.assertEqual(self.describe("health", bad["taskArn"])["lastStatus"], "RUNNING")
        for t in (good, bad):
            self.stop_and_wait("health", t["taskArn"])
            self.assert_nothing_left(t["taskArn"])

    def test_stop_timeout_sigkills_a_container_ignoring_sigterm(self):
        self.cluster_with_instance("stop")
        self.register("stubborn", [{"name": "c", "memory": 16, "stopTimeout": 3,
                                    "command": ["sh", "-c", "trap '' TERM; while true; do sleep 1; done"]}])
        self.register("polite", [{"name": "c", "memory": 16, "stopTimeout": 20,
                                  "command": ["sh", "-c", "trap 'exit 3' TERM; while true; do sleep 1; done"]}])
        stubborn = self.run_task("stop", "stubborn")["tasks"][0]
        polite = self.run_task("stop", "polite")["tasks"][0]
        for t in (stubborn, polite):
            self.assertEqual(self.wait_task("stop", t["taskArn"], "RUNNING")["lastStatus"], "RUNNING")
        time.sleep(0.5)  # the shells have set their traps
        began = time.monotonic()
        self.ecs.stop_task(cluster="stop", task=stubborn["taskArn"])
        self.ecs.stop_task(cluster="stop", task=polite["taskArn"])
        p = self.wait_task("stop", polite["taskArn"], "STOPPED", timeout=15)
        polite_took = time.monotonic() - began
        s = self.wait_task("stop", stubborn["taskArn"], "STOPPED", timeout=15)
        stubborn_took = time.monotonic() - began
        # SIGTERM handled: it exits with its own code, well before its 20 s.
        self.assertEqual(p["containers"][0].get("exitCode"), 3, dump(p))
        self.assertLess(polite_took, 5)
        # SIGTERM ignored: SIGKILL (137) after its 3 s stopTimeout.
        self.assertEqual(s["containers"][0].get("exitCode"), 137, dump(s))
        self.assertGreaterEqual(stubborn_took, 3)
        self.assertLess(stubborn_took, 8)
        self.assertEqual((s["stopCode"], s["stoppedReason"]), ("UserInitiated", "Task stopped by user"))
        for t in (stubborn, polite):
            self.assert_nothing_left(t["taskArn"])

    def test_image_by_digest(self):
        self.cluster_with_instance("digest")
        digest = self.ecr_digest()
        self.register("by-digest", [{"name": "c", "memory": 16, "image": self.image.rsplit(":", 1)[0] + "@" + digest,
                                     "command": ["sh", "-c", "echo pulled by digest"]}])
        arn = self.run_task("digest", "by-digest")["tasks"][0]["taskArn"]
        stopped = self.wait_task("digest", arn, "STOPPED", timeout=20)
        self.assertEqual(stopped["stopCode"], "EssentialContainerExited", dump(stopped))
        self.assertEqual(stopped["containers"][0]["exitCode"], 0, dump(stopped))
        self.assertEqual(self.berth_logs(arn).stdout, "pulled by digest\n")
        self.assert_nothing_left(arn)

    def ecr_digest(self):
        return self.d.client("ecr").describe_images(repositoryName="busybox")["imageDetails"][0]["imageDigest"]

    # ---- logs ----

    def test_berth_logs_prints_what_containers_wrote(self):
        self.cluster_with_instance("logs")
        self.register("chatty", [
            {"name": "main", "memory": 16, "command": ["sh", "-c", "echo out-$((6*7)); echo err-line >&2; exit 4"]},
            {"name": "side", "memory": 16, "essential": False,
             "command": ["sh", "-c", "echo side-says-hi; while true; do sleep 1; done"]}])
        arn = self.run_task("logs", "chatty")["tasks"][0]["taskArn"]
        stopped = self.wait_task("logs", arn, "STOPPED", timeout=20)
        self.assertEqual(stopped["stopCode"], "EssentialContainerExited", dump(stopped))
        main = [c for c in stopped["containers"] if c["name"] == "main"][0]
        self.assertEqual(main["exitCode"], 4)

        only_main = self.berth_logs(arn, "--container", "main")
        self.assertEqual(only_main.returncode, 0, only_main.stderr)
        self.assertEqual(only_main.stdout, "out-42\nerr-line\n")
        by_id = self.berth_logs(arn.rsplit("/", 1)[-1], "--container", "side")
        self.assertEqual((by_id.returncode, by_id.stdout), (0, "side-says-hi\n"), by_id.stderr)
        both = self.berth_logs(arn)
        self.assertEqual(both.stdout, "==> main <==\nout-42\nerr-line\n==> side <==\nside-says-hi\n")
        unknown = self.berth_logs(arn, "--container", "nope")
        self.assertEqual(unknown.returncode, 1)
        self.assertIn("main, side", unknown.stderr)
        self.assertEqual(self.berth_logs("0123456789abcdef0123456789abcdef").returncode, 1)
        self.assert_nothing_left(arn)

    # ---- placement ----

    def test_placement_failures_on_capacity_and_ports(self):
        ci, instance = self.cluster_with_instance("full")
        port = free_port()
        self.register("too-much-memory", [{"name": "c", "memory": 2000}])
        self.register("too-much-cpu", [{"name": "c", "memory": 16, "cpu": 2048}])
        self.register("static-port", [{"name": "web", "memory": 16,
                                       "portMappings": [{"containerPort": 8080, "hostPort": port}]}])
        for family, reason in (("too-much-memory", "RESOURCE:MEMORY"), ("too-much-cpu", "RESOURCE:CPU")):
            out = self.run_task("full", family)
            self.assertEqual(out["tasks"], [])
            self.assertEqual(out["failures"], [{"arn": ci, "reason": reason}])
        first = self.run_task("full", "static-port")
        self.assertEqual(len(first["tasks"]), 1)
        arn = first["tasks"][0]["taskArn"]
        self.wait_task("full", arn, "RUNNING")
        self.assertEqual(wait_http(instance["PublicIpAddress"], port), (200, BUSYBOX_INDEX_HTML))
        second = self.run_task("full", "static-port")
        self.assertEqual(second["tasks"], [])
        self.assertEqual(second["failures"], [{"arn": ci, "reason": "RESOURCE:PORTS"}])
        # Once the first stops, the port is free again.
        self.stop_and_wait("full", arn)
        self.assert_nothing_left(arn, ["%s:%d" % (instance["PublicIpAddress"], port)])
        third = self.run_task("full", "static-port")
        self.assertEqual(len(third["tasks"]), 1, third)
        self.wait_task("full", third["tasks"][0]["taskArn"], "RUNNING")
        self.assertEqual(wait_http(instance["PublicIpAddress"], port), (200, BUSYBOX_INDEX_HTML))
        self.stop_and_wait("full", third["tasks"][0]["taskArn"])
        self.assert_nothing_left(third["tasks"][0]["taskArn"], ["%s:%d" % (instance["PublicIpAddress"], port)])

    # ---- adoption ----

    def test_sigkilled_daemon_adopts_its_running_task(self):
        ci, instance = self.cluster_with_instance("adopt")
        public_ip = instance["PublicIpAddress"]
        self.register("adopted", [{"name": "web", "memory": 32, "portMappings": [{"containerPort": 8080}]}])
        fargate_port = free_port()
        self.register("adopted-fargate", [{"name": "web", "portMappings": [{"containerPort": fargate_port}],
                                           "command": ["/bin/busybox", "httpd", "-f", "-p", str(fargate_port),
                                                       "-h", "/www"]}],
                      network_mode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512")
        arn = self.run_task("adopt", "adopted")["tasks"][0]["taskArn"]
        doomed = self.run_task("adopt", "adopted")["tasks"][0]["taskArn"]
        fargate = self.run_task("adopt", "adopted-fargate", launchType="FARGATE", networkConfiguration={
            "awsvpcConfiguration": {"subnets": [self.subnet["SubnetId"]], "assignPublicIp": "ENABLED"}},
        )["tasks"][0]["taskArn"]
        before = self.wait_task("adopt", arn, "RUNNING")
        port = before["containers"][0]["networkBindings"][0]["hostPort"]
        self.assertEqual(wait_http(public_ip, port), (200, BUSYBOX_INDEX_HTML))
        doomed_before = self.wait_task("adopt", doomed, "RUNNING")
        fargate_before = self.wait_task("adopt", fargate, "RUNNING")
        eni_id = self.eni_of(fargate_before)["networkInterfaceId"]
        fargate_ip = self.ec2.describe_network_interfaces(
            NetworkInterfaceIds=[eni_id])["NetworkInterfaces"][0]["Association"]["PublicIp"]
        self.assertEqual(wait_http(fargate_ip, fargate_port), (200, BUSYBOX_INDEX_HTML))
        runc_root = os.path.join(self.d.data_dir, "runtime", "runc")
        doomed_pid = json.loads(subprocess.run(
            ["runc", "--root", runc_root, "state", doomed_before["containers"][0]["runtimeId"]],
            capture_output=True, text=True, check=True).stdout)["pid"]
        containers_before = subprocess.run(["runc", "--root", runc_root, "list", "-q"], capture_output=True,
                                           text=True).stdout.split()

        self.d.kill()
        # One container dies while no daemon watches it.
        os.kill(doomed_pid, signal.SIGKILL)
        began = time.monotonic()
        self.d.start()
        ready = time.monotonic() - began
        got = wait_http(public_ip, port, timeout=5)
        answered = time.monotonic() - began
        self.assertEqual(got, (200, BUSYBOX_INDEX_HTML))
        # Ports are bound again while the daemon starts, before its API answers.
        self.assertLess(answered - ready, 1.0, "answered %.2f s after the API was ready" % (answered - ready))
        self.assertLess(answered, 5.0)  # spawn to answer, on a loaded machine

        after = self.describe("adopt", arn)
        self.assertEqual(after["lastStatus"], "RUNNING")
        self.assertEqual(after["desiredStatus"], "RUNNING")
        self.assertEqual(after["containers"][0]["runtimeId"], before["containers"][0]["runtimeId"])
        self.assertEqual(after["containers"][0]["networkBindings"][0]["hostPort"], port)
        # The FARGATE task too, on its ENI's public IP, the same ENI.
        self.assertEqual(wait_http(fargate_ip, fargate_port, timeout=2), (200, BUSYBOX_INDEX_HTML))
        fargate_after = self.describe("adopt", fargate)
        self.assertEqual(fargate_after["lastStatus"], "RUNNING")
        self.assertEqual(self.eni_of(fargate_after)["networkInterfaceId"], eni_id)
        # The one that died meanwhile is found stopped, and cleaned up.
        gone = self.wait_task("adopt", doomed, "STOPPED", timeout=10)
        self.assertEqual(gone["stopCode"], "EssentialContainerExited", dump(gone))
        self.assert_nothing_left(doomed)
        self.assertEqual(sorted(self.ecs.list_tasks(cluster="adopt")["taskArns"]), sorted([arn, fargate]))
        time.sleep(0.5)  # a duplicate start would show by now
        containers_after = subprocess.run(["runc", "--root", runc_root, "list", "-q"], capture_output=True,
                                          text=True).stdout.split()
        doomed_id = doomed.rsplit("/", 1)[-1]
        self.assertEqual(sorted(containers_after), sorted(c for c in containers_before if not c.startswith(doomed_id)))
        self.assertEqual(len([c for c in containers_after if c.startswith(arn.rsplit("/", 1)[-1])]), 1)
        ci_doc = self.ecs.describe_container_instances(cluster="adopt", containerInstances=[ci])
        self.assertEqual(ci_doc["containerInstances"][0]["runningTasksCount"], 1)

        self.stop_and_wait("adopt", arn)
        self.assert_nothing_left(arn, ["%s:%d" % (public_ip, port)])
        self.stop_and_wait("adopt", fargate)
        self.assert_nothing_left(fargate, ["%s:%d" % (fargate_ip, fargate_port)])


if __name__ == "__main__":
    unittest.main(verbosity=2)
