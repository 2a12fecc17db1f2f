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
// Manager) for definitions with `secrets`.
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

class RuntimeTaskLauncher final : public TaskLauncher {
 public:
  RuntimeTaskLauncher(store::Database& db, const Clock& clock, runtime::TaskRuntime& runtime,
                      SecretResolver secrets = {});
  ~RuntimeTaskLauncher() override;

  void launch(const LaunchRequest& request) override;
  void stop(const std::string& task_id, const std::string& reason) override;
  // The runtime's EventHandler.
  void on_event(const runtime::TaskEvent& event);

 private:
  void work(std::stop_token stop);
  void report(const TaskReport& r);

  store::Database& db_;
  const Clock& clock_;
  runtime::TaskRuntime& runtime_;
  SecretResolver secrets_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::deque<LaunchRequest> queue_;
  std::jthread worker_;  // last: starts after the members it uses
};

}  // namespace berth::ecs
