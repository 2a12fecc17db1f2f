// The one decision of whether security groups let a connection through.
// This part of ec2 owns SecurityGroupTable, an immutable snapshot compiled
// from SecurityGroup values, and the pure functions that read it.
//
//   ec2 control plane (store change feed)
//        │ build(groups) on every change
//        ▼
//   shared_ptr<const SecurityGroupTable> ──swap──> elb data plane, runtime
//        │                                         (each keeps its own copy
//        ▼                                          of the pointer)
//   connection_allowed / egress_allowed / flow_allowed: no lock, no store,
//   no allocation, no exception
//
// Semantics (AWS security groups are allow-only and stateful):
// - Ingress: allowed iff at least one ingress rule of at least one of the
//   destination's groups matches. No destination group, no rule, or only
//   group ids the table does not know: dropped.
// - Egress: allowed iff at least one egress rule of at least one of the
//   source's groups matches the destination. A source with no groups is
//   not an ENI (the host, standing in for the internet): no egress filter.
//   A source whose groups are all unknown to the table: dropped.
// - A rule matches when its protocol is -1 or the connection's protocol,
//   the port (tcp/udp) or ICMP type/code (icmp/icmpv6, -1 = any) is in
//   range (other protocols: any port), and its peer matches: a CIDR that
//   contains the peer address (same family only), a group that the peer's
//   ENI carries, never a prefix list.
// - Replies of an allowed connection are not decided here (stateful).
// - The peer groups are the caller's word. On AWS a group reference only
//   matches traffic from the ENI's private addresses; so a caller passes no
//   source groups for traffic that arrives through a public address.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "ec2/security_group_rules.h"

namespace berth::ec2 {

// One connection attempt, as the data plane sees it. The spans are not
// owned; they must outlive the call.
struct Connection {
  IpAddress source;
  std::span<const GroupId> source_groups;  // empty: the host / the internet
  IpAddress destination;
  std::span<const GroupId> destination_groups;
  IpProtocol protocol = IpProtocol::tcp();
  uint16_t port = 0;  // destination port, tcp and udp
  uint8_t icmp_type = 0;  // icmp and icmpv6
  uint8_t icmp_code = 0;
};

class SecurityGroupTable {
 public:
  // Compiles the groups. A group id given twice keeps its first snapshot.
  // Rules whose peer is a prefix list or an empty group id are dropped
  // (they never match); rules are otherwise kept in order.
  static std::shared_ptr<const SecurityGroupTable> build(std::span<const SecurityGroup> groups);
  static std::shared_ptr<const SecurityGroupTable> empty();

  bool ingress_allowed(const Connection& c) const;
  bool egress_allowed(const Connection& c) const;

  bool contains(const GroupId& id) const { return find(id) != nullptr; }
  size_t group_count() const { return groups_.size(); }
  size_t rule_count() const { return rules_.size(); }

  // Public for make_shared; use build().
  SecurityGroupTable() = default;

 private:
  enum class PeerKind : uint8_t { kCidr, kGroup };

  struct CompiledRule {
    int16_t protocol;  // IpProtocol::number(), -1 = all
    PeerKind peer_kind;
    int32_t from;      // -1..-1 where the protocol has no port range
    int32_t to;
    Cidr cidr;         // kCidr
    GroupId group;     // kGroup
  };

  struct CompiledGroup {
    GroupId id;
    uint32_t ingress_begin;
    uint32_t ingress_end;
    uint32_t egress_begin;
    uint32_t egress_end;
  };

  const CompiledGroup* find(const GroupId& id) const;
  static void compile_rules(const std::vector<SecurityGroupRule>& rules,
                            std::vector<CompiledRule>& out);
  static bool matches(const CompiledRule& rule, const Connection& c, const IpAddress& peer,
                      std::span<const GroupId> peer_groups);

  std::vector<CompiledGroup> groups_;  // sorted by id
  std::vector<CompiledRule> rules_;
};

// Ingress of the destination's groups: DESIGN.md's "one function that
// decides whether a connection is allowed".
inline bool connection_allowed(const Connection& c, const SecurityGroupTable& table) {
  return table.ingress_allowed(c);
}

// Egress of the source's groups.
inline bool egress_allowed(const Connection& c, const SecurityGroupTable& table) {
  return table.egress_allowed(c);
}

// Both ends: what the load balancer asks before it connects to a target.
inline bool flow_allowed(const Connection& c, const SecurityGroupTable& table) {
  return table.egress_allowed(c) && table.ingress_allowed(c);
}

}  // namespace berth::ec2
