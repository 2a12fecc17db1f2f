#include "elb/elb_service.h"

#include "elb/api_support.h"
#include "elb/elb_store.h"

namespace berth::elb {

Result<api::Service> make_elb_service(store::Database& db, const Clock& clock, ElbOptions options,
                                      const HealthSource* health) {
  if (auto st = prepare_elb_store(db); !st) return std::move(st).error();
  auto ctx = std::make_shared<const Context>(Context{db, clock, std::move(options), health});
  api::Service service;
  service.signing_name = "elasticloadbalancing";
  service.protocol = api::Protocol::kQuery;
  service.xmlns = std::string(api::kElbv2Xmlns);
  service.api_version = "2015-12-01";
  add_load_balancer_operations(service, ctx);
  add_target_group_operations(service, ctx);
  add_target_operations(service, ctx);
  add_listener_operations(service, ctx);
  add_rule_operations(service, ctx);
  add_tag_operations(service, ctx);
  return service;
}

}  // namespace berth::elb
