"""Services through `berth serve`, as a user sees them with boto3: the time
from CreateService to a steady service (one COMPLETED deployment,
runningCount == desiredCount, every task healthy in the target group) for
3, 30 and 100 bridge tasks of busybox httpd behind the real ALB (image
cached), then the rollout time of a 10-task service to a new revision.
The target group checks every 5 s and needs 2 passes (the AWS minimum), so
the health-check arithmetic alone is 5-10 s of each figure; it is printed
beside them.

usage: service_bench.py BERTH_BIN
Prints one JSON object. Needs root, runc, umoci, skopeo, busybox-static.
"""
import json
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "lib"))
INTERVAL, HEALTHY_THRESHOLD = 5, 2


def main():
    os.environ.setdefault("BERTH_BIN", os.path.abspath(sys.argv[1]))
    from berth_harness import Daemon
    from ecs_setup import join_instances, push_busybox

    work = tempfile.mkdtemp(prefix="berth-service-bench-")
    d = Daemon().start()
    ecs, ec2, elb = d.client("ecs"), d.client("ec2"), d.client("elbv2")
    result = {"health_check_arithmetic_s": {"interval": INTERVAL, "healthy_threshold": HEALTHY_THRESHOLD,
                                            "min": INTERVAL * (HEALTHY_THRESHOLD - 1),
                                            "max": INTERVAL * HEALTHY_THRESHOLD}}
    try:
        image = push_busybox(d, "bench", work)
        vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
        sg = ec2.create_security_group(GroupName="bench", Description="bench", VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 1, "ToPort": 65535, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        ecs.create_cluster(clusterName="bench")
        join_instances(d, "bench", count=4, instance_type="m5.xlarge", SecurityGroupIds=[sg])
        lb = elb.create_load_balancer(Name="bench", Subnets=subnets, SecurityGroups=[sg])["LoadBalancers"][0]
        tg = elb.create_target_group(Name="bench", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="instance",
                                     HealthCheckIntervalSeconds=INTERVAL, HealthCheckTimeoutSeconds=2,
                                     HealthyThresholdCount=HEALTHY_THRESHOLD)["TargetGroups"][0]["TargetGroupArn"]
        elb.modify_target_group_attributes(TargetGroupArn=tg, Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": "5"}])
        elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=8095,
                            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
        revisions = []
        for version in ("v1", "v2"):
            container = {"name": "web", "image": image, "memory": 32, "essential": True, "stopTimeout": 2,
                         "command": ["/bin/sh", "-c", "mkdir -p /v && echo %s > /v/index.html && "
                                     "exec /bin/busybox httpd -f -p 8080 -h /v" % version],
                         "portMappings": [{"containerPort": 8080, "hostPort": 0}]}
            revisions.append(ecs.register_task_definition(family="bench", containerDefinitions=[container])[
                "taskDefinition"]["taskDefinitionArn"])

        def stable(name, revision, desired, timeout):
            deadline = time.time() + timeout
            while time.time() < deadline:
                s = ecs.describe_services(cluster="bench", services=[name])["services"][0]
                deps = s["deployments"]
                if (len(deps) == 1 and deps[0]["rolloutState"] == "COMPLETED" and s["runningCount"] == desired
                        and s["taskDefinition"] == revision):
                    healthy = [h for h in elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
                               if h["TargetHealth"]["State"] == "healthy"]
                    if len(healthy) == desired:
                        return
                time.sleep(0.1)
            raise AssertionError("service %s never stable" % name)

        def delete(name):
            ecs.delete_service(cluster="bench", service=name, force=True)
            deadline = time.time() + 120
            while ecs.describe_services(cluster="bench", services=[name])["services"][0]["status"] != "INACTIVE":
                assert time.time() < deadline, "service %s never INACTIVE" % name
                time.sleep(0.2)

        lbs = [{"targetGroupArn": tg, "containerName": "web", "containerPort": 8080}]
        steady = {}
        for n in (3, 30, 100):
            name = "s%d" % n
            t0 = time.monotonic()
            ecs.create_service(cluster="bench", serviceName=name, taskDefinition=revisions[0], desiredCount=n,
                               loadBalancers=lbs)
            stable(name, revisions[0], n, 300)
            steady[str(n)] = round(time.monotonic() - t0, 2)
            delete(name)
        result["create_to_steady_s"] = steady
        ecs.create_service(cluster="bench", serviceName="roll", taskDefinition=revisions[0], desiredCount=10,
                           loadBalancers=lbs)
        stable("roll", revisions[0], 10, 300)
        t0 = time.monotonic()
        ecs.update_service(cluster="bench", service="roll", taskDefinition=revisions[1])
        stable("roll", revisions[1], 10, 300)
        result["rollout_10_tasks_s"] = round(time.monotonic() - t0, 2)
        delete("roll")
    finally:
        d.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
