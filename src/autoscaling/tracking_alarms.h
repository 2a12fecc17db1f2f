// autoscaling/tracking_alarms: the CloudWatch alarms a target tracking
// policy creates and owns, named and parameterised as AWS does:
//   TargetTracking-<ResourceId>-AlarmHigh-<uuid>: 3 of 3 datapoints of 60 s above the target
//   TargetTracking-<ResourceId>-AlarmLow-<uuid>: 15 of 15 datapoints of 60 s below 90% of it
//                                                 (none when DisableScaleIn)
// and the validation of the configuration they come from.
#pragma once

#include <boost/json/object.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "autoscaling/ports.h"
#include "core/error.h"

namespace berth::autoscaling {

// TargetTrackingScalingPolicyConfiguration, checked; the stored form
// (members as given, defaults not filled in, as DescribeScalingPolicies shows).
Result<boost::json::object> read_tracking_configuration(const boost::json::object& config);

// The alarms for a valid configuration. uuid is the policy's alarm suffix.
std::vector<TrackingAlarm> tracking_alarms(const boost::json::object& config, std::string_view resource_id,
                                           std::string_view policy_arn, std::string_view uuid);

}  // namespace berth::autoscaling
