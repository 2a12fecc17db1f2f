// ecs: the Amazon ECS API (JSON 1.1, AmazonEC2ContainerServiceV20141113)
// over the store, and the reconciler that turns EC2 instances of the
// ECS-optimized AMI into container instances.
//
//   aws ecs ... ──front door──> Operation (one file per API area) ──Tx──> "ecs_*" tables
//      clusters.cpp              Create/Describe/List/Delete/UpdateCluster, PutClusterCapacityProviders
//      task_definitions.cpp      Register/Describe/List/Deregister/Delete task definitions, families
//      task_definition_rules.cpp the pure validation and normalisation of RegisterTaskDefinition
//      tags.cpp                  Tag/Untag/ListTagsForResource
//      container_instances.cpp   List/Describe/Deregister/UpdateContainerInstancesState
//      tasks.cpp, placement.cpp  RunTask/StartTask/StopTask/DescribeTasks/ListTasks, filter-then-rank
//
//   "ec2_instances" change feed + timer ──> InstanceReconciler ──Tx──> ecs_container_instances
//      services.cpp, service_ops.cpp Create/Update/Delete/Describe/ListServices, service records and events
//
//   change feed + health + timer ──> ServiceScheduler (scheduler/) ──Tx──> tasks, deployments, events,
//                                                                          target registrations (LoadBalancing)
//   "ecs_tasks" change feed ──> TaskDispatcher ──> TaskLauncher (the runtime) ──apply_task_status──> ecs_tasks
//                                                   runtime_launcher.h: RuntimeTaskLauncher over runtime::TaskRuntime
//                                                   (library berth_ecs_runtime; berth serve does not wire it yet)
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "api/service.h"
#include "core/clock.h"
#include "core/error.h"
#include "store/store.h"

namespace berth::ecs {

struct Options {
  std::string region = "us-east-1";
  std::string account_id;  // 12 digits
};

// Applies the "ecs" migrations.
Status prepare_ecs_store(store::Database& db);

class LoadBalancing;  // load_balancing.h

// prepare_ecs_store, then the Service with every operation. The Database
// (and load_balancing, when given) must outlive the Service.
Result<api::Service> make_ecs_service(store::Database& db, Options options, LoadBalancing* load_balancing = nullptr);

class TaskLauncher;  // tasks.h: the runtime's side of the task boundary
class InstanceReconciler;
class TaskDispatcher;
class ServiceScheduler;

// What `berth serve` runs: the Service, the container-instance reconciler
// (change feed + a timer on `loop`), the service scheduler (a thread of its
// own) and the task dispatcher. Without a launcher tasks stay PENDING
// (nothing runs them) and StopTask stops them at once; without
// load_balancing services cannot name target groups.
class EcsDaemon {
 public:
  static Result<std::unique_ptr<EcsDaemon>> start(store::Database& db, const Clock& clock,
                                                  boost::asio::io_context& loop, Options options,
                                                  TaskLauncher* launcher = nullptr,
                                                  LoadBalancing* load_balancing = nullptr);
  ~EcsDaemon();
  api::Service take_service() { return std::move(service_); }
  void stop();

 private:
  EcsDaemon() = default;
  api::Service service_;
  std::unique_ptr<InstanceReconciler> instances_;
  std::unique_ptr<TaskDispatcher> tasks_;
  std::unique_ptr<ServiceScheduler> services_;
};

}  // namespace berth::ecs
