// MetricStore: statistics, percentiles, units, persistence and retention.
#include "cloudwatch/metric_store.h"
#include "core/testing/expect_ok.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace berth::cloudwatch {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const WallTime kStart = WallTime(seconds(1'764'892'800));  // 2025-12-05T00:00:00Z, a whole minute

Datum datum(WallTime t, double v, std::string unit = "") {
  Datum d;
  d.namespace_name = "App";
  d.metric_name = "Latency";
  d.dimensions = {{"Service", "web"}, {"Az", "a"}};
  d.timestamp = t;
  d.value = v;
  d.unit = std::move(unit);
  return d;
}

MetricKey key() { return {"App", "Latency", {{"Az", "a"}, {"Service", "web"}}}; }

TEST(MetricStore, BucketsCarryEveryStatistic) {
  ManualClock clock(kStart + minutes(10));
  auto store = MetricStore::open(":memory:", clock);
  ASSERT_TRUE(store.ok()) << store.error().message;
  for (int i = 1; i <= 100; ++i) (*store)->put(datum(kStart + seconds(i % 60), i));
  Datum set = datum(kStart + minutes(1), 0);
  set.value.reset();
  set.statistics = StatisticSet{4, 40, 5, 15};
  (*store)->put(set);

  auto buckets = (*store)->buckets(key(), kStart, kStart + minutes(2), 60'000, "");
  ASSERT_EQ(buckets.size(), 2u);
  const Bucket& first = buckets[0];
  EXPECT_EQ(*statistic_of(first, "SampleCount"), 100);
  EXPECT_EQ(*statistic_of(first, "Sum"), 5050);
  EXPECT_EQ(*statistic_of(first, "Average"), 50.5);
  EXPECT_EQ(*statistic_of(first, "Minimum"), 1);
  EXPECT_EQ(*statistic_of(first, "Maximum"), 100);
  EXPECT_EQ(*statistic_of(first, "p90"), 90) << "nearest rank over the raw values";
  EXPECT_EQ(*statistic_of(first, "p99.5"), 100);
  EXPECT_EQ(first.unit, "None");
  EXPECT_EQ(*statistic_of(buckets[1], "Average"), 10) << "a StatisticSet counts as its SampleCount samples";
  EXPECT_FALSE(statistic_of(buckets[1], "p50").has_value()) << "no percentile without raw values";
}

TEST(MetricStore, ValuesWithCountsWeighPercentiles) {
  ManualClock clock(kStart + minutes(10));
  auto store = MetricStore::open(":memory:", clock);
  ASSERT_OK(store);
  Datum d = datum(kStart, 0);
  d.value.reset();
  d.values = {1, 1000};
  d.counts = {99, 1};
  (*store)->put(d);
  auto b = (*store)->buckets(key(), kStart, kStart + minutes(1), 60'000, "");
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(*statistic_of(b[0], "SampleCount"), 100);
  EXPECT_EQ(*statistic_of(b[0], "p99"), 1);
  EXPECT_EQ(*statistic_of(b[0], "p100"), 1000);
}

TEST(MetricStore, UnitFilterAndDimensionsIdentifyTheMetric) {
  ManualClock clock(kStart + minutes(10));
  auto store = MetricStore::open(":memory:", clock);
  ASSERT_OK(store);
  (*store)->put(datum(kStart, 1, "Milliseconds"));
  (*store)->put(datum(kStart, 1000, "Seconds"));
  EXPECT_EQ((*store)->buckets(key(), kStart, kStart + minutes(1), 60'000, "Seconds")[0].sum, 1000);
  EXPECT_EQ((*store)->buckets(key(), kStart, kStart + minutes(1), 60'000, "Milliseconds")[0].sum, 1);
  EXPECT_TRUE((*store)->buckets(key(), kStart, kStart + minutes(1), 60'000, "Bytes").empty());
  MetricKey other = key();
  other.dimensions.pop_back();
  EXPECT_TRUE((*store)->buckets(other, kStart, kStart + minutes(1), 60'000, "").empty())
      << "a metric is its full set of dimensions";
}

TEST(MetricStore, SurvivesReopenAndFoldsOldSamplesIntoMinutes) {
  auto path = std::filesystem::temp_directory_path() / ("cw-metrics-" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(path);
  ManualClock clock(kStart + minutes(10));
  {
    auto store = MetricStore::open(path.string(), clock);
    ASSERT_TRUE(store.ok()) << store.error().message;
    for (int i = 0; i < 10; ++i) (*store)->put(datum(kStart + seconds(i), i));
    ASSERT_OK((*store)->flush());
  }
  {
    auto store = MetricStore::open(path.string(), clock);
    ASSERT_OK(store);
    auto b = (*store)->buckets(key(), kStart, kStart + minutes(1), 1'000, "");
    ASSERT_EQ(b.size(), 10u) << "1-second buckets come back after a restart";
    EXPECT_EQ(*statistic_of(b[3], "Maximum"), 3);
    clock.advance(hours(4));
    ASSERT_OK((*store)->prune());
    auto folded = (*store)->buckets(key(), kStart, kStart + minutes(1), 60'000, "");
    ASSERT_EQ(folded.size(), 1u);
    EXPECT_EQ(*statistic_of(folded[0], "Sum"), 45) << "older than 3 hours: one minute keeps its sums";
    EXPECT_EQ(*statistic_of(folded[0], "SampleCount"), 10);
    EXPECT_FALSE(statistic_of(folded[0], "p50").has_value()) << "raw values are dropped after 3 hours";
  }
  {
    auto store = MetricStore::open(path.string(), clock);
    ASSERT_OK(store);
    auto folded = (*store)->buckets(key(), kStart, kStart + minutes(1), 60'000, "");
    ASSERT_EQ(folded.size(), 1u) << "the fold was written to SQLite too";
    EXPECT_EQ(folded[0].count, 10);
    clock.advance(hours(24 * 16));
    ASSERT_OK((*store)->prune());
    EXPECT_TRUE((*store)->buckets(key(), kStart, kStart + minutes(1), 60'000, "").empty())
        << "minutes older than 15 days are removed";
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace berth::cloudwatch
