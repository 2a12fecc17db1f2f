// AddTags, RemoveTags, DescribeTags over load balancers, target groups,
// listeners and rules (told apart by the ARN's resource type).
#include <algorithm>

#include "elb/api_support.h"
#include "elb/elb_store.h"

namespace berth::elb {
namespace {

constexpr size_t kMaxTags = 50;

// Runs fn(tags) on the tags of the resource an ARN names, and writes it back when fn changed them.
template <class Fn>
Status with_tags(store::Tx& tx, const std::string& arn, bool write, Fn&& fn) {
  auto visit = [&](Kind kind, auto sample, Error not_found) -> Status {
    using T = decltype(sample);
    auto obj = get_object<T>(tx, kind, arn);
    if (!obj) return std::move(obj).error();
    if (!*obj) return not_found;
    if (auto st = fn((*obj)->tags); !st) return st;
    if (write) return put_object(tx, kind, arn, **obj);
    return Ok{};
  };
  if (arn.find(":loadbalancer/") != std::string::npos)
    return visit(Kind::kLoadBalancer, LoadBalancer{}, load_balancer_not_found());
  if (arn.find(":targetgroup/") != std::string::npos)
    return visit(Kind::kTargetGroup, TargetGroup{}, target_group_not_found());
  if (arn.find(":listener/") != std::string::npos) return visit(Kind::kListener, Listener{}, listener_not_found());
  if (arn.find(":listener-rule/") != std::string::npos) return visit(Kind::kRule, Rule{}, rule_not_found());
  return validation_error("'" + arn + "' is not a valid resource ARN");
}

Result<std::vector<std::string>> resource_arns(const api::QueryView& q) {
  auto arns = member_strings(q, "ResourceArns");
  if (!arns) return std::move(arns).error();
  if (arns->empty())
    return validation_error("1 validation error detected: Value null at 'resourceArns' failed to satisfy constraint: "
                            "Member must not be null");
  return arns;
}

Result<std::string> add_tags(const Context& ctx, const api::QueryView& q) {
  auto arns = resource_arns(q);
  if (!arns) return std::move(arns).error();
  auto tags = parse_tags(q);
  if (!tags) return std::move(tags).error();
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    for (const auto& arn : *arns) {
      auto st = with_tags(tx, arn, true, [&](std::vector<Tag>& have) -> Status {
        for (const auto& t : *tags) {
          auto it = std::find_if(have.begin(), have.end(), [&](const Tag& h) { return h.key == t.key; });
          if (it != have.end()) it->value = t.value;
          else have.push_back(t);
        }
        if (have.size() > kMaxTags) return elb_error("TooManyTags", "The quota for the number of tags that can be assigned to a load balancer has been reached");
        return Ok{};
      });
      if (!st) return std::move(st).error();
    }
    return std::string();
  });
}

Result<std::string> remove_tags(const Context& ctx, const api::QueryView& q) {
  auto arns = resource_arns(q);
  if (!arns) return std::move(arns).error();
  auto keys = member_strings(q, "TagKeys");
  if (!keys) return std::move(keys).error();
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    for (const auto& arn : *arns) {
      auto st = with_tags(tx, arn, true, [&](std::vector<Tag>& have) -> Status {
        std::erase_if(have, [&](const Tag& t) { return std::find(keys->begin(), keys->end(), t.key) != keys->end(); });
        return Ok{};
      });
      if (!st) return std::move(st).error();
    }
    return std::string();
  });
}

Result<std::string> describe_tags(const Context& ctx, const api::QueryView& q) {
  auto arns = resource_arns(q);
  if (!arns) return std::move(arns).error();
  return ctx.db.read([&](store::Tx& tx) -> Result<std::string> {
    std::string out;
    api::XmlWriter w(out);
    w.open("TagDescriptions");
    for (const auto& arn : *arns) {
      auto st = with_tags(tx, arn, false, [&](std::vector<Tag>& have) -> Status {
        w.open("member").leaf("ResourceArn", arn);
        write_tags(w, have);
        w.close("member");
        return Ok{};
      });
      if (!st) return std::move(st).error();
    }
    w.close("TagDescriptions");
    return out;
  });
}

}  // namespace

void add_tag_operations(api::Service& service, const ContextPtr& ctx) {
  auto bind = [&](auto fn) {
    return [ctx, fn](const api::CallContext&, const api::OperationInput& in) { return fn(*ctx, query_of(in)); };
  };
  service.add("AddTags", bind(add_tags));
  service.add("RemoveTags", bind(remove_tags));
  service.add("DescribeTags", bind(describe_tags));
}

}  // namespace berth::elb
