"""The stacks the export tests export, built through the public API:
the workshop's own (scripts/workshop_stack.py's steps, so the names and
settings are the workshop's) and a FARGATE variant beside it.

Containers need not run for an export: the daemon runs with
BERTH_TASK_RUNTIME=none, the repository stays empty (no podman build) and
the workshop's wait for healthy targets is skipped; everything the export
reads (groups, instances, task definitions, services, load balancers) is
the same as in the workshop."""
import importlib.util
import os

import boto3

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def load_workshop():
    spec = importlib.util.spec_from_file_location("workshop_stack", os.path.join(ROOT, "scripts", "workshop_stack.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


workshop_stack = load_workshop()
NAMES = workshop_stack.NAMES


class WorkshopWithoutContainers(workshop_stack.Workshop):
    def image(self):
        self.ecr.create_repository(repositoryName=NAMES["repository"])

    def wait(self, what, seconds, done):
        if "healthy targets" in what:
            return  # no container runs here
        super().wait(what, seconds, done)

    def build(self):
        self.network()
        self.image()
        self.cluster()
        self.task_definition()
        self.load_balancer()
        self.service()
        session = boto3.session.Session(region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
        self.scaling = session.client("application-autoscaling", endpoint_url=self.endpoint)
        self.logs = session.client("logs", endpoint_url=self.endpoint)
        # The workshop's scaling exercise: requests per target on the EC2 service.
        resource = "service/%s/%s" % (NAMES["cluster"], NAMES["service"])
        self.scaling.register_scalable_target(ServiceNamespace="ecs", ResourceId=resource,
                                              ScalableDimension="ecs:service:DesiredCount", MinCapacity=3,
                                              MaxCapacity=6)
        lb_label = self.lb_arn.split(":loadbalancer/", 1)[1]
        tg_label = self.tg_arn.split(":", 5)[5]
        self.scaling.put_scaling_policy(
            PolicyName="outyet-requests", ServiceNamespace="ecs", ResourceId=resource,
            ScalableDimension="ecs:service:DesiredCount", PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": 100.0, "ScaleInCooldown": 60, "ScaleOutCooldown": 30,
                "PredefinedMetricSpecification": {"PredefinedMetricType": "ALBRequestCountPerTarget",
                                                  "ResourceLabel": lb_label + "/" + tg_label}})

    def build_fargate(self):
        """The guide's FARGATE exercise: its own group admitting the load
        balancer's, an ip target group behind a rule of the listener, a task
        definition of awsvpc with awslogs, a service with its network
        configuration and CPU target tracking."""
        self.logs.create_log_group(logGroupName="/ecs/outyet-fargate")
        self.logs.put_retention_policy(logGroupName="/ecs/outyet-fargate", retentionInDays=7)
        self.fargate_sg = self.group("outyet-fargate-sg", "outyet tasks on FARGATE", [
            {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": self.alb_sg}]}])
        tg = self.elbv2.create_target_group(
            Name="outyet-fargate-target-group", Protocol="HTTP", Port=8080, VpcId=self.vpc, TargetType="ip",
            HealthCheckPath="/", HealthCheckIntervalSeconds=10, HealthCheckTimeoutSeconds=5, HealthyThresholdCount=3,
            UnhealthyThresholdCount=2, Matcher={"HttpCode": "200-299"})["TargetGroups"][0]
        self.fargate_tg = tg["TargetGroupArn"]
        self.elbv2.modify_target_group_attributes(TargetGroupArn=self.fargate_tg, Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": "10"},
            {"Key": "slow_start.duration_seconds", "Value": "30"}])
        listener = self.elbv2.describe_listeners(LoadBalancerArn=self.lb_arn)["Listeners"][0]["ListenerArn"]
        self.elbv2.create_rule(ListenerArn=listener, Priority=10, Conditions=[
            {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/fargate/*"]}}], Actions=[
            {"Type": "forward", "ForwardConfig": {"TargetGroups": [
                {"TargetGroupArn": self.fargate_tg, "Weight": 1}, {"TargetGroupArn": self.tg_arn, "Weight": 0}]}}])
        account = self.sts.get_caller_identity()["Account"]
        self.ecs.register_task_definition(
            family="outyet-fargate-task", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
            memory="512", executionRoleArn="arn:aws:iam::%s:role/ecsTaskExecutionRole" % account,
            containerDefinitions=[{
                "name": "outyet", "image": "%s.dkr.ecr.us-east-1.amazonaws.com/outyet-image:v2" % account,
                "essential": True, "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
                "environment": [{"name": "GODEBUG", "value": "http2server=0"}],
                "healthCheck": {"command": ["CMD-SHELL", "wget -q -O - http://localhost:8080/ || exit 1"],
                                "interval": 10, "retries": 3},
                "logConfiguration": {"logDriver": "awslogs", "options": {
                    "awslogs-group": "/ecs/outyet-fargate", "awslogs-region": "us-east-1",
                    "awslogs-stream-prefix": "outyet"}}}])
        self.ecs.create_service(
            cluster=NAMES["cluster"], serviceName="outyet-fargate-service", taskDefinition="outyet-fargate-task",
            desiredCount=2, launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": self.subnets,
                                                          "securityGroups": [self.fargate_sg],
                                                          "assignPublicIp": "DISABLED"}},
            loadBalancers=[{"targetGroupArn": self.fargate_tg, "containerName": "outyet", "containerPort": 8080}],
            healthCheckGracePeriodSeconds=30,
            deploymentConfiguration={"maximumPercent": 200, "minimumHealthyPercent": 50,
                                     "deploymentCircuitBreaker": {"enable": True, "rollback": True}})
        resource = "service/%s/outyet-fargate-service" % NAMES["cluster"]
        self.scaling.register_scalable_target(ServiceNamespace="ecs", ResourceId=resource,
                                              ScalableDimension="ecs:service:DesiredCount", MinCapacity=2,
                                              MaxCapacity=4)
        self.scaling.put_scaling_policy(
            PolicyName="outyet-fargate-cpu", ServiceNamespace="ecs", ResourceId=resource,
            ScalableDimension="ecs:service:DesiredCount", PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": 60.0,
                "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}})
        # What cannot go: a target registered by hand, by an address on the host.
        self.manual_tg = self.elbv2.create_target_group(
            Name="outyet-by-hand", Protocol="HTTP", Port=80, VpcId=self.vpc, TargetType="ip")["TargetGroups"][0]
        return self.manual_tg["TargetGroupArn"]
