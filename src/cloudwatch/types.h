// cloudwatch/types: the values CloudWatch's API and its in-process callers
// (load balancer and ECS publishers, Application Auto Scaling) share.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"

namespace berth::cloudwatch {

struct Dimension {
  std::string name, value;
  bool operator==(const Dimension&) const = default;
  auto operator<=>(const Dimension&) const = default;
};

struct StatisticSet {
  double sample_count = 0, sum = 0, minimum = 0, maximum = 0;
};

// One MetricDatum of PutMetricData.
struct Datum {
  std::string namespace_name, metric_name;
  std::vector<Dimension> dimensions;
  WallTime timestamp{};  // {} = now
  std::optional<double> value;
  std::optional<StatisticSet> statistics;
  std::vector<double> values, counts;  // Values/Counts (counts empty = 1 each)
  std::string unit;                    // "" = "None"
  int storage_resolution = 60;         // 1 (high resolution) or 60
};

// A metric's identity: namespace, name and its dimensions sorted by name.
struct MetricKey {
  std::string namespace_name, metric_name;
  std::vector<Dimension> dimensions;
  bool operator==(const MetricKey&) const = default;
  auto operator<=>(const MetricKey&) const = default;
};

struct Tag {
  std::string key, value;
};

// MetricStat of a MetricDataQuery (GetMetricData, metric-math alarms).
struct MetricStat {
  MetricKey metric;
  int period = 0;
  std::string stat;  // Average, Sum, SampleCount, Minimum, Maximum, pNN
  std::string unit;
};

struct MetricDataQuery {
  std::string id;
  std::optional<MetricStat> metric_stat;
  std::string expression;
  std::string label;
  bool return_data = true;
  int period = 0;
};

// PutMetricAlarm's input: a single-metric alarm (namespace_name..unit) or a
// metric-math alarm (metrics).
struct AlarmDefinition {
  std::string name, description;
  bool actions_enabled = true;
  std::vector<std::string> ok_actions, alarm_actions, insufficient_data_actions;
  std::string namespace_name, metric_name;
  std::vector<Dimension> dimensions;
  std::string statistic, extended_statistic;
  int period = 0;
  std::string unit;
  std::vector<MetricDataQuery> metrics;
  int evaluation_periods = 0;
  std::optional<int> datapoints_to_alarm;
  std::optional<double> threshold;
  std::string comparison_operator;
  std::string threshold_metric_id;
  std::string treat_missing_data;                    // "" = missing
  std::string evaluate_low_sample_count_percentile;  // "" | evaluate | ignore
  std::vector<Tag> tags;
};

// What an action handler is told when an alarm enters a state whose actions
// list an ARN it owns.
struct AlarmAction {
  std::string action_arn, alarm_name, alarm_arn, state, previous_state, reason;
  WallTime when{};
  std::vector<double> datapoints;  // the evaluated values, newest first
  double threshold = 0;
  std::string comparison_operator;
};

// Runs on the evaluator's thread; must not block.
using AlarmActionHandler = std::function<void(const AlarmAction&)>;

}  // namespace berth::cloudwatch
