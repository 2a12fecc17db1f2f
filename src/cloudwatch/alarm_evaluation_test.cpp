// evaluate_alarm: M out of N, every TreatMissingData, AWS's reason texts.
#include "cloudwatch/alarm_evaluation.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace berth::cloudwatch {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

// 2026-12-04T23:10:00Z
const WallTime kLast = WallTime(seconds(1'796'425'800));

AlarmDefinition alarm(int n, std::optional<int> m = std::nullopt, std::string treat = "") {
  AlarmDefinition a;
  a.name = "cpu-high";
  a.namespace_name = "App";
  a.metric_name = "CPU";
  a.statistic = "Average";
  a.period = 60;
  a.evaluation_periods = n;
  a.datapoints_to_alarm = m;
  a.threshold = 70;
  a.comparison_operator = "GreaterThanThreshold";
  a.treat_missing_data = std::move(treat);
  return a;
}

// newest first; nullopt = missing
std::vector<PeriodValue> periods(std::initializer_list<std::optional<double>> values) {
  std::vector<PeriodValue> out;
  int i = 0;
  for (auto v : values) out.push_back({kLast - minutes(i++), v, v ? 1.0 : 0.0});
  return out;
}

std::string state_of(const AlarmDefinition& a, std::initializer_list<std::optional<double>> values) {
  auto d = evaluate_alarm(a, periods(values), "Average", kLast + seconds(70));
  return d ? d->state : "(kept)";
}

TEST(AlarmEvaluation, AllBreachingGivesAlarmWithAwsReason) {
  auto d = evaluate_alarm(alarm(3), periods({85.2, 90.1, 88}), "Average", kLast + seconds(70));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->state, "ALARM");
  EXPECT_EQ(d->reason,
            "Threshold Crossed: 3 datapoints [85.2 (04/12/26 23:10:00), 90.1 (04/12/26 23:09:00), 88.0 (04/12/26 "
            "23:08:00)] were greater than the threshold (70.0).");
  EXPECT_EQ(d->datapoints, (std::vector<double>{85.2, 90.1, 88}));
  auto data = boost::json::parse(d->reason_data).as_object();
  EXPECT_EQ(data.at("version").as_string(), "1.0");
  EXPECT_EQ(data.at("statistic").as_string(), "Average");
  EXPECT_EQ(data.at("period").as_int64(), 60);
  EXPECT_EQ(data.at("threshold").as_double(), 70.0);
  EXPECT_EQ(data.at("startDate").as_string(), "2026-12-04T23:08:00.000+0000");
  EXPECT_EQ(data.at("recentDatapoints").as_array().size(), 3u);
  EXPECT_EQ(data.at("evaluatedDatapoints").as_array().size(), 3u);
}

TEST(AlarmEvaluation, OkReasonNamesTheDatapoints) {
  auto d = evaluate_alarm(alarm(1), periods({10}), "Average", kLast + seconds(70));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->state, "OK");
  EXPECT_EQ(d->reason,
            "Threshold Crossed: 1 datapoint [10.0 (04/12/26 23:10:00)] was not greater than the threshold (70.0).");
}

TEST(AlarmEvaluation, MOutOfN) {
  auto a = alarm(3, 2);
  EXPECT_EQ(state_of(a, {80, 10, 80}), "ALARM");
  EXPECT_EQ(state_of(a, {80, 10, 10}), "OK");
  auto d = evaluate_alarm(a, periods({80, 10, 75}), "Average", kLast);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->reason,
            "Threshold Crossed: 2 out of the last 3 datapoints [80.0 (04/12/26 23:10:00), 75.0 (04/12/26 23:08:00)] "
            "were greater than the threshold (70.0) (minimum 2 datapoints for OK -> ALARM transition).");
}

TEST(AlarmEvaluation, TreatMissingDataMissing) {
  auto a = alarm(3, std::nullopt, "missing");
  EXPECT_EQ(state_of(a, {std::nullopt, std::nullopt, std::nullopt}), "INSUFFICIENT_DATA");
  EXPECT_EQ(state_of(a, {80, std::nullopt, std::nullopt}), "ALARM") << "fewer points than M: all of them breach";
  EXPECT_EQ(state_of(a, {80, 10, std::nullopt}), "OK");
  auto d = evaluate_alarm(a, periods({std::nullopt, std::nullopt, std::nullopt}), "Average", kLast);
  EXPECT_EQ(d->reason, "Insufficient Data: 3 datapoints were unknown.");
  EXPECT_EQ(state_of(alarm(3), {std::nullopt, std::nullopt, std::nullopt}), "INSUFFICIENT_DATA")
      << "missing is the default";
}

TEST(AlarmEvaluation, TreatMissingDataIgnoreKeepsTheState) {
  auto a = alarm(3, std::nullopt, "ignore");
  EXPECT_EQ(state_of(a, {std::nullopt, std::nullopt, std::nullopt}), "(kept)");
  EXPECT_EQ(state_of(a, {std::nullopt, 80, std::nullopt}), "ALARM");
  EXPECT_EQ(state_of(a, {std::nullopt, 10, std::nullopt}), "OK");
}

TEST(AlarmEvaluation, TreatMissingDataBreaching) {
  auto a = alarm(3, std::nullopt, "breaching");
  EXPECT_EQ(state_of(a, {std::nullopt, std::nullopt, std::nullopt}), "ALARM");
  EXPECT_EQ(state_of(a, {80, std::nullopt, 75}), "ALARM");
  EXPECT_EQ(state_of(a, {10, std::nullopt, std::nullopt}), "OK");
  auto d = evaluate_alarm(a, periods({std::nullopt, std::nullopt, std::nullopt}), "Average", kLast);
  EXPECT_EQ(d->reason,
            "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as "
            "[Breaching].");
}

TEST(AlarmEvaluation, TreatMissingDataNotBreaching) {
  auto a = alarm(3, std::nullopt, "notBreaching");
  EXPECT_EQ(state_of(a, {std::nullopt, std::nullopt, std::nullopt}), "OK");
  EXPECT_EQ(state_of(a, {80, 80, std::nullopt}), "OK") << "a missing point counts as fine";
  EXPECT_EQ(state_of(a, {80, 80, 80}), "ALARM");
  auto d = evaluate_alarm(a, periods({std::nullopt, std::nullopt, std::nullopt}), "Average", kLast);
  EXPECT_EQ(d->reason,
            "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as "
            "[NonBreaching].");
}

TEST(AlarmEvaluation, ComparisonOperators) {
  EXPECT_TRUE(breaches(70, 70, "GreaterThanOrEqualToThreshold"));
  EXPECT_FALSE(breaches(70, 70, "GreaterThanThreshold"));
  EXPECT_TRUE(breaches(69, 70, "LessThanThreshold"));
  EXPECT_TRUE(breaches(70, 70, "LessThanOrEqualToThreshold"));
  EXPECT_FALSE(breaches(71, 70, "LessThanOrEqualToThreshold"));
}

TEST(AlarmEvaluation, AwsNumberAndDateSpellings) {
  EXPECT_EQ(java_double(70), "70.0");
  EXPECT_EQ(java_double(85.25), "85.25");
  EXPECT_EQ(java_double(-3), "-3.0");
  EXPECT_EQ(reason_date(kLast), "04/12/26 23:10:00");
  EXPECT_EQ(reason_data_date(kLast + std::chrono::milliseconds(5)), "2026-12-04T23:10:00.005+0000");
}

}  // namespace
}  // namespace berth::cloudwatch
