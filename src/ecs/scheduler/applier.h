// ecs/scheduler/applier: one reconcile pass over one service inside one
// store transaction (see scheduler.h for the steps). Split by decision:
// targets.cpp keeps the load balancer registrations in step with the tasks,
// applier.cpp gathers the reconciler's inputs and applies its plan.
#pragma once

#include <map>
#include <random>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error.h"
#include "ecs/ecs.h"
#include "ecs/load_balancing.h"
#include "store/store.h"

namespace berth::ecs::scheduler {

// A task with no container health check and no load balancer counts as
// healthy this long after it is RUNNING (reference §2.6).
inline constexpr double kUncheckedHealthySeconds = 40;
// A deregistered target with no request in flight ends its drain early,
// but never before this (requests routed on the snapshot before the
// deregistration may still be about to start).
inline constexpr double kMinimumDrainSeconds = 1;

struct PassContext {
  const Options& options;
  LoadBalancing* load_balancing;  // may be null
  // Task id -> when its targets were deregistered. Memory only: after a
  // restart a drain that can end early waits one more pass.
  std::map<std::string, double, std::less<>>& drain_started;
  std::mt19937& rng;
};

// One pass over the service (cluster, name), if it is ACTIVE or DRAINING.
Status reconcile_service(store::Tx& tx, PassContext& ctx, std::string_view cluster, std::string_view name,
                         WallTime now);

}  // namespace berth::ecs::scheduler
