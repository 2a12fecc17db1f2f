// cli/down: `berth down`, the workshop stack removed through the public
// API in the order AWS needs, each step said as it happens:
//
//   service outyet-service (scaled to 0, deleted, its tasks drained and stopped)
//   ─► load balancer outyet-alb (its listeners first) ─► target group
//   ─► task definition outyet-task (every active revision deregistered)
//   ─► the cluster's instances (terminated, waited until deregistered)
//   ─► cluster outyet-cluster ─► security groups outyet-sg, then outyet-alb-sg
//   ─► key pair outyet ─► repository outyet-image (with its images)
//
// What is already gone is skipped; the daemon keeps running.
#pragma once

#include <string>

#include "cli/api_client.h"
#include "cli/options.h"
#include "core/error.h"

namespace berth::cli {

// The names scripts/workshop.sh and docs/workshop.md create.
struct WorkshopStack {
  std::string cluster = "outyet-cluster";
  std::string service = "outyet-service";
  std::string task_family = "outyet-task";
  std::string load_balancer = "outyet-alb";
  std::string target_group = "outyet-alb-target-group";
  std::string instance_group = "outyet-sg";
  std::string load_balancer_group = "outyet-alb-sg";
  std::string key_pair = "outyet";
  std::string repository = "outyet-image";
};

// Says each step on stdout; stops at the first error (AWS's code and message).
Status remove_stack(ApiClient& api, const WorkshopStack& stack);

// `berth down`: the exit code.
int run_down(const Options& options);

}  // namespace berth::cli
