#include "iam/managed_policies.h"

#include <array>

namespace berth::iam {
namespace {

constexpr std::string_view kArnPrefix = "arn:aws:iam::aws:policy";

constexpr std::array kCatalogue{
    AwsManagedPolicy{"arn:aws:iam::aws:policy/AdministratorAccess"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/AmazonEC2FullAccess"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/AmazonECS_FullAccess"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/AmazonS3FullAccess"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/CloudWatchLogsFullAccess"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/CloudWatchLogsReadOnlyAccess"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/ElasticLoadBalancingFullAccess"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/ElasticLoadBalancingReadOnly"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/IAMFullAccess"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/IAMReadOnlyAccess"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/PowerUserAccess"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/ReadOnlyAccess"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/SecretsManagerReadWrite"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceAutoscaleRole"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceRole"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/aws-service-role/AmazonECSServiceRolePolicy"},
};

}  // namespace

std::string_view AwsManagedPolicy::name() const { return arn.substr(arn.rfind('/') + 1); }

std::string_view AwsManagedPolicy::path() const {
  return arn.substr(kArnPrefix.size(), arn.rfind('/') + 1 - kArnPrefix.size());
}

bool AwsManagedPolicy::service_role_policy() const { return path() == "/aws-service-role/"; }

const AwsManagedPolicy* find_aws_managed_policy(std::string_view arn) {
  for (const auto& policy : kCatalogue)
    if (policy.arn == arn) return &policy;
  return nullptr;
}

}  // namespace berth::iam
