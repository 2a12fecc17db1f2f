// export/state: what the export reads, as berth's API answers it. The CLI
// fills it through the public API (src/cli/export.cpp); unit tests write it
// by hand. JSON services' answers keep their shapes (ECS, ECR, Application
// Auto Scaling, CloudWatch Logs); the query services' XML answers are turned
// into JSON as they are (element names kept, "member"/"item" lists as arrays,
// every leaf a string).
#pragma once

#include <boost/json/array.hpp>

#include <string>

namespace berth::cfn {

namespace json = boost::json;

struct State {
  // berth's registry as image URIs name it ("127.0.0.1:4566"): images there
  // move to the account's ECR.
  std::string registry;
  // EC2 DescribeSecurityGroups items (groupId, groupName, groupDescription,
  // ipPermissions, ipPermissionsEgress).
  json::array security_groups;
  // ECR DescribeRepositories "repositories".
  json::array repositories;
  // ECS DescribeClusters "clusters", each with "instances": the EC2
  // DescribeInstances items of its container instances (instanceId,
  // instanceType, groupSet).
  json::array clusters;
  // ECS DescribeTaskDefinition "taskDefinition"s: those the services run and
  // each family's latest ACTIVE revision.
  json::array task_definitions;
  // ECS DescribeServices "services" (ACTIVE ones).
  json::array services;
  // ELBv2 DescribeLoadBalancers members, each with "Attributes" (Key, Value)
  // and "Listeners" (DescribeListeners members, each with "Rules").
  json::array load_balancers;
  // ELBv2 DescribeTargetGroups members, each with "Attributes" and "Targets"
  // (DescribeTargetHealth's Target members).
  json::array target_groups;
  // Application Auto Scaling DescribeScalableTargets / DescribeScalingPolicies
  // of the ecs namespace.
  json::array scalable_targets;
  json::array scaling_policies;
  json::array scheduled_actions;
  // CloudWatch Logs DescribeLogGroups "logGroups".
  json::array log_groups;
};

}  // namespace berth::cfn
