// The datums berth publishes for AWS/ApplicationELB and AWS/ECS, from the
// counters and samples the daemon reads (plain values here).
#include "cli/metric_publisher.h"

#include <gtest/gtest.h>

namespace berth::cli {
namespace {

using cloudwatch::Datum;

const char* kLb = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188";
const char* kTg = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-tg/73e2d6bc24d8a067";

// The value of the one datum with that name and those dimensions' values; nullopt when none.
std::optional<double> find(const std::vector<Datum>& data, const std::string& name,
                           const std::vector<std::string>& dims) {
  std::optional<double> found;
  for (const auto& d : data) {
    if (d.metric_name != name || d.dimensions.size() != dims.size()) continue;
    bool same = true;
    for (size_t i = 0; i < dims.size(); ++i) same = same && d.dimensions[i].value == dims[i];
    if (!same) continue;
    EXPECT_FALSE(found.has_value()) << "two datums " << name;
    found = d.value ? *d.value : d.statistics->sum;
  }
  return found;
}

elb::dp::LbTotals totals(int64_t requests, int64_t healthy) {
  elb::dp::LbTotals lb;
  lb.arn = kLb;
  lb.all.requests = requests;
  lb.all.codes[0] = requests;  // all 2XX
  auto& g = lb.group(kTg);
  g.totals.requests = requests;
  g.totals.codes[0] = requests;
  g.totals.count = requests;
  g.totals.sum_ns = requests * 20'000'000;  // 20 ms each
  g.totals.buckets[4] = requests;            // (0.01 s, 0.025 s]
  g.healthy = healthy;
  return lb;
}

TEST(MetricPublisher, LoadBalancerCountsAreDeltasAndOnlyWhenNotZero) {
  ElbMetricDeltas deltas;
  WallTime now = WallTime(std::chrono::seconds(1'700'000'000));
  const std::string lb = "app/web/50dc6c495c0c9188", tg = "targetgroup/web-tg/73e2d6bc24d8a067";

  auto first = deltas.datums({totals(10, 2)}, now);
  EXPECT_EQ(find(first, "RequestCount", {lb}), 10);
  EXPECT_EQ(find(first, "RequestCount", {lb, tg}), 10);
  EXPECT_EQ(find(first, "HTTPCode_Target_2XX_Count", {lb}), 10);
  EXPECT_EQ(find(first, "RequestCountPerTarget", {tg}), 5) << "requests over healthy targets";
  EXPECT_EQ(find(first, "RequestCountPerTarget", {lb, tg}), 5);
  EXPECT_EQ(find(first, "HealthyHostCount", {lb, tg}), 2);
  EXPECT_EQ(find(first, "UnHealthyHostCount", {lb, tg}), 0);
  for (const auto& d : first) EXPECT_EQ(d.namespace_name, "AWS/ApplicationELB");
  ASSERT_TRUE(find(first, "TargetResponseTime", {lb, tg}).has_value());
  for (const auto& d : first)
    if (d.metric_name == "TargetResponseTime") {
      ASSERT_TRUE(d.statistics.has_value());
      EXPECT_EQ(d.statistics->sample_count, 10);
      EXPECT_NEAR(d.statistics->sum, 0.2, 1e-9) << "exact sum: 10 x 20 ms";
      EXPECT_LE(d.statistics->minimum, 0.02);
      EXPECT_GE(d.statistics->maximum, 0.02);
      EXPECT_EQ(d.unit, "Seconds");
    }

  auto idle = deltas.datums({totals(10, 2)}, now);
  EXPECT_FALSE(find(idle, "RequestCount", {lb}).has_value()) << "AWS reports counts only when not zero";
  EXPECT_FALSE(find(idle, "RequestCountPerTarget", {tg}).has_value());
  EXPECT_EQ(find(idle, "HealthyHostCount", {lb, tg}), 2) << "gauges every round";

  auto more = deltas.datums({totals(14, 1)}, now);
  EXPECT_EQ(find(more, "RequestCount", {lb}), 4);
  EXPECT_EQ(find(more, "RequestCountPerTarget", {tg}), 4);
}

TEST(MetricPublisher, EcsUtilizationIsUseOverReservationAsAwsDefinesIt) {
  EcsUtilization utilization;
  WallTime now = WallTime(std::chrono::seconds(1'700'000'000));
  std::vector<ecs::RunningTaskReservation> tasks = {{"t1", "prod", "web", 256, 128},
                                                    {"t2", "prod", "web", 256, 128},
                                                    {"t3", "prod", "", 512, 512},  // not a service's
                                                    {"f1", "prod", "web", 1024, 2048, false}};  // FARGATE
  std::vector<ecs::ClusterCapacity> capacity = {{"prod", 2048, 4096}};
  auto t0 = std::chrono::steady_clock::now();
  std::map<std::string, EcsUtilization::Sample> first = {
      {"t1", {0, 64u << 20, t0}}, {"t2", {0, 64u << 20, t0}}, {"t3", {0, 0, t0}}};
  auto before = utilization.datums(tasks, capacity, first, now);
  EXPECT_FALSE(find(before, "CPUUtilization", {"prod", "web"}).has_value()) << "CPU needs two samples";
  EXPECT_EQ(find(before, "MemoryUtilization", {"prod", "web"}), 50)
      << "128 MiB used of 256 reserved (the FARGATE task has no sample yet)";

  // One second later: t1 and t2 used 0.125 s of CPU each (128 units), t3 none.
  auto t1 = t0 + std::chrono::seconds(1);
  std::map<std::string, EcsUtilization::Sample> second = {{"t1", {125'000'000, 64u << 20, t1}},
                                                          {"t2", {125'000'000, 64u << 20, t1}},
                                                          {"t3", {0, 0, t1}}};
  auto after = utilization.datums(tasks, capacity, second, now);
  EXPECT_NEAR(*find(after, "CPUUtilization", {"prod", "web"}), 50, 1e-9) << "256 units used of 512 reserved";
  EXPECT_NEAR(*find(after, "CPUUtilization", {"prod"}), 12.5, 1e-9) << "256 of the 2048 registered";
  EXPECT_NEAR(*find(after, "CPUReservation", {"prod"}), 50, 1e-9)
      << "1024 of 2048 reserved; the FARGATE task is not on the cluster's instances";
  EXPECT_NEAR(*find(after, "MemoryReservation", {"prod"}), 18.75, 1e-9) << "768 of 4096 MiB";
  EXPECT_NEAR(*find(after, "MemoryUtilization", {"prod"}), 3.125, 1e-9) << "128 of 4096 MiB";
  for (const auto& d : after) {
    EXPECT_EQ(d.namespace_name, "AWS/ECS");
    EXPECT_EQ(d.unit, "Percent");
  }
}

TEST(MetricPublisher, RoundsRunSeveralTimesAScaledMinute) {
  EXPECT_EQ(MetricPublisher::interval_for(1), std::chrono::seconds(10));
  EXPECT_EQ(MetricPublisher::interval_for(20), std::chrono::milliseconds(500));
  EXPECT_EQ(MetricPublisher::interval_for(1000), std::chrono::milliseconds(250));
  EXPECT_EQ(MetricPublisher::interval_for(0), std::chrono::seconds(10));
}

}  // namespace
}  // namespace berth::cli
