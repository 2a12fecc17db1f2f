// cli/task_runtime_wiring: the host agent plugged into `berth serve`.
//
//   ec2::SecurityGroupPublisher ──current()──> runtime::RuncTaskRuntime <──start/stop── ecs::RuntimeTaskLauncher
//   ecr::Ecr::write_oci_layout <──resolve_image──┘        └──on_event──> launcher ──apply_task_status──> ecs_tasks
//
// Built when berth_ecs_runtime (and so berth_runtime), ECR and the EC2 API
// are (BERTH_HAVE_ECS_RUNTIME && BERTH_HAVE_ECR && BERTH_HAVE_EC2_API).
#pragma once

#include "cli/options.h"

#if BERTH_HAVE_ECS_RUNTIME && BERTH_HAVE_ECR && BERTH_HAVE_EC2_API

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "cli/services.h"
#include "ec2/sg_publisher.h"
#include "ecr/ecr.h"
#include "ecs/runtime_launcher.h"
#include "runtime/runc_runtime.h"

namespace berth::cli {

// "<host>/<repository>[:<tag>]" or "<host>/<repository>@sha256:<hex>".
struct ImageReference {
  std::string host;
  std::string repository;
  std::string reference;  // tag (default "latest") or digest
};
std::optional<ImageReference> parse_image_reference(const std::string& image);

// What other modules give the host agent; each may be empty.
struct TaskRuntimeHooks {
  ecs::SecretResolver secrets;  // empty: a task with secrets fails to start
  // CloudWatch Logs for the awslogs log driver; empty: the output stays in the log files.
  std::shared_ptr<runtime::LogDestination> log_destination;
  ecs::LogStreamPreparer log_streams;
};

class TaskRuntimeWiring {
 public:
  // The publisher, the runtime (data under ctx.data_dir + "/runtime") and
  // the launcher; adopts what an earlier daemon left running.
  static Result<std::shared_ptr<TaskRuntimeWiring>> start(DaemonContext& ctx, std::shared_ptr<ecr::Ecr> ecr,
                                                          TaskRuntimeHooks hooks);
  ~TaskRuntimeWiring();

  ecs::TaskLauncher* launcher() { return launcher_.get(); }
  // For the load balancer (open_private_route), once it wants it.
  runtime::TaskRuntime& runtime() { return *runtime_; }
  // The daemon's stop hook: after the ECS daemon stopped. Leaves the
  // containers running for the next daemon to adopt.
  void stop();

 private:
  TaskRuntimeWiring() = default;
  void forward(const runtime::TaskEvent& event);

  std::shared_ptr<ecr::Ecr> ecr_;
  std::unique_ptr<ec2::SecurityGroupPublisher> groups_;
  std::unique_ptr<runtime::RuncTaskRuntime> runtime_;
  std::mutex launcher_mutex_;  // guards launcher_ against events racing stop()
  std::unique_ptr<ecs::RuntimeTaskLauncher> launcher_;
};

}  // namespace berth::cli

#endif
