// elb/targets: the load balancer's typed interface for other modules that
// put targets into target groups inside their own store transaction (ECS
// registers its service's tasks as they start and deregisters them as they
// stop). The ELBv2 handlers RegisterTargets and DeregisterTargets write
// through these same functions, so there is one code path for a
// registration, whoever asks.
//
//   ecs (its Tx) ──find_target_group──> TargetGroupInfo (type, port, delay, in use, health-check arithmetic)
//                ──register_target────> elb_objects: Registration (registered)
//                ──deregister_target──> elb_objects: Registration (draining since now; gone when the delay is 0)
//                                          └──change feed──> RoutingBuilder (the data plane and health checks follow)
//
// Errors are classes (core/error.h): kNotFound when the group does not exist
// (code TargetGroupNotFound), kInvalid for a bad id or port. No check of the
// target itself (instance state, VPC, address range): the caller is trusted;
// the API handlers check what the user sent before calling.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "store/store.h"

namespace berth::elb {

struct TargetGroupInfo {
  std::string arn;
  std::string target_type;  // "instance" | "ip"
  std::string vpc_id;
  int64_t port = 0;
  int64_t deregistration_delay_seconds = 300;  // attribute deregistration_delay.timeout_seconds
  bool in_use = false;                         // some listener or rule forwards to it
  int64_t health_check_interval_seconds = 30;
  int64_t healthy_threshold = 5;
  int64_t unhealthy_threshold = 2;
};

// nullopt when no such target group.
Result<std::optional<TargetGroupInfo>> find_target_group(store::Tx& tx, std::string_view arn);

// Registers (id, port) in the group, idempotent (a registered target keeps
// its registration time); a draining registration becomes registered again.
// Port 0 means the group's port. Registrations of the group whose draining
// is over are dropped on the way.
Status register_target(store::Tx& tx, std::string_view tg_arn, std::string_view id, int64_t port,
                       std::string_view zone, int64_t now_ms);

// Starts draining (the registration is removed at once when the group's
// deregistration delay is 0); idempotent: a draining target keeps its
// draining start; nothing when not registered. Port 0 means the group's port.
Status deregister_target(store::Tx& tx, std::string_view tg_arn, std::string_view id, int64_t port, int64_t now_ms);

// Ends a draining registration before its delay is over, as ELB does once a
// deregistering target has no request in flight; nothing when the target is
// registered (not draining), absent, or its group gone.
Status complete_deregistration(store::Tx& tx, std::string_view tg_arn, std::string_view id, int64_t port);

}  // namespace berth::elb
