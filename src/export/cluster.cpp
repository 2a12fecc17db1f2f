// Clusters. One with container instances gets its capacity as AWS builds
// it: an Auto Scaling group of the ECS-optimized AMI (the image id resolved
// from SSM at deploy time) through a launch template whose user data joins
// the cluster, with the ECS instance role and profile. One without
// instances is a cluster alone (FARGATE needs no capacity).
#include <boost/json.hpp>

#include "export/builders.h"

namespace berth::cfn {

namespace {

constexpr const char* kInstanceRole = "EcsInstanceRole";
constexpr const char* kInstanceProfile = "EcsInstanceProfile";

void add_instance_role(Context& c) {
  if (c.t.resources.count(kInstanceRole)) return;
  c.t.parameters[kAmiParameter] = {
      {"Type", "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>"},
      {"Default", "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"},
      {"Description", "The ECS-optimized AMI of the container instances"}};
  auto& role = c.add(kInstanceRole, "AWS::IAM::Role");
  role.properties["AssumeRolePolicyDocument"] = json::object{
      {"Version", "2012-10-17"},
      {"Statement", json::array{json::object{{"Effect", "Allow"},
                                             {"Principal", json::object{{"Service", "ec2.amazonaws.com"}}},
                                             {"Action", "sts:AssumeRole"}}}}};
  role.properties["ManagedPolicyArns"] = json::array{
      sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role")};
  auto& profile = c.add(kInstanceProfile, "AWS::IAM::InstanceProfile");
  profile.properties["Roles"] = json::array{make_ref(kInstanceRole)};
}

// The instance type most instances have (the smallest name on a tie).
std::string usual_type(Context& c, const std::string& cluster, const json::array& instances) {
  std::map<std::string, int> count;
  for (const auto& i : instances) ++count[str(i.as_object(), "instanceType")];
  std::string best;
  for (const auto& [type, n] : count)
    if (best.empty() || n > count[best]) best = type;
  if (count.size() > 1)
    c.note("not exported as it is: cluster " + cluster + " mixes instance types; its Auto Scaling group launches " +
           best + " only");
  return best;
}

json::array instance_groups(Context& c, const std::string& cluster, const json::object& instance) {
  json::array out;
  for (const auto& g : arr(instance, "groupSet")) {
    std::string id = str(g.as_object(), "groupId");
    if (auto found = c.security_groups.find(id); found != c.security_groups.end())
      out.push_back(get_att(found->second, "GroupId"));
    else
      c.note("not exported: security group " + id + " of cluster " + cluster +
             "'s instances (the VPC's default group: the launch template leaves it out)");
  }
  return out;
}

void add_capacity(Context& c, const std::string& name, const std::string& arn, const std::string& cluster_id,
                  const json::array& instances) {
  add_instance_role(c);
  std::string template_id = c.ids.make(name, "LaunchTemplate");
  json::object data{{"ImageId", make_ref(kAmiParameter)},
                    {"InstanceType", usual_type(c, name, instances)},
                    {"IamInstanceProfile", json::object{{"Arn", get_att(kInstanceProfile, "Arn")}}},
                    {"UserData", json::object{{"Fn::Base64",
                                               sub("#!/bin/bash\necho ECS_CLUSTER=${" + cluster_id +
                                                   "} >> /etc/ecs/ecs.config\n")}}}};
  const auto& first = instances.front().as_object();
  if (auto groups = instance_groups(c, name, first); !groups.empty()) data["SecurityGroupIds"] = std::move(groups);
  if (auto key = str(first, "keyName"); !key.empty())
    c.note("not exported: key pair " + key + " of cluster " + name +
           "'s instances (a key pair's private half stays with berth; the instances start without one)");
  c.add(template_id, "AWS::EC2::LaunchTemplate").properties["LaunchTemplateData"] = std::move(data);

  std::string group_id = c.ids.make(name, "AutoScalingGroup");
  std::string count = std::to_string(instances.size());
  auto& group = c.add(group_id, "AWS::AutoScaling::AutoScalingGroup");
  group.properties["MinSize"] = count;
  group.properties["MaxSize"] = count;
  group.properties["DesiredCapacity"] = count;
  group.properties["VPCZoneIdentifier"] = make_ref(kSubnetsParameter);
  group.properties["LaunchTemplate"] = json::object{{"LaunchTemplateId", make_ref(template_id)},
                                                    {"Version", get_att(template_id, "LatestVersionNumber")}};
  group.properties["Tags"] = json::array{json::object{
      {"Key", "Name"}, {"Value", json::string(name + " container instance")}, {"PropagateAtLaunch", true}}};
  c.capacity[arn] = group_id;
}

}  // namespace

void build_clusters(Context& c) {
  for (const auto* cluster : sorted_by(c.state.clusters, "clusterName")) {
    std::string name = str(*cluster, "clusterName"), arn = str(*cluster, "clusterArn");
    std::string id = c.ids.make(name, "Cluster");
    c.clusters[arn] = id;
    c.add(id, "AWS::ECS::Cluster").properties["ClusterName"] = name;
    if (!arr(*cluster, "instances").empty()) add_capacity(c, name, arn, id, arr(*cluster, "instances"));
  }
}

}  // namespace berth::cfn
