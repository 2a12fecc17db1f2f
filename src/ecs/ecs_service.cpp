#include "ecs/common.h"

namespace berth::ecs {

Result<api::Service> make_ecs_service(store::Database& db, Options options) {
  if (auto s = prepare_ecs_store(db); !s) return std::move(s).error();
  auto ctx = std::make_shared<Context>(Context{db, std::move(options)});
  api::Service service;
  service.signing_name = "ecs";
  service.protocol = api::Protocol::kJson;
  service.json_target_prefix = "AmazonEC2ContainerServiceV20141113";
  service.api_version = "2014-11-13";
  add_cluster_operations(service, ctx);
  add_task_definition_operations(service, ctx);
  add_tag_operations(service, ctx);
  return service;
}

}  // namespace berth::ecs
