#include "iam/managed_policies.h"

#include <array>

namespace berth::iam {
namespace {

constexpr std::string_view kArnPrefix = "arn:aws:iam::aws:policy";

constexpr std::array kCatalogue{
    AwsManagedPolicy{"arn:aws:iam::aws:policy/AdministratorAccess",
                     R"({"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/AmazonEC2FullAccess"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/AmazonECS_FullAccess",
                     R"({"Statement":[{"Effect":"Allow","Action":["ssm:GetParameter","ssm:GetParameters","ssm:GetParametersByPath"],"Resource":"arn:aws:ssm:*:*:parameter/aws/service/ecs*"}]})"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/AmazonS3FullAccess"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
                     R"({"Statement":[{"Effect":"Allow","Action":["ssm:DescribeAssociation","ssm:GetDeployablePatchSnapshotForInstance","ssm:GetDocument","ssm:DescribeDocument","ssm:GetManifest","ssm:GetParameter","ssm:GetParameters","ssm:ListAssociations","ssm:ListInstanceAssociations","ssm:PutInventory","ssm:PutComplianceItems","ssm:PutConfigurePackageResult","ssm:UpdateAssociationStatus","ssm:UpdateInstanceAssociationStatus","ssm:UpdateInstanceInformation"],"Resource":"*"}]})"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess",
                     R"({"Statement":[{"Effect":"Allow","Action":["ssm:Describe*","ssm:Get*","ssm:List*"],"Resource":"*"}]})"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/CloudWatchLogsFullAccess"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/CloudWatchLogsReadOnlyAccess"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/ElasticLoadBalancingFullAccess"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/ElasticLoadBalancingReadOnly"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/IAMFullAccess"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/IAMReadOnlyAccess"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/PowerUserAccess",
                     R"({"Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"}]})"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/ReadOnlyAccess",
                     R"({"Statement":[{"Effect":"Allow","Action":["ssm:Describe*","ssm:Get*","ssm:List*","secretsmanager:DescribeSecret","secretsmanager:GetResourcePolicy","secretsmanager:ListSecretVersionIds","secretsmanager:ListSecrets","kms:Describe*","kms:Get*","kms:List*"],"Resource":"*"}]})"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/SecretsManagerReadWrite",
                     R"({"Statement":[{"Effect":"Allow","Action":["secretsmanager:*","kms:DescribeKey","kms:ListAliases","kms:ListKeys"],"Resource":"*"}]})"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceAutoscaleRole"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceRole"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"},
    AwsManagedPolicy{"arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM",
                     R"({"Statement":[{"Effect":"Allow","Action":["ssm:DescribeAssociation","ssm:GetDeployablePatchSnapshotForInstance","ssm:GetDocument","ssm:DescribeDocument","ssm:GetManifest","ssm:GetParameters","ssm:ListAssociations","ssm:ListInstanceAssociations","ssm:PutInventory","ssm:PutComplianceItems","ssm:PutConfigurePackageResult","ssm:UpdateAssociationStatus","ssm:UpdateInstanceAssociationStatus","ssm:UpdateInstanceInformation"],"Resource":"*"}]})"},
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
