#include "ecs/scheduler/reconciler.h"

#include <algorithm>
#include <map>
#include <set>

namespace berth::ecs::scheduler {
namespace {

// Which of `tasks` to stop first when only some go: those that serve
// nothing yet, then those not (yet) healthy, then the newest.
std::vector<const TaskView*> in_stop_order(std::vector<const TaskView*> tasks) {
  auto value = [](const TaskView* t) { return (t->running ? 2 : 0) + (t->healthy ? 1 : 0); };
  std::reverse(tasks.begin(), tasks.end());  // newest first among equals
  std::stable_sort(tasks.begin(), tasks.end(),
                   [&](const TaskView* a, const TaskView* b) { return value(a) < value(b); });
  return tasks;
}

bool has_tasks(const ServiceView& s, const std::string& deployment_id) {
  return std::any_of(s.tasks.begin(), s.tasks.end(),
                     [&](const TaskView& t) { return t.deployment_id == deployment_id; });
}

}  // namespace

int64_t circuit_breaker_threshold(int64_t desired) { return std::clamp<int64_t>((desired + 1) / 2, 3, 200); }

int64_t maximum_tasks(int64_t desired, int64_t maximum_percent) { return desired * maximum_percent / 100; }

int64_t minimum_healthy_tasks(int64_t desired, int64_t minimum_healthy_percent) {
  return (desired * minimum_healthy_percent + 99) / 100;
}

Plan reconcile(const ServiceView& s) {
  Plan plan;
  if (s.deployments.empty()) return plan;
  if (!s.active) {
    for (const auto& t : s.tasks)
      if (!t.stopping) plan.stop.push_back({t.id, StopCause::kServiceDeleted});
    return plan;
  }
  const DeploymentView& primary = s.deployments.front();

  // Tasks that failed their checks go first; they count as stopping.
  int64_t stopping = 0;
  std::vector<const TaskView*> fresh, old;  // staying tasks of the PRIMARY / of older deployments
  for (const auto& t : s.tasks) {
    if (t.stopping) {
      ++stopping;
    } else if (t.must_replace()) {
      plan.stop.push_back({t.id, t.unhealthy});
      ++stopping;
    } else {
      (t.deployment_id == primary.id ? fresh : old).push_back(&t);
    }
  }

  bool primary_failed = primary.rollout_state == "FAILED";
  if (s.circuit_breaker && primary.rollout_state == "IN_PROGRESS" &&
      primary.failed_tasks >= circuit_breaker_threshold(s.desired)) {
    plan.circuit_breaker_tripped = true;
    primary_failed = true;
  }

  // Scale-in of the PRIMARY beyond the desired count.
  if (static_cast<int64_t>(fresh.size()) > s.desired) {
    auto order = in_stop_order(fresh);
    int64_t excess = static_cast<int64_t>(fresh.size()) - s.desired;
    for (int64_t i = 0; i < excess; ++i) {
      plan.stop.push_back({order[i]->id, StopCause::kScaleIn});
      ++stopping;
      fresh.erase(std::find(fresh.begin(), fresh.end(), order[i]));
    }
  }

  int64_t healthy = 0;
  for (const auto* t : fresh) healthy += t->healthy ? 1 : 0;
  for (const auto* t : old) healthy += t->healthy ? 1 : 0;
  int64_t total = static_cast<int64_t>(fresh.size() + old.size()) + stopping;

  if (!primary_failed) {
    int64_t missing = s.desired - static_cast<int64_t>(fresh.size());
    int64_t room = maximum_tasks(s.desired, s.maximum_percent) - total;
    plan.start = std::max<int64_t>(0, std::min(missing, room));
  }

  // Old tasks: those not serving go at once; healthy ones while enough
  // healthy tasks remain. A failed deployment without rollback keeps them.
  int64_t old_stopped = 0;
  if (!primary_failed) {
    int64_t may_stop = healthy - minimum_healthy_tasks(s.desired, s.minimum_healthy_percent);
    for (const auto* t : in_stop_order(old)) {
      if (t->healthy) {
        if (may_stop <= 0) continue;
        --may_stop;
      }
      plan.stop.push_back({t->id, StopCause::kScaleIn});
      ++old_stopped;
    }
  }

  bool old_remain = static_cast<int64_t>(old.size()) > old_stopped;
  bool fresh_all_healthy = std::all_of(fresh.begin(), fresh.end(), [](const TaskView* t) { return t->healthy; });
  plan.stuck = old_remain && !primary_failed && plan.start == 0 && old_stopped == 0 && stopping == 0 &&
               fresh_all_healthy;

  for (size_t i = 1; i < s.deployments.size(); ++i)
    if (!has_tasks(s, s.deployments[i].id)) plan.finished_deployments.push_back(s.deployments[i].id);

  bool only_primary_left = plan.finished_deployments.size() + 1 == s.deployments.size();
  bool settled = only_primary_left && stopping == 0 && plan.stop.empty() && plan.start == 0 &&
                 static_cast<int64_t>(fresh.size()) == s.desired && fresh_all_healthy && old.empty();
  plan.primary_completed = settled && primary.rollout_state == "IN_PROGRESS" && !plan.circuit_breaker_tripped;
  plan.steady = settled && (primary.rollout_state == "COMPLETED" || plan.primary_completed);
  return plan;
}

DaemonPlan reconcile_daemon(const DaemonView& s) {
  DaemonPlan plan;
  plan.desired = static_cast<int64_t>(s.eligible.size());
  if (s.deployments.empty()) return plan;
  if (!s.active) {
    for (const auto& t : s.tasks)
      if (!t.stopping) plan.stop.push_back({t.id, StopCause::kServiceDeleted});
    return plan;
  }
  const DeploymentView& primary = s.deployments.front();
  bool launching = primary.rollout_state != "FAILED";
  auto eligible = [&](const std::string& id) { return std::find(s.eligible.begin(), s.eligible.end(), id) != s.eligible.end(); };

  // Per instance: its staying tasks; failed checks, extra copies and
  // tasks on instances no longer eligible go.
  std::map<std::string, std::vector<const DaemonTaskView*>> on;
  std::set<std::string> busy;  // instances with a task still stopping
  int64_t healthy = 0;
  for (const auto& t : s.tasks) {
    if (t.stopping) {
      busy.insert(t.instance_id);
    } else if (t.must_replace()) {
      plan.stop.push_back({t.id, t.unhealthy});
      busy.insert(t.instance_id);
    } else if (!eligible(t.instance_id)) {
      plan.stop.push_back({t.id, StopCause::kScaleIn});
    } else {
      on[t.instance_id].push_back(&t);
      healthy += t.healthy ? 1 : 0;
    }
  }
  int64_t may_stop = healthy - minimum_healthy_tasks(plan.desired, s.minimum_healthy_percent);
  bool settled = plan.stop.empty() && busy.empty();
  for (const auto& instance : s.eligible) {
    auto& tasks = on[instance];
    // Keep one, a PRIMARY task before an old one, a healthy one first.
    std::stable_sort(tasks.begin(), tasks.end(), [&](const DaemonTaskView* a, const DaemonTaskView* b) {
      auto rank = [&](const DaemonTaskView* t) { return (t->deployment_id == primary.id ? 0 : 2) + (t->healthy ? 0 : 1); };
      return rank(a) < rank(b);
    });
    for (size_t i = 1; i < tasks.size(); ++i) plan.stop.push_back({tasks[i]->id, StopCause::kScaleIn});
    if (tasks.size() > 1) settled = false;
    const DaemonTaskView* kept = tasks.empty() ? nullptr : tasks.front();
    if (kept && kept->deployment_id != primary.id && launching) {
      settled = false;
      if (!kept->healthy || may_stop > 0) {
        if (kept->healthy) --may_stop;
        plan.stop.push_back({kept->id, StopCause::kScaleIn});
      }
    } else if (!kept && !busy.count(instance) && launching) {
      plan.start_on.push_back(instance);
      settled = false;
    } else if (kept && !kept->healthy) {
      settled = false;
    } else if (!kept) {
      settled = false;
    }
  }
  for (size_t i = 1; i < s.deployments.size(); ++i) {
    bool has = std::any_of(s.tasks.begin(), s.tasks.end(),
                           [&](const DaemonTaskView& t) { return t.deployment_id == s.deployments[i].id; });
    if (!has) plan.finished_deployments.push_back(s.deployments[i].id);
  }
  settled = settled && plan.finished_deployments.size() + 1 == s.deployments.size();
  plan.primary_completed = settled && primary.rollout_state == "IN_PROGRESS";
  plan.steady = settled && (primary.rollout_state == "COMPLETED" || plan.primary_completed);
  return plan;
}

}  // namespace berth::ecs::scheduler
