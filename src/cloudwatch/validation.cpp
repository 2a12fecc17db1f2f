// Validation shared by the API and the in-process callers, with AWS's
// codes. Texts marked "unverified" are plausible, not checked against AWS.
#include <algorithm>
#include <cmath>
#include <set>

#include "cloudwatch/cloudwatch.h"

namespace berth::cloudwatch {
namespace {

Error invalid_value(std::string message) { return Error::invalid("InvalidParameterValue", std::move(message)); }
Error combination(std::string message) { return Error::invalid("InvalidParameterCombination", std::move(message)); }
Error missing(std::string message) { return Error::invalid("MissingParameter", std::move(message)); }
Error validation(std::string message) { return Error::invalid("ValidationError", std::move(message)); }

constexpr std::string_view kUnits[] = {
    "Seconds",          "Microseconds",     "Milliseconds", "Bytes",           "Kilobytes",        "Megabytes",
    "Gigabytes",        "Terabytes",        "Bits",         "Kilobits",        "Megabits",         "Gigabits",
    "Terabits",         "Percent",          "Count",        "Bytes/Second",    "Kilobytes/Second", "Megabytes/Second",
    "Gigabytes/Second", "Terabytes/Second", "Bits/Second",  "Kilobits/Second", "Megabits/Second",  "Gigabits/Second",
    "Terabits/Second",  "Count/Second",     "None"};

std::string number_text(double x) {
  if (std::isnan(x)) return "NaN";
  if (std::isinf(x)) return x > 0 ? "Infinity" : "-Infinity";
  return java_double(x);
}

// AWS accepts values in [-2^360, 2^360] and refuses NaN and infinities.
bool acceptable(double x) { return std::isfinite(x) && std::fabs(x) <= std::ldexp(1.0, 360); }

Status validate_dimensions(const std::vector<Dimension>& dims, const std::string& where) {
  if (dims.size() > 30) return invalid_value("The collection " + where + " must not have a size greater than 30.");
  std::set<std::string_view> names;
  for (size_t i = 0; i < dims.size(); ++i) {
    std::string at = where + ".member." + std::to_string(i + 1);
    if (dims[i].name.empty() || dims[i].name.size() > 255)
      return invalid_value("The parameter " + at + ".Name must be between 1 and 255 characters.");  // unverified
    if (dims[i].value.empty() || dims[i].value.size() > 1024)
      return invalid_value("The parameter " + at + ".Value must be between 1 and 1024 characters.");  // unverified
    if (!names.insert(dims[i].name).second)
      return invalid_value("No metric may have duplicate dimension names.");  // unverified
  }
  return Ok{};
}

}  // namespace

bool is_unit(std::string_view unit) {
  return std::find(std::begin(kUnits), std::end(kUnits), unit) != std::end(kUnits);
}

Status validate_namespace(std::string_view ns, bool allow_aws) {
  if (ns.empty()) return missing("The parameter Namespace is required.");
  if (ns.size() > 255) return invalid_value("The parameter Namespace must not be longer than 255 characters.");
  if (!allow_aws && ns.starts_with("AWS/")) return invalid_value("The value AWS/ for parameter Namespace is invalid.");
  return Ok{};
}

Status validate_datum(const Datum& d, size_t index) {
  const std::string at = "MetricData.member." + std::to_string(index + 1);
  if (d.metric_name.empty()) return missing("The parameter " + at + ".MetricName is required.");
  if (d.metric_name.size() > 255)
    return invalid_value("The parameter " + at + ".MetricName must not be longer than 255 characters.");
  if (auto dims = validate_dimensions(d.dimensions, at + ".Dimensions"); !dims) return dims;
  if (d.value && d.statistics)
    return combination("The parameters " + at + ".Value and " + at +
                       ".StatisticValues are mutually exclusive and you have specified both.");
  if (d.value && !d.values.empty())
    return combination("The parameters " + at + ".Value and " + at +
                       ".Values are mutually exclusive and you have specified both.");
  if (d.statistics && !d.values.empty())
    return combination("The parameters " + at + ".Values and " + at +
                       ".StatisticValues are mutually exclusive and you have specified both.");
  if (!d.value && !d.statistics && d.values.empty())
    return missing("The parameter " + at + ".Value, " + at + ".Values or " + at +
                   ".StatisticValues is required.");  // unverified
  if (d.value && !acceptable(*d.value))
    return invalid_value("The value " + number_text(*d.value) + " for parameter " + at + ".Value is invalid.");
  if (d.values.size() > 150)
    return invalid_value("The collection " + at + ".Values must not have a size greater than 150.");
  if (!d.counts.empty() && d.counts.size() != d.values.size())
    return combination("The parameters " + at + ".Values and " + at + ".Counts must be of the same size.");
  for (size_t i = 0; i < d.values.size(); ++i)
    if (!acceptable(d.values[i]))
      return invalid_value("The value " + number_text(d.values[i]) + " for parameter " + at + ".Values.member." +
                           std::to_string(i + 1) + " is invalid.");
  for (size_t i = 0; i < d.counts.size(); ++i)
    if (!acceptable(d.counts[i]) || d.counts[i] < 0)
      return invalid_value("The value " + number_text(d.counts[i]) + " for parameter " + at + ".Counts.member." +
                           std::to_string(i + 1) + " is invalid.");
  if (d.statistics) {
    const auto& s = *d.statistics;
    for (auto [name, x] : {std::pair{"SampleCount", s.sample_count}, std::pair{"Sum", s.sum},
                           std::pair{"Minimum", s.minimum}, std::pair{"Maximum", s.maximum}})
      if (!acceptable(x))
        return invalid_value("The value " + number_text(x) + " for parameter " + at + ".StatisticValues." + name +
                             " is invalid.");
    if (s.sample_count <= 0)
      return invalid_value("The parameter " + at +
                           ".StatisticValues.SampleCount must be greater than 0.");  // unverified
    if (s.minimum > s.maximum)
      return invalid_value("The parameter " + at + ".StatisticValues.Maximum must be greater than " + at +
                           ".StatisticValues.Minimum.");  // unverified
  }
  if (!d.unit.empty() && !is_unit(d.unit))
    return invalid_value("The value " + d.unit + " for parameter " + at + ".Unit is invalid.");
  if (d.storage_resolution != 1 && d.storage_resolution != 60)
    return invalid_value("The value " + std::to_string(d.storage_resolution) + " for parameter " + at +
                         ".StorageResolution is invalid.");
  return Ok{};
}

std::string statistic_label(const AlarmDefinition& a) {
  return a.extended_statistic.empty() ? a.statistic : a.extended_statistic;
}

namespace {

bool is_statistic(std::string_view s) {
  return s == "SampleCount" || s == "Average" || s == "Sum" || s == "Minimum" || s == "Maximum";
}

bool valid_alarm_period(int period) { return period == 10 || period == 30 || (period >= 60 && period % 60 == 0); }

Status validate_actions(const std::vector<std::string>& actions, std::string_view name) {
  if (actions.size() > 5)
    return invalid_value("The collection " + std::string(name) + " must not have a size greater than 5.");
  for (const auto& a : actions)
    if (!a.starts_with("arn:")) return validation("Invalid arn syntax: " + a);  // unverified
  return Ok{};
}

}  // namespace

Status validate_alarm(const AlarmDefinition& a) {
  if (a.name.empty()) return missing("The parameter AlarmName is required.");
  if (a.name.size() > 255) return invalid_value("The parameter AlarmName must not be longer than 255 characters.");
  if (a.description.size() > 1024)
    return invalid_value("The parameter AlarmDescription must not be longer than 1024 characters.");
  for (auto [actions, name] : {std::pair{&a.ok_actions, "OKActions"}, std::pair{&a.alarm_actions, "AlarmActions"},
                               std::pair{&a.insufficient_data_actions, "InsufficientDataActions"}})
    if (auto ok = validate_actions(*actions, name); !ok) return ok;
  if (a.evaluation_periods < 1)
    return validation("EvaluationPeriods must be greater than or equal to 1.");  // unverified
  if (a.datapoints_to_alarm && (*a.datapoints_to_alarm < 1 || *a.datapoints_to_alarm > a.evaluation_periods))
    return validation("DatapointsToAlarm must be between 1 and EvaluationPeriods.");  // unverified
  const std::string_view op = a.comparison_operator;
  if (op == "LessThanLowerOrGreaterThanUpperThreshold" || op == "LessThanLowerThreshold" ||
      op == "GreaterThanUpperThreshold" || !a.threshold_metric_id.empty())
    return validation("Anomaly detection alarms (ThresholdMetricId, ComparisonOperator " + std::string(op) +
                      ") are not supported by berth.");
  if (op != "GreaterThanOrEqualToThreshold" && op != "GreaterThanThreshold" && op != "LessThanThreshold" &&
      op != "LessThanOrEqualToThreshold")
    return validation("1 validation error detected: Value '" + std::string(op) +
                      "' at 'comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: "
                      "[GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold, "
                      "LessThanOrEqualToThreshold, LessThanLowerOrGreaterThanUpperThreshold, LessThanLowerThreshold, "
                      "GreaterThanUpperThreshold]");
  if (!a.threshold) return validation("Threshold is required for a static threshold alarm.");  // unverified
  if (!a.treat_missing_data.empty() && a.treat_missing_data != "breaching" && a.treat_missing_data != "notBreaching" &&
      a.treat_missing_data != "ignore" && a.treat_missing_data != "missing")
    return validation("Invalid value for TreatMissingData: " + a.treat_missing_data +
                      ". Valid values are: breaching, notBreaching, ignore, missing.");  // unverified
  if (!a.evaluate_low_sample_count_percentile.empty()) {
    if (a.evaluate_low_sample_count_percentile != "evaluate" && a.evaluate_low_sample_count_percentile != "ignore")
      return validation(
          "Invalid value for EvaluateLowSampleCountPercentile: " + a.evaluate_low_sample_count_percentile +
          ". Valid values are: evaluate, ignore.");  // unverified
    if (a.extended_statistic.empty())
      return validation("EvaluateLowSampleCountPercentile can only be used with ExtendedStatistic.");  // unverified
  }

  int period = a.period;
  if (a.metrics.empty()) {
    if (a.metric_name.empty() || a.namespace_name.empty())
      return validation("Either MetricName and Namespace or Metrics must be specified.");  // unverified
    if (a.statistic.empty() == a.extended_statistic.empty())
      return combination("Exactly one of Statistic and ExtendedStatistic must be specified.");  // unverified
    if (!a.statistic.empty() && !is_statistic(a.statistic))
      return validation("1 validation error detected: Value '" + a.statistic +
                        "' at 'statistic' failed to satisfy constraint: Member must satisfy enum value set: "
                        "[Maximum, SampleCount, Sum, Minimum, Average]");
    if (!a.extended_statistic.empty() && !is_percentile(a.extended_statistic))
      return invalid_value("The value " + a.extended_statistic + " for parameter ExtendedStatistic is invalid.");
    if (!a.unit.empty() && !is_unit(a.unit))
      return invalid_value("The value " + a.unit + " for parameter Unit is invalid.");
    if (auto dims = validate_dimensions(a.dimensions, "Dimensions"); !dims) return dims;
    if (period == 0) return validation("Period must be specified.");  // unverified
  } else {
    if (!a.metric_name.empty() || !a.namespace_name.empty() || !a.statistic.empty() || !a.extended_statistic.empty() ||
        !a.dimensions.empty() || a.period != 0 || !a.unit.empty())
      return combination(
          "Metrics cannot be specified together with MetricName, Namespace, Statistic, ExtendedStatistic, "
          "Dimensions, Period or Unit.");  // unverified
    if (a.metrics.size() > 10)
      return invalid_value("The collection Metrics must not have a size greater than 10.");  // unverified
    int returning = 0;
    std::set<std::string_view> ids;
    for (const auto& q : a.metrics) {
      if (q.return_data) ++returning;
      if (!ids.insert(q.id).second) return validation("The value of an Id must be unique.");  // unverified
      if (q.metric_stat.has_value() == !q.expression.empty())
        return validation("Exactly one of MetricStat and Expression must be specified for each query.");  // unverified
      if (q.metric_stat) {
        if (!valid_alarm_period(q.metric_stat->period))
          return validation("Period must be 10, 30 or a multiple of 60.");  // unverified
        if (!is_statistic(q.metric_stat->stat) && !is_percentile(q.metric_stat->stat))
          return validation("Invalid statistic: " + q.metric_stat->stat);  // unverified
        period = period == 0 ? q.metric_stat->period : std::min(period, q.metric_stat->period);
      }
    }
    if (returning != 1) return validation("Exactly one element of the metrics list should return data.");
  }
  if (!valid_alarm_period(period))
    return validation("The parameter Period must be 10, 30 or a multiple of 60.");  // unverified
  if (static_cast<int64_t>(period) * a.evaluation_periods > 86400 && period < 3600)
    return validation(
        "Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= 86400).");
  if (static_cast<int64_t>(period) * a.evaluation_periods > 7 * 86400)
    // unverified
    return validation(
        "Metrics cannot be checked across more than 7 days (EvaluationPeriods * Period must be <= 604800).");
  return Ok{};
}

}  // namespace berth::cloudwatch
