#include "autoscaling/tracking_alarms.h"

#include "autoscaling/internal.h"
#include "autoscaling/requests.h"

namespace berth::autoscaling {
namespace {

constexpr std::string_view kEcsCpu = "ECSServiceAverageCPUUtilization";
constexpr std::string_view kEcsMemory = "ECSServiceAverageMemoryUtilization";
constexpr std::string_view kAlbRequests = "ALBRequestCountPerTarget";

// "app/<lb-name>/<lb-id>/targetgroup/<tg-name>/<tg-id>" -> "targetgroup/<tg-name>/<tg-id>".
std::optional<std::string> target_group_of(std::string_view label) {
  auto parts = std::vector<std::string_view>();
  size_t from = 0;
  while (true) {
    size_t at = label.find('/', from);
    parts.push_back(label.substr(from, at == std::string_view::npos ? std::string_view::npos : at - from));
    if (at == std::string_view::npos) break;
    from = at + 1;
  }
  if (parts.size() != 6 || parts[0] != "app" || parts[3] != "targetgroup") return std::nullopt;
  for (auto p : parts)
    if (p.empty()) return std::nullopt;
  return std::string(label.substr(label.find("/targetgroup/") + 1));
}

Status check_predefined(const json::object& spec) {
  auto type = req_string(spec, "PredefinedMetricType", 256);
  if (!type) return std::move(type).error();
  auto label = opt_string(spec, "ResourceLabel", 1023);
  if (!label) return std::move(label).error();
  if (*type != kEcsCpu && *type != kEcsMemory && *type != kAlbRequests)  // unverified wording
    return validation("Unsupported metric type " + *type + " for service namespace ecs");
  if (*type == kAlbRequests) {
    if (!*label)  // unverified wording
      return validation("ResourceLabel must be specified for predefined metric type ALBRequestCountPerTarget");
    if (!target_group_of(**label))  // unverified wording
      return validation("Invalid ResourceLabel: " + **label +
                        ". Expected app/<load-balancer-name>/<load-balancer-id>/targetgroup/<target-group-name>/"
                        "<target-group-id>");
  } else if (*label) {
    // unverified wording
    return validation("ResourceLabel can only be specified for predefined metric type ALBRequestCountPerTarget");
  }
  return Ok{};
}

Status check_customized(const json::object& spec) {
  auto metrics = spec.find("Metrics");
  bool math = metrics != spec.end() && !metrics->value().is_null();
  if (math) {
    if (!metrics->value().is_array() || metrics->value().as_array().empty())
      return validation("Metrics must contain at least one metric");  // unverified wording
    int returned = 0;
    for (const auto& q : metrics->value().as_array()) {
      if (!q.is_object()) return validation("Invalid type for parameter Metrics");  // unverified
      const auto& o = q.as_object();
      auto id = req_string(o, "Id", 255);
      if (!id) return std::move(id).error();
      bool has_expression = o.contains("Expression"), has_stat = o.contains("MetricStat");
      if (has_expression == has_stat)  // unverified wording
        return validation("Each metric must have exactly one of Expression and MetricStat");
      auto rd = o.find("ReturnData");
      if (rd == o.end() || (rd->value().is_bool() && rd->value().as_bool())) ++returned;
    }
    if (returned != 1)  // unverified wording
      return validation("Exactly one metric must have ReturnData set to true");
    if (spec.contains("MetricName") || spec.contains("Namespace"))  // unverified wording
      return validation("Metrics cannot be specified with MetricName, Namespace, Dimensions or Statistic");
    return Ok{};
  }
  for (std::string_view m : {"MetricName", "Namespace", "Statistic"}) {
    auto s = req_string(spec, m, 255);
    if (!s) return std::move(s).error();
  }
  static const std::vector<std::string_view> kStats{"Average", "Minimum", "Maximum", "SampleCount", "Sum"};
  std::string stat(spec.at("Statistic").as_string());
  if (std::find(kStats.begin(), kStats.end(), stat) == kStats.end())
    return constraint("Statistic", spec.at("Statistic"),
                      "Member must satisfy enum value set: [Average, Minimum, Maximum, SampleCount, Sum]");
  return Ok{};
}

Dimensions dimensions_of(const json::object& o) {
  Dimensions out;
  if (auto it = o.find("Dimensions"); it != o.end() && it->value().is_array())
    for (const auto& d : it->value().as_array())
      if (d.is_object() && d.as_object().contains("Name") && d.as_object().contains("Value"))
        out.emplace_back(std::string(d.at("Name").as_string()), std::string(d.at("Value").as_string()));
  return out;
}

std::string text(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
}

// The metric of the alarms, set on `alarm`.
void set_metric(TrackingAlarm& alarm, const json::object& config, std::string_view resource_id) {
  if (auto it = config.find("PredefinedMetricSpecification"); it != config.end()) {
    const auto& spec = it->value().as_object();
    std::string type = text(spec, "PredefinedMetricType");
    if (type == kAlbRequests) {
      alarm.namespace_ = "AWS/ApplicationELB";
      alarm.metric_name = "RequestCountPerTarget";
      alarm.statistic = "Sum";
      alarm.dimensions = {{"TargetGroup", *target_group_of(text(spec, "ResourceLabel"))}};
      return;
    }
    auto ref = parse_resource_id(resource_id);
    alarm.namespace_ = "AWS/ECS";
    alarm.metric_name = type == kEcsCpu ? "CPUUtilization" : "MemoryUtilization";
    alarm.statistic = "Average";
    // No unit: an alarm with one only sees datapoints published with it.
    alarm.dimensions = {{"ClusterName", ref->cluster}, {"ServiceName", ref->service}};
    return;
  }
  const auto& spec = config.at("CustomizedMetricSpecification").as_object();
  if (auto m = spec.find("Metrics"); m != spec.end() && m->value().is_array()) {
    for (const auto& q : m->value().as_array()) {
      const auto& o = q.as_object();
      AlarmMetricQuery query;
      query.id = text(o, "Id");
      query.expression = text(o, "Expression");
      query.label = text(o, "Label");
      if (auto rd = o.find("ReturnData"); rd != o.end() && rd->value().is_bool()) query.return_data = rd->value().as_bool();
      if (auto st = o.find("MetricStat"); st != o.end() && st->value().is_object()) {
        const auto& stat = st->value().as_object();
        query.stat = text(stat, "Stat");
        query.unit = text(stat, "Unit");
        if (auto me = stat.find("Metric"); me != stat.end() && me->value().is_object()) {
          query.namespace_ = text(me->value().as_object(), "Namespace");
          query.metric_name = text(me->value().as_object(), "MetricName");
          query.dimensions = dimensions_of(me->value().as_object());
        }
      }
      alarm.metrics.push_back(std::move(query));
    }
    return;
  }
  alarm.namespace_ = text(spec, "Namespace");
  alarm.metric_name = text(spec, "MetricName");
  alarm.statistic = text(spec, "Statistic");
  alarm.unit = text(spec, "Unit");
  alarm.dimensions = dimensions_of(spec);
}

}  // namespace

Result<json::object> read_tracking_configuration(const json::object& config) {
  auto target = opt_double(config, "TargetValue");
  if (!target) return std::move(target).error();
  if (!*target) return constraint("TargetValue", json::value(nullptr), "Member must not be null");
  // AWS's documented range of TargetValue.
  if (**target < 8.515920e-109 || **target > 1.174271e+108)
    return validation("TargetValue must be between 8.515920e-109 and 1.174271e+108");  // unverified wording
  auto predefined = opt_object(config, "PredefinedMetricSpecification");
  if (!predefined) return std::move(predefined).error();
  auto customized = opt_object(config, "CustomizedMetricSpecification");
  if (!customized) return std::move(customized).error();
  if ((*predefined != nullptr) == (*customized != nullptr))  // unverified wording
    return validation("Exactly one of PredefinedMetricSpecification and CustomizedMetricSpecification must be specified");
  if (*predefined)
    if (auto s = check_predefined(**predefined); !s) return std::move(s).error();
  if (*customized)
    if (auto s = check_customized(**customized); !s) return std::move(s).error();
  for (std::string_view m : {"ScaleOutCooldown", "ScaleInCooldown"}) {
    auto c = opt_int(config, m);
    if (!c) return std::move(c).error();
    if (*c && (**c < 0 || **c > 86400))
      return constraint(m, config.at(m), "Member must have value between 0 and 86400");  // unverified range
  }
  auto disable = opt_bool(config, "DisableScaleIn");
  if (!disable) return std::move(disable).error();
  json::object out;
  for (std::string_view m : {"TargetValue", "PredefinedMetricSpecification", "CustomizedMetricSpecification",
                             "ScaleOutCooldown", "ScaleInCooldown", "DisableScaleIn"})
    if (auto it = config.find(m); it != config.end() && !it->value().is_null()) out[m] = it->value();
  return out;
}

std::vector<TrackingAlarm> tracking_alarms(const json::object& config, std::string_view resource_id,
                                           std::string_view policy_arn, std::string_view uuid) {
  double target = config.at("TargetValue").to_number<double>();
  TrackingAlarm high;
  set_metric(high, config, resource_id);
  // The description AWS gives these alarms (as the console shows it).
  high.description = "DO NOT EDIT OR DELETE. For TargetTrackingScaling policy " + std::string(policy_arn) + ".";
  high.alarm_actions = {std::string(policy_arn)};
  high.period_seconds = 60;
  TrackingAlarm low = high;
  high.name = "TargetTracking-" + std::string(resource_id) + "-AlarmHigh-" + std::string(uuid);
  high.evaluation_periods = high.datapoints_to_alarm = 3;
  high.threshold = target;
  high.comparison_operator = "GreaterThanThreshold";
  std::vector<TrackingAlarm> out{high};
  auto disable = config.find("DisableScaleIn");
  if (disable != config.end() && disable->value().is_bool() && disable->value().as_bool()) return out;
  low.name = "TargetTracking-" + std::string(resource_id) + "-AlarmLow-" + std::string(uuid);
  low.evaluation_periods = low.datapoints_to_alarm = 15;
  low.threshold = target * 0.9;
  low.comparison_operator = "LessThanThreshold";
  out.push_back(low);
  return out;
}

}  // namespace berth::autoscaling
