// ec2/instances: instance rows, their state machine, and the lookups other
// modules use (ECS registers container instances from these: type, user
// data, addresses, groups). A state change is a store write recorded on
// table kInstancesTable, so reconcilers see it on the change feed.
//
//   RunInstances ─> pending ──(timings.pending)──> running
//   StopInstances ─> stopping ──(timings.stopping)──> stopped ─StartInstances─> pending
//   TerminateInstances ─> shutting-down ──(timings.shutting_down)──> terminated ──(terminated_visible)──> gone
//
// Transitions that only wait for time are applied by advance_instance_states,
// which every instance operation calls first with the request's time, and
// which the daemon may call from a timer.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "ec2/ec2_service.h"
#include "store/store.h"

namespace berth::ec2 {

inline constexpr std::string_view kInstancesTable = "ec2_instances";

enum class InstanceState { kPending, kRunning, kShuttingDown, kTerminated, kStopping, kStopped };

std::string_view state_name(InstanceState state);  // "pending", "running", ...
int state_code(InstanceState state);               // 0, 16, 32, 48, 64, 80
std::optional<InstanceState> parse_state(std::string_view name);

struct Instance {
  std::string instance_id;
  std::string reservation_id;
  std::string image_id;
  std::string instance_type;
  std::string key_name;  // "" when launched without one
  std::string subnet_id;
  std::string vpc_id;
  std::string availability_zone;
  std::string private_ip;
  std::string public_ip;  // "" when none (also while stopped)
  std::string user_data;  // base64, as given to RunInstances; "" when none
  InstanceState state = InstanceState::kPending;
  WallTime state_since;
  WallTime launch_time;
  int ami_launch_index = 0;
  std::string state_reason_code;  // "Client.UserInitiatedShutdown", ...
  std::string reason;             // "User initiated (2026-01-02 03:04:05 GMT)"
  std::string client_token;
  std::vector<std::string> security_group_ids;  // in launch order
};

// ip-172-31-1-2.ec2.internal (us-east-1) / ip-....<region>.compute.internal.
std::string private_dns_name(std::string_view private_ip, std::string_view region);
// ec2-127-100-0-1.compute-1.amazonaws.com / ec2-....<region>.compute.amazonaws.com; "" without a public IP.
std::string public_dns_name(std::string_view public_ip, std::string_view region);

// Applies the timed transitions due at `now`.
Status advance_instance_states(store::Tx& tx, WallTime now, const InstanceTimings& timings);
Status advance_instance_states(store::Database& db, WallTime now, const InstanceTimings& timings);

Result<std::optional<Instance>> find_instance(store::Tx& tx, std::string_view instance_id);
// Every instance still describable, in launch order.
Result<std::vector<Instance>> list_instances(store::Tx& tx);

// For other modules: advances states to `now`, then reads one instance.
// InvalidInstanceID.NotFound when it does not exist (or is long gone).
Result<Instance> get_instance(store::Database& db, std::string_view instance_id, WallTime now,
                              const InstanceTimings& timings = {});

Error instance_not_found(std::string_view instance_id);

}  // namespace berth::ec2
