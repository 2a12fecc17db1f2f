#include "autoscaling/autoscaling.h"

#include "autoscaling/operations.h"
#include "autoscaling/store_rows.h"

namespace berth::autoscaling {

Result<std::shared_ptr<AutoScaling>> AutoScaling::open(store::Database& db, AutoScalingOptions options,
                                                       AlarmPort& alarms, EcsPort& ecs) {
  if (!(options.time_scale > 0)) return Error::invalid("InvalidOption", "time_scale must be greater than 0");
  if (!options.clock) options.clock = &SystemClock::instance();
  if (auto s = prepare_autoscaling_store(db); !s) return std::move(s).error();
  std::shared_ptr<AutoScaling> as(new AutoScaling(db, std::move(options), alarms, ecs));
  as->self_ = as;
  return as;
}

api::Service AutoScaling::service() {
  api::Service service;
  service.signing_name = "application-autoscaling";
  service.protocol = api::Protocol::kJson;
  service.json_target_prefix = "AnyScaleFrontendService";
  service.api_version = "2016-02-06";
  auto self = self_.lock();
  add_target_operations(service, self);
  add_policy_operations(service, self);
  add_scheduled_operations(service, self);
  return service;
}

}  // namespace berth::autoscaling
