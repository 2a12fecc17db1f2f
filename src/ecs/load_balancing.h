// ecs/load_balancing: what the service scheduler needs from the load
// balancer, as one abstract boundary (STYLE.md: envoy's interfaces apart
// from implementations). The ELB module provides it (wired in
// src/cli/services.cpp over elb/targets.h and the ElbDaemon); ECS never
// reads the load balancer's tables itself.
//
//   scheduler ──register / deregister (in the scheduler's transaction)──> target group registrations
//   scheduler <──health, requests in flight (memory)── health checker, data plane
//   scheduler <──on_health_change── health checker (wakes a pass)
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error.h"
#include "store/store.h"

namespace berth::ecs {

struct TargetGroupFacts {
  std::string arn;
  std::string target_type;  // "instance" | "ip"
  int64_t deregistration_delay_seconds = 300;
  bool in_use = false;  // a listener or rule forwards to it
};

// One registration: an instance id and host port (bridge, host) or an IP
// address and the container port (awsvpc).
struct TargetRef {
  std::string target_group_arn;
  std::string id;
  int64_t port = 0;
  bool operator==(const TargetRef&) const = default;
};

struct TargetHealthFacts {
  std::string state;        // initial | healthy | unhealthy | draining | unused | unavailable
  std::string description;  // AWS's description of the reason ("Request timed out", ...)
};

class LoadBalancing {
 public:
  virtual ~LoadBalancing() = default;
  virtual Result<std::optional<TargetGroupFacts>> target_group(store::Tx& tx, std::string_view arn) = 0;
  virtual Status register_target(store::Tx& tx, const TargetRef& target, WallTime now) = 0;
  // Starts draining; the data plane sends the target no new request once committed.
  virtual Status deregister_target(store::Tx& tx, const TargetRef& target, WallTime now) = 0;
  // Ends the target's draining early (nothing was in flight): it leaves the group's target health.
  virtual Status complete_deregistration(store::Tx& tx, const TargetRef& target) = 0;
  // The health checker's view; "initial" while it has none. Any thread.
  virtual TargetHealthFacts health(const TargetRef& target) const = 0;
  // Requests the data plane is still forwarding to the target. Any thread.
  virtual int64_t requests_in_flight(const TargetRef& target) const = 0;
  // `fn` is called (any thread, quickly) whenever some target's health changes.
  virtual void on_health_change(std::function<void()> fn) = 0;
};

}  // namespace berth::ecs
