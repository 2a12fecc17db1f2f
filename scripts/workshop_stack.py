#!/usr/bin/python3
"""The outyet workshop's stack on a running berth, with the workshop's names,
through the public API only (boto3 makes the calls the aws CLI makes; one
process, so the whole stack takes seconds, not a CLI start-up per call).

Run by scripts/workshop.sh after `eval "$(berth env)"`: reads AWS_ENDPOINT_URL
and the key from the environment. Reuses what exists, so a second run changes
nothing. Each step says what it does; podman shows its build and push.

usage: workshop_stack.py DATA_DIR PODMAN_ROOT
"""
import base64
import json
import os
import subprocess
import sys
import time

import boto3
import botocore.exceptions

NAMES = {"repository": "outyet-image", "key": "outyet", "alb_sg": "outyet-alb-sg", "instance_sg": "outyet-sg",
         "cluster": "outyet-cluster", "family": "outyet-task", "alb": "outyet-alb",
         "target_group": "outyet-alb-target-group", "service": "outyet-service"}
INSTANCES = 2
TASKS = 3
ECS_ROLE = "arn:aws:iam::%s:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"


def say(text):
    print("== " + text, flush=True)


def error_code(e):
    return e.response.get("Error", {}).get("Code", "")


class Workshop:
    def __init__(self, data_dir, podman_root):
        self.data_dir, self.podman_root = data_dir, podman_root
        self.endpoint = os.environ["AWS_ENDPOINT_URL"]
        self.registry = self.endpoint.split("://", 1)[1]
        session = boto3.session.Session(region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
        client = lambda name: session.client(name, endpoint_url=self.endpoint)  # noqa: E731
        self.ecr, self.ec2, self.ecs, self.elbv2, self.sts = (client(n) for n in ("ecr", "ec2", "ecs", "elbv2", "sts"))

    def image(self):
        say("ECR: repository %s, the outyet image built with podman and pushed" % NAMES["repository"])
        try:
            self.ecr.create_repository(repositoryName=NAMES["repository"])
        except botocore.exceptions.ClientError as e:
            if error_code(e) != "RepositoryAlreadyExistsException":
                raise
        podman = ["podman", "--root", os.path.join(self.podman_root, "root"), "--runroot",
                  os.path.join(self.podman_root, "run"), "--storage-driver", "vfs"]
        subprocess.run(podman + ["build", "--isolation=chroot", "--layers", "-t", NAMES["repository"], "."],
                       check=True)
        token = self.ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
        password = base64.b64decode(token).decode().split(":", 1)[1]
        subprocess.run(podman + ["login", "--tls-verify=false", "--username", "AWS", "--password-stdin",
                                 self.registry], input=password.encode(), check=True, stdout=subprocess.DEVNULL)
        subprocess.run(podman + ["push", "--tls-verify=false", NAMES["repository"],
                                 "%s/%s:latest" % (self.registry, NAMES["repository"])], check=True)

    def network(self):
        say("EC2: key pair %s, security groups %s (80 from anywhere) and %s (tcp 1-65535 from the load balancer's)"
            % (NAMES["key"], NAMES["alb_sg"], NAMES["instance_sg"]))
        self.vpc = self.ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
        subnets = self.ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [self.vpc]}])["Subnets"]
        self.subnets = [s["SubnetId"] for s in subnets[:2]]
        if not self.ec2.describe_key_pairs(Filters=[{"Name": "key-name", "Values": [NAMES["key"]]}])["KeyPairs"]:
            material = self.ec2.create_key_pair(KeyName=NAMES["key"])["KeyMaterial"]
            pem = os.path.join(self.data_dir, "outyet.pem")
            with open(os.open(pem, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
                f.write(material)
        self.alb_sg = self.group(NAMES["alb_sg"], "outyet load balancer", [
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
             "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}])
        # Only the load balancer's group reaches the instances: berth's ALB
        # connects to the tasks on the instances' private addresses, carrying
        # outyet-alb-sg, as on AWS.
        self.instance_sg = self.group(NAMES["instance_sg"], "outyet instances", [
            {"IpProtocol": "tcp", "FromPort": 1, "ToPort": 65535, "UserIdGroupPairs": [{"GroupId": self.alb_sg}]}])

    def group(self, name, description, rules):
        found = self.ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [name]}])["SecurityGroups"]
        if found:
            return found[0]["GroupId"]
        group = self.ec2.create_security_group(GroupName=name, Description=description, VpcId=self.vpc)["GroupId"]
        self.ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=rules)
        return group

    def cluster(self):
        say("ECS: cluster %s with %d t2.nano container instances" % (NAMES["cluster"], INSTANCES))
        self.ecs.create_cluster(clusterName=NAMES["cluster"])
        have = len(self.ecs.list_container_instances(cluster=NAMES["cluster"], status="ACTIVE")["containerInstanceArns"])
        if have < INSTANCES:
            ami = self.ec2.describe_images(Owners=["amazon"], Filters=[
                {"Name": "name", "Values": ["amzn2-ami-ecs-hvm-*"]}])["Images"][0]["ImageId"]
            self.ec2.run_instances(
                ImageId=ami, InstanceType="t2.nano", MinCount=INSTANCES - have, MaxCount=INSTANCES - have,
                KeyName=NAMES["key"], SecurityGroupIds=[self.instance_sg],
                UserData="#!/bin/bash\necho ECS_CLUSTER=%s >> /etc/ecs/ecs.config\n" % NAMES["cluster"],
                TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "outyet-ecs"}]}])
        self.wait("%d container instances to join" % INSTANCES, 30, lambda: len(self.ecs.list_container_instances(
            cluster=NAMES["cluster"], status="ACTIVE")["containerInstanceArns"]) >= INSTANCES)

    def task_definition(self):
        say("ECS: task definition %s" % NAMES["family"])
        try:
            self.ecs.describe_task_definition(taskDefinition=NAMES["family"])
            return
        except botocore.exceptions.ClientError:
            pass
        self.ecs.register_task_definition(
            family=NAMES["family"], networkMode="bridge", requiresCompatibilities=["EC2"],
            containerDefinitions=[{
                "name": "outyet", "image": "%s/%s:latest" % (self.registry, NAMES["repository"]), "memory": 128,
                "essential": True, "portMappings": [{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}],
                "command": ["-http", ":8080", "-version", "1.4"]}])

    def load_balancer(self):
        say("ALB: %s, target group %s, listener on port 80" % (NAMES["alb"], NAMES["target_group"]))
        try:
            lb = self.elbv2.describe_load_balancers(Names=[NAMES["alb"]])["LoadBalancers"][0]
        except botocore.exceptions.ClientError as e:
            if error_code(e) != "LoadBalancerNotFound":
                raise
            lb = self.elbv2.create_load_balancer(Name=NAMES["alb"], Subnets=self.subnets,
                                                 SecurityGroups=[self.alb_sg])["LoadBalancers"][0]
        self.lb_arn, self.dns = lb["LoadBalancerArn"], lb["DNSName"]
        try:
            tg = self.elbv2.describe_target_groups(Names=[NAMES["target_group"]])["TargetGroups"][0]
        except botocore.exceptions.ClientError as e:
            if error_code(e) != "TargetGroupNotFound":
                raise
            tg = self.elbv2.create_target_group(
                Name=NAMES["target_group"], Protocol="HTTP", Port=8080, VpcId=self.vpc, TargetType="instance",
                HealthCheckPath="/", HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
                HealthyThresholdCount=2)["TargetGroups"][0]
            self.elbv2.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"], Attributes=[
                {"Key": "deregistration_delay.timeout_seconds", "Value": "30"}])
        self.tg_arn = tg["TargetGroupArn"]
        if not self.elbv2.describe_listeners(LoadBalancerArn=self.lb_arn)["Listeners"]:
            self.elbv2.create_listener(LoadBalancerArn=self.lb_arn, Protocol="HTTP", Port=80, DefaultActions=[
                {"Type": "forward", "TargetGroupArn": self.tg_arn}])

    def service(self):
        say("ECS: service %s, %d tasks behind the load balancer" % (NAMES["service"], TASKS))
        found = self.ecs.describe_services(cluster=NAMES["cluster"], services=[NAMES["service"]])["services"]
        if not found or found[0]["status"] != "ACTIVE":
            account = self.sts.get_caller_identity()["Account"]
            # The seed's ecs-service.json, as `aws ecs create-service --cli-input-json` reads it.
            definition = {
                "cluster": NAMES["cluster"], "serviceName": NAMES["service"], "taskDefinition": NAMES["family"],
                "desiredCount": TASKS, "launchType": "EC2", "role": ECS_ROLE % account,
                "loadBalancers": [{"targetGroupArn": self.tg_arn, "containerName": "outyet", "containerPort": 8080}],
                "deploymentConfiguration": {"maximumPercent": 200, "minimumHealthyPercent": 100}}
            with open(os.path.join(self.data_dir, "ecs-service.json"), "w") as f:
                json.dump(definition, f, indent=2)
            self.ecs.create_service(**definition)

        def healthy():
            targets = self.elbv2.describe_target_health(TargetGroupArn=self.tg_arn)["TargetHealthDescriptions"]
            return sum(t["TargetHealth"]["State"] == "healthy" for t in targets) >= TASKS
        try:
            self.wait("%d healthy targets" % TASKS, 90, healthy)
        except TimeoutError:
            events = self.ecs.describe_services(cluster=NAMES["cluster"], services=[NAMES["service"]])
            for e in events["services"][0]["events"][:5]:
                print("  " + e["message"], file=sys.stderr)
            raise

    def wait(self, what, seconds, done):
        deadline = time.monotonic() + seconds
        while not done():
            if time.monotonic() > deadline:
                raise TimeoutError("gave up after %d s waiting for %s" % (seconds, what))
            time.sleep(0.2)

    def run(self):
        self.image()
        self.network()
        self.cluster()
        self.task_definition()
        self.load_balancer()
        self.service()
        print("\noutyet is served by the load balancer at: http://%s/" % self.dns)


if __name__ == "__main__":
    try:
        Workshop(sys.argv[1], sys.argv[2]).run()
    except (botocore.exceptions.ClientError, subprocess.CalledProcessError, TimeoutError) as e:
        print("workshop: %s" % e, file=sys.stderr)
        sys.exit(1)
