#include "cloudwatch/alarm_record.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace berth::cloudwatch {
namespace {

namespace json = boost::json;

json::array strings(const std::vector<std::string>& xs) {
  json::array out;
  for (const auto& x : xs) out.push_back(json::string(x));
  return out;
}
std::vector<std::string> strings(const json::value* v) {
  std::vector<std::string> out;
  if (v && v->is_array())
    for (const auto& x : v->as_array())
      if (x.is_string()) out.emplace_back(x.as_string());
  return out;
}
json::array dims(const std::vector<Dimension>& ds) {
  json::array out;
  for (const auto& d : ds) out.push_back(json::array{json::string(d.name), json::string(d.value)});
  return out;
}
std::vector<Dimension> dims(const json::value* v) {
  std::vector<Dimension> out;
  if (v && v->is_array())
    for (const auto& x : v->as_array())
      out.push_back({std::string(x.as_array()[0].as_string()), std::string(x.as_array()[1].as_string())});
  return out;
}
std::string str(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

std::string definition_to_json(const AlarmDefinition& d) {
  json::object o;
  o["name"] = d.name;
  o["description"] = d.description;
  o["actions_enabled"] = d.actions_enabled;
  o["ok_actions"] = strings(d.ok_actions);
  o["alarm_actions"] = strings(d.alarm_actions);
  o["insufficient_data_actions"] = strings(d.insufficient_data_actions);
  o["namespace"] = d.namespace_name;
  o["metric_name"] = d.metric_name;
  o["dimensions"] = dims(d.dimensions);
  o["statistic"] = d.statistic;
  o["extended_statistic"] = d.extended_statistic;
  o["period"] = d.period;
  o["unit"] = d.unit;
  json::array metrics;
  for (const auto& q : d.metrics) {
    json::object m;
    m["id"] = q.id;
    m["expression"] = q.expression;
    m["label"] = q.label;
    m["return_data"] = q.return_data;
    m["period"] = q.period;
    if (q.metric_stat) {
      m["namespace"] = q.metric_stat->metric.namespace_name;
      m["metric_name"] = q.metric_stat->metric.metric_name;
      m["dimensions"] = dims(q.metric_stat->metric.dimensions);
      m["stat_period"] = q.metric_stat->period;
      m["stat"] = q.metric_stat->stat;
      m["unit"] = q.metric_stat->unit;
    }
    metrics.push_back(std::move(m));
  }
  o["metrics"] = std::move(metrics);
  o["evaluation_periods"] = d.evaluation_periods;
  if (d.datapoints_to_alarm) o["datapoints_to_alarm"] = *d.datapoints_to_alarm;
  if (d.threshold) o["threshold"] = *d.threshold;
  o["comparison_operator"] = d.comparison_operator;
  o["threshold_metric_id"] = d.threshold_metric_id;
  o["treat_missing_data"] = d.treat_missing_data;
  o["evaluate_low_sample_count_percentile"] = d.evaluate_low_sample_count_percentile;
  json::array tags;
  for (const auto& t : d.tags) tags.push_back(json::array{json::string(t.key), json::string(t.value)});
  o["tags"] = std::move(tags);
  return json::serialize(o);
}

Result<AlarmDefinition> definition_from_json(std::string_view text) {
  try {
    json::value v = json::parse(text);
    const json::object& o = v.as_object();
    AlarmDefinition d;
    d.name = str(o, "name");
    d.description = str(o, "description");
    d.actions_enabled = o.at("actions_enabled").as_bool();
    d.ok_actions = strings(o.if_contains("ok_actions"));
    d.alarm_actions = strings(o.if_contains("alarm_actions"));
    d.insufficient_data_actions = strings(o.if_contains("insufficient_data_actions"));
    d.namespace_name = str(o, "namespace");
    d.metric_name = str(o, "metric_name");
    d.dimensions = dims(o.if_contains("dimensions"));
    d.statistic = str(o, "statistic");
    d.extended_statistic = str(o, "extended_statistic");
    d.period = static_cast<int>(o.at("period").to_number<int64_t>());
    d.unit = str(o, "unit");
    for (const auto& mv : o.at("metrics").as_array()) {
      const auto& m = mv.as_object();
      MetricDataQuery q;
      q.id = str(m, "id");
      q.expression = str(m, "expression");
      q.label = str(m, "label");
      q.return_data = m.at("return_data").as_bool();
      q.period = static_cast<int>(m.at("period").to_number<int64_t>());
      if (m.contains("stat")) {
        MetricStat s;
        s.metric = {str(m, "namespace"), str(m, "metric_name"), dims(m.if_contains("dimensions"))};
        s.period = static_cast<int>(m.at("stat_period").to_number<int64_t>());
        s.stat = str(m, "stat");
        s.unit = str(m, "unit");
        q.metric_stat = std::move(s);
      }
      d.metrics.push_back(std::move(q));
    }
    d.evaluation_periods = static_cast<int>(o.at("evaluation_periods").to_number<int64_t>());
    if (auto* x = o.if_contains("datapoints_to_alarm"))
      d.datapoints_to_alarm = static_cast<int>(x->to_number<int64_t>());
    if (auto* x = o.if_contains("threshold")) d.threshold = x->to_number<double>();
    d.comparison_operator = str(o, "comparison_operator");
    d.threshold_metric_id = str(o, "threshold_metric_id");
    d.treat_missing_data = str(o, "treat_missing_data");
    d.evaluate_low_sample_count_percentile = str(o, "evaluate_low_sample_count_percentile");
    for (const auto& t : o.at("tags").as_array())
      d.tags.push_back({std::string(t.as_array()[0].as_string()), std::string(t.as_array()[1].as_string())});
    return d;
  } catch (const std::exception& e) {
    return Error::internal(std::string("stored alarm definition is unreadable: ") + e.what());
  }
}

}  // namespace berth::cloudwatch
