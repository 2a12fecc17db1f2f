// cli/metric_publisher: the metrics AWS publishes on a user's behalf,
// written into CloudWatch every round:
//   AWS/ApplicationELB  the load balancer's counters (elb::dp::Metrics),
//                       as deltas since the last round; gauges as they are
//   AWS/ECS             CPUUtilization and MemoryUtilization per service and
//                       per cluster (CPUReservation and MemoryReservation per
//                       cluster), from the tasks' cgroups (runtime usage)
//                       against their reservations (ecs/utilization.h)
// AWS publishes ELB counts only when they are not zero; so does berth (an
// idle load balancer's RequestCount has no datapoints, and an alarm on it
// sees missing data). Sums over a period do not depend on how often a
// round runs, so rounds run several times a period: a sixth of a minute,
// divided by BERTH_TIME_SCALE as alarm periods are.
#pragma once

#if BERTH_HAVE_CLOUDWATCH && BERTH_HAVE_ELB && BERTH_HAVE_ECS && BERTH_HAVE_ECS_RUNTIME

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cloudwatch/cloudwatch.h"
#include "core/clock.h"
#include "ecs/utilization.h"
#include "elb/dataplane/metrics.h"
#include "runtime/runtime.h"

namespace berth::cli {

// Counters of the load balancers into AWS/ApplicationELB datums.
class ElbMetricDeltas {
 public:
  std::vector<cloudwatch::Datum> datums(const std::vector<elb::dp::LbTotals>& totals, WallTime now);

 private:
  std::map<std::string, elb::dp::LbTotals> previous_;  // by load balancer ARN
};

// Task usage into AWS/ECS datums.
class EcsUtilization {
 public:
  struct Sample {
    uint64_t cpu_ns = 0;
    uint64_t memory_bytes = 0;
    std::chrono::steady_clock::time_point at;
  };
  // `usage` of each running task now; a task's CPU counts from its second sample on.
  std::vector<cloudwatch::Datum> datums(const std::vector<ecs::RunningTaskReservation>& tasks,
                                        const std::vector<ecs::ClusterCapacity>& capacity,
                                        const std::map<std::string, Sample>& usage, WallTime now);

 private:
  std::map<std::string, Sample> previous_;  // by task id
};

class MetricPublisher {
 public:
  struct Sources {
    std::function<std::vector<elb::dp::LbTotals>()> load_balancers;
    std::function<Result<std::vector<ecs::RunningTaskReservation>>()> tasks;
    std::function<Result<std::vector<ecs::ClusterCapacity>>()> capacity;
    std::function<std::optional<runtime::TaskUsage>(const std::string& task_id)> usage;
  };
  MetricPublisher(Sources sources, std::shared_ptr<cloudwatch::CloudWatch> cloudwatch, const Clock& clock,
                  std::chrono::milliseconds interval);
  ~MetricPublisher();
  void stop();

  // The round length for a time scale (BERTH_TIME_SCALE).
  static std::chrono::milliseconds interval_for(double time_scale);

 private:
  void run(std::stop_token stop);
  void publish_once();

  Sources sources_;
  std::shared_ptr<cloudwatch::CloudWatch> cloudwatch_;
  const Clock& clock_;
  std::chrono::milliseconds interval_;
  ElbMetricDeltas elb_;
  EcsUtilization ecs_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::jthread thread_;  // last: starts after the members it uses
};

}  // namespace berth::cli

#endif
