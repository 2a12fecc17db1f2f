#include "cloudwatch/alarm_evaluation.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>
#include <cmath>
#include <ctime>

namespace berth::cloudwatch {
namespace {

std::string operator_text(std::string_view op) {
  if (op == "GreaterThanOrEqualToThreshold") return "greater than or equal to";
  if (op == "GreaterThanThreshold") return "greater than";
  if (op == "LessThanThreshold") return "less than";
  if (op == "LessThanOrEqualToThreshold") return "less than or equal to";
  return std::string(op);
}

std::string format_time(WallTime t, const char* pattern) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, pattern, &tm);
  return std::string(buf, n);
}

// "85.2 (04/12/26 23:10:00), 90.1 (04/12/26 23:09:00)"
std::string listed(const std::vector<const PeriodValue*>& points) {
  std::string out;
  for (const auto* p : points) {
    if (!out.empty()) out += ", ";
    out += java_double(*p->value) + " (" + reason_date(p->start) + ")";
  }
  return out;
}

std::string plural(size_t n, std::string_view word) {
  return std::to_string(n) + " " + std::string(word) + (n == 1 ? "" : "s");
}

}  // namespace

std::string java_double(double x) {
  if (std::isfinite(x) && x == std::floor(x) && std::fabs(x) < 1e7) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(x));
    return std::string(buf, end) + ".0";
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, end);
}

std::string reason_date(WallTime t) { return format_time(t, "%d/%m/%y %H:%M:%S"); }

std::string reason_data_date(WallTime t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03lld", static_cast<long long>(ms < 0 ? ms + 1000 : ms));
  return format_time(t, "%Y-%m-%dT%H:%M:%S") + frac + "+0000";
}

bool breaches(double value, double threshold, std::string_view op) {
  if (op == "GreaterThanOrEqualToThreshold") return value >= threshold;
  if (op == "GreaterThanThreshold") return value > threshold;
  if (op == "LessThanThreshold") return value < threshold;
  if (op == "LessThanOrEqualToThreshold") return value <= threshold;
  return false;
}

std::optional<Decision> evaluate_alarm(const AlarmDefinition& alarm, std::span<const PeriodValue> periods,
                                       std::string_view statistic_label, WallTime now) {
  const double threshold = alarm.threshold.value_or(0);
  const size_t n = periods.size();
  const size_t m = static_cast<size_t>(alarm.datapoints_to_alarm.value_or(alarm.evaluation_periods));
  const std::string treat = alarm.treat_missing_data.empty() ? "missing" : alarm.treat_missing_data;

  std::vector<const PeriodValue*> present, breaching, fine;
  for (const auto& p : periods) {
    if (!p.value) continue;
    present.push_back(&p);
    (breaches(*p.value, threshold, alarm.comparison_operator) ? breaching : fine).push_back(&p);
  }
  const size_t missing = n - present.size();

  Decision d;
  for (const auto* p : present) d.datapoints.push_back(*p->value);

  // StateReasonData, as AWS writes it for a threshold alarm.
  boost::json::object data;
  data["version"] = "1.0";
  data["queryDate"] = reason_data_date(now);
  if (n > 0) data["startDate"] = reason_data_date(periods.back().start);
  data["statistic"] = std::string(statistic_label);
  data["period"] = alarm.period;
  boost::json::array recent;
  for (auto it = present.rbegin(); it != present.rend(); ++it) recent.push_back(*(*it)->value);
  data["recentDatapoints"] = std::move(recent);
  data["threshold"] = threshold;
  boost::json::array evaluated;
  for (const auto& p : periods) {
    boost::json::object e;
    e["timestamp"] = reason_data_date(p.start);
    if (p.value) {
      e["sampleCount"] = p.sample_count;
      e["value"] = *p.value;
    }
    evaluated.push_back(std::move(e));
  }
  data["evaluatedDatapoints"] = std::move(evaluated);
  d.reason_data = boost::json::serialize(data);

  const std::string op = operator_text(alarm.comparison_operator);
  const std::string thr = java_double(threshold);

  if (present.empty() && (treat == "missing" || treat == "ignore")) {
    if (treat == "ignore") return std::nullopt;
    d.state = std::string(kStateInsufficient);
    d.reason = "Insufficient Data: " + plural(n, "datapoint") + (n == 1 ? " was" : " were") + " unknown.";
    return d;
  }
  if (present.empty()) {
    // breaching / notBreaching with no data at all.
    bool as_breaching = treat == "breaching";
    d.state = std::string(as_breaching && n >= m ? kStateAlarm : kStateOk);
    d.reason = "Threshold Crossed: no datapoints were received for " + plural(n, "period") + " and " +
               plural(n, "missing datapoint") + (n == 1 ? " was" : " were") + " treated as [" +
               (as_breaching ? "Breaching" : "NonBreaching") + "].";
    return d;
  }

  size_t breach_count = breaching.size() + (treat == "breaching" ? missing : 0);
  bool alarm_state;
  if ((treat == "missing" || treat == "ignore") && present.size() < m)
    alarm_state = breaching.size() == present.size();
  else
    alarm_state = breach_count >= m;

  if (alarm_state) {
    d.state = std::string(kStateAlarm);
    if (m == n && breaching.size() == present.size()) {
      d.reason = "Threshold Crossed: " + plural(breaching.size(), "datapoint") + " [" + listed(breaching) + "] " +
                 (breaching.size() == 1 ? "was " : "were ") + op + " the threshold (" + thr + ").";
    } else {
      d.reason = "Threshold Crossed: " + std::to_string(breaching.size()) + " out of the last " +
                 plural(n, "datapoint") + " [" + listed(breaching) + "] " + (breaching.size() == 1 ? "was " : "were ") +
                 op + " the threshold (" + thr + ") (minimum " + plural(m, "datapoint") +
                 " for OK -> ALARM transition).";
    }
  } else {
    d.state = std::string(kStateOk);
    if (fine.size() == n) {
      d.reason = "Threshold Crossed: " + plural(fine.size(), "datapoint") + " [" + listed(fine) + "] " +
                 (fine.size() == 1 ? "was not " : "were not ") + op + " the threshold (" + thr + ").";
    } else {
      size_t needed = n - m + 1;  // non-breaching points that rule ALARM out
      d.reason = "Threshold Crossed: " + std::to_string(fine.size()) + " out of the last " + plural(n, "datapoint") +
                 " [" + listed(fine) + "] " + (fine.size() == 1 ? "was not " : "were not ") + op + " the threshold (" +
                 thr + ") (minimum " + plural(needed, "datapoint") + " for ALARM -> OK transition).";
    }
  }
  return d;
}

}  // namespace berth::cloudwatch
