// bench: the service scheduler's compute for one pass over a large cluster:
// SERVICES services of TASKS tasks each (half of them mid-rollout) on
// INSTANCES container instances: the pure reconciler for every service,
// and placement (filter-then-rank over every instance) of the tasks the
// plans start. No store, no runtime: what a pass costs beyond its I/O.
//
//   scheduler_bench [SERVICES=1000] [TASKS=10] [INSTANCES=100] [ROUNDS=20]
// Prints one JSON object (median and max of the rounds, in ms). The issue's
// target: under 50 ms at 1,000 x 10 on 100 instances.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "ecs/placement.h"
#include "ecs/scheduler/reconciler.h"

using namespace berth::ecs;
using namespace berth::ecs::scheduler;

namespace {

std::vector<ServiceView> make_services(int services, int tasks, std::mt19937& rng) {
  std::vector<ServiceView> out;
  for (int s = 0; s < services; ++s) {
    ServiceView v;
    v.desired = tasks;
    v.circuit_breaker = true;
    bool rolling = s % 2 == 0;
    v.deployments.push_back({"ecs-svc/" + std::to_string(2 * s + 2), rolling ? "IN_PROGRESS" : "COMPLETED", 0});
    if (rolling) v.deployments.push_back({"ecs-svc/" + std::to_string(2 * s + 1), "COMPLETED", 0});
    for (int t = 0; t < tasks; ++t) {
      TaskView task;
      task.id = std::to_string(s) + "-" + std::to_string(t);
      task.deployment_id = v.deployments.back().id;
      task.running = true;
      task.healthy = rng() % 10 != 0;
      v.tasks.push_back(task);
    }
    if (rolling) {
      for (int t = 0; t < tasks / 2; ++t) {
        TaskView task;
        task.id = std::to_string(s) + "-new-" + std::to_string(t);
        task.deployment_id = v.deployments.front().id;
        task.running = t % 2 == 0;
        task.healthy = t % 4 == 0;
        v.tasks.push_back(task);
      }
    }
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<Candidate> make_instances(int instances) {
  std::vector<Candidate> out;
  for (int i = 0; i < instances; ++i) {
    Candidate c;
    c.id = "ci-" + std::to_string(i);
    c.ec2_instance_id = "i-" + std::to_string(i);
    c.cpu_free = 4096;
    c.memory_free = 16000;
    c.eni_free = 3;
    c.attributes["ecs.availability-zone"] = std::string("us-east-1") + static_cast<char>('a' + i % 3);
    c.attributes["ecs.instance-type"] = "m5.xlarge";
    c.group_tasks = i % 3;
    out.push_back(std::move(c));
  }
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int services = argc > 1 ? std::atoi(argv[1]) : 1000;
  int tasks = argc > 2 ? std::atoi(argv[2]) : 10;
  int instances = argc > 3 ? std::atoi(argv[3]) : 100;
  int rounds = argc > 4 ? std::atoi(argv[4]) : 20;
  std::mt19937 rng(42);
  auto views = make_services(services, tasks, rng);
  auto candidates = make_instances(instances);
  Demand demand{256, 128, {}, false, {}};
  std::vector<Strategy> strategies{{"spread", "attribute:ecs.availability-zone"}, {"spread", "instanceId"}};
  std::vector<double> reconcile_ms, pass_ms;
  int64_t started = 0, stopped = 0;
  for (int r = 0; r < rounds; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    std::vector<Plan> plans;
    plans.reserve(views.size());
    for (const auto& v : views) plans.push_back(reconcile(v));
    auto t1 = std::chrono::steady_clock::now();
    started = stopped = 0;
    for (const auto& p : plans) {
      stopped += static_cast<int64_t>(p.stop.size());
      if (p.start == 0) continue;
      started += static_cast<int64_t>(place(candidates, demand, static_cast<int>(p.start), {}, strategies, rng).placed.size());
    }
    auto t2 = std::chrono::steady_clock::now();
    reconcile_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    pass_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t0).count());
  }
  std::printf(
      "{\"services\": %d, \"tasks_per_service\": %d, \"instances\": %d, \"rounds\": %d, "
      "\"reconcile_ms\": {\"median\": %.2f, \"max\": %.2f}, "
      "\"reconcile_and_place_ms\": {\"median\": %.2f, \"max\": %.2f}, "
      "\"tasks_placed_per_pass\": %lld, \"tasks_stopped_per_pass\": %lld, \"target_ms\": 50}\n",
      services, tasks, instances, rounds, median(reconcile_ms), *std::max_element(reconcile_ms.begin(), reconcile_ms.end()),
      median(pass_ms), *std::max_element(pass_ms.begin(), pass_ms.end()), static_cast<long long>(started),
      static_cast<long long>(stopped));
  return 0;
}
