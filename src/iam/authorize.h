// iam/authorize: the policy decision for one call. berth knows two managed
// policies: AdministratorAccess allows everything, ReadOnlyAccess allows the
// operations a service marks read_only (Describe*, List*, Get*). No policy,
// no access, except sts:GetCallerIdentity, which AWS never denies.
#pragma once

#include <string_view>

#include "core/error.h"
#include "iam/directory.h"

namespace berth::iam {

// `action_prefix` is the IAM action namespace ("ec2", "ecs", "iam",
// "elasticloadbalancing"). The error is class kDenied with code
// "AccessDenied"; the front door renames it per protocol
// (AccessDeniedException, UnauthorizedOperation).
Status authorize(const Principal& principal, std::string_view action_prefix, std::string_view operation,
                 bool read_only);

// "User: arn:aws:iam::123456789012:user/x is not authorized to perform: ec2:CreateSecurityGroup"
std::string denial_text(std::string_view caller_arn, std::string_view action_prefix, std::string_view operation);

}  // namespace berth::iam
