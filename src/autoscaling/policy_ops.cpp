// Scaling policies: PutScalingPolicy (step scaling, target tracking with the
// alarms it owns), DescribeScalingPolicies, DeleteScalingPolicy, and
// DescribeScalingActivities.
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <limits>

#include "autoscaling/internal.h"
#include "autoscaling/operations.h"
#include "autoscaling/requests.h"
#include "autoscaling/tracking_alarms.h"
#include "core/ids.h"
#include "core/log.h"

namespace berth::autoscaling {
namespace {

constexpr size_t kMaxPoliciesPerTarget = 50;  // AWS's quota

std::string body(const json::object& o) { return json::serialize(o); }

Error policy_not_found(std::string_view resource_id, std::string_view name) {
  // unverified: the wording other emulators use, in AWS's pattern for targets
  return Error::not_found("ObjectNotFoundException",
                          "No scaling policy found for service namespace: ecs, resource ID: " +
                              std::string(resource_id) + ", scalable dimension: ecs:service:DesiredCount, policy name: " +
                              std::string(name));
}

// StepScalingPolicyConfiguration, checked; stored as given.
Result<json::object> read_step_configuration(const json::object& config) {
  auto type = opt_string(config, "AdjustmentType");
  if (!type) return std::move(type).error();
  if (!*type) return validation("AdjustmentType must be specified for step scaling policies");  // unverified wording
  if (**type != "ChangeInCapacity" && **type != "PercentChangeInCapacity" && **type != "ExactCapacity")
    return constraint("AdjustmentType", config.at("AdjustmentType"),
                      "Member must satisfy enum value set: [ChangeInCapacity, PercentChangeInCapacity, ExactCapacity]");
  auto magnitude = opt_int(config, "MinAdjustmentMagnitude");
  if (!magnitude) return std::move(magnitude).error();
  if (*magnitude && **type != "PercentChangeInCapacity")  // unverified wording
    return validation("MinAdjustmentMagnitude is only supported with the PercentChangeInCapacity adjustment type");
  if (*magnitude && **magnitude < 0) return validation("MinAdjustmentMagnitude must be non-negative");  // unverified
  auto cooldown = opt_int(config, "Cooldown");
  if (!cooldown) return std::move(cooldown).error();
  if (*cooldown && (**cooldown < 0 || **cooldown > 86400))
    return constraint("Cooldown", config.at("Cooldown"), "Member must have value between 0 and 86400");  // unverified
  auto aggregation = opt_string(config, "MetricAggregationType");
  if (!aggregation) return std::move(aggregation).error();
  if (*aggregation && **aggregation != "Average" && **aggregation != "Minimum" && **aggregation != "Maximum")
    return constraint("MetricAggregationType", config.at("MetricAggregationType"),
                      "Member must satisfy enum value set: [Average, Minimum, Maximum]");
  auto steps = config.find("StepAdjustments");
  if (steps == config.end() || !steps->value().is_array() || steps->value().as_array().empty())
    return validation("StepAdjustments must be specified for step scaling policies");  // unverified wording
  // Intervals: lower < upper, no overlap, no gap, at most one open at each end.
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::vector<std::pair<double, double>> intervals;
  for (const auto& v : steps->value().as_array()) {
    if (!v.is_object()) return validation("Invalid type for parameter StepAdjustments");  // unverified
    const auto& s = v.as_object();
    auto lower = opt_double(s, "MetricIntervalLowerBound");
    auto upper = opt_double(s, "MetricIntervalUpperBound");
    auto adjustment = opt_int(s, "ScalingAdjustment");
    if (!lower) return std::move(lower).error();
    if (!upper) return std::move(upper).error();
    if (!adjustment) return std::move(adjustment).error();
    if (!*adjustment) return constraint("ScalingAdjustment", json::value(nullptr), "Member must not be null");
    double lo = lower->value_or(-kInf), hi = upper->value_or(kInf);
    if (!(lo < hi))  // unverified wording
      return validation("Step adjustment's lower bound must be less than its upper bound");
    intervals.emplace_back(lo, hi);
  }
  std::sort(intervals.begin(), intervals.end());
  for (size_t i = 1; i < intervals.size(); ++i) {
    if (intervals[i].first < intervals[i - 1].second)
      return validation("Step adjustment intervals must not overlap");  // unverified wording
    if (intervals[i].first > intervals[i - 1].second)
      return validation("Step adjustment intervals must not have gaps");  // unverified wording
  }
  json::object out;
  for (std::string_view m :
       {"AdjustmentType", "StepAdjustments", "MinAdjustmentMagnitude", "Cooldown", "MetricAggregationType"})
    if (auto it = config.find(m); it != config.end() && !it->value().is_null()) out[m] = it->value();
  return out;
}

std::string policy_arn(const AutoScalingOptions& o, std::string_view resource_id, std::string_view name) {
  return "arn:aws:autoscaling:" + o.region + ":" + o.account_id + ":scalingPolicy:" + ids::uuid4() +
         ":resource/ecs/" + std::string(resource_id) + ":policyName/" + std::string(name);
}

std::string alarm_arn(const AutoScalingOptions& o, std::string_view name) {
  return "arn:aws:cloudwatch:" + o.region + ":" + o.account_id + ":alarm:" + std::string(name);
}

std::vector<std::string> alarm_names_of(const json::object& policy) {
  std::vector<std::string> out;
  if (auto it = policy.find("Alarms"); it != policy.end() && it->value().is_array())
    for (const auto& a : it->value().as_array()) out.emplace_back(a.at("AlarmName").as_string());
  return out;
}

// The uuid of a target tracking policy's alarm names, kept across updates.
std::string alarm_suffix_of(const json::object& policy) {
  auto names = alarm_names_of(policy);
  if (names.empty()) return ids::uuid4();
  return names.front().substr(names.front().size() - 36);
}

struct PolicyRequest {
  std::string resource_id;
  std::string name;
  std::string type;
  json::object configuration;  // the stored configuration of that type
};

Result<PolicyRequest> read_policy_request(const json::object& in) {
  PolicyRequest r;
  auto id = read_resource_id(in);
  if (!id) return std::move(id).error();
  r.resource_id = std::move(*id);
  auto name = req_string(in, "PolicyName", 256);
  if (!name) return std::move(name).error();
  r.name = std::move(*name);
  auto type = opt_string(in, "PolicyType");
  if (!type) return std::move(type).error();
  r.type = type->value_or("StepScaling");
  if (r.type == "PredictiveScaling")  // berth's own text
    return validation("berth does not support PredictiveScaling policies");
  if (r.type != "StepScaling" && r.type != "TargetTrackingScaling")
    return constraint("PolicyType", in.at("PolicyType"),
                      "Member must satisfy enum value set: [StepScaling, TargetTrackingScaling, PredictiveScaling]");
  bool tracking = r.type == "TargetTrackingScaling";
  auto step = opt_object(in, "StepScalingPolicyConfiguration");
  if (!step) return std::move(step).error();
  auto tt = opt_object(in, "TargetTrackingScalingPolicyConfiguration");
  if (!tt) return std::move(tt).error();
  if (tracking) {
    if (!*tt)  // unverified wording
      return validation("TargetTrackingScalingPolicyConfiguration is required for TargetTrackingScaling policies");
    auto c = read_tracking_configuration(**tt);
    if (!c) return std::move(c).error();
    r.configuration = std::move(*c);
  } else {
    if (!*step)  // unverified wording
      return validation("StepScalingPolicyConfiguration is required for StepScaling policies");
    auto c = read_step_configuration(**step);
    if (!c) return std::move(c).error();
    r.configuration = std::move(*c);
  }
  return r;
}

Result<std::string> put_scaling_policy(AutoScaling& as, const json::object& in) {
  auto r = read_policy_request(in);
  if (!r) return std::move(r).error();
  bool tracking = r->type == "TargetTrackingScaling";
  // Alarms live in CloudWatch, outside this store: one put at a time, so
  // two puts of one policy never leave alarms that no policy names.
  std::lock_guard lock(as.scaling_mutex());
  auto existing = as.db().read([&](store::Tx& tx) -> Result<std::optional<json::object>> {
    auto target = find_target(tx, r->resource_id);
    if (!target) return std::move(target).error();
    if (!*target) return target_not_found(r->resource_id);
    auto policy = find_policy(tx, r->resource_id, r->name);
    if (!policy) return std::move(policy).error();
    if (!*policy) {
      auto all = policies_of(tx, r->resource_id);
      if (!all) return std::move(all).error();
      if (all->size() >= kMaxPoliciesPerTarget)  // unverified wording
        return Error::invalid("LimitExceededException", "The maximum number of scaling policies per scalable target (50) has been reached");
    }
    return std::move(*policy);
  });
  if (!existing) return std::move(existing).error();
  json::object doc;
  if (*existing) {
    doc = **existing;
  } else {
    doc = json::object{{"PolicyARN", policy_arn(as.options(), r->resource_id, r->name)},
                       {"PolicyName", r->name},
                       {"ServiceNamespace", kNamespace},
                       {"ResourceId", r->resource_id},
                       {"ScalableDimension", kDimension},
                       {"CreationTime", seconds_of(as.now())}};
  }
  std::vector<std::string> old_alarms = *existing ? alarm_names_of(**existing) : std::vector<std::string>{};
  doc.erase("StepScalingPolicyConfiguration");
  doc.erase("TargetTrackingScalingPolicyConfiguration");
  doc["PolicyType"] = r->type;
  doc[tracking ? "TargetTrackingScalingPolicyConfiguration" : "StepScalingPolicyConfiguration"] = r->configuration;
  json::array alarms;
  std::vector<std::string> new_alarms;
  if (tracking) {
    std::string arn(doc.at("PolicyARN").as_string());
    auto suffix = *existing ? alarm_suffix_of(**existing) : ids::uuid4();
    for (const auto& alarm : tracking_alarms(r->configuration, r->resource_id, arn, suffix)) {
      if (auto s = as.alarms().put_alarm(alarm); !s) {
        if (!new_alarms.empty()) (void)as.alarms().delete_alarms(new_alarms);
        return Error{ErrorClass::kUnavailable, "FailedResourceAccessException", s.error().message, 400};
      }
      new_alarms.push_back(alarm.name);
      alarms.push_back(json::object{{"AlarmName", alarm.name}, {"AlarmARN", alarm_arn(as.options(), alarm.name)}});
    }
  }
  doc["Alarms"] = alarms;
  Status written = as.db().transaction([&](store::Tx& tx) -> Status {
    auto target = find_target(tx, r->resource_id);  // deregistered meanwhile?
    if (!target) return std::move(target).error();
    if (!*target) return target_not_found(r->resource_id);
    return write_policy(tx, doc);
  });
  // Written: the old alarms the policy names no more (DisableScaleIn, a
  // change of type). Not written: the new alarms no policy names.
  const auto& kept = written ? new_alarms : old_alarms;
  std::vector<std::string> orphaned;
  for (const auto& n : written ? old_alarms : new_alarms)
    if (std::find(kept.begin(), kept.end(), n) == kept.end()) orphaned.push_back(n);
  if (!orphaned.empty())
    if (auto s = as.alarms().delete_alarms(orphaned); !s) log::warn("autoscaling", "deleting alarms: ", s.error().message);
  if (!written) return std::move(written).error();
  return body(json::object{{"PolicyARN", doc.at("PolicyARN")}, {"Alarms", alarms}});
}

Result<std::string> describe_scaling_policies(AutoScaling& as, const json::object& in) {
  if (auto s = check_namespace(in); !s) return std::move(s).error();
  if (auto s = check_optional_dimension(in); !s) return std::move(s).error();
  auto names = opt_strings(in, "PolicyNames");
  if (!names) return std::move(names).error();
  auto id = opt_string(in, "ResourceId");
  if (!id) return std::move(id).error();
  auto page = read_page(in);
  if (!page) return std::move(page).error();
  auto policies = as.db().read([&](store::Tx& tx) {
    return policies_of(tx, *id ? std::optional<std::string_view>(**id) : std::nullopt);
  });
  if (!policies) return std::move(policies).error();
  json::array items;
  for (auto& p : *policies) {
    std::string name(p.at("PolicyName").as_string());
    if (*names && std::find((*names)->begin(), (*names)->end(), name) == (*names)->end()) continue;
    items.push_back(std::move(p));
  }
  json::object out;
  write_page(out, "ScalingPolicies", std::move(items), *page);
  return body(out);
}

Result<std::string> delete_scaling_policy(AutoScaling& as, const json::object& in) {
  auto id = read_resource_id(in);
  if (!id) return std::move(id).error();
  auto name = req_string(in, "PolicyName", 256);
  if (!name) return std::move(name).error();
  std::lock_guard lock(as.scaling_mutex());
  auto alarms = as.db().transaction([&](store::Tx& tx) -> Result<std::vector<std::string>> {
    auto policy = find_policy(tx, *id, *name);
    if (!policy) return std::move(policy).error();
    if (!*policy) return policy_not_found(*id, *name);
    if (auto s = delete_policy(tx, (**policy).at("PolicyARN").as_string()); !s) return std::move(s).error();
    return alarm_names_of(**policy);
  });
  if (!alarms) return std::move(alarms).error();
  if (!alarms->empty())
    if (auto s = as.alarms().delete_alarms(*alarms); !s) log::warn("autoscaling", "deleting alarms: ", s.error().message);
  return std::string("{}");
}

Result<std::string> describe_scaling_activities(AutoScaling& as, const json::object& in) {
  if (auto s = check_namespace(in); !s) return std::move(s).error();
  if (auto s = check_optional_dimension(in); !s) return std::move(s).error();
  auto id = opt_string(in, "ResourceId");
  if (!id) return std::move(id).error();
  auto include = opt_bool(in, "IncludeNotScaledActivities");
  if (!include) return std::move(include).error();
  auto page = read_page(in);
  if (!page) return std::move(page).error();
  auto activities = as.db().read([&](store::Tx& tx) {
    return activities_of(tx, *id ? std::optional<std::string_view>(**id) : std::nullopt, include->value_or(false));
  });
  if (!activities) return std::move(activities).error();
  json::array items;
  for (auto& a : *activities) items.push_back(std::move(a));
  json::object out;
  write_page(out, "ScalingActivities", std::move(items), *page);
  return body(out);
}

}  // namespace

void add_policy_operations(api::Service& service, const std::shared_ptr<AutoScaling>& as) {
  auto add = [&](std::string name, Result<std::string> (*fn)(AutoScaling&, const json::object&)) {
    service.add(std::move(name), [as, fn](const api::CallContext&, const api::OperationInput& in) {
      return fn(*as, *in.json);
    });
  };
  add("PutScalingPolicy", put_scaling_policy);
  add("DescribeScalingPolicies", describe_scaling_policies);
  add("DeleteScalingPolicy", delete_scaling_policy);
  add("DescribeScalingActivities", describe_scaling_activities);
}

}  // namespace berth::autoscaling
