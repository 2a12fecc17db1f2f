// AuthorizeSecurityGroupIngress/Egress, RevokeSecurityGroupIngress/Egress,
// DescribeSecurityGroupRules. Each IpPermission peer becomes one rule
// (security_group_rules.h); the whole request is applied in one transaction
// or not at all.
#include <algorithm>

#include "ec2/api_support.h"
#include "ec2/network_store.h"
#include "ec2/sg_support.h"

namespace berth::ec2 {
namespace {

// The rules a request names, in request order. Group peers are resolved
// (GroupName in the target's VPC) and must exist.
Result<std::vector<SecurityGroupRule>> parse_rules(store::Tx& tx, const api::QueryView& q, RuleDirection direction,
                                                  const GroupRecord& target) {
  std::vector<SecurityGroupRule> rules;
  auto group_peer = [&](std::string_view id, std::string_view name,
                        std::string_view user_id) -> Result<RulePeer> {
    std::optional<GroupRecord> found;
    if (!id.empty()) {
      auto parsed = parse_group_id(id);
      if (!parsed) return std::move(parsed).error();
      auto g = find_group(tx, id);
      if (!g) return std::move(g).error();
      if (!*g) return group_not_found(id);
      found = std::move(**g);
    } else {
      auto g = find_group_by_name(tx, target.vpc_id, name);
      if (!g) return std::move(g).error();
      if (!*g) return group_not_found(name);
      found = std::move(**g);
    }
    std::string owner = user_id.empty() ? found->owner_id : std::string(user_id);
    return RulePeer{GroupPeer{*GroupId::parse(found->group_id), owner}};
  };

  auto permissions = q.items("IpPermissions");
  if (!permissions) return std::move(permissions).error();
  for (const auto& p : *permissions) {
    std::string protocol = optional_string(p, "IpProtocol");
    auto from = optional_int(p, "FromPort");
    if (!from) return std::move(from).error();
    auto to = optional_int(p, "ToPort");
    if (!to) return std::move(to).error();
    size_t before = rules.size();
    auto add = [&](RulePeer peer, std::string_view description) -> Status {
      auto rule = make_rule(direction, protocol, *from, *to, std::move(peer), std::string(description));
      if (!rule) return std::move(rule).error();
      rules.push_back(std::move(*rule));
      return Ok{};
    };
    auto ranges = p.items("IpRanges");
    if (!ranges) return std::move(ranges).error();
    for (const auto& r : *ranges) {
      auto cidr = parse_cidr_v4(optional_string(r, "CidrIp"));
      if (!cidr) return std::move(cidr).error();
      if (auto st = add(*cidr, optional_string(r, "Description")); !st) return std::move(st).error();
    }
    auto ranges6 = p.items("Ipv6Ranges");
    if (!ranges6) return std::move(ranges6).error();
    for (const auto& r : *ranges6) {
      auto cidr = parse_cidr_v6(optional_string(r, "CidrIpv6"));
      if (!cidr) return std::move(cidr).error();
      if (auto st = add(*cidr, optional_string(r, "Description")); !st) return std::move(st).error();
    }
    auto pairs = p.items("Groups");
    if (!pairs) return std::move(pairs).error();
    for (const auto& g : *pairs) {
      std::string id = optional_string(g, "GroupId");
      std::string name = optional_string(g, "GroupName");
      if (id.empty() && name.empty()) return missing_parameter("GroupId");
      auto peer = group_peer(id, name, optional_string(g, "UserId"));
      if (!peer) return std::move(peer).error();
      if (auto st = add(std::move(*peer), optional_string(g, "Description")); !st) return std::move(st).error();
    }
    auto prefix_lists = p.items("PrefixListIds");
    if (!prefix_lists) return std::move(prefix_lists).error();
    for (const auto& pl : *prefix_lists) {
      std::string id = optional_string(pl, "PrefixListId");
      if (id.rfind("pl-", 0) != 0)
        return Error::invalid("InvalidPrefixListId.Malformed", "The prefix list ID '" + id + "' is malformed");
      if (auto st = add(PrefixListPeer{id}, optional_string(pl, "Description")); !st) return std::move(st).error();
    }
    if (rules.size() == before) {
      // A permission without a peer: validate it anyway, then refuse it.
      auto rule = make_rule(direction, protocol, *from, *to, Cidr{});
      if (!rule) return std::move(rule).error();
      return missing_parameter("IpPermissions.IpRanges, Ipv6Ranges, Groups or PrefixListIds");
    }
  }

  // The older top-level form: IpProtocol/FromPort/ToPort with CidrIp or
  // SourceSecurityGroupName (all ports and protocols of that group).
  std::string cidr_ip = optional_string(q, "CidrIp");
  std::string source_name = optional_string(q, "SourceSecurityGroupName");
  if (!cidr_ip.empty() || !source_name.empty()) {
    if (!permissions->empty())
      return invalid_parameter_combination(
          "The parameter 'ipPermissions' may not be used in combination with 'cidrIp' or 'sourceSecurityGroupName'");
    if (!cidr_ip.empty() && !source_name.empty())
      return invalid_parameter_combination("Both 'cidrIp' and 'sourceSecurityGroupName' were specified");
    if (!cidr_ip.empty()) {
      auto cidr = parse_cidr_v4(cidr_ip);
      if (!cidr) return std::move(cidr).error();
      auto from = optional_int(q, "FromPort");
      if (!from) return std::move(from).error();
      auto to = optional_int(q, "ToPort");
      if (!to) return std::move(to).error();
      auto rule = make_rule(direction, optional_string(q, "IpProtocol"), *from, *to, *cidr);
      if (!rule) return std::move(rule).error();
      rules.push_back(std::move(*rule));
    } else {
      auto peer = group_peer("", source_name, optional_string(q, "SourceSecurityGroupOwnerId"));
      if (!peer) return std::move(peer).error();
      std::string protocol = optional_string(q, "IpProtocol");
      if (protocol.empty()) {
        // EC2-Classic style: the group on all of tcp, udp and icmp.
        for (auto [p, from, to] : {std::tuple{"tcp", 0, 65535}, {"udp", 0, 65535}, {"icmp", -1, -1}}) {
          auto rule = make_rule(direction, p, from, to, *peer);
          if (!rule) return std::move(rule).error();
          rules.push_back(std::move(*rule));
        }
      } else {
        auto from = optional_int(q, "FromPort");
        if (!from) return std::move(from).error();
        auto to = optional_int(q, "ToPort");
        if (!to) return std::move(to).error();
        auto rule = make_rule(direction, protocol, *from, *to, std::move(*peer));
        if (!rule) return std::move(rule).error();
        rules.push_back(std::move(*rule));
      }
    }
  }
  if (rules.empty() && !q.has_any("SecurityGroupRuleId")) return missing_parameter("IpPermissions");
  return rules;
}

Result<GroupRecord> target_group(store::Tx& tx, const api::QueryView& q, RuleDirection direction) {
  std::string id = optional_string(q, "GroupId");
  std::string name = optional_string(q, "GroupName");
  // Egress takes no GroupName.
  if (direction == RuleDirection::kEgress && id.empty()) return missing_parameter("GroupId");
  return resolve_group(tx, id, name);
}

Result<std::string> authorize(const Context& ctx, const api::QueryView& q, RuleDirection direction) {
  auto tags = parse_tag_specifications(q, "security-group-rule");
  if (!tags) return std::move(tags).error();
  if (auto dry = dry_run_check(q)) return *dry;
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    auto group = target_group(tx, q, direction);
    if (!group) return std::move(group).error();
    auto rules = parse_rules(tx, q, direction, *group);
    if (!rules) return std::move(rules).error();
    auto existing = load_rules(tx, group->group_id);
    if (!existing) return std::move(existing).error();
    for (size_t i = 0; i < rules->size(); ++i) {
      const auto& rule = (*rules)[i];
      for (const auto& e : *existing)
        if (same_permission(e.rule, rule)) return duplicate_permission_error(rule);
      for (size_t j = 0; j < i; ++j)
        if (same_permission((*rules)[j], rule)) return duplicate_permission_error(rule);
    }
    for (auto& rule : *rules) {
      if (auto st = insert_rule(tx, group->group_id, rule); !st) return std::move(st).error();
      if (auto st = put_tags(tx, rule.rule_id, *tags); !st) return std::move(st).error();
    }
    std::string out;
    api::XmlWriter w(out);
    w.leaf("return", "true").open("securityGroupRuleSet");
    for (const auto& rule : *rules) {
      write_rule_item(w, rule, group->group_id, group->owner_id, ctx.options.region, *tags);
    }
    w.close("securityGroupRuleSet");
    return out;
  });
}

void write_revoked(api::XmlWriter& w, const SecurityGroupRule& r, std::string_view group_id) {
  w.open("item")
      .leaf("securityGroupRuleId", r.rule_id)
      .leaf("groupId", group_id)
      .leaf_bool("isEgress", r.direction == RuleDirection::kEgress)
      .leaf("ipProtocol", r.protocol.to_string())
      .leaf_int("fromPort", r.ports.from)
      .leaf_int("toPort", r.ports.to);
  if (const auto* c = std::get_if<Cidr>(&r.peer))
    w.leaf(c->family() == IpFamily::kV4 ? "cidrIpv4" : "cidrIpv6", c->to_string());
  else if (const auto* g = std::get_if<GroupPeer>(&r.peer))
    w.leaf("referencedGroupId", g->group_id.view());
  else
    w.leaf("prefixListId", std::get<PrefixListPeer>(r.peer).prefix_list_id);
  if (!r.description.empty()) w.leaf("description", r.description);
  w.close("item");
}

Result<std::string> revoke(const Context& ctx, const api::QueryView& q, RuleDirection direction) {
  auto rule_ids = string_list(q, "SecurityGroupRuleId");
  if (!rule_ids) return std::move(rule_ids).error();
  if (auto dry = dry_run_check(q)) return *dry;
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    auto group = target_group(tx, q, direction);
    if (!group) return std::move(group).error();
    auto rules = parse_rules(tx, q, direction, *group);
    if (!rules) return std::move(rules).error();
    auto existing = load_rules(tx, group->group_id);
    if (!existing) return std::move(existing).error();
    auto vpc = get_vpc(tx, group->vpc_id);
    if (!vpc) return std::move(vpc).error();

    std::vector<SecurityGroupRule> revoked;
    std::vector<SecurityGroupRule> unknown;
    auto already = [&](const std::string& id) {
      return std::any_of(revoked.begin(), revoked.end(), [&](const SecurityGroupRule& r) { return r.rule_id == id; });
    };
    for (const auto& id : *rule_ids) {
      auto it = std::find_if(existing->begin(), existing->end(), [&](const StoredRule& s) {
        return s.rule.rule_id == id && s.rule.direction == direction;
      });
      if (it == existing->end())
        return Error::not_found("InvalidSecurityGroupRuleId.NotFound",
                                "The security group rule ID '" + id + "' does not exist");
      if (!already(id)) revoked.push_back(it->rule);
    }
    for (const auto& rule : *rules) {
      auto it = std::find_if(existing->begin(), existing->end(),
                             [&](const StoredRule& s) { return same_permission(s.rule, rule); });
      if (it == existing->end()) {
        // Default VPC: report it and go on; any other VPC: nothing is revoked.
        if (!vpc->is_default) return permission_not_found_error();
        unknown.push_back(rule);
        continue;
      }
      if (!already(it->rule.rule_id)) revoked.push_back(it->rule);
    }
    for (const auto& r : revoked) {
      if (auto st = delete_rule(tx, group->group_id, r.rule_id); !st) return std::move(st).error();
      if (auto st = delete_tags(tx, r.rule_id); !st) return std::move(st).error();
    }
    std::string out;
    api::XmlWriter w(out);
    w.leaf("return", "true");
    if (!unknown.empty()) write_ip_permissions(w, "unknownIpPermissionSet", unknown);
    w.open("revokedSecurityGroupRuleSet");
    for (const auto& r : revoked) write_revoked(w, r, group->group_id);
    w.close("revokedSecurityGroupRuleSet");
    return out;
  });
}

Result<std::string> describe_security_group_rules(const Context& ctx, const api::QueryView& q) {
  auto ids = string_list(q, "SecurityGroupRuleId");
  if (!ids) return std::move(ids).error();
  auto filters = parse_filters(q);
  if (!filters) return std::move(filters).error();
  auto page = parse_page(q, 5, 1000);
  if (!page) return std::move(page).error();
  return ctx.db.read([&](store::Tx& tx) -> Result<std::string> {
    auto groups = list_groups(tx);
    if (!groups) return std::move(groups).error();
    auto rules = load_rules(tx);
    if (!rules) return std::move(rules).error();
    for (const auto& id : *ids)
      if (std::none_of(rules->begin(), rules->end(), [&](const StoredRule& r) { return r.rule.rule_id == id; }))
        return Error::not_found("InvalidSecurityGroupRuleId.NotFound",
                                "The security group rule ID '" + id + "' does not exist");
    struct Row {
      const StoredRule* rule;
      std::string owner;
      Tags tags;
    };
    std::vector<Row> rows;
    for (const auto& r : *rules) {
      if (!ids->empty() && std::find(ids->begin(), ids->end(), r.rule.rule_id) == ids->end()) continue;
      std::string owner;
      for (const auto& g : *groups)
        if (g.group_id == r.group_id) owner = g.owner_id;
      auto tags = load_tags(tx, r.rule.rule_id);
      if (!tags) return std::move(tags).error();
      bool keep = true;
      for (const auto& f : *filters) {
        if (auto t = match_tag_filter(f, *tags)) keep = keep && *t;
        else if (f.name == "group-id") keep = keep && any_value_matches(f, r.group_id);
        else if (f.name == "security-group-rule-id") keep = keep && any_value_matches(f, r.rule.rule_id);
        else return unknown_filter(f.name);
      }
      if (keep) rows.push_back({&r, owner, std::move(*tags)});
    }
    std::string out;
    api::XmlWriter w(out);
    w.open("securityGroupRuleSet");
    size_t end = std::min(rows.size(), page->limit == SIZE_MAX ? rows.size() : page->offset + page->limit);
    for (size_t i = page->offset; i < end; ++i) {
      write_rule_item(w, rows[i].rule->rule, rows[i].rule->group_id, rows[i].owner, ctx.options.region,
                      rows[i].tags);
    }
    w.close("securityGroupRuleSet");
    write_next_token(w, next_token(*page, rows.size()));
    return out;
  });
}

}  // namespace

void add_security_group_rule_operations(api::Service& service, const ContextPtr& ctx) {
  service.add("AuthorizeSecurityGroupIngress", [ctx](const api::CallContext&, const api::OperationInput& in) {
    return authorize(*ctx, query_of(in), RuleDirection::kIngress);
  });
  service.add("AuthorizeSecurityGroupEgress", [ctx](const api::CallContext&, const api::OperationInput& in) {
    return authorize(*ctx, query_of(in), RuleDirection::kEgress);
  });
  service.add("RevokeSecurityGroupIngress", [ctx](const api::CallContext&, const api::OperationInput& in) {
    return revoke(*ctx, query_of(in), RuleDirection::kIngress);
  });
  service.add("RevokeSecurityGroupEgress", [ctx](const api::CallContext&, const api::OperationInput& in) {
    return revoke(*ctx, query_of(in), RuleDirection::kEgress);
  });
  service.add("DescribeSecurityGroupRules", [ctx](const api::CallContext&, const api::OperationInput& in) {
    return describe_security_group_rules(*ctx, query_of(in));
  });
}

}  // namespace berth::ec2
