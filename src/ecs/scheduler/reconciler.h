// ecs/scheduler/reconciler: the pure heart of the service scheduler
// (STYLE.md: nomad's reconcile_cluster.go). From one service's desired
// state and its live tasks alone it computes what to start and what to
// stop; the applier (scheduler.h) gathers the inputs from the store and
// acts on the plan. No clock, no store, no randomness: the same inputs
// give the same plan, so a pass repeated after a crash decides the same.
//
//   ServiceView (desired count, deployment configuration, deployments
//   newest first, tasks not yet STOPPED with their health)
//        │ reconcile()
//        ▼
//   Plan: start N of the PRIMARY deployment · stop [task, cause] ·
//         deployments finished / completed · circuit breaker · stuck · steady
//
// Rolling arithmetic (reference §2.6): at most floor(desired x max% / 100)
// tasks exist (tasks still draining or stopping count), and old tasks are
// stopped only while ceil(desired x min% / 100) healthy tasks remain.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace berth::ecs::scheduler {

enum class StopCause {
  kScaleIn,             // fewer tasks wanted, or replaced by a newer deployment
  kElbUnhealthy,        // failed the target group's health checks after the grace period
  kContainerUnhealthy,  // an essential container's health check failed after the grace period
  kServiceDeleted,      // the service is DRAINING
};

struct DeploymentView {
  std::string id;             // ecs-svc/<19 digits>
  std::string rollout_state;  // IN_PROGRESS | COMPLETED | FAILED
  int64_t failed_tasks = 0;   // tasks of this deployment that failed to start or were stopped unhealthy
};

struct TaskView {
  std::string id;
  std::string deployment_id;  // startedBy
  bool stopping = false;      // desired STOPPED, not yet STOPPED (draining, stopping)
  bool running = false;       // lastStatus RUNNING (or past it while stopping)
  bool healthy = false;       // counts toward minimumHealthyPercent (reference §2.6)
  StopCause unhealthy = StopCause::kScaleIn;  // kElbUnhealthy / kContainerUnhealthy: must be replaced
  bool must_replace() const { return unhealthy != StopCause::kScaleIn; }
};

struct ServiceView {
  bool active = true;  // false: DRAINING, every task stops
  int64_t desired = 0;
  int64_t minimum_healthy_percent = 100;
  int64_t maximum_percent = 200;
  bool circuit_breaker = false;
  // Newest first: [0] is the PRIMARY deployment, the rest ACTIVE.
  std::vector<DeploymentView> deployments;
  std::vector<TaskView> tasks;  // every task of the service not yet STOPPED
};

struct Stop {
  std::string task_id;
  StopCause cause;
  bool operator==(const Stop&) const = default;
};

struct Plan {
  int64_t start = 0;  // new tasks of the PRIMARY deployment
  std::vector<Stop> stop;
  bool primary_completed = false;                 // the PRIMARY's rollout turns COMPLETED now
  bool circuit_breaker_tripped = false;           // the PRIMARY's rollout turns FAILED now
  std::vector<std::string> finished_deployments;  // ACTIVE deployments with no task left: removed
  // The deployment configuration allows neither a start nor a stop while
  // old tasks remain (e.g. minimum 100 % and maximum 100 %).
  bool stuck = false;
  // One deployment, COMPLETED, exactly `desired` tasks, all healthy, none stopping.
  bool steady = false;
};

// The circuit breaker's failure threshold for a desired count (reference
// §2.7, the current model: ceil(desired / 2) clamped to [3, 200]).
int64_t circuit_breaker_threshold(int64_t desired);
// floor(desired x maximum% / 100) and ceil(desired x minimum% / 100).
int64_t maximum_tasks(int64_t desired, int64_t maximum_percent);
int64_t minimum_healthy_tasks(int64_t desired, int64_t minimum_healthy_percent);

Plan reconcile(const ServiceView& service);

// The DAEMON strategy: one task on each eligible container instance
// (ACTIVE, agent connected, meeting the placement constraints). The
// desired count is the number of eligible instances; minimumHealthyPercent
// (default 0) bounds how many old tasks stop at once during a deployment,
// and with maximumPercent 100 a replacement starts only once the old task
// on its instance is gone.
struct DaemonTaskView : TaskView {
  std::string instance_id;
};

struct DaemonView {
  bool active = true;
  int64_t minimum_healthy_percent = 0;
  std::vector<DeploymentView> deployments;  // newest first
  std::vector<std::string> eligible;        // instance ids
  std::vector<DaemonTaskView> tasks;        // not yet STOPPED
};

struct DaemonPlan {
  std::vector<std::string> start_on;  // instances that get a task of the PRIMARY deployment
  std::vector<Stop> stop;
  int64_t desired = 0;  // the eligible instances: the service's desiredCount
  bool primary_completed = false;
  std::vector<std::string> finished_deployments;
  bool steady = false;
};

DaemonPlan reconcile_daemon(const DaemonView& service);

}  // namespace berth::ecs::scheduler
