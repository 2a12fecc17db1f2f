// cli/load_balancing_wiring: the ECS scheduler's LoadBalancing boundary
// (ecs/load_balancing.h) over the load balancer module: registrations
// through elb/targets.h in the scheduler's transaction, health and
// requests in flight from the running ElbDaemon's memory.
//
// Built when both modules are (BERTH_HAVE_ELB && BERTH_HAVE_ECS).
#pragma once

#if BERTH_HAVE_ELB && BERTH_HAVE_ECS

#include <memory>

#include "ecs/load_balancing.h"
#include "elb/elb_daemon.h"

namespace berth::cli {

// The daemon must outlive the returned object's use (the ECS scheduler
// stops before the load balancer does).
std::unique_ptr<ecs::LoadBalancing> make_load_balancing(std::shared_ptr<elb::ElbDaemon> daemon);

}  // namespace berth::cli

#endif
