#include "ec2/connection_policy.h"

#include <algorithm>

namespace berth::ec2 {
namespace {

bool carries(std::span<const GroupId> groups, const GroupId& id) {
  for (const GroupId& g : groups)
    if (g == id) return true;
  return false;
}

}  // namespace

std::shared_ptr<const SecurityGroupTable> SecurityGroupTable::build(
    std::span<const SecurityGroup> groups) {
  auto table = std::make_shared<SecurityGroupTable>();
  std::vector<const SecurityGroup*> order;
  order.reserve(groups.size());
  for (const SecurityGroup& g : groups) order.push_back(&g);
  std::stable_sort(order.begin(), order.end(),
                   [](const SecurityGroup* a, const SecurityGroup* b) { return a->id < b->id; });
  order.erase(std::unique(order.begin(), order.end(),
                          [](const SecurityGroup* a, const SecurityGroup* b) { return a->id == b->id; }),
              order.end());

  table->groups_.reserve(order.size());
  for (const SecurityGroup* g : order) {
    CompiledGroup compiled{};
    compiled.id = g->id;
    compiled.ingress_begin = static_cast<uint32_t>(table->rules_.size());
    compile_rules(g->ingress, table->rules_);
    compiled.ingress_end = static_cast<uint32_t>(table->rules_.size());
    compiled.egress_begin = compiled.ingress_end;
    compile_rules(g->egress, table->rules_);
    compiled.egress_end = static_cast<uint32_t>(table->rules_.size());
    table->groups_.push_back(compiled);
  }
  table->rules_.shrink_to_fit();
  return table;
}

std::shared_ptr<const SecurityGroupTable> SecurityGroupTable::empty() {
  static const auto kEmpty = std::make_shared<const SecurityGroupTable>();
  return kEmpty;
}

void SecurityGroupTable::compile_rules(const std::vector<SecurityGroupRule>& rules,
                                       std::vector<CompiledRule>& out) {
  for (const SecurityGroupRule& rule : rules) {
    CompiledRule c{};
    c.protocol = rule.protocol.number();
    // Canonical ranges come from make_rule; a protocol without ports is
    // widened here too, so a hand-built rule cannot narrow "all ports".
    if (rule.protocol.has_port_range()) {
      c.from = rule.ports.from;
      c.to = rule.ports.to;
    } else {
      c.from = -1;
      c.to = -1;
    }
    if (const auto* cidr = std::get_if<Cidr>(&rule.peer)) {
      c.peer_kind = PeerKind::kCidr;
      c.cidr = *cidr;
    } else if (const auto* group = std::get_if<GroupPeer>(&rule.peer)) {
      if (group->group_id.empty()) continue;
      c.peer_kind = PeerKind::kGroup;
      c.group = group->group_id;
    } else {
      continue;  // prefix lists hold no local addresses
    }
    out.push_back(c);
  }
}

const SecurityGroupTable::CompiledGroup* SecurityGroupTable::find(const GroupId& id) const {
  auto it = std::lower_bound(groups_.begin(), groups_.end(), id,
                             [](const CompiledGroup& g, const GroupId& key) { return g.id < key; });
  return it != groups_.end() && it->id == id ? &*it : nullptr;
}

bool SecurityGroupTable::matches(const CompiledRule& rule, const Connection& c,
                                 const IpAddress& peer, std::span<const GroupId> peer_groups) {
  if (rule.protocol != IpProtocol::kAll) {
    if (rule.protocol != c.protocol.number()) return false;
    if (c.protocol.is_tcp_or_udp()) {
      if (c.port < rule.from || c.port > rule.to) return false;
    } else if (c.protocol.is_icmp_family()) {
      if (rule.from != -1) {
        if (rule.from != c.icmp_type) return false;
        if (rule.to != -1 && rule.to != c.icmp_code) return false;
      }
    }
  }
  switch (rule.peer_kind) {
    case PeerKind::kCidr:
      return rule.cidr.contains(peer);
    case PeerKind::kGroup:
      return carries(peer_groups, rule.group);
  }
  return false;
}

bool SecurityGroupTable::ingress_allowed(const Connection& c) const {
  for (const GroupId& id : c.destination_groups) {
    const CompiledGroup* group = find(id);
    if (group == nullptr) continue;
    for (uint32_t i = group->ingress_begin; i < group->ingress_end; ++i)
      if (matches(rules_[i], c, c.source, c.source_groups)) return true;
  }
  return false;
}

bool SecurityGroupTable::egress_allowed(const Connection& c) const {
  if (c.source_groups.empty()) return true;
  for (const GroupId& id : c.source_groups) {
    const CompiledGroup* group = find(id);
    if (group == nullptr) continue;
    for (uint32_t i = group->egress_begin; i < group->egress_end; ++i)
      if (matches(rules_[i], c, c.destination, c.destination_groups)) return true;
  }
  return false;
}

}  // namespace berth::ec2
