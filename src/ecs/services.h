// ecs/services: the service records the API writes and the scheduler
// reads, and their events (reference §2.6, §2.8).
//
//   CreateService/UpdateService/DeleteService ──Tx──> ecs_services (doc: spec + deployments)
//                                                       │ change feed ("<cluster>/<name>")
//   scheduler (scheduler/) ── reads, writes deployments' rollout state, state, events
//   DescribeServices ── doc + counts from ecs_tasks + the newest 100 events
//
// A deployment lives in the service doc while it is PRIMARY or ACTIVE;
// it leaves when it has no task left (AWS shows INACTIVE ones no more).
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "ecs/common.h"
#include "store/store.h"

namespace berth::ecs {

inline constexpr std::string_view kServiceNotFound = "ServiceNotFoundException";
inline Error service_not_found() { return Error::not_found(std::string(kServiceNotFound), "Service not found."); }

// The most events DescribeServices shows (and the store keeps) per service.
inline constexpr int64_t kMaxServiceEvents = 100;

struct ServiceRow {
  std::string cluster;
  std::string name;
  std::string status;  // ACTIVE | DRAINING | INACTIVE
  // The Service shape less runningCount/pendingCount/events; deployments
  // carry their own fields less the counts.
  boost::json::object doc;
  // The scheduler's memory, never shown: steady (bool), last_completed
  // (the task definition ARN of the last COMPLETED deployment).
  boost::json::object state;
};

std::string service_arn(const Options& o, std::string_view cluster, std::string_view name);
// "name" or an ARN (either "service/<cluster>/<name>" or the old "service/<name>") -> name.
std::string service_name_from(std::string_view id);
// "ecs-svc/" and 19 digits.
std::string new_deployment_id();

// A new PRIMARY deployment of the doc's taskDefinition, desiredCount,
// launch type and network configuration; the PRIMARY before it becomes
// ACTIVE. Returns its id.
std::string start_deployment(boost::json::object& doc, double now);

Result<std::optional<ServiceRow>> find_service(store::Tx& tx, std::string_view cluster, std::string_view name);
// Every ACTIVE or DRAINING service (the scheduler's work list); cluster ""
// for all clusters.
Result<std::vector<ServiceRow>> live_services(store::Tx& tx, std::string_view cluster = "");
// Insert or replace; records a change on kServicesTable.
Status write_service(store::Tx& tx, const ServiceRow& row, double created_at);

// Appends an event, newest last in the table, and keeps the newest
// kMaxServiceEvents. An event identical to the newest one is suppressed
// unless `repeat_after_seconds` have passed since it (AWS repeats a
// standing condition only after a while).
Status add_service_event(store::Tx& tx, std::string_view cluster, std::string_view service, std::string_view message,
                         double now, double repeat_after_seconds = 6 * 3600);
// The newest first, as DescribeServices shows them.
Result<boost::json::array> service_events(store::Tx& tx, std::string_view cluster, std::string_view service);

// Tasks of the deployment that failed: never started, essential container
// exited, or stopped for failed health checks (the circuit breaker's count).
Result<int64_t> failed_tasks(store::Tx& tx, std::string_view cluster, std::string_view deployment_id);

// In-process access for Application Auto Scaling (its EcsPort), by
// cluster name and service name or ARN.
struct ServiceCapacity {
  int64_t desired_count = 0;
  int64_t running_count = 0;
  std::string status;  // ACTIVE | DRAINING
};
// kNotFound (ClusterNotFoundException / ServiceNotFoundException) when the
// cluster is not ACTIVE or the service does not exist or is INACTIVE.
Result<ServiceCapacity> read_service_capacity(store::Database& db, std::string_view cluster, std::string_view service);
// Changes desiredCount exactly as `UpdateService --desired-count` does: the
// service doc and its PRIMARY deployment in one transaction; the scheduler
// follows through the change feed. Writes no service event (AWS's ECS
// shows none for a desired count changed by Application Auto Scaling;
// its activities are Application Auto Scaling's own).
Status set_service_desired_count(store::Database& db, std::string_view cluster, std::string_view service,
                                 int64_t count, WallTime now);

// The Service shape as DescribeServices answers: counts of the service's
// and each deployment's tasks, failedTasks, events.
Result<boost::json::object> describe_service(store::Tx& tx, const ServiceRow& row);

}  // namespace berth::ecs
