// ec2/attachments: which resources carry which security groups. Instances
// write it here; load balancers and awsvpc tasks of other modules call the
// same functions inside their own store transactions, so DeleteSecurityGroup
// answers DependencyViolation while anything still uses a group.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "store/store.h"

namespace berth::ec2 {

inline constexpr std::string_view kAttachmentsTable = "ec2_sg_attachments";

// Idempotent. resource_id is any unique id ("i-...", an ALB ARN, "eni-...").
Status attach_security_groups(store::Tx& tx, std::string_view resource_id, std::span<const std::string> group_ids);
// Drops every attachment of resource_id.
Status detach_security_groups(store::Tx& tx, std::string_view resource_id);
Result<size_t> attachment_count(store::Tx& tx, std::string_view group_id);

}  // namespace berth::ec2
