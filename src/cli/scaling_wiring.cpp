#include "cli/scaling_wiring.h"

#if BERTH_HAVE_AUTOSCALING && BERTH_HAVE_CLOUDWATCH

#include "core/log.h"

namespace berth::cli {
namespace {

std::vector<cloudwatch::Dimension> dimensions_of(const autoscaling::Dimensions& dims) {
  std::vector<cloudwatch::Dimension> out;
  for (const auto& [name, value] : dims) out.push_back({name, value});
  return out;
}

class CloudWatchAlarmPort final : public autoscaling::AlarmPort {
 public:
  explicit CloudWatchAlarmPort(std::shared_ptr<cloudwatch::CloudWatch> cloudwatch) : cloudwatch_(std::move(cloudwatch)) {}

  Status put_alarm(const autoscaling::TrackingAlarm& alarm) override {
    return cloudwatch_->put_metric_alarm(alarm_definition(alarm));
  }
  // CloudWatch refuses unknown names; the policy's alarms may be gone already.
  Status delete_alarms(const std::vector<std::string>& names) override {
    std::vector<std::string> existing;
    for (const auto& n : names)
      if (cloudwatch_->alarm(n)) existing.push_back(n);
    if (existing.empty()) return Ok{};
    return cloudwatch_->delete_alarms(existing);
  }

 private:
  std::shared_ptr<cloudwatch::CloudWatch> cloudwatch_;
};

}  // namespace

cloudwatch::AlarmDefinition alarm_definition(const autoscaling::TrackingAlarm& alarm) {
  cloudwatch::AlarmDefinition def;
  def.name = alarm.name;
  def.description = alarm.description;
  def.alarm_actions = alarm.alarm_actions;
  def.evaluation_periods = alarm.evaluation_periods;
  def.datapoints_to_alarm = alarm.datapoints_to_alarm;
  def.threshold = alarm.threshold;
  def.comparison_operator = alarm.comparison_operator;
  def.treat_missing_data = alarm.treat_missing_data;
  if (alarm.metrics.empty()) {
    def.namespace_name = alarm.namespace_;
    def.metric_name = alarm.metric_name;
    def.dimensions = dimensions_of(alarm.dimensions);
    def.statistic = alarm.statistic;
    def.unit = alarm.unit;
    def.period = alarm.period_seconds;
    return def;
  }
  for (const auto& q : alarm.metrics) {
    cloudwatch::MetricDataQuery query;
    query.id = q.id;
    query.expression = q.expression;
    query.label = q.label;
    query.return_data = q.return_data;
    if (q.expression.empty()) {
      query.metric_stat = cloudwatch::MetricStat{{q.namespace_, q.metric_name, dimensions_of(q.dimensions)},
                                                 alarm.period_seconds, q.stat, q.unit};
    } else {
      query.period = alarm.period_seconds;
    }
    def.metrics.push_back(std::move(query));
  }
  return def;
}

std::unique_ptr<autoscaling::AlarmPort> cloudwatch_alarm_port(std::shared_ptr<cloudwatch::CloudWatch> cloudwatch) {
  return std::make_unique<CloudWatchAlarmPort>(std::move(cloudwatch));
}

void route_scaling_actions(cloudwatch::CloudWatch& cloudwatch, std::shared_ptr<autoscaling::AutoScalingDaemon> scaling) {
  std::weak_ptr<autoscaling::AutoScalingDaemon> weak = scaling;
  cloudwatch.add_action_handler("arn:aws:autoscaling:", [weak](const cloudwatch::AlarmAction& action) {
    auto daemon = weak.lock();
    if (!daemon) return;
    autoscaling::AlarmActionEvent event{action.action_arn, action.alarm_name, action.alarm_arn,  action.state,
                                        action.datapoints, action.threshold,  action.comparison_operator,
                                        action.when};
    if (auto s = daemon->autoscaling().on_alarm_action(event); !s)
      log::warn("autoscaling", "alarm ", action.alarm_name, " -> ", action.action_arn, ": ", s.error().message);
  });
}

}  // namespace berth::cli

#endif
