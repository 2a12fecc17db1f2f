// The CloudWatch API: each operation reads its input through Input (any of
// the three protocols) and answers with an api::Doc, written in the
// protocol the caller spoke.
#include <algorithm>
#include <boost/json/object.hpp>

#include <charconv>
#include <cmath>
#include <set>

#include "api/document.h"
#include "api/query_tree.h"
#include "cloudwatch/cloudwatch.h"
#include "cloudwatch/input_reader.h"
#include "cloudwatch/metric_math.h"

// Unwraps a Result into `var`, or returns its error from the operation.
#define CW_TRY(var, expr)                                    \
  auto var##_result = (expr);                                \
  if (!var##_result) return std::move(var##_result).error(); \
  auto var = std::move(*var##_result)

namespace berth::cloudwatch {
namespace {

using api::Doc;

constexpr std::string_view kXmlns = "http://monitoring.amazonaws.com/doc/2010-08-01/";

Error invalid_value(std::string m) { return Error::invalid("InvalidParameterValue", std::move(m)); }
Error combination(std::string m) { return Error::invalid("InvalidParameterCombination", std::move(m)); }
Error missing(std::string m) { return Error::invalid("MissingParameter", std::move(m)); }
Error bad_token() { return Error::invalid("InvalidNextToken", "The NextToken is invalid."); }  // unverified

int64_t to_ms(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
WallTime from_ms(int64_t ms) { return WallTime(std::chrono::milliseconds(ms)); }

// NextToken: the offset into the ordered answer, as text.
Result<size_t> parse_token(const std::optional<std::string>& token) {
  if (!token || token->empty()) return size_t{0};
  size_t n = 0;
  auto [end, ec] = std::from_chars(token->data(), token->data() + token->size(), n);
  if (ec != std::errc() || end != token->data() + token->size()) return bad_token();
  return n;
}

Result<std::vector<Dimension>> read_dimensions(const Input& in, std::string_view key, bool value_required) {
  CW_TRY(items, in.structures(key));
  std::vector<Dimension> out;
  for (const auto& item : items) {
    CW_TRY(name, item.str("Name"));
    CW_TRY(value, item.str("Value"));
    if (!name) return missing("The parameter " + std::string(key) + ".member.N.Name is required.");  // unverified
    if (value_required && !value)
      return missing("The parameter " + std::string(key) + ".member.N.Value is required.");  // unverified
    out.push_back({*name, value.value_or("")});
  }
  return out;
}

Doc dimensions_doc(const std::vector<Dimension>& dims) {
  Doc list = Doc::list();
  for (const auto& d : dims) {
    Doc item = Doc::structure();
    item.set("Name", Doc::string(d.name)).set("Value", Doc::string(d.value));
    list.push(std::move(item));
  }
  return list;
}

Doc strings_doc(const std::vector<std::string>& xs) {
  Doc list = Doc::list();
  for (const auto& x : xs) list.push(Doc::string(x));
  return list;
}

Doc opt_string(const std::string& s) { return s.empty() ? Doc() : Doc::string(s); }

// ---- PutMetricData ----

Result<Datum> read_datum(const Input& in, const std::string& ns) {
  Datum d;
  d.namespace_name = ns;
  CW_TRY(name, in.str("MetricName"));
  d.metric_name = name.value_or("");
  CW_TRY(dims, read_dimensions(in, "Dimensions", true));
  d.dimensions = std::move(dims);
  CW_TRY(ts, in.time("Timestamp"));
  if (ts) d.timestamp = *ts;
  CW_TRY(value, in.number("Value"));
  d.value = value;
  CW_TRY(stats, in.structure("StatisticValues"));
  if (stats) {
    StatisticSet s;
    for (auto [key, field] : {std::pair{"SampleCount", &s.sample_count}, std::pair{"Sum", &s.sum},
                              std::pair{"Minimum", &s.minimum}, std::pair{"Maximum", &s.maximum}}) {
      CW_TRY(x, stats->number(key));
      if (!x) return missing("The parameter StatisticValues." + std::string(key) + " is required.");  // unverified
      *field = *x;
    }
    d.statistics = s;
  }
  CW_TRY(values, in.numbers("Values"));
  d.values = std::move(values);
  CW_TRY(counts, in.numbers("Counts"));
  d.counts = std::move(counts);
  CW_TRY(unit, in.str("Unit"));
  d.unit = unit.value_or("");
  CW_TRY(resolution, in.integer("StorageResolution"));
  d.storage_resolution = static_cast<int>(resolution.value_or(60));
  return d;
}

Result<Doc> op_put_metric_data(CloudWatch& cw, const Input& in) {
  CW_TRY(ns, in.str("Namespace"));
  if (auto ok = validate_namespace(ns.value_or(""), /*allow_aws=*/false); !ok) return std::move(ok).error();
  CW_TRY(items, in.structures("MetricData"));
  if (items.empty()) return missing("The parameter MetricData is required.");
  std::vector<Datum> data;
  for (const auto& item : items) {
    CW_TRY(d, read_datum(item, *ns));
    data.push_back(std::move(d));
  }
  if (auto ok = cw.put_metric_data(data); !ok) return std::move(ok).error();
  return Doc::structure();
}

// ---- ListMetrics ----

Result<Doc> op_list_metrics(CloudWatch& cw, const Input& in) {
  CW_TRY(ns, in.str("Namespace"));
  CW_TRY(name, in.str("MetricName"));
  CW_TRY(filters, read_dimensions(in, "Dimensions", false));
  CW_TRY(recent, in.str("RecentlyActive"));
  CW_TRY(token, in.str("NextToken"));
  CW_TRY(offset, parse_token(token));
  if (recent && *recent != "PT3H")
    return invalid_value("The value " + *recent + " for parameter RecentlyActive is invalid.");
  if (filters.size() > 10) return invalid_value("The collection Dimensions must not have a size greater than 10.");
  WallTime now = cw.now();
  std::vector<MetricKey> matched;
  for (const auto& listed : cw.metrics().list()) {
    const MetricKey& k = listed.key;
    if (ns && k.namespace_name != *ns) continue;
    if (name && k.metric_name != *name) continue;
    if (recent && listed.last_put < now - std::chrono::hours(3)) continue;
    if (listed.last_put < now - std::chrono::hours(24 * 14)) continue;
    bool ok = std::all_of(filters.begin(), filters.end(), [&](const Dimension& f) {
      return std::any_of(k.dimensions.begin(), k.dimensions.end(), [&](const Dimension& d) {
        return d.name == f.name && (f.value.empty() || d.value == f.value);
      });
    });
    if (ok) matched.push_back(k);
  }
  constexpr size_t kPage = 500;
  if (offset > matched.size()) return bad_token();
  Doc metrics = Doc::list();
  for (size_t i = offset; i < matched.size() && i < offset + kPage; ++i) {
    Doc m = Doc::structure();
    m.set("Namespace", Doc::string(matched[i].namespace_name))
        .set("MetricName", Doc::string(matched[i].metric_name))
        .set("Dimensions", dimensions_doc(matched[i].dimensions));
    metrics.push(std::move(m));
  }
  Doc out = Doc::structure();
  out.set("Metrics", std::move(metrics));
  if (offset + kPage < matched.size()) out.set("NextToken", Doc::string(std::to_string(offset + kPage)));
  return out;
}

// ---- GetMetricStatistics / GetMetricData: periods ----

// GetMetricStatistics' and GetMetricData's period rules, by the age of the
// start time (AWS's documented retention: 1 s data for 3 hours, 1 min for
// 15 days, 5 min for 63 days, 1 hour beyond).
Status check_period(int64_t period, WallTime start, WallTime now, const std::string& name) {
  if (period < 1) return invalid_value("The parameter " + name + " must be greater than 0.");  // unverified
  auto age = now - start;
  if (age <= std::chrono::hours(3)) {
    if (period == 1 || period == 5 || period == 10 || period == 30 || period % 60 == 0) return Ok{};
    return invalid_value("The parameter " + name + " must be 1, 5, 10, 30, or a multiple of 60.");  // unverified
  }
  int64_t multiple = age <= std::chrono::hours(24 * 15) ? 60 : age <= std::chrono::hours(24 * 63) ? 300 : 3600;
  if (period % multiple != 0)
    return invalid_value("The parameter " + name + " must be a multiple of " + std::to_string(multiple) +
                         " for data older than " +
                         (multiple == 60    ? "3 hours."
                          : multiple == 300 ? "15 days."
                                            : "63 days."));  // unverified
  return Ok{};
}

std::string with_commas(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

Result<Doc> op_get_metric_statistics(CloudWatch& cw, const Input& in) {
  CW_TRY(ns, in.str("Namespace"));
  CW_TRY(name, in.str("MetricName"));
  if (!ns) return missing("The parameter Namespace is required.");
  if (!name) return missing("The parameter MetricName is required.");
  CW_TRY(dims, read_dimensions(in, "Dimensions", true));
  CW_TRY(start, in.time("StartTime"));
  CW_TRY(end, in.time("EndTime"));
  CW_TRY(period, in.integer("Period"));
  CW_TRY(stats, in.strings("Statistics"));
  CW_TRY(extended, in.strings("ExtendedStatistics"));
  CW_TRY(unit, in.str("Unit"));
  if (!start) return missing("The parameter StartTime is required.");
  if (!end) return missing("The parameter EndTime is required.");
  if (!period) return missing("The parameter Period is required.");
  if (stats.empty() && extended.empty())
    return missing("Must specify either Statistics or ExtendedStatistics.");  // unverified
  if (stats.size() > 5) return invalid_value("The collection Statistics must not have a size greater than 5.");
  if (extended.size() > 10)
    return invalid_value("The collection ExtendedStatistics must not have a size greater than 10.");
  for (const auto& s : stats)
    if (s != "SampleCount" && s != "Average" && s != "Sum" && s != "Minimum" && s != "Maximum")
      return invalid_value("The value " + s + " for parameter Statistics is invalid.");
  for (const auto& s : extended)
    if (!is_percentile(s)) return invalid_value("The value " + s + " for parameter ExtendedStatistics is invalid.");
  if (unit && !is_unit(*unit)) return invalid_value("The value " + *unit + " for parameter Unit is invalid.");
  if (*start >= *end) return invalid_value("The parameter StartTime must be less than the parameter EndTime.");
  if (auto ok = check_period(*period, *start, cw.now(), "Period"); !ok) return std::move(ok).error();
  int64_t span_s = (to_ms(*end) - to_ms(*start) + 999) / 1000;
  int64_t points = (span_s + *period - 1) / *period;
  if (points > 1440)
    return combination("You have requested up to " + with_commas(points) +
                       " datapoints, which exceeds the limit of 1,440. You may reduce the datapoints requested by "
                       "increasing Period, or decreasing the time range.");
  MetricKey key{*ns, *name, dims};
  Doc datapoints = Doc::list();
  for (const auto& b : cw.metrics().buckets(key, *start, *end, *period * 1000, unit.value_or(""))) {
    Doc p = Doc::structure();
    p.set("Timestamp", Doc::time(from_ms(b.start_ms)));
    for (const auto& s : stats)
      if (auto x = statistic_of(b, s)) p.set(s, Doc::number(*x));
    p.set("Unit", Doc::string(b.unit));
    if (!extended.empty()) {
      Doc map = Doc::map();
      for (const auto& s : extended)
        if (auto x = statistic_of(b, s)) map.set(s, Doc::number(*x));
      p.set("ExtendedStatistics", std::move(map));
    }
    datapoints.push(std::move(p));
  }
  Doc out = Doc::structure();
  out.set("Label", Doc::string(*name)).set("Datapoints", std::move(datapoints));
  return out;
}

Result<MetricDataQuery> read_query(const Input& q, size_t index) {
  MetricDataQuery out;
  const std::string at = "MetricDataQueries.member." + std::to_string(index + 1);
  CW_TRY(id, q.str("Id"));
  if (!id) return missing("The parameter " + at + ".Id is required.");  // unverified
  out.id = *id;
  if (out.id.empty() || !(out.id[0] >= 'a' && out.id[0] <= 'z') ||
      !std::all_of(out.id.begin(), out.id.end(),
                   [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }))
    return Error::invalid("ValidationError", "The value " + out.id + " for parameter " + at +
                                                 ".Id is invalid. It must start with a lowercase letter and contain "
                                                 "only letters, numbers and underscores.");  // unverified
  CW_TRY(expression, q.str("Expression"));
  out.expression = expression.value_or("");
  CW_TRY(label, q.str("Label"));
  out.label = label.value_or("");
  CW_TRY(return_data, q.boolean("ReturnData"));
  out.return_data = return_data.value_or(true);
  CW_TRY(period, q.integer("Period"));
  out.period = static_cast<int>(period.value_or(0));
  CW_TRY(stat, q.structure("MetricStat"));
  if (stat) {
    MetricStat s;
    CW_TRY(metric, stat->structure("Metric"));
    if (!metric) return missing("The parameter " + at + ".MetricStat.Metric is required.");  // unverified
    CW_TRY(ns, metric->str("Namespace"));
    CW_TRY(name, metric->str("MetricName"));
    CW_TRY(dims, read_dimensions(*metric, "Dimensions", true));
    s.metric = {ns.value_or(""), name.value_or(""), std::move(dims)};
    CW_TRY(p, stat->integer("Period"));
    CW_TRY(st, stat->str("Stat"));
    CW_TRY(unit, stat->str("Unit"));
    if (!p) return missing("The parameter " + at + ".MetricStat.Period is required.");  // unverified
    if (!st) return missing("The parameter " + at + ".MetricStat.Stat is required.");   // unverified
    s.period = static_cast<int>(*p);
    s.stat = *st;
    s.unit = unit.value_or("");
    out.metric_stat = std::move(s);
  }
  if (out.metric_stat.has_value() == !out.expression.empty())
    return Error::invalid("ValidationError",
                          "Exactly one of MetricStat and Expression must be specified in " + at + ".");  // unverified
  return out;
}

Result<std::vector<MetricDataQuery>> read_queries(const Input& in, std::string_view key) {
  CW_TRY(items, in.structures(key));
  std::vector<MetricDataQuery> out;
  for (size_t i = 0; i < items.size(); ++i) {
    CW_TRY(q, read_query(items[i], i));
    out.push_back(std::move(q));
  }
  return out;
}

Doc queries_doc(const std::vector<MetricDataQuery>& queries) {
  Doc list = Doc::list();
  for (const auto& q : queries) {
    Doc item = Doc::structure();
    item.set("Id", Doc::string(q.id));
    if (q.metric_stat) {
      Doc metric = Doc::structure();
      metric.set("Namespace", Doc::string(q.metric_stat->metric.namespace_name))
          .set("MetricName", Doc::string(q.metric_stat->metric.metric_name))
          .set("Dimensions", dimensions_doc(q.metric_stat->metric.dimensions));
      Doc stat = Doc::structure();
      stat.set("Metric", std::move(metric))
          .set("Period", Doc::integer(q.metric_stat->period))
          .set("Stat", Doc::string(q.metric_stat->stat))
          .set("Unit", opt_string(q.metric_stat->unit));
      item.set("MetricStat", std::move(stat));
    }
    item.set("Expression", opt_string(q.expression))
        .set("Label", opt_string(q.label))
        .set("ReturnData", Doc::boolean(q.return_data))
        .set("Period", q.period ? Doc::integer(q.period) : Doc());
    list.push(std::move(item));
  }
  return list;
}

Result<Doc> op_get_metric_data(CloudWatch& cw, const Input& in) {
  CW_TRY(queries, read_queries(in, "MetricDataQueries"));
  CW_TRY(start, in.time("StartTime"));
  CW_TRY(end, in.time("EndTime"));
  CW_TRY(scan_by, in.str("ScanBy"));
  CW_TRY(max_points, in.integer("MaxDatapoints"));
  CW_TRY(token, in.str("NextToken"));
  CW_TRY(offset, parse_token(token));
  if (queries.empty()) return missing("The parameter MetricDataQueries is required.");
  if (queries.size() > 500)
    return invalid_value("The collection MetricDataQueries must not have a size greater than 500.");
  if (!start) return missing("The parameter StartTime is required.");
  if (!end) return missing("The parameter EndTime is required.");
  if (*start >= *end) return invalid_value("The parameter StartTime must be less than the parameter EndTime.");
  bool ascending = scan_by && *scan_by == "TimestampAscending";
  if (scan_by && !ascending && *scan_by != "TimestampDescending")
    return invalid_value("The value " + *scan_by + " for parameter ScanBy is invalid.");
  std::set<std::string> ids;
  for (const auto& q : queries)
    if (!ids.insert(q.id).second)
      return Error::invalid("ValidationError", "The value of an Id must be unique: " + q.id);  // unverified

  // Every MetricStat first; expressions see them (and earlier expressions) by id.
  std::map<std::string, TimeSeries> series;
  int default_period = 60;
  for (const auto& q : queries) {
    if (!q.metric_stat) continue;
    const auto& s = *q.metric_stat;
    std::string at = "MetricDataQueries.member." + std::to_string(&q - queries.data() + 1) + ".MetricStat.Period";
    if (auto ok = check_period(s.period, *start, cw.now(), at); !ok) return std::move(ok).error();
    if (!is_percentile(s.stat) && s.stat != "SampleCount" && s.stat != "Average" && s.stat != "Sum" &&
        s.stat != "Minimum" && s.stat != "Maximum")
      return invalid_value("The value " + s.stat + " for parameter " + at.substr(0, at.size() - 6) +
                           "Stat is invalid.");
    default_period = s.period;
    TimeSeries ts;
    for (const auto& b : cw.metrics().buckets(s.metric, *start, *end, int64_t{s.period} * 1000, s.unit))
      if (auto x = statistic_of(b, s.stat)) ts[b.start_ms] = *x;
    series[q.id] = std::move(ts);
  }
  Doc results = Doc::list();
  Doc messages = Doc::list();
  size_t emitted = 0, skipped = 0;
  bool more = false;
  const size_t limit = max_points && *max_points > 0 ? static_cast<size_t>(*max_points) : 100800;
  for (const auto& q : queries) {
    TimeSeries ts;
    Doc item_messages = Doc::list();
    if (q.metric_stat) {
      ts = series[q.id];
    } else {
      auto value = evaluate_expression(q.expression, series);
      if (!value) return std::move(value).error();
      if (auto* t = std::get_if<TimeSeries>(&*value)) {
        ts = *t;
      } else {
        // A scalar answers once per period of the range.
        int64_t p = (q.period ? q.period : default_period) * int64_t{1000};
        int64_t first = to_ms(*start) - ((to_ms(*start) % p) + p) % p;
        for (int64_t t = first; t < to_ms(*end); t += p) ts[t] = std::get<double>(*value);
      }
      series[q.id] = ts;
    }
    if (!q.return_data) continue;
    Doc timestamps = Doc::list(), values = Doc::list();
    std::vector<std::pair<int64_t, double>> points(ts.begin(), ts.end());
    if (!ascending) std::reverse(points.begin(), points.end());
    for (const auto& [t, v] : points) {
      if (skipped < offset) {
        ++skipped;
        continue;
      }
      if (emitted >= limit) {
        more = true;
        break;
      }
      timestamps.push(Doc::time(from_ms(t)));
      values.push(Doc::number(v));
      ++emitted;
    }
    Doc r = Doc::structure();
    std::string label = !q.label.empty() ? q.label : q.metric_stat ? q.metric_stat->metric.metric_name : q.id;
    r.set("Id", Doc::string(q.id))
        .set("Label", Doc::string(label))
        .set("Timestamps", std::move(timestamps))
        .set("Values", std::move(values))
        .set("StatusCode", Doc::string(more ? "PartialData" : "Complete"))
        .set("Messages", std::move(item_messages));
    results.push(std::move(r));
  }
  Doc out = Doc::structure();
  out.set("MetricDataResults", std::move(results));
  if (more) out.set("NextToken", Doc::string(std::to_string(offset + emitted)));
  out.set("Messages", std::move(messages));
  return out;
}

// ---- alarms ----

Result<AlarmDefinition> read_alarm(const Input& in) {
  AlarmDefinition a;
  CW_TRY(name, in.str("AlarmName"));
  a.name = name.value_or("");
  CW_TRY(description, in.str("AlarmDescription"));
  a.description = description.value_or("");
  CW_TRY(enabled, in.boolean("ActionsEnabled"));
  a.actions_enabled = enabled.value_or(true);
  CW_TRY(ok_actions, in.strings("OKActions"));
  a.ok_actions = std::move(ok_actions);
  CW_TRY(alarm_actions, in.strings("AlarmActions"));
  a.alarm_actions = std::move(alarm_actions);
  CW_TRY(insufficient, in.strings("InsufficientDataActions"));
  a.insufficient_data_actions = std::move(insufficient);
  CW_TRY(metric_name, in.str("MetricName"));
  a.metric_name = metric_name.value_or("");
  CW_TRY(ns, in.str("Namespace"));
  a.namespace_name = ns.value_or("");
  CW_TRY(statistic, in.str("Statistic"));
  a.statistic = statistic.value_or("");
  CW_TRY(extended, in.str("ExtendedStatistic"));
  a.extended_statistic = extended.value_or("");
  CW_TRY(dims, read_dimensions(in, "Dimensions", true));
  a.dimensions = std::move(dims);
  CW_TRY(period, in.integer("Period"));
  a.period = static_cast<int>(period.value_or(0));
  CW_TRY(unit, in.str("Unit"));
  a.unit = unit.value_or("");
  CW_TRY(evaluation_periods, in.integer("EvaluationPeriods"));
  if (!evaluation_periods) return missing("The parameter EvaluationPeriods is required.");  // unverified
  a.evaluation_periods = static_cast<int>(*evaluation_periods);
  CW_TRY(datapoints, in.integer("DatapointsToAlarm"));
  if (datapoints) a.datapoints_to_alarm = static_cast<int>(*datapoints);
  CW_TRY(threshold, in.number("Threshold"));
  a.threshold = threshold;
  CW_TRY(op, in.str("ComparisonOperator"));
  if (!op) return missing("The parameter ComparisonOperator is required.");  // unverified
  a.comparison_operator = *op;
  CW_TRY(treat, in.str("TreatMissingData"));
  a.treat_missing_data = treat.value_or("");
  CW_TRY(low, in.str("EvaluateLowSampleCountPercentile"));
  a.evaluate_low_sample_count_percentile = low.value_or("");
  CW_TRY(threshold_id, in.str("ThresholdMetricId"));
  a.threshold_metric_id = threshold_id.value_or("");
  CW_TRY(metrics, read_queries(in, "Metrics"));
  a.metrics = std::move(metrics);
  CW_TRY(tags, in.structures("Tags"));
  for (const auto& t : tags) {
    CW_TRY(key, t.str("Key"));
    CW_TRY(value, t.str("Value"));
    a.tags.push_back({key.value_or(""), value.value_or("")});
  }
  return a;
}

Doc alarm_doc(const Alarm& a) {
  const AlarmDefinition& d = a.def;
  Doc m = Doc::structure();
  m.set("AlarmName", Doc::string(d.name))
      .set("AlarmArn", Doc::string(a.arn))
      .set("AlarmDescription", opt_string(d.description))
      .set("AlarmConfigurationUpdatedTimestamp", Doc::time(a.config_updated))
      .set("ActionsEnabled", Doc::boolean(d.actions_enabled))
      .set("OKActions", strings_doc(d.ok_actions))
      .set("AlarmActions", strings_doc(d.alarm_actions))
      .set("InsufficientDataActions", strings_doc(d.insufficient_data_actions))
      .set("StateValue", Doc::string(a.state))
      .set("StateReason", Doc::string(a.reason))
      .set("StateReasonData", opt_string(a.reason_data))
      .set("StateUpdatedTimestamp", Doc::time(a.state_updated))
      .set("MetricName", opt_string(d.metric_name))
      .set("Namespace", opt_string(d.namespace_name))
      .set("Statistic", opt_string(d.statistic))
      .set("ExtendedStatistic", opt_string(d.extended_statistic))
      .set("Dimensions", dimensions_doc(d.dimensions))
      .set("Period", d.period ? Doc::integer(d.period) : Doc())
      .set("Unit", opt_string(d.unit))
      .set("EvaluationPeriods", Doc::integer(d.evaluation_periods))
      .set("DatapointsToAlarm", d.datapoints_to_alarm ? Doc::integer(*d.datapoints_to_alarm) : Doc())
      .set("Threshold", d.threshold ? Doc::number(*d.threshold) : Doc())
      .set("ComparisonOperator", Doc::string(d.comparison_operator))
      .set("TreatMissingData", opt_string(d.treat_missing_data))
      .set("EvaluateLowSampleCountPercentile", opt_string(d.evaluate_low_sample_count_percentile))
      .set("Metrics", d.metrics.empty() ? Doc() : queries_doc(d.metrics))
      .set("StateTransitionedTimestamp", Doc::time(a.transitioned));
  return m;
}

Result<Doc> op_put_metric_alarm(CloudWatch& cw, const Input& in) {
  CW_TRY(def, read_alarm(in));
  if (auto ok = cw.put_metric_alarm(def); !ok) return std::move(ok).error();
  return Doc::structure();
}

Result<std::pair<size_t, size_t>> paging(const Input& in, size_t default_page) {
  CW_TRY(max, in.integer("MaxRecords"));
  CW_TRY(token, in.str("NextToken"));
  CW_TRY(offset, parse_token(token));
  if (max && (*max < 1 || *max > 100))
    return invalid_value("The value " + std::to_string(*max) + " for parameter MaxRecords is invalid.");  // unverified
  return std::pair<size_t, size_t>{offset, max ? static_cast<size_t>(*max) : default_page};
}

Result<Doc> op_describe_alarms(CloudWatch& cw, const Input& in) {
  CW_TRY(names, in.strings("AlarmNames"));
  CW_TRY(prefix, in.str("AlarmNamePrefix"));
  CW_TRY(state, in.str("StateValue"));
  CW_TRY(action_prefix, in.str("ActionPrefix"));
  CW_TRY(types, in.strings("AlarmTypes"));
  CW_TRY(page, paging(in, 50));
  if (!names.empty() && prefix)
    return combination("AlarmNames and AlarmNamePrefix cannot be specified together.");  // unverified
  if (state && *state != kStateOk && *state != kStateAlarm && *state != kStateInsufficient)
    return invalid_value("The value " + *state + " for parameter StateValue is invalid.");
  for (const auto& t : types)
    if (t != "MetricAlarm" && t != "CompositeAlarm")
      return invalid_value("The value " + t + " for parameter AlarmTypes is invalid.");
  bool metric_alarms = types.empty() || std::find(types.begin(), types.end(), "MetricAlarm") != types.end();
  bool composite = std::find(types.begin(), types.end(), "CompositeAlarm") != types.end();
  std::vector<Alarm> matched;
  if (metric_alarms)
    for (auto& a : cw.alarms()) {
      if (!names.empty() && std::find(names.begin(), names.end(), a.def.name) == names.end()) continue;
      if (prefix && !a.def.name.starts_with(*prefix)) continue;
      if (state && a.state != *state) continue;
      if (action_prefix) {
        auto has = [&](const std::vector<std::string>& xs) {
          return std::any_of(xs.begin(), xs.end(), [&](const std::string& x) { return x.starts_with(*action_prefix); });
        };
        if (!has(a.def.ok_actions) && !has(a.def.alarm_actions) && !has(a.def.insufficient_data_actions)) continue;
      }
      matched.push_back(std::move(a));
    }
  auto [offset, size] = page;
  if (offset > matched.size()) return bad_token();
  Doc list = Doc::list();
  for (size_t i = offset; i < matched.size() && i < offset + size; ++i) list.push(alarm_doc(matched[i]));
  Doc out = Doc::structure();
  if (composite) out.set("CompositeAlarms", Doc::list());
  out.set("MetricAlarms", std::move(list));
  if (offset + size < matched.size()) out.set("NextToken", Doc::string(std::to_string(offset + size)));
  return out;
}

Result<Doc> op_describe_alarms_for_metric(CloudWatch& cw, const Input& in) {
  CW_TRY(name, in.str("MetricName"));
  CW_TRY(ns, in.str("Namespace"));
  if (!name) return missing("The parameter MetricName is required.");
  if (!ns) return missing("The parameter Namespace is required.");
  CW_TRY(statistic, in.str("Statistic"));
  CW_TRY(extended, in.str("ExtendedStatistic"));
  CW_TRY(dims, read_dimensions(in, "Dimensions", true));
  CW_TRY(period, in.integer("Period"));
  CW_TRY(unit, in.str("Unit"));
  std::sort(dims.begin(), dims.end());
  Doc list = Doc::list();
  for (const auto& a : cw.alarms()) {
    const auto& d = a.def;
    auto alarm_dims = d.dimensions;
    std::sort(alarm_dims.begin(), alarm_dims.end());
    if (!d.metrics.empty() || d.metric_name != *name || d.namespace_name != *ns || alarm_dims != dims) continue;
    if (statistic && d.statistic != *statistic) continue;
    if (extended && d.extended_statistic != *extended) continue;
    if (period && d.period != *period) continue;
    if (unit && d.unit != *unit) continue;
    list.push(alarm_doc(a));
  }
  Doc out = Doc::structure();
  out.set("MetricAlarms", std::move(list));
  return out;
}

Result<Doc> op_delete_alarms(CloudWatch& cw, const Input& in) {
  CW_TRY(names, in.strings("AlarmNames"));
  if (auto ok = cw.delete_alarms(names); !ok) return std::move(ok).error();
  return Doc::structure();
}

Result<Doc> op_set_alarm_state(CloudWatch& cw, const Input& in) {
  CW_TRY(name, in.str("AlarmName"));
  CW_TRY(state, in.str("StateValue"));
  CW_TRY(reason, in.str("StateReason"));
  CW_TRY(data, in.str("StateReasonData"));
  if (!name) return missing("The parameter AlarmName is required.");
  if (!state) return missing("The parameter StateValue is required.");
  if (!reason) return missing("The parameter StateReason is required.");
  if (auto ok = cw.set_alarm_state(*name, *state, *reason, data.value_or("")); !ok) return std::move(ok).error();
  return Doc::structure();
}

Result<Doc> op_describe_alarm_history(CloudWatch& cw, const Input& in) {
  CW_TRY(name, in.str("AlarmName"));
  CW_TRY(type, in.str("HistoryItemType"));
  CW_TRY(start, in.time("StartDate"));
  CW_TRY(end, in.time("EndDate"));
  CW_TRY(scan_by, in.str("ScanBy"));
  CW_TRY(page, paging(in, 100));
  if (type && *type != "ConfigurationUpdate" && *type != "StateUpdate" && *type != "Action" &&
      *type != "AlarmContributorStateUpdate" && *type != "AlarmContributorAction")
    return invalid_value("The value " + *type + " for parameter HistoryItemType is invalid.");
  CW_TRY(items, cw.history(name.value_or(""), type.value_or(""), start.value_or(WallTime{}),
                           end.value_or(cw.now() + std::chrono::hours(24 * 365))));
  if (scan_by && *scan_by == "TimestampAscending") std::reverse(items.begin(), items.end());
  auto [offset, size] = page;
  if (offset > items.size()) return bad_token();
  Doc list = Doc::list();
  for (size_t i = offset; i < items.size() && i < offset + size; ++i) {
    Doc h = Doc::structure();
    h.set("AlarmName", Doc::string(items[i].alarm_name))
        .set("AlarmType", Doc::string(items[i].alarm_type))
        .set("Timestamp", Doc::time(items[i].when))
        .set("HistoryItemType", Doc::string(items[i].item_type))
        .set("HistorySummary", Doc::string(items[i].summary))
        .set("HistoryData", Doc::string(items[i].data));
    list.push(std::move(h));
  }
  Doc out = Doc::structure();
  out.set("AlarmHistoryItems", std::move(list));
  if (offset + size < items.size()) out.set("NextToken", Doc::string(std::to_string(offset + size)));
  return out;
}

Result<Doc> alarm_actions(CloudWatch& cw, const Input& in, bool enabled) {
  CW_TRY(names, in.strings("AlarmNames"));
  if (names.size() > 100) return invalid_value("The collection AlarmNames must not have a size greater than 100.");
  if (auto ok = cw.set_actions_enabled(names, enabled); !ok) return std::move(ok).error();
  return Doc::structure();
}

Result<Doc> op_tag_resource(CloudWatch& cw, const Input& in) {
  CW_TRY(arn, in.str("ResourceARN"));
  CW_TRY(items, in.structures("Tags"));
  std::vector<Tag> tags;
  for (const auto& t : items) {
    CW_TRY(key, t.str("Key"));
    CW_TRY(value, t.str("Value"));
    tags.push_back({key.value_or(""), value.value_or("")});
  }
  if (auto ok = cw.tag_alarm(arn.value_or(""), tags); !ok) return std::move(ok).error();
  return Doc::structure();
}

Result<Doc> op_untag_resource(CloudWatch& cw, const Input& in) {
  CW_TRY(arn, in.str("ResourceARN"));
  CW_TRY(keys, in.strings("TagKeys"));
  if (auto ok = cw.untag_alarm(arn.value_or(""), keys); !ok) return std::move(ok).error();
  return Doc::structure();
}

Result<Doc> op_list_tags(CloudWatch& cw, const Input& in) {
  CW_TRY(arn, in.str("ResourceARN"));
  CW_TRY(tags, cw.alarm_tags(arn.value_or("")));
  Doc list = Doc::list();
  for (const auto& t : tags) {
    Doc item = Doc::structure();
    item.set("Key", Doc::string(t.key)).set("Value", Doc::string(t.value));
    list.push(std::move(item));
  }
  Doc out = Doc::structure();
  out.set("Tags", std::move(list));
  return out;
}

using Handler = Result<Doc> (*)(CloudWatch&, const Input&);

}  // namespace

api::Service CloudWatch::service() {
  api::Service s;
  s.signing_name = "monitoring";
  s.protocol = api::Protocol::kQuery;
  s.also_speaks = {api::Protocol::kJson10, api::Protocol::kRpcV2Cbor};
  s.json_target_prefix = "GraniteServiceVersion20100801";
  s.xmlns = std::string(kXmlns);
  s.api_version = "2010-08-01";
  s.query_compatible = true;
  s.json_error_types = {{"InvalidParameterValue", "InvalidParameterValueException"},
                        {"InvalidParameterCombination", "InvalidParameterCombinationException"},
                        {"MissingParameter", "MissingRequiredParameterException"},
                        {"ResourceNotFound", "ResourceNotFound"},
                        {"InvalidNextToken", "InvalidNextToken"},
                        {"InvalidFormat", "InvalidFormatFault"},
                        {"LimitExceeded", "LimitExceededFault"},
                        {"InternalServiceError", "InternalServiceFault"}};
  auto self = this;
  auto wrap = [self](Handler handler) {
    return [self, handler](const api::CallContext& ctx, const api::OperationInput& in) -> Result<std::string> {
      boost::json::object from_query;
      const boost::json::object* object = in.json;
      if (!object) {
        from_query = api::query_to_json(in.query->params());
        object = &from_query;
      }
      Input input(*object, in.json == nullptr);
      CW_TRY(doc, handler(*self, input));
      return api::render_document(doc, ctx.protocol);
    };
  };
  s.add_without_output("PutMetricData", wrap(op_put_metric_data));
  s.add("ListMetrics", wrap(op_list_metrics));
  s.add("GetMetricStatistics", wrap(op_get_metric_statistics));
  s.add("GetMetricData", wrap(op_get_metric_data));
  s.add_without_output("PutMetricAlarm", wrap(op_put_metric_alarm));
  s.add("DescribeAlarms", wrap(op_describe_alarms));
  s.add("DescribeAlarmsForMetric", wrap(op_describe_alarms_for_metric));
  s.add_without_output("DeleteAlarms", wrap(op_delete_alarms));
  s.add_without_output("SetAlarmState", wrap(op_set_alarm_state));
  s.add("DescribeAlarmHistory", wrap(op_describe_alarm_history));
  s.add_without_output("EnableAlarmActions",
                       wrap([](CloudWatch& cw, const Input& in) { return alarm_actions(cw, in, true); }));
  s.add_without_output("DisableAlarmActions",
                       wrap([](CloudWatch& cw, const Input& in) { return alarm_actions(cw, in, false); }));
  s.add("TagResource", wrap(op_tag_resource));
  s.add("UntagResource", wrap(op_untag_resource));
  s.add("ListTagsForResource", wrap(op_list_tags));
  return s;
}

}  // namespace berth::cloudwatch

#undef CW_TRY
