// autoscaling/ports: what Application Auto Scaling needs from the modules
// it drives, as small interfaces that `berth serve` fills in
// (daemon_wiring.*): CloudWatch keeps the alarms of target tracking
// policies and calls back when one of them is in ALARM; ECS owns the
// service whose desired count is scaled.
//
//   PutScalingPolicy ──AlarmPort::put_alarm──> CloudWatch (alarm actions = the policy ARN)
//   CloudWatch alarm in ALARM ──AutoScaling::on_alarm_action──> policy ──EcsPort::set_desired_count──> ECS
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/error.h"

namespace berth::autoscaling {

using Dimensions = std::vector<std::pair<std::string, std::string>>;  // (Name, Value)

// One query of a metric-math alarm (CustomizedMetricSpecification.Metrics[]).
struct AlarmMetricQuery {
  std::string id;
  std::string expression;  // "" for a metric
  std::string label;
  bool return_data = true;
  // MetricStat, when expression is empty:
  std::string namespace_;
  std::string metric_name;
  Dimensions dimensions;
  std::string stat;
  std::string unit;
};

// An alarm of a target tracking policy, with the parameters AWS gives it.
struct TrackingAlarm {
  std::string name;  // "TargetTracking-service/<cluster>/<service>-AlarmHigh-<uuid>"
  std::string description;
  // A single metric (empty when metrics is used):
  std::string namespace_;
  std::string metric_name;
  Dimensions dimensions;
  std::string statistic;  // Average, Sum, ...
  std::string unit;       // "" when none
  std::vector<AlarmMetricQuery> metrics;  // metric math, instead of the single metric
  int period_seconds = 60;  // AWS's; CloudWatch divides it by the time scale itself
  int evaluation_periods = 3;
  int datapoints_to_alarm = 3;
  double threshold = 0;
  std::string comparison_operator;  // GreaterThanThreshold | LessThanThreshold
  std::string treat_missing_data = "missing";
  std::vector<std::string> alarm_actions;  // the policy ARN
};

class AlarmPort {
 public:
  virtual ~AlarmPort() = default;
  // Creates or replaces the alarm.
  virtual Status put_alarm(const TrackingAlarm& alarm) = 0;
  // Deletes the named alarms; names that do not exist are ignored.
  virtual Status delete_alarms(const std::vector<std::string>& names) = 0;
};

// What CloudWatch reports when an alarm whose action is a policy ARN is in
// ALARM: on entering the state and again once per period while it stays.
struct AlarmActionEvent {
  std::string action_arn;  // the policy ARN ("arn:aws:autoscaling:...:scalingPolicy:...")
  std::string alarm_name;
  std::string alarm_arn;
  std::string state;              // "ALARM" | "OK"
  std::vector<double> datapoints;  // the evaluated values, newest first
  double threshold = 0;
  std::string comparison_operator;
  WallTime when;
};

struct ServiceCapacity {
  int64_t desired_count = 0;
  int64_t running_count = 0;
  std::string status;  // ACTIVE | DRAINING | INACTIVE
};

class EcsPort {
 public:
  virtual ~EcsPort() = default;
  // kNotFound when the cluster or the service does not exist.
  virtual Result<ServiceCapacity> read_service(const std::string& cluster, const std::string& service) = 0;
  // As `UpdateService --desired-count` does.
  virtual Status set_desired_count(const std::string& cluster, const std::string& service, int64_t count) = 0;
};

}  // namespace berth::autoscaling
