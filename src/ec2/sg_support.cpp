#include "ec2/sg_support.h"

#include <vector>

#include "ec2/api_support.h"
#include "ec2/schema.h"

namespace berth::ec2 {

Error group_not_found(std::string_view group_id) {
  return Error::not_found("InvalidGroup.NotFound",
                          "The security group '" + std::string(group_id) + "' does not exist");
}

Error group_name_not_found(std::string_view name, std::string_view vpc_id) {
  return Error::not_found("InvalidGroup.NotFound", "The security group '" + std::string(name) +
                                                       "' does not exist in default VPC '" + std::string(vpc_id) + "'");
}

Result<GroupRecord> resolve_group(store::Tx& tx, std::string_view group_id, std::string_view group_name) {
  if (!group_id.empty()) {
    auto id = parse_group_id(group_id);
    if (!id) return std::move(id).error();
    auto g = find_group(tx, group_id);
    if (!g) return std::move(g).error();
    if (!*g) return group_not_found(group_id);
    return std::move(**g);
  }
  if (group_name.empty()) return missing_parameter("GroupId");
  auto vpc = default_vpc_id(tx);
  if (!vpc) return std::move(vpc).error();
  auto g = find_group_by_name(tx, *vpc, group_name);
  if (!g) return std::move(g).error();
  if (!*g) return group_name_not_found(group_name, *vpc);
  return std::move(**g);
}

std::string security_group_arn(std::string_view region, std::string_view owner, std::string_view group_id) {
  return "arn:aws:ec2:" + std::string(region) + ":" + std::string(owner) + ":security-group/" + std::string(group_id);
}

namespace {

void write_ports(api::XmlWriter& w, const SecurityGroupRule& r) {
  if (!r.protocol.has_port_range()) return;
  w.leaf_int("fromPort", r.ports.from).leaf_int("toPort", r.ports.to);
}

void write_description(api::XmlWriter& w, const SecurityGroupRule& r) {
  if (!r.description.empty()) w.leaf("description", r.description);
}

}  // namespace

void write_ip_permissions(api::XmlWriter& w, std::string_view element, std::span<const SecurityGroupRule> rules) {
  std::vector<std::vector<const SecurityGroupRule*>> permissions;
  for (const auto& r : rules) {
    bool placed = false;
    for (auto& p : permissions) {
      if (p.front()->protocol == r.protocol && p.front()->ports == r.ports) {
        p.push_back(&r);
        placed = true;
        break;
      }
    }
    if (!placed) permissions.push_back({&r});
  }
  w.open(element);
  for (const auto& p : permissions) {
    w.open("item").leaf("ipProtocol", p.front()->protocol.to_string());
    write_ports(w, *p.front());
    w.open("groups");
    for (const auto* r : p)
      if (const auto* g = std::get_if<GroupPeer>(&r->peer)) {
        w.open("item");
        write_description(w, *r);
        if (!g->user_id.empty()) w.leaf("userId", g->user_id);
        w.leaf("groupId", g->group_id.view()).close("item");
      }
    w.close("groups").open("ipRanges");
    for (const auto* r : p)
      if (const auto* c = std::get_if<Cidr>(&r->peer); c && c->family() == IpFamily::kV4) {
        w.open("item").leaf("cidrIp", c->to_string());
        write_description(w, *r);
        w.close("item");
      }
    w.close("ipRanges").open("ipv6Ranges");
    for (const auto* r : p)
      if (const auto* c = std::get_if<Cidr>(&r->peer); c && c->family() == IpFamily::kV6) {
        w.open("item").leaf("cidrIpv6", c->to_string());
        write_description(w, *r);
        w.close("item");
      }
    w.close("ipv6Ranges").open("prefixListIds");
    for (const auto* r : p)
      if (const auto* pl = std::get_if<PrefixListPeer>(&r->peer)) {
        w.open("item").leaf("prefixListId", pl->prefix_list_id);
        write_description(w, *r);
        w.close("item");
      }
    w.close("prefixListIds").close("item");
  }
  w.close(element);
}

void write_rule_item(api::XmlWriter& w, const SecurityGroupRule& r, std::string_view group_id,
                     std::string_view owner_id, std::string_view region, const Tags& tags) {
  w.open("item")
      .leaf("securityGroupRuleId", r.rule_id)
      .leaf("groupId", group_id)
      .leaf("groupOwnerId", owner_id)
      .leaf_bool("isEgress", r.direction == RuleDirection::kEgress)
      .leaf("ipProtocol", r.protocol.to_string())
      .leaf_int("fromPort", r.ports.from)
      .leaf_int("toPort", r.ports.to);
  if (const auto* c = std::get_if<Cidr>(&r.peer)) {
    w.leaf(c->family() == IpFamily::kV4 ? "cidrIpv4" : "cidrIpv6", c->to_string());
  } else if (const auto* g = std::get_if<GroupPeer>(&r.peer)) {
    w.open("referencedGroupInfo").leaf("groupId", g->group_id.view());
    if (!g->user_id.empty()) w.leaf("userId", g->user_id);
    w.close("referencedGroupInfo");
  } else {
    w.leaf("prefixListId", std::get<PrefixListPeer>(r.peer).prefix_list_id);
  }
  if (!r.description.empty()) w.leaf("description", r.description);
  w.leaf("securityGroupRuleArn", "arn:aws:ec2:" + std::string(region) + ":" + std::string(owner_id) +
                                     ":security-group-rule/" + r.rule_id);
  write_tag_set(w, tags);
  w.close("item");
}

}  // namespace berth::ec2
