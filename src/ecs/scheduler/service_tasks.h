// ecs/scheduler/service_tasks: a service's task rows as one pass reads
// them, and the load balancer bookkeeping over them (targets.cpp).
// Internal to the scheduler.
#pragma once

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "ecs/load_balancing.h"
#include "ecs/scheduler/applier.h"
#include "ecs/services.h"
#include "store/store.h"

namespace berth::ecs::scheduler {

struct TaskRecord {
  std::string id;
  std::string last_status;
  std::string desired_status;
  std::string deployment_id;  // startedBy
  std::string container_instance_id;
  std::string eni_id;
  boost::json::object doc;
  std::vector<TargetRef> targets;  // registered in load balancers
  std::optional<double> drain_until;
};

// Tasks of the service not yet STOPPED, and STOPPED ones still holding
// targets, oldest first.
Result<std::vector<TaskRecord>> load_service_tasks(store::Tx& tx, std::string_view cluster, std::string_view service);

// Registers RUNNING tasks in the service's target groups, deregisters
// DEACTIVATING ones and ends their drain, deregisters tasks that died;
// writes the events for it. Updates `tasks` as it goes.
Status settle_targets(store::Tx& tx, PassContext& ctx, const ServiceRow& service, std::vector<TaskRecord>& tasks,
                      double now);

}  // namespace berth::ecs::scheduler
