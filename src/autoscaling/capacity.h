// autoscaling/capacity: the arithmetic of a scaling decision, without the
// store or the clock: what capacity a policy asks for, clamped to the
// target's bounds, and whether the cooldowns let it happen now.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace berth::autoscaling {

// Target tracking: the capacity that brings the metric back to the target,
// assuming the metric scales inversely with capacity. Rounds up both ways:
// scaling out adds enough, scaling in removes no more than the metric allows.
int64_t tracking_capacity(int64_t current, double metric, double target);

struct Step {
  std::optional<double> lower;  // MetricIntervalLowerBound, relative to the threshold
  std::optional<double> upper;  // MetricIntervalUpperBound
  int64_t adjustment = 0;
};

enum class AdjustmentType { kChangeInCapacity, kPercentChangeInCapacity, kExactCapacity };

// The step whose interval holds breach (= aggregated metric - threshold):
// lower <= breach < upper; null bounds are infinite. nullopt when none.
std::optional<Step> step_for(const std::vector<Step>& steps, double breach);

// The capacity a step asks for. A percent change is rounded as AWS does
// (above 1 down, between -1 and 1 away from zero, below -1 up) and then
// raised to min_magnitude when that is larger.
int64_t step_capacity(int64_t current, AdjustmentType type, int64_t adjustment, int64_t min_magnitude);

int64_t clamp_capacity(int64_t capacity, int64_t min, int64_t max);

// The datapoints aggregated as MetricAggregationType says (Average by default).
double aggregate(const std::vector<double>& datapoints, const std::string& aggregation);

}  // namespace berth::autoscaling
