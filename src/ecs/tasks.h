// ecs/tasks: the task records, their state machine, and the boundary to
// the runtime that really runs them.
//
//   RunTask/StartTask ──> row: lastStatus PROVISIONING (awsvpc) | PENDING, desiredStatus RUNNING
//        │ "ecs_tasks" change feed
//        ▼
//   TaskDispatcher (level-triggered): desired RUNNING, not yet launched ──> TaskLauncher::launch
//                                     desired STOPPED, launched, running ──> TaskLauncher::stop
//                                       (not while DEACTIVATING: its targets drain first)
//                                     desired STOPPED, never launched   ──> STOPPED at once
//        runtime ──apply_task_status(report)──> PENDING -> RUNNING -> STOPPED (forward only),
//                                               containers' runtimeId, exitCode, reason, networkBindings
//
// awsvpc (and FARGATE) tasks own an ENI (ec2/network_interfaces.h), made by
// RunTask in its transaction: the attachment is PRECREATED (subnetId only),
// ATTACHED with all its details once RUNNING, DELETED (ENI and addresses
// released) once STOPPED. The runtime publishes the task's ports on the
// ENI's addresses with the ENI's groups, not the instance's.
//
// Spec (taskDefinitionArn, overrides), desired state and observed status
// are separate fields (STYLE.md, swarmkit's task model); statuses only move
// forward.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "ecs/ecs.h"
#include "store/store.h"

namespace berth::ecs {

// What the runtime needs to start one task. The task definition is the
// TaskDefinition shape as DescribeTaskDefinition shows it; overrides the
// Task's overrides (containerOverrides: name, command, environment, cpu,
// memory, memoryReservation).
struct LaunchRequest {
  std::string task_id;  // 32 hex, also the runtime's task id
  std::string task_arn;
  std::string cluster;
  std::string launch_type;  // "EC2" | "FARGATE"
  boost::json::object task_definition;
  boost::json::object overrides;
  // EC2: the instance the task was placed on (its addresses and groups).
  std::string container_instance_id;
  std::string ec2_instance_id;
  std::string public_ip;
  std::string private_ip;
  std::vector<std::string> security_group_ids;
};

// The runtime side of the boundary. Calls come from the dispatcher's
// thread; implementations must return quickly (start work elsewhere) and
// be idempotent: launch() of a task it already runs, or stop() of a task
// it no longer has, does nothing. Outcomes come back via apply_task_status.
class TaskLauncher {
 public:
  virtual ~TaskLauncher() = default;
  virtual void launch(const LaunchRequest& request) = 0;
  virtual void stop(const std::string& task_id, const std::string& reason) = 0;
};

struct NetworkBindingReport {
  std::string bind_ip = "0.0.0.0";
  int64_t container_port = 0;
  int64_t host_port = 0;
  std::string protocol = "tcp";
};

struct ContainerReport {
  std::string name;
  std::string runtime_id;
  std::string last_status;  // "PENDING" | "RUNNING" | "STOPPED"
  std::optional<int> exit_code;
  std::string reason;                      // "OutOfMemoryError: Container killed due to memory usage", ...
  std::string health_status = "UNKNOWN";   // "HEALTHY" | "UNHEALTHY" | "UNKNOWN"
  std::vector<NetworkBindingReport> network_bindings;
};

struct TaskReport {
  std::string task_id;
  std::string last_status;     // "PENDING" | "RUNNING" | "STOPPED"
  std::string stop_code;       // when STOPPED and ECS did not ask: "EssentialContainerExited" | "TaskFailedToStart"
  std::string stopped_reason;  // likewise: "Essential container in task exited", "CannotPullContainerError: ..."
  std::string health_status = "UNKNOWN";
  std::vector<ContainerReport> containers;
};

// Applies a runtime report to the task row. Status never moves backwards
// (a late RUNNING after STOPPED is ignored); a stop that ECS asked for
// keeps ECS's stopCode and stoppedReason. kNotFound for an unknown task.
Status apply_task_status(store::Database& db, const TaskReport& report, WallTime now);

// Used by the container-instance reconciler: every non-stopped task on the
// instance gets desiredStatus STOPPED with this reason (and tasks never
// handed to a runtime are STOPPED at once).
Status stop_tasks_on_instance(store::Tx& tx, std::string_view container_instance_id, std::string_view stop_code,
                              std::string_view reason, WallTime now);

// Desired STOPPED for one task row (StopTask, instance loss, the service
// scheduler). A task registered in target groups goes DEACTIVATING: the
// runtime is asked to stop it only after the scheduler has deregistered
// and drained it (end_deactivating). Returns whether it changed anything.
Result<bool> request_stop(store::Tx& tx, std::string_view task_id, std::string_view stop_code,
                          std::string_view reason, WallTime now);

// DEACTIVATING -> STOPPING: the task's targets have drained; the
// dispatcher now asks the runtime to stop it. Nothing for other statuses.
Status end_deactivating(store::Tx& tx, std::string_view task_id, WallTime now);

// Watches "ecs_tasks" and drives a TaskLauncher (see the diagram above).
class TaskDispatcher {
 public:
  TaskDispatcher(store::Database& db, const Clock& clock, Options options, TaskLauncher* launcher);
  ~TaskDispatcher();
  // One pass over every task that needs the launcher (also after a restart).
  Status dispatch_all();
  void start();
  void stop();

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
};

}  // namespace berth::ecs
