// cli/down: `berth down`, the workshop stack removed through the public
// API in the order AWS needs, each step said as it happens:
//
//   services outyet-service, outyet-fargate-service (deleted, their tasks
//   drained and stopped) ─► load balancer outyet-alb (its listeners first)
//   ─► target groups ─► task definitions (every active revision deregistered)
//   ─► the cluster's instances (terminated, waited until deregistered)
//   ─► cluster outyet-cluster ─► security groups outyet-sg, outyet-fargate-sg, then outyet-alb-sg
//   ─► key pair outyet ─► repository outyet-image (with its images)
//
// What is already gone is skipped; the daemon keeps running.
#pragma once

#include <string>
#include <vector>

#include "cli/api_client.h"
#include "cli/options.h"
#include "core/error.h"

namespace berth::cli {

// The names scripts/workshop.sh and docs/workshop.md create (the guide's
// FARGATE exercise adds the second of each), in the order they go.
struct WorkshopStack {
  std::string cluster = "outyet-cluster";
  std::vector<std::string> services{"outyet-service", "outyet-fargate-service"};
  std::string load_balancer = "outyet-alb";
  std::vector<std::string> target_groups{"outyet-alb-target-group", "outyet-fargate-target-group"};
  std::vector<std::string> task_families{"outyet-task", "outyet-fargate-task"};
  // The ones that admit the load balancer's group go before it.
  std::vector<std::string> security_groups{"outyet-sg", "outyet-fargate-sg", "outyet-alb-sg"};
  std::string key_pair = "outyet";
  std::string repository = "outyet-image";
};

// Says each step on stdout; stops at the first error (AWS's code and message).
Status remove_stack(ApiClient& api, const WorkshopStack& stack);

// `berth down`: the exit code.
int run_down(const Options& options);

}  // namespace berth::cli
