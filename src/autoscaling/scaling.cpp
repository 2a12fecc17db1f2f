// Scaling: what an alarm action, a new minimum or maximum and a scheduled
// action do to the ECS service's desired count, and the activities they
// leave. Decisions read the store and ECS, then act through the EcsPort
// (ECS's own transaction), then record the activity and the cooldown
// clocks; the scaling mutex keeps two decisions from reading the same count.
#include <boost/json/serialize.hpp>

#include "autoscaling/capacity.h"
#include "autoscaling/internal.h"
#include "core/ids.h"
#include "core/log.h"

namespace berth::autoscaling {
namespace {

constexpr double kDefaultCooldown = 300;  // ECS's default for every cooldown (the model's documentation)

std::string str(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
}
double num(const json::object& o, std::string_view key, double fallback) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_number()) return fallback;
  return it->value().to_number<double>();
}
bool flag(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_bool() && it->value().as_bool();
}
bool suspended(const json::object& target, std::string_view which) {
  auto it = target.find("SuspendedState");
  return it != target.end() && it->value().is_object() && flag(it->value().as_object(), which);
}

json::object activity(std::string_view resource_id, std::string_view description, std::string_view cause,
                      double start) {
  return json::object{{"ActivityId", ids::uuid4()},
                      {"ServiceNamespace", kNamespace},
                      {"ResourceId", resource_id},
                      {"ScalableDimension", kDimension},
                      {"Description", description},
                      {"Cause", cause},
                      {"StartTime", start}};
}

enum class Direction { kOut, kIn };

struct Decision {
  bool act = false;  // false: nothing to do (no step, capacity unchanged, cooldown, suspended)
  Direction direction = Direction::kOut;
  int64_t wanted = 0;    // before clamping
  double cooldown = 0;   // AWS seconds, of this direction
};

Decision decide_tracking(const json::object& policy, const AlarmActionEvent& e, int64_t current) {
  Decision d;
  const auto& config = policy.at("TargetTrackingScalingPolicyConfiguration").as_object();
  if (e.datapoints.empty()) return d;
  // The kind is the name's last "-AlarmHigh-"/"-AlarmLow-" (a service's own
  // name may hold either).
  auto high_at = e.alarm_name.rfind("-AlarmHigh-"), low_at = e.alarm_name.rfind("-AlarmLow-");
  bool high = high_at != std::string::npos && (low_at == std::string::npos || high_at > low_at);
  d.direction = high ? Direction::kOut : Direction::kIn;
  if (!high && flag(config, "DisableScaleIn")) return d;
  d.wanted = tracking_capacity(current, e.datapoints.front(), num(config, "TargetValue", 0));
  d.cooldown = num(config, high ? "ScaleOutCooldown" : "ScaleInCooldown", kDefaultCooldown);
  d.act = high ? d.wanted > current : d.wanted < current;
  return d;
}

Decision decide_step(const json::object& policy, const AlarmActionEvent& e, int64_t current) {
  Decision d;
  const auto& config = policy.at("StepScalingPolicyConfiguration").as_object();
  double breach = aggregate(e.datapoints, str(config, "MetricAggregationType")) - e.threshold;
  std::vector<Step> steps;
  if (auto it = config.find("StepAdjustments"); it != config.end() && it->value().is_array()) {
    for (const auto& v : it->value().as_array()) {
      const auto& s = v.as_object();
      Step step;
      if (s.contains("MetricIntervalLowerBound")) step.lower = num(s, "MetricIntervalLowerBound", 0);
      if (s.contains("MetricIntervalUpperBound")) step.upper = num(s, "MetricIntervalUpperBound", 0);
      step.adjustment = static_cast<int64_t>(num(s, "ScalingAdjustment", 0));
      steps.push_back(step);
    }
  }
  auto step = step_for(steps, breach);
  if (!step) return d;
  std::string type = str(config, "AdjustmentType");
  AdjustmentType t = type == "ExactCapacity"             ? AdjustmentType::kExactCapacity
                     : type == "PercentChangeInCapacity" ? AdjustmentType::kPercentChangeInCapacity
                                                         : AdjustmentType::kChangeInCapacity;
  d.wanted = step_capacity(current, t, step->adjustment, static_cast<int64_t>(num(config, "MinAdjustmentMagnitude", 0)));
  d.cooldown = num(config, "Cooldown", kDefaultCooldown);
  d.direction = d.wanted >= current ? Direction::kOut : Direction::kIn;
  d.act = d.wanted != current;
  return d;
}

// A scale out waits for the scale-out cooldown; a scale in waits for both
// (a scale out during a scale-in cooldown is allowed, not the reverse).
bool cooling_down(const json::object& state, Direction direction, double now) {
  double out_until = num(state, "scale_out_until", 0);
  double in_until = num(state, "scale_in_until", 0);
  if (direction == Direction::kOut) return now < out_until;
  return now < in_until || now < out_until;
}

}  // namespace

std::optional<ServiceRef> parse_resource_id(std::string_view id) {
  if (id.substr(0, 8) != "service/") return std::nullopt;
  std::string_view rest = id.substr(8);
  auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == rest.size()) return std::nullopt;
  std::string_view service = rest.substr(slash + 1);
  if (service.find('/') != std::string_view::npos) return std::nullopt;
  return ServiceRef{std::string(rest.substr(0, slash)), std::string(service)};
}

double seconds_of(WallTime t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

Error target_not_found(std::string_view resource_id) {
  // As AWS answers (observed in users' reports).
  return Error::not_found("ObjectNotFoundException",
                          "No scalable target registered for service namespace: ecs, resource ID: " +
                              std::string(resource_id) + ", scalable dimension: ecs:service:DesiredCount");
}

Status set_capacity(AutoScaling& as, std::string_view resource_id, int64_t capacity, std::string_view cause) {
  auto ref = parse_resource_id(resource_id);
  if (!ref) return Error::internal("bad resource id " + std::string(resource_id));
  double start = seconds_of(as.now());
  std::string n = std::to_string(capacity);
  json::object doc = activity(resource_id, "Setting desired count to " + n + ".", cause, start);
  Status set = as.ecs().set_desired_count(ref->cluster, ref->service, capacity);
  doc["EndTime"] = seconds_of(as.now());
  if (set) {
    doc["StatusCode"] = "Successful";
    doc["StatusMessage"] = "Successfully set desired count to " + n + ". Change successfully fulfilled by ecs.";
  } else {
    doc["StatusCode"] = "Failed";
    doc["StatusMessage"] = "Failed to set desired count to " + n + ". " + set.error().message;  // unverified wording
  }
  Status recorded = as.db().transaction([&](store::Tx& tx) { return add_activity(tx, doc, true); });
  if (!set) return set;
  return recorded;
}

Status record_not_scaled(AutoScaling& as, std::string_view resource_id, std::string_view cause,
                         std::string_view reason, const json::object& target) {
  // AWS's documented example of a not scaled activity.
  json::object doc = activity(resource_id, "Attempting to scale due to alarm triggered", cause, seconds_of(as.now()));
  doc["StatusCode"] = "Failed";
  json::object r{{"Code", reason}};
  if (reason == "AlreadyAtMaxCapacity") r["MaxCapacity"] = target.at("MaxCapacity");
  if (reason == "AlreadyAtMinCapacity") r["MinCapacity"] = target.at("MinCapacity");
  doc["NotScaledReasons"] = json::array{r};
  return as.db().transaction([&](store::Tx& tx) { return add_activity(tx, doc, false); });
}

Status bring_into_bounds(AutoScaling& as, std::string_view resource_id) {
  auto target = as.db().read([&](store::Tx& tx) { return find_target(tx, resource_id); });
  if (!target) return std::move(target).error();
  if (!*target) return Ok{};
  auto ref = parse_resource_id(resource_id);
  if (!ref) return Ok{};
  auto service = as.ecs().read_service(ref->cluster, ref->service);
  if (!service) return std::move(service).error();
  const auto& doc = (*target)->doc;
  int64_t min = doc.at("MinCapacity").to_number<int64_t>(), max = doc.at("MaxCapacity").to_number<int64_t>();
  int64_t current = service->desired_count;
  if (current < min) return set_capacity(as, resource_id, min, "minimum capacity was set to " + std::to_string(min));
  // unverified: the maximum's cause, by analogy with the minimum's (observed).
  if (current > max) return set_capacity(as, resource_id, max, "maximum capacity was set to " + std::to_string(max));
  return Ok{};
}

Status AutoScaling::on_alarm_action(const AlarmActionEvent& e) {
  if (e.state != "ALARM") return Ok{};
  std::lock_guard lock(scaling_mutex_);
  struct Found {
    json::object policy;
    TargetRow target;
  };
  auto found = db_.read([&](store::Tx& tx) -> Result<std::optional<Found>> {
    auto policy = find_policy_by_arn(tx, e.action_arn);
    if (!policy) return std::move(policy).error();
    if (!*policy) return std::optional<Found>();
    auto target = find_target(tx, str(**policy, "ResourceId"));
    if (!target) return std::move(target).error();
    if (!*target) return std::optional<Found>();
    return std::optional<Found>(Found{std::move(**policy), std::move(**target)});
  });
  if (!found) return std::move(found).error();
  if (!*found) return Ok{};  // a policy deleted while its alarm still fired
  const json::object& policy = (*found)->policy;
  TargetRow& target = (*found)->target;
  std::string resource_id = str(policy, "ResourceId");
  auto ref = parse_resource_id(resource_id);
  if (!ref) return Ok{};
  auto service = ecs_.read_service(ref->cluster, ref->service);
  if (!service) return std::move(service).error();
  int64_t current = service->desired_count;
  bool tracking = str(policy, "PolicyType") == "TargetTrackingScaling";
  Decision d = tracking ? decide_tracking(policy, e, current) : decide_step(policy, e, current);
  if (!d.act) return Ok{};
  bool out = d.direction == Direction::kOut;
  if (suspended(target.doc, out ? "DynamicScalingOutSuspended" : "DynamicScalingInSuspended")) return Ok{};
  double now = seconds_of(this->now());
  if (cooling_down(target.state, d.direction, now)) return Ok{};
  std::string cause = "monitor alarm " + e.alarm_name + " in state ALARM triggered policy " + str(policy, "PolicyName");
  int64_t min = target.doc.at("MinCapacity").to_number<int64_t>(), max = target.doc.at("MaxCapacity").to_number<int64_t>();
  int64_t capacity = clamp_capacity(d.wanted, min, max);
  if (capacity == current || (out && capacity < current) || (!out && capacity > current)) {
    const char* reason = out ? "AlreadyAtMaxCapacity" : "AlreadyAtMinCapacity";
    return record_not_scaled(*this, resource_id, cause, reason, target.doc);
  }
  Status set = set_capacity(*this, resource_id, capacity, cause);
  if (!set) return set;
  double cooldown = d.cooldown / options_.time_scale;
  if (out) {
    target.state["scale_out_until"] = now + cooldown;
  } else {
    target.state["scale_in_until"] = now + cooldown;
  }
  return db_.transaction([&](store::Tx& tx) -> Status {
    // Only the clocks change; a target deregistered meanwhile stays gone.
    auto fresh = find_target(tx, resource_id);
    if (!fresh) return std::move(fresh).error();
    if (!*fresh) return Ok{};
    (*fresh)->state = target.state;
    return write_target(tx, **fresh);
  });
}

}  // namespace berth::autoscaling
