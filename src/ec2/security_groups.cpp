// CreateSecurityGroup, DescribeSecurityGroups, DeleteSecurityGroup.
#include <algorithm>

#include "core/ids.h"
#include "ec2/api_support.h"
#include "ec2/attachments.h"
#include "ec2/network_store.h"
#include "ec2/schema.h"
#include "ec2/sg_support.h"

namespace berth::ec2 {
namespace {

Result<std::string> create_security_group(const Context& ctx, const api::QueryView& q) {
  auto name = required(q, "GroupName");
  if (!name) return std::move(name).error();
  auto description = required(q, "GroupDescription");
  if (!description) return std::move(description).error();
  if (name->size() > 255) return invalid_parameter_value("Group name exceeds the maximum length of 255 characters");
  if (description->size() > 255)
    return invalid_parameter_value("Group description exceeds the maximum length of 255 characters");
  if (name->rfind("sg-", 0) == 0) return invalid_parameter_value("Group names may not be in the format sg-*.");
  auto tags = parse_tag_specifications(q, "security-group");
  if (!tags) return std::move(tags).error();
  std::string vpc_param = optional_string(q, "VpcId");
  if (auto dry = dry_run_check(q)) return *dry;
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    std::string vpc_id = vpc_param;
    if (vpc_id.empty()) {
      auto def = default_vpc_id(tx);
      if (!def) return std::move(def).error();
      vpc_id = *def;
    } else if (auto vpc = get_vpc(tx, vpc_id); !vpc) {
      return std::move(vpc).error();
    }
    auto existing = find_group_by_name(tx, vpc_id, *name);
    if (!existing) return std::move(existing).error();
    if (*existing)
      return Error::already_exists("InvalidGroup.Duplicate",
                                   "The security group '" + *name + "' already exists for VPC '" + vpc_id + "'");
    GroupRecord g{ids::prefixed("sg-"), *name, *description, vpc_id, ctx.options.account_id};
    if (auto st = insert_group(tx, g); !st) return std::move(st).error();
    SecurityGroupRule egress = default_egress_rule();
    if (auto st = insert_rule(tx, g.group_id, egress); !st) return std::move(st).error();
    if (auto st = put_tags(tx, g.group_id, *tags); !st) return std::move(st).error();
    std::string out;
    api::XmlWriter w(out);
    w.leaf("return", "true").leaf("groupId", g.group_id);
    write_tag_set(w, *tags);
    w.leaf("securityGroupArn", security_group_arn(ctx.options.region, g.owner_id, g.group_id));
    return out;
  });
}

// ip-permission.* and egress.ip-permission.* filters over one direction's rules.
std::optional<bool> match_permission_filter(const Filter& f, const std::vector<SecurityGroupRule>& ingress,
                                            const std::vector<SecurityGroupRule>& egress) {
  std::string_view name = f.name;
  const std::vector<SecurityGroupRule>* rules = &ingress;
  if (name.rfind("egress.", 0) == 0) {
    rules = &egress;
    name.remove_prefix(7);
  }
  if (name.rfind("ip-permission.", 0) != 0) return std::nullopt;
  name.remove_prefix(14);
  for (const auto& r : *rules) {
    std::string value;
    if (name == "protocol") value = r.protocol.to_string();
    else if (name == "from-port") value = std::to_string(r.ports.from);
    else if (name == "to-port") value = std::to_string(r.ports.to);
    else if (name == "cidr") {
      auto c = std::get_if<Cidr>(&r.peer);
      if (!c || c->family() != IpFamily::kV4) continue;
      value = c->to_string();
    } else if (name == "ipv6-cidr") {
      auto c = std::get_if<Cidr>(&r.peer);
      if (!c || c->family() != IpFamily::kV6) continue;
      value = c->to_string();
    } else if (name == "group-id") {
      auto g = std::get_if<GroupPeer>(&r.peer);
      if (!g) continue;
      value = g->group_id.to_string();
    } else if (name == "user-id") {
      auto g = std::get_if<GroupPeer>(&r.peer);
      if (!g) continue;
      value = g->user_id;
    } else if (name == "prefix-list-id") {
      auto p = std::get_if<PrefixListPeer>(&r.peer);
      if (!p) continue;
      value = p->prefix_list_id;
    } else {
      return std::nullopt;
    }
    if (any_value_matches(f, value)) return true;
  }
  return false;
}

Result<std::string> describe_security_groups(const Context& ctx, const api::QueryView& q) {
  auto ids = string_list(q, "GroupId");
  if (!ids) return std::move(ids).error();
  auto names = string_list(q, "GroupName");
  if (!names) return std::move(names).error();
  auto filters = parse_filters(q);
  if (!filters) return std::move(filters).error();
  auto page = parse_page(q, 5, 1000);
  if (!page) return std::move(page).error();
  if (page->limit != SIZE_MAX && (!ids->empty() || !names->empty()))
    return invalid_parameter_combination(
        "The parameter groupIds cannot be used with the parameter maxResults");
  for (const auto& id : *ids)
    if (auto parsed = parse_group_id(id); !parsed) return std::move(parsed).error();
  return ctx.db.read([&](store::Tx& tx) -> Result<std::string> {
    auto groups = list_groups(tx);
    if (!groups) return std::move(groups).error();
    auto rules = load_rules(tx);
    if (!rules) return std::move(rules).error();
    for (const auto& id : *ids)
      if (std::none_of(groups->begin(), groups->end(), [&](const GroupRecord& g) { return g.group_id == id; }))
        return group_not_found(id);
    std::string default_vpc;
    if (!names->empty()) {
      auto vpc = default_vpc_id(tx);
      if (!vpc) return std::move(vpc).error();
      default_vpc = *vpc;
      for (const auto& n : *names)
        if (std::none_of(groups->begin(), groups->end(),
                         [&](const GroupRecord& g) { return g.name == n && g.vpc_id == default_vpc; }))
          return group_name_not_found(n, default_vpc);
    }
    struct Row {
      const GroupRecord* group;
      std::vector<SecurityGroupRule> ingress, egress;
      Tags tags;
    };
    std::vector<Row> rows;
    for (const auto& g : *groups) {
      bool by_id = std::find(ids->begin(), ids->end(), g.group_id) != ids->end();
      bool by_name = g.vpc_id == default_vpc && std::find(names->begin(), names->end(), g.name) != names->end();
      if ((!ids->empty() || !names->empty()) && !by_id && !by_name) continue;
      Row row{&g, {}, {}, {}};
      for (const auto& r : *rules)
        if (r.group_id == g.group_id)
          (r.rule.direction == RuleDirection::kEgress ? row.egress : row.ingress).push_back(r.rule);
      auto tags = load_tags(tx, g.group_id);
      if (!tags) return std::move(tags).error();
      row.tags = std::move(*tags);
      bool keep = true;
      for (const auto& f : *filters) {
        if (auto t = match_tag_filter(f, row.tags)) keep = keep && *t;
        else if (auto p = match_permission_filter(f, row.ingress, row.egress)) keep = keep && *p;
        else if (f.name == "group-name") keep = keep && any_value_matches(f, g.name);
        else if (f.name == "group-id") keep = keep && any_value_matches(f, g.group_id);
        else if (f.name == "vpc-id") keep = keep && any_value_matches(f, g.vpc_id);
        else if (f.name == "description") keep = keep && any_value_matches(f, g.description);
        else if (f.name == "owner-id") keep = keep && any_value_matches(f, g.owner_id);
        else return unknown_filter(f.name);
      }
      if (keep) rows.push_back(std::move(row));
    }
    std::string out;
    api::XmlWriter w(out);
    w.open("securityGroupInfo");
    size_t end = std::min(rows.size(), page->limit == SIZE_MAX ? rows.size() : page->offset + page->limit);
    for (size_t i = page->offset; i < end; ++i) {
      const Row& r = rows[i];
      w.open("item")
          .leaf("ownerId", r.group->owner_id)
          .leaf("groupId", r.group->group_id)
          .leaf("groupName", r.group->name)
          .leaf("groupDescription", r.group->description);
      write_ip_permissions(w, "ipPermissions", r.ingress);
      write_ip_permissions(w, "ipPermissionsEgress", r.egress);
      w.leaf("vpcId", r.group->vpc_id)
          .leaf("securityGroupArn", security_group_arn(ctx.options.region, r.group->owner_id, r.group->group_id));
      write_tag_set(w, r.tags);
      w.close("item");
    }
    w.close("securityGroupInfo");
    write_next_token(w, next_token(*page, rows.size()));
    return out;
  });
}

Result<std::string> delete_security_group(const Context& ctx, const api::QueryView& q) {
  std::string group_id = optional_string(q, "GroupId");
  std::string group_name = optional_string(q, "GroupName");
  if (group_id.empty() && group_name.empty()) return missing_parameter("GroupId");
  if (auto dry = dry_run_check(q)) return *dry;
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    auto group = resolve_group(tx, group_id, group_name);
    if (!group) return std::move(group).error();
    if (group->name == "default")
      return Error::invalid("CannotDelete", "the specified group: \"" + group->group_id +
                                                "\" name: \"default\" cannot be deleted by a user");
    auto referencing = groups_referencing(tx, group->group_id);
    if (!referencing) return std::move(referencing).error();
    auto attached = attachment_count(tx, group->group_id);
    if (!attached) return std::move(attached).error();
    if (!referencing->empty() || *attached > 0)
      return Error::conflict("DependencyViolation", "resource " + group->group_id + " has a dependent object");
    if (auto st = delete_group(tx, group->group_id); !st) return std::move(st).error();
    if (auto st = delete_tags(tx, group->group_id); !st) return std::move(st).error();
    std::string out;
    api::XmlWriter w(out);
    w.leaf("return", "true").leaf("groupId", group->group_id);
    return out;
  });
}

}  // namespace

void add_security_group_operations(api::Service& service, const ContextPtr& ctx) {
  service.add("CreateSecurityGroup", [ctx](const api::CallContext&, const api::OperationInput& in) {
    return create_security_group(*ctx, query_of(in));
  });
  service.add("DescribeSecurityGroups", [ctx](const api::CallContext&, const api::OperationInput& in) {
    return describe_security_groups(*ctx, query_of(in));
  });
  service.add("DeleteSecurityGroup", [ctx](const api::CallContext&, const api::OperationInput& in) {
    return delete_security_group(*ctx, query_of(in));
  });
}

}  // namespace berth::ec2
