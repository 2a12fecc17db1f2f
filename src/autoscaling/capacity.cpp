#include "autoscaling/capacity.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace berth::autoscaling {

int64_t tracking_capacity(int64_t current, double metric, double target) {
  if (target <= 0) return current;
  // A service scaled to zero has no per-task metric to follow; one task is
  // the least that can carry the load.
  int64_t base = std::max<int64_t>(current, 1);
  double wanted = static_cast<double>(base) * metric / target;
  // A customized metric's datapoints are the user's: a value that is not
  // finite leaves the capacity as it is, a huge one is clamped (max
  // capacity clamps it further) rather than overflowing the cast.
  if (!std::isfinite(wanted)) return current;
  // 1e-9 keeps 2.0000000001 (floating error) at 2.
  return static_cast<int64_t>(std::clamp(std::ceil(wanted - 1e-9), 0.0, 4.0e18));
}

std::optional<Step> step_for(const std::vector<Step>& steps, double breach) {
  for (const auto& s : steps) {
    bool above_lower = !s.lower || breach >= *s.lower;
    bool below_upper = !s.upper || breach < *s.upper;
    if (above_lower && below_upper) return s;
  }
  return std::nullopt;
}

int64_t step_capacity(int64_t current, AdjustmentType type, int64_t adjustment, int64_t min_magnitude) {
  switch (type) {
    case AdjustmentType::kExactCapacity: return adjustment;
    case AdjustmentType::kChangeInCapacity: return current + adjustment;
    case AdjustmentType::kPercentChangeInCapacity: {
      double change = static_cast<double>(current) * static_cast<double>(adjustment) / 100.0;
      int64_t delta = 0;
      if (change > 1) delta = static_cast<int64_t>(std::floor(change));
      else if (change > 0) delta = 1;
      else if (change < -1) delta = static_cast<int64_t>(std::ceil(change));
      else if (change < 0) delta = -1;
      if (delta != 0 && std::llabs(delta) < min_magnitude) delta = delta > 0 ? min_magnitude : -min_magnitude;
      return current + delta;
    }
  }
  return current;
}

int64_t clamp_capacity(int64_t capacity, int64_t min, int64_t max) { return std::clamp(capacity, min, std::max(min, max)); }

double aggregate(const std::vector<double>& datapoints, const std::string& aggregation) {
  if (datapoints.empty()) return 0;
  if (aggregation == "Minimum") return *std::min_element(datapoints.begin(), datapoints.end());
  if (aggregation == "Maximum") return *std::max_element(datapoints.begin(), datapoints.end());
  return std::accumulate(datapoints.begin(), datapoints.end(), 0.0) / static_cast<double>(datapoints.size());
}

}  // namespace berth::autoscaling
