// The reconciler's rules, as examples and as properties over generated
// states (STYLE.md: nomad's reconcile_cluster_prop_test.go). The
// simulation below plays the world: started tasks run and turn healthy a
// few steps later, some fail, stops take a step, and a "crash" drops part
// of a plan before it is applied.
#include "ecs/scheduler/reconciler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <sstream>

namespace berth::ecs::scheduler {
namespace {

TaskView task(std::string id, std::string deployment, bool healthy) {
  TaskView t;
  t.id = std::move(id);
  t.deployment_id = std::move(deployment);
  t.running = healthy;
  t.healthy = healthy;
  return t;
}

ServiceView service(int64_t desired, int64_t min, int64_t max) {
  ServiceView s;
  s.desired = desired;
  s.minimum_healthy_percent = min;
  s.maximum_percent = max;
  s.deployments.push_back({"ecs-svc/2", "IN_PROGRESS", 0});
  return s;
}

TEST(Reconciler, RoundingFollowsAws) {
  EXPECT_EQ(maximum_tasks(3, 200), 6);
  EXPECT_EQ(maximum_tasks(3, 150), 4);  // floor(4.5)
  EXPECT_EQ(minimum_healthy_tasks(3, 50), 2);  // ceil(1.5)
  EXPECT_EQ(minimum_healthy_tasks(3, 100), 3);
  EXPECT_EQ(circuit_breaker_threshold(1), 3);
  EXPECT_EQ(circuit_breaker_threshold(25), 13);
  EXPECT_EQ(circuit_breaker_threshold(1000), 200);
}

TEST(Reconciler, NewServiceStartsTheDesiredCount) {
  Plan p = reconcile(service(3, 100, 200));
  EXPECT_EQ(p.start, 3);
  EXPECT_TRUE(p.stop.empty());
  EXPECT_FALSE(p.steady);
}

TEST(Reconciler, RollingUpdateStartsNewBeforeStoppingOldWithin200Percent) {
  ServiceView s = service(3, 100, 200);
  s.deployments.push_back({"ecs-svc/1", "COMPLETED", 0});
  for (int i = 0; i < 3; ++i) s.tasks.push_back(task("old" + std::to_string(i), "ecs-svc/1", true));
  Plan p = reconcile(s);
  EXPECT_EQ(p.start, 3);
  EXPECT_TRUE(p.stop.empty()) << "no old task may stop before new ones are healthy";

  // New tasks placed, one healthy: one old task may go.
  s.tasks.push_back(task("new0", "ecs-svc/2", true));
  s.tasks.push_back(task("new1", "ecs-svc/2", false));
  s.tasks.push_back(task("new2", "ecs-svc/2", false));
  p = reconcile(s);
  EXPECT_EQ(p.start, 0);
  ASSERT_EQ(p.stop.size(), 1u);
  EXPECT_EQ(p.stop[0].task_id.substr(0, 3), "old");
}

TEST(Reconciler, MinimumZeroMaximum100StopsOldFirst) {
  ServiceView s = service(2, 0, 100);
  s.deployments.push_back({"ecs-svc/1", "COMPLETED", 0});
  s.tasks = {task("a", "ecs-svc/1", true), task("b", "ecs-svc/1", true)};
  Plan p = reconcile(s);
  EXPECT_EQ(p.start, 0);
  EXPECT_EQ(p.stop.size(), 2u);
}

TEST(Reconciler, NeitherStartNorStopPossibleIsStuck) {
  ServiceView s = service(2, 100, 100);
  s.deployments.push_back({"ecs-svc/1", "COMPLETED", 0});
  s.tasks = {task("a", "ecs-svc/1", true), task("b", "ecs-svc/1", true)};
  Plan p = reconcile(s);
  EXPECT_EQ(p.start, 0);
  EXPECT_TRUE(p.stop.empty());
  EXPECT_TRUE(p.stuck);
}

TEST(Reconciler, UnhealthyTasksAreReplaced) {
  ServiceView s = service(2, 100, 200);
  s.deployments[0].rollout_state = "COMPLETED";
  s.tasks = {task("a", "ecs-svc/2", true), task("b", "ecs-svc/2", false)};
  s.tasks[1].running = true;
  s.tasks[1].unhealthy = StopCause::kElbUnhealthy;
  Plan p = reconcile(s);
  ASSERT_EQ(p.stop.size(), 1u);
  EXPECT_EQ(p.stop[0], (Stop{"b", StopCause::kElbUnhealthy}));
  EXPECT_EQ(p.start, 1);
}

TEST(Reconciler, CompletionWaitsForOldTasksToBeGone) {
  ServiceView s = service(1, 100, 200);
  s.deployments.push_back({"ecs-svc/1", "COMPLETED", 0});
  s.tasks = {task("new", "ecs-svc/2", true), task("old", "ecs-svc/1", true)};
  s.tasks[1].stopping = true;
  Plan p = reconcile(s);
  EXPECT_FALSE(p.primary_completed);
  s.tasks.pop_back();
  p = reconcile(s);
  EXPECT_TRUE(p.primary_completed);
  EXPECT_TRUE(p.steady);
  EXPECT_EQ(p.finished_deployments, std::vector<std::string>{"ecs-svc/1"});
}

TEST(Reconciler, CircuitBreakerStopsLaunchesAndKeepsOldTasks) {
  ServiceView s = service(2, 100, 200);
  s.circuit_breaker = true;
  s.deployments[0].failed_tasks = 3;
  s.deployments.push_back({"ecs-svc/1", "COMPLETED", 0});
  s.tasks = {task("a", "ecs-svc/1", true), task("b", "ecs-svc/1", false)};
  Plan p = reconcile(s);
  EXPECT_TRUE(p.circuit_breaker_tripped);
  EXPECT_EQ(p.start, 0);
  EXPECT_TRUE(p.stop.empty());
  s.circuit_breaker = false;  // off: failures do not stop the rollout
  p = reconcile(s);
  EXPECT_FALSE(p.circuit_breaker_tripped);
  EXPECT_EQ(p.start, 2);
}

TEST(Reconciler, DeletedServiceStopsEverythingAndStartsNothing) {
  ServiceView s = service(3, 100, 200);
  s.active = false;
  s.tasks = {task("a", "ecs-svc/2", true), task("b", "ecs-svc/2", false)};
  s.tasks[1].stopping = true;
  Plan p = reconcile(s);
  EXPECT_EQ(p.start, 0);
  EXPECT_EQ(p.stop, (std::vector<Stop>{{"a", StopCause::kServiceDeleted}}));
}

DaemonTaskView on(std::string id, std::string deployment, std::string instance, bool healthy) {
  DaemonTaskView t;
  static_cast<TaskView&>(t) = task(std::move(id), std::move(deployment), healthy);
  t.instance_id = std::move(instance);
  return t;
}

TEST(DaemonReconciler, OneTaskPerEligibleInstance) {
  DaemonView s;
  s.deployments.push_back({"ecs-svc/1", "IN_PROGRESS", 0});
  s.eligible = {"a", "b", "c"};
  s.tasks = {on("t1", "ecs-svc/1", "a", true), on("t2", "ecs-svc/1", "a", true), on("t3", "ecs-svc/1", "gone", true)};
  DaemonPlan p = reconcile_daemon(s);
  EXPECT_EQ(p.desired, 3);
  EXPECT_EQ(p.start_on, (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(p.stop, (std::vector<Stop>{{"t3", StopCause::kScaleIn}, {"t2", StopCause::kScaleIn}}));
  EXPECT_FALSE(p.steady);
}

TEST(DaemonReconciler, NewRevisionReplacesInPlaceWithinTheMinimum) {
  DaemonView s;
  s.minimum_healthy_percent = 50;  // of 4: 2 must stay healthy
  s.deployments = {{"ecs-svc/2", "IN_PROGRESS", 0}, {"ecs-svc/1", "COMPLETED", 0}};
  s.eligible = {"a", "b", "c", "d"};
  for (const char* i : {"a", "b", "c", "d"}) s.tasks.push_back(on(std::string("old-") + i, "ecs-svc/1", i, true));
  DaemonPlan p = reconcile_daemon(s);
  EXPECT_TRUE(p.start_on.empty()) << "maximum 100 %: no instance gets a second task";
  ASSERT_EQ(p.stop.size(), 2u);
  // Stopped ones end; their instances get the new revision.
  s.tasks.erase(s.tasks.begin(), s.tasks.begin() + 2);
  p = reconcile_daemon(s);
  EXPECT_EQ(p.start_on, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(p.stop.empty()) << "the new tasks are not healthy yet";
  s.tasks.push_back(on("new-a", "ecs-svc/2", "a", true));
  s.tasks.push_back(on("new-b", "ecs-svc/2", "b", true));
  p = reconcile_daemon(s);
  EXPECT_EQ(p.stop.size(), 2u);
  s.tasks = {on("new-a", "ecs-svc/2", "a", true), on("new-b", "ecs-svc/2", "b", true),
             on("new-c", "ecs-svc/2", "c", true), on("new-d", "ecs-svc/2", "d", true)};
  p = reconcile_daemon(s);
  EXPECT_TRUE(p.primary_completed);
  EXPECT_TRUE(p.steady);
  EXPECT_EQ(p.finished_deployments, std::vector<std::string>{"ecs-svc/1"});
}

// The world the properties run in.
struct SimTask {
  TaskView view;
  int age = 0;  // steps since start
  bool doomed = false;
};

struct World {
  ServiceView service;
  std::vector<SimTask> tasks;
  int next_id = 0;
  std::mt19937 rng;

  ServiceView view() const {
    ServiceView s = service;
    s.tasks.clear();
    for (const auto& t : tasks) s.tasks.push_back(t.view);
    return s;
  }
  int64_t healthy() const {
    int64_t n = 0;
    for (const auto& t : tasks) n += (t.view.healthy && !t.view.stopping) ? 1 : 0;
    return n;
  }
  // Applies a plan, or only a random prefix of it when `crash`.
  void apply(const Plan& plan, bool crash) {
    size_t actions = plan.stop.size() + static_cast<size_t>(plan.start);
    size_t allowed = crash ? std::uniform_int_distribution<size_t>(0, actions)(rng) : actions;
    for (const auto& s : plan.stop) {
      if (allowed == 0) return;
      --allowed;
      for (auto& t : tasks)
        if (t.view.id == s.task_id) t.view.stopping = true, t.view.healthy = false;
    }
    for (int64_t i = 0; i < plan.start && allowed > 0; ++i, --allowed) {
      SimTask t;
      t.view.id = "t" + std::to_string(next_id++);
      t.view.deployment_id = service.deployments.front().id;
      tasks.push_back(t);
    }
    for (const auto& id : plan.finished_deployments)
      std::erase_if(service.deployments, [&](const DeploymentView& d) { return d.id == id; });
    if (plan.primary_completed) service.deployments.front().rollout_state = "COMPLETED";
  }
  // One step of time: stopping tasks end, started ones run and turn healthy.
  void tick(double failure_rate) {
    std::erase_if(tasks, [](const SimTask& t) { return t.view.stopping; });
    std::bernoulli_distribution fails(failure_rate);
    for (auto& t : tasks) {
      ++t.age;
      if (t.age == 1) t.doomed = fails(rng);
      if (t.age >= 1) t.view.running = true;
      if (t.age >= 2 && !t.view.must_replace()) {
        if (t.doomed) t.view.unhealthy = StopCause::kElbUnhealthy, t.view.healthy = false;
        else t.view.healthy = true;
      }
    }
  }
};

// A service in any state: several deployments, tasks of each in any
// phase, any deployment configuration AWS accepts.
World generate(uint32_t seed) {
  World w;
  w.rng.seed(seed);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(w.rng); };
  w.service.desired = pick(0, 12);
  w.service.minimum_healthy_percent = std::vector<int64_t>{0, 50, 100}[pick(0, 2)];
  w.service.maximum_percent = std::vector<int64_t>{100, 150, 200}[pick(0, 2)];
  int deployments = pick(1, 3);
  for (int d = deployments; d >= 1; --d)
    w.service.deployments.push_back({"ecs-svc/" + std::to_string(d), d == deployments ? "IN_PROGRESS" : "COMPLETED", 0});
  int n = pick(0, 14);
  for (int i = 0; i < n; ++i) {
    SimTask t;
    t.view.id = "g" + std::to_string(i);
    t.view.deployment_id = w.service.deployments[pick(0, deployments - 1)].id;
    t.age = pick(0, 3);
    t.view.running = t.age >= 1;
    t.view.healthy = t.age >= 2;
    t.view.stopping = pick(0, 5) == 0;
    if (t.view.stopping) t.view.healthy = false;
    w.tasks.push_back(t);
  }
  w.next_id = n;
  return w;
}

std::string describe(const World& w) {
  std::ostringstream out;
  out << "desired " << w.service.desired << " min " << w.service.minimum_healthy_percent << " max "
      << w.service.maximum_percent << " tasks:";
  for (const auto& t : w.tasks)
    out << " " << t.view.id << "(" << t.view.deployment_id << (t.view.healthy ? " healthy" : "")
        << (t.view.stopping ? " stopping" : "") << ")";
  return out.str();
}

TEST(ReconcilerProperties, SafetyRulesHoldAndEveryStateConverges) {
  for (uint32_t seed = 1; seed <= 3000; ++seed) {
    World w = generate(seed);
    int64_t max_total = maximum_tasks(w.service.desired, w.service.maximum_percent);
    int64_t min_healthy = minimum_healthy_tasks(w.service.desired, w.service.minimum_healthy_percent);
    bool crashes = seed % 3 == 0;
    bool steady = false, stuck = false;
    for (int step = 0; step < 60 && !steady && !stuck; ++step) {
      Plan plan = reconcile(w.view());
      stuck = plan.stuck;
      std::string where = "seed " + std::to_string(seed) + " step " + std::to_string(step) + ": " + describe(w);
      ASSERT_EQ(plan.stop.size() + plan.start, reconcile(w.view()).stop.size() + reconcile(w.view()).start)
          << "not deterministic; " << where;
      int64_t before_total = static_cast<int64_t>(w.tasks.size());
      int64_t before_healthy = w.healthy();
      w.apply(plan, crashes);
      int64_t after_total = static_cast<int64_t>(w.tasks.size());
      // Never above maximumPercent (unless already above it before the step, from the generated state).
      if (plan.start > 0) {
        ASSERT_LE(after_total, std::max(max_total, before_total)) << where;
      }
      // Never below minimumHealthyPercent by the scheduler's own stops.
      ASSERT_GE(w.healthy(), std::min(min_healthy, before_healthy)) << where;
      steady = plan.steady;
      w.tick(0.0);
    }
    // Stuck only where AWS's rounding allows neither a start nor a stop
    // (e.g. desired 1, minimum 50 %, maximum 150 %: ceil 1 healthy, floor 1 task).
    if (stuck) {
      ASSERT_GT(w.service.deployments.size(), 1u) << "seed " << seed;
      ASSERT_LE(max_total, static_cast<int64_t>(w.tasks.size())) << "seed " << seed << ": " << describe(w);
      ASSERT_LE(w.healthy(), min_healthy) << "seed " << seed << ": " << describe(w);
      continue;
    }
    ASSERT_TRUE(steady) << "no steady state after 60 steps; seed " << seed << ": " << describe(w);
    if (steady) {
      ASSERT_EQ(static_cast<int64_t>(w.tasks.size()), w.service.desired) << "seed " << seed;
      for (const auto& t : w.tasks) ASSERT_EQ(t.view.deployment_id, w.service.deployments.front().id);
    }
  }
}

TEST(ReconcilerProperties, UnhealthyTasksKeepBeingReplacedAndTheCountHolds) {
  for (uint32_t seed = 1; seed <= 500; ++seed) {
    World w = generate(seed);
    for (int step = 0; step < 40; ++step) {
      Plan plan = reconcile(w.view());
      w.apply(plan, false);
      w.tick(0.3);
      int64_t staying = 0;
      for (const auto& t : w.tasks) staying += t.view.stopping ? 0 : 1;
      ASSERT_LE(staying, std::max<int64_t>(w.service.desired + 14,
                                           maximum_tasks(w.service.desired, w.service.maximum_percent)));
    }
    // Failures stop: the service reaches steady state again.
    bool steady = false, stuck = false;
    for (int step = 0; step < 60 && !steady && !stuck; ++step) {
      Plan plan = reconcile(w.view());
      steady = plan.steady;
      stuck = plan.stuck;
      w.apply(plan, false);
      w.tick(0.0);
    }
    ASSERT_TRUE(steady || stuck) << "seed " << seed << ": " << describe(w);
  }
}

TEST(ReconcilerProperties, DeletedServiceNeverStartsATask) {
  for (uint32_t seed = 1; seed <= 500; ++seed) {
    World w = generate(seed);
    w.service.active = false;
    for (int step = 0; step < 5; ++step) {
      Plan plan = reconcile(w.view());
      ASSERT_EQ(plan.start, 0) << "seed " << seed;
      w.apply(plan, false);
      w.tick(0.0);
    }
    ASSERT_TRUE(w.tasks.empty()) << "seed " << seed << ": " << describe(w);
  }
}

}  // namespace
}  // namespace berth::ecs::scheduler
