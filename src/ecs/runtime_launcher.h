// ecs/runtime_launcher: the TaskLauncher that runs ECS tasks on the host
// agent's TaskRuntime (runtime/runtime.h), and the two pure mappings
// between them.
//
//   TaskDispatcher ──launch(LaunchRequest)──> RuntimeTaskLauncher ──worker──> TaskRuntime::start(task_spec_for(r))
//                                                  │ ok: report RUNNING (bindings)     error: STOPPED TaskFailedToStart
//   TaskRuntime ──TaskEvent──> on_event ──report_for(state)──> apply_task_status ──> ecs_tasks
//
// The daemon wiring builds the TaskRuntime (with its ImageResolver and
// security-group source) and gives on_event to it as its EventHandler, and
// gives the launcher a SecretResolver (SSM Parameter Store and Secrets
// Manager) for definitions with `secrets`, and a LogStreamPreparer
// (CloudWatch Logs) for containers with the awslogs log driver.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "core/clock.h"
#include "ecs/tasks.h"
#include "runtime/runtime.h"
#include "store/store.h"

namespace berth::ecs {

// The runtime's spec of a task: the definition's containers with the
// overrides applied (command, environment, cpu, memory, memoryReservation),
// the network mode, and (EC2) the instance's addresses and groups.
runtime::TaskSpec task_spec_for(const LaunchRequest& request);

// A TaskReport from the runtime's view of a task: RUNNING while it runs,
// STOPPED (with stopCode and stoppedReason from its StopCause) once stopped.
TaskReport report_for(const runtime::TaskState& state);

// One `valueFrom` of a container's secrets (or its repositoryCredentials),
// read with the task execution role's permissions.
struct SecretRequest {
  std::string value_from;
  std::string execution_role_arn;
};
// Values in request order, or an error whose message is the task's stop
// reason ("ResourceInitializationError: unable to pull secrets or registry
// auth: ..."). Values live in memory only: never stored, logged or shown.
using SecretResolver = std::function<Result<std::vector<std::string>>(const std::vector<SecretRequest>&)>;

// Reads the secrets of a task (every container's `secrets` and
// repositoryCredentials) into its containers' secret environment. A task
// without secrets needs no resolver.
Status resolve_secrets(const LaunchRequest& request, const SecretResolver& resolver, runtime::TaskSpec& spec);

// Makes an awslogs container's log stream before it starts, and first its
// group when `create_group` (awslogs-create-group "true"). An error's code
// and message are CloudWatch Logs' ("ResourceNotFoundException", "The
// specified log group does not exist.").
using LogStreamPreparer =
    std::function<Status(const std::string& group, const std::string& stream, bool create_group)>;

// Makes the log streams of a task's awslogs containers; an error's message
// is the task's stop reason, in the words of the launch type's agent.
Status prepare_log_streams(const LaunchRequest& request, const LogStreamPreparer& preparer,
                           const runtime::TaskSpec& spec);

class RuntimeTaskLauncher final : public TaskLauncher {
 public:
  RuntimeTaskLauncher(store::Database& db, const Clock& clock, runtime::TaskRuntime& runtime,
                      SecretResolver secrets = {}, LogStreamPreparer log_streams = {});
  ~RuntimeTaskLauncher() override;

  void launch(const LaunchRequest& request) override;
  void stop(const std::string& task_id, const std::string& reason) override;
  // The runtime's EventHandler.
  void on_event(const runtime::TaskEvent& event);

 private:
  void work(std::stop_token stop);
  void launch_one(const LaunchRequest& request);
  // Reports the task STOPPED with TaskFailedToStart and `reason`; `code` is
  // the runtime's error code (some reasons then name the task). Never throws.
  void fail_to_start(const LaunchRequest& request, const std::string& code, const std::string& reason) noexcept;
  void report(const TaskReport& r);

  store::Database& db_;
  const Clock& clock_;
  runtime::TaskRuntime& runtime_;
  SecretResolver secrets_;
  LogStreamPreparer log_streams_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::deque<LaunchRequest> queue_;
  std::jthread worker_;  // last: starts after the members it uses
};

}  // namespace berth::ecs
