// iam/managed_policies: the AWS managed policies berth knows by ARN, for
// attaching to roles. AWS has about a thousand; berth lists the ones a
// container workload on ECS, ECR, ELB and EC2 commonly attaches. A role is
// not a principal of the API here; its policies only count where berth
// checks a task execution role (Iam::role_allows, which reads each
// policy's `permissions`). Any other ARN is NoSuchEntity,
// as an ARN that names no policy is on AWS.
//
//   arn:aws:iam::aws:policy<path><name>
//     path "/"                   AdministratorAccess, AmazonECS_FullAccess, ...
//     path "/service-role/"      AmazonECSTaskExecutionRolePolicy, ...
//     path "/aws-service-role/"  AmazonECSServiceRolePolicy: only a
//                                service-linked role may carry one
#pragma once

#include <string_view>

namespace berth::iam {

struct AwsManagedPolicy {
  std::string_view arn;
  // The statements role_allows evaluates: the policy's statements about
  // SSM, Secrets Manager and KMS (the permissions a task execution role is
  // checked for), copied from AWS's published versions and abridged to
  // those; "" for a policy that grants none of them.
  std::string_view permissions = "";

  std::string_view name() const;  // after the last '/'
  std::string_view path() const;  // "/", "/service-role/", "/aws-service-role/"
  // A service role policy (path /aws-service-role/): PolicyNotAttachable
  // to a role of the customer's.
  bool service_role_policy() const;
};

// nullptr when berth does not know the ARN.
const AwsManagedPolicy* find_aws_managed_policy(std::string_view arn);

}  // namespace berth::iam
