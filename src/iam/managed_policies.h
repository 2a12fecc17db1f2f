// iam/managed_policies: the AWS managed policies berth knows by ARN, for
// attaching to roles. AWS has about a thousand; berth lists the ones a
// container workload on ECS, ECR, ELB and EC2 commonly attaches (a role
// is not a principal here, so a role's policies grant nothing in berth;
// they are kept and listed as AWS does). Any other ARN is NoSuchEntity,
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

  std::string_view name() const;  // after the last '/'
  std::string_view path() const;  // "/", "/service-role/", "/aws-service-role/"
  // A service role policy (path /aws-service-role/): PolicyNotAttachable
  // to a role of the customer's.
  bool service_role_policy() const;
};

// nullptr when berth does not know the ARN.
const AwsManagedPolicy* find_aws_managed_policy(std::string_view arn);

}  // namespace berth::iam
