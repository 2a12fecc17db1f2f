// ecs/scheduler: the service scheduler. A loop of its own (swarmkit's
// dirty set, STYLE.md) reconciles each service that something touched:
//
//   change feed: ecs_services, ecs_tasks (-> their service), instances, elb ─┐
//   target health changes (LoadBalancing::on_health_change) ──────────────────┼─> dirty set ─> pass
//   timer (1 s: time-based rules: grace periods, drains, the 40 s rule) ──────┘
//
// A pass over one service is one store transaction (applier.cpp):
//   1. load balancer bookkeeping: register RUNNING tasks' targets,
//      deregister and drain DEACTIVATING ones, end their drain (then the
//      dispatcher stops them), deregister tasks that died;
//   2. the pure reconciler (reconciler.h) computes the plan from the
//      service, its deployments and its tasks' health;
//   3. the plan is applied: tasks stopped (ServiceSchedulerInitiated),
//      tasks placed and created (task_creation.h), deployments completed,
//      failed or rolled back, events written (reference §2.8).
// Everything a pass decides comes from the store and the load balancer's
// memory, so a daemon killed at any point converges on restart: nothing is
// kept between passes that the store does not hold, except drain start
// times (a restart only makes a drain last one pass longer).
#pragma once

#include <memory>
#include <string>

#include "core/clock.h"
#include "core/error.h"
#include "ecs/ecs.h"
#include "ecs/load_balancing.h"
#include "store/store.h"

namespace berth::ecs {

class ServiceScheduler {
 public:
  // `load_balancing` may be null (services then have no loadBalancers).
  ServiceScheduler(store::Database& db, const Clock& clock, Options options, LoadBalancing* load_balancing);
  ~ServiceScheduler();

  // One pass over every ACTIVE or DRAINING service, on the caller's thread.
  Status reconcile_all();
  // Starts the loop's thread, the change-feed subscription and the timer.
  void start();
  // Stops and joins the loop; idempotent.
  void stop();

 private:
  struct Loop;
  std::shared_ptr<Loop> loop_;
};

}  // namespace berth::ecs
