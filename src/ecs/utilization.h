// ecs/utilization: what AWS/ECS's CPUUtilization and MemoryUtilization are
// measured against. As AWS defines them: a service's utilization is what
// its running tasks use over what they reserve (task-level cpu/memory, else
// the sum of their containers'); a cluster's is what all its running tasks
// use over what its active container instances registered.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "store/store.h"

namespace berth::ecs {

struct RunningTaskReservation {
  std::string task_id;
  std::string cluster;
  std::string service;  // "" for a task no service started
  int64_t cpu_units = 0;
  int64_t memory_mib = 0;
  bool on_instance = true;  // EC2: placed on a container instance (FARGATE: false)
};

struct ClusterCapacity {
  std::string cluster;
  int64_t cpu_units = 0;  // registered by its ACTIVE container instances
  int64_t memory_mib = 0;
};

// Tasks whose last status is RUNNING.
Result<std::vector<RunningTaskReservation>> running_task_reservations(store::Database& db);
Result<std::vector<ClusterCapacity>> registered_capacity(store::Database& db);

}  // namespace berth::ecs
