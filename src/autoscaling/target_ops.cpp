// Scalable targets: RegisterScalableTarget (also updates min, max and the
// suspended state), DescribeScalableTargets, DeregisterScalableTarget, and
// the targets' tags.
#include <boost/json/serialize.hpp>

#include "autoscaling/internal.h"
#include "autoscaling/operations.h"
#include "autoscaling/requests.h"
#include "core/ids.h"
#include "core/log.h"

namespace berth::autoscaling {
namespace {

constexpr size_t kMaxTags = 200;

std::string body(const json::object& o) { return json::serialize(o); }

std::string service_linked_role(const AutoScalingOptions& o) {
  return "arn:aws:iam::" + o.account_id +
         ":role/aws-service-role/ecs.application-autoscaling.amazonaws.com/"
         "AWSServiceRoleForApplicationAutoScaling_ECSService";
}

// {"key": "value", ...} as the TagMap shape.
Result<std::vector<std::pair<std::string, std::string>>> read_tags(const json::object& in, bool required) {
  auto tags = opt_object(in, "Tags");
  if (!tags) return std::move(tags).error();
  std::vector<std::pair<std::string, std::string>> out;
  if (!*tags) {
    if (required) return constraint("Tags", json::value(nullptr), "Member must not be null");
    return out;
  }
  for (const auto& [k, v] : **tags) {
    if (k.empty() || k.size() > 128 || !v.is_string() || v.as_string().size() > 256)
      return validation("Invalid tag: " + std::string(k));  // unverified wording
    out.emplace_back(std::string(k), std::string(v.as_string()));
  }
  return out;
}

Error target_arn_not_found(std::string_view arn) {
  return Error::not_found("ResourceNotFoundException", "Scalable target with ARN " + std::string(arn) +
                                                           " not found.");  // unverified wording
}

// The ECS service must exist (AWS: "ECS service doesn't exist: <ResourceId>").
Status check_service(AutoScaling& as, std::string_view resource_id) {
  auto ref = parse_resource_id(resource_id);
  auto service = as.ecs().read_service(ref->cluster, ref->service);
  if (!service && service.error().error_class != ErrorClass::kNotFound) return std::move(service).error();
  if (!service || service->status == "INACTIVE")
    return validation("ECS service doesn't exist: " + std::string(resource_id));
  return Ok{};
}

Result<std::string> register_scalable_target(AutoScaling& as, const json::object& in) {
  auto id = read_resource_id(in);
  if (!id) return std::move(id).error();
  auto min = opt_int(in, "MinCapacity");
  if (!min) return std::move(min).error();
  auto max = opt_int(in, "MaxCapacity");
  if (!max) return std::move(max).error();
  auto role = opt_string(in, "RoleARN");
  if (!role) return std::move(role).error();
  auto suspended = opt_object(in, "SuspendedState");
  if (!suspended) return std::move(suspended).error();
  auto tags = read_tags(in, false);
  if (!tags) return std::move(tags).error();
  if ((*min && **min < 0) || (*max && **max < 0))
    return validation("Minimum and maximum capacity must be greater than or equal to 0");  // unverified wording
  if (auto s = check_service(as, *id); !s) return std::move(s).error();
  double now = seconds_of(as.now());
  auto arn = as.db().transaction([&](store::Tx& tx) -> Result<std::string> {
    auto existing = find_target(tx, *id);
    if (!existing) return std::move(existing).error();
    TargetRow row;
    if (*existing) {
      row = std::move(**existing);
    } else {
      if (!*min || !*max)  // unverified wording
        return validation("MinCapacity and MaxCapacity are required to register a new scalable target");
      row.doc = json::object{{"ServiceNamespace", kNamespace},
                             {"ResourceId", *id},
                             {"ScalableDimension", kDimension},
                             {"RoleARN", service_linked_role(as.options())},
                             {"CreationTime", now},
                             {"SuspendedState", json::object{{"DynamicScalingInSuspended", false},
                                                             {"DynamicScalingOutSuspended", false},
                                                             {"ScheduledScalingSuspended", false}}},
                             {"ScalableTargetARN", "arn:aws:application-autoscaling:" + as.options().region + ":" +
                                                       as.options().account_id + ":scalable-target/" +
                                                       ids::random_hex(36)}};
    }
    if (*min) row.doc["MinCapacity"] = **min;
    if (*max) row.doc["MaxCapacity"] = **max;
    if (row.doc.at("MinCapacity").to_number<int64_t>() > row.doc.at("MaxCapacity").to_number<int64_t>())
      return validation("Minimum capacity cannot be greater than maximum capacity");  // unverified wording
    if (*role) row.doc["RoleARN"] = **role;
    if (*suspended) {
      auto& state = row.doc["SuspendedState"].as_object();
      for (std::string_view member :
           {"DynamicScalingInSuspended", "DynamicScalingOutSuspended", "ScheduledScalingSuspended"}) {
        auto v = opt_bool(**suspended, member);
        if (!v) return std::move(v).error();
        if (*v) state[member] = **v;
      }
    }
    if (auto s = write_target(tx, row); !s) return std::move(s).error();
    std::string target_arn(row.doc.at("ScalableTargetARN").as_string());
    for (const auto& [k, v] : *tags)
      if (auto s = put_tag(tx, target_arn, k, v); !s) return std::move(s).error();
    auto all = tags_of(tx, target_arn);
    if (!all) return std::move(all).error();
    if (all->size() > kMaxTags) return Error::invalid("TooManyTagsException", "Too many tags");  // unverified wording
    return target_arn;
  });
  if (!arn) return std::move(arn).error();
  // A new minimum above (or maximum below) the desired count moves it.
  std::lock_guard lock(as.scaling_mutex());
  if (auto s = bring_into_bounds(as, *id); !s) log::warn("autoscaling", *id, ": ", s.error().message);
  return body(json::object{{"ScalableTargetARN", *arn}});
}

Result<std::string> describe_scalable_targets(AutoScaling& as, const json::object& in) {
  if (auto s = check_namespace(in); !s) return std::move(s).error();
  if (auto s = check_optional_dimension(in); !s) return std::move(s).error();
  auto ids = opt_strings(in, "ResourceIds");
  if (!ids) return std::move(ids).error();
  auto page = read_page(in);
  if (!page) return std::move(page).error();
  auto rows = as.db().read([](store::Tx& tx) { return all_targets(tx); });
  if (!rows) return std::move(rows).error();
  json::array items;
  for (auto& row : *rows) {
    std::string id(row.doc.at("ResourceId").as_string());
    if (*ids && std::find(ids->value().begin(), ids->value().end(), id) == ids->value().end()) continue;
    items.push_back(std::move(row.doc));
  }
  json::object out;
  write_page(out, "ScalableTargets", std::move(items), *page);
  return body(out);
}

// The alarm names of the policies' target tracking alarms.
std::vector<std::string> alarm_names(const std::vector<json::object>& policies) {
  std::vector<std::string> names;
  for (const auto& p : policies) {
    auto it = p.find("Alarms");
    if (it == p.end()) continue;
    for (const auto& a : it->value().as_array()) names.emplace_back(a.at("AlarmName").as_string());
  }
  return names;
}

Result<std::string> deregister_scalable_target(AutoScaling& as, const json::object& in) {
  auto id = read_resource_id(in);
  if (!id) return std::move(id).error();
  auto alarms = as.db().transaction([&](store::Tx& tx) -> Result<std::vector<std::string>> {
    auto target = find_target(tx, *id);
    if (!target) return std::move(target).error();
    if (!*target) return target_not_found(*id);
    auto policies = policies_of(tx, *id);
    if (!policies) return std::move(policies).error();
    if (auto s = delete_target(tx, *id); !s) return std::move(s).error();
    return alarm_names(*policies);
  });
  if (!alarms) return std::move(alarms).error();
  // The policies are gone: their alarms' actions would name nothing.
  if (!alarms->empty())
    if (auto s = as.alarms().delete_alarms(*alarms); !s) log::warn("autoscaling", "deleting alarms: ", s.error().message);
  return std::string("{}");
}

Result<std::string> tag_resource(AutoScaling& as, const json::object& in) {
  auto arn = req_string(in, "ResourceARN", 1011);
  if (!arn) return std::move(arn).error();
  auto tags = read_tags(in, true);
  if (!tags) return std::move(tags).error();
  return as.db().transaction([&](store::Tx& tx) -> Result<std::string> {
    auto target = find_target_by_arn(tx, *arn);
    if (!target) return std::move(target).error();
    if (!*target) return target_arn_not_found(*arn);
    for (const auto& [k, v] : *tags)
      if (auto s = put_tag(tx, *arn, k, v); !s) return std::move(s).error();
    auto all = tags_of(tx, *arn);
    if (!all) return std::move(all).error();
    if (all->size() > kMaxTags) return Error::invalid("TooManyTagsException", "Too many tags");  // unverified wording
    return std::string("{}");
  });
}

Result<std::string> untag_resource(AutoScaling& as, const json::object& in) {
  auto arn = req_string(in, "ResourceARN", 1011);
  if (!arn) return std::move(arn).error();
  auto keys = opt_strings(in, "TagKeys");
  if (!keys) return std::move(keys).error();
  if (!*keys) return constraint("TagKeys", json::value(nullptr), "Member must not be null");
  return as.db().transaction([&](store::Tx& tx) -> Result<std::string> {
    auto target = find_target_by_arn(tx, *arn);
    if (!target) return std::move(target).error();
    if (!*target) return target_arn_not_found(*arn);
    for (const auto& k : **keys)
      if (auto s = delete_tag(tx, *arn, k); !s) return std::move(s).error();
    return std::string("{}");
  });
}

Result<std::string> list_tags_for_resource(AutoScaling& as, const json::object& in) {
  auto arn = req_string(in, "ResourceARN", 1011);
  if (!arn) return std::move(arn).error();
  return as.db().read([&](store::Tx& tx) -> Result<std::string> {
    auto target = find_target_by_arn(tx, *arn);
    if (!target) return std::move(target).error();
    if (!*target) return target_arn_not_found(*arn);
    auto tags = tags_of(tx, *arn);
    if (!tags) return std::move(tags).error();
    json::object map;
    for (const auto& [k, v] : *tags) map[k] = v;
    return body(json::object{{"Tags", std::move(map)}});
  });
}

}  // namespace

void add_target_operations(api::Service& service, const std::shared_ptr<AutoScaling>& as) {
  auto add = [&](std::string name, Result<std::string> (*fn)(AutoScaling&, const json::object&)) {
    service.add(std::move(name), [as, fn](const api::CallContext&, const api::OperationInput& in) {
      return fn(*as, *in.json);
    });
  };
  add("RegisterScalableTarget", register_scalable_target);
  add("DescribeScalableTargets", describe_scalable_targets);
  add("DeregisterScalableTarget", deregister_scalable_target);
  add("TagResource", tag_resource);
  add("UntagResource", untag_resource);
  add("ListTagsForResource", list_tags_for_resource);
}

}  // namespace berth::autoscaling
