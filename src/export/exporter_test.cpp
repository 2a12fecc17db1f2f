#include "export/exporter.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>

namespace berth::cfn {
namespace {

json::array parse_array(std::string_view text) { return json::parse(text).as_array(); }

constexpr const char* kLb = "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/outyet-alb/50dc6c495c0c9188";
constexpr const char* kTg =
    "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/outyet-alb-target-group/73e2d6bc24d8a067";

// The workshop stack as berth's API answers it, plus a target group whose
// one target was registered by hand by IP address.
State workshop() {
  State s;
  s.registry = "127.0.0.9:4566";
  s.security_groups = parse_array(R"([
    {"groupId": "sg-default", "groupName": "default", "groupDescription": "default VPC security group"},
    {"groupId": "sg-instances", "groupName": "outyet-sg", "groupDescription": "outyet instances",
     "ipPermissions": [{"ipProtocol": "tcp", "fromPort": "1", "toPort": "65535",
                        "groups": [{"groupId": "sg-alb", "userId": "000000000000"}]}],
     "ipPermissionsEgress": [{"ipProtocol": "-1", "ipRanges": [{"cidrIp": "0.0.0.0/0"}]}]},
    {"groupId": "sg-alb", "groupName": "outyet-alb-sg", "groupDescription": "outyet load balancer",
     "ipPermissions": [{"ipProtocol": "tcp", "fromPort": "80", "toPort": "80",
                        "ipRanges": [{"cidrIp": "0.0.0.0/0"}], "ipv6Ranges": [{"cidrIpv6": "::/0"}]}],
     "ipPermissionsEgress": [{"ipProtocol": "-1", "ipRanges": [{"cidrIp": "0.0.0.0/0"}]}]}])");
  s.repositories = parse_array(R"([{"repositoryName": "outyet-image", "imageTagMutability": "MUTABLE",
                                     "repositoryUri": "127.0.0.9:4566/outyet-image"}])");
  s.clusters = parse_array(R"([{"clusterName": "outyet-cluster",
    "clusterArn": "arn:aws:ecs:us-east-1:000000000000:cluster/outyet-cluster",
    "instances": [{"instanceId": "i-1", "instanceType": "t2.nano", "keyName": "outyet", "groupSet": [{"groupId": "sg-instances"}]},
                  {"instanceId": "i-2", "instanceType": "t2.nano", "keyName": "outyet", "groupSet": [{"groupId": "sg-instances"}]}]}])");
  s.task_definitions = parse_array(R"([{"family": "outyet-task", "revision": 1, "networkMode": "bridge",
    "taskDefinitionArn": "arn:aws:ecs:us-east-1:000000000000:task-definition/outyet-task:1",
    "requiresCompatibilities": ["EC2"], "volumes": [], "placementConstraints": [],
    "containerDefinitions": [{"name": "outyet", "image": "127.0.0.9:4566/outyet-image:latest", "memory": 128,
      "cpu": 0, "essential": true, "environment": [], "mountPoints": [],
      "portMappings": [{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}],
      "dockerLabels": {"team.name": "go"}, "command": ["-http", ":8080"]}]}])");
  s.target_groups = parse_array(std::string(R"([{"TargetGroupName": "outyet-alb-target-group", "TargetGroupArn": ")") +
    kTg + R"(", "Protocol": "HTTP", "Port": "8080", "TargetType": "instance", "HealthCheckPath": "/",
    "HealthCheckIntervalSeconds": "5", "HealthCheckTimeoutSeconds": "2", "HealthyThresholdCount": "2",
    "UnhealthyThresholdCount": "2", "HealthCheckEnabled": "true", "Matcher": {"HttpCode": "200"},
    "Attributes": [{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}, {"Key": "stickiness.enabled", "Value": "false"}],
    "Targets": [{"Id": "i-1", "Port": "32768"}]},
   {"TargetGroupName": "by-hand", "TargetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/by-hand/1",
    "Protocol": "HTTP", "Port": "80", "TargetType": "ip", "Targets": [{"Id": "127.0.0.5", "Port": "8080"}]}])");
  s.load_balancers = parse_array(std::string(R"([{"LoadBalancerName": "outyet-alb", "LoadBalancerArn": ")") + kLb +
    R"(", "Type": "application", "Scheme": "internet-facing", "DNSName": "outyet-alb-1.us-east-1.elb.localhost",
    "SecurityGroups": ["sg-alb"], "Attributes": [{"Key": "idle_timeout.timeout_seconds", "Value": "60"}],
    "Listeners": [{"Port": "80", "Protocol": "HTTP", "ListenerArn": "arn:l/1",
                   "DefaultActions": [{"Type": "forward", "TargetGroupArn": ")" + kTg + R"("}]}]}])");
  s.services = parse_array(std::string(R"([{"serviceName": "outyet-service",
    "clusterArn": "arn:aws:ecs:us-east-1:000000000000:cluster/outyet-cluster",
    "taskDefinition": "arn:aws:ecs:us-east-1:000000000000:task-definition/outyet-task:1",
    "desiredCount": 3, "launchType": "EC2", "schedulingStrategy": "REPLICA",
    "roleArn": "arn:aws:iam::000000000000:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS",
    "deploymentConfiguration": {"maximumPercent": 200, "minimumHealthyPercent": 100},
    "loadBalancers": [{"targetGroupArn": ")") + kTg + R"(", "containerName": "outyet", "containerPort": 8080}]}])");
  s.scalable_targets = parse_array(R"([{"ServiceNamespace": "ecs", "ResourceId": "service/outyet-cluster/outyet-service",
    "ScalableDimension": "ecs:service:DesiredCount", "MinCapacity": 3, "MaxCapacity": 6}])");
  s.scaling_policies = parse_array(R"([{"PolicyName": "requests", "PolicyType": "TargetTrackingScaling",
    "ResourceId": "service/outyet-cluster/outyet-service", "ScalableDimension": "ecs:service:DesiredCount",
    "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 100.0, "PredefinedMetricSpecification": {
      "PredefinedMetricType": "ALBRequestCountPerTarget",
      "ResourceLabel": "app/outyet-alb/50dc6c495c0c9188/targetgroup/outyet-alb-target-group/73e2d6bc24d8a067"}}}])");
  return s;
}

const json::object& props(const Export& e, const std::string& id) {
  auto found = e.resources.resources.find(id);
  if (found == e.resources.resources.end()) {
    static const json::object kNone;
    ADD_FAILURE() << "no resource " << id;
    return kNone;
  }
  return found->second.properties;
}

bool noted(const Export& e, std::string_view text) {
  return std::any_of(e.notes.begin(), e.notes.end(), [&](const std::string& n) { return n.find(text) != n.npos; });
}

TEST(Export, NothingOfBerthLeaksIntoTheTemplate) {
  std::string text = write_json(export_state(workshop(), "outyet").resources);
  for (std::string_view berth_only : {"127.0.0", "elb.localhost", "sg-", "arn:aws:", "i-1", "000000000000", "4566"})
    EXPECT_EQ(text.find(berth_only), std::string::npos) << berth_only << " leaked:\n" << text;
}

TEST(Export, SecurityGroupsKeepTheirRulesAndSourceGroupsAreReferences) {
  auto e = export_state(workshop(), "outyet");
  EXPECT_FALSE(e.resources.resources.count("DefaultSecurityGroup")) << "the VPC brings its own default group";
  const auto& alb = props(e, "OutyetAlbSgSecurityGroup");
  EXPECT_EQ(alb.at("SecurityGroupIngress"), json::parse(R"([{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIp": "0.0.0.0/0"},
    {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIpv6": "::/0"}])"));
  EXPECT_FALSE(alb.contains("SecurityGroupEgress")) << "berth's egress is AWS's default";
  const auto& ingress = props(e, "OutyetSgTcp165535FromOutyetAlbSgIngress");
  EXPECT_EQ(ingress.at("SourceSecurityGroupId"), get_att("OutyetAlbSgSecurityGroup", "GroupId"));
  EXPECT_EQ(ingress.at("GroupId"), get_att("OutyetSgSecurityGroup", "GroupId"));
  EXPECT_EQ(ingress.at("FromPort"), 1);
  EXPECT_EQ(ingress.at("ToPort"), 65535);
}

TEST(Export, TheClusterGetsAnAutoScalingGroupOfItsInstancesTypeAndCount) {
  auto e = export_state(workshop(), "outyet");
  const auto& group = props(e, "OutyetClusterAutoScalingGroup");
  EXPECT_EQ(group.at("DesiredCapacity"), "2");
  EXPECT_EQ(group.at("MaxSize"), "2");
  const auto& data = props(e, "OutyetClusterLaunchTemplate").at("LaunchTemplateData").as_object();
  EXPECT_EQ(data.at("InstanceType"), "t2.nano");
  EXPECT_EQ(data.at("ImageId"), make_ref("EcsAmiId"));
  EXPECT_EQ(data.at("SecurityGroupIds"), json::array{get_att("OutyetSgSecurityGroup", "GroupId")});
  EXPECT_EQ(e.resources.parameters.at("EcsAmiId").at("Type"), "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>");
  EXPECT_TRUE(noted(e, "key pair outyet")) << "the key pair is said to stay behind";
}

TEST(Export, TaskDefinitionsRunTheAccountsEcrImagesWithAnExecutionRole) {
  auto e = export_state(workshop(), "outyet");
  const auto& td = props(e, "OutyetTaskTaskDefinition");
  const auto& c = td.at("ContainerDefinitions").as_array().at(0).as_object();
  EXPECT_EQ(c.at("Image"), sub("${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/outyet-image:latest"));
  EXPECT_EQ(c.at("Memory"), 128);
  EXPECT_EQ(c.at("PortMappings"), json::parse(R"([{"ContainerPort": 8080, "HostPort": 0, "Protocol": "tcp"}])"));
  EXPECT_EQ(c.at("DockerLabels"), json::parse(R"({"team.name": "go"})")) << "a map's keys are the user's";
  EXPECT_FALSE(c.contains("Environment")) << "empty lists are left out";
  EXPECT_EQ(td.at("ExecutionRoleArn"), get_att("EcsTaskExecutionRole", "Arn"));
  ASSERT_EQ(e.push_commands.size(), 2u);
  EXPECT_EQ(e.push_commands[1],
            "podman push 127.0.0.9:4566/outyet-image:latest \"$ACCOUNT.dkr.ecr.$REGION.amazonaws.com/outyet-image:latest\"");
}

TEST(Export, TheServiceWaitsForItsListenerAndCapacity) {
  auto e = export_state(workshop(), "outyet");
  const auto& service = e.resources.resources.at("OutyetServiceService");
  EXPECT_EQ(service.depends_on, (std::set<std::string>{"OutyetAlbHTTP80Listener", "OutyetClusterAutoScalingGroup"}));
  EXPECT_EQ(service.properties.at("LoadBalancers"),
            json::parse(R"([{"TargetGroupArn": {"Ref": "OutyetAlbTargetGroupTargetGroup"}, "ContainerName": "outyet", "ContainerPort": 8080}])"));
  EXPECT_EQ(service.properties.at("DesiredCount"), 3);
  EXPECT_FALSE(service.properties.contains("Role")) << "AWS uses ECS's service-linked role";
  EXPECT_EQ(props(e, "OutyetAlbTargetGroupTargetGroup").at("TargetGroupAttributes"),
            json::parse(R"([{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}])"));
}

TEST(Export, ScalingFollowsTheServiceAndItsLoadBalancer) {
  State s = workshop();
  s.scheduled_actions = parse_array(R"j([{"ScheduledActionName": "nightly", "Schedule": "cron(0 22 * * ? *)",
    "Timezone": "Europe/Paris", "ResourceId": "service/outyet-cluster/outyet-service",
    "ScalableDimension": "ecs:service:DesiredCount", "ScalableTargetAction": {"MinCapacity": 1, "MaxCapacity": 2}}])j");
  auto e = export_state(s, "outyet");
  EXPECT_EQ(props(e, "OutyetClusterOutyetServiceScalableTarget").at("ScheduledActions"),
            json::parse(R"j([{"ScheduledActionName": "nightly", "Schedule": "cron(0 22 * * ? *)", "Timezone": "Europe/Paris",
                             "ScalableTargetAction": {"MinCapacity": 1, "MaxCapacity": 2}}])j"));
  const auto& target = props(e, "OutyetClusterOutyetServiceScalableTarget");
  EXPECT_EQ(target.at("MinCapacity"), 3);
  EXPECT_EQ(target.at("ResourceId"),
            join("/", json::array{"service", make_ref("OutyetClusterCluster"), get_att("OutyetServiceService", "Name")}));
  const auto& policy = props(e, "RequestsScalingPolicy");
  EXPECT_EQ(policy.at("ScalingTargetId"), make_ref("OutyetClusterOutyetServiceScalableTarget"));
  EXPECT_EQ(policy.at("TargetTrackingScalingPolicyConfiguration").at("PredefinedMetricSpecification").at("ResourceLabel"),
            join("/", json::array{get_att("OutyetAlbLoadBalancer", "LoadBalancerFullName"),
                                  get_att("OutyetAlbTargetGroupTargetGroup", "TargetGroupFullName")}));
}

TEST(Export, ATargetRegisteredByIpIsSaidAndTheRestIsStillWritten) {
  auto e = export_state(workshop(), "outyet");
  EXPECT_TRUE(noted(e, "target 127.0.0.5:8080 of target group by-hand, registered by IP address on the host"));
  EXPECT_FALSE(noted(e, "i-1:32768")) << "a service's targets are ECS's to register";
  EXPECT_TRUE(e.resources.resources.count("ByHandTargetGroup"));
}

TEST(Export, APlainForwardStaysPlainAndAWeightedOneKeepsItsWeights) {
  State s = workshop();
  auto& listener = s.load_balancers[0].as_object()["Listeners"].as_array()[0].as_object();
  listener["DefaultActions"] = parse_array(std::string(R"([{"Type": "forward", "TargetGroupArn": ")") + kTg +
    R"(", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": ")" + kTg + R"(", "Weight": "1"}],
        "TargetGroupStickinessConfig": {"Enabled": "false"}}}])");
  listener["Rules"] = parse_array(std::string(R"([{"Priority": "3", "Conditions": [], "Actions": [{"Type": "forward",
    "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": ")") + kTg + R"(", "Weight": "3"},
      {"TargetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/by-hand/1", "Weight": "1"}],
      "TargetGroupStickinessConfig": {"Enabled": "true", "DurationSeconds": "60"}}}]}])");
  auto e = export_state(s, "outyet");
  EXPECT_EQ(props(e, "OutyetAlbHTTP80Listener").at("DefaultActions"),
            json::parse(R"([{"Type": "forward", "TargetGroupArn": {"Ref": "OutyetAlbTargetGroupTargetGroup"}}])"));
  EXPECT_EQ(props(e, "OutyetAlb80Rule3ListenerRule").at("Actions"), json::parse(R"([{"Type": "forward",
    "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": {"Ref": "OutyetAlbTargetGroupTargetGroup"}, "Weight": 3},
                                       {"TargetGroupArn": {"Ref": "ByHandTargetGroup"}, "Weight": 1}],
                      "TargetGroupStickinessConfig": {"Enabled": true, "DurationSeconds": 60}}}])"));
}

TEST(Export, RepositoriesAndLogGroupsOutliveTheStack) {
  State s = workshop();
  s.log_groups = parse_array(R"([{"logGroupName": "/ecs/outyet", "retentionInDays": 7}])");
  auto e = export_state(s, "outyet");
  EXPECT_EQ(e.resources.resources.at("OutyetImageRepository").deletion_policy, "Retain");
  EXPECT_EQ(e.resources.resources.at("EcsOutyetLogGroup").deletion_policy, "Retain");
  EXPECT_EQ(props(e, "EcsOutyetLogGroup").at("RetentionInDays"), 7);
  auto doc = to_document(e.resources);
  EXPECT_EQ(doc.at("Resources").at("OutyetImageRepository").at("UpdateReplacePolicy"), "Retain");
  EXPECT_EQ(doc.at("Outputs").at("OutyetImageRepositoryUri").at("Value"),
            get_att("OutyetImageRepository", "RepositoryUri"));
}

TEST(Export, EgressOtherThanAllowAllIsWrittenAndNoEgressIsARuleToNowhere) {
  State s = workshop();
  s.security_groups.push_back(json::parse(R"({"groupId": "sg-db", "groupName": "db", "groupDescription": "db",
    "ipPermissionsEgress": [{"ipProtocol": "tcp", "fromPort": "443", "toPort": "443", "ipRanges": [{"cidrIp": "10.0.0.0/8"}]},
                            {"ipProtocol": "tcp", "fromPort": "5432", "toPort": "5432", "groups": [{"groupId": "sg-alb"}]}]})"));
  s.security_groups.push_back(json::parse(R"({"groupId": "sg-closed", "groupName": "closed", "groupDescription": "closed",
    "ipPermissions": [{"ipProtocol": "tcp", "fromPort": "22", "toPort": "22", "groups": [{"groupId": "sg-default"}],
                       "prefixListIds": [{"prefixListId": "pl-1"}]}]})"));
  auto e = export_state(s, "outyet");
  EXPECT_EQ(props(e, "DbSecurityGroup").at("SecurityGroupEgress"),
            json::parse(R"([{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/8"}])"));
  EXPECT_EQ(props(e, "DbTcp54325432ToOutyetAlbSgEgress").at("DestinationSecurityGroupId"),
            get_att("OutyetAlbSgSecurityGroup", "GroupId"));
  EXPECT_EQ(props(e, "ClosedSecurityGroup").at("SecurityGroupEgress").as_array().size(), 1u)
      << "no egress at all replaces CloudFormation's allow-all";
  EXPECT_TRUE(noted(e, "rule tcp-22-22 of security group closed that names group sg-default"));
  EXPECT_TRUE(noted(e, "for prefix list pl-1"));
}

TEST(Export, RulesRedirectsAndFixedResponsesKeepTheirTypes) {
  State s = workshop();
  auto& listener = s.load_balancers[0].as_object()["Listeners"].as_array()[0].as_object();
  listener["Rules"] = parse_array(std::string(R"([
    {"Priority": "default", "IsDefault": "true", "Actions": [{"Type": "forward", "TargetGroupArn": ")") + kTg + R"("}]},
    {"Priority": "5", "IsDefault": "false",
     "Conditions": [{"Field": "host-header", "HostHeaderConfig": {"Values": ["old.example.com"]}}],
     "Actions": [{"Type": "redirect", "Order": "1", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443",
                  "Host": "new.example.com", "Path": "/#{path}", "Query": "#{query}", "StatusCode": "HTTP_301"}}]},
    {"Priority": "7", "IsDefault": "false",
     "Conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/health"]}}],
     "Actions": [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200", "ContentType": "text/plain",
                  "MessageBody": "ok"}}]}])");
  s.load_balancers[0].as_object()["Listeners"].as_array().push_back(json::parse(R"({"Port": "443", "Protocol": "HTTPS",
    "Certificates": [{"CertificateArn": "arn:aws:acm:us-east-1:000000000000:certificate/x"}], "DefaultActions": []})"));
  auto e = export_state(s, "outyet");
  EXPECT_EQ(props(e, "OutyetAlb80Rule5ListenerRule").at("Actions"), json::parse(R"([{"Type": "redirect", "Order": 1,
    "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "Host": "new.example.com", "Path": "/#{path}",
                       "Query": "#{query}", "StatusCode": "HTTP_301"}}])"));
  EXPECT_EQ(props(e, "OutyetAlb80Rule7ListenerRule").at("Priority"), 7);
  EXPECT_EQ(props(e, "OutyetAlb80Rule7ListenerRule").at("ListenerArn"), make_ref("OutyetAlbHTTP80Listener"));
  EXPECT_FALSE(e.resources.resources.count("OutyetAlb80RuleDefaultListenerRule")) << "the default rule is the listener's";
  EXPECT_TRUE(noted(e, "not exported: listener HTTPS:443 of load balancer outyet-alb"));
  EXPECT_EQ(write_json(e.resources).find("arn:aws:acm"), std::string::npos);
}

TEST(Export, AServiceOnAnOlderRevisionKeepsItAndTheLatestIsExportedToo) {
  State s = workshop();
  json::value newer = s.task_definitions[0];
  newer.as_object()["revision"] = 2;
  newer.as_object()["taskDefinitionArn"] = "arn:aws:ecs:us-east-1:000000000000:task-definition/outyet-task:2";
  newer.as_object()["taskRoleArn"] = "arn:aws:iam::000000000000:role/outyet";
  s.task_definitions.push_back(newer);
  auto e = export_state(s, "outyet");
  EXPECT_EQ(props(e, "OutyetServiceService").at("TaskDefinition"), make_ref("OutyetTask1TaskDefinition"));
  EXPECT_TRUE(e.resources.resources.count("OutyetTaskTaskDefinition")) << "the latest revision keeps the plain id";
  EXPECT_TRUE(noted(e, "task role arn:aws:iam::000000000000:role/outyet of task definition outyet-task:2"));
}

TEST(Export, AFargateOnlyClusterHasNoCapacity) {
  State s = workshop();
  s.clusters[0].as_object()["instances"] = json::array{};
  s.services.clear();
  s.scalable_targets.clear();
  auto e = export_state(s, "outyet");
  EXPECT_TRUE(e.resources.resources.count("OutyetClusterCluster"));
  for (const auto& [id, r] : e.resources.resources)
    EXPECT_NE(r.type, "AWS::AutoScaling::AutoScalingGroup") << id;
  EXPECT_FALSE(e.resources.parameters.count("EcsAmiId"));
  EXPECT_FALSE(e.resources.resources.count("EcsInstanceRole"));
}

TEST(Export, TheSameStateInAnotherOrderGivesTheSameBytes) {
  State a = workshop(), b = workshop();
  std::reverse(b.security_groups.begin(), b.security_groups.end());
  std::reverse(b.target_groups.begin(), b.target_groups.end());
  EXPECT_EQ(write_json(export_state(a, "outyet").resources), write_json(export_state(b, "outyet").resources));
  EXPECT_EQ(write_yaml(export_state(a, "outyet").resources), write_yaml(export_state(b, "outyet").resources));
}

}  // namespace
}  // namespace berth::cfn
