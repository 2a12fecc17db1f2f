// autoscaling/internal: what operations.cpp and scaling.cpp share.
#pragma once

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "autoscaling/autoscaling.h"
#include "autoscaling/store_rows.h"

namespace berth::autoscaling {

inline constexpr std::string_view kNamespace = "ecs";
inline constexpr std::string_view kDimension = "ecs:service:DesiredCount";

struct ServiceRef {
  std::string cluster;
  std::string service;
};
// "service/<cluster>/<service>" -> its parts; nullopt for anything else.
std::optional<ServiceRef> parse_resource_id(std::string_view resource_id);

double seconds_of(WallTime t);

// "No scalable target registered for service namespace: ecs, resource ID: ..., scalable dimension: ..."
Error target_not_found(std::string_view resource_id);

// Sets the service's desired count and records the activity: Description
// "Setting desired count to N.", the cause given, Successful, or Failed
// with ECS's error when the service refused. Call outside any transaction.
Status set_capacity(AutoScaling& as, std::string_view resource_id, int64_t capacity, std::string_view cause);

// Records an activity that did not scale (IncludeNotScaledActivities).
Status record_not_scaled(AutoScaling& as, std::string_view resource_id, std::string_view cause,
                         std::string_view reason, const json::object& target);

// After min/max changed (RegisterScalableTarget, a scheduled action): a
// desired count outside the new bounds is moved into them, with the cause
// "minimum capacity was set to N" / "maximum capacity was set to N".
Status bring_into_bounds(AutoScaling& as, std::string_view resource_id);

}  // namespace berth::autoscaling
