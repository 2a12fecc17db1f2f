#include "cli/metric_publisher.h"

#if BERTH_HAVE_CLOUDWATCH && BERTH_HAVE_ELB && BERTH_HAVE_ECS && BERTH_HAVE_ECS_RUNTIME

#include <algorithm>

#include "core/log.h"

namespace berth::cli {

namespace {

constexpr const char* kElbNamespace = "AWS/ApplicationELB";
constexpr const char* kEcsNamespace = "AWS/ECS";

cloudwatch::Datum datum(const char* ns, std::string name, std::vector<cloudwatch::Dimension> dims, double value,
                        std::string unit, WallTime now) {
  cloudwatch::Datum d;
  d.namespace_name = ns;
  d.metric_name = std::move(name);
  d.dimensions = std::move(dims);
  d.timestamp = now;
  d.value = value;
  d.unit = std::move(unit);
  return d;
}

// TargetResponseTime over the round: exact count and sum; minimum and
// maximum from the histogram's bucket bounds (the data plane keeps no
// exact extremes).
std::optional<cloudwatch::StatisticSet> response_times(const elb::dp::TargetTotals& now,
                                                       const elb::dp::TargetTotals& before) {
  int64_t count = now.count - before.count;
  if (count <= 0) return std::nullopt;
  cloudwatch::StatisticSet s;
  s.sample_count = static_cast<double>(count);
  s.sum = static_cast<double>(now.sum_ns - before.sum_ns) / 1e9;
  const auto& bounds = elb::dp::kResponseTimeBuckets;
  std::optional<size_t> lowest, highest;
  for (size_t i = 0; i < now.buckets.size(); ++i)
    if (now.buckets[i] - before.buckets[i] > 0) {
      if (!lowest) lowest = i;
      highest = i;
    }
  double average = s.sum / s.sample_count;
  s.minimum = std::min(lowest && *lowest > 0 ? bounds[*lowest - 1] : 0.0, average);
  s.maximum = std::max(highest && *highest < bounds.size() ? bounds[*highest] : bounds.back(), average);
  return s;
}

const elb::dp::GroupTotals* find_group(const elb::dp::LbTotals& lb, const std::string& arn) {
  for (const auto& g : lb.groups)
    if (g.arn == arn) return &g;
  return nullptr;
}

}  // namespace

std::vector<cloudwatch::Datum> ElbMetricDeltas::datums(const std::vector<elb::dp::LbTotals>& totals, WallTime now) {
  std::vector<cloudwatch::Datum> out;
  for (const auto& lb : totals) {
    static const elb::dp::LbTotals kZero;
    auto before_it = previous_.find(lb.arn);
    const elb::dp::LbTotals& before = before_it == previous_.end() ? kZero : before_it->second;
    std::vector<cloudwatch::Dimension> lb_dims{{"LoadBalancer", std::string(elb::dp::load_balancer_dimension(lb.arn))}};
    // Counts: only when not zero, as AWS reports them.
    auto count = [&](const char* name, int64_t delta, const std::vector<cloudwatch::Dimension>& dims) {
      if (delta > 0) out.push_back(datum(kElbNamespace, name, dims, static_cast<double>(delta), "Count", now));
    };
    auto target_side = [&](const elb::dp::TargetTotals& t, const elb::dp::TargetTotals& b,
                           const std::vector<cloudwatch::Dimension>& dims) {
      count("RequestCount", t.requests - b.requests, dims);
      static constexpr const char* kTargetCodes[] = {"HTTPCode_Target_2XX_Count", "HTTPCode_Target_3XX_Count",
                                                     "HTTPCode_Target_4XX_Count", "HTTPCode_Target_5XX_Count"};
      for (size_t i = 0; i < t.codes.size(); ++i) count(kTargetCodes[i], t.codes[i] - b.codes[i], dims);
      if (auto s = response_times(t, b)) {
        cloudwatch::Datum d = datum(kElbNamespace, "TargetResponseTime", dims, 0, "Seconds", now);
        d.value.reset();
        d.statistics = *s;
        out.push_back(std::move(d));
      }
    };
    target_side(lb.all, before.all, lb_dims);
    static constexpr const char* kElbCodes[] = {"HTTPCode_ELB_3XX_Count", "HTTPCode_ELB_4XX_Count",
                                                "HTTPCode_ELB_5XX_Count"};
    for (size_t i = 0; i < lb.elb_codes.size(); ++i) count(kElbCodes[i], lb.elb_codes[i] - before.elb_codes[i], lb_dims);
    count("HTTP_Fixed_Response_Count", lb.fixed - before.fixed, lb_dims);
    count("HTTP_Redirect_Count", lb.redirects - before.redirects, lb_dims);
    count("NewConnectionCount", lb.new_connections - before.new_connections, lb_dims);
    count("ActiveConnectionCount", lb.active, lb_dims);

    for (const auto& g : lb.groups) {
      static const elb::dp::GroupTotals kNoGroup;
      const elb::dp::GroupTotals* gb = find_group(before, g.arn);
      if (!gb) gb = &kNoGroup;
      std::string tg(elb::dp::target_group_dimension(g.arn));
      std::vector<cloudwatch::Dimension> both{{"LoadBalancer", lb_dims[0].value}, {"TargetGroup", tg}};
      std::vector<cloudwatch::Dimension> group_only{{"TargetGroup", tg}};
      target_side(g.totals, gb->totals, both);
      // Gauges, every round.
      out.push_back(datum(kElbNamespace, "HealthyHostCount", both, static_cast<double>(g.healthy), "Count", now));
      out.push_back(datum(kElbNamespace, "UnHealthyHostCount", both, static_cast<double>(g.unhealthy), "Count", now));
      // RequestCountPerTarget: the group's requests over its healthy
      // targets (all of them when none is healthy), a Sum over a period.
      int64_t requests = g.totals.requests - gb->totals.requests;
      int64_t targets = g.healthy > 0 ? g.healthy : g.healthy + g.unhealthy;
      if (requests > 0 && targets > 0) {
        double per_target = static_cast<double>(requests) / static_cast<double>(targets);
        out.push_back(datum(kElbNamespace, "RequestCountPerTarget", group_only, per_target, "Count", now));
        out.push_back(datum(kElbNamespace, "RequestCountPerTarget", both, per_target, "Count", now));
      }
    }
    // Kept for one that leaves the snapshot too (a listener removed and
    // made again): its counters go on from where they were, not from 0.
    previous_[lb.arn] = lb;
  }
  return out;
}

std::vector<cloudwatch::Datum> EcsUtilization::datums(const std::vector<ecs::RunningTaskReservation>& tasks,
                                                      const std::vector<ecs::ClusterCapacity>& capacity,
                                                      const std::map<std::string, Sample>& usage, WallTime now) {
  struct Sums {
    double cpu_used = 0, cpu_reserved_measured = 0;  // CPU units, tasks with two samples
    double memory_used = 0, memory_reserved = 0;     // MiB, tasks with a sample
    double cpu_reserved = 0;                         // every running task (reservation)
  };
  std::map<std::pair<std::string, std::string>, Sums> by_service;
  std::map<std::string, Sums> by_cluster;
  for (const auto& t : tasks) {
    auto u = usage.find(t.task_id);
    // A cluster's figures are against its instances: FARGATE tasks are not on them.
    Sums* cluster = t.on_instance ? &by_cluster[t.cluster] : nullptr;
    if (cluster) cluster->cpu_reserved += static_cast<double>(t.cpu_units);
    if (u == usage.end()) continue;
    Sums* service = t.service.empty() ? nullptr : &by_service[{t.cluster, t.service}];
    double memory_mib = static_cast<double>(u->second.memory_bytes) / (1024.0 * 1024.0);
    for (Sums* s : {cluster, service}) {
      if (!s) continue;
      s->memory_used += memory_mib;
      s->memory_reserved += static_cast<double>(t.memory_mib);
    }
    auto before = previous_.find(t.task_id);
    if (before == previous_.end() || u->second.cpu_ns < before->second.cpu_ns) continue;
    double elapsed_ns =
        std::chrono::duration<double, std::nano>(u->second.at - before->second.at).count();
    if (elapsed_ns <= 0) continue;
    // 1,024 CPU units are one CPU busy all the time.
    double units = static_cast<double>(u->second.cpu_ns - before->second.cpu_ns) / elapsed_ns * 1024.0;
    for (Sums* s : {cluster, service}) {
      if (!s) continue;
      s->cpu_used += units;
      s->cpu_reserved_measured += static_cast<double>(t.cpu_units);
    }
  }
  previous_ = usage;

  std::vector<cloudwatch::Datum> out;
  auto percent = [&](const char* name, double used, double of, std::vector<cloudwatch::Dimension> dims) {
    if (of > 0) out.push_back(datum(kEcsNamespace, name, std::move(dims), 100.0 * used / of, "Percent", now));
  };
  for (const auto& [key, s] : by_service) {
    std::vector<cloudwatch::Dimension> dims{{"ClusterName", key.first}, {"ServiceName", key.second}};
    percent("CPUUtilization", s.cpu_used, s.cpu_reserved_measured, dims);
    percent("MemoryUtilization", s.memory_used, s.memory_reserved, dims);
  }
  // A cluster's figures are against what its instances registered (EC2).
  for (const auto& c : capacity) {
    const Sums& s = by_cluster[c.cluster];
    std::vector<cloudwatch::Dimension> dims{{"ClusterName", c.cluster}};
    percent("CPUUtilization", s.cpu_used, static_cast<double>(c.cpu_units), dims);
    percent("MemoryUtilization", s.memory_used, static_cast<double>(c.memory_mib), dims);
    percent("CPUReservation", s.cpu_reserved, static_cast<double>(c.cpu_units), dims);
    double memory_reserved = 0;
    for (const auto& t : tasks)
      if (t.cluster == c.cluster && t.on_instance) memory_reserved += static_cast<double>(t.memory_mib);
    percent("MemoryReservation", memory_reserved, static_cast<double>(c.memory_mib), dims);
  }
  return out;
}

MetricPublisher::MetricPublisher(Sources sources, std::shared_ptr<cloudwatch::CloudWatch> cloudwatch,
                                 const Clock& clock, std::chrono::milliseconds interval)
    : sources_(std::move(sources)),
      cloudwatch_(std::move(cloudwatch)),
      clock_(clock),
      interval_(interval),
      thread_([this](std::stop_token stop) { run(stop); }) {}

MetricPublisher::~MetricPublisher() { stop(); }

void MetricPublisher::stop() {
  thread_.request_stop();
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::chrono::milliseconds MetricPublisher::interval_for(double time_scale) {
  if (!(time_scale > 0)) time_scale = 1;
  auto ms = static_cast<int64_t>(10000.0 / time_scale);
  return std::chrono::milliseconds(std::clamp<int64_t>(ms, 250, 10000));
}

void MetricPublisher::run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, stop, interval_, [] { return false; });
    }
    if (stop.stop_requested()) return;
    try {
      publish_once();
    } catch (const std::exception& e) {  // a round that throws must not end the thread
      log::warn("metrics", "publishing: ", e.what());
    }
  }
}

void MetricPublisher::publish_once() {
  WallTime now = clock_.now();
  std::vector<cloudwatch::Datum> data;
  if (sources_.load_balancers) data = elb_.datums(sources_.load_balancers(), now);
  if (sources_.tasks && sources_.usage) {
    auto tasks = sources_.tasks();
    auto capacity = sources_.capacity ? sources_.capacity() : Result<std::vector<ecs::ClusterCapacity>>(
                                                                   std::vector<ecs::ClusterCapacity>());
    if (tasks && capacity) {
      std::map<std::string, EcsUtilization::Sample> usage;
      for (const auto& t : *tasks)
        if (auto u = sources_.usage(t.task_id))
          usage[t.task_id] = {u->cpu_ns, u->memory_bytes, std::chrono::steady_clock::now()};
      auto more = ecs_.datums(*tasks, *capacity, usage, now);
      data.insert(data.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
    } else {
      log::warn("metrics", "ECS utilization: ", tasks ? capacity.error().message : tasks.error().message);
    }
  }
  // PutMetricData takes up to 1,000 datums a call; so does the store here.
  for (size_t at = 0; at < data.size(); at += 1000) {
    std::span<const cloudwatch::Datum> part(data.data() + at, std::min<size_t>(1000, data.size() - at));
    if (auto s = cloudwatch_->put_metric_data(part); !s) log::warn("metrics", "publishing: ", s.error().message);
  }
}

}  // namespace berth::cli

#endif
