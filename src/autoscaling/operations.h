// autoscaling/operations: each file adds its operations to the Service.
#pragma once

#include <memory>

#include "api/service.h"
#include "autoscaling/autoscaling.h"

namespace berth::autoscaling {

void add_target_operations(api::Service& service, const std::shared_ptr<AutoScaling>& as);     // target_ops.cpp
void add_policy_operations(api::Service& service, const std::shared_ptr<AutoScaling>& as);     // policy_ops.cpp
void add_scheduled_operations(api::Service& service, const std::shared_ptr<AutoScaling>& as);  // scheduled_ops.cpp

}  // namespace berth::autoscaling
