// ec2/sg_store: the security-group tables (ec2_security_groups,
// ec2_sg_rules) as typed reads and writes inside a caller's transaction.
// Every write records a change on table kGroupsTable keyed by the group id,
// which is what SecurityGroupPublisher watches.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "ec2/security_group_rules.h"
#include "store/store.h"

namespace berth::ec2 {

inline constexpr std::string_view kGroupsTable = "ec2_security_groups";

struct GroupRecord {
  std::string group_id;
  std::string name;
  std::string description;
  std::string vpc_id;
  std::string owner_id;
};

// A rule with the group it belongs to.
struct StoredRule {
  std::string group_id;
  SecurityGroupRule rule;
};

Result<std::optional<GroupRecord>> find_group(store::Tx& tx, std::string_view group_id);
Result<std::optional<GroupRecord>> find_group_by_name(store::Tx& tx, std::string_view vpc_id, std::string_view name);
Result<std::vector<GroupRecord>> list_groups(store::Tx& tx);
Status insert_group(store::Tx& tx, const GroupRecord& group);
Status delete_group(store::Tx& tx, std::string_view group_id);

// Rules of one group ("" = all groups), in insertion order, rule ids set.
Result<std::vector<StoredRule>> load_rules(store::Tx& tx, std::string_view group_id = {});
// Assigns rule.rule_id ("sgr-" + 17 hex) when empty.
Status insert_rule(store::Tx& tx, std::string_view group_id, SecurityGroupRule& rule);
Status delete_rule(store::Tx& tx, std::string_view group_id, std::string_view rule_id);
// Groups (other than group_id itself) with a rule whose peer is group_id.
Result<std::vector<std::string>> groups_referencing(store::Tx& tx, std::string_view group_id);

// Every group with its rules: what the data plane's table is built from.
Result<std::vector<SecurityGroup>> load_security_groups(store::Tx& tx);

}  // namespace berth::ec2
