// EC2 query bodies (security groups, instances, key pairs, ...): the query
// codec, then the shared readers of ec2/api_support (Filter.N, TagSpecification.N,
// MaxResults/NextToken, DryRun) and the IpPermissions of
// Authorize/RevokeSecurityGroupIngress/Egress down to make_rule, as
// sg_rule_ops.cpp reads them (the group lookups, which need the store, left out).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/query_codec.h"
#include "ec2/api_support.h"
#include "ec2/security_group_rules.h"

namespace {
using namespace berth::ec2;

void read_permissions(const berth::api::QueryView& q, RuleDirection direction) {
  auto permissions = q.items("IpPermissions");
  if (!permissions) return;
  for (const auto& p : *permissions) {
    std::string protocol = optional_string(p, "IpProtocol");
    auto from = optional_int(p, "FromPort");
    auto to = optional_int(p, "ToPort");
    if (!from || !to) continue;
    auto add = [&](RulePeer peer, std::string description) {
      auto rule = make_rule(direction, protocol, *from, *to, std::move(peer), std::move(description));
      if (!rule) return;
      (void)permission_text(*rule);
      if (!same_permission(*rule, *rule)) std::abort();
    };
    if (auto ranges = p.items("IpRanges"))
      for (const auto& r : *ranges)
        if (auto cidr = parse_cidr_v4(optional_string(r, "CidrIp"))) add(*cidr, optional_string(r, "Description"));
    if (auto ranges = p.items("Ipv6Ranges"))
      for (const auto& r : *ranges)
        if (auto cidr = parse_cidr_v6(optional_string(r, "CidrIpv6"))) add(*cidr, optional_string(r, "Description"));
    if (auto pairs = p.items("Groups"))
      for (const auto& g : *pairs)
        if (auto id = parse_group_id(optional_string(g, "GroupId")))
          add(GroupPeer{*id, optional_string(g, "UserId")}, optional_string(g, "Description"));
    add(Cidr{}, "");
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto params = berth::api::QueryParams::parse(body);
  if (!params) return 0;
  berth::api::QueryView q = params->root();
  if (auto filters = parse_filters(q)) {
    Tags tags{{"Name", "web"}, {"env", "prod"}};
    for (const auto& f : *filters) {
      (void)any_value_matches(f, "sg-0123456789abcdef0");
      (void)match_tag_filter(f, tags);
    }
  }
  (void)parse_tag_specifications(q, "security-group");
  (void)parse_tag_specifications(q, "instance", true);
  (void)parse_page(q, 5, 1000);
  (void)dry_run_check(q);
  (void)string_list(q, "GroupId");
  (void)optional_bool(q, "DryRun", false);
  read_permissions(q, RuleDirection::kIngress);
  read_permissions(q, RuleDirection::kEgress);
  return 0;
}
