#!/usr/bin/python3
"""`berth export cloudformation` on the workshop stack (EC2 launch type,
bridge mode, an ALB, a service of 3, request-count scaling) and on the same
stack with the guide's FARGATE variant added (awsvpc, a service with its
network configuration, a listener rule with weighted forwarding, awslogs
into a log group, CPU scaling), plus a target registered by hand by an
address on the host, which cannot be exported.

Each template is checked against the CloudFormation resource specification
(cfn_validate.py, npm's @aws-cdk/cfnspec), read back and compared field by
field with berth's state as the API describes it, exported twice to the
same bytes, and its YAML form parsed to the same document. No container
runs (BERTH_TASK_RUNTIME=none): the export reads the API's state only."""
import json
import os
import subprocess
import sys
import unittest

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)
import berth_harness  # noqa: E402
import cfn_validate  # noqa: E402
import export_stack  # noqa: E402

SPEC = cfn_validate.load_spec()


def export(daemon, *args):
    p = subprocess.run([berth_harness.BERTH, "export", "cloudformation", "--data-dir", daemon.data_dir, *args],
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError("berth export %s failed (%d): %s" % (" ".join(args), p.returncode, p.stderr))
    return p.stdout, p.stderr


class Template:
    """An exported template read back: resources by type and berth name."""

    NAME_FIELDS = {"AWS::ECS::Cluster": "ClusterName", "AWS::ECS::Service": "ServiceName",
                   "AWS::ECS::TaskDefinition": "Family", "AWS::ElasticLoadBalancingV2::TargetGroup": "Name",
                   "AWS::ElasticLoadBalancingV2::LoadBalancer": "Name", "AWS::Logs::LogGroup": "LogGroupName",
                   "AWS::ECR::Repository": "RepositoryName"}

    def __init__(self, text):
        self.doc = json.loads(text)
        self.resources = self.doc["Resources"]

    def of_type(self, resource_type):
        return {i: r for i, r in self.resources.items() if r["Type"] == resource_type}

    def name(self, logical_id):
        r = self.resources[logical_id]
        if r["Type"] == "AWS::EC2::SecurityGroup":
            return {t["Key"]: t["Value"] for t in r["Properties"]["Tags"]}["Name"]
        return r["Properties"][self.NAME_FIELDS[r["Type"]]]

    def named(self, resource_type, name):
        found = [r["Properties"] for i, r in self.of_type(resource_type).items() if self.name(i) == name]
        assert len(found) == 1, "%d %s named %s in the template" % (len(found), resource_type, name)
        return found[0]

    def target(self, value):
        """The logical id a Ref or Fn::GetAtt names."""
        if "Ref" in value:
            return value["Ref"]
        return value["Fn::GetAtt"][0]

    def ref_name(self, value):
        return self.name(self.target(value))


class ExportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = berth_harness.Daemon(env={"BERTH_TASK_RUNTIME": "none"}).start()
        cls.saved_env = dict(os.environ)
        try:
            for k in [k for k in os.environ if k.startswith("AWS_")]:
                del os.environ[k]
            os.environ.update(cls.daemon.creds)
            os.environ["AWS_CONFIG_FILE"] = os.environ["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null"
            cls.stack = export_stack.WorkshopWithoutContainers(cls.daemon.data_dir, "/nonexistent")
            cls.stack.build()
            cls.workshop_json, cls.workshop_notes = export(cls.daemon, "--stack", "outyet")
            cls.workshop_json_again, _ = export(cls.daemon, "--stack", "outyet")
            cls.workshop_yaml, _ = export(cls.daemon, "--stack", "outyet", "--format", "yaml")
            manual = cls.stack.build_fargate()
            cls.stack.elbv2.register_targets(TargetGroupArn=manual, Targets=[
                {"Id": cls.daemon.address, "Port": 8080, "AvailabilityZone": "all"}])
            out = os.path.join(cls.daemon.data_dir, "outyet.json")
            _, cls.fargate_notes = export(cls.daemon, "--stack", "outyet", "-o", out)
            with open(out) as f:
                cls.fargate_json = f.read()
            cls.fargate_yaml, _ = export(cls.daemon, "--stack", "outyet", "--format", "yaml")
            cls.fargate_json_again, _ = export(cls.daemon, "--stack", "outyet")
            cls.account = cls.stack.sts.get_caller_identity()["Account"]
        except BaseException:
            cls.daemon.cleanup()
            os.environ.clear()
            os.environ.update(cls.saved_env)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.daemon.cleanup()
        os.environ.clear()
        os.environ.update(cls.saved_env)

    def templates(self):
        return {"workshop": self.workshop_json, "fargate": self.fargate_json}

    # ---- the templates as CloudFormation sees them ----

    def test_both_templates_are_valid_against_the_resource_specification(self):
        for name, text in self.templates().items():
            problems = cfn_validate.validate(json.loads(text), SPEC)
            self.assertEqual(problems, [], msg="the %s template is not valid:\n%s" % (name, "\n".join(problems)))

    def test_the_yaml_form_is_the_same_document(self):
        for json_text, yaml_text in ((self.workshop_json, self.workshop_yaml), (self.fargate_json, self.fargate_yaml)):
            self.assertEqual(yaml.safe_load(yaml_text), json.loads(json_text),
                             msg="the YAML export parses to another document")

    def test_two_exports_of_the_same_state_are_byte_identical(self):
        self.assertEqual(self.workshop_json, self.workshop_json_again)
        self.assertEqual(self.fargate_json, self.fargate_json_again)

    def test_nothing_berth_only_leaks(self):
        for name, text in self.templates().items():
            for berth_only in (self.daemon.address, "127.0.", "elb.localhost", "arn:aws:", self.account, "sg-", "i-0",
                               "vpc-", "subnet-", ":4566"):
                self.assertNotIn(berth_only, text, msg="%s leaks into the %s template" % (berth_only, name))

    def test_parameters_are_the_account_network_and_the_ecs_optimized_ami(self):
        params = Template(self.workshop_json).doc["Parameters"]
        self.assertEqual(params["VpcId"]["Type"], "AWS::EC2::VPC::Id")
        self.assertEqual(params["Subnets"]["Type"], "List<AWS::EC2::Subnet::Id>")
        self.assertEqual(params["EcsAmiId"], dict(params["EcsAmiId"], **{
            "Type": "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
            "Default": "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"}))

    def test_what_cannot_be_exported_is_said_and_the_rest_is_written(self):
        self.assertIn("not exported: target %s:8080 of target group outyet-by-hand, registered by IP address on "
                      "the host" % self.daemon.address, self.fargate_notes)
        self.assertIn("not exported: key pair outyet", self.fargate_notes)
        Template(self.fargate_json).named("AWS::ElasticLoadBalancingV2::TargetGroup", "outyet-by-hand")
        self.assertNotIn("outyet-by-hand", self.workshop_notes)
        for tag in ("latest", "v2"):
            self.assertIn('podman push %s/outyet-image:%s "$ACCOUNT.dkr.ecr.$REGION.amazonaws.com/outyet-image:%s"'
                          % (self.daemon.endpoint.split("://")[1], tag, tag), self.fargate_notes)

    def test_one_cluster_by_name_and_an_unknown_one_refused(self):
        one, _ = export(self.daemon, "--stack", "outyet", "--cluster", "outyet-cluster")
        self.assertEqual(one, self.fargate_json, msg="berth has one cluster: --cluster names all of it")
        p = subprocess.run([berth_harness.BERTH, "export", "cloudformation", "--data-dir", self.daemon.data_dir,
                            "--cluster", "no-such-cluster"], capture_output=True, text=True, timeout=60)
        self.assertEqual((p.returncode, p.stdout), (1, ""), msg=p.stderr)
        self.assertIn("ClusterNotFoundException", p.stderr)

    # ---- read back: the same architecture as berth's state ----

    def rules_in_berth(self, group_name):
        g = self.stack.ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [group_name]}])
        names = {x["GroupId"]: x["GroupName"] for x in self.stack.ec2.describe_security_groups()["SecurityGroups"]}
        rules = set()
        for p in g["SecurityGroups"][0]["IpPermissions"]:
            base = (p["IpProtocol"], p.get("FromPort"), p.get("ToPort"))
            rules |= {base + (r["CidrIp"],) for r in p.get("IpRanges", [])}
            rules |= {base + (r["CidrIpv6"],) for r in p.get("Ipv6Ranges", [])}
            rules |= {base + ("group " + names[r["GroupId"]],) for r in p.get("UserIdGroupPairs", [])}
        return rules, g["SecurityGroups"][0]["IpPermissionsEgress"]

    def rules_in_template(self, t, group_name):
        group_id = [i for i in t.of_type("AWS::EC2::SecurityGroup") if t.name(i) == group_name][0]
        props = t.resources[group_id]["Properties"]
        rules = {(r["IpProtocol"], r.get("FromPort"), r.get("ToPort"), r.get("CidrIp") or r.get("CidrIpv6"))
                 for r in props.get("SecurityGroupIngress", [])}
        for r in t.of_type("AWS::EC2::SecurityGroupIngress").values():
            p = r["Properties"]
            if t.target(p["GroupId"]) == group_id:
                rules.add((p["IpProtocol"], p.get("FromPort"), p.get("ToPort"),
                           "group " + t.ref_name(p["SourceSecurityGroupId"])))
        return rules, props.get("SecurityGroupEgress")

    def test_round_trip_security_groups(self):
        t = Template(self.fargate_json)
        for group in ("outyet-alb-sg", "outyet-sg", "outyet-fargate-sg"):
            berth_rules, berth_egress = self.rules_in_berth(group)
            template_rules, template_egress = self.rules_in_template(t, group)
            self.assertEqual(template_rules, berth_rules, msg="inbound rules of " + group)
            self.assertEqual(berth_egress, [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                                             "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []}])
            self.assertIsNone(template_egress, msg="berth's egress of %s is CloudFormation's default" % group)

    def test_round_trip_target_groups(self):
        t = Template(self.fargate_json)
        for g in self.stack.elbv2.describe_target_groups()["TargetGroups"]:
            p = t.named("AWS::ElasticLoadBalancingV2::TargetGroup", g["TargetGroupName"])
            for key in ("Protocol", "Port", "TargetType", "HealthCheckPath", "HealthCheckProtocol", "HealthCheckPort",
                        "HealthCheckIntervalSeconds", "HealthCheckTimeoutSeconds", "HealthyThresholdCount",
                        "UnhealthyThresholdCount", "HealthCheckEnabled"):
                self.assertEqual(p.get(key), g[key], msg="%s of %s" % (key, g["TargetGroupName"]))
            self.assertEqual(p["Matcher"], {"HttpCode": g["Matcher"]["HttpCode"]})
            attributes = {a["Key"]: a["Value"] for a in self.stack.elbv2.describe_target_group_attributes(
                TargetGroupArn=g["TargetGroupArn"])["Attributes"]}
            exported = {a["Key"]: a["Value"] for a in p.get("TargetGroupAttributes", [])}
            self.assertEqual(exported, {k: v for k, v in attributes.items() if k in exported})
        self.assertEqual(
            t.named("AWS::ElasticLoadBalancingV2::TargetGroup", "outyet-fargate-target-group")["TargetGroupAttributes"],
            [{"Key": "deregistration_delay.timeout_seconds", "Value": "10"},
             {"Key": "slow_start.duration_seconds", "Value": "30"}], msg="the attributes set, and only those")

    def test_round_trip_load_balancer_listeners_and_rules(self):
        t = Template(self.fargate_json)
        lb = self.stack.elbv2.describe_load_balancers(Names=["outyet-alb"])["LoadBalancers"][0]
        p = t.named("AWS::ElasticLoadBalancingV2::LoadBalancer", "outyet-alb")
        self.assertEqual((p["Type"], p["Scheme"], p["IpAddressType"]), (lb["Type"], lb["Scheme"], lb["IpAddressType"]))
        self.assertEqual([t.ref_name(g) for g in p["SecurityGroups"]], ["outyet-alb-sg"])
        tg_names = {g["TargetGroupArn"]: g["TargetGroupName"] for g in self.stack.elbv2.describe_target_groups()["TargetGroups"]}
        listeners = t.of_type("AWS::ElasticLoadBalancingV2::Listener")
        berth_listeners = self.stack.elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
        self.assertEqual(len(listeners), len(berth_listeners))
        for bl in berth_listeners:
            [(lid, tl)] = [(i, r) for i, r in listeners.items() if r["Properties"]["Port"] == bl["Port"]]
            self.assertEqual(tl["Properties"]["Protocol"], bl["Protocol"])
            self.assertEqual([(a["Type"], t.ref_name(a["TargetGroupArn"])) for a in tl["Properties"]["DefaultActions"]],
                             [(a["Type"], tg_names[a["TargetGroupArn"]]) for a in bl["DefaultActions"]])
            berth_rules = [r for r in self.stack.elbv2.describe_rules(ListenerArn=bl["ListenerArn"])["Rules"]
                           if not r["IsDefault"]]
            rules = [r["Properties"] for r in t.of_type("AWS::ElasticLoadBalancingV2::ListenerRule").values()
                     if r["Properties"]["ListenerArn"] == {"Ref": lid}]
            self.assertEqual(len(rules), len(berth_rules))
            for br in berth_rules:
                [tr] = [r for r in rules if r["Priority"] == int(br["Priority"])]
                self.assertEqual([(c["Field"], c["PathPatternConfig"]["Values"]) for c in tr["Conditions"]],
                                 [(c["Field"], c["PathPatternConfig"]["Values"]) for c in br["Conditions"]])
                self.assertEqual(
                    [(t.ref_name(g["TargetGroupArn"]), g["Weight"]) for g in tr["Actions"][0]["ForwardConfig"]["TargetGroups"]],
                    [(tg_names[g["TargetGroupArn"]], g["Weight"]) for g in br["Actions"][0]["ForwardConfig"]["TargetGroups"]])

    def test_round_trip_task_definitions(self):
        t = Template(self.fargate_json)
        for family in ("outyet-task", "outyet-fargate-task"):
            td = self.stack.ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]
            p = t.named("AWS::ECS::TaskDefinition", family)
            self.assertEqual(p.get("NetworkMode"), td["networkMode"])
            self.assertEqual(p.get("Cpu"), td.get("cpu"))
            self.assertEqual(p.get("Memory"), td.get("memory"))
            self.assertEqual(p["RequiresCompatibilities"], td["requiresCompatibilities"])
            self.assertEqual(len(p["ContainerDefinitions"]), len(td["containerDefinitions"]))
            for c, bc in zip(p["ContainerDefinitions"], sorted(td["containerDefinitions"], key=lambda c: c["name"])):
                self.assertEqual(c["Name"], bc["name"])
                self.assertEqual(c["Image"]["Fn::Sub"].split("/", 1)[1], bc["image"].split("/", 1)[1])
                self.assertEqual(c.get("Memory"), bc.get("memory"))
                self.assertEqual(c.get("Cpu"), bc.get("cpu"))
                self.assertEqual(c.get("Essential"), bc.get("essential"))
                self.assertEqual(c.get("Command"), bc.get("command"))
                self.assertEqual([(m["ContainerPort"], m.get("HostPort"), m["Protocol"]) for m in c["PortMappings"]],
                                 [(m["containerPort"], m.get("hostPort"), m["protocol"]) for m in bc["portMappings"]])
                self.assertEqual(c.get("Environment", []), [{"Name": e["name"], "Value": e["value"]}
                                                           for e in bc.get("environment", [])])
            if family == "outyet-fargate-task":
                options = p["ContainerDefinitions"][0]["LogConfiguration"]["Options"]
                self.assertEqual(t.ref_name(options["awslogs-group"]), "/ecs/outyet-fargate")
                self.assertEqual(options["awslogs-stream-prefix"], "outyet")
                self.assertEqual(p["ExecutionRoleArn"], {"Fn::GetAtt": ["EcsTaskExecutionRole", "Arn"]})
        group = t.named("AWS::Logs::LogGroup", "/ecs/outyet-fargate")
        self.assertEqual(group["RetentionInDays"], 7)

    def test_round_trip_services(self):
        t = Template(self.fargate_json)
        tg_names = {g["TargetGroupArn"]: g["TargetGroupName"] for g in self.stack.elbv2.describe_target_groups()["TargetGroups"]}
        sg_names = {g["GroupId"]: g["GroupName"] for g in self.stack.ec2.describe_security_groups()["SecurityGroups"]}
        services = self.stack.ecs.describe_services(cluster="outyet-cluster", services=[
            "outyet-service", "outyet-fargate-service"])["services"]
        self.assertEqual(len(services), 2)
        for s in services:
            p = t.named("AWS::ECS::Service", s["serviceName"])
            self.assertEqual(t.ref_name(p["Cluster"]), "outyet-cluster")
            self.assertEqual(t.ref_name(p["TaskDefinition"]), s["taskDefinition"].rsplit("/", 1)[1].split(":")[0])
            self.assertEqual(p["DesiredCount"], s["desiredCount"])
            self.assertEqual(p["LaunchType"], s["launchType"])
            self.assertEqual([(t.ref_name(lb["TargetGroupArn"]), lb["ContainerName"], lb["ContainerPort"])
                              for lb in p["LoadBalancers"]],
                             [(tg_names[lb["targetGroupArn"]], lb["containerName"], lb["containerPort"])
                              for lb in s["loadBalancers"]])
            d = s["deploymentConfiguration"]
            self.assertEqual(p["DeploymentConfiguration"]["MaximumPercent"], d["maximumPercent"])
            self.assertEqual(p["DeploymentConfiguration"]["MinimumHealthyPercent"], d["minimumHealthyPercent"])
            breaker = d.get("deploymentCircuitBreaker", {"enable": False, "rollback": False})
            self.assertEqual(p["DeploymentConfiguration"].get("DeploymentCircuitBreaker", {"Enable": False, "Rollback": False}),
                             {"Enable": breaker["enable"], "Rollback": breaker["rollback"]})
            vpc = s.get("networkConfiguration", {}).get("awsvpcConfiguration")
            if vpc:
                net = p["NetworkConfiguration"]["AwsvpcConfiguration"]
                self.assertEqual([t.ref_name(g) for g in net["SecurityGroups"]], [sg_names[g] for g in vpc["securityGroups"]])
                self.assertEqual(net["AssignPublicIp"], vpc["assignPublicIp"])
                self.assertEqual(net["Subnets"], {"Ref": "Subnets"})
                self.assertEqual(p["HealthCheckGracePeriodSeconds"], s["healthCheckGracePeriodSeconds"])
            else:
                self.assertNotIn("NetworkConfiguration", p)
        # AWS creates a service only once a listener sends to its target group.
        services = t.of_type("AWS::ECS::Service")
        listener = next(iter(t.of_type("AWS::ElasticLoadBalancingV2::Listener")))
        self.assertIn(listener, services["OutyetServiceService"]["DependsOn"])
        self.assertIn("OutyetAlb80Rule10ListenerRule", services["OutyetFargateServiceService"]["DependsOn"])

    def test_round_trip_cluster_capacity(self):
        t = Template(self.workshop_json)
        arns = self.stack.ecs.list_container_instances(cluster="outyet-cluster")["containerInstanceArns"]
        described = self.stack.ecs.describe_container_instances(cluster="outyet-cluster", containerInstances=arns)
        ids = [i["ec2InstanceId"] for i in described["containerInstances"]]
        types = {i["InstanceType"] for r in self.stack.ec2.describe_instances(InstanceIds=ids)["Reservations"]
                 for i in r["Instances"]}
        [group] = t.of_type("AWS::AutoScaling::AutoScalingGroup").values()
        self.assertEqual(group["Properties"]["DesiredCapacity"], str(len(ids)))
        [launch] = t.of_type("AWS::EC2::LaunchTemplate").values()
        data = launch["Properties"]["LaunchTemplateData"]
        self.assertEqual({data["InstanceType"]}, types)
        self.assertEqual([t.ref_name(g) for g in data["SecurityGroupIds"]], ["outyet-sg"])
        self.assertIn("ECS_CLUSTER=${OutyetClusterCluster}", data["UserData"]["Fn::Base64"]["Fn::Sub"])

    def test_round_trip_scaling(self):
        t = Template(self.fargate_json)
        scaling = self.stack.scaling
        targets = scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
        exported = t.of_type("AWS::ApplicationAutoScaling::ScalableTarget")
        self.assertEqual(len(exported), len(targets))
        by_service = {}
        for i, r in exported.items():
            parts = r["Properties"]["ResourceId"]["Fn::Join"][1]
            by_service["service/%s/%s" % (t.ref_name(parts[1]), t.ref_name(parts[2]))] = (i, r["Properties"])
        for target in targets:
            i, p = by_service[target["ResourceId"]]
            self.assertEqual((p["MinCapacity"], p["MaxCapacity"], p["ScalableDimension"]),
                             (target["MinCapacity"], target["MaxCapacity"], target["ScalableDimension"]))
            for policy in scaling.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=target["ResourceId"])["ScalingPolicies"]:
                [tp] = [r["Properties"] for r in t.of_type("AWS::ApplicationAutoScaling::ScalingPolicy").values()
                        if r["Properties"]["PolicyName"] == policy["PolicyName"]]
                self.assertEqual(tp["ScalingTargetId"], {"Ref": i})
                self.assertEqual(tp["PolicyType"], policy["PolicyType"])
                config, berth_config = tp["TargetTrackingScalingPolicyConfiguration"], policy["TargetTrackingScalingPolicyConfiguration"]
                self.assertEqual(config["TargetValue"], berth_config["TargetValue"])
                self.assertEqual(config["PredefinedMetricSpecification"]["PredefinedMetricType"],
                                 berth_config["PredefinedMetricSpecification"]["PredefinedMetricType"])
                for key in ("ScaleInCooldown", "ScaleOutCooldown"):
                    self.assertEqual(config.get(key), berth_config.get(key), msg=key)
        label = [r["Properties"] for r in t.of_type("AWS::ApplicationAutoScaling::ScalingPolicy").values()
                 if r["Properties"]["PolicyName"] == "outyet-requests"][0]
        self.assertEqual(label["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"]["ResourceLabel"],
                         {"Fn::Join": ["/", [{"Fn::GetAtt": ["OutyetAlbLoadBalancer", "LoadBalancerFullName"]},
                                             {"Fn::GetAtt": ["OutyetAlbTargetGroupTargetGroup", "TargetGroupFullName"]}]]})


if __name__ == "__main__":
    unittest.main()
