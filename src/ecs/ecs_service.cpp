#include "ecs/common.h"
#include "ecs/container_instances.h"
#include "ecs/scheduler/scheduler.h"
#include "ecs/service_deployments.h"
#include "ecs/tasks.h"

namespace berth::ecs {

Result<api::Service> make_ecs_service(store::Database& db, Options options, LoadBalancing* load_balancing) {
  if (auto s = prepare_ecs_store(db); !s) return std::move(s).error();
  auto ctx = std::make_shared<Context>(Context{db, std::move(options), load_balancing});
  api::Service service;
  service.signing_name = "ecs";
  service.protocol = api::Protocol::kJson;
  service.json_target_prefix = "AmazonEC2ContainerServiceV20141113";
  service.api_version = "2014-11-13";
  add_cluster_operations(service, ctx);
  add_task_definition_operations(service, ctx);
  add_tag_operations(service, ctx);
  add_container_instance_operations(service, ctx);
  add_task_operations(service, ctx);
  add_service_operations(service, ctx);
  add_service_deployment_operations(service, ctx);
  return service;
}

Result<std::unique_ptr<EcsDaemon>> EcsDaemon::start(store::Database& db, const Clock& clock,
                                                    boost::asio::io_context& loop, Options options,
                                                    TaskLauncher* launcher, LoadBalancing* load_balancing) {
  auto service = make_ecs_service(db, options, load_balancing);
  if (!service) return std::move(service).error();
  std::unique_ptr<EcsDaemon> d(new EcsDaemon());
  d->service_ = std::move(*service);
  d->instances_ = std::make_unique<InstanceReconciler>(db, clock, options);
  d->instances_->start(loop);
  d->tasks_ = std::make_unique<TaskDispatcher>(db, clock, options, launcher);
  d->tasks_->start();
  d->services_ = std::make_unique<ServiceScheduler>(db, clock, options, load_balancing);
  d->services_->start();
  return d;
}

EcsDaemon::~EcsDaemon() { stop(); }

void EcsDaemon::stop() {
  if (services_) services_->stop();
  if (tasks_) tasks_->stop();
  if (instances_) instances_->stop();
}

}  // namespace berth::ecs
