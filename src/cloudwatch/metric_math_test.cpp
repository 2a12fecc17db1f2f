// Metric math expressions of GetMetricData and metric-math alarms.
#include "cloudwatch/metric_math.h"
#include "core/testing/expect_ok.h"

#include <gtest/gtest.h>

namespace berth::cloudwatch {
namespace {

const std::map<std::string, TimeSeries> kSeries = {
    {"m1", {{0, 10}, {60000, 20}, {120000, 30}}},
    {"m2", {{0, 1}, {60000, 0}}},
};

TimeSeries series_of(std::string_view expression) {
  auto v = evaluate_expression(expression, kSeries);
  EXPECT_TRUE(v.ok()) << expression << ": " << v.error().message;
  if (!v.ok() || !std::holds_alternative<TimeSeries>(*v)) return {};
  return std::get<TimeSeries>(*v);
}

TEST(MetricMath, ArithmeticOnSeriesAndScalars) {
  EXPECT_EQ(series_of("m1 * 2 + 1"), (TimeSeries{{0, 21}, {60000, 41}, {120000, 61}}));
  EXPECT_EQ(series_of("(m1 - 4) / 2"), (TimeSeries{{0, 3}, {60000, 8}, {120000, 13}}));
  EXPECT_EQ(series_of("m1 + m2"), (TimeSeries{{0, 11}, {60000, 20}})) << "only timestamps both series have";
  EXPECT_EQ(series_of("m1 / m2"), (TimeSeries{{0, 10}})) << "division by zero drops the point";
  EXPECT_EQ(series_of("-m2"), (TimeSeries{{0, -1}, {60000, 0}}));
}

TEST(MetricMath, FunctionsOverSeveralSeriesGiveASeries) {
  EXPECT_EQ(series_of("SUM([m1, m2])"), (TimeSeries{{0, 11}, {60000, 20}, {120000, 30}}));
  EXPECT_EQ(series_of("MAX(METRICS())"), (TimeSeries{{0, 10}, {60000, 20}, {120000, 30}}));
  EXPECT_EQ(series_of("MIN([m1,m2])"), (TimeSeries{{0, 1}, {60000, 0}, {120000, 30}}));
}

TEST(MetricMath, FunctionsOverOneSeriesGiveAScalar) {
  auto avg = evaluate_expression("AVG(m1)", kSeries);
  ASSERT_OK(avg);
  ASSERT_TRUE(std::holds_alternative<double>(*avg));
  EXPECT_EQ(std::get<double>(*avg), 20);
  EXPECT_EQ(series_of("m1 - AVG(m1)"), (TimeSeries{{0, -10}, {60000, 0}, {120000, 10}}));
}

TEST(MetricMath, ErrorsNameTheProblem) {
  for (const char* bad : {"m3 + 1", "m1 +", "SUM(m1", "m1 ) ", "1..2"}) {
    auto v = evaluate_expression(bad, kSeries);
    ASSERT_FALSE(v.ok()) << bad << " was accepted";
    EXPECT_EQ(v.error().code, "ValidationError");
    EXPECT_NE(v.error().message.find(bad), std::string::npos) << v.error().message;
  }
}

}  // namespace
}  // namespace berth::cloudwatch
