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
  // Every ELBv2 operation has an output shape with a resultWrapper, and
  // botocore looks the wrapper up even when the shape is empty
  // (<RegisterTargetsResult/>, as AWS sends it). The front door answers an
  // empty body with metadata only (right for IAM's output-less operations),
  // so an empty ELBv2 result is handed over as a single space.
  for (auto& [name, spec] : service.operations) {
    spec.run = [run = std::move(spec.run)](const api::CallContext& call, const api::OperationInput& in) {
      auto out = run(call, in);
      if (out && out->empty()) return Result<std::string>(std::string(" "));
      return out;
    };
  }
  return service;
}

}  // namespace berth::elb
