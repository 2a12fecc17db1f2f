// cli/status: `berth status [--watch]`, one screen of what runs: each
// cluster with its instances (registered and remaining CPU and memory),
// services (desired / running / pending, deployments and rollout state)
// and tasks (host ports or ENI address, health); the load balancers with
// their URLs and their target groups' target health.
//
//   collect_status(ApiClient&) ─► StatusView ─► render_status() ─► text
//
// Everything comes through the public API (cli/api_client.h), as the aws
// CLI would see it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli/api_client.h"
#include "cli/options.h"
#include "core/error.h"

namespace berth::cli {

struct InstanceView {
  std::string arn, ec2_instance_id, status;
  bool agent_connected = false;
  int64_t cpu_registered = 0, cpu_remaining = 0, memory_registered = 0, memory_remaining = 0;
};

struct DeploymentView {
  std::string status, task_definition, rollout_state;  // task_definition: "family:revision"
  int64_t desired = 0, running = 0, pending = 0;
};

struct ServiceView {
  std::string name, status;
  int64_t desired = 0, running = 0, pending = 0;
  std::vector<DeploymentView> deployments;
};

struct TaskView {
  std::string id, task_definition, last_status, health, group;
  std::string where;  // "i-0abc 32768->8080" or "eni 10.0.1.5"
};

struct ClusterView {
  std::string name, status;
  std::vector<InstanceView> instances;
  std::vector<ServiceView> services;
  std::vector<TaskView> tasks;
};

struct TargetView {
  std::string id, port, state, reason;
};

struct TargetGroupView {
  std::string name, target_type;
  std::vector<TargetView> targets;
};

struct LoadBalancerView {
  std::string name, state;
  std::vector<std::string> urls;  // one per listener
  std::vector<TargetGroupView> target_groups;
};

struct StatusView {
  std::string endpoint;
  std::vector<ClusterView> clusters;
  std::vector<LoadBalancerView> load_balancers;
};

Result<StatusView> collect_status(ApiClient& api);
std::string render_status(const StatusView& view);

// `berth status [--watch]`: the exit code.
int run_status(const Options& options);

}  // namespace berth::cli
